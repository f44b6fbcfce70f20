//! `backchannel run`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use clap::Args;

use super::{EXIT_FAIL, EXIT_OK, EXIT_USAGE, load_cases};
use crate::profile::LoadedProfile;
use crate::report::ReportFile;
use crate::report::event::{CaseKey, Event, Reporter, RunSummary, emit_case};
use crate::report::terminal::{TerminalReporter, Totals};
use crate::runner::{CaseProgress, CaseReport, ClientSpec, RunConfig, run_cases};
use crate::scenario::Compiled;
use crate::scenario::model::{Revision, Transport};

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files or directories (default: ./scenarios).
    paths: Vec<PathBuf>,
    /// Grade SHOULD violations as FAIL instead of WARN.
    #[arg(long)]
    strict: bool,
    /// Keep each case's trace and client logs under this directory.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Test this client instead of the reference client: a command line (shell
    /// quoting). Over stdio the mock server's argv is appended (the client launches
    /// it); over HTTP the server's URL is appended.
    #[arg(long, value_name = "'CMD ARGS'", conflicts_with = "client")]
    client_cmd: Option<String>,
    /// Test a profiled client: `clients/<NAME>.yaml`, or a path to a profile.
    #[arg(long, value_name = "NAME")]
    client: Option<String>,
    /// Which transports to run each scenario on (those it lists; default: all).
    #[arg(long, value_name = "T", default_value = "all", value_parser = ["stdio", "http", "sse", "all"])]
    transport: String,
    /// Which protocol revisions to run each scenario at (those it lists): a date,
    /// `latest` (the newest each scenario lists) or `all` (default).
    #[arg(long, value_name = "R", default_value = "all")]
    revision: String,
    /// Cases run at once (default: 8 per core, at most 64, for the reference client,
    /// whose cases wait on the wire rather than the CPU; one per core for any other
    /// client, which may be CPU-bound — see BENCHMARKS.md).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run only the scenarios whose id matches this glob (`*` matches anything,
    /// `sampling/*`, `*/undeclared`); repeatable: any match keeps a scenario.
    #[arg(long, value_name = "GLOB")]
    filter: Vec<String>,
    /// Run only shard K of N (1-based, `2/4`): the planned cases are dealt round-robin,
    /// so N CI jobs with K = 1..N run every case exactly once.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Also write a report: `json=PATH`, `junit=PATH` or `html=PATH` (repeatable).
    #[arg(long, value_name = "KIND=PATH")]
    report: Vec<ReportFile>,
}

/// Cases at once when `--jobs` is not given. The reference client's cases spend
/// their time waiting (answer windows, grace periods): the built-in suite takes
/// 205 s at one job and 7.5 s at 32 on two cores with the same verdicts
/// (BENCHMARKS.md). A third-party client may burn a core per start (LiteLLM
/// imports for ~2 s), and a starved client would miss answer windows: one per core.
pub(crate) fn default_jobs(client: &ClientSpec) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    match client {
        ClientSpec::Reference => (cores * 8).min(64),
        _ => cores,
    }
}

/// `K/N` with 1 ≤ K ≤ N.
pub(crate) fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 1/4")?;
    let (k, n): (usize, usize) =
        (k.trim().parse().map_err(|_| "K is not a number")?, n.trim().parse().map_err(|_| "N is not a number")?);
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: need 1 <= K <= N"));
    }
    Ok((k, n))
}

/// Whether a scenario id matches a `--filter` glob (`*` matches any run of characters).
pub(crate) fn glob_matches(glob: &str, id: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return glob == id;
    }
    if !id.starts_with(first) || id.len() < first.len() + last.len() || !id.ends_with(last) {
        return false;
    }
    let mut rest = &id[first.len()..id.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Keep the cases of scenarios matching any filter (all when there is none), then this shard's.
pub(crate) fn select<T>(
    planned: Vec<T>,
    id: impl Fn(&T) -> &str,
    filters: &[String],
    shard: Option<(usize, usize)>,
) -> Vec<T> {
    planned
        .into_iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|g| glob_matches(g, id(c))))
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|(k, n)| i % n == k - 1))
        .map(|(_, c)| c)
        .collect()
}

