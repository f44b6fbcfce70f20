//! Gateway mode, one case: the gateway starts with the mock as its upstream server
//! and the reference client downstream (it launches the gateway over stdio, or
//! `--spawn`s it and connects once `{port}` accepts connections), configured as the
//! scenario says — a bystander session beside its own, no standalone GET stream —
//! and keeping a record of what reaches it ([`backchannel_protocol::record`]).
//!
//! What differs from a client case, all here: the case's files and free port
//! ([`GatewayCase::prepare`]), the downstream command line, the scenario's clock
//! starting once the downstream session is up (`GatewayCase::until_up`), the case
//! ending when the judged upstream session ends — a gateway outlives it by design,
//! and may start the server more than once (a probe, a process per downstream
//! operation): the judged trace is the session that received the trigger
//! (`judged_trace`) — and the downstream records read back for the checks
//! (`GatewayCase::delivered`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use backchannel_mock::trace::{Direction, Trace};
use backchannel_protocol::record::Record;
use backchannel_protocol::{Revision, Transport};
use tokio::process::Command;

use super::{RunError, Supervised, describe_status, last_record_is_end, ports};
use crate::check::gateway::{Bystander, Delivered};
use crate::profile::{Downstream, Endpoint, LoadedProfile};
use crate::scenario::Compiled;

/// Once the mock has ended the session, a gateway case ends after this long idle.
pub(super) const AFTER_END: Duration = Duration::from_millis(500);
/// How long a gateway may take to accept connections, unless its profile says.
const DEFAULT_STARTUP: Duration = Duration::from_secs(60);

/// What a gateway case adds: the gateway's profile, the port it listens on
/// downstream and the case's scratch directory (its files, the downstream record and
/// logs).
#[derive(Debug, Clone)]
pub struct GatewayCase {
    profile: Arc<LoadedProfile>,
    /// The free loopback port for `{port}`.
    pub port: u16,
    /// The case's scratch directory (`{case_dir}`).
    pub dir: PathBuf,
    /// The lease that keeps `port` this case's while it runs.
    _lease: Option<Arc<ports::Lease>>,
}

impl GatewayCase {
    /// A case of this gateway listening on `port`, its files in `dir`.
    pub fn new(profile: Arc<LoadedProfile>, port: u16, dir: PathBuf) -> Self {
        Self { profile, port, dir, _lease: None }
    }

    /// Pick the gateway's downstream port and write its files into the scratch directory.
    pub fn prepare(
        profile: &Arc<LoadedProfile>,
        transport: Transport,
        endpoint: &Endpoint,
        dir: &Path,
    ) -> Result<Self, RunError> {
        let lease = ports::Lease::take().map_err(|e| RunError::Gateway(format!("no free loopback port: {e}")))?;
        let g =
            Self { profile: profile.clone(), port: lease.port(), dir: dir.to_owned(), _lease: Some(Arc::new(lease)) };
        for (name, content) in &profile.profile.files {
            let text = g.expand(&profile.expand(content, transport, endpoint));
            std::fs::write(dir.join(name), text).map_err(|e| RunError::Gateway(format!("cannot write {name}: {e}")))?;
        }
        Ok(g)
    }

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

    /// Where downstream clients reach the gateway.
    fn downstream_at(&self) -> Downstream {
        self.profile.profile.downstream.clone().unwrap_or_else(Downstream::stdio)
    }

    /// How long the gateway may take to start ([`Profile::startup_ms`](crate::profile::Profile::startup_ms)).
    fn startup(&self) -> Duration {
        self.profile.profile.startup_ms.map_or(DEFAULT_STARTUP, Duration::from_millis)
    }

    /// Whether the downstream client opens a bystander session beside its own: the
    /// scenario asks for one and the gateway's downstream has more than one session
    /// (stdio is one).
    fn opens_bystander(&self, compiled: &Compiled) -> bool {
        compiled.gateway.bystander && self.downstream_at().transport != Transport::Stdio
    }

    /// `{port}` and `{case_dir}` expanded in one string.
    fn expand(&self, s: &str) -> String {
        s.replace("{port}", &self.port.to_string()).replace("{case_dir}", &self.dir.display().to_string())
    }

