//! The runner: one case = one compiled scenario, on one transport, at one revision,
//! against one client ([`run_case`]). Over stdio the client launches the mock (which
//! reads the compiled script); over HTTP the runner serves the mock itself and hands
//! the client its URL ([`mock`]). The client — who is under test and its command
//! line: [`client`]; in gateway mode the gateway with the reference client
//! downstream: [`gateway`] — is supervised (own process group, bounded output,
//! timeouts, reaped: [`process`]); then the runner reads the trace and the client's
//! logs and evaluates the checks into ungraded findings ([`CaseRun`]). Grading,
//! baselines and scheduling many cases are the pipeline's ([`crate::pipeline`]).

pub mod client;
pub mod gateway;
pub mod mock;
pub mod ports;
pub mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use backchannel_mock::trace::{EndReason, Trace};
use backchannel_protocol::{Revision, Transport};

use crate::check::{self, CaseInput, ClientEnd};
use crate::logs::{self, Stream};
use crate::outcome::{CaseRecord, CaseRun};
use crate::scenario::Compiled;
pub use client::ClientSpec;
pub use gateway::GatewayCase;
pub use process::{Stop, Supervised, describe_status, supervise};

/// Extra time a client gets beyond the scenario's own timeout (start-up, shutdown).
pub const CASE_SLACK: Duration = Duration::from_secs(10);

/// Once the mock has ended the session, the client has this long to exit.
pub const AFTER_END: Duration = Duration::from_secs(5);

/// How to run cases.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The `backchannel` executable (the stdio mock and the reference client).
    pub exe: PathBuf,
    /// The client under test.
    pub client: ClientSpec,
    /// Keep each case's trace and logs under this directory.
    pub keep: Option<PathBuf>,
    /// How long a client may take to exit after the mock ended the session.
    pub after_end: Duration,
    /// Stops the run: cases not started do not start, cases in flight are killed.
    pub stop: Stop,
    /// Known failures given on their own (`--baseline FILE`), added to the profile's.
    pub baseline: crate::baseline::Baseline,
}

impl RunConfig {
    /// Run the reference client with the given `backchannel` executable.
    pub fn reference(exe: PathBuf) -> Self {
        Self {
            exe,
            client: ClientSpec::Reference,
            keep: None,
            after_end: AFTER_END,
            stop: Stop::default(),
            baseline: crate::baseline::Baseline::default(),
        }
    }

    /// The baseline the run is graded with: the profile's entries, then `baseline`.
    pub fn baseline(&self) -> crate::baseline::Baseline {
        let mut b = self.client.baseline();
        b.extend(self.baseline.clone());
        b
    }
}

