//! Compiling a loaded scenario ([`Scenario`], the file model) into a [`Compiled`]
//! one: the mock's script, the client plan and the checks' expectations.

use std::path::Path;
use std::time::Duration;

use backchannel_mock::script::{self as mock, Delivery, IdSpec, RoundMethod, Script, ServerSettings, Trigger};
use backchannel_mock::transport::http::ResponseMode;

use super::compiled::{
    AlikeRule, AnswerExpect, CapabilityRule, ClientPlan, CodeRule, Compiled, Expectation, MessageRule, Pointer,
    Requirements, ResultRule, ScriptedBreak, ScriptedClose, ScriptedInput, ScriptedRaw, ScriptedRequest, ScriptedRound,
    SessionExpect,
};
use super::load::{LoadError, load};
use super::model::{
    ClientSampling, CodeExpect, DeliveryKind, ElicitAction, Graded, HttpResponseKind, IdSource, RequestStep, RootSpec,
    Scenario, Step, TriggerKind,
};

/// The tool a `trigger: tool_call` scenario asks the client to call.
pub const TRIGGER_TOOL: &str = "backchannel_run_scenario";

/// Default whole-session timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The grace period after the script's barrier, for clients other than the
/// reference client (their profile's `settle_ms`, or `--settle-ms`): what a barrier
/// cannot prove — an answer sent concurrently, a log line written late — still has
/// this long to arrive.
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(300);
/// Default time a request's answer may take.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(5);

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

fn grade(g: &Graded) -> Expectation {
    Expectation { severity: g.severity, rule: g.spec.value.clone() }
}

fn code_rule(c: &CodeExpect) -> CodeRule {
    CodeRule { one_of: c.one_of.clone(), grade: Expectation { severity: c.severity, rule: c.spec.value.clone() } }
}

fn result_rule(r: &super::model::ResultExpect) -> ResultRule {
    ResultRule {
        subset: r.subset.clone(),
        equals: r.equals.clone(),
        pointers: r
            .pointers
            .iter()
            .map(|p| Pointer {
                pointer: p.pointer.value.clone(),
                equals: p.equals.clone(),
                // Validated by the loader.
                matches: p.matches.as_ref().and_then(|m| regex::Regex::new(&m.value).ok()),
                exists: p.exists,
            })
            .collect(),
        grade: Expectation { severity: r.severity, rule: r.spec.value.clone() },
    }
}

fn answer_expect(e: &super::model::RequestExpect) -> AnswerExpect {
    AnswerExpect {
        no_answer: e.no_answer.as_ref().map(grade),
        error: e.error.as_ref().map(grade),
        error_code: e.error_code.as_ref().map(code_rule),
        error_message: e.error_message.as_ref().map(|m| MessageRule {
            contains: m.contains.clone(),
            not_contains: m.not_contains.clone(),
            grade: Expectation { severity: m.severity, rule: m.spec.value.clone() },
        }),
        result: e.result.as_ref().map(result_rule),
        alike: e.alike.as_ref().map(|a| AlikeRule {
            step: a.step.value.clone(),
            grade: Expectation { severity: a.severity, rule: a.spec.value.clone() },
        }),
    }
}

fn delivery_of(kind: DeliveryKind) -> Delivery {
    match kind {
        DeliveryKind::GetStream => Delivery::GetStream,
        DeliveryKind::RequestStream => Delivery::RequestStream,
    }
}

