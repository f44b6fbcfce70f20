//! Semantic validation of a parsed scenario: one rule per concern, each problem
//! located at the field or step it is about, so the loader can name the file, the
//! line and the field (`scenarios/x.yaml:12:7: …`).

use std::collections::BTreeSet;

use serde_saphyr::{Location, Spanned};

use super::catalog::{self, SpecRef};
use super::model::{
    DeliveryKind, RequestStep, ResultExpect, Revision, Scenario, Severity, SpecLevel, Step, Transport, TriggerKind,
};

/// One thing wrong with a scenario, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    /// Where in the file (`None`: the scenario as a whole).
    pub(super) at: Option<Location>,
    /// What is wrong.
    pub(super) message: String,
}

type Rule = fn(&Scenario, &mut Vec<Problem>);

/// The rules, in the order their problems are reported.
const RULES: &[Rule] =
    &[revisions_and_transports, modern_steps, delivery, trigger_tool, specs, probes, requests, batches, raws, rounds];

/// Every problem, rule by rule.
pub(super) fn problems(s: &Scenario) -> Vec<Problem> {
    let mut out = Vec::new();
    for rule in RULES {
        rule(s, &mut out);
    }
    out
}

/// The first problem, if any (what the loader reports).
pub(super) fn first_problem(s: &Scenario) -> Option<Problem> {
    problems(s).into_iter().next()
}

/// A known location, or none (a value that came from a default).
fn at<T>(v: &Spanned<T>) -> Option<Location> {
    (v.referenced.line() > 0).then_some(v.referenced)
}

fn push(out: &mut Vec<Problem>, at: Option<Location>, message: impl Into<String>) {
    out.push(Problem { at, message: message.into() });
}

/// The rule `key` as `rev` states it: the built-in catalogue, or the file's `specs:`.
fn resolve(s: &Scenario, key: &str, rev: Revision) -> Option<SpecRef> {
    catalog::resolve(key, rev, &s.specs)
}

fn revisions_and_transports(s: &Scenario, out: &mut Vec<Problem>) {
    if s.revisions.value.is_empty() {
        push(out, at(&s.revisions), "`revisions` is empty: list at least one protocol revision");
    }
    if s.transports.value.is_empty() {
        push(out, at(&s.transports), "`transports` is empty: list at least one of stdio, http, sse");
    }
    let served = |r: &Revision| s.transports.value.iter().any(|t| r.has_transport(*t));
    if !s.revisions.value.is_empty() && !s.transports.value.is_empty() && !s.revisions.value.iter().any(served) {
        let listed: Vec<&str> = s.transports.value.iter().map(|t| Transport::as_str(*t)).collect();
        push(
            out,
            at(&s.transports).or_else(|| at(&s.revisions)),
            format!("no listed transport ({}) exists in any listed revision", listed.join(", ")),
        );
    }
}

/// 2026-07-28 has no server-to-client requests (MRTR rounds instead), and rounds exist only there.
fn modern_steps(s: &Scenario, out: &mut Vec<Problem>) {
    let modern = s.revisions.value.contains(&Revision::V2026_07_28);
    for step in &s.steps {
        match &step.value {
            Step::InputRequired(_)
                if s.revisions.value != [Revision::V2026_07_28] || s.trigger != TriggerKind::ToolCall =>
            {
                push(
                    out,
                    at(step),
                    "`input_required` steps need `revisions: [2026-07-28]` and `trigger: tool_call` (MRTR answers a tool call)",
                );
            }
            Step::BreakStream(_)
                if s.revisions.value != [Revision::V2026_07_28]
                    || s.trigger != TriggerKind::ToolCall
                    || s.transports.value != [Transport::Http] =>
            {
                push(
                    out,
                    at(step),
                    "`break_stream` steps need `revisions: [2026-07-28]`, `trigger: tool_call` and `transports: [http]` (only a Streamable HTTP request has a response stream of its own to break)",
                );
            }
            Step::CloseStream(_)
                if s.transports.value != [Transport::Http]
                    || !s.revisions.value.iter().all(|r| r.has_stream_resumption()) =>
            {
                push(
                    out,
                    at(step),
                    "`close_stream` steps need `transports: [http]` and revisions from 2025-03-26 to 2025-11-25 (Streamable HTTP streams resumable with Last-Event-ID; 2026-07-28 re-issues instead: `break_stream`)",
                );
            }
            Step::CloseStream(c) if !c.abort && !s.revisions.value.iter().all(|r| r.has_stream_polling()) => push(
                out,
                at(step),
                "a graceful `close_stream` (without `abort: true`) needs `revisions: [2025-11-25]`: before it a server does not close a stream's connection on purpose",
            ),
            Step::CloseStream(c) if c.abort && c.retry_ms.is_some() => {
                push(out, at(step), "`retry_ms` needs a graceful close: an aborted connection carries no last event")
            }
            Step::Request(_) | Step::Batch(_) if modern => push(
                out,
                at(step),
                "2026-07-28 has no server-to-client requests on the wire (basic/patterns/mrtr.mdx): use `input_required` steps",
            ),
            _ => {}
        }
    }
}

