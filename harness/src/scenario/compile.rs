//! A loaded scenario compiled into its three consumers: the mock's [`Script`],
//! the client plan (how to configure the client under test), and the request
//! table the checks read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use backchannel_mock::script::{self as mock, Delivery, IdSpec, Script, ServerSettings, Trigger};
use backchannel_mock::transport::http::ResponseMode;

use super::load::{LoadError, load};
use super::model::{
    DeliveryKind, HttpResponseKind, LogLevel, RequestExpect, Revision, RootSpec, Scenario, Step, TriggerKind,
};

/// The tool a `trigger: tool_call` scenario asks the client to call.
pub const TRIGGER_TOOL: &str = "backchannel_run_scenario";

/// Default whole-session timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default grace period after the script.
pub const DEFAULT_GRACE: Duration = Duration::from_millis(300);
/// Default time a request's answer may take.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(5);

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Stable id (`area/name`).
    pub id: String,
    /// The file it came from.
    pub path: PathBuf,
    /// The parsed file.
    pub scenario: Scenario,
    /// The scripted requests, in step order.
    pub requests: Vec<ScriptedRequest>,
    /// The whole-session timeout.
    pub timeout: Duration,
}

/// One scripted request, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedRequest {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The method.
    pub method: String,
    /// What the answer must be.
    pub expect: RequestExpect,
    /// How long the answer may take.
    pub within: Duration,
    /// The params as written (before canary expansion).
    pub params: Option<serde_json::Value>,
    /// Where it travels over Streamable HTTP (the step's choice, else the scenario's).
    pub delivery: DeliveryKind,
}

/// How the client under test should be configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientPlan {
    /// Roots to expose.
    pub roots: Vec<(String, Option<String>)>,
    /// Log level.
    pub log_level: Option<LogLevel>,
    /// A tool to call once initialized.
    pub call_tool: Option<String>,
}

fn delivery(kind: Option<DeliveryKind>) -> Option<Delivery> {
    kind.map(|k| match k {
        DeliveryKind::GetStream => Delivery::GetStream,
        DeliveryKind::RequestStream => Delivery::RequestStream,
    })
}

/// Load and compile a scenario file.
pub fn compile_file(path: &Path) -> Result<Compiled, LoadError> {
    let scenario = load(path)?;
    Ok(compile(path, scenario))
}

/// The id of a scenario at `path`: `id:` if given, else the path after a
/// `scenarios/` component (without `.yaml`), else the file stem.
pub fn scenario_id(path: &Path, explicit: Option<&str>) -> String {
    if let Some(id) = explicit {
        return id.to_owned();
    }
    let parts: Vec<String> =
        path.with_extension("").components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    match parts.iter().rposition(|p| p == "scenarios") {
        Some(i) if i + 1 < parts.len() => parts[i + 1..].join("/"),
        _ => path.file_stem().map_or_else(|| "scenario".to_owned(), |s| s.to_string_lossy().into_owned()),
    }
}

/// Compile a parsed scenario.
pub fn compile(path: &Path, scenario: Scenario) -> Compiled {
    let id = scenario_id(path, scenario.id.as_deref());
    let mut requests = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    for step in &scenario.steps {
        if let Step::Request(r) = step {
            let name = unique_name(r.name.as_deref().unwrap_or(&r.method), &mut taken);
            let within = r.expect.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
            let delivery = r.delivery.unwrap_or_else(|| default_delivery(&scenario));
            requests.push(ScriptedRequest {
                name,
                method: r.method.clone(),
                expect: r.expect.clone(),
                within,
                params: r.params.clone(),
                delivery,
            });
        }
    }
    let timeout = scenario.timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    Compiled { id, path: path.to_owned(), scenario, requests, timeout }
}

/// `server.delivery`, else the request stream of the trigger call, else the GET stream.
fn default_delivery(s: &Scenario) -> DeliveryKind {
    s.server.delivery.unwrap_or(match s.trigger {
        TriggerKind::ToolCall => DeliveryKind::RequestStream,
        TriggerKind::Initialized => DeliveryKind::GetStream,
    })
}

fn unique_name(base: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        n += 1;
        name = format!("{base}#{n}");
    }
    name
}

