//! `backchannel matrix`: the built-in suite against several clients, as a Markdown table.

use std::path::PathBuf;

use clap::Args;

use super::run_cmd::{RevisionFilter, client_spec, describe_client, execute, plan_cases};
use super::{EXIT_OK, EXIT_USAGE, load_cases};
use crate::report::ReportFile;
use crate::report::event::{Reporter, RunSummary};
use crate::report::matrix::{self, markdown, splice};
use crate::report::terminal::{TerminalReporter, Totals};
use crate::runner::{CaseReport, ClientSpec, RunConfig};

#[derive(Debug, Args)]
pub(crate) struct MatrixArgs {
    /// Scenario files or directories (default: ./scenarios).
    paths: Vec<PathBuf>,
    /// Clients to include (profile names); default: the reference client and every
    /// installed profile in ./clients.
    #[arg(long = "client", value_name = "NAME")]
    clients: Vec<String>,
    /// Write the table between the matrix markers of this Markdown file instead of stdout.
    #[arg(long, value_name = "FILE")]
    update: Option<PathBuf>,
    /// Which protocol revisions to run each scenario at: a date, `latest` (default:
    /// the newest each scenario lists, what a client asking for the newest protocol
    /// meets) or `all`.
    #[arg(long, value_name = "R", default_value = "latest")]
    revision: String,
    /// Cases run at once (default: as `run`: 8 per core for the reference client, one
    /// per core for the others).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Also write a report of all the runs: `json=PATH`, `junit=PATH` or `html=PATH`
    /// (the HTML page then holds the client × check matrix). Repeatable.
    #[arg(long, value_name = "KIND=PATH")]
    report: Vec<ReportFile>,
}

pub(crate) fn run(args: MatrixArgs) -> u8 {
    let Some(cases) = load_cases(&args.paths) else { return EXIT_USAGE };
    let Ok(exe) = std::env::current_exe() else { return EXIT_USAGE };
    let revisions = match RevisionFilter::parse(&args.revision) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --revision: {e}");
            return EXIT_USAGE;
        }
    };
    let mut specs = vec![ClientSpec::Reference];
    let names: Vec<String> = if args.clients.is_empty() {
        match crate::profile::discover(std::path::Path::new("clients")) {
            Ok(profiles) => profiles
                .into_iter()
                .filter(|p| {
                    let missing = p.missing();
                    if let Some(m) = &missing {
                        eprintln!(
                            "skipped: {} is not installed ({} is missing): run clients/setup.sh",
                            p.name,
                            m.display()
                        );
                    }
                    missing.is_none()
                })
                .map(|p| p.dir.join(format!("{}.yaml", p.name)).display().to_string())
                .collect(),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
    } else {
        args.clients.clone()
    };
    for name in &names {
        match client_spec(Some(name), None) {
            Ok(spec) => specs.push(spec),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let mut runs: Vec<RunSummary> = Vec::new();
    for spec in specs {
        let label = match &spec {
            ClientSpec::Reference => format!("reference client<br>backchannel {}", env!("CARGO_PKG_VERSION")),
            ClientSpec::Profile(p) => {
                format!("{}<br>{}", p.name, p.version().unwrap_or_else(|| "version unknown".into()))
            }
            other => describe_client(other),
        };
        eprintln!("running the suite against {label}…");
        let planned = plan_cases(&cases, "all", revisions, &spec);
        let cfg = RunConfig { client: spec, ..RunConfig::reference(exe.clone()) };
        // Progress only: the table is the output.
        let progress = TerminalReporter::new(Box::new(std::io::sink()), Box::new(anstream::stderr()), false);
        let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(progress)];
        let (started_at, started) = (std::time::SystemTime::now(), std::time::Instant::now());
        let jobs = args.jobs.unwrap_or_else(|| super::run_cmd::default_jobs(&cfg.client));
        match execute(planned, cfg, jobs, &mut reporters) {
            Ok(reports) => {
                runs.push(RunSummary {
                    client: label,
                    strict: false,
                    totals: Totals::of(&reports, false),
                    reports,
                    stale: Vec::new(),
                    unused: Vec::new(),
                    elapsed: started.elapsed(),
                    started_at,
                });
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
    }
    for file in &args.report {
        if let Err(e) = file.write(&runs) {
            eprintln!("error: cannot write {}: {e}", file.path().display());
            return EXIT_USAGE;
        }
    }
    let pairs: Vec<(&str, &[CaseReport])> = runs.iter().map(|r| (r.client.as_str(), r.reports.as_slice())).collect();
    let table = markdown(&matrix::table(&pairs, false));
    match &args.update {
        None => print!("{table}"),
        Some(path) => {
            let Ok(doc) = std::fs::read_to_string(path) else {
                eprintln!("error: cannot read {}", path.display());
                return EXIT_USAGE;
            };
            let Some(updated) = splice(&doc, &table) else {
                eprintln!("error: {} has no `<!-- backchannel:matrix:start -->` … `end -->` markers", path.display());
                return EXIT_USAGE;
            };
            if std::fs::write(path, updated).is_err() {
                eprintln!("error: cannot write {}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    EXIT_OK
}