/// The trigger tool's schema and the call's arguments need a trigger tool.
fn trigger_tool(s: &Scenario, out: &mut Vec<Problem>) {
    if let Some(on) = &s.input_required_on
        && s.trigger == TriggerKind::ToolCall
        && s.revisions.value != [Revision::V2026_07_28]
    {
        push(out, at(on), "`input_required_on` needs `trigger: tool_call` and `revisions: [2026-07-28]`");
    }
    if s.trigger == TriggerKind::ToolCall {
        return;
    }
    if let Some(schema) = &s.server.trigger_input_schema {
        push(out, at(schema), "`server.trigger_input_schema` needs `trigger: tool_call`");
    }
    if let Some(args) = &s.client.call_arguments {
        push(out, at(args), "`client.call_arguments` needs `trigger: tool_call`");
    }
    if let Some(on) = &s.input_required_on {
        push(out, at(on), "`input_required_on` needs `trigger: tool_call` and `revisions: [2026-07-28]`");
    }
}

/// `delivery: request_stream` needs an in-flight request: `trigger: tool_call`.
fn delivery(s: &Scenario, out: &mut Vec<Problem>) {
    if s.trigger == TriggerKind::ToolCall {
        return;
    }
    const WHY: &str = "`delivery: request_stream` needs `trigger: tool_call` (there is no in-flight request otherwise)";
    let request_stream = |d: Option<DeliveryKind>| d == Some(DeliveryKind::RequestStream);
    if let Some(d) = &s.server.delivery
        && d.value == DeliveryKind::RequestStream
    {
        push(out, at(d), WHY);
    }
    for step in &s.steps {
        let uses = match &step.value {
            Step::Request(r) => request_stream(r.delivery),
            Step::Batch(b) => request_stream(b.delivery) || b.requests.iter().any(|r| request_stream(r.delivery)),
            Step::Notification(n) => request_stream(n.delivery),
            Step::Raw(r) => request_stream(r.delivery),
            Step::CloseStream(c) => request_stream(c.delivery),
            Step::Sleep(_) | Step::InputRequired(_) | Step::AwaitNotification(_) | Step::BreakStream(_) => false,
        };
        if uses {
            push(out, at(step), WHY);
        }
    }
}

/// Every `spec:` resolves at every listed revision, and a SHOULD sentence is not graded MUST.
fn specs(s: &Scenario, out: &mut Vec<Problem>) {
    let Some(latest) = s.revisions.value.iter().max().copied() else { return };
    for (key, severity) in s.citations() {
        let here = Some(key.referenced);
        if let Some(rev) = s.revisions.value.iter().find(|r| resolve(s, &key.value, **r).is_none())
            && let Some(since) = catalog::since(&key.value)
        {
            push(
                out,
                here,
                format!("`{}` exists from {since} on, but this scenario runs at {rev} (see `revisions:`)", key.value),
            );
            continue;
        }
        let Some(r) = resolve(s, &key.value, latest) else {
            push(
                out,
                here,
                format!(
                    "unknown spec key `{}` (see `backchannel list --specs`, or define it under `specs:`)",
                    key.value
                ),
            );
            continue;
        };
        // Honesty guard: a sentence that says SHOULD cannot be graded as a MUST. (A rule
        // that is SHOULD only in early revisions is graded SHOULD at those, per case.)
        if r.level == SpecLevel::Should && severity == Severity::Must {
            push(out, here, format!("`{}` states a SHOULD; grade it `severity: should`", key.value));
        }
    }
}

/// "Declare only what you handle" is judged where it can be seen: a scenario that
/// expects a capability absent under `policy/declare-only-handled` sends a request
/// that needs it, so a client that declares it *and* handles it shows that it does
/// (and is N/A) instead of being taken for an intercepting client that lies.
fn probes(s: &Scenario, out: &mut Vec<Problem>) {
    let Some(list) = &s.expect.capabilities.absent else { return };
    if list.spec.value != "policy/declare-only-handled" {
        return;
    }
    let mut methods: Vec<&str> = Vec::new();
    for step in &s.steps {
        match &step.value {
            Step::Request(r) => methods.push(&r.method),
            Step::Batch(b) => methods.extend(b.requests.iter().map(|r| r.method.as_str())),
            Step::InputRequired(i) => methods.extend(i.inputs.iter().map(|i| i.method.as_str())),
            _ => {}
        }
    }
    for name in &list.names {
        let probed = methods.iter().any(|m| {
            backchannel_protocol::capability_for(m).is_some_and(|c| c == name || c.starts_with(&format!("{name}.")))
        });
        if !probed {
            push(
                out,
                Some(list.spec.referenced),
                format!(
                    "`capabilities.absent` names `{name}` under policy/declare-only-handled, but no step sends a request that needs it: a client that declares and handles it could not show that it does (add a probe, as scenarios/capabilities/none-declared.yaml does)"
                ),
            );
        }
    }
}