impl Compiled {
    /// The mock's script, answering `initialize` with `pin` when given (each case
    /// pins its revision).
    pub fn script(&self, pin: Option<Revision>) -> Script {
        let s = &self.scenario;
        let mut requests = self.requests.iter();
        let steps = s
            .steps
            .iter()
            .map(|step| match step {
                Step::Request(r) => {
                    let compiled = requests.next().expect("one compiled request per request step");
                    mock::Step::Request(mock::RequestStep {
                        name: compiled.name.clone(),
                        id: r.id.as_ref().map_or(IdSpec::Auto, |id| IdSpec::Fixed(id.0.clone())),
                        method: r.method.clone(),
                        params: r.params.clone(),
                        wait: r.wait,
                        answer_within: compiled.within,
                        delivery: delivery(r.delivery),
                    })
                }
                Step::Notification(n) => mock::Step::Notification {
                    name: n.name.clone().unwrap_or_else(|| n.method.clone()),
                    method: n.method.clone(),
                    params: n.params.clone(),
                    delivery: delivery(n.delivery),
                },
                Step::Raw(r) => mock::Step::Raw {
                    name: r.name.clone().unwrap_or_else(|| "raw".into()),
                    line: r.line.clone(),
                    delivery: delivery(r.delivery),
                },
                Step::Sleep(d) => mock::Step::Sleep(Duration::from_millis(d.ms)),
            })
            .collect();
        Script {
            scenario: self.id.clone(),
            server: ServerSettings {
                protocol_version: pin.map(|v| v.as_str().to_owned()),
                tools: s.server.tools.clone(),
                ..ServerSettings::default()
            },
            steps,
            timeout: self.timeout,
            grace: s.grace_ms.map_or(DEFAULT_GRACE, Duration::from_millis),
            trigger: match s.trigger {
                TriggerKind::Initialized => Trigger::Initialized,
                TriggerKind::ToolCall => Trigger::ToolCall { tool: TRIGGER_TOOL.to_owned() },
            },
            delivery: delivery(Some(self.default_delivery())).unwrap_or_default(),
        }
    }

    /// Where server-initiated messages go over Streamable HTTP unless a step says otherwise.
    pub fn default_delivery(&self) -> DeliveryKind {
        default_delivery(&self.scenario)
    }

    /// How the Streamable HTTP mock answers POSTed requests.
    pub fn http_response(&self) -> ResponseMode {
        match self.scenario.server.http_response {
            HttpResponseKind::Json => ResponseMode::Json,
            HttpResponseKind::Sse => ResponseMode::Sse,
        }
    }

    /// How to configure the client under test.
    pub fn client_plan(&self) -> ClientPlan {
        let c = &self.scenario.client;
        ClientPlan {
            roots: c.roots.iter().map(|RootSpec { uri, name }| (uri.clone(), name.clone())).collect(),
            log_level: c.log_level,
            call_tool: (self.scenario.trigger == TriggerKind::ToolCall).then(|| TRIGGER_TOOL.to_owned()),
        }
    }

    /// The scripted request with this step name.
    pub fn request(&self, name: &str) -> Option<&ScriptedRequest> {
        self.requests.iter().find(|r| r.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_path_under_scenarios() {
        assert_eq!(scenario_id(Path::new("/x/scenarios/sampling/undeclared.yaml"), None), "sampling/undeclared");
        assert_eq!(scenario_id(Path::new("mine.yaml"), None), "mine");
        assert_eq!(scenario_id(Path::new("scenarios/a.yaml"), Some("z/q")), "z/q");
    }

    #[test]
    fn repeated_methods_get_numbered_names() {
        let text = "title: t\nsteps:\n  - request: {method: ping}\n  - sleep: {ms: 5}\n  - request: {method: ping, wait: true}\n  - raw: {line: nope}\n";
        let c = compile(Path::new("scenarios/a/b.yaml"), super::super::load::parse(Path::new("x"), text).unwrap());
        let names: Vec<_> = c.requests.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ping", "ping#2"]);
        let script = c.script(None);
        assert_eq!(script.scenario, "a/b");
        assert_eq!(script.steps.len(), 4);
        assert!(matches!(&script.steps[2], mock::Step::Request(r) if r.name == "ping#2" && r.wait));
    }
}
