//! Every gateway check can fail: each mode of the deliberately broken gateway
//! (`tests/fixtures/broken_gateway/`, stdio upstream; stdio or Streamable HTTP
//! downstream) has one bug, and the built-in `gateway/*` scenarios against it must
//! flag exactly the checks that bug explains. Mode `good` is the control: the same
//! gateway without a bug passes everything.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use backchannel_harness::baseline::Baseline;
use backchannel_harness::check::registry;
use backchannel_harness::outcome::{Grader, Verdict};
use backchannel_harness::profile::{Downstream, LoadedProfile};
use backchannel_harness::runner::{ClientSpec, RunConfig, run_case};
use backchannel_harness::scenario::compile_file;
use backchannel_harness::scenario::compiled::Knob;
use backchannel_harness::scenario::model::Transport;
use backchannel_protocol::Revision;

use crate::support::{builtin_scenarios, exe, processes_with};

/// The environment variable that marks this test's processes.
const MARKER_KEY: &str = "BACKCHANNEL_TEST_GATEWAYS";

/// Per mode: the checks (`<scenario>:<check>`, over every revision run) that must not
/// pass — FAIL or WARN as the rule's strength at that revision says. `http`: the
/// downstream is Streamable HTTP, where the modes that need one (`broadcast`,
/// `get-only`) have their bug; over stdio they are `good` and are not run.
fn expected(http: bool) -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let mut table: Vec<(&str, &[&str])> = vec![
        ("good", &[]),
        // Relays the refusals of its downstream client: the client refused (and
        // logged), not the gateway — not a `logs.warning-per-request` WARN.
        ("transparent", &[]),
        (
            // Declares nothing upstream, answers -32600 itself, logs nothing: every relay
            // it claims fails, every refusal has the wrong code and no WARNING.
            "silent-refusal",
            &[
                "gateway/sampling-relayed:client.configured",
                "gateway/elicitation-relayed:client.configured",
                "gateway/roots-relayed:client.configured",
                "gateway/sampling-relayed:sampling/createMessage.relayed",
                "gateway/elicitation-relayed:elicitation/create.relayed",
                "gateway/roots-relayed:roots/list.relayed",
                "gateway/roots-relayed:roots/list.result",
                "gateway/id-collision:client.configured",
                "gateway/id-collision:sampling/createMessage.relayed",
                "gateway/sampling-refused:sampling/createMessage.error-code",
                "gateway/sampling-refused:logs.warning-per-request",
                "gateway/elicitation-refused:elicitation/create.error-code",
                "gateway/elicitation-refused:logs.warning-per-request",
                "gateway/roots-refused:roots/list.error-code",
                "gateway/roots-refused:logs.warning-per-request",
                "gateway/isolation:client.configured",
                "gateway/isolation:sampling/createMessage.relayed",
                "gateway/isolation:elicitation/create.relayed",
                "gateway/no-get-stream:client.configured",
                "gateway/no-get-stream:sampling/createMessage.relayed",
                "gateway/no-get-stream:elicitation/create.relayed",
                "gateway/stream-resumed:client.configured",
                "gateway/stream-resumed:while-away.relayed",
            ],
        ),
        (
            "rewrite-model",
            &[
                "gateway/sampling-relayed:sampling/createMessage.answer-intact",
                "gateway/id-collision:sampling/createMessage.answer-intact",
                "gateway/isolation:sampling/createMessage.answer-intact",
                "gateway/no-get-stream:sampling/createMessage.answer-intact",
                "gateway/stream-resumed:while-away.answer-intact",
            ],
        ),
        (
            "drop-stop-reason",
            &[
                "gateway/sampling-relayed:sampling/createMessage.answer-intact",
                "gateway/id-collision:sampling/createMessage.answer-intact",
                "gateway/isolation:sampling/createMessage.answer-intact",
                "gateway/no-get-stream:sampling/createMessage.answer-intact",
                "gateway/stream-resumed:while-away.answer-intact",
            ],
        ),
        (
            "alter-params",
            &[
                "gateway/sampling-relayed:sampling/createMessage.relayed",
                "gateway/elicitation-relayed:elicitation/create.relayed",
                "gateway/isolation:elicitation/create.relayed",
                "gateway/no-get-stream:elicitation/create.relayed",
            ],
        ),
        (
            "leak-params",
            &[
                "gateway/sampling-refused:logs.no-canary-at-warning",
                "gateway/elicitation-refused:logs.no-canary-at-warning",
            ],
        ),
        (
            // Declared upstream, then refused downstream: dishonest capabilities.
            "declare-all",
            &[
                "gateway/sampling-refused:capabilities.honest",
                "gateway/elicitation-refused:capabilities.honest",
                "gateway/roots-refused:capabilities.honest",
                "gateway/sampling-refused:gateway.capabilities",
                "gateway/elicitation-refused:gateway.capabilities",
                "gateway/roots-refused:gateway.capabilities",
            ],
        ),
        (
            "drop",
            &[
                "gateway/sampling-relayed:sampling/createMessage.answered",
                "gateway/sampling-relayed:sampling/createMessage.relayed",
                "gateway/sampling-refused:sampling/createMessage.answered",
                "gateway/sampling-refused:logs.warning-per-request",
                "gateway/id-collision:sampling/createMessage.answered",
                "gateway/id-collision:sampling/createMessage.relayed",
                "gateway/isolation:sampling/createMessage.answered",
                "gateway/isolation:sampling/createMessage.relayed",
                "gateway/no-get-stream:sampling/createMessage.answered",
                "gateway/no-get-stream:sampling/createMessage.relayed",
                "gateway/stream-resumed:while-away.answered",
                "gateway/stream-resumed:while-away.relayed",
            ],
        ),
        (
            // Drops a server request that reuses its own call's id — which the mock's
            // first auto id (1) also does wherever the downstream call has id 1, not
            // only in `id-collision`, where it is the point.
            "id-confusion",
            &[
                "gateway/id-collision:sampling/createMessage.answered",
                "gateway/id-collision:sampling/createMessage.relayed",
                "gateway/ping:ping.answered",
                "gateway/sampling-relayed:sampling/createMessage.answered",
                "gateway/sampling-relayed:sampling/createMessage.relayed",
                "gateway/elicitation-relayed:elicitation/create.answered",
                "gateway/elicitation-relayed:elicitation/create.relayed",
                "gateway/roots-relayed:roots/list.answered",
                "gateway/roots-relayed:roots/list.relayed",
                "gateway/sampling-refused:sampling/createMessage.answered",
                "gateway/sampling-refused:logs.warning-per-request",
                "gateway/elicitation-refused:elicitation/create.answered",
                "gateway/elicitation-refused:logs.warning-per-request",
                "gateway/roots-refused:roots/list.answered",
                "gateway/roots-refused:logs.warning-per-request",
                "gateway/isolation:sampling/createMessage.answered",
                "gateway/isolation:sampling/createMessage.relayed",
                "gateway/no-get-stream:sampling/createMessage.answered",
                "gateway/no-get-stream:sampling/createMessage.relayed",
                "gateway/stream-resumed:before.answered",
            ],
        ),
        (
            // Answers under another id: nothing is answered, and every answer is foreign.
            "wrong-id",
            &[
                "gateway/ping:ping.answered",
                "gateway/ping:wire.id-echo",
                "gateway/sampling-relayed:sampling/createMessage.answered",
                "gateway/sampling-relayed:wire.id-echo",
                "gateway/elicitation-relayed:elicitation/create.answered",
                "gateway/elicitation-relayed:wire.id-echo",
                "gateway/roots-relayed:roots/list.answered",
                "gateway/roots-relayed:wire.id-echo",
                "gateway/sampling-refused:wire.id-echo",
                "gateway/elicitation-refused:wire.id-echo",
                "gateway/roots-refused:wire.id-echo",
                "gateway/id-collision:ping.answered",
                "gateway/id-collision:sampling/createMessage.answered",
                "gateway/id-collision:wire.id-echo",
                "gateway/isolation:sampling/createMessage.answered",
                "gateway/isolation:elicitation/create.answered",
                "gateway/isolation:wire.id-echo",
                "gateway/no-get-stream:sampling/createMessage.answered",
                "gateway/no-get-stream:elicitation/create.answered",
                "gateway/no-get-stream:wire.id-echo",
                "gateway/stream-resumed:before.answered",
                "gateway/stream-resumed:while-away.answered",
                "gateway/stream-resumed:wire.id-echo",
            ],
        ),
    ];
    if http {
        table.extend([
            // Every other session gets the request too.
            (
                "broadcast",
                &["gateway/isolation:sampling/createMessage.isolated", "gateway/isolation:elicitation/create.isolated"]
                    as &[&str],
            ),
            // A client without a GET stream never hears of the requests.
            (
                "get-only",
                &[
                    "gateway/no-get-stream:sampling/createMessage.answered",
                    "gateway/no-get-stream:sampling/createMessage.relayed",
                    "gateway/no-get-stream:elicitation/create.answered",
                    "gateway/no-get-stream:elicitation/create.relayed",
                ],
            ),
        ]);
    }
    table.into_iter().map(|(m, ids)| (m, ids.iter().copied().collect())).collect()
}

