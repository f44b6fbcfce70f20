//! 2026-07-28 checks: the client speaks the modern protocol (no `initialize`, every
//! request carries `_meta`), and handles `InputRequiredResult` rounds (MRTR,
//! `basic/patterns/mrtr.mdx`): it retries with a new id, answers every ask, echoes
//! the request state exactly, and never answers an ask it did not declare.

use backchannel_mock::trace::{EventKind, Trace};
use backchannel_protocol::{Revision, RoundMethod};
use serde_json::Value;

use super::capabilities::gate;
use super::requests::{expected_text, result_matches};
use super::session::{ClientRequest, META_CAPABILITIES, META_VERSION, Round, Session};
use super::{Emitter, Evidence, Judged, ScenarioCtx, truncate};
use crate::scenario::compiled::ScriptedRound;
use crate::scenario::model::Severity::Must;

/// The revision these checks judge.
const MODERN: Revision = Revision::MODERN;

/// `session.modern` and `mrtr.request-meta`; returns whether the session started
/// (the client sent at least one request that is not `initialize`).
pub(crate) fn session_checks(out: &mut Emitter, s: &Session, has_trace: bool) -> bool {
    let spec = "mrtr/request-meta";
    if !has_trace {
        out.violated(
            "session.modern",
            Must,
            spec,
            Evidence::new("the mock server never started: no trace was written (did the client launch the server?)"),
        );
        return false;
    }
    let modern: Vec<&ClientRequest> = s.requests.iter().filter(|r| r.method != "initialize").collect();
    match (&s.initialize, modern.first()) {
        (Some((seq, params)), _) => {
            let asked = params.get("protocolVersion").and_then(Value::as_str).unwrap_or("?");
            out.violated(
                "session.modern",
                Must,
                spec,
                Evidence::new(format!(
                    "the client opened with initialize (asking for {asked}): it does not speak {MODERN}, which has no handshake"
                ))
                .at_frame(*seq),
            );
        }
        (None, None) => {
            // Every request was refused at the HTTP layer: say what the client opened with.
            let why = match s.sent_requests().next() {
                Some(("initialize", p)) => {
                    let asked = p.and_then(|p| p.get("protocolVersion")).and_then(Value::as_str).unwrap_or("?");
                    format!(
                        "the client opened with initialize (asking for {asked}), refused by the server: it does not speak {MODERN}, which has no handshake"
                    )
                }
                _ => format!(
                    "no request of the client reached the server ({} client frames; a request the HTTP mock refused, e.g. for its headers, is not delivered)",
                    s.client_frames.len()
                ),
            };
            out.violated("session.modern", Must, spec, Evidence::new(why));
        }
        (None, Some(first)) => out.pass(
            "session.modern",
            Must,
            spec,
            Evidence::new(format!("no initialize; the first request is {}", first.method)).at_frame(first.seq),
        ),
    }
    if modern.is_empty() {
        out.skip("mrtr.request-meta", "the client sent no 2026-07-28 request");
        return false;
    }
    let bad = modern.iter().find_map(|r| meta_problem(r).map(|why| (r, why)));
    match bad {
        Some((r, why)) => out.violated(
            "mrtr.request-meta",
            Must,
            spec,
            Evidence::new(format!("{} (id {}): {why}", r.method, truncate(&r.id.to_string(), 40))).at_frame(r.seq),
        ),
        None => out.pass(
            "mrtr.request-meta",
            Must,
            spec,
            Evidence::new(format!(
                "{} requests, each with _meta naming {MODERN} and the client's capabilities",
                modern.len()
            )),
        ),
    }
    true
}

/// What is wrong with a 2026-07-28 request's `_meta`, if anything.
fn meta_problem(r: &ClientRequest) -> Option<String> {
    let Some(meta) = r.meta() else { return Some("no params._meta".to_owned()) };
    match meta.get(META_VERSION) {
        Some(Value::String(v)) if Revision::from_wire(v) == Some(MODERN) => {}
        Some(other) => {
            return Some(format!("{META_VERSION} is {}, not \"{MODERN}\"", truncate(&other.to_string(), 40)));
        }
        None => return Some(format!("_meta lacks {META_VERSION}")),
    }
    match meta.get(META_CAPABILITIES) {
        Some(Value::Object(_)) => None,
        Some(other) => Some(format!("{META_CAPABILITIES} is {}, not an object", truncate(&other.to_string(), 40))),
        None => Some(format!("_meta lacks {META_CAPABILITIES}")),
    }
}