fn result_pointers(g: &ResultExpect, out: &mut Vec<Problem>) {
    for p in &g.pointers {
        if !(p.pointer.value.is_empty() || p.pointer.value.starts_with('/')) {
            push(out, at(&p.pointer), format!("pointer `{}` must be empty or start with `/`", p.pointer.value));
        }
        if let Some(re) = &p.matches
            && let Err(err) = regex::Regex::new(&re.value)
        {
            push(out, at(re), format!("pointer `{}`: invalid regex: {err}", p.pointer.value));
        }
    }
}

fn one_request(s: &Scenario, r: &RequestStep, here: Option<Location>, names: &mut BTreeSet<String>) -> Vec<Problem> {
    let mut out = Vec::new();
    let e = &r.expect;
    if e.no_answer.is_some()
        && (e.error.is_some()
            || e.error_code.is_some()
            || e.error_message.is_some()
            || e.result.is_some()
            || e.alike.is_some())
    {
        push(&mut out, here, format!("`{}`: `no_answer` excludes expectations on an answer", r.method));
    }
    if r.id_from.is_some() && (r.id.is_some() || s.trigger != TriggerKind::ToolCall) {
        push(&mut out, here, "`id_from: trigger_call` needs `trigger: tool_call` and no `id`");
    }
    if r.repeat == Some(0) {
        push(&mut out, here, "`repeat` must be at least 1");
    }
    if let Some(g) = &e.result {
        result_pointers(g, &mut out);
    }
    // `names` holds the steps named so far: `alike` compares with an earlier one.
    if let Some(a) = &e.alike
        && !names.contains(&a.step.value)
    {
        push(&mut out, at(&a.step), format!("`alike`: no earlier request step is named `{}`", a.step.value));
    }
    if let Some(name) = &r.name
        && !names.insert(name.clone())
    {
        push(&mut out, here, format!("two steps are named `{name}`"));
    }
    out
}

/// Per request (alone or in a batch): consistent expectations, ids, repeats, unique names.
fn requests(s: &Scenario, out: &mut Vec<Problem>) {
    let mut names = BTreeSet::new();
    for step in &s.steps {
        match &step.value {
            Step::Request(r) => out.extend(one_request(s, r, at(step), &mut names)),
            Step::Batch(b) => {
                for r in &b.requests {
                    out.extend(one_request(s, r, at(step), &mut names));
                }
            }
            _ => {}
        }
    }
}

fn batches(s: &Scenario, out: &mut Vec<Problem>) {
    for step in &s.steps {
        let Step::Batch(b) = &step.value else { continue };
        if b.requests.is_empty() {
            push(out, at(step), "a batch needs at least one request");
        }
        if b.requests.iter().any(|r| r.wait || r.repeat.is_some()) {
            push(out, at(step), "`wait` and `repeat` do not apply inside a batch");
        }
    }
}

fn raws(s: &Scenario, out: &mut Vec<Problem>) {
    for step in &s.steps {
        if let Step::Raw(r) = &step.value
            && r.line.contains('\n')
        {
            push(out, at(step), "a raw line must not contain a newline (send two raw steps)");
        }
    }
}

