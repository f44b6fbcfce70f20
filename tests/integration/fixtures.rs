//! Every check can fail: each mode of the deliberately broken client
//! (`tests/fixtures/broken_client.rs`) has one bug, and running the scenarios
//! against it must produce exactly the FAILs and WARNs that bug explains — the
//! right checks, and no unrelated one. Mode `good` is the control: the same client
//! without a bug passes everything, so the failures are the bugs' and not the
//! fixture's.
//!
//! The expected verdicts are derived from each scenario's *declared* structure
//! (its requests, their expectations and severities, its log and capability
//! expectations) by a rule per bug — "a client that never answers fails every
//! request's `.answered` and nothing else" — so new scenarios are covered without
//! new tables, and no expectation is read off the checks' own output.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backchannel_harness::check::Verdict;
use backchannel_harness::runner::{ClientSpec, RunConfig, run_case};
use backchannel_harness::scenario::model::{DeliveryKind, Severity, Transport};
use backchannel_harness::scenario::{Compiled, ScriptedRequest, compile_file};

use crate::support::{builtin_scenarios, exe, root};

type Found = BTreeSet<(String, Verdict)>;

fn verdict(s: Severity) -> Verdict {
    match s {
        Severity::Must => Verdict::Fail,
        Severity::Should => Verdict::Warn,
    }
}

/// Which requests the fixture refuses (answers with an error): all but `ping` and,
/// when the scenario gives it roots, `roots/list`.
fn refused(c: &Compiled, r: &ScriptedRequest) -> bool {
    let roots_served = r.method == "roots/list" && !c.scenario.client.roots.is_empty();
    r.method != "ping" && !roots_served
}

fn gated(method: &str) -> bool {
    matches!(method, "sampling/createMessage" | "elicitation/create" | "roots/list")
}

struct Expect {
    required: Found,
    /// Also acceptable (only where the bug makes timing matter).
    allowed: Found,
}

