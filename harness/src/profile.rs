//! Client profiles (`clients/<name>.yaml`): how to run a third-party client under
//! the harness — its command line, environment, transports, log format, the
//! strings that name the server in its logs, what must be installed, how to ask
//! its version, and its baseline of known failures.
//!
//! Gateway profiles (`gateways/<name>.yaml`) are the same file with `downstream:`
//! (where downstream clients reach the gateway): the command starts the gateway with
//! the mock as its upstream server, `transports` are the upstream's, and two more
//! placeholders expand — `{upstream_url}` (= `{url}`) and `{port}` (the free
//! loopback port the gateway must listen on downstream), plus `{case_dir}` (the
//! case's scratch directory, where `files:` are written).
//!
//! Placeholders in `command` (and in `server_names`):
//! - `{url}` — the HTTP mock's URL (HTTP transports);
//! - `{server_argv}` — as a word of its own: the mock's argv, spliced (stdio);
//! - `{server_cmd}` — the mock's command line as one shell-quoted string (stdio);
//! - `{server_argv_json}` — the mock's argv as a JSON array (stdio; for config files);
//! - `{transport}` — `stdio`, `http` or `sse`;
//! - `{profile_dir}` — the directory holding the profile.
//!
//! When the command uses none of `{url}`, `{server_argv}` and `{server_cmd}`, the
//! target is appended as the harness's client contract says: the mock's argv over
//! stdio, the URL over HTTP.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::baseline::{Baseline, Entry};
use crate::logs::{AutoFormat, LevelParser, RegexFormat};
use crate::scenario::compiled::Knob;
use backchannel_protocol::{Revision, Transport};

/// A client profile.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Display name (default: the file name).
    #[serde(default)]
    pub name: Option<String>,
    /// What the client is, and what the driver does.
    #[serde(default)]
    pub description: Option<String>,
    /// The command line (shell quoting) with placeholders.
    pub command: String,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The transports the client supports (default: all three).
    #[serde(default = "all_transports")]
    pub transports: Vec<Transport>,
    /// The transports the self-test (`tests/clients.rs`) runs this client on
    /// (default: all of `transports`). For a client whose transports are another
    /// profiled client's code, and whose start-up is slow: the full set stays
    /// available to `backchannel run --client-profile`.
    #[serde(default)]
    pub test_transports: Option<Vec<Transport>>,
    /// The revisions the self-test runs at. A gateway's scenarios run at every
    /// revision by default: for a gateway whose start-up is slow, a budget (every
    /// revision stays available to `backchannel run --gateway NAME`). A client's run
    /// at their latest by default: for a client whose SDK stops at an older revision,
    /// the ones it speaks.
    #[serde(default)]
    pub test_revisions: Option<Vec<Revision>>,
    /// The scenarios the self-test runs this client on (ids, `*` globs, or
    /// `@back-channel` for [`crate::scenario::BACK_CHANNEL_SUITE`]; default: the whole
    /// client suite). For a client whose every start costs seconds of CPU (an
    /// agent framework importing itself): CI holds it to the back channel's own
    /// scenarios, and the whole suite stays available to `backchannel run --client
    /// NAME` and to `backchannel matrix`.
    #[serde(default)]
    pub test_scenarios: Option<Vec<String>>,
    /// How to read a level from the client's log lines.
    #[serde(default)]
    pub log_format: LogFormat,
    /// More strings that name the server in the client's logs (placeholders expand).
    #[serde(default)]
    pub server_names: Vec<String>,
    /// Paths (relative to the profile's directory) that exist when the client is installed.
    #[serde(default)]
    pub requires: Vec<String>,
    /// A command (shell quoting, placeholders expand) printing the client's version.
    #[serde(default)]
    pub version: Option<String>,
    /// The client contract's knobs this client honours (`roots`, `roots-change`,
    /// `elicitation`, `log-level`, `call-tool`, `2026-07-28`). A check that depends on a
    /// knob the client does not take up is N/A — unless the knob is listed here: then
    /// it is judged, and `client.configured` fails.
    #[serde(default)]
    pub honours: Vec<Knob>,
    /// How long the mock waits after its closing barrier for what a barrier cannot
    /// prove about this client — answers it sends concurrently, log lines it writes
    /// late (default 300). Shorter cases, weaker against late frames: see the README.
    #[serde(default)]
    pub settle_ms: Option<u64>,
    /// Known failures.
    #[serde(default)]
    pub baseline: Vec<Entry>,
    /// A gateway profile: where downstream clients reach the gateway.
    #[serde(default)]
    pub downstream: Option<Downstream>,
    /// Files written into the case's scratch directory before the command starts
    /// (name → content; placeholders expand): a gateway's config file, say.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// A gateway: how long it may take to start (default 60000) — over HTTP, to accept
    /// connections. The scenario's time limit starts once the downstream session is up
    /// (at the latest after this), so a slow start on a busy machine makes a case
    /// slower, never a different verdict.
    #[serde(default)]
    pub startup_ms: Option<u64>,
}