/// `server.delivery`, else the request stream of the trigger call, else the GET stream.
fn default_delivery(s: &Scenario) -> DeliveryKind {
    s.server.delivery.as_ref().map(|d| d.value).unwrap_or(match s.trigger {
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

fn roots(list: &[RootSpec]) -> Vec<(String, Option<String>)> {
    list.iter().map(|RootSpec { uri, name }| (uri.clone(), name.clone())).collect()
}

/// Compile a parsed scenario.
pub fn compile(path: &Path, scenario: Scenario) -> Compiled {
    let id = scenario_id(path, scenario.id.as_deref());
    let mut requests = Vec::new();
    let mut raws = Vec::new();
    let mut rounds = Vec::new();
    let mut breaks = Vec::new();
    let mut closes = Vec::new();
    let mut steps = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    let fallback_delivery = default_delivery(&scenario);
    let request = |r: &RequestStep, name: String, requests: &mut Vec<ScriptedRequest>| {
        let within = r.expect.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
        let delivery = r.delivery.unwrap_or(fallback_delivery);
        requests.push(ScriptedRequest {
            name: name.clone(),
            method: r.method.clone(),
            expect: answer_expect(&r.expect),
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
            delivery: Some(delivery_of(delivery)),
        }
    };
    for step in &scenario.steps {
        match &step.value {
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
                        m.delivery = b.delivery.map(delivery_of).or(m.delivery);
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
                delivery: n.delivery.map(delivery_of),
            }),
            Step::Raw(r) => {
                let name = unique_name(r.name.as_deref().unwrap_or("raw"), &mut taken);
                raws.push(ScriptedRaw {
                    name: name.clone(),
                    line: r.line.clone(),
                    error_code_if_answered: r.expect.error_code_if_answered.as_ref().map(code_rule),
                });
                steps.push(mock::Step::Raw { name, line: r.line.clone(), delivery: r.delivery.map(delivery_of) });
            }
            Step::Sleep(d) => steps.push(mock::Step::Sleep(Duration::from_millis(d.ms))),
            Step::AwaitNotification(a) => steps.push(mock::Step::AwaitNotification {
                name: a.method.clone(),
                method: a.method.clone(),
                within: a.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis),
            }),
            Step::InputRequired(r) => {
                let name = unique_name(r.name.as_deref().unwrap_or("input_required"), &mut taken);
                let within = r.expect.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
                rounds.push(ScriptedRound {
                    name: name.clone(),
                    inputs: r
                        .inputs
                        .iter()
                        .map(|i| ScriptedInput {
                            key: i.key.clone(),
                            method: i.method.clone(),
                            params: i.params.clone(),
                            result: i.expect.result.as_ref().map(result_rule),
                            no_answer: i.expect.no_answer.as_ref().map(grade),
                        })
                        .collect(),
                    request_state: r.request_state.clone(),
                    retry: r.expect.retry.as_ref().map(grade),
                    within,
                });
                steps.push(mock::Step::InputRequired(mock::InputRound {
                    name,
                    inputs: r.inputs.iter().map(|i| (i.key.clone(), i.method.clone(), i.params.clone())).collect(),
                    request_state: r.request_state.clone(),
                    retry_within: within,
                }));
            }
            Step::BreakStream(b) => {
                let name = unique_name(b.name.as_deref().unwrap_or("break_stream"), &mut taken);
                let within = b.expect.within_ms.map_or(DEFAULT_WITHIN, Duration::from_millis);
                breaks.push(ScriptedBreak {
                    name: name.clone(),
                    reissue: b.expect.reissue.as_ref().map(grade),
                    within,
                });
                steps.push(mock::Step::BreakStream { name, reissue_within: within });
            }
            Step::CloseStream(c) => {
                let name = unique_name(c.name.as_deref().unwrap_or("close_stream"), &mut taken);
                let delivery = c.delivery.unwrap_or(DeliveryKind::GetStream);
                closes.push(ScriptedClose { name: name.clone(), delivery, retry_ms: c.retry_ms, abort: c.abort });
                let delivery = delivery_of(delivery);
                steps.push(mock::Step::CloseStream { name, delivery, retry_ms: c.retry_ms, abort: c.abort });
            }
        }
    }
    let timeout = scenario.timeout_ms.map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    let ex = &scenario.expect;
    let capability = |l: &super::model::CapabilityList| CapabilityRule {
        names: l.names.clone(),
        grade: Expectation { severity: l.severity, rule: l.spec.value.clone() },
    };
    let expect = SessionExpect {
        capabilities_absent: ex.capabilities.absent.as_ref().map(capability),
        capabilities_present: ex.capabilities.present.as_ref().map(capability),
        notifications: ex
            .notifications
            .iter()
            .map(|n| (n.method.clone(), Expectation { severity: n.severity, rule: n.spec.value.clone() }))
            .collect(),
        warning_per_request: ex
            .logs
            .warning_per_request
            .as_ref()
            .map(|m| (m.methods.clone(), Expectation { severity: m.severity, rule: m.spec.value.clone() })),
        no_canary_at_warning: ex.logs.no_canary_at_warning.as_ref().map(grade),
        canary_at_debug: ex.logs.canary_at_debug.as_ref().map(grade),
    };
    let c = &scenario.client;
    let client = ClientPlan {
        roots: roots(&c.roots),
        log_level: c.log_level,
        call_tool: (scenario.trigger == TriggerKind::ToolCall).then(|| TRIGGER_TOOL.to_owned()),
        elicitation: c.elicitation.as_ref().map(|e| (e.contract_modes(), e.delay_ms)),
        elicitation_action: c.elicitation.as_ref().map_or(ElicitAction::Decline, |e| e.action),
        sampling: c.sampling.as_ref().map(ClientSampling::contract_features),
        roots_change: c.roots_change.as_ref().map(|rc| (rc.after_ms, roots(&rc.roots))),
        call_arguments: c.call_arguments.as_ref().map(|a| a.value.clone()),
        trigger_request: scenario.input_required_on.as_ref().map_or(RoundMethod::ToolsCall, |m| m.value),
    };
    let script = Script {
        scenario: id.clone(),
        server: ServerSettings {
            protocol_version: None,
            tools: scenario.server.tools.clone(),
            trigger_input_schema: scenario.server.trigger_input_schema.as_ref().map(|s| s.value.clone()),
            ..ServerSettings::default()
        },
        steps,
        timeout,
        // The client's settle time replaces it per case, unless the scenario sets one.
        grace: scenario.grace_ms.map_or(DEFAULT_SETTLE, Duration::from_millis),
        barrier: true,
        trigger: match scenario.trigger {
            TriggerKind::Initialized => Trigger::Initialized,
            TriggerKind::BeforeInitialized => Trigger::BeforeInitialized,
            TriggerKind::ToolCall => Trigger::ToolCall { tool: TRIGGER_TOOL.to_owned() },
        },
        delivery: delivery_of(fallback_delivery),
        round_method: scenario.input_required_on.as_ref().map_or(RoundMethod::ToolsCall, |m| m.value),
        answer_repeated_initialize: false,
    };
    let citations = scenario.citations().into_iter().map(|(k, s)| (k.value.clone(), s)).collect();
    let mut revisions = scenario.revisions.value.clone();
    revisions.sort_unstable();
    revisions.dedup();
    Compiled {
        id,
        path: path.to_owned(),
        title: scenario.title.clone(),
        revisions,
        transports: scenario.transports.value.clone(),
        trigger: scenario.trigger,
        requests,
        raws,
        rounds,
        breaks,
        closes,
        expect,
        requires: Requirements {
            undeclared: scenario.requires.undeclared.clone(),
            declared: scenario.requires.declared.clone(),
        },
        client,
        gateway: scenario.gateway,
        timeout,
        grace: scenario.grace_ms.map(Duration::from_millis),
        http_response: match scenario.server.http_response {
            HttpResponseKind::Json => ResponseMode::Json,
            HttpResponseKind::Sse => ResponseMode::Sse,
        },
        citations,
        specs: scenario.specs,
        script,
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
        let pinned = c.script(Some(backchannel_protocol::Revision::V2025_03_26));
        assert_eq!(pinned.server.protocol_version, Some(backchannel_protocol::Revision::V2025_03_26));
    }
}