/// A round as it happened: the call it answered, and the client's retry of it.
struct Played<'s> {
    round: &'s Round,
    call: Option<&'s ClientRequest>,
    retry: Option<&'s ClientRequest>,
}

/// What a request calls, gets or reads, when it is one a round may answer.
fn target(r: &ClientRequest) -> Option<(RoundMethod, Option<&Value>)> {
    let m = RoundMethod::from_method(&r.method)?;
    Some((m, r.params.as_ref().and_then(|p| p.get(m.name_field()))))
}

/// Pair each round the mock sent with the request it answered and that request's
/// retry (the client's next request of the same method for the same tool, prompt or
/// resource).
fn played<'s>(s: &'s Session, round: &'s Round) -> Played<'s> {
    let call = s.requests.iter().rev().find(|r| r.seq < round.seq && target(r).is_some() && r.id == round.answers);
    let what = call.and_then(target);
    let retry = s.requests.iter().find(|r| r.seq > round.seq && what.is_some() && target(r) == what);
    Played { round, call, retry }
}

fn input_responses(r: &ClientRequest) -> Option<&serde_json::Map<String, Value>> {
    r.params.as_ref()?.get("inputResponses")?.as_object()
}

/// `capabilities.honest` in 2026-07-28: no retry answers an ask whose capability the
/// client's call did not declare in its `_meta` ("a client that fulfils one anyway
/// claims a capability it never declared"). Emitted when a round with asks was sent.
pub(crate) fn honesty(out: &mut Emitter, s: &Session) {
    let spec = "mrtr/negotiated-capabilities";
    let mut asked = 0;
    for round in &s.rounds {
        let p = played(s, round);
        let asks = round.result.get("inputRequests").and_then(Value::as_object);
        asked += asks.map_or(0, serde_json::Map::len);
        let (Some(asks), Some(call), Some(retry)) = (asks, p.call, p.retry) else { continue };
        let declared = call.meta().and_then(|m| m.get(META_CAPABILITIES));
        let Some(responses) = input_responses(retry) else { continue };
        for (key, ask) in asks {
            let method = ask.get("method").and_then(Value::as_str).unwrap_or_default();
            let Some(cap) = gate(method, Some(MODERN)) else { continue };
            let has = declared.and_then(|d| d.get(cap)).is_some_and(|v| !v.is_null() && *v != Value::Bool(false));
            if responses.contains_key(key) && !has {
                out.violated(
                    "capabilities.honest",
                    Must,
                    spec,
                    Evidence::new(format!(
                        "answered the {method} ask `{}` of round {} without declaring `{cap}` in the call's _meta",
                        truncate(key, 40),
                        round.step
                    ))
                    .at_frame(retry.seq),
                );
                return;
            }
        }
    }
    if asked > 0 {
        out.pass(
            "capabilities.honest",
            Must,
            spec,
            Evidence::new(format!("{asked} asks answered consistently with the declared capabilities")),
        );
    }
}

/// Per round: the spec's retry rules (`<round>.new-id`, `<round>.request-state`,
/// `<round>.retry-inputs`, judged whenever the client retried) and the scenario's
/// expectations (`<round>.retried`, `<round>.<key>.result`, `<round>.<key>.not-answered`).
pub(crate) fn rounds(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    let compiled = ctx.compiled;
    let wide = ctx.spec_wide();
    for scripted in &compiled.rounds {
        let sent = ctx.session.rounds.iter().find(|r| r.step == scripted.name);
        let played = sent.map(|r| played(ctx.session, r));
        rules(out, &wide, scripted, played.as_ref());
        expectations(out, ctx, scripted, played.as_ref());
    }
}

