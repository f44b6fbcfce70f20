//! `backchannel report merge`: combine JSON reports.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::EXIT_USAGE;
use crate::report::ReportFile;
use crate::report::merge::{merge, read, runs_of};
use crate::report::terminal::{write_not_passed, write_summary};

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Combine the JSON reports of the shards of a run (`--shard K/N`), or of several
    /// clients' runs, into one report: the not-passed table and the summary on
    /// stdout, and the reports asked for. Reports of another backchannel version, of
    /// other scenarios or selections, or covering one shard twice are refused (exit 2);
    /// a missing shard makes the merged run incomplete (exit 2). Otherwise the exit
    /// code is the merged run's, as `backchannel run`'s.
    Merge(MergeArgs),
    /// Print JSON reports as Markdown: per run, the outcome, the counts and the table
    /// of what did not pass (what a CI job summary shows). Several reports are
    /// merged first, as `merge` does. Exit code: the run's, as `backchannel run`'s.
    Markdown(MarkdownArgs),
}

#[derive(Debug, Args)]
struct MarkdownArgs {
    /// The JSON reports.
    #[arg(required = true, value_name = "REPORT.json")]
    inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// The JSON reports (`--report json=PATH` of `backchannel run` or `matrix`).
    #[arg(required = true, value_name = "REPORT.json")]
    inputs: Vec<PathBuf>,
    /// Write the merged report: `json=PATH`, `junit=PATH` or `html=PATH` (repeatable).
    #[arg(long, value_name = "KIND=PATH")]
    report: Vec<ReportFile>,
}

/// Read and merge reports — for `markdown`, one report is rendered as it is (a
/// shard stays a shard); the error is already printed (exit 2).
fn load(paths: Vec<PathBuf>, as_is: bool) -> Result<Vec<crate::outcome::RunSummary>, u8> {
    let mut inputs = Vec::new();
    for path in paths {
        inputs.push((path.clone(), read(&path).map_err(super::usage)?));
    }
    match inputs.len() {
        1 if as_is => {
            let (path, report) = inputs.remove(0);
            runs_of(&path, report).map_err(super::usage)
        }
        _ => merge(inputs).map_err(super::usage),
    }
}

pub(crate) fn run(args: ReportArgs) -> u8 {
    let args = match args.command {
        ReportCommand::Merge(args) => args,
        ReportCommand::Markdown(args) => {
            let runs = match load(args.inputs, true) {
                Ok(runs) => runs,
                Err(code) => return code,
            };
            if let Err(e) = crate::report::markdown::write(&mut std::io::stdout().lock(), &runs) {
                return super::usage(format!("cannot write the summary: {e}"));
            }
            return runs.iter().map(|r| r.outcome().exit_code()).max().unwrap_or(EXIT_USAGE);
        }
    };
    let runs = match load(args.inputs, false) {
        Ok(runs) => runs,
        Err(code) => return code,
    };
    let mut out = anstream::stdout();
    for run in &runs {
        let _ = write_not_passed(&mut out, run);
        let _ = write_summary(&mut out, run);
    }
    for file in &args.report {
        if let Err(e) = file.write(&runs) {
            return super::usage(format!("cannot write {}: {e}", file.path().display()));
        }
    }
    runs.iter().map(|r| r.outcome().exit_code()).max().unwrap_or(EXIT_USAGE)
}