    /// The command line of a gateway case: the reference client downstream, which
    /// launches the gateway (stdio) or starts it and connects once its port accepts
    /// connections (HTTP). The harness ends the case (the gateway outlives the
    /// upstream session), so the client does not ping to notice an end.
    pub(super) fn command(
        &self,
        exe: &Path,
        compiled: &Compiled,
        transport: Transport,
        revision: Revision,
        endpoint: &Endpoint,
        level: &str,
    ) -> Command {
        let p = &self.profile;
        let downstream = self.downstream_at();
        let mut cmd = super::client::reference_command(exe, compiled, level, Some(&downstream));
        // At a legacy revision the downstream speaks it too: a gateway that follows
        // its client's era (FastMCP) must meet the upstream's.
        if revision.is_legacy() {
            cmd.arg("--initialize-only");
        }
        cmd.arg("--record").arg(self.record()).arg("--log-file").arg(self.log());
        let argv: Vec<String> = p.argv(transport, endpoint).iter().map(|w| self.expand(w)).collect();
        // The scenario's downstream arrangement: a bystander session beside the
        // client's (HTTP only: stdio is one session), no standalone GET stream
        // (Streamable HTTP only).
        if self.opens_bystander(compiled) {
            cmd.arg("--bystander-record").arg(self.bystander_record());
        }
        if downstream.transport == Transport::Http && !compiled.gateway.get_stream {
            cmd.arg("--no-get-stream");
        }
        match downstream.transport {
            Transport::Stdio => cmd.arg("--stdio").arg("--").args(argv),
            Transport::Http | Transport::Sse => cmd
                .arg("--url")
                .arg(format!("http://127.0.0.1:{}{}", self.port, downstream.path))
                .arg("--ping-interval")
                .arg("0")
                .arg("--spawn")
                .arg("--spawn-timeout")
                .arg(self.startup().as_secs_f64().to_string())
                .arg("--")
                .args(argv),
        };
        // Placeholders expand in the environment too (a gateway's state directory
        // in `{case_dir}`, not the user's home).
        for (k, v) in &p.profile.env {
            cmd.env(k, self.expand(&p.expand(v, transport, endpoint)));
        }
        cmd
    }

    /// Resolves once the downstream session is up, at the latest after the profile's
    /// start-up allowance: the scenario's clock starts then, so a slow start makes a
    /// case slower, and a gateway that then loses the trigger fails as soon as a fast
    /// one would.
    pub(super) fn until_up(&self) -> impl Future<Output = ()> + Send + 'static {
        let (allowance, log) = (self.startup(), self.log());
        async move {
            let _ = tokio::time::timeout(allowance, downstream_up(log)).await;
        }
    }

    /// What reached the downstream client (a missing record: nothing did), and the
    /// bystander beside it when the scenario has one.
    pub(super) fn delivered(&self, compiled: &Compiled) -> Delivered {
        let received = Record::read(&self.record()).unwrap_or_default().received;
        let bystander = compiled.gateway.bystander.then(|| {
            if !self.opens_bystander(compiled) {
                return Bystander::Unavailable(
                    "the gateway's downstream is stdio: one session, no other to deliver to".to_owned(),
                );
            }
            match Record::read(&self.bystander_record()) {
                Ok(record) => bystander(record),
                Err(_) => Bystander::Unavailable(
                    "the downstream client never opened it (its own session never came up)".to_owned(),
                ),
            }
        });
        Delivered { received, bystander }
    }
}

/// How the gateway's process ended: stopped by the harness once the judged upstream
/// session was over (what a gateway that outlives it by design gets), and how many
/// times it started the server.
pub(super) fn status(run: &Supervised, session_over: bool, others: usize, trigger: Option<&str>) -> String {
    let mut status = if run.timed_out && session_over {
        "stopped by the harness once the upstream session was over".to_owned()
    } else {
        describe_status(run.status, run.timed_out)
    };
    if others > 0 {
        let which = trigger.map_or_else(|| "the first".to_owned(), |t| format!("the one that received {t}"));
        status.push_str(&format!("; it started the server {} times (judged: {which})", others + 1));
    }
    status
}

/// A bystander's record: `{"unavailable": WHY}` says it could not come up, and a
/// record without `{"bystander": "up"}` is not of a session that was up.
fn bystander(record: Record) -> Bystander {
    match record {
        Record { unavailable: Some(why), .. } => Bystander::Unavailable(why),
        Record { up: false, .. } => Bystander::Unavailable("it never finished initializing".to_owned()),
        Record { received, .. } => Bystander::Up(received),
    }
}

