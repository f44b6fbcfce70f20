//! The built-in suite against each third-party client profiled in `clients/`
//! (`client::<name>`), and the built-in `gateway/*` scenarios against each gateway
//! profiled in `gateways/` (`gateway::<name>`), graded against the committed
//! baseline with the run's own outcome, as `backchannel run` grades it: no unexpected
//! FAIL, no stale baseline entry, and no case or check left unjudged.
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
    // A client: each scenario at its latest revision (the one a client asking for the
    // newest protocol meets; the whole revision matrix is the reference client's test
    // and `backchannel run --client NAME --revision all`), on each transport the
    // profile tests. A gateway: the gateway scenarios at every revision (or those its
    // profile tests). The plan is made with those limits — nothing is filtered away
    // after it is made — and run through the same pipeline as `backchannel run
    // --client NAME` / `--gateway NAME`.
    let transports = profile.profile.test_transports.clone();
    let tested = profile.profile.test_revisions.clone().map(RevisionFilter::Among);
    let scenarios = discover_scenarios(&root().join("scenarios"))?
        .iter()
        .map(|p| compile_file(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let gateway = profile.profile.downstream.is_some();
    // The gateway scenarios are for gateways; clients get the client suite.
    let scenarios: Vec<_> = scenarios.into_iter().filter(|c| gateway || !c.is_gateway_scenario()).collect();
    let (client, selection) = if gateway {
        let filters = vec![GATEWAY_SUITE.to_owned()];
        let revisions = tested.unwrap_or_default();
        (ClientSpec::Gateway(Arc::new(profile)), Selection { filters, transports, revisions, ..Selection::default() })
    } else {
        let revisions = tested.unwrap_or(RevisionFilter::Latest);
        (ClientSpec::Profile(Arc::new(profile)), Selection { transports, revisions, ..Selection::default() })
    };
    let plan = Plan::new(&scenarios, &selection, &client)?;
    let options = RunOptions {
        jobs: pipeline::default_jobs(&client),
        strict: false,
        label: client.describe(),
        handle_signals: false,
    };
    let cfg = RunConfig { client, ..RunConfig::reference(PathBuf::from(env!("CARGO_BIN_EXE_backchannel"))) };
    let summary = pipeline::run(&plan, cfg, &options, &mut [])?;
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