/// A broken response stream as it happened: the request it lost, and the client's
/// re-issue of it (its next request of the same method for the same tool, prompt or
/// resource, sent after the break).
struct Broken<'s> {
    t_us: u64,
    lost: Option<&'s ClientRequest>,
    reissue: Option<&'s ClientRequest>,
}

fn broken<'s>(s: &'s Session, trace: &Trace, step: &str) -> Option<Broken<'s>> {
    let (t_us, id) = trace.events().find_map(|e| match &e.kind {
        EventKind::StreamBroken { step: name, id } if name == step => Some((e.t_us, id)),
        _ => None,
    })?;
    let lost = s.requests.iter().rev().find(|r| r.t_us <= t_us && r.id == *id && target(r).is_some());
    let what = lost.and_then(target);
    let reissue =
        s.requests.iter().find(|r| r.t_us >= t_us && lost.is_some_and(|l| r.seq > l.seq) && target(r) == what);
    Some(Broken { t_us, lost, reissue })
}

/// A request's params without `_meta` (which may legitimately change between attempts).
fn without_meta(r: &ClientRequest) -> Value {
    let mut p = r.params.clone().unwrap_or(Value::Null);
    if let Some(o) = p.as_object_mut() {
        o.remove("_meta");
    }
    p
}

/// Per broken response stream (2026-07-28 Streamable HTTP, SEP-2575): the spec's rule
/// for the re-issue (`<name>.new-id`, `<name>.same-request`, judged whenever the
/// client re-issued) and the scenario's expectation `<name>.reissued`.
pub(crate) fn breaks(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    let compiled = ctx.compiled;
    let wide = ctx.spec_wide();
    let rule = "http/reissue-broken-stream";
    for scripted in &compiled.breaks {
        let name = &scripted.name;
        let b = broken(ctx.session, ctx.trace, name);
        if let Some((lost, r)) = b.as_ref().and_then(|b| b.lost.zip(b.reissue)) {
            let new_id = if r.id == lost.id {
                Judged::Violated(
                    Evidence::new(format!("re-issued with the lost request's id {}", truncate(&r.id.to_string(), 40)))
                        .at_frame(r.seq),
                )
            } else {
                Judged::Pass(
                    Evidence::new(format!(
                        "re-issued as id {} (the lost request was {})",
                        truncate(&r.id.to_string(), 40),
                        truncate(&lost.id.to_string(), 40)
                    ))
                    .at_frame(r.seq),
                )
            };
            out.graded(&wide, &format!("{name}.new-id"), Must, rule, new_id);
            let (was, now) = (without_meta(lost), without_meta(r));
            let same = if was == now {
                Judged::Pass(Evidence::new("the re-issue repeats the lost request's params").at_frame(r.seq))
            } else {
                Judged::Violated(
                    Evidence::new("the re-issue is not the lost request: its params (apart from _meta) differ")
                        .diff(truncate(&was.to_string(), 300), truncate(&now.to_string(), 300))
                        .at_frame(r.seq),
                )
            };
            out.graded(&wide, &format!("{name}.same-request"), Must, rule, same);
        }
        let Some(g) = &scripted.reissue else { continue };
        let judged = match &b {
            None => Judged::Skip(Evidence::new(
                "the mock never broke this stream: no request was in flight (the client never made the call, or did not retry the round before)",
            )),
            Some(Broken { reissue: Some(r), t_us, .. }) => {
                let after = r.t_us.saturating_sub(*t_us);
                if after <= scripted.within.as_micros() as u64 {
                    Judged::Pass(
                        Evidence::new(format!("re-issued {} ms after the break", after / 1000)).at_frame(r.seq),
                    )
                } else {
                    Judged::Violated(
                        Evidence::new(format!(
                            "re-issued {} ms after the break, later than {} ms",
                            after / 1000,
                            scripted.within.as_millis()
                        ))
                        .at_frame(r.seq),
                    )
                }
            }
            Some(Broken { reissue: None, t_us, .. }) => {
                // Say what the client did instead, when it tried to resume the stream.
                let resumed = ctx
                    .trace
                    .http_exchanges()
                    .find(|h| h.t_us >= *t_us && (h.method == "GET" || h.last_event_id.is_some()));
                let why = match resumed {
                    Some(h) => format!(
                        "no re-issue within {} ms; the client tried to resume instead ({}{}), which 2026-07-28 does not support",
                        scripted.within.as_millis(),
                        h.method,
                        h.last_event_id
                            .as_deref()
                            .map(|id| format!(" with Last-Event-ID {}", truncate(id, 40)))
                            .unwrap_or_default()
                    ),
                    None => format!("no re-issue within {} ms: the request was lost", scripted.within.as_millis()),
                };
                Judged::Violated(Evidence::new(why))
            }
        };
        out.expected(ctx, &format!("{name}.reissued"), g, judged);
    }
}

