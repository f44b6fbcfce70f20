//! The terminal report: progress while the run is long (a live line on stderr when
//! it is a terminal, one plain line per finished case otherwise), then a verdict
//! table (scenario, check, verdict, one line of evidence) with the rule and the
//! expected/actual under each FAIL and WARN, a table of what did not pass, and a
//! summary line. Colour only on a terminal and never with `NO_COLOR` (anstream).

use std::io::Write;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use super::event::{CaseKey, Event, Reporter};
use crate::outcome::{CaseReport, CheckResult, RunOutcome, RunSummary, Verdict};

fn style(v: Verdict) -> Style {
    match v {
        Verdict::Pass => AnsiColor::Green.on_default(),
        Verdict::Fail => AnsiColor::Red.on_default().bold(),
        Verdict::Warn | Verdict::Inconclusive => AnsiColor::Yellow.on_default().bold(),
        Verdict::Note => AnsiColor::Cyan.on_default(),
        Verdict::Skip | Verdict::Known | Verdict::NotApplicable => AnsiColor::BrightBlack.on_default(),
    }
}

/// Width of the check column.
const CHECK_WIDTH: usize = 42;

/// Write one case's rows. The run's canary is shown as `{{canary}}`: the report
/// proves a leak without spreading the params itself.
pub fn write_case(out: &mut dyn Write, case: &CaseReport) -> std::io::Result<()> {
    let redact = super::redactor(case);
    let worst = case.worst();
    let s = style(worst);
    let r = &case.record;
    writeln!(out, "{s}{worst}{s:#} {}  ({})  {}", case.label(), fmt_duration(r.duration), r.title)?;
    for c in &case.checks {
        write_check(out, case, c, &redact)?;
    }
    if worst == Verdict::Fail && r.client_status != "exited 0" {
        writeln!(out, "        client {}; last stderr lines:", r.client_status)?;
        for l in &r.stderr_tail {
            writeln!(out, "          | {}", crate::check::truncate(&redact(l), 200))?;
        }
    }
    Ok(())
}

fn write_check(
    out: &mut dyn Write,
    case: &CaseReport,
    c: &CheckResult,
    redact: &dyn Fn(&str) -> String,
) -> std::io::Result<()> {
    let v = c.final_verdict();
    let s = style(v);
    writeln!(out, "    {s}{v:<5}{s:#} {:<CHECK_WIDTH$} {}", c.check, redact(&c.evidence.summary))?;
    if let (Verdict::Known, Some(reason)) = (v, &c.known) {
        writeln!(out, "          known:    {reason}")?;
    }
    if matches!(v, Verdict::Fail | Verdict::Warn | Verdict::Inconclusive) {
        let dim = Style::new().dimmed();
        if let Some(e) = &c.evidence.expected {
            writeln!(out, "          {dim}expected:{dim:#} {}", indent(&redact(e)))?;
        }
        if let Some(a) = &c.evidence.actual {
            writeln!(out, "          {dim}actual:{dim:#}   {}", indent(&redact(a)))?;
        }
        if let Some(l) = &c.evidence.log_line {
            // The line itself (the canary redacted): the evidence of a leak.
            let text =
                case.record.logs.iter().find(|x| x.location() == *l).map(|x| x.text.as_str()).unwrap_or_default();
            writeln!(out, "          {dim}log:{dim:#}      {l}: {}", crate::check::truncate(&redact(text), 200))?;
        }
        if let Some(f) = c.evidence.frame {
            let frame = case.record.trace.as_ref().and_then(|t| t.frames().find(|x| x.seq == f));
            let raw = frame.map(|x| crate::check::truncate(&redact(&x.raw), 200)).unwrap_or_default();
            writeln!(out, "          {dim}frame:{dim:#}    #{f} of the trace: {raw}")?;
        }
        if let Some(path) = gateway_path(case, c) {
            writeln!(out, "          {dim}path:{dim:#}     {path}")?;
        }
        if let Some(spec) = &c.spec {
            writeln!(out, "          {dim}rule:{dim:#}     {} — \"{}\"", spec.short(), spec.text)?;
        }
        writeln!(out, "          {dim}id:{dim:#}       {}", c.id)?;
    }
    Ok(())
}

