//! `backchannel check`: validate scenario files.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_OK, EXIT_USAGE, load_cases};

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Scenario files or directories (default: the built-in suite, compiled into the binary).
    paths: Vec<PathBuf>,
}

pub(crate) fn run(args: CheckArgs) -> u8 {
    match load_cases(&args.paths) {
        Some(cases) => {
            for c in &cases {
                println!("ok  {}  ({}, {} request(s))", c.id, c.path.display(), c.requests.len());
            }
            EXIT_OK
        }
        None => EXIT_USAGE,
    }
}