fn not_sent(scripted: &ScriptedRound, compiled: &crate::scenario::Compiled) -> Judged {
    let first = compiled.rounds.first().is_some_and(|r| r.name == scripted.name) && compiled.breaks.is_empty();
    if !compiled.breaks.is_empty() {
        return Judged::Skip(Evidence::new(
            "the mock never sent this round: no request was in flight (the client never made the call, or did not retry or re-issue the one before)",
        ));
    }
    Judged::Skip(Evidence::new(if first {
        "the mock never sent this round: the client never called the scenario's tool"
    } else {
        "the mock never sent this round: the client did not retry the one before"
    }))
}

/// The rules for a retry, judged only when there is one (without a retry they say
/// nothing; `<round>.retried` and `.not-answered` judge whether one should have come).
fn rules(out: &mut Emitter, ctx: &ScenarioCtx<'_>, scripted: &ScriptedRound, p: Option<&Played<'_>>) {
    let name = &scripted.name;
    let Some((p, r)) = p.and_then(|p| p.retry.map(|r| (p, r))) else { return };
    let new_id = match p.call {
        Some(call) if call.id == r.id => Judged::Violated(
            Evidence::new(format!("the retry reuses id {}", truncate(&r.id.to_string(), 40))).at_frame(r.seq),
        ),
        _ => Judged::Pass(
            Evidence::new(format!(
                "retried as id {} (the call was {})",
                truncate(&r.id.to_string(), 40),
                p.call.map_or("?".into(), |c| truncate(&c.id.to_string(), 40))
            ))
            .at_frame(r.seq),
        ),
    };
    out.graded(ctx, &format!("{name}.new-id"), Must, "mrtr/new-id", new_id);
    let state = {
        let sent = p.round.result.get("requestState");
        let echoed = r.params.as_ref().and_then(|q| q.get("requestState"));
        match (sent, echoed) {
            (Some(a), Some(b)) if a == b => {
                Judged::Pass(Evidence::new("the request state echoed exactly").at_frame(r.seq))
            }
            (None, None) => Judged::Pass(Evidence::new("no request state given, none sent back").at_frame(r.seq)),
            (Some(a), b) => Judged::Violated(
                Evidence::new("the retry does not echo the request state exactly")
                    .diff(truncate(&a.to_string(), 200), b.map_or("(absent)".into(), |b| truncate(&b.to_string(), 200)))
                    .at_frame(r.seq),
            ),
            (None, Some(b)) => Judged::Violated(
                Evidence::new(format!(
                    "no request state was given, yet the retry sends {}",
                    truncate(&b.to_string(), 80)
                ))
                .at_frame(r.seq),
            ),
        }
    };
    out.graded(ctx, &format!("{name}.request-state"), Must, "mrtr/retry-with-inputs", state);
    let inputs = {
        let asked: Vec<&String> = p
            .round
            .result
            .get("inputRequests")
            .and_then(Value::as_object)
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let given = input_responses(r);
        let missing: Vec<&&String> =
            asked.iter().filter(|k| !given.is_some_and(|g| g.contains_key(k.as_str()))).collect();
        if missing.is_empty() {
            Judged::Pass(Evidence::new(format!("all {} asks answered in the retry", asked.len())).at_frame(r.seq))
        } else {
            let keys: Vec<String> = missing.iter().map(|k| truncate(k, 40)).collect();
            Judged::Violated(Evidence::new(format!("retried without answering {}", keys.join(", "))).at_frame(r.seq))
        }
    };
    out.graded(ctx, &format!("{name}.retry-inputs"), Must, "mrtr/retry-with-inputs", inputs);
}