/// In a gateway case, where the upstream request a check is about went — through
/// the gateway to the downstream client and back, or no further than the gateway
/// ([`super::lanes::journey`]): the frame the evidence cites, or the one the check's
/// step sent.
fn gateway_path(case: &CaseReport, c: &CheckResult) -> Option<String> {
    let (trace, delivered) = (case.record.trace.as_ref()?, case.record.downstream.as_ref()?);
    let step = c.check.rsplit_once('.').map(|(step, _)| step);
    let seq = c.evidence.frame.or_else(|| {
        trace
            .frames()
            .find(|f| f.dir == backchannel_mock::trace::Direction::ServerToClient && f.step.as_deref() == step)
            .map(|f| f.seq)
    })?;
    super::lanes::journey(&super::lanes::rows(trace, delivered), seq)
}

fn indent(s: &str) -> String {
    s.replace('\n', "\n                    ")
}

/// Write the summary line (and why the run is incomplete or interrupted, when it is).
pub fn write_summary(out: &mut dyn Write, summary: &RunSummary) -> std::io::Result<()> {
    let t = summary.totals();
    let outcome = summary.outcome();
    let v = match outcome {
        RunOutcome::Fail => Verdict::Fail,
        RunOutcome::Incomplete | RunOutcome::Interrupted(_) => Verdict::Inconclusive,
        RunOutcome::Pass if t.warned > 0 => Verdict::Warn,
        RunOutcome::Pass => Verdict::Pass,
    };
    let s = style(v);
    let word = match outcome {
        RunOutcome::Pass => v.as_str(),
        other => other.word(),
    };
    let mut extra = String::new();
    for (n, what) in [
        (t.not_applicable, "not applicable"),
        (t.notes, "notes"),
        (t.inconclusive, "inconclusive"),
        (t.known, "known failures (baseline)"),
        (t.stale, "stale baseline entries"),
        (summary.unjudged.len(), "cases not judged"),
    ] {
        if n > 0 {
            extra += &format!(", {n} {what}");
        }
    }
    let cases = if summary.interrupted.is_some() {
        format!("{} of {} cases", t.cases, summary.planned)
    } else {
        format!("{} cases", t.cases)
    };
    writeln!(
        out,
        "\n{s}{word}{s:#}: {cases}, {} checks: {} passed, {} failed, {} warned, {} skipped{extra}{} in {}",
        t.checks,
        t.passed,
        t.failed,
        t.warned,
        t.skipped,
        if summary.strict { " (strict)" } else { "" },
        fmt_duration(summary.elapsed)
    )?;
    if let Some(signal) = summary.interrupted {
        let name = if signal == 2 {
            "SIGINT"
        } else if signal == 15 {
            "SIGTERM"
        } else {
            "a signal"
        };
        writeln!(
            out,
            "interrupted by {name}: the cases in flight were killed, {} never ran",
            summary.planned - t.cases
        )?;
    }
    Ok(())
}

/// `1.23s` or `456ms`.
pub fn fmt_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) { format!("{:.2}s", d.as_secs_f64()) } else { format!("{}ms", d.as_millis()) }
}

/// Write the table of what did not pass (FAIL, WARN, and stale baseline entries),
/// one line each: the blocks above scroll away in a long run.
pub fn write_not_passed(out: &mut dyn Write, s: &RunSummary) -> std::io::Result<()> {
    let rows = not_passed(s);
    if rows.is_empty() && s.stale.is_empty() && s.unjudged.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nNot passed:")?;
    for (v, id, summary) in rows {
        let st = style(v);
        writeln!(out, "  {st}{v:<5}{st:#} {id}  {}", crate::check::truncate(&summary, 160))?;
    }
    for entry in &s.stale {
        let st = style(Verdict::Fail);
        writeln!(out, "  {st}STALE{st:#} baseline entry {entry}  (the client passes it now; remove it)")?;
    }
    for u in &s.unjudged {
        let st = style(Verdict::Inconclusive);
        writeln!(out, "  {st}NOT JUDGED{st:#} {}  {}", u.case, crate::check::truncate(&u.why, 160))?;
    }
    Ok(())
}

