//! `--report json|junit|html`: a run against a broken fixture writes all three
//! files (and the terminal report); the JSON validates against the committed
//! schema and is pinned by a snapshot, the JUnit XML has the shape CI systems read
//! (checked element by element against the common JUnit XSD) and is pinned too, and
//! the HTML is self-contained and marks what failed. Headless Chromium renders the
//! HTML when it is installed (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::events::Event as Xml;
use serde_json::Value;

use crate::snapshots::filters;
use crate::support::{exe, root};

struct Reports {
    _dir: tempfile::TempDir,
    stdout: String,
    code: i32,
    json: PathBuf,
    junit: PathBuf,
    html: PathBuf,
}

/// The leaky fixture on two scenarios over stdio: one FAIL (a leak) and passes.
fn failing_run() -> Reports {
    let dir = tempfile::tempdir().unwrap();
    let (json, junit, html) = (dir.path().join("r.json"), dir.path().join("r.xml"), dir.path().join("r.html"));
    let client = format!("{} --mode leak --", env!("CARGO_BIN_EXE_backchannel-broken-client"));
    let out = Command::new(exe())
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(["run", "--transport", "stdio", "--revision", "latest", "--jobs", "2"])
        .args(["scenarios/sampling/undeclared.yaml", "scenarios/roots/undeclared.yaml", "--client-cmd", &client])
        .arg(format!("--report=json={}", json.display()))
        .arg(format!("--report=junit={}", junit.display()))
        .arg(format!("--report=html={}", html.display()))
        .output()
        .unwrap();
    Reports {
        _dir: dir,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        code: out.status.code().unwrap_or(-1),
        json,
        junit,
        html,
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn committed_report_schema_is_current() {
    let generated = backchannel_harness::report::json::schema();
    let path = root().join("harness/report.schema.json");
    if std::env::var_os("BACKCHANNEL_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == generated,
        "harness/report.schema.json is stale: run `cargo run -q -p backchannel-harness -- schema --report > harness/report.schema.json` (or rerun this test with BACKCHANNEL_BLESS=1)"
    );
}

#[test]
fn a_failing_run_writes_all_reports() {
    let r = failing_run();
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("Not passed:"), "{}", r.stdout);

    // JSON: valid against the committed schema, versioned, with the official fields.
    let json: Value = serde_json::from_str(&read(&r.json)).unwrap();
    let schema: Value = serde_json::from_str(&read(&root().join("harness/report.schema.json"))).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&json).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let leak = json["runs"][0]["cases"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "logs.no-canary-at-warning")
        .expect("the leak check");
    assert_eq!(leak["status"], "FAILURE");
    assert_eq!(leak["verdict"], "FAIL");
    assert_eq!(leak["specReferences"][0]["id"], "policy/no-params-at-warning");
    assert!(leak["errorMessage"].as_str().unwrap().contains("canary"), "{leak}");
    assert!(!read(&r.json).contains("bc-canary-"), "the report spreads the canary");
    insta::with_settings!({ filters => filters() }, {
        insta::assert_json_snapshot!("report_json", json, {
            ".runs[].started_at" => "[time]",
            ".runs[].duration_ms" => "[ms]",
            ".runs[].cases[].duration_ms" => "[ms]",
            ".runs[].cases[].checks[].timestamp" => "[time]",
            ".runs[].cases[].stderr_tail" => "[stderr]",
            ".runs[].plan.scenarios" => "[sha256]",
            ".runs[].plan.digest" => "[sha256]",
        });
    });

    // JUnit: the XSD's shape, then a snapshot.
    let xml = read(&r.junit);
    check_junit_shape(&xml);
    assert!(xml.contains("<failure"), "{xml}");
    let time = regex::Regex::new(r#"(time|timestamp)="[^"]*""#).unwrap();
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!("report_junit", time.replace_all(&xml, r#"$1="[t]""#));
    });

    // HTML: self-contained, the failed case open with its diagram and the leaking line marked.
    let html = read(&r.html);
    for needle in [
        "<details class=\"case c-FAIL\"",
        "class=\"msg c2s",
        "class=\"msg s2c",
        "class=offending",
        "<mark>{{canary}}</mark>",
    ] {
        assert!(html.contains(needle), "the HTML lacks {needle}");
    }
    for external in ["<script", "src=\"http", "href=\"http://", "@import", "url("] {
        assert!(!html.contains(external), "the HTML loads something: {external}");
    }
    assert!(!html.contains("bc-canary-"), "the HTML spreads the canary");
}

/// The JUnit XSD (the Jenkins/Ant shape GitHub, GitLab and Buildkite read):
/// `testsuites` > `testsuite[name, tests, failures, errors]` > `testcase[name,
/// classname]` > at most one of `failure[message, type]`, `error`, `skipped`, then
/// optional `system-out` / `system-err` / `properties`.
fn check_junit_shape(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let (mut suites, mut cases, mut failures) = (0, 0, 0);
    loop {
        let ev = reader.read_event().unwrap_or_else(|e| panic!("not well-formed XML: {e}"));
        let (el, empty) = match &ev {
            Xml::Start(e) => (Some(e.clone()), false),
            Xml::Empty(e) => (Some(e.clone()), true),
            Xml::End(_) => {
                stack.pop();
                continue;
            }
            Xml::Eof => break,
            _ => continue,
        };
        let Some(el) = el else { continue };
        let name = String::from_utf8_lossy(el.name().as_ref()).into_owned();
        let attrs: Vec<String> =
            el.attributes().map(|a| String::from_utf8_lossy(a.unwrap().key.as_ref()).into_owned()).collect();
        let has = |k: &str| attrs.iter().any(|a| a == k);
        let parent = stack.last().map(String::as_str);
        match name.as_str() {
            "testsuites" => assert_eq!(parent, None),
            "testsuite" => {
                assert_eq!(parent, Some("testsuites"));
                assert!(["name", "tests", "failures", "errors"].iter().all(|k| has(k)), "{attrs:?}");
                suites += 1;
            }
            "testcase" => {
                assert_eq!(parent, Some("testsuite"));
                assert!(has("name") && has("classname"), "{attrs:?}");
                cases += 1;
            }
            "failure" => {
                assert_eq!(parent, Some("testcase"));
                assert!(has("message") && has("type"), "{attrs:?}");
                failures += 1;
            }
            "error" | "skipped" | "system-out" | "system-err" => assert_eq!(parent, Some("testcase")),
            "properties" => assert!(matches!(parent, Some("testsuite" | "testcase"))),
            "property" => {
                assert_eq!(parent, Some("properties"));
                assert!(has("name") && has("value"));
            }
            other => panic!("unexpected element <{other}> under {parent:?}"),
        }
        if !empty {
            stack.push(name);
        }
    }
    assert!(suites >= 2 && cases > 10 && failures >= 1, "{suites} suites, {cases} cases, {failures} failures");
    // And quick-junit reads it back with the same counts.
    let back = quick_junit::Report::deserialize_from_str(xml).expect("quick-junit reads it back");
    assert_eq!(back.tests, cases);
    assert_eq!(back.failures, failures);
}

#[test]
fn a_passing_run_writes_all_reports_too() {
    let dir = tempfile::tempdir().unwrap();
    let (json, junit, html) = (dir.path().join("r.json"), dir.path().join("r.xml"), dir.path().join("r.html"));
    let out = Command::new(exe())
        .current_dir(root())
        .args(["run", "--transport", "stdio", "--revision", "latest", "scenarios/ping/empty-result.yaml"])
        .arg(format!("--report=json={}", json.display()))
        .arg(format!("--report=junit={}", junit.display()))
        .arg(format!("--report=html={}", html.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("PASS: 1 cases"));
    assert!(read(&junit).contains("failures=\"0\""));
    let v: Value = serde_json::from_str(&read(&json)).unwrap();
    assert_eq!(v["format"], "backchannel-report");
    assert_eq!(v["version"], 1);
    assert_eq!(v["runs"][0]["totals"]["failed"], 0);
    assert!(v["runs"][0]["cases"][0]["checks"].as_array().unwrap().iter().all(|c| c["status"] == "SUCCESS"));
    assert!(!read(&html).contains("class=\"case c-FAIL\""));
}

#[test]
fn an_unwritable_report_path_is_a_setup_error() {
    let out = Command::new(exe())
        .current_dir(root())
        .args(["run", "--transport", "stdio", "--revision", "latest", "scenarios/ping/empty-result.yaml"])
        .arg("--report=json=/nonexistent-dir/r.json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write a report"));
}

/// Headless Chromium renders the HTML of a failing run: a screenshot is taken and
/// the rendered DOM holds the open failed case and its sequence diagram. Skipped
/// with a message where Chromium is absent, unless `BACKCHANNEL_REQUIRE_CHROMIUM=1`
/// (what `.ci/run` sets after installing it).
#[test]
fn chromium_renders_the_html_report() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        assert!(
            std::env::var_os("BACKCHANNEL_REQUIRE_CHROMIUM").is_none_or(|v| v != "1"),
            "Chromium is required (BACKCHANNEL_REQUIRE_CHROMIUM=1) but not installed: run .ci/setup-chromium"
        );
        eprintln!("SKIPPED chromium_renders_the_html_report: no chromium on PATH (install it with .ci/setup-chromium)");
        return;
    };
    let r = failing_run();
    let shot = r.html.with_extension("png");
    let url = format!("file://{}", r.html.display());
    let headless = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1600"];
    let out = Command::new(chromium)
        .args(headless)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    let png = std::fs::read(&shot)
        .unwrap_or_else(|e| panic!("no screenshot ({e}); chromium said: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Width and height from the IHDR chunk.
    let (w, h) =
        (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()));
    assert_eq!((w, h), (1280, 1600));
    assert!(png.len() > 20_000, "the screenshot is nearly blank ({} bytes)", png.len());
    if let Some(keep) = std::env::var_os("BACKCHANNEL_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    let dom = Command::new(chromium).args(headless).arg("--dump-dom").arg(&url).output().unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("class=\"case c-FAIL\"") && dom.contains("open"), "the failed case is not open");
    assert!(dom.contains("client under test") && dom.contains("mock server"), "no sequence diagram lanes");
}

/// A gateway case is drawn in three lanes — downstream client, gateway, upstream
/// server — in the HTML, and the terminal's evidence says where a request went: the
/// broken gateway that swallows sampling requests shows one stopping at the gateway,
/// and the relayed elicitation going through to the client and back.
#[test]
fn a_gateway_case_is_drawn_in_three_lanes_and_the_lost_request_stops_at_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let gateway = format!("{} --mode drop -- {{server_argv}}", env!("CARGO_BIN_EXE_backchannel-broken-gateway"));
    let out = Command::new(exe())
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(["run", "--revision", "latest", "--downstream", "stdio", "--honours", "sampling,elicitation"])
        .args(["scenarios/gateway/sampling-relayed.yaml", "scenarios/gateway/elicitation-relayed.yaml"])
        .args(["--gateway-cmd", &gateway])
        .arg(format!("--report=html={}", html.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("path:     server → gateway, and no further: it did not reach the downstream client"),
        "{stdout}"
    );
    let html = read(&html);
    for needle in [
        "<span>downstream client</span><span>gateway</span><span>upstream server (mock)</span>",
        " — did not reach the downstream client",
        "elicitation/create (id ",
    ] {
        assert!(html.contains(needle), "the HTML lacks {needle}");
    }
}