/// Every kind the registry lists for the broken gateway is required to fail in some
/// mode (over stdio or HTTP).
#[test]
fn every_gateway_check_kind_is_required_to_fail_somewhere() {
    let required: BTreeSet<&str> =
        [expected(false), expected(true)].iter().flat_map(|t| t.values().flatten().copied()).collect();
    for kind in registry::KINDS.iter().filter(|k| k.fixture == registry::Fixture::Gateway) {
        let hit = required.iter().any(|id| {
            let check = id.split_once(':').map_or(*id, |(_, c)| c);
            registry::kind_of(check).is_some_and(|k| k.name == kind.name)
        });
        assert!(hit, "no broken gateway mode is required to fail a {} check", kind.shown);
    }
}

#[test]
fn each_broken_gateway_fails_exactly_the_right_checks() {
    broken_gateways(Downstream::stdio(), None);
}

/// The same modes (and the two that need it) behind a Streamable HTTP downstream, at
/// the newest revision before 2026-07-28 (the relay logic is the stdio test's; what
/// is new is the transport, and the two scenarios that need it).
#[test]
fn each_broken_gateway_fails_exactly_the_right_checks_over_http() {
    broken_gateways(Downstream::new(Transport::Http, "/mcp"), Some(Revision::V2025_11_25));
}