/// Every FAIL, WARN and INCONCLUSIVE check of a run: (verdict, `<id> [<transport>
/// <revision>]`, the evidence summary with the canary redacted).
pub fn not_passed(s: &RunSummary) -> Vec<(Verdict, String, String)> {
    let mut rows = Vec::new();
    for r in &s.reports {
        let redact = super::redactor(r);
        for c in &r.checks {
            let v = c.final_verdict();
            if matches!(v, Verdict::Fail | Verdict::Warn | Verdict::Inconclusive) {
                let at = format!("{} [{} {}]", c.id, r.record.transport, r.record.revision);
                rows.push((v, at, redact(&c.evidence.summary)));
            }
        }
    }
    rows
}

/// The terminal reporter: progress on stderr during the run, the report on stdout
/// at its end.
pub struct TerminalReporter {
    out: Box<dyn Write>,
    progress: Box<dyn Write>,
    live: bool,
    running: Vec<String>,
}

impl std::fmt::Debug for TerminalReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalReporter").field("live", &self.live).finish_non_exhaustive()
    }
}

impl TerminalReporter {
    /// Report to stdout; progress to stderr (a live line when stderr is a terminal).
    pub fn stdio() -> Self {
        use std::io::IsTerminal;
        Self::new(Box::new(anstream::stdout()), Box::new(anstream::stderr()), std::io::stderr().is_terminal())
    }

    /// Report to `out`, progress to `progress`; `live` redraws one status line.
    pub fn new(out: Box<dyn Write>, progress: Box<dyn Write>, live: bool) -> Self {
        Self { out, progress, live, running: Vec::new() }
    }

    fn label(k: &CaseKey<'_>) -> String {
        format!("{} [{} {}]", k.scenario, k.transport, k.revision)
    }

    fn status_line(&mut self, done: usize, total: usize) -> std::io::Result<()> {
        let running = match self.running.as_slice() {
            [] => String::new(),
            [one] => format!(" running {one}"),
            [one, rest @ ..] => format!(" running {one} and {} more", rest.len()),
        };
        write!(self.progress, "\r\x1b[2K[{done}/{total}]{}", crate::check::truncate(&running, 100))?;
        self.progress.flush()
    }
}

impl Reporter for TerminalReporter {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { client, cases } => {
                writeln!(self.out, "backchannel {}: {cases} case(s) against {client}\n", env!("CARGO_PKG_VERSION"))?;
                self.out.flush()
            }
            Event::CaseStarted(k) if self.live => {
                self.running.push(Self::label(k));
                self.status_line(k.index, k.total)
            }
            Event::CaseFinished(k, report) => {
                let label = Self::label(k);
                self.running.retain(|r| *r != label);
                if self.live {
                    self.status_line(k.index + 1, k.total)
                } else {
                    // A skipped check is a precondition the client lacks, not a verdict.
                    let v = match report.worst() {
                        Verdict::Skip => Verdict::Pass,
                        v => v,
                    };
                    let st = style(v);
                    writeln!(
                        self.progress,
                        "[{}/{}] {st}{v}{st:#} {label} ({})",
                        k.index + 1,
                        k.total,
                        fmt_duration(report.record.duration)
                    )
                }
            }
            Event::RunFinished(s) => {
                if self.live {
                    write!(self.progress, "\r\x1b[2K")?;
                    self.progress.flush()?;
                }
                for report in &s.reports {
                    write_case(&mut self.out, report)?;
                }
                write_not_passed(&mut self.out, s)?;
                write_summary(&mut self.out, s)?;
                for entry in &s.unused {
                    writeln!(self.out, "note: baseline entry matched no judged check in this run: {entry}")?;
                }
                self.out.flush()
            }
            _ => Ok(()),
        }
    }
}
