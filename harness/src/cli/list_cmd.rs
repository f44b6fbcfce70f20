//! `backchannel list`: scenarios and the rules their checks cite.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_OK, EXIT_USAGE, load_cases};
use crate::scenario::catalog;

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Scenario files or directories (default: ./scenarios).
    paths: Vec<PathBuf>,
    /// List the built-in rule catalogue instead.
    #[arg(long)]
    specs: bool,
}

pub(crate) fn run(args: ListArgs) -> u8 {
    if args.specs {
        for s in catalog::all() {
            println!("{:<38} {}\n{:<38} \"{}\"", s.key, s.short(), "", s.text);
        }
        return EXIT_OK;
    }
    let Some(cases) = load_cases(&args.paths) else { return EXIT_USAGE };
    for c in &cases {
        let methods: Vec<&str> = c.requests.iter().map(|r| r.method.as_str()).collect();
        println!("{:<36} {}  [{}]", c.id, c.scenario.title, methods.join(", "));
    }
    println!("\n{} scenario(s)", cases.len());
    EXIT_OK
}
