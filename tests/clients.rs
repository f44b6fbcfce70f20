//! The built-in suite against each third-party client profiled in `clients/`
//! (`client::<name>`), and the built-in `gateway/*` scenarios against each gateway
//! profiled in `gateways/` (`gateway::<name>`), graded against the committed
//! baseline: no unexpected FAIL, and no stale baseline entry.
//!
//! A client or gateway that is not installed is reported as ignored, with the reason
//! in the test name — unless `BACKCHANNEL_REQUIRE_CLIENTS=1` (what `.ci/run` sets after
//! `clients/setup.sh` and `gateways/setup.sh`), which makes it a failure: CI cannot
//! skip one silently.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use backchannel_harness::outcome::Verdict;
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
    // profile tests). Through the
    // same pipeline as `backchannel run --client NAME` / `--gateway NAME`.
    let transports = profile.profile.test_transports.clone().unwrap_or_else(|| profile.profile.transports.clone());
    let revisions = profile.profile.test_revisions.clone();
    let scenarios = discover_scenarios(&root().join("scenarios"))?
        .iter()
        .map(|p| compile_file(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let gateway = profile.profile.downstream.is_some();
    // The gateway scenarios are for gateways; clients get the client suite.
    let scenarios: Vec<_> = scenarios.into_iter().filter(|c| gateway || !c.is_gateway_scenario()).collect();
    let (client, selection) = if gateway {
        let filters = vec![GATEWAY_SUITE.to_owned()];
        (ClientSpec::Gateway(Arc::new(profile)), Selection { filters, ..Selection::default() })
    } else {
        (
            ClientSpec::Profile(Arc::new(profile)),
            Selection { revisions: RevisionFilter::Latest, ..Selection::default() },
        )
    };
    let mut plan = Plan::new(&scenarios, &selection, &client)?;
    plan.cases
        .retain(|c| transports.contains(&c.transport) && revisions.as_ref().is_none_or(|r| r.contains(&c.revision)));
    let options = RunOptions {
        jobs: pipeline::default_jobs(&client),
        strict: false,
        label: client.describe(),
        handle_signals: false,
    };
    let cfg = RunConfig { client, ..RunConfig::reference(PathBuf::from(env!("CARGO_BIN_EXE_backchannel"))) };
    let summary = pipeline::run(&plan, cfg, &options, &mut [])?;
    let mut errors = Vec::new();
    for r in &summary.reports {
        for c in &r.checks {
            if c.final_verdict() == Verdict::Fail {
                errors.push(format!("FAIL {} [{}]: {}", c.id, r.record.transport, c.evidence.summary));
            }
        }
    }
    errors.extend(summary.stale.iter().map(|s| format!("stale baseline entry (the client passes it now): {s}")));
    if errors.is_empty() { Ok(()) } else { Err(errors.join("\n").into()) }
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
