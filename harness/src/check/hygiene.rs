//! Log hygiene: refusals are audible (one WARNING naming server and method) and
//! discreet (no params — detected by the canary — at WARNING or above).

use super::{Emitter, Evidence, Judged, ScenarioCtx, truncate};
use crate::logs::{Level, LogLine};

pub(crate) fn logs(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    let expect = &ctx.compiled.expect;
    let lines = ctx.logs;
    let servers = ctx.server_names;
    let canary = ctx.trace.canary();
    // Past the capture cap the logs are cut: what was not found may be after the cut.
    let cut = ctx.client.output_truncated;
    let unseen = || {
        Judged::Inconclusive(Evidence::new(
            "the client's output passed the capture cap: the lines after it were not seen, so this cannot be decided",
        ))
    };

    if let Some((methods, g)) = &expect.warning_per_request {
        let judged = warning_per_request(ctx, lines, servers, methods, cut);
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
                    None if cut => unseen(),
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
                None if cut => unseen(),
                None => Judged::Violated(Evidence::new("no DEBUG line carries the params (the canary)")),
            },
        };
        // Only a client that logs at DEBUG when asked can be advised on what it logs there.
        let judged = judged.unless(ctx.log_level_not_taken());
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

/// One WARNING per request of each method, each naming the server. Past a cut
/// (`cut`: the output hit the capture cap) only too many warnings, or one without
/// the server, can be decided; too few or just enough is inconclusive.
fn warning_per_request(
    ctx: &ScenarioCtx<'_>,
    lines: &[LogLine],
    servers: &[String],
    methods: &[String],
    cut: bool,
) -> Judged {
    let mut summary = Vec::new();
    let mut relayed_all = Vec::new();
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
        let sent = ctx.session.sent.iter().filter(|s| &s.method == method && !s.is_barrier()).count() + asks;
        if sent == 0 {
            continue;
        }
        // A gateway that relayed a request did not refuse it: its downstream client
        // did, and the refusal log is the refusing party's. Only what the gateway
        // refused itself is its to log.
        let relayed = ctx.downstream.map_or(0, |d| d.received.iter().filter(|r| &r.method == method).count());
        let sent = sent.saturating_sub(relayed);
        if sent == 0 {
            relayed_all.push(format!("{relayed}× {method}"));
            continue;
        }
        let warnings: Vec<&LogLine> = lines
            .iter()
            .filter(|l| l.level.is_some_and(|lv| lv >= Level::Warn) && l.text.contains(method.as_str()))
            .collect();
        if warnings.len() < sent && cut {
            return Judged::Inconclusive(Evidence::new(format!(
                "{sent} {method} request(s), {} WARNING line(s) before the client's output passed the capture cap",
                warnings.len()
            )));
        }
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
    if summary.is_empty() && !relayed_all.is_empty() {
        return Judged::NotApplicable(Evidence::new(format!(
            "N/A: the gateway relayed every such request to its downstream client, which refused it ({}): the refusal log is the refusing party's",
            relayed_all.join(", ")
        )));
    }
    if summary.is_empty() {
        return Judged::Skip(Evidence::new("none of the methods was requested"));
    }
    if cut {
        return Judged::Inconclusive(Evidence::new(format!(
            "{} before the client's output passed the capture cap; more may have followed",
            summary.join(", ")
        )));
    }
    Judged::Pass(Evidence::new(format!("one WARNING per request, naming the server: {}", summary.join(", "))))
}

#[cfg(test)]
mod tests {
    use backchannel_protocol::{Revision, Transport};
    use serde_json::json;

    use super::super::tests::{CANARY, Case, outcome};
    use crate::check::Outcome;
    use crate::logs::Level;
    use crate::scenario::compiled::Knob;

    const YAML: &str = "title: t\nclient: {log_level: debug}\nexpect:\n  logs:\n    warning_per_request: {methods: [sampling/createMessage], severity: should, spec: policy/warn-per-refusal}\n    no_canary_at_warning: {spec: policy/no-params-at-warning}\n    canary_at_debug: {severity: advice, spec: policy/params-at-debug}\nsteps:\n  - request: {method: sampling/createMessage}\n";

    fn case() -> Case {
        Case::new(YAML, Transport::Stdio, Revision::V2025_11_25)
            .handshake(json!({}))
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}), Some("sampling/createMessage"))
            .c2s(json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}))
            .end()
    }

    #[test]
    fn one_warning_naming_the_server_and_the_params_only_at_debug() {
        let f = case()
            .log(Some(Level::Warn), "refused sampling/createMessage from stdio:/bin/mock")
            .log(Some(Level::Debug), &format!("params {CANARY}"))
            .eval();
        assert_eq!(outcome(&f, "logs.warning-per-request"), Outcome::Pass);
        assert_eq!(outcome(&f, "logs.no-canary-at-warning"), Outcome::Pass);
        assert_eq!(outcome(&f, "logs.canary-at-debug"), Outcome::Pass);
    }

    #[test]
    fn leaks_missing_or_anonymous_warnings_are_caught() {
        let f = case()
            .log(Some(Level::Warn), &format!("refused sampling/createMessage from stdio:/bin/mock {CANARY}"))
            .eval();
        assert_eq!(outcome(&f, "logs.no-canary-at-warning"), Outcome::Violated);
        let f = case().log(None, &format!("a line without a level: {CANARY}")).eval();
        assert_eq!(outcome(&f, "logs.no-canary-at-warning"), Outcome::Violated, "no level counts as loud");
        let f = case().log(Some(Level::Warn), "refused sampling/createMessage").eval();
        assert_eq!(outcome(&f, "logs.warning-per-request"), Outcome::Violated, "the server is not named");
        let f = case().eval();
        assert_eq!(outcome(&f, "logs.warning-per-request"), Outcome::Violated, "nothing logged");
    }

    #[test]
    fn debug_advice_is_not_applicable_without_debug_logging() {
        // Logs at DEBUG, but not the params: advice not followed (graded as a NOTE).
        let f = case().log(Some(Level::Debug), "something").eval();
        assert_eq!(outcome(&f, "logs.canary-at-debug"), Outcome::Violated);
        // No DEBUG line at all, and the client does not claim the knob: N/A.
        let f = case().claims(&[]).log(Some(Level::Warn), "refused sampling/createMessage from stdio:/bin/mock").eval();
        assert_eq!(outcome(&f, "logs.canary-at-debug"), Outcome::NotApplicable);
        let f = case().claims(&[Knob::LogLevel]).eval();
        assert_eq!(outcome(&f, "logs.canary-at-debug"), Outcome::Violated);
        assert_eq!(outcome(&f, "client.configured"), Outcome::Violated);
    }

    #[test]
    fn output_past_the_capture_cap_is_inconclusive_unless_decided_before_it() {
        let mut c = case().log(Some(Level::Warn), "refused sampling/createMessage from stdio:/bin/mock");
        c.client.output_truncated = true;
        let f = c.eval();
        assert_eq!(outcome(&f, "logs.no-canary-at-warning"), Outcome::Inconclusive);
        assert_eq!(outcome(&f, "logs.warning-per-request"), Outcome::Inconclusive);
        assert_eq!(outcome(&f, "logs.canary-at-debug"), Outcome::Inconclusive);
        let mut c = case().log(Some(Level::Error), &format!("leak {CANARY}"));
        c.client.output_truncated = true;
        assert_eq!(outcome(&c.eval(), "logs.no-canary-at-warning"), Outcome::Violated, "a leak before the cut");
    }
}
