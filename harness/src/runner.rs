//! The runner: one case = one compiled scenario, on one transport, at one revision,
//! against one client. Over stdio the client launches the mock (which reads the
//! compiled script); over HTTP the runner serves the mock itself and hands the
//! client its URL. The client is supervised (own process group, bounded output,
//! timeouts, reaped); then the runner reads the trace and the client's logs and
//! evaluates the checks into ungraded findings ([`CaseRun`]). Grading, baselines and
//! scheduling many cases are the pipeline's ([`crate::pipeline`]).

pub mod mock;
pub mod process;

use backchannel_mock::script::RoundMethod;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backchannel_mock::protocol::{Revision, Transport};
use backchannel_mock::trace::{EndReason, Trace};
use tokio::process::Command;

use crate::check::{self, CaseInput, ClientEnd};
use crate::logs::{self, AutoFormat, LevelParser, Stream};
use crate::outcome::{CaseRecord, CaseRun};
use crate::profile::{Downstream, LoadedProfile, Target};
use crate::scenario::Compiled;
use crate::scenario::compile::DEFAULT_SETTLE;
use crate::scenario::compiled::{Knob, Knobs};
pub use process::{Stop, Supervised, describe_status, supervise};

/// Extra time a client gets beyond the scenario's own timeout (start-up, shutdown).
pub const CASE_SLACK: Duration = Duration::from_secs(10);

/// Once the mock has ended the session, the client has this long to exit.
pub const AFTER_END: Duration = Duration::from_secs(5);

/// Once the mock has ended the session, a gateway case ends after this long idle.
const GATEWAY_AFTER_END: Duration = Duration::from_millis(500);
/// How long a gateway may take to accept connections, unless its profile says.
const DEFAULT_GATEWAY_STARTUP: Duration = Duration::from_secs(60);

/// The client under test.
#[derive(Debug, Clone)]
pub enum ClientSpec {
    /// The reference client: `backchannel client … --stdio -- <mock argv>` or `--url URL`.
    Reference,
    /// Any command. The mock's argv (stdio) or URL (HTTP) is appended — the client
    /// contract — and the scenario's client plan is passed as `BACKCHANNEL_CLIENT_*`.
    Command {
        /// The command line.
        argv: Vec<String>,
        /// The knobs it claims to honour (`--honours`): checks that depend on one it
        /// does not take up then fail instead of being N/A.
        honours: Knobs,
        /// Its settle time (`--settle-ms`, see [`ClientSpec::settle`]).
        settle: Duration,
    },
    /// A client profile (`clients/<name>.yaml`): the same contract, with placeholders,
    /// environment, log format and server names of its own.
    Profile(Arc<LoadedProfile>),
    /// A gateway (`gateways/<name>.yaml`, or `--gateway-cmd`): started with the mock as
    /// its upstream server, with the reference client downstream, configured as the
    /// scenario says and keeping a record of what reaches it. The gateway's output is
    /// the log judged; the reference client's goes to a file of its own.
    Gateway(Arc<LoadedProfile>),
}

impl ClientSpec {
    /// A client given as one command line (shell quoting).
    pub fn command_line(line: &str, honours: Knobs, settle: Duration) -> Result<Self, String> {
        match shlex::split(line) {
            Some(argv) if !argv.is_empty() => Ok(Self::Command { argv, honours, settle }),
            _ => Err(format!("cannot split `{line}` into a command line")),
        }
    }

    /// A profiled client (`clients/<name>.yaml`, or a path), which must be installed.
    pub fn profile(name_or_path: &str) -> Result<Self, String> {
        let profile = LoadedProfile::find(name_or_path)?;
        profile.installed("client", "clients")?;
        Ok(Self::Profile(Arc::new(profile)))
    }

    /// A gateway profile (`gateways/<name>.yaml`, or a path), which must be installed.
    pub fn gateway(name_or_path: &str) -> Result<Self, String> {
        let profile = LoadedProfile::find_in("gateways", name_or_path)?;
        if profile.profile.downstream.is_none() {
            return Err(format!("`{}` is not a gateway profile (it has no `downstream:`)", profile.name));
        }
        profile.installed("gateway", "gateways")?;
        Ok(Self::Gateway(Arc::new(profile)))
    }

