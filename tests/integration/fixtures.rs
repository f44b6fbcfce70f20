//! Every check can fail: each mode of the deliberately broken client
//! (`tests/fixtures/broken_client.rs`) has one bug, and running the built-in
//! scenarios against it must produce exactly the FAILs and WARNs that bug
//! explains — the right checks, and no unrelated one. Mode `good` is the control:
//! the same client without a bug passes everything, so the failures below are
//! the bugs' and not the fixture's.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backchannel_harness::check::Verdict;
use backchannel_harness::runner::{ClientSpec, RunConfig, run_case};
use backchannel_harness::scenario::compile_file;

use crate::support::{builtin_scenarios, exe, root};

const N: &str = "capabilities/none-declared";
const EF: &str = "elicitation/form-undeclared";
const EU: &str = "elicitation/url-undeclared";
const I: &str = "ids/integer-and-string";
const PD: &str = "logs/params-at-debug";
const W: &str = "logs/warning-without-params";
const P: &str = "ping/empty-result";
const U: &str = "protocol/unknown-method";
const RC: &str = "roots/configured";
const RU: &str = "roots/undeclared";
const SU: &str = "sampling/undeclared";
const ALL: [&str; 11] = [N, EF, EU, I, PD, W, P, U, RC, RU, SU];
/// Scenarios that send at least one request.
const WITH_REQUESTS: [&str; 10] = [EF, EU, I, PD, W, P, U, RC, RU, SU];

type Found = BTreeSet<(String, Verdict)>;

fn set(items: &[(&str, &str, Verdict)]) -> Found {
    items.iter().map(|(s, c, v)| (format!("{s}:{c}"), *v)).collect()
}

fn each(scenarios: &[&str], check: &str, v: Verdict) -> Found {
    scenarios.iter().map(|s| (format!("{s}:{check}"), v)).collect()
}

/// Every request's `.answered` in the built-in scenarios.
fn every_answered() -> Found {
    set(&[
        (EF, "elicitation/create.answered", Verdict::Fail),
        (EU, "elicitation/create.answered", Verdict::Fail),
        (I, "integer.answered", Verdict::Fail),
        (I, "zero.answered", Verdict::Fail),
        (I, "string.answered", Verdict::Fail),
        (I, "numeric-string.answered", Verdict::Fail),
        (PD, "sampling/createMessage.answered", Verdict::Fail),
        (W, "sampling-everywhere.answered", Verdict::Fail),
        (W, "sampling-minimal.answered", Verdict::Fail),
        (W, "elicitation-everywhere.answered", Verdict::Fail),
        (P, "ping.answered", Verdict::Fail),
        (P, "ping#2.answered", Verdict::Fail),
        (U, "backchannel/no-such-method.answered", Verdict::Fail),
        (RC, "roots/list.answered", Verdict::Fail),
        (RU, "roots/list.answered", Verdict::Fail),
        (SU, "sampling/createMessage.answered", Verdict::Fail),
    ])
}

struct Case {
    mode: &'static str,
    scenarios: Vec<PathBuf>,
    /// Every FAIL/WARN that must appear.
    required: Found,
    /// FAIL/WARNs that may also appear (only where the bug makes timing matter).
    allowed: Found,
}

fn builtin(mode: &'static str, required: Found) -> Case {
    Case { mode, scenarios: builtin_scenarios(), required, allowed: Found::new() }
}