fn broken_gateways(downstream: Downstream, only: Option<Revision>) {
    let http = downstream.transport != Transport::Stdio;
    let fixture = env!("CARGO_BIN_EXE_backchannel-broken-gateway");
    let scenarios: Vec<_> = builtin_scenarios()
        .into_iter()
        .filter(|p| p.parent().and_then(|d| d.file_name()).is_some_and(|d| d == "gateway"))
        .collect();
    assert!(scenarios.len() >= 7, "the gateway scenarios: {scenarios:?}");
    let expected = expected(http);
    let marker = format!("gateways-{}-{}", std::process::id(), downstream.transport);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let found = rt.block_on(async {
        let limit = Arc::new(tokio::sync::Semaphore::new(24));
        let mut tasks = tokio::task::JoinSet::new();
        for mode in expected.keys().copied() {
            let port = if http { " --port {port}" } else { "" };
            let line = format!("{fixture} --mode {mode}{port} -- {{server_argv}}");
            let downstream = downstream.clone();
            // It relays every capability its downstream client declares.
            let honours = vec![Knob::Roots, Knob::Elicitation, Knob::Sampling, Knob::CallTool];
            let mut profile = LoadedProfile::gateway_command(&line, downstream, honours).unwrap();
            // Inherited by the reference client, the gateway and every mock process.
            profile.profile.env.insert(MARKER_KEY.into(), marker.clone());
            let profile = Arc::new(profile);
            for path in &scenarios {
                let compiled = Arc::new(compile_file(path).unwrap());
                for rev in compiled.revisions.clone().into_iter().filter(|r| only.is_none_or(|o| o == *r)) {
                    let (limit, compiled, profile) = (limit.clone(), compiled.clone(), profile.clone());
                    tasks.spawn(async move {
                        let _permit = limit.acquire_owned().await.unwrap();
                        let cfg = RunConfig { client: ClientSpec::Gateway(profile), ..RunConfig::reference(exe()) };
                        let run = run_case(&compiled, Transport::Stdio, rev, &cfg).await.unwrap();
                        let report = Grader::new(false, Baseline::default()).grade(&compiled, run);
                        let flagged: Vec<(String, Verdict)> = report
                            .checks
                            .iter()
                            // A SKIP follows from a failure (no answer: no result to judge).
                            .filter(|c| !matches!(c.verdict, Verdict::Pass | Verdict::NotApplicable | Verdict::Skip))
                            .map(|c| (format!("{}@{rev}", c.id), c.verdict))
                            .collect();
                        (mode, flagged)
                    });
                }
            }
        }
        let mut found: BTreeMap<&str, Vec<(String, Verdict)>> = BTreeMap::new();
        while let Some(r) = tasks.join_next().await {
            let (mode, flagged) = r.unwrap();
            found.entry(mode).or_default().extend(flagged);
        }
        found
    });
    let mut errors = Vec::new();
    // Every case's process group is gone: the reference client, the gateway, the mocks.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut left = processes_with(&format!("{MARKER_KEY}={marker}"));
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        left = processes_with(&format!("{MARKER_KEY}={marker}"));
    }
    if !left.is_empty() {
        errors.push(format!("processes left behind: {left:?}"));
    }
    for (mode, want) in &expected {
        let got = found.get(mode).cloned().unwrap_or_default();
        // Nothing but FAIL and WARN: an INCONCLUSIVE here is the harness's doubt.
        for (id, v) in &got {
            if !matches!(v, Verdict::Fail | Verdict::Warn) {
                errors.push(format!("mode `{mode}`: {id} is {v:?}"));
            }
        }
        let ids: BTreeSet<&str> =
            got.iter().map(|(id, _)| id.split_once('@').map_or(id.as_str(), |(i, _)| i)).collect();
        let missing: Vec<_> = want.difference(&ids).collect();
        let unrelated: Vec<_> = ids.difference(want).collect();
        if !missing.is_empty() || !unrelated.is_empty() {
            errors.push(format!("mode `{mode}`:\n  not caught: {missing:?}\n  unrelated:  {unrelated:?}"));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
