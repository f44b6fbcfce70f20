//! The HTML report (`--report html=PATH`): one self-contained file — inline CSS,
//! no script, no network, no external asset — that a person reads to decide what to
//! fix.
//!
//! - a summary per client, and with several clients (`backchannel matrix`) the
//!   client × check matrix;
//! - per case, a collapsible block (open when it FAILed or WARNed) with its checks,
//!   the evidence and the rule's sentence under each FAIL and WARN;
//! - a **sequence diagram** of the case's trace: the client and the mock server as
//!   two lanes, one arrow per frame in time order, each arrow a `<details>` that
//!   expands to the frame's JSON; the frames a failed check cites are marked — a
//!   gateway case in three lanes (downstream client, gateway, upstream server, from
//!   the trace and the downstream record: [`super::lanes`]), a request that never
//!   left the gateway or left it twice marked where it happened;
//! - the client's log lines, the offending ones marked.
//!
//! Everything the client or the scenario wrote is HTML-escaped, and the run's canary
//! is shown as `{{canary}}`, as in the terminal report.

use std::fmt::Write as _;
use std::path::Path;

use backchannel_mock::trace::{Direction, Frame};
use serde_json::Value;

use crate::outcome::{CaseReport, CheckResult, RunSummary, Verdict};

/// Frames longer than this are cut in the diagram (the trace has them whole).
const MAX_FRAME_CHARS: usize = 16 * 1024;
/// At most this many log lines per case.
const MAX_LOG_LINES: usize = 2000;