    /// The transports this client supports (a gateway: upstream).
    pub fn supports(&self, t: Transport) -> bool {
        match self {
            Self::Profile(p) | Self::Gateway(p) => p.profile.transports.contains(&t),
            _ => true,
        }
    }

    /// A short name for the client, with its version when the profile can tell.
    pub fn describe(&self) -> String {
        match self {
            Self::Reference => "the reference client".to_owned(),
            Self::Command { argv, .. } => format!("`{}`", argv.join(" ")),
            Self::Profile(p) => match p.version() {
                Some(v) => format!("{} {v}", p.name),
                None => p.name.clone(),
            },
            Self::Gateway(p) => match p.version() {
                Some(v) => format!("the gateway {} {v}", p.name),
                None => format!("the gateway {}", p.name),
            },
        }
    }

    /// Cases run at once by default. The reference client's cases spend their time
    /// waiting (answer windows, grace periods): the built-in suite takes 205 s at one
    /// job and 7.5 s at 32 on two cores with the same verdicts (BENCHMARKS.md). A
    /// third-party client may burn a core per start (LiteLLM imports for ~2 s), and a
    /// starved client would miss answer windows: one per core.
    pub fn default_jobs(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        match self {
            Self::Reference => (cores * 8).min(64),
            _ => cores,
        }
    }

    /// The knobs the client claims to honour: every one for the reference client,
    /// the profile's `honours:`, or `--honours`.
    pub fn claims(&self) -> Knobs {
        match self {
            Self::Reference => Knob::ALL.into_iter().collect(),
            Self::Command { honours, .. } => honours.clone(),
            // A gateway: what it says it relays (its downstream, the reference client,
            // honours every knob; whether the gateway passes it on is what is judged).
            Self::Profile(p) | Self::Gateway(p) => p.profile.honours.iter().copied().collect(),
        }
    }

    /// How long the mock waits after its closing barrier for what the barrier cannot
    /// prove (answers a client sends concurrently, late log lines): none for the
    /// reference client, whose handler answers and logs before it returns; the
    /// profile's `settle_ms` or `--settle-ms` for another client (default 300 ms).
    pub fn settle(&self) -> Duration {
        match self {
            Self::Reference => Duration::ZERO,
            Self::Command { settle, .. } => *settle,
            Self::Profile(p) | Self::Gateway(p) => p.profile.settle_ms.map_or(DEFAULT_SETTLE, Duration::from_millis),
        }
    }

    /// The client's baseline (empty but for a profile).
    pub fn baseline(&self) -> crate::baseline::Baseline {
        match self {
            Self::Profile(p) | Self::Gateway(p) => p.baseline.clone(),
            _ => crate::baseline::Baseline::default(),
        }
    }
}

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

/// How often the reference client checks that an HTTP server is still there (a
/// connect, and a ping) to notice the end of the session.
const REFERENCE_PING_SECONDS: &str = "0.2";

/// What a gateway case adds: the port the gateway listens on downstream and the
/// case's scratch directory (its files, the downstream record and logs).
#[derive(Debug, Clone)]
pub struct GatewayCase {
    /// The free loopback port for `{port}`.
    pub port: u16,
    /// The case's scratch directory (`{case_dir}`).
    pub dir: PathBuf,
}

impl GatewayCase {
    /// The downstream client's record of what reached it.
    pub fn record(&self) -> PathBuf {
        self.dir.join("downstream.jsonl")
    }

    /// The downstream client's own logs.
    pub fn log(&self) -> PathBuf {
        self.dir.join("downstream.log")
    }

    /// The bystander session's record (scenarios with `gateway: {bystander: true}`).
    pub fn bystander_record(&self) -> PathBuf {
        self.dir.join("bystander.jsonl")
    }

    /// `{port}` and `{case_dir}` expanded in one string.
    fn expand(&self, s: &str) -> String {
        s.replace("{port}", &self.port.to_string()).replace("{case_dir}", &self.dir.display().to_string())
    }
}

