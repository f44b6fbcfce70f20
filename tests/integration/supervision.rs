//! A client that crashes, hangs or never answers mid-case leaves no process behind:
//! every process of the case (the client, the mock it launched over stdio, the HTTP
//! mock the harness started) is gone when `backchannel run` returns.

use crate::support::{processes_with, root};

/// What one `backchannel run` of the broken fixture in `mode` left: its exit code,
/// stdout, wall time, and the processes of the run still alive afterwards.
struct FixtureRun {
    code: Option<i32>,
    stdout: String,
    elapsed: std::time::Duration,
    left: Vec<String>,
}

fn run_fixture(mode: &str, transport: &str, revision: &str, scenario: &str) -> FixtureRun {
    let fixture = env!("CARGO_BIN_EXE_backchannel-broken-client");
    let marker = format!("BACKCHANNEL_LEAK_MARKER={mode}-{transport}-{revision}-{}", std::process::id());
    let (key, value) = marker.split_once('=').unwrap();
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backchannel"))
        .current_dir(root())
        .env(key, value)
        .env("NO_COLOR", "1")
        .args(["run", "--transport", transport, "--revision", revision, scenario])
        .arg("--client-cmd")
        .arg(format!("{fixture} --mode {mode} --"))
        .output()
        .unwrap();
    FixtureRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        elapsed: started.elapsed(),
        left: processes_with(&marker),
    }
}

#[test]
fn misbehaving_clients_leave_no_process_behind() {
    // Cases chosen to end quickly: the handshake-only scenario times out after 1.5 s.
    let handshake = "tests/fixtures/scenarios/handshake-only.yaml";
    let sampling = "scenarios/sampling/undeclared.yaml";
    for (mode, scenario) in
        [("hang", sampling), ("crash", sampling), ("silent", handshake), ("no-initialized", handshake)]
    {
        for transport in ["stdio", "http", "sse"] {
            let r = run_fixture(mode, transport, "all", scenario);
            assert_eq!(r.code, Some(1), "mode {mode} over {transport} is a FAIL:\n{}", r.stdout);
            assert!(r.left.is_empty(), "mode {mode} over {transport} left processes behind: {:#?}", r.left);
        }
    }
}

/// The hostile-client zoo: each member gets a FAIL from the check its behaviour
/// violates, in bounded time (a case's hard timeout is the scenario's timeout +
/// 10 s), with no process left behind.
#[test]
fn hostile_clients_get_the_right_fail_in_bounded_time() {
    let sampling = "scenarios/sampling/undeclared.yaml";
    for (mode, transport, scenario, check) in [
        ("flood", "stdio", sampling, "FAIL  sampling/createMessage.answered"),
        ("huge-line", "stdio", sampling, "FAIL  sampling/createMessage.answered"),
        ("stdout-noise", "stdio", sampling, "FAIL  wire.json-rpc"),
        ("unknown-id", "stdio", sampling, "FAIL  wire.id-echo"),
        ("garbage", "stdio", sampling, "FAIL  wire.json-rpc"),
        ("crash", "stdio", sampling, "FAIL  sampling/createMessage.answered"),
        ("hang", "stdio", sampling, "FAIL  client.exits"),
        // Holds the GET stream open without reading while the mock writes 1 MB to it.
        ("slow-reader", "http", "scenarios/logs/params-at-1mb.yaml", "FAIL  sampling/createMessage.answered"),
        ("wrong-session", "http", sampling, "FAIL  http.session"),
    ] {
        let r = run_fixture(mode, transport, "latest", scenario);
        assert_eq!(r.code, Some(1), "mode {mode} is a FAIL:\n{}", r.stdout);
        assert!(r.stdout.contains(check), "mode {mode}: expected `{check}`:\n{}", r.stdout);
        assert!(r.elapsed < std::time::Duration::from_secs(30), "mode {mode} took {:?}", r.elapsed);
        assert!(r.left.is_empty(), "mode {mode} left processes behind: {:#?}", r.left);
    }
}
