//! Snapshots of normalized traces and of `backchannel run`'s output. Timestamps,
//! durations, versions, ports, session ids, paths and the per-run canary are
//! redacted; everything else — every byte the mock sent and every answer — is pinned.

use std::collections::BTreeSet;

use backchannel_harness::runner::{RunConfig, run_case};
use backchannel_harness::scenario::compile_file;
use backchannel_harness::scenario::model::{Revision, Transport};
use backchannel_mock::trace::{Direction, Record};
use serde_json::Value;

use crate::support::{exe, root};

/// The trace in sections: the server's frames in order (the same script gives the
/// same bytes), then the client's frames, the HTTP exchanges and the events, each
/// sorted or in order as their timing allows — a client may answer concurrent
/// requests in any order, and its reader races the engine. The reference client's
/// own liveness pings (HTTP) come and go with timing, so they and their exchanges
/// are left out.
fn normalized_trace(scenario: &str, transport: Transport) -> String {
    let compiled = compile_file(&root().join("scenarios").join(scenario)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let revision = Revision::V2025_11_25;
    let run = rt.block_on(run_case(&compiled, transport, revision, &RunConfig::reference(exe()))).unwrap();
    let trace = run.record.trace.expect("a trace");
    let canary = trace.canary().unwrap().to_owned();
    let is_client_ping =
        |json: &Option<Value>| json.as_ref().is_some_and(|j| j["method"] == "ping" && j.get("id").is_some());
    let mut ping_ids = BTreeSet::new();
    let mut ping_exchanges = BTreeSet::new();
    for f in trace.frames().filter(|f| f.dir == Direction::ClientToServer && is_client_ping(&f.json)) {
        ping_ids.insert(f.json.as_ref().map(|j| j["id"].to_string()).unwrap_or_default());
        if let Some(h) = f.http {
            ping_exchanges.insert(h.exchange);
        }
    }
    let (mut server, mut client, mut http, mut events) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut head = String::new();
    let mut tail = String::new();
    for r in &trace.records {
        match r {
            Record::Frame(f) => {
                let answers_ping = f.dir == Direction::ServerToClient
                    && f.json
                        .as_ref()
                        .is_some_and(|j| j.get("result").is_some() && ping_ids.contains(&j["id"].to_string()));
                if (f.dir == Direction::ClientToServer && is_client_ping(&f.json)) || answers_ping {
                    continue;
                }
                let body =
                    f.json.as_ref().map_or_else(|| f.raw.clone(), ToString::to_string).replace(&canary, "{{canary}}");
                let step = f.step.as_deref().map(|s| format!("[{s}] ")).unwrap_or_default();
                let via = f.http.map(|h| format!("via {:?} ", h.stream)).unwrap_or_default();
                let line = format!("  {step}{via}{body}");
                match f.dir {
                    Direction::ServerToClient => server.push(line),
                    Direction::ClientToServer => client.push(line),
                }
            }
            Record::Http(h) if !ping_exchanges.contains(&h.exchange) => http.push(format!(
                "  {} {} -> {} session={} version={} note={}",
                h.method,
                h.path.split('?').next().unwrap_or_default(),
                h.status,
                if h.session.is_some() { "[session]" } else { "-" },
                h.protocol_version.as_deref().unwrap_or("-"),
                h.note.as_deref().unwrap_or("-"),
            )),
            Record::Http(_) => {}
            Record::Event(e) => events.push(format!("  {}", e.kind.name())),
            Record::End(e) => tail = format!("end {:?}", e.reason),
            Record::Start(s) => head = format!("start {} over {}", s.scenario, s.transport),
        }
    }
    client.sort();
    http.sort();
    let mut out = vec![head, "server -> client, in order:".into()];
    out.extend(server);
    out.push("client -> server, sorted:".into());
    out.extend(client);
    if !http.is_empty() {
        out.push("http exchanges, sorted:".into());
        out.extend(http);
    }
    out.push("events, in order:".into());
    out.extend(events);
    out.push(tail);
    out.join("\n") + "\n"
}

pub(crate) fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r#""version":"\d+\.\d+\.\d+""#, r#""version":"[version]""#),
        (r"backchannel \d+\.\d+\.\d+", "backchannel [version]"),
        (r"\((\d+ms|\d+\.\d+s)\)", "([duration])"),
        (r"after \d+ ms", "after [n] ms"),
        (r" in (\d+ms|\d+\.\d+s)", " in [duration]"),
        (r"bc-canary-[0-9a-f]{16}", "{{canary}}"),
        (r"/[^ `]*/backchannel-broken-client", "[fixture]"),
        (r"stdio:/[^ ]*/backchannel", "stdio:[backchannel]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
    ]
}

#[test]
fn trace_sampling_undeclared() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("sampling/undeclared.yaml", Transport::Stdio));
    });
}

#[test]
fn trace_ids_integer_and_string() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("ids/integer-and-string.yaml", Transport::Stdio));
    });
}

#[test]
fn trace_roots_configured() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("roots/configured.yaml", Transport::Stdio));
    });
}

#[test]
fn trace_request_stream_over_http() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("transport/request-stream.yaml", Transport::Http));
    });
}

#[test]
fn trace_sampling_over_legacy_sse() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("sampling/undeclared.yaml", Transport::Sse));
    });
}

fn run_output(args: &[&str]) -> String {
    let out = std::process::Command::new(exe()).current_dir(root()).env("NO_COLOR", "1").args(args).output().unwrap();
    format!("exit: {}\n{}", out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout))
}

#[test]
fn run_output_passing() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run_output(&["run", "--transport", "stdio", "--revision", "latest", "scenarios/sampling/undeclared.yaml", "scenarios/roots/undeclared.yaml"]));
    });
}

#[test]
fn run_output_http() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run_output(&["run", "--transport", "http", "--revision", "2025-06-18", "scenarios/transport/both-streams.yaml"]));
    });
}

#[test]
fn run_output_failing() {
    let client = format!("{} --mode leak --", env!("CARGO_BIN_EXE_backchannel-broken-client"));
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run_output(&["run", "--transport", "stdio", "--revision", "latest", "scenarios/sampling/undeclared.yaml", "--client-cmd", &client]));
    });
}