fn expectations(out: &mut Emitter, ctx: &ScenarioCtx<'_>, scripted: &ScriptedRound, p: Option<&Played<'_>>) {
    let name = &scripted.name;
    let compiled = ctx.compiled;
    let not_sent = || not_sent(scripted, compiled);
    if let Some(g) = &scripted.retry {
        let judged = match p {
            None => not_sent(),
            Some(p) => match p.retry {
                Some(r) if r.t_us.saturating_sub(p.round.t_us) <= scripted.within.as_micros() as u64 => Judged::Pass(
                    Evidence::new(format!("retried after {} ms", (r.t_us - p.round.t_us) / 1000)).at_frame(r.seq),
                ),
                Some(r) => Judged::Violated(
                    Evidence::new(format!(
                        "retried after {} ms, later than {} ms",
                        r.t_us.saturating_sub(p.round.t_us) / 1000,
                        scripted.within.as_millis()
                    ))
                    .at_frame(r.seq),
                ),
                None => Judged::Violated(
                    Evidence::new(format!("no retry within {} ms", scripted.within.as_millis())).at_frame(p.round.seq),
                ),
            },
        };
        out.expected(ctx, &format!("{name}.retried"), g, judged);
    }
    for input in &scripted.inputs {
        let response = p.and_then(|p| p.retry).and_then(|r| input_responses(r)?.get(&input.key).map(|v| (r, v)));
        if let Some(g) = &input.no_answer {
            let judged = match (p, response) {
                (None, _) => not_sent(),
                (Some(_), None) => Judged::Pass(Evidence::new("not answered")),
                (Some(_), Some((r, v))) => Judged::Violated(
                    Evidence::new(format!("the retry answers it: {}", truncate(&v.to_string(), 120))).at_frame(r.seq),
                ),
            };
            out.expected(ctx, &format!("{name}.{}.not-answered", input.key), g, judged);
        }
        if let Some(g) = &input.result {
            let judged = match (p, response) {
                (None, _) => not_sent(),
                (Some(_), None) => Judged::Violated(Evidence::new("no retry answered this ask")),
                (Some(_), Some((r, v))) => match result_matches(ctx, g, v) {
                    Ok(()) => Judged::Pass(
                        Evidence::new(format!("answered {}", truncate(&v.to_string(), 120))).at_frame(r.seq),
                    ),
                    Err(why) => Judged::Violated(
                        Evidence::new(why).diff(expected_text(g), truncate(&v.to_string(), 400)).at_frame(r.seq),
                    ),
                },
            };
            let dictated = ctx.path_for(&input.method, input.params.as_ref()).and_then(|p| ctx.dictates(&p));
            out.expected(ctx, &format!("{name}.{}.result", input.key), &g.grade, judged.unless(dictated));
        }
    }
}

#[cfg(test)]
mod tests {
    use backchannel_protocol::{Revision, Transport};
    use serde_json::{Value, json};

    use backchannel_mock::trace::EventKind;

    use super::super::tests::{Case, finding, outcome};
    use crate::check::Outcome;
    use crate::scenario::compiled::Knob;

    const ROUND: &str = "title: t\nrevisions: [2026-07-28]\ntransports: [stdio]\ntrigger: tool_call\nclient:\n  roots: [{uri: 'file:///w'}]\nsteps:\n  - input_required:\n      name: r\n      request_state: st\n      inputs:\n        - key: k\n          method: roots/list\n          expect:\n            result: {pointers: [{pointer: /roots/0/uri, equals: 'file:///w'}], spec: roots/file-uri}\n      expect:\n        retry: {spec: policy/mrtr-retry}\n";

    fn meta() -> Value {
        json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28",
               "io.modelcontextprotocol/clientCapabilities":{"roots":{}},
               "io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}})
    }

