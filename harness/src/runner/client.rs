//! Who is under test ([`ClientSpec`]: the reference client, a command line, a client
//! profile or a gateway), what follows from that (the knobs it claims, its settle
//! time, its baseline, how many of its cases run at once, how its logs read and name
//! the server), and its command line for one case: the reference client's flags, or
//! the client contract's argv/URL and `BACKCHANNEL_CLIENT_*` environment. A gateway's
//! command line is [`super::gateway`]'s.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use backchannel_protocol::{Revision, RoundMethod, Transport};
use tokio::process::Command;

use super::RunConfig;
use super::gateway::GatewayCase;
use crate::logs::{AutoFormat, LevelParser};
use crate::profile::{Downstream, Endpoint, LoadedProfile};
use crate::scenario::Compiled;
use crate::scenario::compile::DEFAULT_SETTLE;
use crate::scenario::compiled::{Knob, Knobs};

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

    /// The profile of a profiled client or a gateway.
    fn loaded(&self) -> Option<&LoadedProfile> {
        match self {
            Self::Profile(p) | Self::Gateway(p) => Some(p),
            _ => None,
        }
    }

    /// The gateway's profile, in gateway mode.
    pub fn gateway_profile(&self) -> Option<&Arc<LoadedProfile>> {
        match self {
            Self::Gateway(p) => Some(p),
            _ => None,
        }
    }

    /// The transports this client supports (a gateway: upstream).
    pub fn supports(&self, t: Transport) -> bool {
        self.loaded().is_none_or(|p| p.profile.transports.contains(&t))
    }

    /// Whether the client claims to speak `t`, so that not speaking it is a finding:
    /// the reference client speaks every transport, a profile the ones it lists. A
    /// bare command (`--client-cmd`) claims none — a transport it does not take up
    /// is judged "not applicable" where the transport is optional (HTTP+SSE).
    pub fn claims_transport(&self, t: Transport) -> bool {
        match self {
            Self::Command { .. } => false,
            _ => self.supports(t),
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
        self.loaded().map(|p| p.baseline.clone()).unwrap_or_default()
    }

    /// How to read levels from the client's logs: the profile's format, else the
    /// usual ones (tracing, Python logging, logfmt, JSON lines…).
    pub fn level_parser(&self) -> Box<dyn LevelParser> {
        self.loaded()
            .map_or_else(|| Box::new(AutoFormat::default()) as Box<dyn LevelParser>, LoadedProfile::level_parser)
    }

    /// The strings that name the server in the client's logs (any one will do): the
    /// reference client's name for it, and the profile's `server_names`.
    pub fn server_names(&self, transport: Transport, endpoint: &Endpoint) -> Vec<String> {
        let mut names = vec![endpoint.server_name()];
        if let Some(p) = self.loaded() {
            names.extend(p.profile.server_names.iter().map(|n| p.expand(n, transport, endpoint)));
        }
        names
    }
}

/// How often the reference client checks that an HTTP server is still there (a
/// connect, and a ping) to notice the end of the session.
const REFERENCE_PING_SECONDS: &str = "0.2";

/// The client's command line for a case (`gateway`: set for a gateway case).
pub fn command(
    cfg: &RunConfig,
    compiled: &Compiled,
    transport: Transport,
    revision: Revision,
    endpoint: &Endpoint,
    gateway: Option<&GatewayCase>,
) -> Command {
    let plan = &compiled.client;
    let level = plan.log_level.map_or("info", |l| l.as_str());
    let mut cmd = match (&cfg.client, gateway) {
        (_, Some(g)) => g.command(&cfg.exe, compiled, transport, revision, endpoint, level),
        // (A gateway spec always comes with its case: [`GatewayCase::prepare`].)
        (ClientSpec::Reference | ClientSpec::Gateway(_), None) => {
            let mut cmd = reference_command(&cfg.exe, compiled, level, None);
            match endpoint {
                Endpoint::Launch(argv) => cmd.arg("--stdio").arg("--").args(argv),
                Endpoint::Url(url) => cmd.arg("--url").arg(url).arg("--ping-interval").arg(REFERENCE_PING_SECONDS),
            };
            cmd
        }
        (ClientSpec::Command { argv, .. }, None) => {
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]);
            match endpoint {
                Endpoint::Launch(server) => cmd.args(server),
                Endpoint::Url(url) => cmd.arg(url),
            };
            contract_env(&mut cmd, compiled, level, revision);
            cmd
        }
        (ClientSpec::Profile(p), None) => {
            let argv = p.argv(transport, endpoint);
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]).envs(&p.profile.env);
            contract_env(&mut cmd, compiled, level, revision);
            cmd
        }
    };
    // Verdicts must not depend on the developer's shell.
    cmd.env_remove("RUST_LOG").env("NO_COLOR", "1").env("MCP_CONFORMANCE_SCENARIO", &compiled.id);
    cmd
}

/// The reference client's command line with the scenario's client plan as flags
/// (the endpoint is the caller's). `via`: a gateway's downstream (its name for the
/// scenario's tool, the arguments it needs).
pub(super) fn reference_command(exe: &Path, compiled: &Compiled, level: &str, via: Option<&Downstream>) -> Command {
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

/// The client contract's environment: the scenario's client plan as
/// `BACKCHANNEL_CLIENT_*`, and the revision as the official runner passes it.
fn contract_env(cmd: &mut Command, compiled: &Compiled, level: &str, revision: Revision) {
    let plan = &compiled.client;
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
    cmd.env("BACKCHANNEL_CLIENT_ELICITATION", plan.elicitation.as_ref().map(|(m, _)| m.join(",")).unwrap_or_default());
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

/// A root as `backchannel client --root` takes it: `URI` or `URI=NAME`.
fn root_arg((uri, name): &(String, Option<String>)) -> String {
    match name {
        Some(n) => format!("{uri}={n}"),
        None => uri.clone(),
    }
}
