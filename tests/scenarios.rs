//! One test per (scenario file, transport, revision):
//! `scenario::<id>::<transport>::<revision>`, run against the reference client under
//! `--strict` grading. Files are found at run time, so a new scenario needs no
//! rebuild. Filter as usual: `cargo test --test scenarios -- roots/`, `-- ::http::`,
//! `-- 2025-03-26`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use backchannel_harness::outcome::Verdict;
use backchannel_harness::pipeline::{self, Jobs, Plan, PlannedCase, RunOptions};
use backchannel_harness::runner::RunConfig;
use backchannel_harness::scenario::model::{Revision, Transport};
use backchannel_harness::scenario::{Compiled, compile_file, discover};
use libtest_mimic::{Arguments, Failed, Trial};

fn run(compiled: Arc<Compiled>, transport: Transport, revision: Revision) -> Result<(), Failed> {
    let cfg = RunConfig::reference(PathBuf::from(env!("CARGO_BIN_EXE_backchannel")));
    let id = compiled.id.clone();
    let plan = Plan { cases: vec![PlannedCase { index: 0, compiled, transport, revision }], info: Default::default() };
    let options =
        RunOptions { jobs: Jobs::Fixed(1), strict: true, label: "the reference client".into(), handle_signals: false };
    let summary = pipeline::run(&plan, cfg, &options, &mut [])
        .map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))?;
    if let Some(u) = summary.unjudged.first() {
        return Err(format!("{id} [{transport} {revision}] was not judged: {}", u.why).into());
    }
    let report = summary.reports.first().ok_or("the case was not reported")?;
    let mut problems = Vec::new();
    for c in &report.checks {
        match c.final_verdict() {
            Verdict::Pass => {}
            // Against the reference client every precondition holds and every knob is
            // honoured: a SKIP or N/A here would mean the scenario silently tests nothing.
            v => problems.push(format!("{v} {}: {}", c.id, c.evidence.summary)),
        }
    }
    if report.checks.is_empty() {
        problems.push("no checks were evaluated".into());
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{id} [{transport} {revision}] ({}):\n  {}\nclient stderr:\n  {}",
        report.record.client_status,
        problems.join("\n  "),
        report.record.stderr_tail.join("\n  ")
    )
    .into())
}

fn main() {
    let mut args = Arguments::from_args();
    // The cases wait on the wire, not the CPU (BENCHMARKS.md: the suite at 32 jobs
    // on two cores has the same verdicts in 1/27 of the time): run 16 at once unless
    // told otherwise.
    args.test_threads.get_or_insert(16);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut trials = Vec::new();
    for path in discover(&root).expect("scenarios/ is readable") {
        match compile_file(&path) {
            Ok(compiled) => {
                let compiled = std::sync::Arc::new(compiled);
                for t in compiled.transports.clone() {
                    for r in compiled.revisions.clone().into_iter().filter(|r| r.has_transport(t)) {
                        let c = compiled.clone();
                        trials.push(Trial::test(format!("scenario::{}::{t}::{r}", compiled.id), move || run(c, t, r)));
                    }
                }
            }
            Err(e) => {
                let msg = e.to_string();
                trials.push(Trial::test(format!("scenario::{}", path.display()), move || Err(msg.into())));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
