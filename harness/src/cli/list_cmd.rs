//! `backchannel list`: scenarios and the rules their checks cite; the rule
//! catalogue (`--specs`); the kinds of check (`--checks`).

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_OK, EXIT_USAGE, load_cases};
use backchannel_protocol::Revision;

use crate::scenario::model::{Severity, SpecLevel};
use crate::scenario::{Compiled, catalog};

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Scenario files or directories (default: the built-in suite, compiled into the binary).
    paths: Vec<PathBuf>,
    /// List the built-in rule catalogue instead.
    #[arg(long, conflicts_with = "checks")]
    specs: bool,
    /// List every kind of check instead, as Markdown tables (the README's).
    #[arg(long)]
    checks: bool,
}

pub(crate) fn run(args: ListArgs) -> u8 {
    if args.checks {
        println!("{}", crate::check::registry::markdown());
        return EXIT_OK;
    }
    if args.specs {
        for s in catalog::all() {
            println!("{:<38} {}\n{:<38} \"{}\"", s.key, s.short(), "", s.text);
        }
        return EXIT_OK;
    }
    let Some(cases) = load_cases(&args.paths) else { return EXIT_USAGE };
    for c in &cases {
        print!("{}", describe(c));
    }
    println!("\n{} scenario(s)", cases.len());
    EXIT_OK
}

/// One scenario's entry: id and title; its revisions, transports and what the mock
/// sends; then each rule its checks cite, as each of its revisions states it
/// (revisions that state it alike are grouped).
fn describe(c: &Compiled) -> String {
    let join = |v: Vec<String>| v.join(", ");
    let mut sends: Vec<String> = c.requests.iter().map(|r| r.method.clone()).collect();
    sends.extend(c.rounds.iter().flat_map(|r| r.inputs.iter().map(|i| format!("{} (MRTR)", i.method))));
    sends.dedup();
    let mut out = format!("{}  {}\n", c.id, c.title);
    out += &format!(
        "    revisions: {} · transports: {} · sends: {}\n",
        join(c.revisions.iter().map(|r| r.to_string()).collect()),
        join(c.transports.iter().map(|t| t.to_string()).collect()),
        if sends.is_empty() { "nothing".to_owned() } else { join(sends) },
    );
    let mut seen = Vec::new();
    for (key, severity) in &c.citations {
        let severity = *severity;
        if seen.contains(&(key, severity)) {
            continue;
        }
        seen.push((key, severity));
        // The grade a case applies: a MUST expectation on a sentence that says SHOULD
        // at that revision is graded SHOULD there.
        let mut groups: Vec<(Vec<Revision>, String, &str)> = Vec::new();
        for &rev in &c.revisions {
            let Some(r) = c.rule(key, rev) else { continue };
            let grade = if r.level == SpecLevel::Should { Severity::Should } else { severity };
            let (short, grade) = (r.short(), grade.as_str());
            match groups.iter_mut().find(|(_, sh, g)| *sh == short && *g == grade) {
                Some((revs, ..)) => revs.push(rev),
                None => groups.push((vec![rev], short, grade)),
            }
        }
        if let [(_, short, grade)] = groups.as_slice() {
            out += &format!("    {key:<40} {grade:<6} {short}\n");
        } else {
            out += &format!("    {key}\n");
            for (revs, short, grade) in groups {
                let revs = join(revs.iter().map(|r| r.to_string()).collect());
                out += &format!("        {grade:<6} at {revs}: {short}\n");
            }
        }
    }
    out
}
