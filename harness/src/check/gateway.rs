//! Gateway checks: a gateway between the mock (its upstream server) and the
//! reference client (its downstream client). The upstream trace says what the
//! server sent and what came back; the downstream client's record
//! ([`Delivered`], from `backchannel client --record`) says what reached the
//! client and what it answered. Per scripted server→client request whose capability
//! the downstream declared:
//!
//! - `<step>.relayed`: the downstream received it, every member of the params the
//!   server sent intact (the canary included; `_meta` aside — a gateway may add its
//!   own; numbers equal to single precision, as the downstream client reads them);
//! - `<step>.answer-intact`: what the server got back is what the downstream
//!   answered (no rewritten `model`, no dropped `stopReason`; `_meta` aside).
//!
//! - `<step>.isolated` (a scenario with `gateway: {bystander: true}`): a second
//!   downstream session, up beside the client's and asking for nothing, did not
//!   receive it ([`Bystander`]).
//!
//! And once per case, `gateway.capabilities`: a capability the gateway declared
//! upstream that its downstream client did not is one the gateway must handle
//! itself — a request for it answered with an error means it declared what nobody
//! could do (the server was told it could ask).
//!
//! Refusals (a capability the downstream did not declare) are judged by the
//! scenario's own checks on the upstream trace and the gateway's logs
//! (`.error-code`, `logs.warning-per-request`): the gateway is the client there —
//! except the refusal log of a request it relayed, which its downstream client
//! refused: that log is the refusing party's (N/A for the gateway).

use backchannel_protocol::capability_for;
use backchannel_protocol::record::{Answer, Received};
use serde_json::Value;

use super::session::AnswerKind;
use super::{Emitter, Evidence, ScenarioCtx};
use crate::scenario::model::Severity;

/// The rule the relay checks cite.
const RULE: &str = "gateway/relay-intact";
/// The rule `<step>.isolated` cites.
const ISOLATE: &str = "gateway/isolate-sessions";
/// The rule `gateway.capabilities` cites.
const DECLARE: &str = "gateway/declare-what-it-serves";

/// What reached the downstream client through the gateway (the runner reads it from
/// the client's record, [`backchannel_protocol::record`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivered {
    /// Every request, in the order answered.
    pub received: Vec<Received>,
    /// The bystander session beside it, when the scenario asked for one.
    pub bystander: Option<Bystander>,
}

/// A second downstream session, up beside the client's, that asks for nothing
/// (`gateway: {bystander: true}`; `backchannel client --bystander-record`).
#[derive(Debug, Clone, PartialEq)]
pub enum Bystander {
    /// It was up: what reached it.
    Up(Vec<Received>),
    /// It never was, and why.
    Unavailable(String),
}

/// `v` without a top-level `_meta`.
fn without_meta(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(k, _)| *k != "_meta").map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        other => other.clone(),
    }
}

/// The first member (a JSON pointer) of `sent` that `got` lost or changed; members
/// `got` adds are not judged. `None`: intact.
fn first_loss(sent: &Value, got: &Value, at: &str) -> Option<String> {
    match (sent, got) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| {
            let here = format!("{at}/{k}");
            match b.get(k) {
                None => Some(here),
                Some(w) => first_loss(v, w, &here),
            }
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (v, w))| first_loss(v, w, &format!("{at}/{i}")))
        }
        (Value::Number(a), Value::Number(b)) if same_number(a, b) => None,
        _ if sent == got => None,
        _ => Some(if at.is_empty() { "/".to_owned() } else { at.to_owned() }),
    }
}

/// Numbers equal to single precision: the downstream client (rmcp) reads some
/// numbers as `f32` (`intelligencePriority` 0.8 comes back 0.800000011920929), and
/// the record holds what it read.
fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-6 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

/// The first member on which two answers differ, either way. `None`: equal.
fn first_difference(downstream: &Value, upstream: &Value) -> Option<String> {
    first_loss(downstream, upstream, "").or_else(|| first_loss(upstream, downstream, ""))
}

fn short(v: Option<&Value>) -> String {
    v.map_or_else(|| "nothing".to_owned(), |v| super::truncate(&v.to_string(), 80))
}

/// The params of the request sent as frame `seq`.
fn sent_params(ctx: &ScenarioCtx<'_>, seq: u64) -> Option<Value> {
    ctx.trace.frames().find(|f| f.seq == seq)?.json.as_ref()?.get("params").map(without_meta)
}

