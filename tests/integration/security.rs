//! The kit's own hygiene, end to end: a run over every transport never shows a
//! canary (the params it sent) in the harness's output or the mocks' logs, nor in
//! the reference client's log at WARNING or above; and a run writes nothing outside
//! its temporary directory, which it cleans up, unless `--keep` asks for it.

use std::path::Path;

use crate::support::{exe, root};

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out
}

#[test]
fn no_canary_leaks_from_the_kit_itself() {
    let keep = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(exe())
        .current_dir(root())
        .args([
            "run",
            "--transport",
            "all",
            "--revision",
            "latest",
            "scenarios/logs",
            "scenarios/sampling",
            "scenarios/mrtr",
        ])
        .arg("--keep")
        .arg(keep.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(!String::from_utf8_lossy(text).contains("bc-canary-"), "the harness's {name} shows a canary");
    }
    let files = files_under(keep.path());
    let mocks: Vec<_> = files.iter().filter(|f| f.ends_with("mock-stderr.log")).collect();
    let clients: Vec<_> =
        files.iter().filter(|f| f.ends_with("stderr.log") && !f.ends_with("mock-stderr.log")).collect();
    assert!(clients.len() >= 20, "{} client logs kept", clients.len());
    for f in mocks {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(!text.contains("bc-canary-"), "{} shows a canary", f.display());
    }
    // The reference client logs the params at DEBUG only; these scenarios run it at
    // INFO, except logs/params-at-debug, whose canary lines must be DEBUG lines.
    for f in clients {
        for line in std::fs::read_to_string(f).unwrap().lines().filter(|l| l.contains("bc-canary-")) {
            assert!(line.contains("DEBUG"), "{}: a canary outside DEBUG: {line}", f.display());
        }
    }
}

#[test]
fn a_run_writes_only_inside_its_temporary_directory() {
    let work = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("scenarios/sampling/undeclared.yaml"), work.path().join("s.yaml")).unwrap();
    let out = std::process::Command::new(exe())
        .current_dir(work.path())
        .env("TMPDIR", tmp.path())
        .args(["run", "--transport", "all", "--revision", "latest", "s.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let written: Vec<_> = files_under(work.path()).into_iter().filter(|f| !f.ends_with("s.yaml")).collect();
    assert!(written.is_empty(), "written in the working directory: {written:?}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}
