//! A loaded scenario compiled into its three consumers: the mock's [`Script`],
//! the client plan (how to configure the client under test), and the request
//! table the checks read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use backchannel_mock::script::{self as mock, Delivery, IdSpec, Script, ServerSettings, Trigger};
use backchannel_mock::transport::http::ResponseMode;

use super::load::{LoadError, load};
use super::model::{
    DeliveryKind, HttpResponseKind, IdSource, LogLevel, RequestExpect, RequestStep, Revision, RootSpec, Scenario, Step,
    TriggerKind,
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
    /// The scripted requests, in step order (repeats and batch members expanded).
    pub requests: Vec<ScriptedRequest>,
    /// The raw steps, in step order.
    pub raws: Vec<ScriptedRaw>,
    /// The MRTR rounds (2026-07-28), in step order.
    pub rounds: Vec<ScriptedRound>,
    /// The whole-session timeout.
    pub timeout: Duration,
    /// The mock's steps (revision-independent).
    steps: Vec<mock::Step>,
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
    /// The id written in the scenario (`None`: the mock's counter or the trigger call's id).
    pub id: Option<serde_json::Value>,
    /// Whether it reuses the id of the client's in-flight trigger `tools/call`.
    pub id_from_trigger: bool,
    /// Whether it travels as a member of a JSON-RPC batch.
    pub in_batch: bool,
}

/// One raw line, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedRaw {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The line as written (before canary expansion).
    pub line: String,
    /// What its answer, if any, must be.
    pub expect: super::model::RawExpect,
}

/// One MRTR round, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedRound {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The asks: key, method, params as written, expectations.
    pub inputs: Vec<super::model::InputSpec>,
    /// The `requestState` as written (before canary expansion).
    pub request_state: Option<String>,
    /// What the retry must be.
    pub expect: super::model::RoundExpect,
    /// How long the retry may take.
    pub within: Duration,
}

/// A root the client exposes: its URI and optional name.
pub type PlannedRoot = (String, Option<String>);

/// How the client under test should be configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientPlan {
    /// Roots to expose.
    pub roots: Vec<PlannedRoot>,
    /// Log level.
    pub log_level: Option<LogLevel>,
    /// A tool to call once initialized.
    pub call_tool: Option<String>,
    /// Elicitation modes to support (`form`, `url`, or `empty` for a `{}` declaration),
    /// and how long the user takes to decline.
    pub elicitation: Option<(Vec<&'static str>, u64)>,
    /// Change the roots after this many milliseconds, to these.
    pub roots_change: Option<(u64, Vec<PlannedRoot>)>,
}

fn delivery_of(kind: Option<DeliveryKind>) -> Option<Delivery> {
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
    let mut raws = Vec::new();
    let mut rounds = Vec::new();
    let mut steps = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    let request = |r: &RequestStep, name: String, requests: &mut Vec<ScriptedRequest>| {
        let within = r.expect.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
        let delivery = r.delivery.unwrap_or_else(|| default_delivery(&scenario));
        requests.push(ScriptedRequest {
            name: name.clone(),
            method: r.method.clone(),
            expect: r.expect.clone(),
            within,
            params: r.params.clone(),
            delivery,
            id: r.id.as_ref().map(|id| id.0.clone()),
            id_from_trigger: r.id_from == Some(IdSource::TriggerCall),
            in_batch: false,
        });
        mock::RequestStep {
            name,
            id: match (&r.id, r.id_from) {
                (_, Some(IdSource::TriggerCall)) => IdSpec::TriggerCall,
                (Some(id), None) => IdSpec::Fixed(id.0.clone()),
                (None, None) => IdSpec::Auto,
            },
            method: r.method.clone(),
            params: r.params.clone(),
            wait: r.wait,
            answer_within: within,
            delivery: delivery_of(Some(delivery)),
        }
    };
    for step in &scenario.steps {
        match step {
            Step::Request(r) => {
                let base = r.name.clone().unwrap_or_else(|| r.method.clone());
                match r.repeat {
                    Some(n) => {
                        for i in 1..=n {
                            let name = unique_name(&format!("{base}#{i}"), &mut taken);
                            steps.push(mock::Step::Request(request(r, name, &mut requests)));
                        }
                    }
                    None => {
                        let name = unique_name(&base, &mut taken);
                        steps.push(mock::Step::Request(request(r, name, &mut requests)));
                    }
                }
            }
            Step::Batch(b) => {
                let members = b
                    .requests
                    .iter()
                    .map(|r| {
                        let name = unique_name(r.name.as_deref().unwrap_or(&r.method), &mut taken);
                        let mut m = request(r, name, &mut requests);
                        m.delivery = delivery_of(b.delivery).or(m.delivery);
                        if let Some(last) = requests.last_mut() {
                            last.in_batch = true;
                        }
                        m
                    })
                    .collect();
                steps.push(mock::Step::Batch(members));
            }
            Step::Notification(n) => steps.push(mock::Step::Notification {
                name: n.name.clone().unwrap_or_else(|| n.method.clone()),
                method: n.method.clone(),
                params: n.params.clone(),
                delivery: delivery_of(n.delivery),
            }),
            Step::Raw(r) => {
                let name = unique_name(r.name.as_deref().unwrap_or("raw"), &mut taken);
                raws.push(ScriptedRaw { name: name.clone(), line: r.line.clone(), expect: r.expect.clone() });
                steps.push(mock::Step::Raw { name, line: r.line.clone(), delivery: delivery_of(r.delivery) });
            }
            Step::Sleep(d) => steps.push(mock::Step::Sleep(Duration::from_millis(d.ms))),
            Step::InputRequired(r) => {
                let name = unique_name(r.name.as_deref().unwrap_or("input_required"), &mut taken);
                let within = r.expect.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
                rounds.push(ScriptedRound {
                    name: name.clone(),
                    inputs: r.inputs.clone(),
                    request_state: r.request_state.clone(),
                    expect: r.expect.clone(),
                    within,
                });
                steps.push(mock::Step::InputRequired(mock::InputRound {
                    name,
                    inputs: r.inputs.iter().map(|i| (i.key.clone(), i.method.clone(), i.params.clone())).collect(),
                    request_state: r.request_state.clone(),
                    retry_within: within,
                }));
            }
        }
    }
    let timeout = scenario.timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    Compiled { id, path: path.to_owned(), scenario, requests, raws, rounds, timeout, steps }
}

/// `server.delivery`, else the request stream of the trigger call, else the GET stream.
fn default_delivery(s: &Scenario) -> DeliveryKind {
    s.server.delivery.unwrap_or(match s.trigger {
        TriggerKind::ToolCall => DeliveryKind::RequestStream,
        TriggerKind::Initialized | TriggerKind::BeforeInitialized => DeliveryKind::GetStream,
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
        let steps = self.steps.clone();
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
                TriggerKind::BeforeInitialized => Trigger::BeforeInitialized,
                TriggerKind::ToolCall => Trigger::ToolCall { tool: TRIGGER_TOOL.to_owned() },
            },
            delivery: delivery_of(Some(self.default_delivery())).unwrap_or_default(),
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
            elicitation: c.elicitation.as_ref().map(|e| (e.contract_modes(), e.delay_ms)),
            roots_change: c.roots_change.as_ref().map(|rc| {
                (rc.after_ms, rc.roots.iter().map(|RootSpec { uri, name }| (uri.clone(), name.clone())).collect())
            }),
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