/// The verdicts mode `mode` must produce on scenario `c` over `t`.
fn expected(mode: &str, c: &Compiled, t: Transport) -> Expect {
    let id = |check: &str| format!("{}:{check}", c.id);
    let mut req = Found::new();
    let mut allowed = Found::new();
    let reqs = &c.requests;
    let any_requests = !reqs.is_empty();
    let logs = &c.scenario.expect.logs;
    let every_answered =
        || reqs.iter().map(|r| (id(&format!("{}.answered", r.name)), Verdict::Fail)).collect::<Found>();
    match mode {
        "good" => {}
        "minus-32600" => {
            for r in reqs.iter().filter(|r| refused(c, r)) {
                if let Some(g) = &r.expect.error_code {
                    req.insert((id(&format!("{}.error-code", r.name)), verdict(g.severity)));
                }
            }
        }
        "result" => {
            for r in reqs.iter().filter(|r| refused(c, r)) {
                if let Some(g) = &r.expect.error {
                    req.insert((id(&format!("{}.error", r.name)), verdict(g.severity)));
                }
            }
            if reqs.iter().any(|r| refused(c, r) && gated(&r.method)) {
                req.insert((id("capabilities.honest"), Verdict::Fail));
            }
        }
        "silent" => req = every_answered(),
        "wrong-id" if any_requests => {
            req.insert((id("wire.id-echo"), Verdict::Fail));
        }
        "double-answer" if any_requests => {
            req.insert((id("wire.one-answer"), Verdict::Fail));
        }
        "leak" => {
            let canary_refused = reqs
                .iter()
                .any(|r| refused(c, r) && r.params.as_ref().is_some_and(|p| p.to_string().contains("{{canary}}")));
            if let (Some(g), true) = (&logs.no_canary_at_warning, canary_refused) {
                req.insert((id("logs.no-canary-at-warning"), verdict(g.severity)));
            }
        }
        "declare-sampling" => {
            if let Some(list) = &c.scenario.expect.capabilities.absent
                && list.names.iter().any(|n| n == "sampling")
            {
                req.insert((id("capabilities.absent"), verdict(list.severity)));
            }
            if reqs.iter().any(|r| r.method == "sampling/createMessage") {
                req.insert((id("capabilities.honest"), Verdict::Fail));
            }
        }
        "crash" => {
            // It dies on the first request: that one is unanswered; whether the mock
            // got the later ones out before the pipe closed is a race.
            if let Some(first) = reqs.first() {
                req.insert((id(&format!("{}.answered", first.name)), Verdict::Fail));
            }
            allowed = every_answered();
            if let Some(g) = &logs.warning_per_request {
                allowed.insert((id("logs.warning-per-request"), verdict(g.severity)));
            }
        }
        "hang" => {
            req.insert((id("client.exits"), Verdict::Fail));
        }
        "quiet" | "no-server-name" => {
            let requested = |m: &String| reqs.iter().any(|r| &r.method == m);
            if let Some(g) = logs.warning_per_request.as_ref().filter(|g| g.methods.iter().any(requested)) {
                req.insert((id("logs.warning-per-request"), verdict(g.severity)));
            }
            if let (Some(g), "quiet") = (&logs.canary_at_debug, mode) {
                req.insert((id("logs.canary-at-debug"), verdict(g.severity)));
            }
        }
        "no-debug" => {
            if let Some(g) = &logs.canary_at_debug {
                req.insert((id("logs.canary-at-debug"), verdict(g.severity)));
            }
        }
        "garbage" => {
            req.insert((id("wire.json-rpc"), Verdict::Fail));
        }
        "slow" => {
            // The first answer comes 2.5 s late; over stdio and HTTP+SSE the client
            // handles messages in order, so everything sent with it is as late.
            for r in reqs.iter().filter(|r| r.within < Duration::from_millis(2500)) {
                req.insert((id(&format!("{}.answered", r.name)), Verdict::Fail));
            }
        }
        "bad-message" => {
            for r in reqs.iter().filter(|r| refused(c, r)) {
                if let Some(g) = &r.expect.error_message {
                    req.insert((id(&format!("{}.error-message", r.name)), verdict(g.severity)));
                }
            }
        }
        "bad-roots" | "no-roots-cap" => {
            let has_roots = !c.scenario.client.roots.is_empty();
            for r in reqs.iter().filter(|r| has_roots && r.method == "roots/list") {
                if let Some(g) = &r.expect.result {
                    req.insert((id(&format!("{}.result", r.name)), verdict(g.severity)));
                }
            }
            if let (Some(list), "no-roots-cap") = (&c.scenario.expect.capabilities.present, mode)
                && list.names.iter().any(|n| n == "roots")
            {
                req.insert((id("capabilities.present"), verdict(list.severity)));
            }
        }
        "late-init" | "no-connect" => {
            req.insert((id("session.initialize"), Verdict::Fail));
        }
        "no-initialized" => {
            req = every_answered();
            req.insert((id("session.initialized"), Verdict::Fail));
        }
        "drop-get" if t == Transport::Http => {
            for r in reqs.iter().filter(|r| r.delivery == DeliveryKind::GetStream) {
                req.insert((id(&format!("{}.answered", r.name)), Verdict::Fail));
            }
        }
        // Over Streamable HTTP every request after initialize lacks the header, so its
        // notifications/initialized is refused and the server never sends anything.
        "no-session" if t == Transport::Http => {
            req.insert((id("http.session"), Verdict::Fail));
            req.insert((id("session.initialized"), Verdict::Fail));
            req.extend(every_answered());
            if let Some(g) = &logs.canary_at_debug {
                req.insert((id("logs.canary-at-debug"), verdict(g.severity)));
            }
        }
        // Over HTTP+SSE the endpoint carries the session; the fixture drops it from
        // its answers only.
        "no-session" if t == Transport::Sse && any_requests => {
            req.insert((id("http.session"), Verdict::Fail));
            req.extend(every_answered());
        }
        "wrong-session" if t != Transport::Stdio && any_requests => {
            req.insert((id("http.session"), Verdict::Fail));
            req.extend(every_answered());
        }
        "no-version" if t == Transport::Http => {
            req.insert((id("http.protocol-version"), Verdict::Fail));
        }
        "drop-get" | "no-session" | "wrong-session" | "no-version" | "wrong-id" | "double-answer" => {}
        other => panic!("no rule for mode `{other}`"),
    }
    Expect { required: req, allowed }
}

/// (mode, transports, scenarios)
fn plan() -> Vec<(&'static str, Vec<Transport>, Vec<PathBuf>)> {
    use Transport::{Http, Sse, Stdio};
    let builtin = builtin_scenarios();
    let handshake = vec![root().join("tests/fixtures/scenarios/handshake-only.yaml")];
    let every = [
        "good",
        "minus-32600",
        "result",
        "silent",
        "wrong-id",
        "leak",
        "declare-sampling",
        "crash",
        "hang",
        "quiet",
        "no-server-name",
        "no-debug",
        "double-answer",
        "garbage",
        "slow",
        "bad-message",
        "bad-roots",
        "no-roots-cap",
        "late-init",
        "no-connect",
    ];
    let mut plan: Vec<_> = every.iter().map(|m| (*m, vec![Stdio], builtin.clone())).collect();
    // Over HTTP: the HTTP bugs, the control, and answer/wire bugs that must not
    // depend on the transport.
    for m in ["good", "garbage", "wrong-id", "minus-32600", "late-init"] {
        plan.push((m, vec![Http, Sse], builtin.clone()));
    }
    plan.push(("drop-get", vec![Http], builtin.clone()));
    plan.push(("no-version", vec![Http], builtin.clone()));
    plan.push(("no-session", vec![Http, Sse], builtin.clone()));
    plan.push(("wrong-session", vec![Http, Sse], builtin.clone()));
    plan.push(("no-initialized", vec![Stdio, Http, Sse], handshake));
    plan
}