    fn call(id: &str, extra: Value) -> Value {
        let mut params = json!({"name":"backchannel_run_scenario","_meta":meta()});
        if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
            p.extend(e);
        }
        json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":params})
    }

    fn round(retry: Option<Value>) -> Vec<crate::check::Finding> {
        let mut c = Case::new(ROUND, Transport::Stdio, Revision::V2026_07_28)
            .c2s(json!({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{"_meta":meta()}}))
            .s2c(json!({"jsonrpc":"2.0","id":"d","result":{"supportedVersions":["2026-07-28"]}}), None)
            .c2s(call("c1", json!({})))
            .s2c(
                json!({"jsonrpc":"2.0","id":"c1","result":{"resultType":"input_required","requestState":"st",
                       "inputRequests":{"k":{"method":"roots/list"}}}}),
                Some("r"),
            );
        if let Some(r) = retry {
            c = c.c2s(r);
        }
        c.end().eval()
    }

    #[test]
    fn a_good_retry_passes_every_rule() {
        let f = round(Some(call(
            "c2",
            json!({"requestState":"st","inputResponses":{"k":{"roots":[{"uri":"file:///w"}]}}}),
        )));
        for check in [
            "session.modern",
            "mrtr.request-meta",
            "r.new-id",
            "r.request-state",
            "r.retry-inputs",
            "r.retried",
            "r.k.result",
        ] {
            assert_eq!(outcome(&f, check), Outcome::Pass, "{check}");
        }
    }

    #[test]
    fn each_retry_rule_can_fail() {
        let f = round(Some(call("c1", json!({"requestState":"st","inputResponses":{"k":{"roots":[]}}}))));
        assert_eq!(outcome(&f, "r.new-id"), Outcome::Violated);
        assert_eq!(outcome(&f, "r.k.result"), Outcome::Violated);
        let f = round(Some(call("c2", json!({"requestState":"sT","inputResponses":{"k":{"roots":[]}}}))));
        assert_eq!(outcome(&f, "r.request-state"), Outcome::Violated, "one byte differs");
        let f = round(Some(call("c2", json!({"requestState":"st"}))));
        assert_eq!(outcome(&f, "r.retry-inputs"), Outcome::Violated);
        let f = round(None);
        assert_eq!(outcome(&f, "r.retried"), Outcome::Violated);
    }

    #[test]
    fn a_client_that_never_asked_for_the_revision_is_not_applicable() {
        let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}});
        let f = Case::new(ROUND, Transport::Stdio, Revision::V2026_07_28).claims(&[]).c2s(init.clone()).end().eval();
        assert_eq!(outcome(&f, "session.modern"), Outcome::NotApplicable);
        assert_eq!(outcome(&f, "r.retried"), Outcome::NotApplicable);
        // Claiming the revision makes it a FAIL.
        let f =
            Case::new(ROUND, Transport::Stdio, Revision::V2026_07_28).claims(&[Knob::Modern]).c2s(init).end().eval();
        assert_eq!(outcome(&f, "session.modern"), Outcome::Violated);
        // Asking for it in initialize, and then not following it, is a FAIL whatever the claims.
        let asks = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2026-07-28"}});
        let f = Case::new(ROUND, Transport::Stdio, Revision::V2026_07_28).claims(&[]).c2s(asks).end().eval();
        assert_eq!(outcome(&f, "session.modern"), Outcome::Violated);
    }

    const BREAKS: &str = "title: t\nrevisions: [2026-07-28]\ntransports: [http]\ntrigger: tool_call\nclient:\n  roots: [{uri: 'file:///w'}]\nsteps:\n  - break_stream: {name: b, expect: {reissue: {spec: http/reissue-broken-stream}}}\n  - input_required: {name: r, request_state: st, inputs: [{key: k, method: roots/list}]}\n  - break_stream: {name: b2, expect: {within_ms: 100, reissue: {spec: http/reissue-broken-stream}}}\n";

    fn broken(id: &str) -> EventKind {
        EventKind::StreamBroken { step: if id == "c1" { "b" } else { "b2" }.into(), id: json!(id) }
    }

    /// The call (lost to break `b`), its re-issue `reissue`, a round on it, the retry
    /// `c3` (lost to break `b2`) and its re-issue `last` after `late_ms`.
    fn breaks(reissue: Option<Value>, last: Option<Value>, late_ms: u64) -> Vec<crate::check::Finding> {
        let retry = json!({"requestState":"st","inputResponses":{"k":{"roots":[{"uri":"file:///w"}]}}});
        let mut c = Case::new(BREAKS, Transport::Http, Revision::V2026_07_28)
            .c2s(json!({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{"_meta":meta()}}))
            .s2c(json!({"jsonrpc":"2.0","id":"d","result":{"supportedVersions":["2026-07-28"]}}), None)
            .c2s(call("c1", json!({})))
            .event(broken("c1"));
        let Some(reissue) = reissue else { return c.end().eval() };
        let answered = reissue["id"].clone();
        c = c.c2s(reissue).s2c(
            json!({"jsonrpc":"2.0","id":answered,"result":{"resultType":"input_required","requestState":"st",
                   "inputRequests":{"k":{"method":"roots/list"}}}}),
            Some("r"),
        );
        c = c.c2s(call("c3", retry)).event(broken("c3")).wait_ms(late_ms);
        if let Some(l) = last {
            c = c.c2s(l);
        }
        c.end().eval()
    }

    #[test]
    fn a_broken_stream_is_reissued_with_a_new_id_and_the_same_params() {
        let again = json!({"requestState":"st","inputResponses":{"k":{"roots":[{"uri":"file:///w"}]}}});
        let f = breaks(Some(call("c2", json!({}))), Some(call("c4", again)), 0);
        for check in
            ["b.new-id", "b.same-request", "b.reissued", "b2.new-id", "b2.same-request", "b2.reissued", "r.new-id"]
        {
            assert_eq!(outcome(&f, check), Outcome::Pass, "{check}");
        }
    }

    #[test]
    fn each_reissue_rule_can_fail() {
        let again = || json!({"requestState":"st","inputResponses":{"k":{"roots":[{"uri":"file:///w"}]}}});
        // The lost request's id again.
        let f = breaks(Some(call("c1", json!({}))), Some(call("c3", again())), 0);
        assert_eq!(outcome(&f, "b.new-id"), Outcome::Violated);
        assert_eq!(outcome(&f, "b2.new-id"), Outcome::Violated);
        // The original call instead of the lost retry: the round's inputs and state are gone.
        let f = breaks(Some(call("c2", json!({}))), Some(call("c4", json!({}))), 0);
        assert_eq!(outcome(&f, "b.same-request"), Outcome::Pass);
        assert_eq!(outcome(&f, "b2.same-request"), Outcome::Violated);
        // Too late for the scenario's window (the rules still pass).
        let f = breaks(Some(call("c2", json!({}))), Some(call("c4", again())), 200);
        assert_eq!(outcome(&f, "b2.reissued"), Outcome::Violated);
        assert_eq!(outcome(&f, "b2.new-id"), Outcome::Pass);
        // Never re-issued: the next break never happens, and no rule is judged.
        let f = breaks(None, None, 0);
        assert_eq!(outcome(&f, "b.reissued"), Outcome::Violated);
        assert_eq!(outcome(&f, "b2.reissued"), Outcome::Skipped);
        assert!(f.iter().all(|x| x.check != "b.new-id" && x.check != "b.same-request"));
    }

    #[test]
    fn a_resumption_attempt_is_named_in_the_evidence() {
        let f = Case::new(BREAKS, Transport::Http, Revision::V2026_07_28)
            .c2s(call("c1", json!({})))
            .event(broken("c1"))
            .modern_http("GET", Value::Null, &[], None)
            .end()
            .eval();
        assert_eq!(outcome(&f, "b.reissued"), Outcome::Violated);
        assert!(finding(&f, "b.reissued").evidence.summary.contains("resume"), "{:?}", finding(&f, "b.reissued"));
    }

    #[test]
    fn requests_without_meta_fail_request_meta() {
        let f = Case::new(ROUND, Transport::Stdio, Revision::V2026_07_28)
            .c2s(json!({"jsonrpc":"2.0","id":"d","method":"server/discover","params":{}}))
            .end()
            .eval();
        assert_eq!(outcome(&f, "mrtr.request-meta"), Outcome::Violated);
    }
}