/// How downstream clients reach a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Downstream {
    /// `stdio` (the downstream client launches the command and speaks on its stdio),
    /// `http` (Streamable HTTP) or `sse` (HTTP+SSE) on `http://127.0.0.1:{port}{path}`.
    pub transport: Transport,
    /// The endpoint's path (HTTP transports; default `/mcp`).
    #[serde(default = "default_path")]
    pub path: String,
    /// What the gateway puts before the upstream's tool names (LiteLLM: the server's
    /// name and `-`): the downstream client calls the scenario's tool by that name.
    #[serde(default)]
    pub tool_prefix: String,
    /// The arguments the downstream client sends with the tool call when the scenario
    /// gives none (LiteLLM refuses a call without `arguments`: `{}`).
    #[serde(default)]
    pub call_arguments: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Downstream {
    /// Reached on `transport` at `path`, tools under the upstream's names.
    pub fn new(transport: Transport, path: &str) -> Self {
        Self { transport, path: path.to_owned(), tool_prefix: String::new(), call_arguments: None }
    }

    /// A gateway the downstream client launches and talks to over stdio.
    pub fn stdio() -> Self {
        Self::new(Transport::Stdio, "")
    }
}

fn default_path() -> String {
    "/mcp".to_owned()
}

fn all_transports() -> Vec<Transport> {
    Transport::ALL.to_vec()
}

/// The upstream transports a gateway command line can be run on, from its placeholders.
fn upstream_transports(line: &str) -> Vec<Transport> {
    let has = |ps: &[&str]| ps.iter().any(|p| line.contains(p));
    let launches = has(&["{server_argv}", "{server_cmd}", "{server_argv_json}"]);
    let url = has(&["{upstream_url}", "{url}"]);
    match (launches, url) {
        (true, false) => vec![Transport::Stdio],
        (false, true) => vec![Transport::Http, Transport::Sse],
        _ => all_transports(),
    }
}

/// How to read levels from a client's logs.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LogFormat {
    /// tracing fmt, Python logging, env_logger, logfmt, JSON lines.
    #[default]
    Auto,
    /// A regex with a named group `level`.
    Regex(String),
}

/// A profile read from disk.
#[derive(Debug, Clone)]
pub struct LoadedProfile {
    /// The profile.
    pub profile: Profile,
    /// Its name.
    pub name: String,
    /// The directory holding it.
    pub dir: PathBuf,
    /// Its compiled baseline.
    pub baseline: Baseline,
}

/// Where the client finds the server in one case: it launches the mock (stdio) or
/// connects to its URL (HTTP). What the profile placeholders expand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The mock's argv, for the client to launch.
    Launch(Vec<String>),
    /// The URL of a running HTTP mock.
    Url(String),
}

impl Endpoint {
    /// How the reference client names this server in its logs: `stdio:<program>`, or the URL.
    pub fn server_name(&self) -> String {
        match self {
            Self::Launch(argv) => format!("stdio:{}", argv.first().map_or("", String::as_str)),
            Self::Url(url) => url.clone(),
        }
    }
}