/// Why a case could not be run at all (as opposed to failing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A scratch directory could not be made.
    #[error("failed to create a scratch directory")]
    Scratch(#[source] std::io::Error),
    /// The mock could not be prepared or started.
    #[error("failed to start the mock server")]
    Mock(#[from] mock::MockError),
    /// A gateway case could not be prepared (a free port, its files).
    #[error("failed to prepare the gateway: {0}")]
    Gateway(String),
    /// The run was stopped before or while the case ran.
    #[error("the run was stopped")]
    Stopped,
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

/// Resolves once the trace ends with the mock's `end` record (a stdio mock is the
/// client's child: the trace file is all the runner sees of it).
async fn trace_ended(trace: PathBuf) {
    loop {
        if last_record_is_end(&trace) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Whether the trace's last line is the `end` record. It reads the last 512 bytes
/// of a local file in place (microseconds): a hop through tokio's blocking pool for
/// each of the hundreds of polls a case makes cost more than the read.
fn last_record_is_end(trace: &Path) -> bool {
    use std::io::{Read, Seek};
    let Ok(mut f) = std::fs::File::open(trace) else { return false };
    let Ok(len) = f.seek(std::io::SeekFrom::End(0)) else { return false };
    if f.seek(std::io::SeekFrom::Start(len.saturating_sub(512))).is_err() {
        return false;
    }
    let mut tail = Vec::with_capacity(512);
    if f.read_to_end(&mut tail).is_err() {
        return false;
    }
    let tail = String::from_utf8_lossy(&tail);
    tail.trim_end().rsplit('\n').next().is_some_and(|l| l.starts_with("{\"kind\":\"end\""))
}

/// Run one case against the configured client and evaluate its checks: the mock,
/// the gateway's set-up in gateway mode, the client supervised until the session is
/// over, what the case left read back, the checks.
pub async fn run_case(
    compiled: &Compiled,
    transport: Transport,
    revision: Revision,
    cfg: &RunConfig,
) -> Result<CaseRun, RunError> {
    let started = Instant::now();
    if cfg.stop.is_set() {
        return Err(RunError::Stopped);
    }
    let scratch = tempfile::Builder::new().prefix("backchannel-case-").tempdir().map_err(RunError::Scratch)?;
    let trace_path = scratch.path().join("trace.jsonl");

    // The mock: launched by the client (stdio) or served here (HTTP); a gateway may
    // start it more than once, or open several sessions, each traced on its own.
    let gateway_mode = cfg.client.gateway_profile().is_some();
    let mock =
        mock::start(&cfg.exe, compiled, transport, revision, cfg.client.settle(), gateway_mode, &trace_path).await?;
    let gateway = match cfg.client.gateway_profile() {
        Some(p) => Some(GatewayCase::prepare(p, transport, &mock.endpoint, scratch.path())?),
        None => None,
    };
    let cmd = client::command(cfg, compiled, transport, revision, &mock.endpoint, gateway.as_ref());

    // The client, supervised. The case's time limit is the scenario's (plus slack),
    // from the moment a gateway's downstream session is up. The case ends when the
    // judged session ends: a gateway outlives it by design, and is stopped then.
    let trigger = compiled.awaited_request().map(|m| m.as_str().to_owned());
    let after_end = if gateway_mode { gateway::AFTER_END.min(cfg.after_end) } else { cfg.after_end };
    let scenario_time = compiled.timeout + CASE_SLACK;
    let up = gateway.as_ref().map(GatewayCase::until_up);
    let limit = async move {
        if let Some(up) = up {
            up.await;
        }
        tokio::time::sleep(scenario_time).await;
    };
    let ended: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = match (&gateway, &mock.http) {
        (Some(_), _) => Box::pin(gateway::judged_trace_ended(trace_path.clone(), trigger.clone())),
        (None, Some(m)) => Box::pin(m.ended()),
        (None, None) => Box::pin(trace_ended(trace_path.clone())),
    };
    // A stdio mock learns that the client exited from its stdin closing.
    let exited = || {
        if let Some(m) = &mock.http {
            m.client_exited();
        }
    };
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let run = supervise(cmd, limit, ended, exited, after_end, &cfg.stop).await;
    if let Some(m) = mock.http {
        // The client is done: the mock gets a moment to end its session.
        m.finish(process::LINGER).await;
    }
    let run = run.map_err(|source| RunError::Spawn { program, source })?;
    if run.stopped {
        return Err(RunError::Stopped);
    }

    // What the case left: the judged trace, the client's logs and end, and what
    // reached the downstream client.
    let (judged, others) =
        if gateway_mode { gateway::judged_trace(&trace_path, trigger.as_deref()) } else { (trace_path.clone(), 0) };
    let trace = Trace::read(&judged).ok();
    let parser = cfg.client.level_parser();
    let mut lines = logs::parse(Stream::Stderr, &run.stderr, parser.as_ref());
    lines.extend(logs::parse(Stream::Stdout, &run.stdout, parser.as_ref()));
    let session_over = trace.as_ref().and_then(Trace::end).is_some_and(|e| e.reason != EndReason::Timeout);
    let client_status = match &gateway {
        Some(_) => gateway::status(&run, session_over, others, trigger.as_deref()),
        None => describe_status(run.status, run.timed_out),
    };
    let client = ClientEnd {
        timed_out: run.timed_out,
        hung: run.hung,
        status: client_status.clone(),
        after_end,
        output_truncated: run.truncated,
    };
    let delivered = gateway.as_ref().map(|g| g.delivered(compiled));

    // The checks.
    let claims = cfg.client.claims();
    let findings = check::evaluate(&CaseInput {
        compiled,
        trace: trace.as_ref(),
        logs: &lines,
        server_names: &cfg.client.server_names(transport, &mock.endpoint),
        client: &client,
        revision,
        claims: &claims,
        downstream: delivered.as_ref(),
        transport_claimed: cfg.client.claims_transport(transport),
    });
    if let Some(dir) = &cfg.keep {
        keep_artifacts(dir, &format!("{}@{transport}@{revision}", compiled.id), scratch.path(), &run);
    }
    let record = CaseRecord {
        scenario: compiled.id.clone(),
        transport,
        revision,
        title: compiled.title.clone(),
        duration: started.elapsed(),
        finished_at: std::time::SystemTime::now(),
        client_status,
        stderr_tail: tail(&run.stderr, 10),
        trace,
        logs: lines,
        output_truncated: run.truncated,
        plan_index: 0,
        downstream: delivered,
    };
    Ok(CaseRun { record, findings })
}

/// The last `n` lines of a client's output.
fn tail(output: &[u8], n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(output);
    let mut lines: Vec<String> = text.lines().rev().take(n).map(str::to_owned).collect();
    lines.reverse();
    lines
}

fn keep_artifacts(dir: &Path, id: &str, scratch: &Path, run: &Supervised) {
    let case_dir = dir.join(id.replace('/', "__"));
    if std::fs::create_dir_all(&case_dir).is_err() {
        return;
    }
    for file in ["trace.jsonl", "script.json", "downstream.jsonl", "downstream.log", "bystander.jsonl"] {
        let _ = std::fs::copy(scratch.join(file), case_dir.join(file));
    }
    // A gateway that started the server more than once: every process's trace.
    for extra in backchannel_mock::trace::traces_of(&scratch.join("trace.jsonl")).iter().skip(1) {
        if let Some(name) = extra.file_name() {
            let _ = std::fs::copy(extra, case_dir.join(name));
        }
    }
    let _ = std::fs::write(case_dir.join("stderr.log"), &run.stderr);
    let _ = std::fs::write(case_dir.join("stdout.log"), &run.stdout);
}
