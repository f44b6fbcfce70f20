//! Verdicts that hold: what a client legitimately does not implement is N/A, not
//! FAIL; nothing is lost silently (a panicking case, output past the capture cap);
//! an interrupted run leaves no process behind and says so.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{exe, processes_with, root};

fn fixture(mode: &str) -> String {
    format!("{} --mode {mode} --", env!("CARGO_BIN_EXE_backchannel-broken-client"))
}

fn backchannel(args: &[&str]) -> Command {
    let mut cmd = Command::new(exe());
    cmd.current_dir(root()).env("NO_COLOR", "1").args(args);
    cmd
}

fn json_report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap()
}

/// Every check of the report with this final verdict, as `<scenario>:<check>`.
fn with_verdict(report: &Value, verdict: &str) -> Vec<String> {
    report["runs"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["checks"].as_array().unwrap().iter())
        .filter(|k| k["verdict"] == verdict)
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_client_that_reads_no_knob_passes_everywhere_with_n_a() {
    let dir = tempfile::tempdir().unwrap();
    let report = format!("--report=json={}", dir.path().join("r.json").display());
    // A fast native client: many cases at once.
    let out =
        backchannel(&["run", "--jobs", "24", "--client-cmd", &fixture("unconfigurable"), &report]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "every transport, every revision:\n{stdout}");
    let r = json_report(dir.path());
    assert_eq!(r["runs"][0]["outcome"], "PASS");
    let na = with_verdict(&r, "N/A");
    for id in [
        "capabilities/roots-declared-when-configured:capabilities.present",
        "capabilities/elicitation-modes-declared:capabilities.present",
        "capabilities/elicitation-modes-declared:form.result",
        "capabilities/elicitation-modes-declared:url.result",
        "roots/configured:roots/list.result",
        "mrtr/two-rounds:first.retried",
    ] {
        assert!(na.iter().any(|n| n == id), "{id} is N/A: {na:?}");
    }
    assert!(stdout.contains("not applicable"), "{stdout}");
    // Claiming the knobs it does not take up turns N/A into FAIL.
    let out = backchannel(&[
        "run",
        "--transport",
        "stdio",
        "--revision",
        "latest",
        "scenarios/roots/configured.yaml",
        "--client-cmd",
        &fixture("unconfigurable"),
        "--honours",
        "roots",
    ])
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  client.configured"), "{stdout}");
    assert!(stdout.contains("FAIL  roots/list.result"), "{stdout}");
}

#[test]
fn the_minimal_example_client_passes_over_stdio_at_every_revision() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: no python3");
        return;
    }
    let out = backchannel(&[
        "run",
        "--transport",
        "stdio",
        "--jobs",
        "8",
        "--client-cmd",
        "python3 examples/minimal_client.py",
    ])
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // It speaks no 2026-07-28: not a failure.
    assert!(stdout.contains("N/A   session.modern"), "{stdout}");
}

#[test]
fn a_case_whose_checks_panic_makes_the_run_incomplete_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let out = backchannel(&[
        "run",
        "--transport",
        "stdio",
        "--revision",
        "latest",
        "scenarios/ping/empty-result.yaml",
        "scenarios/sampling/undeclared.yaml",
        &format!("--report=json={d}/r.json"),
        &format!("--report=junit={d}/r.xml"),
        &format!("--report=html={d}/r.html"),
    ])
    .env("BACKCHANNEL_FIXTURE_PANIC_IN_CHECKS", "sampling/undeclared")
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("INCOMPLETE"), "{stdout}");
    assert!(stdout.contains("NOT JUDGED sampling/undeclared [stdio 2025-11-25]"), "{stdout}");
    assert!(stdout.contains("PASS ping/empty-result"), "the other case is still reported:\n{stdout}");
    let r = json_report(dir.path());
    assert_eq!(r["runs"][0]["outcome"], "INCOMPLETE");
    assert_eq!(r["runs"][0]["unjudged"][0]["case"], "sampling/undeclared [stdio 2025-11-25]");
    assert!(r["runs"][0]["unjudged"][0]["why"].as_str().unwrap().contains("panicked"));
    let junit = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(junit.contains("sampling/undeclared [stdio 2025-11-25]") && junit.contains("unjudged"), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("NOT JUDGED") && html.contains("INCOMPLETE"));
}

#[test]
fn a_leak_past_the_capture_cap_is_inconclusive_not_pass() {
    let out = backchannel(&[
        "run",
        "--transport",
        "stdio",
        "--revision",
        "latest",
        "scenarios/logs/warning-without-params.yaml",
        "--client-cmd",
        &fixture("log-flood"),
    ])
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("INCONCLUSIVE logs.no-canary-at-warning"), "{stdout}");
}

#[test]
fn an_empty_plan_is_a_usage_error_that_says_why() {
    let out = backchannel(&["run", "--revision", "2026-07-28", "--transport", "sse"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no case to run") && stderr.contains("2026-07-28"), "{stderr}");
}

#[test]
fn sigint_and_sigterm_stop_the_run_and_leave_no_process() {
    for (signal, code) in [(nix::sys::signal::Signal::SIGINT, 130), (nix::sys::signal::Signal::SIGTERM, 143)] {
        let dir = tempfile::tempdir().unwrap();
        let marker = format!("BACKCHANNEL_SIGNAL_MARKER={signal}-{}", std::process::id());
        let (key, value) = marker.split_once('=').unwrap();
        // A client that hangs (and ignores SIGTERM): every case would run to its timeout.
        let mut child = backchannel(&[
            "run",
            "--transport",
            "stdio",
            "--client-cmd",
            &format!("sh -c 'trap \"\" TERM INT; exec \"$0\" \"$@\"' {}", fixture("hang")),
            &format!("--report=json={}", dir.path().join("r.json").display()),
        ])
        .env(key, value)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        // Wait until cases are running.
        let started = Instant::now();
        while processes_with(&marker).len() < 3 && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(processes_with(&marker).len() >= 3, "the run never got going");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
        let stopped = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(stopped.elapsed() < Duration::from_secs(20), "{signal} did not stop the run");
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stdout = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        assert_eq!(status.code(), Some(code), "{signal}:\n{stdout}");
        assert!(stdout.contains("INTERRUPTED"), "{stdout}");
        let left = processes_with(&marker);
        assert!(left.is_empty(), "{signal} left processes behind: {left:#?}");
        let r = json_report(dir.path());
        assert_eq!(r["runs"][0]["outcome"], "INTERRUPTED");
        assert_eq!(r["runs"][0]["interrupted"], code - 128);
    }
}
