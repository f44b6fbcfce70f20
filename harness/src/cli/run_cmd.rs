//! `backchannel run`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::{EXIT_FAIL, EXIT_OK, EXIT_USAGE, load_cases};
use crate::report::terminal::{Totals, write_case, write_summary};
use crate::runner::{ClientSpec, RunConfig, run_case};
use crate::scenario::Compiled;
use crate::scenario::model::Transport;

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
    #[arg(long, value_name = "'CMD ARGS'")]
    client_cmd: Option<String>,
    /// Which transports to run each scenario on (those it lists; default: all).
    #[arg(long, value_name = "T", default_value = "all", value_parser = ["stdio", "http", "sse", "all"])]
    transport: String,
}

/// The (scenario, transport) pairs to run, in order.
pub(crate) fn plan_cases<'a>(cases: &'a [Compiled], transport: &str) -> Vec<(&'a Compiled, Transport)> {
    cases
        .iter()
        .flat_map(|c| c.scenario.transports.iter().map(move |t| (c, *t)))
        .filter(|(_, t)| transport == "all" || t.as_str() == transport)
        .collect()
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
    let mut cfg = RunConfig { keep: args.keep, ..RunConfig::reference(exe) };
    if let Some(line) = &args.client_cmd {
        match shlex::split(line) {
            Some(argv) if !argv.is_empty() => cfg.client = ClientSpec::Command(argv),
            _ => {
                eprintln!("error: --client-cmd: cannot split `{line}` into a command line");
                return EXIT_USAGE;
            }
        }
    }
    let who = match &cfg.client {
        ClientSpec::Reference => "the reference client".to_owned(),
        ClientSpec::Command(argv) => format!("`{}`", argv.join(" ")),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let started = Instant::now();
    let mut out = anstream::stdout();
    let mut totals = Totals::default();
    let planned = plan_cases(&cases, &args.transport);
    let _ = writeln!(
        out,
        "backchannel {}: {} case(s) ({} scenario(s) × transports) against {who}\n",
        env!("CARGO_PKG_VERSION"),
        planned.len(),
        cases.len()
    );
    for (case, transport) in planned {
        match rt.block_on(run_case(case, transport, &cfg)) {
            Ok(report) => {
                let _ = write_case(&mut out, &report, args.strict);
                totals.add(&report, args.strict);
            }
            Err(e) => {
                eprintln!(
                    "error: {} [{transport}]: {e}: {}",
                    case.id,
                    std::error::Error::source(&e).map_or(String::new(), ToString::to_string)
                );
                return EXIT_USAGE;
            }
        }
    }
    let _ = write_summary(&mut out, &totals, started.elapsed(), args.strict);
    if totals.failed > 0 { EXIT_FAIL } else { EXIT_OK }
}
