//! The runner: one case = one scenario on one transport against one client. Over
//! stdio the client launches the mock; over HTTP the runner starts the mock
//! (`backchannel mock --http|--sse 127.0.0.1:0`) and hands the client its URL. The
//! client is supervised; then the runner reads the mock's trace and the client's
//! logs and evaluates the checks.

pub mod mock;
pub mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use backchannel_mock::trace::Trace;
use tokio::process::Command;

use crate::check::{self, CaseInput, CheckResult, ClientEnd, Verdict};
use crate::logs::{self, AutoFormat, LevelParser, LogLine, Stream};
use crate::profile::{LoadedProfile, Target};
use crate::scenario::Compiled;
use crate::scenario::model::{Revision, Transport};
pub use process::{Supervised, describe_status, supervise};

/// Extra time a client gets beyond the scenario's own timeout (start-up, shutdown).
pub const CASE_SLACK: Duration = Duration::from_secs(10);

/// Once the mock has ended the session, the client has this long to exit.
pub const AFTER_END: Duration = Duration::from_secs(5);

/// The client under test.
#[derive(Debug, Clone)]
pub enum ClientSpec {
    /// The reference client: `backchannel client --stdio … -- <mock argv>`.
    Reference,
    /// Any command. The mock's argv is appended (the stdio contract: the client
    /// launches the server it is given); the scenario's client hints are passed as
    /// `BACKCHANNEL_CLIENT_ROOTS` (space-separated URIs) and
    /// `BACKCHANNEL_CLIENT_LOG_LEVEL`, and its id as `MCP_CONFORMANCE_SCENARIO`.
    Command(Vec<String>),
    /// A client profile (`clients/<name>.yaml`): the same contract, with placeholders,
    /// environment, log format and server names of its own.
    Profile(std::sync::Arc<LoadedProfile>),
}

impl ClientSpec {
    /// The transports this client supports.
    pub fn supports(&self, t: Transport) -> bool {
        match self {
            Self::Profile(p) => p.profile.transports.contains(&t),
            _ => true,
        }
    }
}

/// How to run cases.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The `backchannel` executable (runs the mock and the reference client).
    pub exe: PathBuf,
    /// The client under test.
    pub client: ClientSpec,
    /// Keep each case's trace and logs under this directory.
    pub keep: Option<PathBuf>,
    /// How long a client may take to exit after the mock ended the session.
    pub after_end: Duration,
}

