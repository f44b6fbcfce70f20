//! The terminal report: a verdict table (scenario, check, verdict, one line of
//! evidence), the rule and the expected/actual under each FAIL and WARN, and a
//! summary line. Colour only when stdout is a terminal and `NO_COLOR` is unset.

use std::io::Write;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use crate::check::{CheckResult, Verdict};
use crate::runner::CaseReport;

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Cases run.
    pub cases: usize,
    /// Checks evaluated.
    pub checks: usize,
    /// PASS.
    pub passed: usize,
    /// FAIL.
    pub failed: usize,
    /// WARN.
    pub warned: usize,
    /// SKIP.
    pub skipped: usize,
    /// XFAIL: failures the client's baseline lists.
    pub known: usize,
    /// Baseline entries the client now passes.
    pub stale: usize,
}

impl Totals {
    /// Add one case.
    pub fn add(&mut self, case: &CaseReport, strict: bool) {
        self.cases += 1;
        for c in &case.checks {
            self.checks += 1;
            match c.final_verdict(strict) {
                Verdict::Pass => self.passed += 1,
                Verdict::Fail => self.failed += 1,
                Verdict::Warn => self.warned += 1,
                Verdict::Skip => self.skipped += 1,
                Verdict::Known => self.known += 1,
            }
        }
    }
}

fn style(v: Verdict) -> Style {
    match v {
        Verdict::Pass => AnsiColor::Green.on_default(),
        Verdict::Fail => AnsiColor::Red.on_default().bold(),
        Verdict::Warn => AnsiColor::Yellow.on_default().bold(),
        Verdict::Skip | Verdict::Known => AnsiColor::BrightBlack.on_default(),
    }
}

/// Width of the check column.
const CHECK_WIDTH: usize = 42;

/// Write one case's rows. The run's canary is shown as `{{canary}}`: the report
/// proves a leak without spreading the params itself.
pub fn write_case(out: &mut dyn Write, case: &CaseReport, strict: bool) -> std::io::Result<()> {
    let canary = case.trace.as_ref().and_then(|t| t.canary()).map(str::to_owned);
    let redact = |s: &str| match &canary {
        Some(c) => s.replace(c.as_str(), "{{canary}}"),
        None => s.to_owned(),
    };
    let worst = case.worst_final(strict);
    let s = style(worst);
    writeln!(
        out,
        "{s}{worst}{s:#} {} [{} {}]  ({})  {}",
        case.scenario,
        case.transport,
        case.revision,
        fmt_duration(case.duration),
        case.title
    )?;
    for c in &case.checks {
        write_check(out, c, strict, &redact)?;
    }
    if worst == Verdict::Fail && case.client_status != "exited 0" {
        writeln!(out, "        client {}; last stderr lines:", case.client_status)?;
        for l in &case.stderr_tail {
            writeln!(out, "          | {}", crate::check::truncate(&redact(l), 200))?;
        }
    }
    Ok(())
}

fn write_check(
    out: &mut dyn Write,
    c: &CheckResult,
    strict: bool,
    redact: &dyn Fn(&str) -> String,
) -> std::io::Result<()> {
    let v = c.final_verdict(strict);
    let s = style(v);
    writeln!(out, "    {s}{v:<5}{s:#} {:<CHECK_WIDTH$} {}", c.check, redact(&c.evidence.summary))?;
    if let (Verdict::Known, Some(reason)) = (v, &c.known) {
        writeln!(out, "          known:    {reason}")?;
    }
    if matches!(v, Verdict::Fail | Verdict::Warn) {
        let dim = Style::new().dimmed();
        if let Some(e) = &c.evidence.expected {
            writeln!(out, "          {dim}expected:{dim:#} {}", indent(&redact(e)))?;
        }
        if let Some(a) = &c.evidence.actual {
            writeln!(out, "          {dim}actual:{dim:#}   {}", indent(&redact(a)))?;
        }
        if let Some(l) = &c.evidence.log_line {
            writeln!(out, "          {dim}log:{dim:#}      {l}")?;
        }
        if let Some(f) = c.evidence.frame {
            writeln!(out, "          {dim}frame:{dim:#}    #{f} of the trace")?;
        }
        if let Some(spec) = &c.spec {
            writeln!(out, "          {dim}rule:{dim:#}     {} — \"{}\"", spec.short(), spec.text)?;
        }
        writeln!(out, "          {dim}id:{dim:#}       {}", c.id)?;
    }
    Ok(())
}

fn indent(s: &str) -> String {
    s.replace('\n', "\n                    ")
}

/// Write the summary line.
pub fn write_summary(out: &mut dyn Write, t: &Totals, elapsed: Duration, strict: bool) -> std::io::Result<()> {
    let v = if t.failed > 0 || t.stale > 0 {
        Verdict::Fail
    } else if t.warned > 0 {
        Verdict::Warn
    } else {
        Verdict::Pass
    };
    let s = style(v);
    writeln!(
        out,
        "\n{s}{v}{s:#}: {} cases, {} checks: {} passed, {} failed, {} warned, {} skipped{}{} in {}",
        t.cases,
        t.checks,
        t.passed,
        t.failed,
        t.warned,
        t.skipped,
        if t.known + t.stale > 0 {
            format!(", {} known failures (baseline), {} stale baseline entries", t.known, t.stale)
        } else {
            String::new()
        },
        if strict { " (strict)" } else { "" },
        fmt_duration(elapsed)
    )
}

/// `1.23s` or `456ms`.
pub fn fmt_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) { format!("{:.2}s", d.as_secs_f64()) } else { format!("{}ms", d.as_millis()) }
}