/// `gateway.capabilities` (see the module's documentation). Judged in any session
/// that started, whatever the scenario's own requirements.
fn capabilities(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    if !ctx.started {
        return;
    }
    let mut judged = 0;
    for (i, sent) in ctx.session.sent.iter().enumerate().filter(|(_, s)| !s.is_barrier()) {
        let Some(cap) = capability_for(&sent.method) else { continue };
        if !ctx.session.declares(cap) || ctx.plan.configures(cap).is_some() {
            continue;
        }
        judged += 1;
        if let Some(AnswerKind::Error { code, message }) = ctx.session.answer_to(i).map(|a| &a.kind) {
            out.violated(
                "gateway.capabilities",
                Severity::Must,
                DECLARE,
                Evidence::new(format!(
                    "declared `{cap}` upstream though the downstream client did not, then answered {} with error {} \"{}\"",
                    sent.method,
                    code.map_or_else(|| "?".to_owned(), |c| c.to_string()),
                    super::truncate(message.as_deref().unwrap_or(""), 80)
                ))
                .at_frame(sent.seq),
            );
            return;
        }
    }
    if judged > 0 {
        out.pass(
            "gateway.capabilities",
            Severity::Must,
            DECLARE,
            Evidence::new("what it declared beyond its downstream client, it handled itself"),
        );
    }
}

/// `<step>.isolated` (scenarios with a bystander): a scripted request the upstream
/// sent reaches only the downstream session that caused it — the bystander, which
/// asked for nothing, must not receive it. Not applicable when there was no
/// bystander (a stdio downstream, one it could not open) or no such request was sent.
fn isolated(out: &mut Emitter, ctx: &ScenarioCtx<'_>, bystander: &Bystander) {
    for sent in ctx.session.sent.iter().filter(|s| !s.is_barrier()) {
        let Some(step) = sent.step.as_deref() else { continue };
        if capability_for(&sent.method).is_none() {
            continue;
        }
        let check = format!("{step}.isolated");
        let received = match bystander {
            Bystander::Unavailable(why) => {
                out.not_applicable(&check, &format!("N/A: no bystander session: {why}"));
                continue;
            }
            Bystander::Up(received) => received,
        };
        match received.iter().find(|r| r.method == sent.method) {
            Some(got) => out.violated(
                &check,
                Severity::Must,
                ISOLATE,
                Evidence::new(format!(
                    "the bystander session, which asked for nothing, received {} (its id {}): the gateway delivered the request to a session that did not cause it",
                    got.method, got.id
                ))
                .at_frame(sent.seq),
            ),
            None => out.pass(
                &check,
                Severity::Must,
                ISOLATE,
                Evidence::new(format!("the bystander session, up throughout, received no {}", sent.method))
                    .at_frame(sent.seq),
            ),
        }
    }
}