fn cases() -> Vec<Case> {
    use Verdict::{Fail, Warn};
    let handshake = vec![root().join("tests/fixtures/scenarios/handshake-only.yaml")];
    vec![
        builtin("good", Found::new()),
        builtin("minus-32600", {
            let mut s = set(&[
                (U, "backchannel/no-such-method.error-code", Warn),
                (RU, "roots/list.error-code", Warn),
                (SU, "sampling/createMessage.error-code", Warn),
            ]);
            s.extend(each(&[EF, EU], "elicitation/create.error-code", Warn));
            s
        }),
        builtin("result", {
            let mut s = each(&[EF, EU, SU, RU, PD, W], "capabilities.honest", Fail);
            s.extend(each(&[EF, EU], "elicitation/create.error", Fail));
            s.extend(set(&[
                (SU, "sampling/createMessage.error", Fail),
                (RU, "roots/list.error", Fail),
                (U, "backchannel/no-such-method.error", Warn),
            ]));
            s
        }),
        builtin("silent", every_answered()),
        builtin("wrong-id", each(&WITH_REQUESTS, "wire.id-echo", Fail)),
        builtin("leak", each(&[EF, EU, PD, W, U, SU], "logs.no-canary-at-warning", Fail)),
        builtin("declare-sampling", {
            let mut s = each(&[SU, PD, W], "capabilities.honest", Fail);
            s.extend(set(&[(N, "capabilities.absent", Fail)]));
            s
        }),
        {
            // Crashing on the first request: that request is unanswered everywhere;
            // whether the mock got the later ones out before the pipe closed is a
            // race, so their `.answered` (and W's WARNING count) may fail too.
            let required = set(&[
                (EF, "elicitation/create.answered", Fail),
                (EU, "elicitation/create.answered", Fail),
                (I, "integer.answered", Fail),
                (PD, "sampling/createMessage.answered", Fail),
                (W, "sampling-everywhere.answered", Fail),
                (P, "ping.answered", Fail),
                (U, "backchannel/no-such-method.answered", Fail),
                (RC, "roots/list.answered", Fail),
                (RU, "roots/list.answered", Fail),
                (SU, "sampling/createMessage.answered", Fail),
            ]);
            let mut allowed = every_answered();
            allowed.extend(set(&[(W, "logs.warning-per-request", Fail)]));
            Case { mode: "crash", scenarios: builtin_scenarios(), required, allowed }
        },
        builtin("hang", each(&ALL, "client.exits", Fail)),
        builtin("quiet", {
            let mut s = each(&[EF, EU, RU, SU], "logs.warning-per-request", Warn);
            s.extend(set(&[(W, "logs.warning-per-request", Fail), (PD, "logs.canary-at-debug", Warn)]));
            s
        }),
        builtin("no-server-name", {
            let mut s = each(&[EF, EU, RU, SU], "logs.warning-per-request", Warn);
            s.extend(set(&[(W, "logs.warning-per-request", Fail)]));
            s
        }),
        builtin("no-debug", set(&[(PD, "logs.canary-at-debug", Warn)])),
        builtin("double-answer", each(&WITH_REQUESTS, "wire.one-answer", Fail)),
        builtin("garbage", each(&ALL, "wire.json-rpc", Fail)),
        builtin("slow", set(&[(P, "ping.answered", Fail), (P, "ping#2.answered", Fail)])),
        builtin("bad-message", {
            let mut s = each(&[EF, EU], "elicitation/create.error-message", Warn);
            s.extend(set(&[(SU, "sampling/createMessage.error-message", Warn)]));
            s
        }),
        builtin("bad-roots", set(&[(RC, "roots/list.result", Fail)])),
        builtin("no-roots-cap", set(&[(RC, "capabilities.present", Fail), (RC, "roots/list.result", Fail)])),
        builtin("late-init", each(&ALL, "session.initialize", Fail)),
        builtin("no-connect", each(&ALL, "session.initialize", Fail)),
        Case {
            mode: "no-initialized",
            scenarios: handshake,
            required: set(&[
                ("handshake-only", "session.initialized", Fail),
                ("handshake-only", "ping.answered", Fail),
            ]),
            allowed: Found::new(),
        },
    ]
}

#[test]
fn each_broken_client_fails_exactly_the_right_checks() {
    let fixture = env!("CARGO_BIN_EXE_backchannel-broken-client");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let results = rt.block_on(async {
        // The cases mostly wait (grace periods, deadlines), so many run at once.
        let limit = Arc::new(tokio::sync::Semaphore::new(12));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, case) in cases().into_iter().enumerate() {
            for path in case.scenarios.clone() {
                let limit = limit.clone();
                let cfg = RunConfig {
                    client: ClientSpec::Command(vec![fixture.into(), "--mode".into(), case.mode.into(), "--".into()]),
                    after_end: Duration::from_secs(1),
                    ..RunConfig::reference(exe())
                };
                tasks.spawn(async move {
                    let _permit = limit.acquire_owned().await.unwrap();
                    let compiled = compile_file(&path).unwrap();
                    let report = run_case(&compiled, &cfg).await.unwrap();
                    let found: Found = report
                        .checks
                        .iter()
                        .filter_map(|c| match c.verdict(false) {
                            v @ (Verdict::Fail | Verdict::Warn) => Some((c.id.clone(), v)),
                            _ => None,
                        })
                        .collect();
                    (i, found)
                });
            }
        }
        let mut by_case = vec![Found::new(); cases().len()];
        while let Some(r) = tasks.join_next().await {
            let (i, found) = r.unwrap();
            by_case[i].extend(found);
        }
        by_case
    });
    let mut errors = Vec::new();
    for (case, found) in cases().into_iter().zip(results) {
        let missing: Vec<_> = case.required.difference(&found).collect();
        let unexpected: Vec<_> =
            found.iter().filter(|f| !case.required.contains(f) && !case.allowed.contains(f)).collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            errors.push(format!("mode `{}`:\n  not caught: {missing:?}\n  unrelated:  {unexpected:?}", case.mode));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn every_check_kind_is_failed_by_some_fixture() {
    // The checks the harness can emit, by kind (the part after the step name).
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
        ".answered",
        ".error",
        ".error-code",
        ".error-message",
        ".result",
        "logs.warning-per-request",
        "logs.no-canary-at-warning",
        "logs.canary-at-debug",
    ];
    let caught: BTreeSet<String> = cases().iter().flat_map(|c| c.required.iter().map(|(id, _)| id.clone())).collect();
    for kind in kinds {
        assert!(
            caught.iter().any(|id| if kind.starts_with('.') {
                id.ends_with(kind) && !id.contains(":capabilities.")
            } else {
                id.ends_with(&format!(":{kind}"))
            }),
            "no fixture is required to fail a `{kind}` check"
        );
    }
}