/// A filter on revisions: `all`, `latest`, or one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RevisionFilter {
    All,
    Latest,
    One(Revision),
}

impl RevisionFilter {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Self::All),
            "latest" => Ok(Self::Latest),
            other => super::mock_cmd::parse_revision(other).map(Self::One),
        }
    }

    fn keeps(self, c: &Compiled, r: Revision) -> bool {
        match self {
            Self::All => true,
            Self::Latest => c.scenario.revisions.iter().max() == Some(&r),
            Self::One(one) => one == r,
        }
    }
}

/// The (scenario, transport, revision) cases to run, in order: every listed
/// transport the client supports, at every listed revision that has it.
pub(crate) fn plan_cases(
    cases: &[Compiled],
    transport: &str,
    revisions: RevisionFilter,
    client: &ClientSpec,
) -> Vec<(Arc<Compiled>, Transport, Revision)> {
    let mut out = Vec::new();
    for c in cases {
        let c = Arc::new(c.clone());
        for t in c.scenario.transports.clone() {
            if !(transport == "all" || t.as_str() == transport) || !client.supports(t) {
                continue;
            }
            for r in c.scenario.revisions.clone() {
                if r.has_transport(t) && revisions.keeps(&c, r) {
                    out.push((c.clone(), t, r));
                }
            }
        }
    }
    out
}

/// The client to test, from `--client` / `--client-cmd`.
pub(crate) fn client_spec(client: Option<&str>, client_cmd: Option<&str>) -> Result<ClientSpec, String> {
    if let Some(line) = client_cmd {
        return match shlex::split(line) {
            Some(argv) if !argv.is_empty() => Ok(ClientSpec::Command(argv)),
            _ => Err(format!("--client-cmd: cannot split `{line}` into a command line")),
        };
    }
    let Some(name) = client else { return Ok(ClientSpec::Reference) };
    let profile = LoadedProfile::find(name)?;
    if let Some(missing) = profile.missing() {
        return Err(format!(
            "client `{}` is not installed ({} is missing): run clients/setup.sh",
            profile.name,
            missing.display()
        ));
    }
    Ok(ClientSpec::Profile(Arc::new(profile)))
}

/// A short name for the client under test, with its version when the profile can tell.
pub(crate) fn describe_client(spec: &ClientSpec) -> String {
    match spec {
        ClientSpec::Reference => "the reference client".to_owned(),
        ClientSpec::Command(argv) => format!("`{}`", argv.join(" ")),
        ClientSpec::Profile(p) => match p.version() {
            Some(v) => format!("{} {v}", p.name),
            None => p.name.clone(),
        },
    }
}

/// Run the cases, emitting their events to `reporters`; the reports come back in
/// plan order.
pub(crate) fn execute(
    planned: Vec<(Arc<Compiled>, Transport, Revision)>,
    cfg: RunConfig,
    jobs: usize,
    reporters: &mut [Box<dyn Reporter>],
) -> Result<Vec<CaseReport>, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let keys: Vec<(String, Transport, Revision)> = planned.iter().map(|(c, t, r)| (c.id.clone(), *t, *r)).collect();
    let total = keys.len();
    let key = |i: usize| CaseKey { index: i, total, scenario: &keys[i].0, transport: keys[i].1, revision: keys[i].2 };
    let mut reports = Vec::new();
    let mut error = None;
    rt.block_on(run_cases(planned, Arc::new(cfg), jobs, |p| {
        let emitted = match p {
            CaseProgress::Started(i) => reporters.iter_mut().try_for_each(|r| r.on(&Event::CaseStarted(key(i)))),
            CaseProgress::Finished(i, result) => match *result {
                Ok(report) => {
                    let done = emit_case(key(i), &report, reporters);
                    reports.push(report);
                    done
                }
                Err((label, e)) => {
                    let cause = std::error::Error::source(&e).map_or(String::new(), |s| format!(": {s}"));
                    error.get_or_insert(format!("{label}: {e}{cause}"));
                    Ok(())
                }
            },
        };
        if let Err(e) = emitted {
            error.get_or_insert(format!("cannot write a report: {e}"));
        }
    }));
    error.map_or(Ok(reports), Err)
}

