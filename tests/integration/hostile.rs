//! Hostile scenario files (`tests/fixtures/hostile-scenarios/`): alias bombs, deep
//! nesting, huge inputs, unknown fields, wrong types. Each gets a clear error naming
//! the file and the line, exit code 2 from `backchannel check`, in bounded time.

use std::time::{Duration, Instant};

use crate::support::{exe, root};

fn check(path: &std::path::Path) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let out = std::process::Command::new(exe()).current_dir(root()).arg("check").arg(path).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned(), started.elapsed())
}

#[test]
fn every_hostile_scenario_is_refused_with_file_and_line() {
    let dir = root().join("tests/fixtures/hostile-scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus is missing: {}", dir.display());
    let located = regex::Regex::new(r"hostile-scenarios/[a-z0-9-]+\.yaml:(\d+):(\d+): ").unwrap();
    for f in files {
        let (code, stderr, took) = check(&f);
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(took < Duration::from_secs(10), "{name} took {took:?}");
        let caps = located.captures(&stderr).unwrap_or_else(|| panic!("{name}: no file:line:column in {stderr}"));
        assert!(caps[1].parse::<u32>().unwrap() >= 1, "{name}: {stderr}");
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let limit = backchannel_harness::scenario::load::MAX_FILE_BYTES as usize;
    std::fs::write(&path, format!("title: t\nsteps: []\n# {}\n", "x".repeat(limit))).unwrap();
    let (code, stderr, took) = check(&path);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("huge.yaml") && stderr.contains("limit"), "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