impl LoadedProfile {
    /// Read and check a profile file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let shown = path.display().to_string();
        let profile: Profile =
            serde_saphyr::from_str_with_options(&text, serde_saphyr::options! { strict_booleans: true }).map_err(
                |e| e.render_with_options(serde_saphyr::render_options! { source_name: Some(shown.as_str()) }),
            )?;
        if shlex::split(&profile.command).is_none_or(|w| w.is_empty()) {
            return Err(format!("{}: `command` is not a command line", path.display()));
        }
        if let LogFormat::Regex(re) = &profile.log_format {
            RegexFormat::new(re).map_err(|e| format!("{}: log_format: {e}", path.display()))?;
        }
        check_gateway(&profile).map_err(|e| format!("{}: {e}", path.display()))?;
        let baseline = Baseline::new(profile.baseline.clone()).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = profile
            .name
            .clone()
            .unwrap_or_else(|| path.file_stem().map_or_else(|| "client".into(), |s| s.to_string_lossy().into_owned()));
        let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_owned);
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        Ok(Self { profile, name, dir, baseline })
    }

    /// Find `name` (`clients/<name>.yaml` under the current directory) or load a path.
    pub fn find(name_or_path: &str) -> Result<Self, String> {
        Self::find_in("clients", name_or_path)
    }

    /// Find `name` (`<dir>/<name>.yaml` under the current directory) or load a path.
    pub fn find_in(dir: &str, name_or_path: &str) -> Result<Self, String> {
        let path = if name_or_path.ends_with(".yaml") || name_or_path.contains('/') {
            PathBuf::from(name_or_path)
        } else {
            PathBuf::from(dir).join(format!("{name_or_path}.yaml"))
        };
        if !path.is_file() {
            return Err(format!("no profile at {}", path.display()));
        }
        Self::load(&path)
    }

    /// A gateway given as a command line (`backchannel run --gateway-cmd`). The
    /// upstream transports it can be run on follow from its placeholders: a line that
    /// launches the server (`{server_argv}`, `{server_cmd}`) and has no
    /// `{upstream_url}` speaks stdio upstream, one with only `{upstream_url}` the HTTP
    /// transports — a case on another would judge a gateway that was never given the
    /// server.
    pub fn gateway_command(line: &str, downstream: Downstream, honours: Vec<Knob>) -> Result<Self, String> {
        if shlex::split(line).is_none_or(|w| w.is_empty()) {
            return Err(format!("cannot split `{line}` into a command line"));
        }
        let profile = Profile {
            name: None,
            description: None,
            command: line.to_owned(),
            env: BTreeMap::new(),
            transports: upstream_transports(line),
            test_transports: None,
            test_revisions: None,
            test_scenarios: None,
            log_format: LogFormat::Auto,
            server_names: Vec::new(),
            requires: Vec::new(),
            version: None,
            honours,
            settle_ms: None,
            baseline: Vec::new(),
            downstream: Some(downstream),
            files: BTreeMap::new(),
            startup_ms: None,
        };
        check_gateway(&profile)?;
        let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Ok(Self { profile, name: format!("`{line}`"), dir, baseline: Baseline::default() })
    }

    /// `Ok` when installed; otherwise why not, and the setup script of `dir` to run
    /// (`kind`: "client" or "gateway").
    pub fn installed(&self, kind: &str, dir: &str) -> Result<(), String> {
        match self.missing() {
            None => Ok(()),
            Some(m) => {
                Err(format!("{kind} `{}` is not installed ({} is missing): run {dir}/setup.sh", self.name, m.display()))
            }
        }
    }

    /// `None` when installed; otherwise the first missing path.
    pub fn missing(&self) -> Option<PathBuf> {
        self.profile.requires.iter().map(|r| self.dir.join(r)).find(|p| !p.exists())
    }

    /// The client's command line for one case.
    pub fn argv(&self, transport: Transport, target: &Endpoint) -> Vec<String> {
        let words = shlex::split(&self.profile.command).unwrap_or_default();
        let mut out = Vec::new();
        // A placeholder in a file the profile writes places the target too.
        const TARGETS: [&str; 5] = ["{url}", "{upstream_url}", "{server_cmd}", "{server_argv}", "{server_argv_json}"];
        let mut placed = self.profile.files.values().any(|f| TARGETS.iter().any(|p| f.contains(p)));
        for w in words {
            if w == "{server_argv}" {
                if let Endpoint::Launch(argv) = target {
                    out.extend(argv.iter().cloned());
                }
                placed = true;
                continue;
            }
            placed |= TARGETS.iter().any(|p| w.contains(p));
            out.push(self.expand(&w, transport, target));
        }
        if !placed {
            match target {
                Endpoint::Launch(argv) => out.extend(argv.iter().cloned()),
                Endpoint::Url(url) => out.push(url.clone()),
            }
        }
        out
    }

    /// Expand the placeholders in one string.
    pub fn expand(&self, s: &str, transport: Transport, target: &Endpoint) -> String {
        let (url, cmd, json) = match target {
            Endpoint::Url(u) => (u.clone(), String::new(), "[]".to_owned()),
            Endpoint::Launch(argv) => (
                String::new(),
                shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_default(),
                serde_json::to_string(argv).unwrap_or_default(),
            ),
        };
        s.replace("{url}", &url)
            .replace("{server_argv_json}", &json)
            .replace("{upstream_url}", &url)
            .replace("{server_cmd}", &cmd)
            .replace("{transport}", transport.as_str())
            .replace("{profile_dir}", &self.dir.display().to_string())
    }

    /// The level parser for the client's logs.
    pub fn level_parser(&self) -> Box<dyn LevelParser> {
        match &self.profile.log_format {
            LogFormat::Auto => Box::new(AutoFormat::default()),
            LogFormat::Regex(re) => Box::new(RegexFormat::new(re).expect("checked at load")),
        }
    }

    /// Ask the client its version (`None` when the profile has no version command or it fails).
    pub fn version(&self) -> Option<String> {
        let line = self.profile.version.as_ref()?;
        let line = self.expand(line, Transport::Stdio, &Endpoint::Launch(Vec::new()));
        let argv = shlex::split(&line)?;
        let out = std::process::Command::new(argv.first()?).args(&argv[1..]).envs(&self.profile.env).output().ok()?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !v.is_empty()).then_some(v)
    }
}

