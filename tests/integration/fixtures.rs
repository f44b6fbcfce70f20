//! Every check can fail: each mode of the deliberately broken client
//! (`tests/fixtures/broken_client/`) has one bug, and running the scenarios
//! against it must produce exactly the FAILs and WARNs that bug explains — the
//! right checks, and no unrelated one. Mode `good` is the control: the same client
//! without a bug passes everything, so the failures are the bugs' and not the
//! fixture's.
//!
//! The oracle has two parts: the fixture's [`model`] (what it does in a mode, from
//! its source) and the [`rules`] (what each bug must fail, derived from a
//! scenario's declared structure, never from the checks' output).

#[allow(dead_code, unreachable_pub, reason = "the client's mode table, shared: the oracle reads part of it")]
#[path = "../fixtures/broken_client/mode.rs"]
mod mode;
mod model;
mod rules;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backchannel_harness::baseline::Baseline;
use backchannel_harness::check::registry;
use backchannel_harness::outcome::{Grader, Verdict};
use backchannel_harness::runner::{AFTER_END, ClientSpec, RunConfig, run_case};
use backchannel_harness::scenario::compile_file;
use backchannel_harness::scenario::compiled::{Knob, Knobs};
use backchannel_harness::scenario::model::Revision;
use backchannel_harness::scenario::model::Transport;
use mode::Mode;
use rules::{Expect, Found, expected};

use crate::support::{builtin_scenarios, exe, root};

/// The bugs of the 2026-07-28 Streamable HTTP binding (request headers, a GET stream,
/// broken response streams): run over HTTP on the MRTR scenarios only.
const MODERN_HTTP: [Mode; 8] = [
    Mode::NoMcpMethod,
    Mode::WrongMcpName,
    Mode::RawParams,
    Mode::GetFatal,
    Mode::NoReissue,
    Mode::ReissueSameId,
    Mode::ReissueRestart,
    Mode::Resume,
];

/// The bugs of coming back for a stream whose connection the server closed.
const CLOSED_STREAM: [Mode; 6] = [
    Mode::NoPoll,
    Mode::IgnoreRetry,
    Mode::NoLastEventId,
    Mode::StaleLastEventId,
    Mode::CancelOnClose,
    Mode::CloseEndsSession,
];

/// (mode, transports, scenarios)
fn plan() -> Vec<(Mode, Vec<Transport>, Vec<PathBuf>)> {
    use Transport::{Http, Sse, Stdio};
    let builtin = builtin_scenarios();
    let handshake = vec![root().join("tests/fixtures/scenarios/handshake-only.yaml")];
    // Every mode but the zoo's (supervision.rs) and the HTTP-only ones below.
    let every = Mode::ALL.iter().copied().filter(|m| {
        !matches!(
            m,
            Mode::Flood
                | Mode::HugeLine
                | Mode::StdoutNoise
                | Mode::UnknownId
                | Mode::LogFlood
                | Mode::SlowReader
                | Mode::DropGet
                | Mode::NoVersion
                | Mode::NoSession
                | Mode::WrongSession
                | Mode::NoInitialized
                | Mode::StreamableOnly
        ) && !MODERN_HTTP.contains(m)
            && !CLOSED_STREAM.contains(m)
    });
    let mut plan: Vec<_> = every.map(|m| (m, vec![Stdio], builtin.clone())).collect();
    // Over HTTP: the HTTP bugs, the control, and answer/wire bugs that must not
    // depend on the transport.
    for m in [
        Mode::Good,
        Mode::Unconfigurable,
        Mode::OwnConfig,
        Mode::Garbage,
        Mode::WrongId,
        Mode::Minus32600,
        Mode::LateInit,
        Mode::BatchAnswers,
    ] {
        plan.push((m, vec![Http, Sse], builtin.clone()));
    }
    // A client that does not speak the optional legacy transport, and does not claim
    // to: every HTTP+SSE case is N/A, never a FAIL.
    plan.push((Mode::StreamableOnly, vec![Sse], builtin.clone()));
    plan.push((Mode::DropGet, vec![Http], builtin.clone()));
    plan.push((Mode::NoVersion, vec![Http], builtin.clone()));
    plan.push((Mode::NoSession, vec![Http, Sse], builtin.clone()));
    plan.push((Mode::WrongSession, vec![Http, Sse], builtin.clone()));
    plan.push((Mode::NoInitialized, vec![Stdio, Http, Sse], handshake));
    // Streams closed to be resumed (Streamable HTTP, 2025-03-26 … 2025-11-25): the
    // resumption bugs, on the scenarios that close a stream.
    let closing: Vec<PathBuf> =
        builtin.iter().filter(|p| compile_file(p).is_ok_and(|c| !c.closes.is_empty())).cloned().collect();
    for m in CLOSED_STREAM {
        plan.push((m, vec![Http], closing.clone()));
    }
    // 2026-07-28 over Streamable HTTP: the MRTR bugs and the header bugs, on the MRTR
    // scenarios (a legacy session never reaches them).
    let mrtr: Vec<PathBuf> =
        builtin.iter().filter(|p| p.components().any(|c| c.as_os_str() == "mrtr")).cloned().collect();
    for m in [
        Mode::NoMeta,
        Mode::MrtrSameId,
        Mode::MrtrBadState,
        Mode::MrtrFabricate,
        Mode::MrtrPartial,
        Mode::MrtrNoRetry,
        Mode::Crash,
    ]
    .into_iter()
    .chain(MODERN_HTTP)
    {
        plan.push((m, vec![Http], mrtr.clone()));
    }
    plan
}

