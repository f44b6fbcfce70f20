//! Log hygiene: refusals are audible (one WARNING naming server and method) and
//! discreet (no params — detected by the canary — at WARNING or above).

use super::{Emitter, Evidence, Judged, ScenarioCtx, truncate};
use crate::logs::{Level, LogLine};

pub(crate) fn logs(out: &mut Emitter<'_>, ctx: &ScenarioCtx<'_>) {
    let input = out.input();
    let expect = &input.compiled.expect;
    let lines = input.logs;
    let servers = input.server_names;
    let canary = ctx.trace.canary();

    if let Some((methods, g)) = &expect.warning_per_request {
        let judged = warning_per_request(ctx, lines, servers, methods);
        out.expected(ctx, "logs.warning-per-request", g, judged);
    }
    if let Some(g) = &expect.no_canary_at_warning {
        let judged = match canary {
            None => Judged::Skip(Evidence::new("no canary in this run")),
            Some(c) => {
                let leak =
                    lines.iter().find(|l| l.text.contains(c) && l.effective_level().is_none_or(|lv| lv >= Level::Warn));
                match leak {
                    Some(l) => Judged::Violated(leak_evidence(l)),
                    None => Judged::Pass(Evidence::new(format!(
                        "{} log lines; none at WARNING or above holds the canary",
                        lines.len()
                    ))),
                }
            }
        };
        out.expected(ctx, "logs.no-canary-at-warning", g, judged);
    }
    if let Some(g) = &expect.canary_at_debug {
        let judged = match canary {
            None => Judged::Skip(Evidence::new("no canary in this run")),
            Some(c) => match lines
                .iter()
                .find(|l| l.text.contains(c) && l.effective_level().is_some_and(|lv| lv <= Level::Debug))
            {
                Some(l) => Judged::Pass(Evidence {
                    log_line: Some(l.location()),
                    ..Evidence::new(format!(
                        "the params are at {} ({})",
                        l.effective_level().unwrap_or(Level::Debug),
                        l.location()
                    ))
                }),
                None => Judged::Violated(Evidence::new("no DEBUG line carries the params (the canary)")),
            },
        };
        out.expected(ctx, "logs.canary-at-debug", g, judged);
    }
}

fn leak_evidence(l: &LogLine) -> Evidence {
    let level = l.effective_level().map_or("no level".to_owned(), |lv| lv.to_string());
    Evidence {
        log_line: Some(l.location()),
        actual: Some(truncate(&l.text, 300)),
        ..Evidence::new(format!("{} ({level}) repeats request params (holds the canary)", l.location()))
    }
}

fn warning_per_request(ctx: &ScenarioCtx<'_>, lines: &[LogLine], servers: &[String], methods: &[String]) -> Judged {
    let mut summary = Vec::new();
    for method in methods {
        // JSON-RPC requests, and (2026-07-28) the asks inside InputRequiredResults.
        let asks = ctx
            .session
            .rounds
            .iter()
            .filter_map(|r| r.result.get("inputRequests").and_then(serde_json::Value::as_object))
            .flat_map(|m| m.values())
            .filter(|a| a.get("method").and_then(serde_json::Value::as_str) == Some(method.as_str()))
            .count();
        let sent = ctx.session.sent.iter().filter(|s| &s.method == method).count() + asks;
        if sent == 0 {
            continue;
        }
        let warnings: Vec<&LogLine> = lines
            .iter()
            .filter(|l| l.level.is_some_and(|lv| lv >= Level::Warn) && l.text.contains(method.as_str()))
            .collect();
        if warnings.len() != sent {
            let mut e = Evidence::new(format!(
                "{sent} {method} request(s), {} WARNING line(s) naming the method",
                warnings.len()
            ))
            .diff(
                format!("{sent} line(s)"),
                warnings
                    .iter()
                    .map(|l| format!("{}: {}", l.location(), truncate(&l.text, 160)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            e.log_line = warnings.first().map(|l| l.location());
            return Judged::Violated(e);
        }
        if let Some(l) = warnings.iter().find(|l| !servers.iter().any(|s| l.text.contains(s.as_str()))) {
            return Judged::Violated(Evidence {
                log_line: Some(l.location()),
                expected: Some(format!("one of: {}", servers.join(", "))),
                actual: Some(truncate(&l.text, 300)),
                ..Evidence::new(format!("{} names {method} but not the server", l.location()))
            });
        }
        summary.push(format!("{sent}× {method}"));
    }
    if summary.is_empty() {
        return Judged::Skip(Evidence::new("none of the methods was requested"));
    }
    Judged::Pass(Evidence::new(format!("one WARNING per request, naming the server: {}", summary.join(", "))))
}