const STYLE: &str = r#"
:root { --fail:#c62828; --warn:#b26a00; --pass:#2e7d32; --skip:#757575; --line:#d0d7de; --bg2:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 16px 24px; max-width: 1200px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 24px 0 8px; } h3 { font-size: 14px; margin: 14px 0 6px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); }
.v { font-weight: 700; font-family: ui-monospace, monospace; }
.v-FAIL { color: var(--fail); } .v-WARN { color: var(--warn); } .v-PASS { color: var(--pass); }
.v-SKIP, .v-XFAIL, .v-NA { color: var(--skip); } .v-NOTE { color: #0969da; } .v-INCONCLUSIVE { color: var(--warn); }
details.case { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
details.case > summary { padding: 6px 10px; cursor: pointer; background: var(--bg2); border-radius: 6px; }
details.case[open] > summary { border-bottom: 1px solid var(--line); border-radius: 6px 6px 0 0; }
details.case.c-FAIL { border-color: var(--fail); }
.case-body { padding: 4px 12px 12px; }
.evidence { margin: 2px 0 6px 0; padding: 6px 10px; background: #fff8f0; border-left: 3px solid var(--warn); }
.evidence.fail { background: #fff5f5; border-left-color: var(--fail); }
.evidence div { white-space: pre-wrap; word-break: break-word; }
.muted { color: #59636e; }
mark { background: #ffe08a; }
.seq { border: 1px solid var(--line); border-radius: 6px; padding: 6px 0; }
.lanes, .msg > summary { display: grid; grid-template-columns: 84px 1fr; align-items: center; }
.lanes { font-weight: 600; padding: 0 10px 6px; border-bottom: 1px dashed var(--line); }
.lanes .names { display: flex; justify-content: space-between; }
.three .msg > summary { grid-template-columns: 84px 1fr 1fr; }
.msg > summary { list-style: none; cursor: pointer; padding: 1px 10px; }
.msg > summary::-webkit-details-marker { display: none; }
.msg > summary:hover { background: var(--bg2); }
.msg .t { color: #59636e; font-size: 11px; font-family: ui-monospace, monospace; }
.arrow { position: relative; margin: 0 14px; padding: 2px 0 3px; border-bottom: 2px solid #57606a; text-align: center; font-family: ui-monospace, monospace; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.arrow::after { content: ""; position: absolute; bottom: -6px; border: 5px solid transparent; }
.c2s .arrow::after { right: -6px; border-left: 8px solid #57606a; }
.s2c .arrow::after { left: -6px; border-right: 8px solid #57606a; }
.c2s .arrow { border-bottom-color: #0969da; } .c2s .arrow::after { border-left-color: #0969da; }
.msg.cited .arrow { border-bottom-color: var(--fail); color: var(--fail); font-weight: 700; }
.msg.cited.c2s .arrow::after { border-left-color: var(--fail); } .msg.cited.s2c .arrow::after { border-right-color: var(--fail); }
.msg pre { margin: 2px 10px 8px 94px; padding: 8px; background: var(--bg2); border-radius: 4px; overflow: auto; max-height: 360px; white-space: pre-wrap; word-break: break-all; }
ol.log { margin: 0; padding: 0 0 0 0; list-style: none; border: 1px solid var(--line); border-radius: 6px; max-height: 420px; overflow: auto; }
ol.log li { padding: 1px 8px; white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, monospace; font-size: 12px; }
ol.log li .loc { color: #59636e; margin-right: 8px; }
ol.log li.offending { background: #ffebe9; border-left: 3px solid var(--fail); }
.matrix td, .matrix th { font-size: 12px; }
"#;

/// `<`, `>`, `&`, `"`, `'` escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escape, then highlight the redacted canary.
fn shown(s: &str, redact: &dyn Fn(&str) -> String) -> String {
    escape(&redact(s)).replace("{{canary}}", "<mark>{{canary}}</mark>")
}

/// The CSS class of a verdict (`N/A` is `NA`).
fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::NotApplicable => "NA",
        other => other.as_str(),
    }
}

fn verdict_span(v: Verdict) -> String {
    format!("<span class=\"v v-{}\">{v}</span>", class(v))
}

/// A frame's arrow label: `#seq method (id)`, `#seq result (id)`, `#seq error code (id)`.
/// An upstream frame's arrow label: `#3 sampling/createMessage (1)`.
pub(crate) fn label(f: &Frame) -> String {
    let body = match &f.json {
        Some(Value::Array(items)) => format!("batch of {}", items.len()),
        Some(v @ Value::Object(m)) => {
            let id = m.get("id").map(|id| format!(" ({id})")).unwrap_or_default();
            if let Some(method) = m.get("method").and_then(Value::as_str) {
                format!("{method}{id}")
            } else if let Some(code) = v.pointer("/error/code") {
                format!("error {code}{id}")
            } else if m.contains_key("result") {
                format!("result{id}")
            } else {
                "JSON object".to_owned()
            }
        }
        Some(_) => "JSON, not an object".to_owned(),
        None => "not JSON".to_owned(),
    };
    format!("#{} {body}", f.seq)
}

fn frame_body(f: &Frame) -> String {
    let mut text = match &f.json {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_else(|_| f.raw.clone()),
        None => f.raw.clone(),
    };
    if text.len() > MAX_FRAME_CHARS {
        let cut = (0..=MAX_FRAME_CHARS).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let rest = text.len() - cut;
        text.truncate(cut);
        let _ = write!(text, "\n… {rest} more bytes (the trace has the whole frame)");
    }
    text
}

fn evidence(c: &CheckResult, v: Verdict, redact: &dyn Fn(&str) -> String, case_id: &str) -> String {
    let e = &c.evidence;
    let mut out = format!("<div class=\"evidence{}\">", if v == Verdict::Fail { " fail" } else { "" });
    for (name, value) in [("expected", &e.expected), ("actual", &e.actual)] {
        if let Some(value) = value {
            let _ = write!(out, "<div><span class=muted>{name}:</span> {}</div>", shown(value, redact));
        }
    }
    if let Some(l) = &e.log_line {
        let _ = write!(
            out,
            "<div><span class=muted>log line:</span> <a href=\"#{case_id}-log-{}\">{}</a></div>",
            escape(&l.replace(':', "-")),
            escape(l)
        );
    }
    if let Some(f) = e.frame {
        let _ =
            write!(out, "<div><span class=muted>frame:</span> <a href=\"#{case_id}-f{f}\">#{f}</a> of the trace</div>");
    }
    if let Some(spec) = &c.spec {
        let link = super::json::spec_url(spec)
            .map(|u| format!(" <a href=\"{}\">{}</a>", escape(&u), escape(&spec.short())))
            .unwrap_or_else(|| format!(" {}", escape(&spec.short())));
        let _ = write!(out, "<div><span class=muted>rule:</span>{link} — “{}”</div>", escape(&spec.text));
    }
    if let Some(k) = &c.known {
        let _ = write!(out, "<div><span class=muted>known (baseline):</span> {}</div>", escape(k));
    }
    let _ = write!(out, "<div><span class=muted>id:</span> <code>{}</code></div></div>", escape(&c.id));
    out
}

fn case_html(out: &mut String, case: &CaseReport, case_id: &str) {
    let redact = super::redactor(case);
    let worst = case.worst();
    let r = &case.record;
    let open = if matches!(worst, Verdict::Fail | Verdict::Warn | Verdict::Inconclusive) { " open" } else { "" };
    let _ = write!(
        out,
        "<details class=\"case c-{}\" id=\"{case_id}\"{open}><summary>{} <b>{}</b> [{} {}] <span class=muted>({})</span> {}</summary><div class=case-body>",
        class(worst),
        verdict_span(worst),
        escape(&r.scenario),
        r.transport,
        r.revision,
        super::terminal::fmt_duration(r.duration),
        escape(&r.title)
    );
    out.push_str(
        "<table><tr><th style=\"width:60px\">verdict</th><th style=\"width:34%\">check</th><th>evidence</th></tr>",
    );
    let mut cited = std::collections::BTreeSet::new();
    let mut offending = std::collections::BTreeSet::new();
    for c in &case.checks {
        let v = c.final_verdict();
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}",
            verdict_span(v),
            escape(&c.check),
            shown(&c.evidence.summary, &redact)
        );
        if matches!(v, Verdict::Fail | Verdict::Warn | Verdict::Known | Verdict::Inconclusive | Verdict::Note) {
            out.push_str(&evidence(c, v, &redact, case_id));
            cited.extend(c.evidence.frame);
            offending.extend(c.evidence.log_line.clone());
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</table>");
    let _ = write!(out, "<p class=muted>client {}</p>", escape(&r.client_status));
    if let (Some(trace), Some(delivered)) = (&r.trace, &r.downstream) {
        gateway_sequence(out, trace, delivered, &cited, &redact, case_id);
    } else if let Some(trace) = &r.trace {
        out.push_str("<h3>Sequence</h3><div class=seq><div class=lanes><span></span><div class=names><span>client under test</span><span>mock server</span></div></div>");
        for f in trace.frames() {
            let dir = match f.dir {
                Direction::ClientToServer => "c2s",
                Direction::ServerToClient => "s2c",
            };
            let mark = if cited.contains(&f.seq) { " cited" } else { "" };
            let _ = write!(
                out,
                "<details class=\"msg {dir}{mark}\" id=\"{case_id}-f{}\"><summary><span class=t>+{:.1} ms</span><span class=arrow title=\"{}\">{}</span></summary><pre>{}</pre></details>",
                f.seq,
                f.t_us as f64 / 1000.0,
                escape(&label(f)),
                escape(&label(f)),
                shown(&frame_body(f), &redact)
            );
        }
        out.push_str("</div>");
    } else {
        out.push_str("<p class=muted>No trace: the mock did not write one (the client never started it?).</p>");
    }
    if !r.logs.is_empty() {
        let _ = write!(out, "<h3>Client log ({} lines)</h3><ol class=log>", r.logs.len());
        for l in r.logs.iter().take(MAX_LOG_LINES) {
            let loc = l.location();
            let class = if offending.contains(&loc) { " class=offending" } else { "" };
            let level = l.effective_level().map(|lv| format!("{lv} ")).unwrap_or_default();
            let _ = write!(
                out,
                "<li id=\"{case_id}-log-{}\"{class}><span class=loc>{}</span>{}{}</li>",
                escape(&loc.replace(':', "-")),
                escape(&loc),
                escape(&level),
                shown(&crate::check::truncate(&l.text, 2000), &redact)
            );
        }
        out.push_str("</ol>");
    }
    out.push_str("</div></details>");
}

/// A gateway case in three lanes — downstream client, gateway, upstream server —
/// from the upstream trace and the downstream record ([`super::lanes`]): a request
/// that never left the gateway, or left it twice, is marked where it happened.
fn gateway_sequence(
    out: &mut String,
    trace: &backchannel_mock::trace::Trace,
    delivered: &crate::check::gateway::Delivered,
    cited: &std::collections::BTreeSet<u64>,
    redact: &dyn Fn(&str) -> String,
    case_id: &str,
) {
    use super::lanes::Lane;
    out.push_str("<h3>Sequence</h3><div class=\"seq three\"><div class=lanes><span></span><div class=names><span>downstream client</span><span>gateway</span><span>upstream server (mock)</span></div></div>");
    for (i, row) in super::lanes::rows(trace, delivered).iter().enumerate() {
        // Left to right is client → gateway → server: an arrow toward the server is
        // `c2s`, toward the client `s2c`; the segment is the pair of lanes it joins.
        let dir = if matches!(row.to, Lane::Server) || matches!(row.from, Lane::Client | Lane::Bystander) {
            "c2s"
        } else {
            "s2c"
        };
        let upstream = matches!(row.from, Lane::Server) || matches!(row.to, Lane::Server);
        let seq = row.frame.map(|f| f.seq);
        let mark = if seq.is_some_and(|s| cited.contains(&s)) || row.note.is_some() { " cited" } else { "" };
        let who =
            if matches!(row.from, Lane::Bystander) || matches!(row.to, Lane::Bystander) { "bystander: " } else { "" };
        let note = row.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default();
        let text = format!("{who}{}{note}", row.label);
        let arrow = format!("<span class=arrow title=\"{}\">{}</span>", escape(&text), escape(&text));
        let (left, right) =
            if upstream { ("<span></span>".to_owned(), arrow) } else { (arrow, "<span></span>".to_owned()) };
        let t = row.frame.map_or_else(String::new, |f| format!("+{:.1} ms", f.t_us as f64 / 1000.0));
        let id = seq.map_or_else(|| format!("{case_id}-d{i}"), |s| format!("{case_id}-f{s}"));
        let _ = write!(
            out,
            "<details class=\"msg {dir}{mark}\" id=\"{id}\"><summary><span class=t>{t}</span>{left}{right}</summary><pre>{}</pre></details>",
            shown(&row.body, redact)
        );
    }
    out.push_str("</div>");
}

/// The document for these runs.
pub fn render(runs: &[RunSummary]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>backchannel report</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        out,
        "<h1>backchannel report</h1><p class=muted>backchannel {} · {}</p>",
        env!("CARGO_PKG_VERSION"),
        runs.first().map(|r| super::json::rfc3339(r.started_at)).unwrap_or_default()
    );
    out.push_str("<table><tr><th>client</th><th>outcome</th><th>cases</th><th>checks</th><th>passed</th><th>failed</th><th>warned</th><th>skipped</th><th>n/a</th><th>notes</th><th>xfail</th><th>stale baseline</th><th>not judged</th><th>time</th></tr>");
    for run in runs {
        let t = run.totals();
        let [cases, checks, passed, failed, warned, skipped, not_applicable] = t.leading().map(|(n, _)| n);
        let _ = write!(
            out,
            "<tr><td>{}</td><td><b>{}</b></td><td>{cases}</td><td>{checks}</td><td class=v-PASS>{passed}</td><td class=v-FAIL>{failed}</td><td class=v-WARN>{warned}</td><td>{skipped}</td><td>{not_applicable}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&run.client),
            run.outcome().word(),
            t.notes,
            t.known,
            run.stale.len(),
            run.unjudged.len(),
            super::terminal::fmt_duration(run.elapsed)
        );
    }
    out.push_str("</table>");
    if runs.len() > 1 {
        let pairs: Vec<(&str, &[CaseReport])> =
            runs.iter().map(|r| (r.client.as_str(), r.reports.as_slice())).collect();
        let t = super::matrix::table(&pairs);
        out.push_str("<h2>Clients × checks</h2><table class=matrix><tr><th>check</th>");
        for c in &t.clients {
            let _ = write!(out, "<th>{}</th>", escape(c));
        }
        out.push_str("</tr>");
        for (id, cells) in &t.rows {
            let _ = write!(out, "<tr><td><code>{}</code></td>", escape(id));
            for cell in cells {
                let class = ["FAIL", "WARN", "SKIP", "PASS"].into_iter().find(|v| cell.starts_with(v)).unwrap_or("");
                let _ = write!(out, "<td class=\"v-{class}\">{}</td>", escape(cell));
            }
            out.push_str("</tr>");
        }
        let _ =
            write!(out, "</table><p class=muted>{} other checks neither FAIL nor WARN on any client.</p>", t.all_pass);
    }
    for (i, run) in runs.iter().enumerate() {
        let _ = write!(out, "<h2>{}</h2>", escape(&run.client));
        if let Some(signal) = run.interrupted {
            let _ = write!(
                out,
                "<p class=v-FAIL>INTERRUPTED by signal {signal}: {} of {} planned cases ran.</p>",
                run.reports.len(),
                run.planned
            );
        }
        for u in &run.unjudged {
            let _ = write!(out, "<p class=v-FAIL>NOT JUDGED <code>{}</code>: {}</p>", escape(&u.case), escape(&u.why));
        }
        for s in &run.stale {
            let _ = write!(
                out,
                "<p class=v-FAIL>STALE baseline entry (the client passes it now): <code>{}</code></p>",
                escape(s)
            );
        }
        for (j, r) in run.reports.iter().enumerate() {
            case_html(&mut out, r, &format!("r{i}c{j}"));
        }
    }
    out.push_str("</body></html>\n");
    out
}

/// Write the document for these runs to `path`.
pub fn write(path: &Path, runs: &[RunSummary]) -> std::io::Result<()> {
    std::fs::write(path, render(runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn canary_is_redacted_and_marked() {
        let redact = |s: &str| s.replace("bc-canary-1", "{{canary}}");
        assert_eq!(shown("<p>bc-canary-1", &redact), "&lt;p&gt;<mark>{{canary}}</mark>");
    }
}
