//! One test per scenario file: `scenario::<path under scenarios/>`, run against the
//! reference client under `--strict` grading. Files are found at run time, so a
//! new scenario needs no rebuild. Filter as usual: `cargo test --test scenarios -- roots/`.

use std::path::{Path, PathBuf};

use backchannel_harness::check::Verdict;
use backchannel_harness::runner::{RunConfig, run_case};
use backchannel_harness::scenario::compile_file;

fn scenario(path: &Path) -> datatest_stable::Result<()> {
    let compiled = compile_file(path)?;
    let cfg = RunConfig::reference(PathBuf::from(env!("CARGO_BIN_EXE_backchannel")));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = rt.block_on(run_case(&compiled, &cfg))?;
    let mut problems = Vec::new();
    for c in &report.checks {
        match c.verdict(true) {
            Verdict::Pass => {}
            // Against the reference client every precondition holds: a SKIP here
            // would mean the scenario silently tests nothing.
            v => problems.push(format!("{v} {}: {}", c.id, c.evidence.summary)),
        }
    }
    if report.checks.is_empty() {
        problems.push("no checks were evaluated".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} ({}):\n  {}\nclient stderr:\n  {}",
            compiled.id,
            report.client_status,
            problems.join("\n  "),
            report.stderr_tail.join("\n  ")
        )
        .into())
    }
}

datatest_stable::harness! {
    { test = scenario, root = "../scenarios", pattern = r"\.ya?ml$" },
}
