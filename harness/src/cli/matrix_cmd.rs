//! `backchannel matrix`: the built-in suite against several clients, as a Markdown table.

use std::path::PathBuf;

use clap::Args;

use super::run_cmd::client_spec;
use super::{EXIT_OK, EXIT_USAGE, load_cases, usage};
use crate::outcome::{CaseReport, RunSummary};
use crate::pipeline::{self, Jobs, Plan, RevisionFilter, RunOptions, Selection};
use crate::report::ReportFile;
use crate::report::event::Reporter;
use crate::report::matrix::{self, markdown, splice_at};
use crate::report::terminal::TerminalReporter;
use crate::runner::{ClientSpec, RunConfig};

#[derive(Debug, Args)]
pub(crate) struct MatrixArgs {
    /// Scenario files or directories (default: the built-in suite, compiled into the binary).
    paths: Vec<PathBuf>,
    /// Clients to include (profile names); default: the reference client and every
    /// installed profile in ./clients.
    #[arg(long = "client", value_name = "NAME")]
    clients: Vec<String>,
    /// The gateway × check table instead: the built-in `gateway/*` scenarios (or the
    /// paths given) against every installed gateway profile in ./gateways (or those
    /// named with --gateway); the markers are `backchannel:gateway-matrix`.
    #[arg(long)]
    gateways: bool,
    /// With --gateways: gateways to include (profile names).
    #[arg(long = "gateway", value_name = "NAME", requires = "gateways")]
    gateway_names: Vec<String>,
    /// Write the table between the matrix markers of this Markdown file instead of stdout.
    #[arg(long, value_name = "FILE")]
    update: Option<PathBuf>,
    /// Which protocol revisions to run each scenario at: a date, `latest` (default:
    /// the newest each scenario lists, what a client asking for the newest protocol
    /// meets) or `all`.
    #[arg(long, value_name = "R", default_value = "latest")]
    revision: String,
    /// Which transports to run each scenario on: `all` (default: every one each client
    /// supports) or one (`stdio`, `http`, `sse`).
    #[arg(long, value_name = "T", default_value = "all")]
    transport: String,
    /// Cases run at once (default: as `run`: 8 per core for the reference client, as
    /// many as the CPU allows for the others).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Also write a report of all the runs: `json=PATH`, `junit=PATH` or `html=PATH`
    /// (the HTML page then holds the client × check matrix). Repeatable.
    #[arg(long, value_name = "KIND=PATH")]
    report: Vec<ReportFile>,
}

/// The installed profiles in ./clients or ./gateways (a missing one is named on stderr).
fn installed_profiles(dir: &str) -> Result<Vec<String>, String> {
    let profiles = crate::profile::discover(std::path::Path::new(dir))?;
    Ok(profiles
        .into_iter()
        .filter(|p| {
            let kind = if p.profile.downstream.is_some() { "gateway" } else { "client" };
            p.installed(kind, dir).map_err(|e| eprintln!("skipped: {e}")).is_ok()
        })
        .map(|p| p.dir.join(format!("{}.yaml", p.name)).display().to_string())
        .collect())
}

pub(crate) fn run(args: MatrixArgs) -> u8 {
    let Some(mut cases) = load_cases(&args.paths) else { return EXIT_USAGE };
    if !args.gateways && args.paths.is_empty() {
        // The gateway scenarios are the gateway table's; the client table keeps to the
        // client suite.
        cases.retain(|c| !c.is_gateway_scenario());
    }
    let Ok(exe) = std::env::current_exe() else { return usage("cannot locate the backchannel executable") };
    let revisions = match RevisionFilter::parse(&args.revision) {
        Ok(r) => r,
        Err(e) => return usage(format!("--revision: {e}")),
    };
    let transports = match super::run_cmd::transport_filter(&args.transport) {
        Ok(t) => t.map(|t| vec![t]),
        Err(e) => return usage(format!("--transport: {e}")),
    };
    let (dir, given) = if args.gateways { ("gateways", &args.gateway_names) } else { ("clients", &args.clients) };
    let names = if given.is_empty() {
        match installed_profiles(dir) {
            Ok(n) => n,
            Err(e) => return usage(e),
        }
    } else {
        given.clone()
    };
    let mut specs = if args.gateways { Vec::new() } else { vec![ClientSpec::Reference] };
    for name in &names {
        let spec = if args.gateways {
            ClientSpec::gateway(name)
        } else {
            client_spec(Some(name), None, None, std::time::Duration::ZERO)
        };
        match spec {
            Ok(spec) => specs.push(spec),
            Err(e) => return usage(e),
        }
    }
    if specs.is_empty() {
        return usage(format!("no installed profile in ./{dir}: run {dir}/setup.sh"));
    }
    let filters = if args.gateways && args.paths.is_empty() {
        vec![crate::scenario::GATEWAY_SUITE.to_owned()]
    } else {
        Vec::new()
    };
    let selection = Selection { revisions, filters, transports, ..Selection::default() };
    let mut runs: Vec<RunSummary> = Vec::new();
    for spec in specs {
        let label = match &spec {
            ClientSpec::Reference => format!("reference client<br>backchannel {}", env!("CARGO_PKG_VERSION")),
            ClientSpec::Profile(p) | ClientSpec::Gateway(p) => {
                format!("{}<br>{}", p.name, p.version().unwrap_or_else(|| "version unknown".into()))
            }
            other => other.describe(),
        };
        eprintln!("running the suite against {label}…");
        let plan = match Plan::new(&cases, &selection, &spec) {
            Ok(p) => p,
            Err(e) => return usage(e),
        };
        // Verdicts before baselines: the table shows what each client does.
        let options = RunOptions {
            jobs: args.jobs.map_or_else(|| pipeline::default_jobs(&spec), Jobs::Fixed),
            strict: false,
            label,
            handle_signals: true,
        };
        let cfg = RunConfig { client: spec, ..RunConfig::reference(exe.clone()) };
        // Progress only: the table is the output.
        let progress = TerminalReporter::new(Box::new(std::io::sink()), Box::new(anstream::stderr()), false);
        let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(progress)];
        match pipeline::run(&plan, cfg, &options, &mut reporters) {
            Ok(summary) => runs.push(summary),
            Err(e) => return usage(super::chain(&e)),
        }
    }
    for file in &args.report {
        if let Err(e) = file.write(&runs) {
            return usage(format!("cannot write {}: {e}", file.path().display()));
        }
    }
    let pairs: Vec<(&str, &[CaseReport])> = runs.iter().map(|r| (r.client.as_str(), r.reports.as_slice())).collect();
    let table = markdown(&matrix::table(&pairs));
    match &args.update {
        None => print!("{table}"),
        Some(path) => {
            let Ok(doc) = std::fs::read_to_string(path) else {
                return usage(format!("cannot read {}", path.display()));
            };
            let markers = if args.gateways { "gateway-matrix" } else { "matrix" };
            let Some(updated) = splice_at(&doc, markers, &table) else {
                return usage(format!(
                    "{} has no `<!-- backchannel:{markers}:start -->` … `end -->` markers",
                    path.display()
                ));
            };
            if std::fs::write(path, updated).is_err() {
                return usage(format!("cannot write {}", path.display()));
            }
        }
    }
    EXIT_OK
}