/// The trace to judge when a gateway may have started the mock more than once, and
/// how many others there are: the first whose session received the scenario's
/// trigger request (the operation the downstream client asked for) — without one, the
/// first the gateway spoke in (a session the mock opened before a slow gateway came
/// may have timed out unused) — else the first.
pub(super) fn judged_trace(path: &Path, trigger: Option<&str>) -> (PathBuf, usize) {
    let all = backchannel_mock::trace::traces_of(path);
    let others = all.len().saturating_sub(1);
    let judged = all.into_iter().find(|p| received(p, trigger));
    (judged.unwrap_or_else(|| path.to_owned()), others)
}

/// Whether the session of this trace received `trigger` (without one: anything).
fn received(path: &Path, trigger: Option<&str>) -> bool {
    Trace::read(path).is_ok_and(|t| {
        t.frames().any(|f| {
            f.dir == Direction::ClientToServer
                && trigger.is_none_or(|trigger| {
                    f.json.as_ref().and_then(|j| j.get("method")).and_then(serde_json::Value::as_str) == Some(trigger)
                })
        })
    })
}

/// Resolves once the judged trace ([`judged_trace`]) has its `end` record and its
/// session received the trigger, if the scenario waits for one (a probe session
/// ending first is not the end of the case).
pub(super) async fn judged_trace_ended(trace: PathBuf, trigger: Option<String>) {
    loop {
        let (judged, _) = judged_trace(&trace, trigger.as_deref());
        if last_record_is_end(&judged) && received(&judged, trigger.as_deref()) {
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use backchannel_protocol::record::Record;
    use backchannel_protocol::{Revision, Transport};

    use super::*;
    use crate::baseline::Baseline;
    use crate::profile::Profile;
    use crate::runner::{ClientSpec, RunConfig, client};
    use crate::scenario::compile_file;

    fn gateway(yaml: &str) -> (RunConfig, GatewayCase) {
        let profile: Profile = serde_saphyr::from_str(yaml).unwrap();
        let p = Arc::new(LoadedProfile {
            profile,
            name: "gw".into(),
            dir: PathBuf::from("/p"),
            baseline: Baseline::default(),
        });
        let cfg =
            RunConfig { client: ClientSpec::Gateway(p.clone()), ..RunConfig::reference(PathBuf::from("/bin/bc")) };
        (cfg, GatewayCase::new(p, 4242, PathBuf::from("/case")))
    }

    fn scenario(name: &str) -> Compiled {
        compile_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../scenarios/gateway/{name}.yaml"))).unwrap()
    }

    fn words(cmd: &Command) -> Vec<String> {
        cmd.as_std().get_args().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn a_gateway_that_renames_tools_is_called_by_its_names_and_started_with_its_allowance() {
        let (cfg, g) = gateway(concat!(
            "command: \"gw --port {port} --state {case_dir}/s -- {server_argv}\"\n",
            "downstream: {transport: http, path: /mcp/, tool_prefix: \"up-\", call_arguments: {}}\n",
            "startup_ms: 90000\n",
            "env: {GW_HOME: \"{case_dir}/home\"}\n",
        ));
        let c = scenario("ping");
        let endpoint = Endpoint::Launch(vec!["/bin/bc".into(), "mock".into()]);
        let cmd = client::command(&cfg, &c, Transport::Stdio, Revision::V2025_11_25, &endpoint, Some(&g));
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
        let endpoint = Endpoint::Launch(vec!["/bin/bc".into(), "mock".into()]);
        let flags = |downstream: &str, name: &str| {
            let (cfg, g) = gateway(&format!("command: \"gw {{port}}\"\ndownstream: {{transport: {downstream}}}\n"));
            let cmd =
                client::command(&cfg, &scenario(name), Transport::Stdio, Revision::V2025_11_25, &endpoint, Some(&g));
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

    #[test]
    fn a_bystander_is_up_only_when_its_record_says_so() {
        let up = bystander(Record::parse("{\"bystander\":\"up\"}\n"));
        assert_eq!(up, Bystander::Up(Vec::new()));
        // An empty record is not one that was up.
        assert!(matches!(bystander(Record::parse("")), Bystander::Unavailable(why) if why.contains("initializing")));
        let gone = bystander(Record::parse("{\"unavailable\":\"HTTP 400\"}\n"));
        assert_eq!(gone, Bystander::Unavailable("HTTP 400".into()));
    }
}
