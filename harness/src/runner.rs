//! The runner: one case = one scenario against one client. It starts the client
//! (which launches the mock over stdio), supervises it, then reads the mock's
//! trace and the client's logs and evaluates the checks.

pub mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use backchannel_mock::trace::Trace;
use tokio::process::Command;

use crate::check::{self, CaseInput, CheckResult, ClientEnd, Verdict};
use crate::logs::{self, AutoFormat, LogLine, Stream};
use crate::scenario::Compiled;
pub use process::{Supervised, describe_status, supervise};

/// Extra time a client gets beyond the scenario's own timeout (start-up, shutdown).
pub const CASE_SLACK: Duration = Duration::from_secs(10);

/// How to run cases.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The `backchannel` executable (runs the mock and the reference client).
    pub exe: PathBuf,
    /// Keep each case's trace and logs under this directory.
    pub keep: Option<PathBuf>,
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseReport {
    /// Scenario id.
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// Every check's result.
    pub checks: Vec<CheckResult>,
    /// Wall time of the case.
    pub duration: Duration,
    /// How the client process ended.
    pub client_status: String,
    /// The last lines of the client's stderr (evidence when it crashed or hung).
    pub stderr_tail: Vec<String>,
    /// The trace, when the mock wrote one.
    pub trace: Option<Trace>,
    /// The client's parsed output.
    pub logs: Vec<LogLine>,
}

impl CaseReport {
    /// The worst verdict among the checks.
    pub fn worst(&self, strict: bool) -> Verdict {
        self.checks.iter().map(|c| c.verdict(strict)).max().unwrap_or(Verdict::Pass)
    }
}

/// Why a case could not be run at all (as opposed to failing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A scratch directory could not be made.
    #[error("failed to create a scratch directory")]
    Scratch(#[source] std::io::Error),
    /// The client could not be started.
    #[error("failed to start the client `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The reference client's command line for a case: it launches the mock itself.
pub fn reference_client_command(exe: &Path, compiled: &Compiled, trace: &Path) -> Command {
    let plan = compiled.client_plan();
    let mut cmd = Command::new(exe);
    cmd.arg("client").arg("--stdio");
    for (uri, name) in &plan.roots {
        cmd.arg("--root").arg(match name {
            Some(n) => format!("{uri}={n}"),
            None => uri.clone(),
        });
    }
    cmd.arg("--log-level").arg(plan.log_level.map_or("info", |l| l.as_str()));
    cmd.arg("--").arg(exe).arg("mock").arg("--scenario").arg(&compiled.path).arg("--trace").arg(trace);
    // Verdicts must not depend on the developer's shell.
    cmd.env_remove("RUST_LOG").env("NO_COLOR", "1");
    cmd
}

/// Run one scenario against the reference client.
pub async fn run_case(compiled: &Compiled, cfg: &RunConfig) -> Result<CaseReport, RunError> {
    let started = Instant::now();
    let scratch = tempfile::Builder::new().prefix("backchannel-case-").tempdir().map_err(RunError::Scratch)?;
    let trace_path = scratch.path().join("trace.jsonl");
    let cmd = reference_client_command(&cfg.exe, compiled, &trace_path);
    let run = supervise(cmd, compiled.timeout + CASE_SLACK)
        .await
        .map_err(|source| RunError::Spawn { program: cfg.exe.display().to_string(), source })?;
    let trace = Trace::read(&trace_path).ok();
    let parser = AutoFormat::default();
    let mut lines = logs::parse(Stream::Stderr, &run.stderr, &parser);
    lines.extend(logs::parse(Stream::Stdout, &run.stdout, &parser));
    // The reference client names a stdio server `stdio:<program>`.
    let server_names = vec![format!("stdio:{}", cfg.exe.display())];
    let client_status = describe_status(run.status, run.timed_out);
    let client = ClientEnd { timed_out: run.timed_out, status: client_status.clone(), limit: compiled.timeout + CASE_SLACK };
    let checks = check::evaluate(&CaseInput { compiled, trace: trace.as_ref(), logs: &lines, server_names: &server_names, client: &client });
    if let Some(dir) = &cfg.keep {
        keep_artifacts(dir, &compiled.id, &trace_path, &run);
    }
    let stderr_tail = String::from_utf8_lossy(&run.stderr).lines().rev().take(10).map(str::to_owned).collect::<Vec<_>>().into_iter().rev().collect();
    Ok(CaseReport {
        scenario: compiled.id.clone(),
        title: compiled.scenario.title.clone(),
        checks,
        duration: started.elapsed(),
        client_status,
        stderr_tail,
        trace,
        logs: lines,
    })
}

fn keep_artifacts(dir: &Path, id: &str, trace: &Path, run: &Supervised) {
    let case_dir = dir.join(id.replace('/', "__"));
    if std::fs::create_dir_all(&case_dir).is_err() {
        return;
    }
    let _ = std::fs::copy(trace, case_dir.join("trace.jsonl"));
    let _ = std::fs::write(case_dir.join("stderr.log"), &run.stderr);
    let _ = std::fs::write(case_dir.join("stdout.log"), &run.stdout);
}
