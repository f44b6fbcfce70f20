//! The `backchannel` command line: exit codes and what it prints.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::root;

fn backchannel() -> Command {
    let mut cmd = Command::cargo_bin("backchannel").unwrap();
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

fn broken(mode: &str) -> String {
    format!("{} --mode {mode} --", env!("CARGO_BIN_EXE_backchannel-broken-client"))
}

#[test]
fn run_passes_the_builtin_suite_against_the_reference_client() {
    backchannel()
        .args(["run", "--strict", "--revision", "latest"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 failed, 0 warned"));
}

#[test]
fn run_exits_1_naming_the_failed_check() {
    backchannel()
        .args([
            "run",
            "--transport",
            "stdio",
            "--revision",
            "latest",
            "scenarios/sampling/undeclared.yaml",
            "--client-cmd",
            &broken("result"),
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  capabilities.honest"))
        .stdout(predicate::str::contains("sampling/undeclared:sampling/createMessage.error"));
}

#[test]
fn should_violations_warn_and_fail_under_strict() {
    let args = ["run", "--transport", "stdio", "scenarios/sampling/undeclared.yaml", "--client-cmd"];
    backchannel()
        .args(args)
        .arg(broken("minus-32600"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("WARN  sampling/createMessage.error-code"));
    backchannel().args(args).arg(broken("minus-32600")).arg("--strict").assert().code(1);
}

#[test]
fn misspelled_field_exits_2_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.yaml");
    std::fs::write(&file, "title: typo\nsteps:\n  - request:\n      method: ping\n      parmas: {}\n").unwrap();
    for sub in ["run", "check"] {
        backchannel()
            .arg(sub)
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{}:5:7: unknown field `parmas`", file.display())));
    }
}

#[test]
fn check_accepts_the_builtin_scenarios() {
    backchannel()
        .args(["check", "scenarios"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("ok  sampling/undeclared"));
}

#[test]
fn usage_errors_exit_2() {
    backchannel().arg("frobnicate").assert().code(2);
    backchannel()
        .args(["run", "no/such/path.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such file or directory"));
    backchannel().args(["run", "--client-cmd", "'unclosed"]).assert().code(2);
}

#[test]
fn help_documents_exit_codes() {
    backchannel()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("1    at least one check FAILed"))
        .stdout(predicate::str::contains("130  interrupted by SIGINT"));
}

#[test]
fn list_shows_scenarios_and_specs() {
    backchannel()
        .arg("list")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("roots/undeclared"))
        .stdout(predicate::str::contains(
            "revisions: 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25 · transports: stdio, http, sse",
        ))
        .stdout(predicate::str::contains("sends: roots/list (MRTR)"))
        // A MUST expectation on a rule that is SHOULD in early revisions, graded per revision.
        .stdout(predicate::str::contains("SHOULD at 2024-11-05: MCP 2024-11-05 basic/lifecycle.mdx"))
        .stdout(predicate::str::contains("MUST   at 2025-11-25: MCP 2025-11-25 basic/lifecycle.mdx"))
        .stdout(predicate::str::contains("scenario(s)"));
    backchannel()
        .args(["list", "--specs"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("roots/unsupported-method-not-found"));
}

#[test]
fn mock_rejects_a_bad_scenario_without_touching_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "steps: []\n").unwrap();
    backchannel()
        .args(["mock", "--scenario"])
        .arg(&file)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("missing field `title`"));
}

#[test]
fn mock_ends_the_session_itself_and_exits() {
    // A client that initializes, then just waits: the mock must run its script,
    // send its closing barrier ping, give up on it, close stdout and exit without
    // waiting for stdin to close.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backchannel"))
        .current_dir(root())
        .args(["mock", "--scenario", "tests/fixtures/scenarios/no-steps.yaml"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::{BufRead, Write};
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{}},"clientInfo":{{"name":"t","version":"0"}}}}}}"#).unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#).unwrap();
    let lines: Vec<String> =
        std::io::BufReader::new(child.stdout.take().unwrap()).lines().map(Result::unwrap).collect();
    assert_eq!(lines.len(), 2, "the initialize response and the barrier: {lines:?}");
    assert!(lines[0].contains(r#""protocolVersion":"2025-06-18""#));
    assert_eq!(lines[1], r#"{"jsonrpc":"2.0","id":"backchannel-barrier","method":"ping"}"#);
    let status = child.wait().unwrap();
    assert!(status.success());
    drop(stdin);
}

/// Start `backchannel mock --scenario SCENARIO` with `args`, return the child and the
/// URL it announced.
fn start_mock(scenario: &str, args: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backchannel"))
        .current_dir(root())
        .args(["mock", "--scenario", scenario])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "listening");
    (child, v["url"].as_str().unwrap().to_owned())
}

#[test]
fn http_mock_binds_loopback_and_refuses_foreign_origins() {
    for flag in ["--http", "--sse"] {
        let (mut child, url) = start_mock("tests/fixtures/scenarios/no-steps.yaml", &[flag]);
        assert!(url.starts_with("http://127.0.0.1:"), "{flag} bound {url}");
        assert!(!url.ends_with(":0/mcp") && !url.ends_with(":0/sse"), "the port is ephemeral and real: {url}");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let http = reqwest::Client::new();
            let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
            let foreign = if flag == "--http" { http.post(&url).body(init) } else { http.get(&url) };
            let r = foreign.header("origin", "http://evil.example").header("content-type", "application/json").send().await.unwrap();
            assert_eq!(r.status(), 403, "{flag}: a foreign Origin gets 403");
            if flag == "--http" {
                let r = http
                    .post(&url)
                    .header("origin", "http://localhost:1234")
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .body(init)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "a loopback Origin is fine");
                let session = r.headers().get("mcp-session-id").unwrap().to_str().unwrap().to_owned();
                assert_eq!(session.len(), 32, "128 random bits, hex");
                assert!(session.chars().all(|c| c.is_ascii_hexdigit()));
                let r = http.post(&url).header("content-type", "application/json").body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).send().await.unwrap();
                assert_eq!(r.status(), 400, "no session header");
                let r = http
                    .post(&url)
                    .header("mcp-session-id", "0123456789abcdef0123456789abcdef")
                    .header("content-type", "application/json")
                    .body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 404, "unknown session");
            }
        });
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn the_2026_http_mock_is_sessionless_and_validates_request_headers() {
    let (mut child, url) = start_mock("scenarios/mrtr/http-param-headers.yaml", &["--http"]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;
        let post = |body: String, headers: &[(&str, &str)]| {
            let mut r = http
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(body);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send()
        };
        let v = [("mcp-protocol-version", "2026-07-28")];
        // GET and DELETE do not exist (405).
        assert_eq!(http.get(&url).send().await.unwrap().status(), 405);
        assert_eq!(http.delete(&url).send().await.unwrap().status(), 405);
        // A legacy initialize: 400 and UnsupportedProtocolVersion.
        let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
        let r = post(init.to_owned(), &[]).await.unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], -32022);
        // discover: served, and no session id minted (one sent is ignored).
        let discover = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{{{meta}}}}}"#);
        let r = post(discover.clone(), &[v[0], ("mcp-method", "server/discover"), ("mcp-session-id", "abc")]).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("mcp-session-id").is_none(), "2026-07-28 has no sessions");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["result"]["supportedVersions"][0], "2026-07-28");
        // A missing Mcp-Method, a disagreeing one, an unsupported version: 400 with the code.
        for (headers, code) in [
            (vec![v[0]], -32020),
            (vec![v[0], ("mcp-method", "tools/list")], -32020),
            (vec![("mcp-protocol-version", "2099-01-01"), ("mcp-method", "server/discover")], -32022),
        ] {
            let r = post(discover.clone(), &headers).await.unwrap();
            assert_eq!(r.status(), 400, "{headers:?}");
            assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"]["code"], code, "{headers:?}");
        }
        // tools/call: Mcp-Name and the x-mcp-header parameters are checked against the body.
        let call = format!(
            r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"backchannel_run_scenario","arguments":{{"greeting":"Hello, 世界"}},{meta}}}}}"#
        );
        let base = [v[0], ("mcp-method", "tools/call"), ("mcp-name", "backchannel_run_scenario")];
        let r = post(call.clone(), &base).await.unwrap();
        assert_eq!(r.status(), 400, "the annotated argument's header is missing");
        let mut with = base.to_vec();
        with.push(("mcp-param-greeting", "=?base64?SGVsbG8sIOS4lueVjA==?="));
        let r = post(call, &with).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers().get("content-type").unwrap(), "text/event-stream", "the trigger call streams");
        let body = r.text().await.unwrap();
        assert!(body.contains(r#""resultType":"input_required""#), "{body}");
        // An unknown method: 404 with -32601.
        let r = post(
            format!(r#"{{"jsonrpc":"2.0","id":3,"method":"nope/nope","params":{{{meta}}}}}"#),
            &[v[0], ("mcp-method", "nope/nope")],
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 404);
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_2026_http_mock_breaks_a_response_stream_and_serves_the_reissue() {
    let (mut child, url) = start_mock("scenarios/mrtr/broken-stream.yaml", &["--http"]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let call = |id: u32| {
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"backchannel_run_scenario","_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{"roots":{{}}}}}}}}}}"#
            );
            http.post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "backchannel_run_scenario")
                .body(body)
                .send()
        };
        // The first call's stream carries the notification, then breaks: the body
        // fails (no terminating chunk), and no result ever came.
        let r = call(1).await.unwrap();
        assert_eq!(r.headers().get("content-type").unwrap(), "text/event-stream");
        let mut body = Vec::new();
        let mut stream = r.bytes_stream();
        let mut failed = false;
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            match chunk {
                Ok(c) => body.extend_from_slice(&c),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&body);
        assert!(failed, "the stream must break, not end cleanly: {text}");
        assert!(text.contains("working on it") && !text.contains(r#""result""#), "{text}");
        // The re-issue (a new id) is the request in flight: it gets the round.
        let text = call(2).await.unwrap().text().await.unwrap();
        assert!(text.contains(r#""id":2"#) && text.contains(r#""resultType":"input_required""#), "{text}");
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_client_that_is_none_of_the_profiled_ones_can_be_tested() {
    // examples/minimal_client.py: standard-library Python, written to the stdio contract.
    backchannel()
        .args([
            "run",
            "--transport",
            "stdio",
            "--client-cmd",
            "python3 examples/minimal_client.py",
            "scenarios/sampling",
            "scenarios/roots",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("against `python3 examples/minimal_client.py`"))
        .stdout(predicate::str::contains("0 failed, 0 warned"));
}

#[test]
fn profiles_that_are_not_installed_are_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("ghost.yaml");
    std::fs::write(&profile, "command: \"{profile_dir}/nope\"\nrequires: [nope]\n").unwrap();
    backchannel()
        .args(["run", "--client"])
        .arg(&profile)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not installed"))
        .stderr(predicate::str::contains("clients/setup.sh"));
}

#[test]
fn a_stale_baseline_entry_fails_the_run() {
    // The minimal client passes sampling/undeclared; a baseline claiming otherwise is stale.
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("minimal.yaml");
    std::fs::write(
        &profile,
        format!(
            "command: \"python3 {}/examples/minimal_client.py\"\ntransports: [stdio]\nbaseline:\n  - check: \"sampling/undeclared:sampling/createMessage.error-code\"\n    reason: \"claimed, but not true\"\n",
            root().display()
        ),
    )
    .unwrap();
    backchannel()
        .args(["run", "scenarios/sampling/undeclared.yaml", "--client"])
        .arg(&profile)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("STALE baseline entry"));
}

#[test]
fn a_baselined_failure_is_xfail_and_passes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("minus.yaml");
    std::fs::write(
        &profile,
        format!(
            "command: \"{} --mode minus-32600 --\"\ntransports: [stdio]\nbaseline:\n  - check: \"*:*.error-code\"\n    reason: \"answers -32600\"\n",
            env!("CARGO_BIN_EXE_backchannel-broken-client")
        ),
    )
    .unwrap();
    backchannel()
        .args(["run", "--strict", "scenarios/sampling/undeclared.yaml", "--client"])
        .arg(&profile)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("XFAIL sampling/createMessage.error-code"))
        .stdout(predicate::str::contains("known:    answers -32600"));
}

#[test]
fn filter_and_shard_select_cases_and_progress_goes_to_stderr() {
    // Two ping scenarios on stdio at their latest revision: shard 1/2 runs the first.
    let out = backchannel()
        .args(["run", "--transport", "stdio", "--revision", "latest", "--filter", "ping/*", "--filter", "nothing/*"])
        .args(["--shard", "1/3", "--jobs", "1"])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 case(s) against the reference client"), "{stdout}");
    assert!(stdout.contains("PASS ping/burst [stdio 2025-11-25]"), "{stdout}");
    // Not a terminal: one plain progress line per finished case, on stderr.
    assert!(stderr.contains("[1/1] PASS ping/burst [stdio 2025-11-25]"), "{stderr}");
    backchannel()
        .args(["run", "--filter", "no/such-*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("matches no scenario"));
    backchannel().args(["run", "--shard", "3/2"]).assert().code(2).stderr(predicate::str::contains("need 1 <= K <= N"));
}

#[test]
fn run_from_an_empty_directory_uses_the_built_in_suite() {
    // What a user gets from a wheel or an npm package: no checkout, no ./scenarios.
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backchannel"))
        .current_dir(empty.path())
        .env("NO_COLOR", "1")
        .args(["run", "--revision", "latest", "--transport", "stdio", "--filter", "sampling/*"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("sampling/undeclared") && stdout.contains("PASS:"), "{stdout}");
    // The embedded suite is the repository's, file for file.
    let files = backchannel_harness::scenario::discover(&root().join("scenarios")).unwrap();
    let embedded: Vec<&str> = backchannel_harness::scenario::builtin::BUILTIN.iter().map(|(p, _)| *p).collect();
    let on_disk: Vec<String> =
        files.iter().map(|f| f.strip_prefix(root()).unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(embedded, on_disk);
    for (path, text) in backchannel_harness::scenario::builtin::BUILTIN {
        assert_eq!(std::fs::read_to_string(root().join(path)).unwrap(), *text, "{path}");
    }
}

/// `client --spawn` waits until the URL's port accepts connections; a port that
/// already accepts them before the command starts belongs to someone else, and the
/// client must not talk to it as if it were the command's.
#[test]
fn client_spawn_refuses_a_port_someone_else_already_listens_on() {
    let stranger = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = stranger.local_addr().unwrap().port();
    let out = backchannel()
        .args(["client", "--url", &format!("http://127.0.0.1:{port}/mcp"), "--spawn", "--", "sleep", "30"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("something already accepts connections"), "{stderr}");
}
