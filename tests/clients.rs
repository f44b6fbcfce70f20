//! The built-in suite against each third-party client profiled in `clients/`
//! (`client::<name>`), and the built-in `gateway/*` scenarios against each gateway
//! profiled in `gateways/` (`gateway::<name>`), graded against the committed
//! baseline with the run's own outcome, as `backchannel run` grades it: no unexpected
//! FAIL, no stale baseline entry, and no case or check left unjudged.
//!
//! A profile's `test_transports`, `test_scenarios` and `test_revisions` narrow what CI
//! runs for a peer whose every start costs seconds of CPU; `BACKCHANNEL_CLIENTS_FULL=1`
//! lifts them (the whole suite on every transport the peer supports, at the latest
//! revision) — except a client's `test_revisions`, which name the revisions it speaks.
//!
//! A client or gateway that is not installed is reported as ignored, with the reason
//! in the test name — unless `BACKCHANNEL_REQUIRE_CLIENTS=1` (what `.ci/run` sets after
//! `clients/setup.sh` and `gateways/setup.sh`), which makes it a failure: CI cannot
//! skip one silently.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use backchannel_harness::outcome::{RunOutcome, Verdict};
use backchannel_harness::pipeline::{self, Plan, RevisionFilter, RunOptions, Selection};
use backchannel_harness::profile::{LoadedProfile, discover};
use backchannel_harness::runner::{ClientSpec, RunConfig};
use backchannel_harness::scenario::{GATEWAY_SUITE, compile_file, discover as discover_scenarios};
use libtest_mimic::{Arguments, Failed, Trial};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(profile: LoadedProfile) -> Result<(), Failed> {
    // A client: each scenario (or those its profile's `test_scenarios` name) at its
    // latest revision (the one a client asking for the newest protocol meets; the
    // whole revision matrix is the reference client's test and `backchannel run
    // --client NAME --revision all`), on each transport the profile tests. A gateway: the gateway scenarios at every revision (or those its
    // profile tests). The plan is made with those limits — nothing is filtered away
    // after it is made — and run through the same pipeline as `backchannel run
    // --client NAME` / `--gateway NAME`.
    // `BACKCHANNEL_CLIENTS_FULL=1`: every scenario on every transport the peer supports
    // (its `test_*` limits are CI's budget, not its coverage), so every baseline entry
    // is checked for staleness.
    let full = std::env::var_os("BACKCHANNEL_CLIENTS_FULL").is_some_and(|v| v == "1");
    fn limit<T: Clone>(full: bool, l: &Option<Vec<T>>) -> Option<Vec<T>> {
        if full { None } else { l.clone() }
    }
    let transports = limit(full, &profile.profile.test_transports);
    let filters = limit(full, &profile.profile.test_scenarios).unwrap_or_default();
    // A client's `test_revisions` say which revisions it speaks (fast-agent's SDK stops
    // at 2025-06-18): kept when the other limits are lifted. A gateway's are a budget.
    let gateway = profile.profile.downstream.is_some();
    let revisions =
        if gateway { limit(full, &profile.profile.test_revisions) } else { profile.profile.test_revisions.clone() };
    let tested = revisions.map(RevisionFilter::Among);
    let scenarios = discover_scenarios(&root().join("scenarios"))?
        .iter()
        .map(|p| compile_file(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    // The gateway scenarios are for gateways; clients get the client suite.
    let scenarios: Vec<_> = scenarios.into_iter().filter(|c| gateway || !c.is_gateway_scenario()).collect();
    let (client, selection) = if gateway {
        let filters = if filters.is_empty() { vec![GATEWAY_SUITE.to_owned()] } else { filters };
        let revisions = tested.unwrap_or_default();
        (ClientSpec::Gateway(Arc::new(profile)), Selection { filters, transports, revisions, ..Selection::default() })
    } else {
        let revisions = tested.unwrap_or(RevisionFilter::Latest);
        (ClientSpec::Profile(Arc::new(profile)), Selection { filters, transports, revisions, ..Selection::default() })
    };
    let plan = Plan::new(&scenarios, &selection, &client)?;
    let options = RunOptions {
        jobs: pipeline::default_jobs(&client),
        strict: false,
        label: client.describe(),
        handle_signals: false,
    };
    let cfg = RunConfig { client, ..RunConfig::reference(PathBuf::from(env!("CARGO_BIN_EXE_backchannel"))) };
    let started = std::time::Instant::now();
    let summary = pipeline::run(&plan, cfg, &options, &mut [])?;
    // What each peer costs CI, on stderr (`cargo test --test clients -- --nocapture`).
    eprintln!("{}: {} cases in {:.0?}", options.label, plan.cases.len(), started.elapsed());
    // Judged as `backchannel run` judges it (its exit code): a FAIL or a stale baseline
    // entry fails, and so does a run that left a case or a check unjudged.
    let outcome = summary.outcome();
    if outcome == RunOutcome::Pass {
        return Ok(());
    }
    let mut errors = vec![format!("the run is {outcome:?} (exit code {})", outcome.exit_code())];
    for r in &summary.reports {
        for c in &r.checks {
            if matches!(c.final_verdict(), Verdict::Fail | Verdict::Inconclusive) {
                let v = c.final_verdict();
                errors.push(format!("{} {} [{}]: {}", v.as_str(), c.id, r.record.transport, c.evidence.summary));
            }
        }
    }
    errors.extend(summary.unjudged.iter().map(|u| format!("not judged: {}: {}", u.case, u.why)));
    errors.extend(summary.stale.iter().map(|s| format!("stale baseline entry (the client passes it now): {s}")));
    Err(errors.join("\n").into())
}

fn main() {
    let args = Arguments::from_args();
    let require = std::env::var_os("BACKCHANNEL_REQUIRE_CLIENTS").is_some_and(|v| v == "1");
    let mut trials = Vec::new();
    for (kind, dir) in [("client", "clients"), ("gateway", "gateways")] {
        let profiles = discover(&root().join(dir)).unwrap_or_else(|e| panic!("{dir}/*.yaml load: {e}"));
        for profile in profiles {
            let name = format!("{kind}::{}", profile.name);
            match profile.missing() {
                None => trials.push(Trial::test(name, move || run(profile))),
                Some(missing) if require => {
                    let why = format!("not installed ({} is missing): run {dir}/setup.sh", missing.display());
                    trials.push(Trial::test(name, move || Err(why.into())));
                }
                Some(_) => trials.push(
                    Trial::test(format!("{name} (not installed: run {dir}/setup.sh)"), || Ok(()))
                        .with_ignored_flag(true),
                ),
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
