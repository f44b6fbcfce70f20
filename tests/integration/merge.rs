//! `backchannel report merge`: the reports of `--shard 1/3`, `2/3` and `3/3` merge
//! into the report of the unsharded run, check for check; reports that do not belong
//! together are refused with the file named; a missing shard makes the run
//! incomplete.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{exe, root};

/// A leaky fixture client (some FAILs, many passes) on three areas over stdio.
fn run(dir: &Path, name: &str, shard: Option<&str>) -> PathBuf {
    let json = dir.join(format!("{name}.json"));
    let client = format!("{} --mode leak --", env!("CARGO_BIN_EXE_backchannel-broken-client"));
    let mut cmd = Command::new(exe());
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .args(["run", "--transport", "stdio", "--jobs", "4", "--client-cmd", &client])
        .args(["scenarios/sampling", "scenarios/roots", "scenarios/logs"])
        .arg(format!("--report=json={}", json.display()));
    if let Some(s) = shard {
        cmd.args(["--shard", s]);
    }
    let out = cmd.output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    json
}

fn merge(args: &[&Path], extra: &[String]) -> Output {
    Command::new(exe())
        .current_dir(root())
        .env("NO_COLOR", "1")
        .arg("report")
        .arg("merge")
        .args(args)
        .args(extra)
        .output()
        .unwrap()
}

fn load(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A check as compared: (id, verdict, status).
type Judged = (String, String, String);

/// Per case, in order: the case and its checks.
fn verdicts(report: &Value) -> Vec<(String, Vec<Judged>)> {
    report["runs"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let case = format!("{} [{} {}]", c["scenario"], c["transport"], c["revision"]);
            let checks = c["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| (k["id"].to_string(), k["verdict"].to_string(), k["status"].to_string()))
                .collect();
            (case, checks)
        })
        .collect()
}

#[test]
fn merged_shards_equal_the_unsharded_run_and_strangers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let full = run(d, "full", None);
    let shards: Vec<PathBuf> = (1..=3).map(|k| run(d, &format!("s{k}"), Some(&format!("{k}/3")))).collect();
    let merged = d.join("merged.json");
    let (junit, html) = (d.join("merged.xml"), d.join("merged.html"));
    let out = merge(
        &[&shards[2], &shards[0], &shards[1]],
        &[
            format!("--report=json={}", merged.display()),
            format!("--report=junit={}", junit.display()),
            format!("--report=html={}", html.display()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (full_v, merged_v) = (load(&full), load(&merged));
    assert_eq!(out.status.code(), Some(1), "the merged run fails as the unsharded one does:\n{stdout}");
    assert!(stdout.contains("logs.no-canary-at-warning"), "the not-passed table names the leak:\n{stdout}");
    assert_eq!(verdicts(&merged_v), verdicts(&full_v), "check for check, in plan order");
    assert!(verdicts(&full_v).len() > 20);
    let run = |v: &Value, k: &str| v["runs"][0][k].clone();
    for key in ["totals", "outcome", "planned", "unjudged", "stale_baseline", "strict", "client"] {
        assert_eq!(run(&merged_v, key), run(&full_v, key), "{key}");
    }
    assert!(std::fs::read_to_string(&junit).unwrap().contains("<testsuites"));
    assert!(std::fs::read_to_string(&html).unwrap().contains("no-canary-at-warning"));

    // A missing shard: incomplete, and it says which.
    let out = merge(&[&shards[0], &shards[1]], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("shard 3/3"), "{}", String::from_utf8_lossy(&out.stdout));
    // One shard twice.
    let out = merge(&[&shards[0], &shards[0], &shards[1], &shards[2]], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 1/3 is given twice"));
    // Another backchannel version.
    let mut other = load(&shards[1]);
    other["tool"]["version"] = "0.0.1-other".into();
    let other_path = d.join("other-version.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let out = merge(&[&shards[0], &other_path, &shards[2]], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("other-version.json") && err.contains("0.0.1-other"), "{err}");
    // Other scenarios (another version of them).
    let mut other = load(&shards[1]);
    other["runs"][0]["plan"]["scenarios"] = "0000".into();
    std::fs::write(&other_path, other.to_string()).unwrap();
    let out = merge(&[&shards[0], &other_path, &shards[2]], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its scenarios differ"));
    // Not a report at all.
    std::fs::write(&other_path, "{\"format\": \"something-else\"}").unwrap();
    let out = merge(&[&other_path], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a backchannel JSON report"));
}