#[test]
fn each_broken_client_fails_exactly_the_right_checks() {
    let fixture = env!("CARGO_BIN_EXE_backchannel-broken-client");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let results = rt.block_on(async {
        // The cases mostly wait (grace periods, deadlines), so many run at once.
        let limit = Arc::new(tokio::sync::Semaphore::new(16));
        let mut tasks = tokio::task::JoinSet::new();
        for (mode, transports, scenarios) in plan() {
            for path in scenarios {
                let compiled = Arc::new(compile_file(&path).unwrap());
                // The broken clients are graded at the latest revision each scenario lists; the
                // revision matrix itself is the scenario tests' business.
                let Some(r) = compiled.scenario.revisions.iter().max().copied() else { continue };
                for t in transports
                    .iter()
                    .copied()
                    .filter(|t| compiled.scenario.transports.contains(t) && r.has_transport(*t))
                {
                    let limit = limit.clone();
                    let compiled = compiled.clone();
                    let cfg = RunConfig {
                        client: ClientSpec::Command(vec![fixture.into(), "--mode".into(), mode.into(), "--".into()]),
                        after_end: Duration::from_secs(1),
                        ..RunConfig::reference(exe())
                    };
                    tasks.spawn(async move {
                        let _permit = limit.acquire_owned().await.unwrap();
                        let report = run_case(&compiled, t, r, &cfg).await.unwrap();
                        let found: Found = report
                            .checks
                            .iter()
                            .filter_map(|c| match c.verdict(false) {
                                v @ (Verdict::Fail | Verdict::Warn) => Some((c.id.clone(), v)),
                                _ => None,
                            })
                            .collect();
                        (mode, t, compiled, found)
                    });
                }
            }
        }
        let mut out = Vec::new();
        while let Some(r) = tasks.join_next().await {
            out.push(r.unwrap());
        }
        out
    });
    let mut errors = Vec::new();
    let mut cases = 0;
    for (mode, t, compiled, found) in results {
        cases += 1;
        let Expect { required, allowed } = expected(mode, &compiled, t);
        let missing: Vec<_> = required.difference(&found).collect();
        let unrelated: Vec<_> = found.iter().filter(|f| !required.contains(f) && !allowed.contains(f)).collect();
        if !missing.is_empty() || !unrelated.is_empty() {
            errors.push(format!(
                "mode `{mode}` on {} [{t}]:\n  not caught: {missing:?}\n  unrelated:  {unrelated:?}",
                compiled.id
            ));
        }
    }
    assert!(cases > 300, "only {cases} cases ran");
    assert!(errors.is_empty(), "{} of {cases} cases wrong:\n{}", errors.len(), errors.join("\n"));
}

#[test]
fn every_check_kind_is_required_to_fail_somewhere() {
    // The check kinds the harness emits (the part after the step name for per-request ones).
    let kinds = [
        "session.initialize",
        "session.initialized",
        "wire.json-rpc",
        "wire.id-echo",
        "wire.one-answer",
        "client.exits",
        "capabilities.honest",
        "capabilities.absent",
        "capabilities.present",
        "http.session",
        "http.protocol-version",
        ".answered",
        ".error",
        ".error-code",
        ".error-message",
        ".result",
        "logs.warning-per-request",
        "logs.no-canary-at-warning",
        "logs.canary-at-debug",
    ];
    let mut required = BTreeSet::new();
    for (mode, transports, scenarios) in plan() {
        for path in scenarios {
            let c = compile_file(&path).unwrap();
            for t in &transports {
                required.extend(expected(mode, &c, *t).required.into_iter().map(|(id, _)| id));
            }
        }
    }
    for kind in kinds {
        let hit = required.iter().any(|id| {
            let check = id.split_once(':').map_or(id.as_str(), |(_, c)| c);
            if kind.starts_with('.') {
                check.ends_with(kind) && !check.starts_with("capabilities.")
            } else {
                check == kind
            }
        });
        assert!(hit, "no broken fixture is required to fail a `{kind}` check");
    }
}