fn rounds(s: &Scenario, out: &mut Vec<Problem>) {
    for step in &s.steps {
        let Step::InputRequired(round) = &step.value else { continue };
        if round.inputs.is_empty() && round.request_state.is_none() {
            push(
                out,
                at(step),
                "an `input_required` round needs `inputs` or a `request_state` (mrtr.mdx: at least one of them)",
            );
        }
        let mut keys = BTreeSet::new();
        for input in &round.inputs {
            if !keys.insert(input.key.as_str()) {
                push(out, at(step), format!("two inputs of one round use the key `{}`", input.key));
            }
            if let Some(g) = &input.expect.result {
                result_pointers(g, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn problem(text: &str) -> String {
        super::super::load::parse(Path::new("v.yaml"), text).unwrap_err().to_string()
    }

    /// Every rule's problem names the line of the step or field it is about.
    #[test]
    fn each_rule_locates_its_problem() {
        let cases: &[(&str, &str)] = &[
            ("title: t\nrevisions: []\nsteps: []\n", "v.yaml:2:"),
            ("title: t\ntransports: []\nsteps: []\n", "v.yaml:2:"),
            ("title: t\nrevisions: [2024-11-05]\ntransports: [http]\nsteps: []\n", "v.yaml:3:"),
            ("title: t\nsteps:\n  - sleep: {ms: 1}\n  - input_required: {request_state: s}\n", "v.yaml:4:"),
            (
                "title: t\nrevisions: [2026-07-28]\ntransports: [stdio, http]\ntrigger: tool_call\nsteps:\n  - break_stream: {}\n",
                "v.yaml:6:",
            ),
            (
                "title: t\nrevisions: [2026-07-28]\ntrigger: tool_call\nsteps:\n  - request: {method: ping}\n",
                "v.yaml:5:",
            ),
            // A stream closed over a transport or at a revision that cannot resume it;
            // a graceful close before 2025-11-25; `retry_ms` on an abort; a response
            // stream without a call.
            ("title: t\nsteps:\n  - sleep: {ms: 1}\n  - close_stream: {abort: true}\n", "v.yaml:4:"),
            (
                "title: t\nrevisions: [2025-06-18, 2025-11-25]\ntransports: [http]\nsteps:\n  - close_stream: {}\n",
                "v.yaml:5:",
            ),
            (
                "title: t\nrevisions: [2025-11-25]\ntransports: [http]\nsteps:\n  - close_stream: {abort: true, retry_ms: 5}\n",
                "v.yaml:5:",
            ),
            (
                "title: t\nrevisions: [2025-11-25]\ntransports: [http]\nsteps:\n  - close_stream: {delivery: request_stream}\n",
                "v.yaml:5:",
            ),
            ("title: t\nserver:\n  delivery: request_stream\nsteps: []\n", "v.yaml:3:"),
            ("title: t\nclient:\n  call_arguments: {a: 1}\nsteps: []\n", "v.yaml:3:"),
            ("title: t\ntrigger: tool_call\ninput_required_on: prompts/get\nsteps: []\n", "v.yaml:3:"),
            ("title: t\nserver:\n  trigger_input_schema: {type: object}\nsteps: []\n", "v.yaml:3:"),
            (
                "title: t\nsteps:\n  - sleep: {ms: 1}\n  - request: {method: ping, delivery: request_stream}\n",
                "v.yaml:4:",
            ),
            // "Declare only what you handled", with nothing to show that it does.
            (
                "title: t\nexpect:\n  capabilities:\n    absent:\n      names: [sampling, elicitation]\n      spec: policy/declare-only-handled\nsteps:\n  - request: {method: sampling/createMessage}\n",
                "v.yaml:6:",
            ),
            ("title: t\nsteps:\n  - request: {method: ping, repeat: 0}\n", "v.yaml:3:"),
            ("title: t\nsteps:\n  - request: {method: ping, id_from: trigger_call}\n", "v.yaml:3:"),
            ("title: t\nsteps:\n  - request: {method: a, name: x}\n  - request: {method: b, name: x}\n", "v.yaml:4:"),
            (
                "title: t\nsteps:\n  - request:\n      method: a\n      expect:\n        alike: {step: later, spec: jsonrpc/response-required}\n  - request: {method: b, name: later}\n",
                "v.yaml:6:",
            ),
            ("title: t\nsteps:\n  - sleep: {ms: 1}\n  - batch: {requests: []}\n", "v.yaml:4:"),
            ("title: t\nsteps:\n  - batch: {requests: [{method: ping, wait: true}]}\n", "v.yaml:3:"),
            ("title: t\nsteps:\n  - sleep: {ms: 1}\n  - raw: {line: \"a\\nb\"}\n", "v.yaml:4:"),
            (
                "title: t\nrevisions: [2026-07-28]\ntrigger: tool_call\nsteps:\n  - input_required: {inputs: [{key: k, method: roots/list}, {key: k, method: roots/list}]}\n",
                "v.yaml:5:",
            ),
            (
                "title: t\nsteps:\n  - request:\n      method: ping\n      expect:\n        result:\n          spec: ping/empty-result\n          pointers:\n            - pointer: nope\n",
                "v.yaml:9:",
            ),
            (
                "title: t\nsteps:\n  - request:\n      method: ping\n      expect:\n        result:\n          spec: ping/empty-result\n          pointers:\n            - {pointer: /a, matches: \"(\"}\n",
                "v.yaml:9:",
            ),
            (
                "title: t\nsteps:\n  - request:\n      method: ping\n      expect:\n        no_answer: {spec: cancellation/no-response, severity: should}\n        error: {spec: jsonrpc/response-required}\n",
                "v.yaml:3:",
            ),
        ];
        for (text, prefix) in cases {
            let e = problem(text);
            assert!(e.starts_with(prefix), "expected {prefix}…, got: {e}\nfor:\n{text}");
        }
    }
}