/// A loopback port nothing listens on now (the OS's pick; it is free when returned).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// The reference client's command line with the scenario's client plan as flags
/// (the endpoint is the caller's).
/// `via`: a gateway's downstream (its name for the scenario's tool, the arguments it
/// needs).
fn reference_command(exe: &Path, compiled: &Compiled, level: &str, via: Option<&Downstream>) -> Command {
    let plan = &compiled.client;
    let mut cmd = Command::new(exe);
    cmd.arg("client");
    for root in &plan.roots {
        cmd.arg("--root").arg(root_arg(root));
    }
    if let Some(tool) = &plan.call_tool {
        let m = plan.trigger_request;
        let flag = match m {
            RoundMethod::ToolsCall => "--call-tool",
            RoundMethod::PromptsGet => "--get-prompt",
            RoundMethod::ResourcesRead => "--read-resource",
        };
        let prefix = via.map_or("", |d| d.tool_prefix.as_str());
        cmd.arg(flag).arg(format!("{prefix}{}", m.target(tool)));
    }
    if let Some(args) = plan.call_arguments.as_ref().or_else(|| via.and_then(|d| d.call_arguments.as_ref())) {
        cmd.arg("--call-tool-arguments").arg(serde_json::Value::Object(args.clone()).to_string());
    }
    if let Some((modes, delay)) = &plan.elicitation {
        cmd.arg("--elicitation").arg(modes.join(",")).arg("--elicitation-delay").arg(delay.to_string());
        cmd.arg("--elicitation-action").arg(plan.elicitation_action.as_str());
    }
    if let Some(features) = &plan.sampling {
        cmd.arg("--sampling").arg(features.join(","));
    }
    if let Some((after, roots)) = &plan.roots_change {
        cmd.arg("--roots-change-after").arg(after.to_string());
        for root in roots {
            cmd.arg("--root-after").arg(root_arg(root));
        }
    }
    cmd.arg("--log-level").arg(level);
    cmd
}

