//! Snapshots of normalized traces and of `backchannel run`'s output. Timestamps,
//! durations, versions, paths and the per-run canary are redacted; everything
//! else — every byte the mock sent and every answer — is pinned.

use backchannel_harness::runner::{RunConfig, run_case};
use backchannel_harness::scenario::compile_file;
use backchannel_mock::trace::{Direction, Record};

use crate::support::{exe, root};

/// One line per frame, `c2s`/`s2c` then the JSON (keys sorted), canary redacted.
/// A client may answer concurrent requests in any order, so each run of
/// consecutive client frames is sorted.
fn normalized_trace(scenario: &str) -> String {
    let compiled = compile_file(&root().join("scenarios").join(scenario)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report = rt.block_on(run_case(&compiled, &RunConfig::reference(exe()))).unwrap();
    let trace = report.trace.expect("a trace");
    let canary = trace.canary().unwrap().to_owned();
    let mut lines: Vec<String> = Vec::new();
    for r in &trace.records {
        match r {
            Record::Frame(f) => {
                let dir = match f.dir {
                    Direction::ClientToServer => "c2s",
                    Direction::ServerToClient => "s2c",
                };
                let body = f.json.as_ref().map_or_else(|| f.raw.clone(), ToString::to_string);
                let step = f.step.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default();
                lines.push(format!("{dir}{step} {}", body.replace(&canary, "{{canary}}")));
            }
            Record::Event(e) => lines.push(format!("event {}", e.event)),
            Record::End(e) => lines.push(format!("end {:?}", e.reason)),
            Record::Start(s) => lines.push(format!("start {} over {}", s.scenario, s.transport)),
        }
    }
    let mut out = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with("c2s ") {
            run.push(line);
            continue;
        }
        run.sort();
        out.append(&mut run);
        out.push(line);
    }
    run.sort();
    out.append(&mut run);
    out.join("\n") + "\n"
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r#""version":"\d+\.\d+\.\d+""#, r#""version":"[version]""#),
        (r"backchannel \d+\.\d+\.\d+", "backchannel [version]"),
        (r"\((\d+ms|\d+\.\d+s)\)", "([duration])"),
        (r"after \d+ ms", "after [n] ms"),
        (r" in (\d+ms|\d+\.\d+s)", " in [duration]"),
        (r"bc-canary-[0-9a-f]{16}", "{{canary}}"),
        (r"/[^ `]*/backchannel-broken-client", "[fixture]"),
        (r"stdio:/[^ ]*/backchannel", "stdio:[backchannel]"),
    ]
}

#[test]
fn trace_sampling_undeclared() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("sampling/undeclared.yaml"));
    });
}

#[test]
fn trace_ids_integer_and_string() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("ids/integer-and-string.yaml"));
    });
}

#[test]
fn trace_roots_configured() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(normalized_trace("roots/configured.yaml"));
    });
}

fn run_output(args: &[&str]) -> String {
    let out = std::process::Command::new(exe()).current_dir(root()).env("NO_COLOR", "1").args(args).output().unwrap();
    format!("exit: {}\n{}", out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout))
}

#[test]
fn run_output_passing() {
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run_output(&["run", "scenarios/sampling/undeclared.yaml", "scenarios/roots/undeclared.yaml"]));
    });
}

#[test]
fn run_output_failing() {
    let client = format!("{} --mode leak --", env!("CARGO_BIN_EXE_backchannel-broken-client"));
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!(run_output(&["run", "scenarios/sampling/undeclared.yaml", "--client-cmd", &client]));
    });
}