impl RunConfig {
    /// Run the reference client with the given `backchannel` executable.
    pub fn reference(exe: PathBuf) -> Self {
        Self { exe, client: ClientSpec::Reference, keep: None, after_end: AFTER_END }
    }
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseReport {
    /// Scenario id.
    pub scenario: String,
    /// The transport it ran on.
    pub transport: Transport,
    /// The protocol revision the mock offered.
    pub revision: Revision,
    /// Scenario title.
    pub title: String,
    /// Every check's result.
    pub checks: Vec<CheckResult>,
    /// Wall time of the case.
    pub duration: Duration,
    /// When it finished (wall clock, for reports).
    pub finished_at: std::time::SystemTime,
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
    /// The worst verdict among the checks, before any baseline.
    pub fn worst(&self, strict: bool) -> Verdict {
        self.checks.iter().map(|c| c.verdict(strict)).max().unwrap_or(Verdict::Pass)
    }

    /// The worst verdict among the checks, after the baseline.
    pub fn worst_final(&self, strict: bool) -> Verdict {
        self.checks.iter().map(|c| c.final_verdict(strict)).max().unwrap_or(Verdict::Pass)
    }
}

/// Why a case could not be run at all (as opposed to failing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// A scratch directory could not be made.
    #[error("failed to create a scratch directory")]
    Scratch(#[source] std::io::Error),
    /// The HTTP mock could not be started.
    #[error("failed to start the mock server")]
    Mock(#[from] mock::MockError),
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

/// The mock's argv for a case: what a client under test launches.
pub fn server_argv(exe: &Path, compiled: &Compiled, revision: Revision, trace: &Path) -> Vec<String> {
    vec![
        exe.display().to_string(),
        "mock".into(),
        "--scenario".into(),
        compiled.path.display().to_string(),
        "--revision".into(),
        revision.to_string(),
        "--trace".into(),
        trace.display().to_string(),
    ]
}

/// Where the client finds the server: it launches the mock (stdio) or connects to a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The mock's argv, for the client to launch.
    Launch(Vec<String>),
    /// The URL of a running HTTP mock.
    Url(String),
}

impl Endpoint {
    /// The profile placeholders' view of it.
    pub fn target(&self) -> Target<'_> {
        match self {
            Self::Launch(argv) => Target::Launch(argv),
            Self::Url(url) => Target::Url(url),
        }
    }
}

/// How often the reference client pings an HTTP server to notice its end.
const REFERENCE_PING_SECONDS: &str = "0.2";

/// The client's command line for a case.
pub fn client_command(
    cfg: &RunConfig,
    compiled: &Compiled,
    transport: Transport,
    revision: Revision,
    endpoint: &Endpoint,
) -> Command {
    let plan = compiled.client_plan();
    let level = plan.log_level.map_or("info", |l| l.as_str());
    let mut cmd = match &cfg.client {
        ClientSpec::Reference => {
            let mut cmd = Command::new(&cfg.exe);
            cmd.arg("client");
            for root in &plan.roots {
                cmd.arg("--root").arg(root_arg(root));
            }
            if let Some(tool) = &plan.call_tool {
                cmd.arg("--call-tool").arg(tool);
            }
            if let Some((modes, delay)) = &plan.elicitation {
                cmd.arg("--elicitation").arg(modes.join(",")).arg("--elicitation-delay").arg(delay.to_string());
            }
            if let Some((after, roots)) = &plan.roots_change {
                cmd.arg("--roots-change-after").arg(after.to_string());
                for root in roots {
                    cmd.arg("--root-after").arg(root_arg(root));
                }
            }
            cmd.arg("--log-level").arg(level);
            match endpoint {
                Endpoint::Launch(argv) => cmd.arg("--stdio").arg("--").args(argv),
                Endpoint::Url(url) => cmd.arg("--url").arg(url).arg("--ping-interval").arg(REFERENCE_PING_SECONDS),
            };
            cmd
        }
        ClientSpec::Command(argv) => {
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]);
            match endpoint {
                Endpoint::Launch(server) => cmd.args(server),
                Endpoint::Url(url) => cmd.arg(url),
            };
            cmd
        }
        ClientSpec::Profile(p) => {
            let argv = p.argv(transport, &endpoint.target());
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]).envs(&p.profile.env);
            cmd
        }
    };
    if !matches!(cfg.client, ClientSpec::Reference) {
        let roots: Vec<&str> = plan.roots.iter().map(|(u, _)| u.as_str()).collect();
        cmd.env("BACKCHANNEL_CLIENT_ROOTS", roots.join(" ")).env("BACKCHANNEL_CLIENT_LOG_LEVEL", level);
        cmd.env("BACKCHANNEL_CLIENT_CALL_TOOL", plan.call_tool.as_deref().unwrap_or_default());
        cmd.env(
            "BACKCHANNEL_CLIENT_ELICITATION",
            plan.elicitation.as_ref().map(|(m, _)| m.join(",")).unwrap_or_default(),
        );
        cmd.env(
            "BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS",
            plan.elicitation.as_ref().map(|(_, delay)| delay.to_string()).unwrap_or_default(),
        );
        if let Some((after, roots)) = &plan.roots_change {
            let roots: Vec<&str> = roots.iter().map(|(u, _)| u.as_str()).collect();
            cmd.env("BACKCHANNEL_CLIENT_ROOTS_CHANGE", format!("{after} {}", roots.join(" ")));
        }
        cmd.env("MCP_CONFORMANCE_PROTOCOL_VERSION", revision.as_str());
    }
    // Verdicts must not depend on the developer's shell.
    cmd.env_remove("RUST_LOG").env("NO_COLOR", "1").env("MCP_CONFORMANCE_SCENARIO", &compiled.id);
    cmd
}

/// A root as `backchannel client --root` takes it: `URI` or `URI=NAME`.
fn root_arg((uri, name): &(String, Option<String>)) -> String {
    match name {
        Some(n) => format!("{uri}={n}"),
        None => uri.clone(),
    }
}

