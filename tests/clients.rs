//! The built-in suite against each third-party client profiled in `clients/`
//! (`client::<name>`), graded against the client's committed baseline: no
//! unexpected FAIL, and no stale baseline entry.
//!
//! A client that is not installed is reported as ignored, with the reason in the
//! test name — unless `BACKCHANNEL_REQUIRE_CLIENTS=1` (what `.ci/run` sets after
//! `clients/setup.sh`), which makes it a failure: CI cannot skip a client silently.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use backchannel_harness::check::Verdict;
use backchannel_harness::profile::{LoadedProfile, discover};
use backchannel_harness::runner::{CaseProgress, ClientSpec, RunConfig, run_cases};
use backchannel_harness::scenario::{compile_file, discover as discover_scenarios};
use libtest_mimic::{Arguments, Failed, Trial};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(profile: LoadedProfile) -> Result<(), Failed> {
    // Each scenario at its latest revision (the one a client asking for the newest
    // protocol meets; the whole revision matrix is the reference client's test and
    // `backchannel run --client-profile NAME --revision all`), on each transport the
    // profile tests.
    let transports = profile.profile.test_transports.clone().unwrap_or_else(|| profile.profile.transports.clone());
    let mut planned = Vec::new();
    for path in discover_scenarios(&root().join("scenarios"))? {
        let compiled = Arc::new(compile_file(&path).map_err(|e| e.to_string())?);
        let Some(r) = compiled.scenario.revisions.iter().max().copied() else { continue };
        for t in compiled.scenario.transports.clone() {
            if transports.contains(&t) && r.has_transport(t) {
                planned.push((compiled.clone(), t, r));
            }
        }
    }
    let baseline = profile.baseline.clone();
    let cfg = RunConfig {
        client: ClientSpec::Profile(Arc::new(profile)),
        ..RunConfig::reference(PathBuf::from(env!("CARGO_BIN_EXE_backchannel")))
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    rt.block_on(run_cases(planned, Arc::new(cfg), 2, |p| {
        if let CaseProgress::Finished(_, result) = p {
            match *result {
                Ok(report) => reports.push(report),
                Err((label, e)) => errors.push(format!("{label}: {e}")),
            }
        }
    }));
    let applied = baseline.apply(&mut reports, false);
    for r in &reports {
        for c in &r.checks {
            if c.final_verdict(false) == Verdict::Fail {
                errors.push(format!("FAIL {} [{}]: {}", c.id, r.transport, c.evidence.summary));
            }
        }
    }
    errors.extend(applied.stale.iter().map(|s| format!("stale baseline entry (the client passes it now): {s}")));
    if errors.is_empty() { Ok(()) } else { Err(errors.join("\n").into()) }
}

fn main() {
    let args = Arguments::from_args();
    let require = std::env::var_os("BACKCHANNEL_REQUIRE_CLIENTS").is_some_and(|v| v == "1");
    let profiles = discover(&root().join("clients")).expect("clients/*.yaml load");
    let mut trials = Vec::new();
    for profile in profiles {
        let name = format!("client::{}", profile.name);
        match profile.missing() {
            None => trials.push(Trial::test(name, move || run(profile))),
            Some(missing) if require => {
                let why = format!("not installed ({} is missing): run clients/setup.sh", missing.display());
                trials.push(Trial::test(name, move || Err(why.into())));
            }
            Some(_) => trials.push(
                Trial::test(format!("{name} (not installed: run clients/setup.sh)"), || Ok(())).with_ignored_flag(true),
            ),
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
