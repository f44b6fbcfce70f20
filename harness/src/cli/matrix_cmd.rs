//! `backchannel matrix`: the built-in suite against several clients, as a Markdown table.

use std::path::PathBuf;

use clap::Args;

use super::run_cmd::client_spec;
use super::{EXIT_OK, EXIT_USAGE, load_cases, usage};
use crate::outcome::{CaseReport, RunSummary};
use crate::pipeline::{self, Plan, RevisionFilter, RunOptions, Selection};
use crate::report::ReportFile;
use crate::report::event::Reporter;
use crate::report::matrix::{self, markdown, splice};
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

/// The installed profiles in ./clients (a missing one is named on stderr).
fn installed_profiles() -> Result<Vec<String>, String> {
    let profiles = crate::profile::discover(std::path::Path::new("clients"))?;
    Ok(profiles
        .into_iter()
        .filter(|p| {
            let missing = p.missing();
            if let Some(m) = &missing {
                eprintln!("skipped: {} is not installed ({} is missing): run clients/setup.sh", p.name, m.display());
            }
            missing.is_none()
        })
        .map(|p| p.dir.join(format!("{}.yaml", p.name)).display().to_string())
        .collect())
}

pub(crate) fn run(args: MatrixArgs) -> u8 {
    let Some(cases) = load_cases(&args.paths) else { return EXIT_USAGE };
    let Ok(exe) = std::env::current_exe() else { return usage("cannot locate the backchannel executable") };
    let revisions = match RevisionFilter::parse(&args.revision) {
        Ok(r) => r,
        Err(e) => return usage(format!("--revision: {e}")),
    };
    let names = if args.clients.is_empty() {
        match installed_profiles() {
            Ok(n) => n,
            Err(e) => return usage(e),
        }
    } else {
        args.clients.clone()
    };
    let mut specs = vec![ClientSpec::Reference];
    for name in &names {
        match client_spec(Some(name), None, None, std::time::Duration::ZERO) {
            Ok(spec) => specs.push(spec),
            Err(e) => return usage(e),
        }
    }
    let selection = Selection { revisions, ..Selection::default() };
    let mut runs: Vec<RunSummary> = Vec::new();
    for spec in specs {
        let label = match &spec {
            ClientSpec::Reference => format!("reference client<br>backchannel {}", env!("CARGO_PKG_VERSION")),
            ClientSpec::Profile(p) => {
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
            jobs: args.jobs.unwrap_or_else(|| spec.default_jobs()),
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
            let Some(updated) = splice(&doc, &table) else {
                return usage(format!(
                    "{} has no `<!-- backchannel:matrix:start -->` … `end -->` markers",
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