#[test]
fn each_broken_client_fails_exactly_the_right_checks() {
    let fixture = env!("CARGO_BIN_EXE_backchannel-broken-client");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let results = rt.block_on(async {
        // The cases mostly wait (grace periods, deadlines), so many run at once.
        let limit = Arc::new(tokio::sync::Semaphore::new(40));
        let mut tasks = tokio::task::JoinSet::new();
        for (mode, transports, scenarios) in plan() {
            for path in scenarios {
                let compiled = Arc::new(compile_file(&path).unwrap());
                // Every revision the scenario lists, on every transport it lists that the
                // mode runs on.
                let cases: Vec<(Transport, Revision)> = transports
                    .iter()
                    .copied()
                    .filter(|t| compiled.transports.contains(t))
                    .flat_map(|t| compiled.revisions.iter().map(move |r| (t, *r)))
                    .filter(|(t, r)| r.has_transport(*t))
                    .collect();
                for (t, r) in cases {
                    let limit = limit.clone();
                    let compiled = compiled.clone();
                    let cfg = RunConfig {
                        // It reads every BACKCHANNEL_CLIENT_* knob, so it claims them all — but
                        // for the modes that read none or have a configuration of their
                        // own, which claim none.
                        client: ClientSpec::Command {
                            argv: vec![fixture.into(), "--mode".into(), mode.name().into(), "--".into()],
                            honours: if matches!(mode, Mode::Unconfigurable | Mode::OwnConfig) {
                                Knobs::new()
                            } else {
                                Knob::ALL.into_iter().collect()
                            },
                            // It answers and logs in order, so the closing barrier proves
                            // enough — but for the bugs that come 100–200 ms late, which a
                            // settle window must still catch: 1 s here, so that a loaded
                            // machine (40 cases at once) cannot push them past it.
                            settle: if matches!(mode, Mode::LateDouble | Mode::LateGarbage | Mode::LateLeak) {
                                Duration::from_secs(1)
                            } else {
                                Duration::ZERO
                            },
                        },
                        // A second of idleness proves a hang and keeps the matrix short —
                        // but `slow` may sleep through the closing barrier's answer and past
                        // the end of a session without requests: it gets the real default.
                        after_end: if mode == Mode::Slow { AFTER_END } else { Duration::from_secs(1) },
                        ..RunConfig::reference(exe())
                    };
                    tasks.spawn(async move {
                        let _permit = limit.acquire_owned().await.unwrap();
                        let run = run_case(&compiled, t, r, &cfg).await.unwrap();
                        let report = Grader::new(false, Baseline::default()).grade(&compiled, run);
                        let found: Found = report
                            .checks
                            .iter()
                            .filter_map(|c| match c.verdict {
                                v @ (Verdict::Fail | Verdict::Warn | Verdict::Note | Verdict::Inconclusive) => {
                                    Some((c.id.clone(), v))
                                }
                                _ => None,
                            })
                            .collect();
                        (mode, t, r, compiled, found)
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
    for (mode, t, rev, compiled, found) in results {
        cases += 1;
        let Expect { required, allowed } = expected(mode, &compiled, t, rev);
        let missing: Vec<_> = required.difference(&found).collect();
        let unrelated: Vec<_> = found.iter().filter(|f| !required.contains(f) && !allowed.contains(f)).collect();
        if !missing.is_empty() || !unrelated.is_empty() {
            errors.push(format!(
                "mode `{}` on {} [{t} {rev}]:\n  not caught: {missing:?}\n  unrelated:  {unrelated:?}",
                mode.name(),
                compiled.id
            ));
        }
    }
    assert!(cases > 300, "only {cases} cases ran");
    assert!(errors.is_empty(), "{} of {cases} cases wrong:\n{}", errors.len(), errors.join("\n"));
}

#[test]
fn every_check_kind_is_required_to_fail_somewhere() {
    // Every kind the registry lists for the broken client (the gateway kinds are
    // `gateways.rs`'s): some mode of it must be required to fail one of its checks.
    let kinds = registry::KINDS.iter().filter(|k| k.fixture == registry::Fixture::Client);
    let mut required = BTreeSet::new();
    for (mode, transports, scenarios) in plan() {
        for path in scenarios {
            let c = compile_file(&path).unwrap();
            for rev in c.revisions.clone() {
                for t in transports.iter().filter(|t| rev.has_transport(**t)) {
                    required.extend(expected(mode, &c, *t, rev).required.into_iter().map(|(id, _)| id));
                }
            }
        }
    }
    for kind in kinds {
        let hit = required.iter().any(|id| {
            let check = id.split_once(':').map_or(id.as_str(), |(_, c)| c);
            registry::kind_of(check).is_some_and(|k| k.name == kind.name)
        });
        assert!(hit, "no broken fixture is required to fail a {} check", kind.shown);
    }
}