/// The gateway checks (only in gateway mode: with a downstream record).
pub(crate) fn checks(out: &mut Emitter, ctx: &ScenarioCtx<'_>, downstream: &Delivered) {
    capabilities(out, ctx);
    if let Some(bystander) = &downstream.bystander {
        isolated(out, ctx, bystander);
    }
    let mut taken = vec![false; downstream.received.len()];
    for (k, sent) in ctx.session.sent.iter().enumerate().filter(|(_, s)| !s.is_barrier()) {
        let Some(step) = sent.step.as_deref() else { continue };
        let Some(cap) = capability_for(&sent.method) else { continue };
        let (relayed, intact) = (format!("{step}.relayed"), format!("{step}.answer-intact"));
        // A scenario's own requirements (`requires:`) do not gate these: whatever
        // was relayed is judged as a relay. Only a session that never started is not.
        if let (false, Some(why)) = (ctx.started, &ctx.na) {
            out.not_applicable(&relayed, why);
            out.not_applicable(&intact, why);
            continue;
        }
        let params = sent_params(ctx, sent.seq).unwrap_or(Value::Null);
        let candidates: Vec<usize> = (0..downstream.received.len())
            .filter(|&i| !taken[i] && downstream.received[i].method == sent.method)
            .collect();
        let intact_params = |i: &usize| {
            let got = downstream.received[*i].params.as_ref().map_or(Value::Null, without_meta);
            first_loss(&params, &got, "").is_none()
        };
        let matched = candidates.iter().find(|i| intact_params(i)).or(candidates.first()).copied();
        // Not relayed, and nothing to relay to: the downstream client did not declare
        // the capability, or the gateway does not relay it (it did not declare it
        // upstream and does not claim to). Its refusal is judged instead. What it
        // relays anyway is judged like any relay.
        let na = if ctx.plan.configures(cap).is_none() {
            Some(format!(
                "N/A: the downstream client did not declare `{cap}` and did not receive {}: the gateway refused it itself (the scenario's checks judge how)",
                sent.method
            ))
        } else {
            ctx.needs(cap).map(|why| why.replace("the client does not declare", "the gateway does not declare"))
        };
        if let (None, Some(why)) = (matched, &na) {
            out.not_applicable(&relayed, why);
            out.not_applicable(&intact, why);
            continue;
        }
        let Some(i) = matched else {
            let upstream = ctx.session.answer_to(k);
            let what = match upstream.map(|a| &a.kind) {
                Some(AnswerKind::Error { code, message }) => format!(
                    "; the server got error {} \"{}\" from the gateway itself",
                    code.map_or_else(|| "?".to_owned(), |c| c.to_string()),
                    message.as_deref().unwrap_or("")
                ),
                Some(AnswerKind::Result(_)) => "; the server got a result the downstream never gave".to_owned(),
                None => "; the server got no answer".to_owned(),
            };
            out.violated(
                &relayed,
                Severity::Must,
                RULE,
                Evidence::new(format!(
                    "the downstream client declared `{cap}` but never received {} (id {}){what}",
                    sent.method, sent.id
                ))
                .at_frame(sent.seq),
            );
            out.skip(&intact, "the request never reached the downstream client");
            continue;
        };
        taken[i] = true;
        let got = &downstream.received[i];
        let got_params = got.params.as_ref().map_or(Value::Null, without_meta);
        match first_loss(&params, &got_params, "") {
            None => out.pass(
                &relayed,
                Severity::Must,
                RULE,
                Evidence::new(format!("the downstream received {} (its id {}), params intact", sent.method, got.id))
                    .at_frame(sent.seq),
            ),
            Some(at) => {
                let pointer = if at == "/" { String::new() } else { at.clone() };
                out.violated(
                    &relayed,
                    Severity::Must,
                    RULE,
                    Evidence::new(format!(
                        "the downstream received {} with params `{at}` lost or changed",
                        sent.method
                    ))
                    .diff(short(params.pointer(&pointer)), short(got_params.pointer(&pointer)))
                    .at_frame(sent.seq),
                );
            }
        }
        let Some(upstream) = ctx.session.answer_to(k) else {
            out.skip(&intact, "the server got no answer (`.answered` judges that)");
            continue;
        };
        let judged = match (&got.answer, &upstream.kind) {
            (Answer::Result(down), AnswerKind::Result(up)) => first_difference(&without_meta(down), &without_meta(up))
                .map(|at| {
                    let pointer = if at == "/" { String::new() } else { at.clone() };
                    (
                        format!("the result member `{at}` differs from the downstream's answer"),
                        short(down.pointer(&pointer)),
                        short(up.pointer(&pointer)),
                    )
                }),
            (Answer::Error(down), AnswerKind::Error { code, .. }) => {
                let want = down.get("code").and_then(Value::as_i64);
                (want != *code).then(|| {
                    (
                        "the error code differs from the downstream's".to_owned(),
                        short(down.get("code")),
                        code.map_or_else(|| "none".to_owned(), |c| c.to_string()),
                    )
                })
            }
            (Answer::Result(down), AnswerKind::Error { code, message }) => Some((
                "the downstream answered with a result, the server got an error".to_owned(),
                short(Some(down)),
                format!(
                    "error {} {}",
                    code.map_or_else(|| "?".to_owned(), |c| c.to_string()),
                    message.as_deref().unwrap_or("")
                ),
            )),
            (Answer::Error(down), AnswerKind::Result(up)) => Some((
                "the downstream answered with an error, the server got a result".to_owned(),
                short(Some(down)),
                short(Some(up)),
            )),
        };
        match judged {
            None => out.pass(
                &intact,
                Severity::Must,
                RULE,
                Evidence::new("the server got the downstream's answer unchanged").at_frame(upstream.seq),
            ),
            Some((why, expected, actual)) => {
                out.violated(
                    &intact,
                    Severity::Must,
                    RULE,
                    Evidence::new(why).diff(expected, actual).at_frame(upstream.seq),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Outcome;
    use crate::check::tests::{Case, finding, outcome};
    use backchannel_protocol::record::Record;
    use backchannel_protocol::{Revision, Transport};
    use serde_json::json;

    /// What a downstream record's text says reached the client.
    fn downstream(record: &str) -> Delivered {
        Delivered { received: Record::parse(record).received, bystander: None }
    }

    const SAMPLING: &str = "title: t\nclient: {sampling: {}}\nsteps:\n  - request: {method: sampling/createMessage}\n";
    const STEP: &str = "sampling/createMessage";

    /// The server sends a sampling request with `params`, gets `answer`; the
    /// downstream client's record is `record`.
    fn case(yaml: &str, caps: Value, params: Value, answer: Value, record: &str) -> Vec<crate::check::Finding> {
        let mut c = Case::new(yaml, Transport::Stdio, Revision::V2025_11_25)
            .handshake(caps)
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":STEP,"params":params}), Some(STEP))
            .c2s(answer)
            .end();
        c.downstream = Some(downstream(record));
        c.eval()
    }

    fn reply(model: &str) -> Value {
        json!({"role":"assistant","model":model,"stopReason":"endTurn","content":{"type":"text","text":"hi"}})
    }

    fn record(params: &Value, result: &Value) -> String {
        json!({"method": STEP, "id": "7", "params": params, "result": result}).to_string()
    }

    #[test]
    fn a_faithful_relay_passes_and_a_gateway_outlives_the_session() {
        let params = json!({"messages":[{"role":"user","content":{"type":"text","text":"q bc-canary"}}],"maxTokens":5});
        let mut down = params.clone();
        down["_meta"] = json!({"gateway": "x"});
        let f = case(
            SAMPLING,
            json!({"sampling":{}}),
            params.clone(),
            json!({"jsonrpc":"2.0","id":1,"result":reply("m")}),
            &record(&down, &reply("m")),
        );
        assert_eq!(outcome(&f, "sampling/createMessage.relayed"), Outcome::Pass);
        assert_eq!(outcome(&f, "sampling/createMessage.answer-intact"), Outcome::Pass);
        assert!(f.iter().all(|f| f.check != "client.exits"), "a gateway is stopped by the harness");
    }

    #[test]
    fn a_request_answered_by_the_gateway_itself_was_not_relayed() {
        let refusal = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Sampling not supported"}});
        let f = case(SAMPLING, json!({"sampling":{}}), json!({"maxTokens":5}), refusal, "");
        let r = finding(&f, "sampling/createMessage.relayed");
        assert_eq!(r.outcome, Outcome::Violated);
        assert!(
            r.evidence.summary.contains("-32600 \"Sampling not supported\" from the gateway itself"),
            "{}",
            r.evidence.summary
        );
        assert_eq!(outcome(&f, "sampling/createMessage.answer-intact"), Outcome::Skipped);
    }

    #[test]
    fn changed_params_and_a_rewritten_answer_are_caught() {
        let params = json!({"systemPrompt":"s","maxTokens":5});
        let f = case(
            SAMPLING,
            json!({"sampling":{}}),
            params,
            json!({"jsonrpc":"2.0","id":1,"result":reply("gateway-model")}),
            &record(&json!({"maxTokens":5}), &reply("m")),
        );
        let r = finding(&f, "sampling/createMessage.relayed");
        assert_eq!(r.outcome, Outcome::Violated);
        assert!(r.evidence.summary.contains("/systemPrompt"), "{}", r.evidence.summary);
        let a = finding(&f, "sampling/createMessage.answer-intact");
        assert_eq!(a.outcome, Outcome::Violated);
        assert!(a.evidence.summary.contains("/model"), "{}", a.evidence.summary);
    }

    #[test]
    fn declaring_what_nobody_downstream_can_do_is_caught() {
        let yaml = "title: t\nsteps:\n  - request: {method: sampling/createMessage}\n";
        let error = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"no back-channel"}});
        let f = case(yaml, json!({"sampling":{}}), json!({}), error.clone(), "");
        let c = finding(&f, "gateway.capabilities");
        assert_eq!(c.outcome, Outcome::Violated);
        assert!(c.evidence.summary.contains("-32603"), "{}", c.evidence.summary);
        // Handled itself: fine.
        let f =
            case(yaml, json!({"sampling":{}}), json!({}), json!({"jsonrpc":"2.0","id":1,"result":reply("own")}), "");
        assert_eq!(outcome(&f, "gateway.capabilities"), Outcome::Pass);
        // Declared nothing beyond the downstream: nothing to judge.
        let f = case(SAMPLING, json!({"sampling":{}}), json!({}), error, "");
        assert!(f.iter().all(|f| f.check != "gateway.capabilities"));
    }

    #[test]
    fn nothing_to_relay_when_the_downstream_did_not_declare_or_the_gateway_does_not_relay() {
        let yaml = "title: t\nsteps:\n  - request: {method: sampling/createMessage}\n";
        let refusal = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}});
        let f = case(yaml, json!({}), json!({}), refusal.clone(), "");
        assert_eq!(outcome(&f, "sampling/createMessage.relayed"), Outcome::NotApplicable);
        // The downstream declared sampling, the gateway did not pass it on and does not
        // claim to relay it: it refused, which the scenario's own checks judge.
        let mut c = Case::new(SAMPLING, Transport::Stdio, Revision::V2025_11_25)
            .claims(&[])
            .handshake(json!({}))
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":STEP}), Some(STEP))
            .c2s(refusal)
            .end();
        c.downstream = Some(Delivered::default());
        let f = c.eval();
        assert_eq!(outcome(&f, "sampling/createMessage.relayed"), Outcome::NotApplicable);
        assert!(
            finding(&f, "sampling/createMessage.relayed").evidence.summary.contains("the gateway does not declare")
        );
    }

    /// The refusal log binds the party that refused: a gateway that relayed the
    /// request (its downstream client refused it) is not judged on it; one that
    /// refused it itself is.
    #[test]
    fn a_relay_is_not_judged_on_the_refusal_log_a_refusing_gateway_is() {
        let yaml = "title: t\nexpect:\n  logs:\n    warning_per_request: {methods: [sampling/createMessage], severity: should, spec: policy/warn-per-refusal}\nsteps:\n  - request: {method: sampling/createMessage}\n";
        let refusal = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}});
        let run = |delivered: Delivered| {
            let mut c = Case::new(yaml, Transport::Stdio, Revision::V2025_11_25)
                .claims(&[])
                .handshake(json!({}))
                .s2c(json!({"jsonrpc":"2.0","id":1,"method":STEP}), Some(STEP))
                .c2s(refusal.clone())
                .end();
            c.downstream = Some(delivered);
            finding(&c.eval(), "logs.warning-per-request").clone()
        };
        let relayed = json!({"method": STEP, "id": "7", "error": {"code": -32601, "message": "no"}}).to_string();
        let f = run(downstream(&relayed));
        assert_eq!(f.outcome, Outcome::NotApplicable, "{f:?}");
        assert!(f.evidence.summary.contains("refusing party"), "{}", f.evidence.summary);
        assert_eq!(run(Delivered::default()).outcome, Outcome::Violated, "it refused itself, silently");
    }

    #[test]
    fn a_bystander_that_received_the_request_fails_isolation() {
        let yaml = "title: t\nclient: {sampling: {}}\ngateway: {bystander: true}\nsteps:\n  - request: {method: sampling/createMessage}\n";
        let params = json!({"maxTokens":5});
        let isolated = |bystander: Bystander| {
            let mut c = Case::new(yaml, Transport::Stdio, Revision::V2025_11_25)
                .handshake(json!({"sampling":{}}))
                .s2c(json!({"jsonrpc":"2.0","id":1,"method":STEP,"params":params}), Some(STEP))
                .c2s(json!({"jsonrpc":"2.0","id":1,"result":reply("m")}))
                .end();
            let mut d = downstream(&record(&params, &reply("m")));
            d.bystander = Some(bystander);
            c.downstream = Some(d);
            finding(&c.eval(), "sampling/createMessage.isolated").clone()
        };
        let leaked = Bystander::Up(downstream(&record(&params, &reply("b"))).received);
        let f = isolated(leaked);
        assert_eq!(f.outcome, Outcome::Violated);
        assert!(f.evidence.summary.contains("did not cause it"), "{}", f.evidence.summary);
        assert_eq!(isolated(Bystander::Up(Vec::new())).outcome, Outcome::Pass);
        let gone = isolated(Bystander::Unavailable("HTTP 400".into()));
        assert_eq!(gone.outcome, Outcome::NotApplicable);
        assert!(gone.evidence.summary.contains("HTTP 400"), "{}", gone.evidence.summary);
    }

    #[test]
    fn losses_are_found_additions_are_not() {
        let sent = json!({"a": 1, "b": {"c": [1, 2]}, "d": "x"});
        assert_eq!(first_loss(&sent, &json!({"a": 1, "b": {"c": [1, 2]}, "d": "x", "e": 0}), ""), None);
        assert_eq!(first_loss(&sent, &json!({"a": 1, "b": {"c": [1, 3]}, "d": "x"}), "").as_deref(), Some("/b/c/1"));
        assert_eq!(first_loss(&sent, &json!({"a": 1, "b": {"c": [1, 2]}}), "").as_deref(), Some("/d"));
        assert_eq!(first_difference(&json!({"m": 1}), &json!({"m": 1, "n": 2})).as_deref(), Some("/n"));
        assert_eq!(first_loss(&json!(1), &json!(2), "").as_deref(), Some("/"));
        assert_eq!(first_loss(&json!({"p": 0.8}), &json!({"p": 0.800000011920929}), ""), None);
        assert_eq!(first_loss(&json!({"p": 0.8}), &json!({"p": 0.81}), "").as_deref(), Some("/p"));
    }
}