/// The client's command line for a case (`gateway`: set for a gateway case).
pub fn client_command(
    cfg: &RunConfig,
    compiled: &Compiled,
    transport: Transport,
    revision: Revision,
    endpoint: &Endpoint,
    gateway: Option<&GatewayCase>,
) -> Command {
    let plan = &compiled.client;
    let level = plan.log_level.map_or("info", |l| l.as_str());
    let mut cmd = match &cfg.client {
        ClientSpec::Reference => {
            let mut cmd = reference_command(&cfg.exe, compiled, level, None);
            match endpoint {
                Endpoint::Launch(argv) => cmd.arg("--stdio").arg("--").args(argv),
                Endpoint::Url(url) => cmd.arg("--url").arg(url).arg("--ping-interval").arg(REFERENCE_PING_SECONDS),
            };
            cmd
        }
        ClientSpec::Gateway(p) => {
            // The reference client downstream: it launches the gateway (stdio) or
            // starts it and connects once its port accepts connections (HTTP). The
            // harness ends the case (the gateway outlives the upstream session), so
            // the client does not ping to notice an end.
            let downstream = p.profile.downstream.clone().unwrap_or_else(Downstream::stdio);
            let mut cmd = reference_command(&cfg.exe, compiled, level, Some(&downstream));
            // At a legacy revision the downstream speaks it too: a gateway that
            // follows its client's era (FastMCP) must meet the upstream's.
            if revision.is_legacy() {
                cmd.arg("--initialize-only");
            }
            let argv: Vec<String> = p.argv(transport, &endpoint.target());
            let (argv, down) = match gateway {
                Some(g) => {
                    cmd.arg("--record").arg(g.record()).arg("--log-file").arg(g.log());
                    (argv.iter().map(|w| g.expand(w)).collect::<Vec<_>>(), g.port)
                }
                None => (argv, 0),
            };
            // The scenario's downstream arrangement: a bystander session beside the
            // client's (HTTP only: stdio is one session), no standalone GET stream
            // (Streamable HTTP only).
            if opens_bystander(&downstream, compiled)
                && let Some(g) = gateway
            {
                cmd.arg("--bystander-record").arg(g.bystander_record());
            }
            if downstream.transport == Transport::Http && !compiled.gateway.get_stream {
                cmd.arg("--no-get-stream");
            }
            match downstream.transport {
                Transport::Stdio => cmd.arg("--stdio").arg("--").args(argv),
                Transport::Http | Transport::Sse => cmd
                    .arg("--url")
                    .arg(format!("http://127.0.0.1:{down}{}", downstream.path))
                    .arg("--ping-interval")
                    .arg("0")
                    .arg("--spawn")
                    .arg("--spawn-timeout")
                    .arg(gateway_startup(p).as_secs_f64().to_string())
                    .arg("--")
                    .args(argv),
            };
            // Placeholders expand in the environment too (a gateway's state directory
            // in `{case_dir}`, not the user's home).
            for (k, v) in &p.profile.env {
                let v = p.expand(v, transport, &endpoint.target());
                cmd.env(k, gateway.map_or_else(|| v.clone(), |g| g.expand(&v)));
            }
            cmd
        }
        ClientSpec::Command { argv, .. } => {
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
    if matches!(cfg.client, ClientSpec::Command { .. } | ClientSpec::Profile(_)) {
        let roots: Vec<&str> = plan.roots.iter().map(|(u, _)| u.as_str()).collect();
        cmd.env("BACKCHANNEL_CLIENT_ROOTS", roots.join(" ")).env("BACKCHANNEL_CLIENT_LOG_LEVEL", level);
        // The trigger request: a tool call, or (2026-07-28) a prompt to get or a resource to read.
        let trigger = |m: RoundMethod| match &plan.call_tool {
            Some(tool) if plan.trigger_request == m => m.target(tool),
            _ => String::new(),
        };
        cmd.env("BACKCHANNEL_CLIENT_CALL_TOOL", trigger(RoundMethod::ToolsCall));
        cmd.env("BACKCHANNEL_CLIENT_GET_PROMPT", trigger(RoundMethod::PromptsGet));
        cmd.env("BACKCHANNEL_CLIENT_READ_RESOURCE", trigger(RoundMethod::ResourcesRead));
        cmd.env(
            "BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS",
            plan.call_arguments.as_ref().map(|a| serde_json::Value::Object(a.clone()).to_string()).unwrap_or_default(),
        );
        cmd.env(
            "BACKCHANNEL_CLIENT_ELICITATION",
            plan.elicitation.as_ref().map(|(m, _)| m.join(",")).unwrap_or_default(),
        );
        cmd.env(
            "BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS",
            plan.elicitation.as_ref().map(|(_, delay)| delay.to_string()).unwrap_or_default(),
        );
        cmd.env(
            "BACKCHANNEL_CLIENT_ELICITATION_ACTION",
            if plan.elicitation.is_some() { plan.elicitation_action.as_str() } else { "" },
        );
        cmd.env("BACKCHANNEL_CLIENT_SAMPLING", plan.sampling.as_ref().map(|f| f.join(",")).unwrap_or_default());
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

/// Whether the downstream client opens a bystander session beside its own: the
/// scenario asks for one and the gateway's downstream has more than one session
/// (stdio is one).
fn opens_bystander(downstream: &Downstream, compiled: &Compiled) -> bool {
    compiled.gateway.bystander && downstream.transport != Transport::Stdio
}

/// How long a gateway may take to start ([`Profile::startup_ms`](crate::profile::Profile::startup_ms)).
fn gateway_startup(p: &LoadedProfile) -> Duration {
    p.profile.startup_ms.map_or(DEFAULT_GATEWAY_STARTUP, Duration::from_millis)
}

/// Pick the gateway's downstream port and write its files into the scratch directory.
fn prepare_gateway(
    p: &LoadedProfile,
    transport: Transport,
    endpoint: &Endpoint,
    dir: &Path,
) -> Result<GatewayCase, RunError> {
    let port = free_port().map_err(|e| RunError::Gateway(format!("no free loopback port: {e}")))?;
    let g = GatewayCase { port, dir: dir.to_owned() };
    for (name, content) in &p.profile.files {
        let text = g.expand(&p.expand(content, transport, &endpoint.target()));
        std::fs::write(dir.join(name), text).map_err(|e| RunError::Gateway(format!("cannot write {name}: {e}")))?;
    }
    Ok(g)
}

/// A root as `backchannel client --root` takes it: `URI` or `URI=NAME`.
fn root_arg((uri, name): &(String, Option<String>)) -> String {
    match name {
        Some(n) => format!("{uri}={n}"),
        None => uri.clone(),
    }
}

/// The trace to judge when a gateway may have started the mock more than once, and
/// how many others there are: the first whose session received the scenario's
/// trigger request (the operation the downstream client asked for), else the first.
fn judged_trace(path: &Path, trigger: Option<&str>) -> (PathBuf, usize) {
    let all = backchannel_mock::trace::traces_of(path);
    let others = all.len().saturating_sub(1);
    let judged = trigger.and_then(|_| all.into_iter().find(|p| received(p, trigger)));
    (judged.unwrap_or_else(|| path.to_owned()), others)
}

/// Whether the session of this trace received `trigger` (true without one).
fn received(path: &Path, trigger: Option<&str>) -> bool {
    let Some(trigger) = trigger else { return true };
    Trace::read(path).is_ok_and(|t| {
        t.frames().any(|f| {
            f.dir == backchannel_mock::trace::Direction::ClientToServer
                && f.json.as_ref().and_then(|j| j.get("method")).and_then(serde_json::Value::as_str) == Some(trigger)
        })
    })
}

/// Resolves once the judged trace ([`judged_trace`]) has its `end` record and its
/// session received the trigger, if the scenario waits for one (a probe session
/// ending first is not the end of the case).
async fn judged_trace_ended(trace: PathBuf, trigger: Option<String>) {
    loop {
        let (judged, _) = judged_trace(&trace, trigger.as_deref());
        if last_record_is_end(&judged).await && received(&judged, trigger.as_deref()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resolves once the downstream reference client's log (`--log-file`) says its
/// session with the gateway is initialized (never, if its log level hides INFO).
async fn downstream_up(log: PathBuf) {
    loop {
        if tokio::fs::read_to_string(&log).await.is_ok_and(|l| l.contains(backchannel_reference_client::SESSION_UP)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Resolves once the trace ends with the mock's `end` record (a stdio mock is the
/// client's child: the trace file is all the runner sees of it).
async fn trace_ended(trace: PathBuf) {
    loop {
        if last_record_is_end(&trace).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
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

/// Run one case against the configured client and evaluate its checks.
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
    let (endpoint, http) = match transport {
        Transport::Stdio => {
            let script = scratch.path().join("script.json");
            let gateway = matches!(cfg.client, ClientSpec::Gateway(_));
            mock::write_script(compiled, revision, cfg.client.settle(), gateway, &script)?;
            let mut argv = mock::stdio_argv(&cfg.exe, &script, &trace_path);
            if gateway {
                // A gateway may start the server more than once (a probe, one process
                // per downstream operation): each process traces on its own.
                argv.push("--trace-per-process".into());
            }
            (Endpoint::Launch(argv), None)
        }
        Transport::Http | Transport::Sse => {
            // A gateway may open more than one session (a probe first, one per
            // downstream client): each is served and traced on its own.
            let many = matches!(cfg.client, ClientSpec::Gateway(_));
            let m =
                mock::HttpMock::start(compiled, transport, revision, cfg.client.settle(), &trace_path, many).await?;
            (Endpoint::Url(m.url.clone()), Some(m))
        }
    };
    let mut server_names = match &endpoint {
        // The reference client names a stdio server `stdio:<program>`.
        Endpoint::Launch(argv) => vec![format!("stdio:{}", argv[0])],
        Endpoint::Url(url) => vec![url.clone()],
    };
    if let ClientSpec::Profile(p) | ClientSpec::Gateway(p) = &cfg.client {
        server_names.extend(p.profile.server_names.iter().map(|n| p.expand(n, transport, &endpoint.target())));
    }
    let gateway = match &cfg.client {
        ClientSpec::Gateway(p) => Some(prepare_gateway(p, transport, &endpoint, scratch.path())?),
        _ => None,
    };
    let cmd = client_command(cfg, compiled, transport, revision, &endpoint, gateway.as_ref());
    // The request whose handling makes the mock run its steps, when it waits for one.
    let trigger = (compiled.trigger == crate::scenario::model::TriggerKind::ToolCall)
        .then(|| compiled.client.trigger_request.as_str().to_owned());
    // A gateway outlives the upstream session by design: once it is over, the case
    // ends (nothing is judged on the gateway's exit).
    let after_end = if gateway.is_some() { GATEWAY_AFTER_END.min(cfg.after_end) } else { cfg.after_end };
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    // The case's time limit. A gateway's start-up is not the scenario's time: the
    // scenario's clock starts once the downstream session is up (at the latest after
    // the profile's start-up allowance), so a slow start makes a case slower, and a
    // gateway that then loses the trigger fails as soon as a fast one would.
    let scenario_time = compiled.timeout + CASE_SLACK;
    let startup = match (&cfg.client, &gateway) {
        (ClientSpec::Gateway(p), Some(g)) => Some((gateway_startup(p), g.log())),
        _ => None,
    };
    let limit = async move {
        if let Some((allowance, log)) = startup {
            let _ = tokio::time::timeout(allowance, downstream_up(log)).await;
        }
        tokio::time::sleep(scenario_time).await;
    };
    // A stdio mock learns that the client exited from its stdin closing.
    let exited = || {
        if let Some(m) = &http {
            m.client_exited();
        }
    };
    let run = match &http {
        // The session that received the trigger, of however many the gateway opened.
        _ if gateway.is_some() => {
            let ended = judged_trace_ended(trace_path.clone(), trigger.clone());
            supervise(cmd, limit, ended, exited, after_end, &cfg.stop).await
        }
        Some(m) => supervise(cmd, limit, m.ended(), exited, after_end, &cfg.stop).await,
        None => supervise(cmd, limit, trace_ended(trace_path.clone()), exited, after_end, &cfg.stop).await,
    };
    if let Some(m) = http {
        // The client is done: the mock gets a moment to end its session.
        m.finish(process::LINGER).await;
    }
    let run = run.map_err(|source| RunError::Spawn { program, source })?;
    if run.stopped {
        return Err(RunError::Stopped);
    }
    let (judged, others) =
        if gateway.is_some() { judged_trace(&trace_path, trigger.as_deref()) } else { (trace_path.clone(), 0) };
    let trace = Trace::read(&judged).ok();
    let parser: Box<dyn LevelParser> = match &cfg.client {
        ClientSpec::Profile(p) | ClientSpec::Gateway(p) => p.level_parser(),
        _ => Box::new(AutoFormat::default()),
    };
    let mut lines = logs::parse(Stream::Stderr, &run.stderr, parser.as_ref());
    lines.extend(logs::parse(Stream::Stdout, &run.stdout, parser.as_ref()));
    let session_over = trace.as_ref().and_then(Trace::end).is_some_and(|e| e.reason != EndReason::Timeout);
    let mut client_status = if gateway.is_some() && run.timed_out && session_over {
        "stopped by the harness once the upstream session was over".to_owned()
    } else {
        describe_status(run.status, run.timed_out)
    };
    if others > 0 {
        let which = trigger.as_deref().map_or_else(|| "the first".to_owned(), |t| format!("the one that received {t}"));
        client_status.push_str(&format!("; it started the server {} times (judged: {which})", others + 1));
    }
    let client = ClientEnd {
        timed_out: run.timed_out,
        status: client_status.clone(),
        after_end,
        output_truncated: run.truncated,
    };
    // What reached the downstream client (a missing record: nothing did), and the
    // bystander beside it when there was one.
    let downstream = gateway.as_ref().map(|g| {
        let mut record = std::fs::read_to_string(g.record())
            .map(|t| check::gateway::DownstreamRecord::parse(&t))
            .unwrap_or_default();
        let downstream = match &cfg.client {
            ClientSpec::Gateway(p) => p.profile.downstream.clone().unwrap_or_else(Downstream::stdio),
            _ => Downstream::stdio(),
        };
        record.bystander = compiled.gateway.bystander.then(|| {
            if !opens_bystander(&downstream, compiled) {
                return check::gateway::Bystander::Unavailable(
                    "the gateway's downstream is stdio: one session, no other to deliver to".to_owned(),
                );
            }
            match std::fs::read_to_string(g.bystander_record()) {
                Ok(t) => check::gateway::Bystander::parse(&t),
                Err(_) => check::gateway::Bystander::Unavailable(
                    "the downstream client never opened it (its own session never came up)".to_owned(),
                ),
            }
        });
        record
    });
    let claims = cfg.client.claims();
    let findings = check::evaluate(&CaseInput {
        compiled,
        trace: trace.as_ref(),
        logs: &lines,
        server_names: &server_names,
        client: &client,
        revision,
        claims: &claims,
        downstream: downstream.as_ref(),
    });
    if let Some(dir) = &cfg.keep {
        keep_artifacts(dir, &format!("{}@{transport}@{revision}", compiled.id), scratch.path(), &run);
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
    let record = CaseRecord {
        scenario: compiled.id.clone(),
        transport,
        revision,
        title: compiled.title.clone(),
        duration: started.elapsed(),
        finished_at: std::time::SystemTime::now(),
        client_status,
        stderr_tail,
        trace,
        logs: lines,
        output_truncated: run.truncated,
        plan_index: 0,
    };
    Ok(CaseRun { record, findings })
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use backchannel_mock::protocol::{Revision, Transport};

    use super::*;
    use crate::baseline::Baseline;
    use crate::profile::Profile;
    use crate::scenario::compile_file;

    fn gateway(yaml: &str) -> RunConfig {
        let profile: Profile = serde_saphyr::from_str(yaml).unwrap();
        let p = LoadedProfile { profile, name: "gw".into(), dir: PathBuf::from("/p"), baseline: Baseline::default() };
        RunConfig { client: ClientSpec::Gateway(Arc::new(p)), ..RunConfig::reference(PathBuf::from("/bin/bc")) }
    }

    fn words(cmd: &Command) -> Vec<String> {
        cmd.as_std().get_args().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn a_gateway_that_renames_tools_is_called_by_its_names_and_started_with_its_allowance() {
        let cfg = gateway(concat!(
            "command: \"gw --port {port} --state {case_dir}/s -- {server_argv}\"\n",
            "downstream: {transport: http, path: /mcp/, tool_prefix: \"up-\", call_arguments: {}}\n",
            "startup_ms: 90000\n",
            "env: {GW_HOME: \"{case_dir}/home\"}\n",
        ));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/gateway/ping.yaml");
        let c = compile_file(&path).unwrap();
        let endpoint = Endpoint::Launch(vec!["/bin/bc".into(), "mock".into()]);
        let g = GatewayCase { port: 4242, dir: PathBuf::from("/case") };
        let cmd = client_command(&cfg, &c, Transport::Stdio, Revision::V2025_11_25, &endpoint, Some(&g));
        let w = words(&cmd);
        let after = |flag: &str| w.iter().position(|a| a == flag).map(|i| w[i + 1].clone());
        assert_eq!(after("--call-tool").as_deref(), Some("up-backchannel_run_scenario"), "{w:?}");
        assert_eq!(after("--call-tool-arguments").as_deref(), Some("{}"), "{w:?}");
        assert_eq!(after("--url").as_deref(), Some("http://127.0.0.1:4242/mcp/"), "{w:?}");
        assert_eq!(after("--spawn-timeout").as_deref(), Some("90"), "{w:?}");
        assert!(
            w.ends_with(&[
                "--".into(),
                "gw".into(),
                "--port".into(),
                "4242".into(),
                "--state".into(),
                "/case/s".into(),
                "--".into(),
                "/bin/bc".into(),
                "mock".into()
            ]),
            "{w:?}"
        );
        let env: Vec<_> = cmd.as_std().get_envs().filter(|(k, _)| *k == "GW_HOME").collect();
        assert_eq!(env, [(std::ffi::OsStr::new("GW_HOME"), Some(std::ffi::OsStr::new("/case/home")))]);
        assert!(!w.iter().any(|a| a == "--bystander-record" || a == "--no-get-stream"), "{w:?}");
    }

    #[test]
    fn the_scenarios_downstream_arrangement_reaches_the_client_where_it_applies() {
        let scenario = |name: &str| {
            compile_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/gateway/{name}.yaml")))
                .unwrap()
        };
        let g = GatewayCase { port: 4242, dir: PathBuf::from("/case") };
        let endpoint = Endpoint::Launch(vec!["/bin/bc".into(), "mock".into()]);
        let flags = |downstream: &str, name: &str| {
            let cfg = gateway(&format!("command: \"gw {{port}}\"\ndownstream: {{transport: {downstream}}}\n"));
            let cmd =
                client_command(&cfg, &scenario(name), Transport::Stdio, Revision::V2025_11_25, &endpoint, Some(&g));
            let w = words(&cmd);
            let by = w.iter().position(|a| a == "--bystander-record").map(|i| w[i + 1].clone());
            (by, w.iter().any(|a| a == "--no-get-stream"))
        };
        assert_eq!(flags("http", "isolation"), (Some("/case/bystander.jsonl".into()), false));
        assert_eq!(flags("sse", "isolation"), (Some("/case/bystander.jsonl".into()), false));
        assert_eq!(flags("stdio", "isolation"), (None, false), "one session over stdio");
        assert_eq!(flags("http", "no-get-stream"), (None, true));
        assert_eq!(flags("sse", "no-get-stream"), (None, false), "HTTP+SSE has no other stream");
    }
}