pub(crate) fn run(args: RunArgs) -> u8 {
    let Some(cases) = load_cases(&args.paths) else { return EXIT_USAGE };
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot locate the backchannel executable: {e}");
            return EXIT_USAGE;
        }
    };
    let client = match client_spec(args.client.as_deref(), args.client_cmd.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let baseline = match &client {
        ClientSpec::Profile(p) => p.baseline.clone(),
        _ => Default::default(),
    };
    let who = describe_client(&client);
    let cfg = RunConfig { keep: args.keep, client, ..RunConfig::reference(exe) };
    let revisions = match RevisionFilter::parse(&args.revision) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --revision: {e}");
            return EXIT_USAGE;
        }
    };
    let planned = plan_cases(&cases, &args.transport, revisions, &cfg.client);
    let planned = select(planned, |(c, ..)| c.id.as_str(), &args.filter, args.shard);
    if planned.is_empty() && !args.filter.is_empty() && args.shard.is_none() {
        eprintln!("error: --filter {} matches no scenario", args.filter.join(", "));
        return EXIT_USAGE;
    }
    let jobs = args.jobs.unwrap_or_else(|| default_jobs(&cfg.client));
    let (started_at, started) = (SystemTime::now(), Instant::now());
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(TerminalReporter::stdio())];
    reporters.extend(args.report.iter().map(|f| Box::new(f.clone()) as Box<dyn Reporter>));
    let emit = |reporters: &mut Vec<Box<dyn Reporter>>, e: &Event<'_>| -> Result<(), String> {
        reporters.iter_mut().try_for_each(|r| r.on(e)).map_err(|e| format!("cannot write a report: {e}"))
    };
    let run_started = Event::RunStarted { client: &who, cases: planned.len() };
    if let Err(e) = emit(&mut reporters, &run_started) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    // The report prints once the whole run is in: a baseline marks checks across cases.
    let mut reports = match execute(planned, cfg, jobs, &mut reporters) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let applied = baseline.apply(&mut reports, args.strict);
    let mut totals = Totals::of(&reports, args.strict);
    totals.stale = applied.stale.len();
    let summary = RunSummary {
        client: who,
        strict: args.strict,
        reports,
        totals,
        stale: applied.stale,
        unused: applied.unused,
        elapsed: started.elapsed(),
        started_at,
    };
    if let Err(e) = emit(&mut reporters, &Event::RunFinished(&summary)) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    if totals.failed > 0 || totals.stale > 0 { EXIT_FAIL } else { EXIT_OK }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_ids() {
        assert!(glob_matches("sampling/*", "sampling/undeclared"));
        assert!(glob_matches("*/undeclared", "roots/undeclared"));
        assert!(glob_matches("*", "x/y"));
        assert!(glob_matches("ids/*-*", "ids/large-integers"));
        assert!(glob_matches("roots/undeclared", "roots/undeclared"));
        assert!(!glob_matches("roots/*", "sampling/undeclared"));
        assert!(!glob_matches("a*a", "a"));
        assert!(!glob_matches("roots/undeclared", "roots/undeclared-2"));
    }

    #[test]
    fn shards_partition_the_plan() {
        let plan: Vec<usize> = (0..10).collect();
        let mut seen: Vec<usize> = (1..=3).flat_map(|k| select(plan.clone(), |_| "x", &[], Some((k, 3)))).collect();
        seen.sort_unstable();
        assert_eq!(seen, plan);
        assert_eq!(select(plan.clone(), |_| "x", &[], Some((2, 3))), vec![1, 4, 7]);
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err() && parse_shard("5/4").is_err() && parse_shard("x").is_err());
    }
}
