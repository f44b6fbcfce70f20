//! `backchannel run`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::{EXIT_FAIL, EXIT_OK, EXIT_USAGE, load_cases};
use crate::profile::LoadedProfile;
use crate::report::terminal::{Totals, write_case, write_summary};
use crate::runner::{CaseReport, ClientSpec, RunConfig, run_cases};
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
    /// Cases run at once (default: the available cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
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

/// Run the cases; the reports come back in plan order.
pub(crate) fn execute(
    planned: Vec<(Arc<Compiled>, Transport, Revision)>,
    cfg: RunConfig,
    jobs: usize,
    mut each: impl FnMut(&CaseReport),
) -> Result<Vec<CaseReport>, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut reports = Vec::new();
    let mut error = None;
    rt.block_on(run_cases(planned, Arc::new(cfg), jobs, |r| match r {
        Ok(report) => {
            each(&report);
            reports.push(report);
        }
        Err((label, e)) => {
            let cause = std::error::Error::source(&e).map_or(String::new(), |s| format!(": {s}"));
            error.get_or_insert(format!("{label}: {e}{cause}"));
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
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let started = Instant::now();
    let mut out = anstream::stdout();
    let _ = writeln!(out, "backchannel {}: {} case(s) against {who}\n", env!("CARGO_PKG_VERSION"), planned.len());
    // Reports print once the whole run is in: a baseline marks checks across cases.
    let mut reports = match execute(planned, cfg, jobs, |_| {}) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let applied = baseline.apply(&mut reports, args.strict);
    let mut totals = Totals::default();
    for report in &reports {
        let _ = write_case(&mut out, report, args.strict);
        totals.add(report, args.strict);
    }
    totals.stale = applied.stale.len();
    let _ = write_summary(&mut out, &totals, started.elapsed(), args.strict);
    for entry in &applied.stale {
        let _ = writeln!(out, "STALE baseline entry (the client passes it now; remove it): {entry}");
    }
    for entry in &applied.unused {
        let _ = writeln!(out, "note: baseline entry matched no check in this run: {entry}");
    }
    if totals.failed > 0 || totals.stale > 0 { EXIT_FAIL } else { EXIT_OK }
}