/// Resolves once the trace ends with the mock's `end` record.
async fn session_ended(trace: &Path) {
    loop {
        if last_record_is_end(trace).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn last_record_is_end(trace: &Path) -> bool {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let Ok(mut f) = tokio::fs::File::open(trace).await else { return false };
    let Ok(len) = f.seek(std::io::SeekFrom::End(0)).await else { return false };
    let start = len.saturating_sub(512);
    if f.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return false;
    }
    let mut tail = Vec::new();
    if f.read_to_end(&mut tail).await.is_err() {
        return false;
    }
    let tail = String::from_utf8_lossy(&tail);
    tail.trim_end().rsplit('\n').next().is_some_and(|l| l.starts_with("{\"kind\":\"end\""))
}

/// Run one scenario on one transport against the configured client.
pub async fn run_case(
    compiled: &Compiled,
    transport: Transport,
    revision: Revision,
    cfg: &RunConfig,
) -> Result<CaseReport, RunError> {
    let started = Instant::now();
    let scratch = tempfile::Builder::new().prefix("backchannel-case-").tempdir().map_err(RunError::Scratch)?;
    let trace_path = scratch.path().join("trace.jsonl");
    let (endpoint, mock) = match transport {
        Transport::Stdio => (Endpoint::Launch(server_argv(&cfg.exe, compiled, revision, &trace_path)), None),
        Transport::Http | Transport::Sse => {
            let mock = mock::MockProcess::start(&cfg.exe, compiled, transport, revision, &trace_path).await?;
            (Endpoint::Url(mock.url.clone()), Some(mock))
        }
    };
    let mut server_names = match &endpoint {
        // The reference client names a stdio server `stdio:<program>`.
        Endpoint::Launch(argv) => vec![format!("stdio:{}", argv[0])],
        Endpoint::Url(url) => vec![url.clone()],
    };
    if let ClientSpec::Profile(p) = &cfg.client {
        server_names.extend(p.profile.server_names.iter().map(|n| p.expand(n, transport, &endpoint.target())));
    }
    let cmd = client_command(cfg, compiled, transport, revision, &endpoint);
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let run = supervise(cmd, compiled.timeout + CASE_SLACK, session_ended(&trace_path), cfg.after_end).await;
    let mock_stderr = match mock {
        // The client is done: the mock gets a moment to end its session and exit.
        Some(m) => m.finish(process::LINGER).await,
        None => Vec::new(),
    };
    let run = run.map_err(|source| RunError::Spawn { program, source })?;
    let trace = Trace::read(&trace_path).ok();
    let parser: Box<dyn LevelParser> = match &cfg.client {
        ClientSpec::Profile(p) => p.level_parser(),
        _ => Box::new(AutoFormat::default()),
    };
    let mut lines = logs::parse(Stream::Stderr, &run.stderr, parser.as_ref());
    lines.extend(logs::parse(Stream::Stdout, &run.stdout, parser.as_ref()));
    let client_status = describe_status(run.status, run.timed_out);
    let client = ClientEnd { timed_out: run.timed_out, status: client_status.clone(), after_end: cfg.after_end };
    let checks = check::evaluate(&CaseInput {
        compiled,
        trace: trace.as_ref(),
        logs: &lines,
        server_names: &server_names,
        client: &client,
        revision,
    });
    if let Some(dir) = &cfg.keep {
        keep_artifacts(dir, &format!("{}@{transport}@{revision}", compiled.id), &trace_path, &run, &mock_stderr);
    }
    let stderr_tail = String::from_utf8_lossy(&run.stderr)
        .lines()
        .rev()
        .take(10)
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Ok(CaseReport {
        scenario: compiled.id.clone(),
        transport,
        revision,
        title: compiled.scenario.title.clone(),
        checks,
        duration: started.elapsed(),
        finished_at: std::time::SystemTime::now(),
        client_status,
        stderr_tail,
        trace,
        logs: lines,
    })
}

fn keep_artifacts(dir: &Path, id: &str, trace: &Path, run: &Supervised, mock_stderr: &[u8]) {
    let case_dir = dir.join(id.replace('/', "__"));
    if std::fs::create_dir_all(&case_dir).is_err() {
        return;
    }
    let _ = std::fs::copy(trace, case_dir.join("trace.jsonl"));
    let _ = std::fs::write(case_dir.join("stderr.log"), &run.stderr);
    let _ = std::fs::write(case_dir.join("stdout.log"), &run.stdout);
    if !mock_stderr.is_empty() {
        let _ = std::fs::write(case_dir.join("mock-stderr.log"), mock_stderr);
    }
}

/// Progress of [`run_cases`].
#[derive(Debug)]
pub enum CaseProgress {
    /// The case at this plan position got its slot and starts.
    Started(usize),
    /// The case at this plan position is done (or could not be run).
    Finished(usize, Box<Result<CaseReport, (String, RunError)>>),
}

/// Run cases with at most `jobs` at a time. `on` sees each case start as it
/// starts, and each finish in plan order (a finished case waits for the ones
/// planned before it).
pub async fn run_cases(
    cases: Vec<(std::sync::Arc<Compiled>, Transport, Revision)>,
    cfg: std::sync::Arc<RunConfig>,
    jobs: usize,
    mut on: impl FnMut(CaseProgress),
) {
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (compiled, transport, revision)) in cases.into_iter().enumerate() {
        let (limit, cfg, started_tx) = (limit.clone(), cfg.clone(), started_tx.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("the semaphore stays open");
            let _ = started_tx.send(i);
            let label = format!("{} [{transport} {revision}]", compiled.id);
            (i, run_case(&compiled, transport, revision, &cfg).await.map_err(|e| (label, e)))
        });
    }
    drop(started_tx);
    let mut done: std::collections::BTreeMap<usize, Result<CaseReport, (String, RunError)>> =
        std::collections::BTreeMap::new();
    let mut next = 0;
    loop {
        tokio::select! {
            biased;
            Some(i) = started.recv() => on(CaseProgress::Started(i)),
            joined = tasks.join_next() => {
                let Some(joined) = joined else { break };
                let Ok((i, report)) = joined else { continue };
                done.insert(i, report);
                while let Some(r) = done.remove(&next) {
                    on(CaseProgress::Finished(next, Box::new(r)));
                    next += 1;
                }
            }
        }
    }
}