/// A gateway reached over HTTP must be told where to listen: `{port}` in its command
/// line or in one of its files.
fn check_gateway(profile: &Profile) -> Result<(), String> {
    let Some(down) = &profile.downstream else { return Ok(()) };
    let listens = profile.command.contains("{port}") || profile.files.values().any(|f| f.contains("{port}"));
    if down.transport != Transport::Stdio && !listens {
        return Err(format!(
            "the gateway is reached over {} but its command (and files) never say `{{port}}`: it must listen where the harness connects",
            down.transport
        ));
    }
    if down.transport != Transport::Stdio && !down.path.starts_with('/') {
        return Err(format!("downstream path `{}` must start with `/`", down.path));
    }
    Ok(())
}

/// Every profile in a directory, sorted by name.
pub fn discover(dir: &Path) -> Result<Vec<LoadedProfile>, String> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            out.push(LoadedProfile::load(&path)?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(command: &str) -> LoadedProfile {
        let profile: Profile = serde_saphyr::from_str(&format!("command: \"{command}\"\n")).unwrap();
        LoadedProfile { profile, name: "t".into(), dir: PathBuf::from("/p"), baseline: Baseline::default() }
    }

    #[test]
    fn a_gateway_over_http_must_be_told_its_port() {
        let http = Downstream::new(Transport::Http, "/mcp");
        let e = LoadedProfile::gateway_command("gw --server {server_cmd}", http.clone(), Vec::new()).unwrap_err();
        assert!(e.contains("{port}"), "{e}");
        assert!(LoadedProfile::gateway_command("gw --port {port} -- {server_argv}", http, Vec::new()).is_ok());
        let stdio = Downstream::stdio();
        assert!(LoadedProfile::gateway_command("gw -- {server_argv}", stdio, Vec::new()).is_ok());
    }

    /// A gateway command is run on the upstream transports its placeholders can serve.
    #[test]
    fn a_gateway_command_runs_on_the_upstream_transports_its_placeholders_serve() {
        let t = |line: &str| {
            LoadedProfile::gateway_command(line, Downstream::stdio(), Vec::new()).unwrap().profile.transports
        };
        assert_eq!(t("gw -- {server_argv}"), [Transport::Stdio]);
        assert_eq!(t("gw --stdio {server_cmd}"), [Transport::Stdio]);
        assert_eq!(t("gw --url {upstream_url}"), [Transport::Http, Transport::Sse]);
        assert_eq!(t("gw {server_cmd} {upstream_url}"), Transport::ALL.to_vec());
    }

    #[test]
    fn placeholders_and_the_default_contract() {
        let argv = ["/bin/backchannel".to_owned(), "mock".to_owned(), "--scenario".to_owned(), "a b.yaml".to_owned()];
        let p = profile("python {profile_dir}/d.py {transport}");
        assert_eq!(
            p.argv(Transport::Stdio, &Endpoint::Launch(argv.to_vec())),
            ["python", "/p/d.py", "stdio", "/bin/backchannel", "mock", "--scenario", "a b.yaml"]
        );
        assert_eq!(
            p.argv(Transport::Http, &Endpoint::Url("http://h/mcp".into())),
            ["python", "/p/d.py", "http", "http://h/mcp"]
        );
        let p = profile("client --server {server_argv} --verbose");
        assert_eq!(
            p.argv(Transport::Stdio, &Endpoint::Launch(argv.to_vec())),
            ["client", "--server", "/bin/backchannel", "mock", "--scenario", "a b.yaml", "--verbose"]
        );
        let p = profile("client --cmd {server_cmd}");
        assert_eq!(
            p.argv(Transport::Stdio, &Endpoint::Launch(argv.to_vec())),
            ["client", "--cmd", "/bin/backchannel mock --scenario 'a b.yaml'"]
        );
        let p = profile("client --url={url} x");
        assert_eq!(
            p.argv(Transport::Sse, &Endpoint::Url("http://h/sse".into())),
            ["client", "--url=http://h/sse", "x"]
        );
    }
}
