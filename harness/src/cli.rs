//! The `backchannel` command line. Only this module knows about argv, stdout and
//! exit codes.
//!
//! Exit codes: 0 = no FAIL; 1 = at least one FAIL; 2 = usage or setup error, or an
//! incomplete run; 130/143 = interrupted (see [`crate::outcome::RunOutcome`]).

mod bench_cmd;
mod check_cmd;
mod client_cmd;
mod list_cmd;
mod matrix_cmd;
mod mock_cmd;
mod report_cmd;
mod run_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// No FAIL.
pub const EXIT_OK: u8 = 0;
/// At least one FAIL.
pub const EXIT_FAIL: u8 = 1;
/// Usage or setup error.
pub const EXIT_USAGE: u8 = 2;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    no FAIL (WARN, NOTE, N/A, SKIP and XFAIL allowed; WARN fails under --strict)
  1    at least one check FAILed, or a baseline entry is stale
  2    usage or setup error (bad arguments, an invalid scenario file, a selection that plans
       no case, a report that cannot be written), or an incomplete run: a planned case was not
       judged (its client could not start, it panicked, it was never reported) or a check was
       INCONCLUSIVE
  130  interrupted by SIGINT (143: SIGTERM): cases in flight killed, reports written";

/// Conformance suite and mock-server kit for the server→client direction of MCP.
#[derive(Debug, Parser)]
#[command(name = "backchannel", version, about, after_help = EXIT_CODES_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios against the reference client and print the verdicts.
    #[command(after_help = EXIT_CODES_HELP)]
    Run(run_cmd::RunArgs),
    /// Be a scripted MCP server on stdin/stdout (what a client under test launches).
    Mock(mock_cmd::MockArgs),
    /// Run the reference intercepting client against a server.
    Client(client_cmd::ClientArgs),
    /// Print the scenario format's JSON Schema (or, with --report, the JSON report's).
    Schema(SchemaArgs),
    /// Validate scenario files (file:line errors, exit 2 on any error).
    Check(check_cmd::CheckArgs),
    /// List scenarios (or, with --specs, the rules checks cite).
    List(list_cmd::ListArgs),
    /// Run the suite against several clients and print the client × check table.
    Matrix(matrix_cmd::MatrixArgs),
    /// Run the benchmarks (suite wall time, ping round trips against a raw-pipe
    /// floor, many outstanding requests) and print the numbers.
    Bench(bench_cmd::BenchArgs),
    /// Work with finished reports: `report merge` combines the JSON reports of shards
    /// or clients into one JSON, JUnit and HTML report.
    Report(report_cmd::ReportArgs),
}

#[derive(Debug, clap::Args)]
struct SchemaArgs {
    /// Print the schema of the JSON report (`--report json=PATH`) instead.
    #[arg(long)]
    report: bool,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE));
        }
    };
    let code = match cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Mock(args) => mock_cmd::run(args),
        Command::Client(args) => client_cmd::run(args),
        Command::Schema(args) => {
            if args.report {
                print!("{}", crate::report::json::schema());
            } else {
                print!("{}", crate::scenario::json_schema());
            }
            EXIT_OK
        }
        Command::Check(args) => check_cmd::run(args),
        Command::List(args) => list_cmd::run(args),
        Command::Matrix(args) => matrix_cmd::run(args),
        Command::Bench(args) => bench_cmd::run(args),
        Command::Report(args) => report_cmd::run(args),
    };
    ExitCode::from(code)
}

/// Print a usage or setup error; the exit code for it.
pub(crate) fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

/// An error and its causes, `outer: inner: innermost`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    crate::error_chain(e)
}

/// Expand scenario paths: directories are searched for `*.yaml`.
fn scenario_files(paths: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            files.extend(crate::scenario::discover(p).map_err(|e| format!("{}: {e}", p.display()))?);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(files)
}

/// Find and compile the scenarios under `paths` — no paths: the built-in suite,
/// compiled into the binary — printing every error; `None` when anything failed
/// (the caller exits 2).
pub(crate) fn load_cases(paths: &[std::path::PathBuf]) -> Option<Vec<crate::scenario::Compiled>> {
    if paths.is_empty() {
        return match crate::scenario::builtin::compile_all() {
            Ok(cases) if !cases.is_empty() => Some(cases),
            Ok(_) => {
                eprintln!("error: this build has no built-in scenarios: give scenario files or directories");
                None
            }
            Err(e) => {
                eprintln!("error: a built-in scenario does not load: {e}");
                None
            }
        };
    }
    match scenario_files(paths) {
        Ok(files) => compile_all(&files),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

/// Compile every file, printing each error; `None` when any failed.
fn compile_all(files: &[std::path::PathBuf]) -> Option<Vec<crate::scenario::Compiled>> {
    let mut ok = Vec::new();
    let mut failed = false;
    for f in files {
        match crate::scenario::compile_file(f) {
            Ok(c) => ok.push(c),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    let mut seen = std::collections::BTreeMap::new();
    for c in &ok {
        if let Some(prev) = seen.insert(c.id.clone(), c.path.clone()) {
            eprintln!("error: scenario id `{}` is used by both {} and {}", c.id, prev.display(), c.path.display());
            failed = true;
        }
    }
    (!failed).then_some(ok)
}
