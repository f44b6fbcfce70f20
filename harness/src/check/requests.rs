//! Per-request checks: was it answered, in time, and with what the scenario expects.

use backchannel_mock::trace::{Direction, EndReason, EventKind};
use backchannel_mock::transport::http::HELD_NEVER_RESUMED;
use backchannel_mock::wire::{ErrorCode, render_id};
use serde_json::Value;

use super::session::{Answer, AnswerKind};
use super::{Emitter, Evidence, Judged, ScenarioCtx, json_subset, truncate};
use crate::scenario::ScriptedRequest;
use crate::scenario::compiled::{Pointer, ResultRule, ScriptedRaw};
use crate::scenario::model::Severity;

pub(crate) fn per_request(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    let compiled = ctx.compiled;
    for req in &compiled.requests {
        one(out, ctx, req);
    }
}

/// " (sent on the GET SSE stream)" over HTTP, "" otherwise.
fn via(s: &super::session::Sent) -> String {
    s.stream.map(|st| format!(" (sent on the {st})")).unwrap_or_default()
}

fn describe(a: &Answer) -> String {
    match &a.kind {
        AnswerKind::Result(v) => format!("result {}", truncate(&v.to_string(), 80)),
        AnswerKind::Error { code: Some(c), message } => {
            format!("error {} \"{}\"", ErrorCode(*c), truncate(message.as_deref().unwrap_or(""), 80))
        }
        AnswerKind::Error { code: None, .. } => "error without an integer code".to_owned(),
    }
}

/// The method of the first request the client sent that the server never answered.
fn abandoned<'a>(ctx: &'a ScenarioCtx<'_>) -> Option<&'a str> {
    let answered: std::collections::HashSet<String> = ctx
        .trace
        .frames()
        .filter(|f| f.dir == Direction::ServerToClient)
        .filter_map(|f| f.json.as_ref())
        .filter(|j| j.get("method").is_none())
        .filter_map(|j| j.get("id").map(Value::to_string))
        .collect();
    ctx.session.requests.iter().find(|r| !answered.contains(&r.id.to_string())).map(|r| r.method.as_str())
}

fn one(out: &mut Emitter, ctx: &ScenarioCtx<'_>, req: &ScriptedRequest) {
    let name = &req.name;
    let within_ms = req.within.as_millis();
    let sent = ctx.session.sent_by_step(name);
    let answer = sent.and_then(|i| ctx.session.answer_to(i));
    // What the answer must be depends on the capability the scenario configured: a
    // client that does not take it up is not judged on it (N/A), and one that does
    // not claim the knob is not judged on the values the knob dictates.
    let path = ctx.path_for(&req.method, req.params.as_ref());
    let needs = path.as_deref().and_then(|p| ctx.needs(p));
    let dictated = path.as_deref().and_then(|p| ctx.dictates(p));
    if let Some(g) = &req.expect.no_answer {
        let judged = match (sent, answer) {
            (None, _) => Judged::Skip(Evidence::new("the mock never sent this request")),
            (Some(_), Some(a)) => {
                Judged::Violated(Evidence::new(format!("answered it anyway: {}", describe(a))).at_frame(a.seq))
            }
            (Some(i), None) => Judged::Pass(
                Evidence::new(format!("no answer (waited {within_ms} ms)")).at_frame(ctx.session.sent[i].seq),
            ),
        };
        out.expected(ctx, &format!("{name}.not-answered"), g, judged.unless(dictated));
        return;
    }

    let (answered, usable) = match (sent, answer) {
        (None, _) => {
            let undelivered = ctx.trace.events().find_map(|e| match &e.kind {
                EventKind::Undelivered { steps, why } if steps.iter().any(|s| s.as_deref() == Some(name.as_str())) => {
                    Some(why.as_str())
                }
                _ => None,
            });
            let end = ctx.trace.end().map(|e| e.reason);
            let judged = if let Some(why) = undelivered.filter(|w| *w == HELD_NEVER_RESUMED) {
                Judged::Violated(Evidence::new(format!("the mock never sent this request: {why}")))
            } else if undelivered.is_some() {
                Judged::Violated(Evidence::new(
                    "the mock never sent this request: it waited for a GET stream the client never opened",
                ))
            } else if end == Some(EndReason::ClientClosed)
                && ctx.session.initialized.is_some()
                && ctx.session.rejected.is_empty()
            {
                // A client may end its session once it has what it came for (a one-shot
                // CLI leaves once its call returns): a request it was never sent is one it
                // took no part in. One that leaves with its own request unanswered (a
                // crash, a gateway falling over mid-call) abandoned the session; one whose
                // session never worked (no `initialized`, requests the server refused)
                // had none to leave.
                match abandoned(ctx) {
                    Some(method) => Judged::Violated(Evidence::new(format!(
                        "the mock never sent this request: the client closed its side with its own {method} unanswered"
                    ))),
                    None => Judged::NotApplicable(Evidence::new(
                        "the client ended the session, its own requests answered, before the mock sent this request (it left; it was never asked)",
                    )),
                }
            } else {
                let why =
                    end.map_or("the session was cut short".to_owned(), |r| format!("the session ended first: {r}"));
                Judged::Violated(Evidence::new(format!("the mock never sent this request: {why}")))
            };
            (judged, None)
        }
        (Some(i), None) => {
            let s = &ctx.session.sent[i];
            let mut why =
                format!("no answer to {} (id {}) within {within_ms} ms{}", s.method, render_id(&s.id), via(s));
            if let Some((_, status)) = ctx.session.rejected.first() {
                why.push_str(&format!(
                    " (the server refused {} of the client's POSTs, e.g. with {status})",
                    ctx.session.rejected.len()
                ));
            }
            (Judged::Violated(Evidence::new(why).at_frame(s.seq)), None)
        }
        (Some(i), Some(a)) => {
            let s = &ctx.session.sent[i];
            let ms = a.t_us.saturating_sub(s.t_us) / 1000;
            if u128::from(ms) > within_ms {
                (
                    Judged::Violated(
                        Evidence::new(format!("answered after {ms} ms, limit {within_ms} ms{}", via(s)))
                            .at_frame(a.seq),
                    ),
                    Some(a),
                )
            } else {
                (
                    Judged::Pass(Evidence::new(format!("{} after {ms} ms{}", describe(a), via(s))).at_frame(a.seq)),
                    Some(a),
                )
            }
        }
    };
    out.graded(ctx, &format!("{name}.answered"), Severity::Must, "jsonrpc/response-required", answered);

    let e = &req.expect;
    let no_answer = || Judged::Skip(Evidence::new("no answer to judge"));
    if let Some(g) = &e.error {
        let judged = match usable {
            None => no_answer(),
            Some(a @ Answer { kind: AnswerKind::Error { .. }, .. }) => {
                Judged::Pass(Evidence::new(describe(a)).at_frame(a.seq))
            }
            Some(a) => {
                Judged::Violated(Evidence::new(format!("expected an error, got {}", describe(a))).at_frame(a.seq))
            }
        };
        out.expected(ctx, &format!("{name}.error"), g, judged.unless(dictated.clone()));
    }
    if let Some(g) = &e.error_code {
        let wanted = g.one_of.iter().map(|c| ErrorCode(*c).to_string()).collect::<Vec<_>>().join(" or ");
        let judged = match usable {
            None => no_answer(),
            Some(a) => match &a.kind {
                AnswerKind::Error { code: Some(c), .. } if g.one_of.contains(c) => {
                    Judged::Pass(Evidence::new(format!("code {}", ErrorCode(*c))).at_frame(a.seq))
                }
                AnswerKind::Error { code: Some(c), .. } => Judged::Violated(
                    Evidence::new(format!("code {}, expected {wanted}", ErrorCode(*c)))
                        .diff(wanted.clone(), c.to_string())
                        .at_frame(a.seq),
                ),
                AnswerKind::Error { code: None, .. } => {
                    Judged::Violated(Evidence::new("the error has no integer code").at_frame(a.seq))
                }
                AnswerKind::Result(_) => Judged::Skip(Evidence::new("not an error answer")),
            },
        };
        out.expected(ctx, &format!("{name}.error-code"), &g.grade, judged.unless(dictated.clone()));
    }
    if let Some(g) = &e.error_message {
        let judged = match usable {
            None => no_answer(),
            Some(a) => match &a.kind {
                AnswerKind::Error { message: Some(m), .. } => {
                    let missing: Vec<String> =
                        g.contains.iter().map(|s| ctx.expand(s)).filter(|s| !m.contains(s.as_str())).collect();
                    let present: Vec<String> =
                        g.not_contains.iter().map(|s| ctx.expand(s)).filter(|s| m.contains(s.as_str())).collect();
                    if missing.is_empty() && present.is_empty() {
                        Judged::Pass(Evidence::new(format!("\"{}\"", truncate(m, 100))).at_frame(a.seq))
                    } else {
                        let mut why = Vec::new();
                        if !missing.is_empty() {
                            why.push(format!(
                                "lacks {}",
                                missing
                                    .iter()
                                    .map(|s| format!("\"{}\"", truncate(s, 40)))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                        if !present.is_empty() {
                            why.push(format!(
                                "contains {}",
                                present
                                    .iter()
                                    .map(|s| format!("\"{}\"", truncate(s, 40)))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                        Judged::Violated(
                            Evidence::new(format!("the message {}", why.join(" and ")))
                                .diff(format!("contains {:?}", g.contains), m.clone())
                                .at_frame(a.seq),
                        )
                    }
                }
                AnswerKind::Error { message: None, .. } => {
                    Judged::Violated(Evidence::new("the error has no string message").at_frame(a.seq))
                }
                AnswerKind::Result(_) => Judged::Skip(Evidence::new("not an error answer")),
            },
        };
        out.expected(ctx, &format!("{name}.error-message"), &g.grade, judged.unless(dictated.clone()));
    }
    if let Some(g) = &e.result {
        let judged = match usable {
            None => no_answer(),
            Some(a) => match &a.kind {
                AnswerKind::Result(v) => match result_matches(ctx, g, v) {
                    Ok(()) => Judged::Pass(Evidence::new(describe(a)).at_frame(a.seq)),
                    Err(why) => Judged::Violated(
                        Evidence::new(why).diff(expected_text(g), truncate(&v.to_string(), 400)).at_frame(a.seq),
                    ),
                },
                AnswerKind::Error { .. } => {
                    Judged::Violated(Evidence::new(format!("expected a result, got {}", describe(a))).at_frame(a.seq))
                }
            },
        };
        out.expected(ctx, &format!("{name}.result"), &g.grade, judged.unless(dictated.clone()));
    }
    if let Some(g) = &e.alike {
        let other = ctx.session.sent_by_step(&g.step).and_then(|i| ctx.session.answer_to(i));
        let judged = match (usable, other) {
            (Some(a), Some(b)) => {
                let (this, that) = (alike(a), alike(b));
                if this == that {
                    Judged::Pass(Evidence::new(format!("{this}, as `{}`", g.step)).at_frame(a.seq))
                } else {
                    Judged::Violated(
                        Evidence::new(format!("answered with {this} where `{}` got {that}", g.step))
                            .diff(that, this)
                            .at_frame(a.seq),
                    )
                }
            }
            (None, _) => no_answer(),
            (Some(_), None) => Judged::Skip(Evidence::new(format!("`{}` has no answer to compare with", g.step))),
        };
        out.expected(ctx, &format!("{name}.alike"), &g.grade, judged.unless(needs));
    }
}

/// What `.alike` compares: an error's code, or a result's members.
fn alike(a: &Answer) -> String {
    match &a.kind {
        AnswerKind::Error { code: Some(c), .. } => format!("error {}", ErrorCode(*c)),
        AnswerKind::Error { code: None, .. } => "an error without an integer code".to_owned(),
        AnswerKind::Result(Value::Object(o)) => {
            let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
            keys.sort_unstable();
            format!("a result with members [{}]", keys.join(", "))
        }
        AnswerKind::Result(v) => format!("a result that is not an object ({v})"),
    }
}

pub(crate) fn expected_text(g: &ResultRule) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &g.equals {
        parts.push(format!("equals {e}"));
    }
    if let Some(s) = &g.subset {
        parts.push(format!("contains {s}"));
    }
    for p in &g.pointers {
        parts.push(format!("{} {}", p.pointer, pointer_text(p)));
    }
    parts.join("; ")
}

fn pointer_text(p: &Pointer) -> String {
    let mut t = Vec::new();
    if let Some(e) = &p.equals {
        t.push(format!("= {e}"));
    }
    if let Some(m) = &p.matches {
        t.push(format!("=~ /{m}/"));
    }
    if let Some(x) = p.exists {
        t.push(if x { "exists".into() } else { "absent".into() });
    }
    t.join(", ")
}

pub(crate) fn result_matches(ctx: &ScenarioCtx<'_>, g: &ResultRule, v: &Value) -> Result<(), String> {
    if let Some(e) = &g.equals {
        let e = ctx.expand_value(e);
        if &e != v {
            return Err(format!("the result is not exactly {}", truncate(&e.to_string(), 120)));
        }
    }
    if let Some(s) = &g.subset {
        json_subset(&ctx.expand_value(s), v)?;
    }
    for p in &g.pointers {
        let found = v.pointer(&p.pointer);
        if let Some(exists) = p.exists
            && found.is_some() != exists
        {
            return Err(format!("{}: {}", p.pointer, if exists { "missing" } else { "present, expected absent" }));
        }
        if let Some(e) = &p.equals {
            let e = ctx.expand_value(e);
            if found != Some(&e) {
                return Err(format!(
                    "{}: {} is not {}",
                    p.pointer,
                    found.map_or("missing".into(), |f| truncate(&f.to_string(), 80)),
                    e
                ));
            }
        }
        if let Some(re) = &p.matches {
            match found {
                Some(Value::String(s)) if re.is_match(s) => {}
                Some(other) => {
                    return Err(format!("{}: {} does not match /{}/", p.pointer, truncate(&other.to_string(), 80), re));
                }
                None => return Err(format!("{}: missing", p.pointer)),
            }
        }
    }
    Ok(())
}

/// `<raw>.error-code-if-answered`: an id-less error the client sent after a raw line
/// must carry one of the expected codes; no answer at all passes.
pub(crate) fn per_raw(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    let compiled = ctx.compiled;
    for ScriptedRaw { name, error_code_if_answered, .. } in &compiled.raws {
        let Some(g) = error_code_if_answered else { continue };
        let sent =
            ctx.trace.frames().find(|f| f.dir == Direction::ServerToClient && f.step.as_deref() == Some(name.as_str()));
        let judged = match sent {
            None => Judged::Skip(Evidence::new("the mock never sent this line")),
            Some(raw) => match ctx.session.answers.iter().find(|a| a.id.is_none() && a.seq > raw.seq) {
                None => Judged::Pass(Evidence::new("not answered (answering is optional)")),
                Some(a) => match &a.kind {
                    AnswerKind::Error { code: Some(c), .. } if g.one_of.contains(c) => {
                        Judged::Pass(Evidence::new(format!("answered with {}", ErrorCode(*c))).at_frame(a.seq))
                    }
                    other => Judged::Violated(
                        Evidence::new(format!(
                            "answered with {}",
                            match other {
                                AnswerKind::Error { code: Some(c), .. } => ErrorCode(*c).to_string(),
                                AnswerKind::Error { code: None, .. } => "an error without a code".to_owned(),
                                AnswerKind::Result(_) => "a result".to_owned(),
                            }
                        ))
                        .diff(format!("one of {:?}", g.one_of), "")
                        .at_frame(a.seq),
                    ),
                },
            },
        };
        out.expected(ctx, &format!("{name}.error-code-if-answered"), &g.grade, judged);
    }
}

/// `notifications.<method>`: the client sent each notification the scenario expects.
pub(crate) fn notifications(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    let compiled = ctx.compiled;
    for (method, g) in &compiled.expect.notifications {
        let judged = match ctx.session.notifications.iter().find(|(_, m)| m == method) {
            Some((seq, _)) => Judged::Pass(Evidence::new(format!("sent {method}")).at_frame(*seq)),
            None => Judged::Violated(Evidence::new(format!("the client never sent {method}"))),
        };
        // A roots change is announced by a client that declared `roots.listChanged`
        // and changes its roots when the scenario's knob says.
        let needs = (method == "notifications/roots/list_changed").then(|| ctx.dictates("roots.listChanged")).flatten();
        out.expected(ctx, &format!("notifications.{method}"), g, judged.unless(needs));
    }
}

#[cfg(test)]
mod tests {
    use backchannel_mock::trace::{EndReason, EventKind};
    use backchannel_protocol::{Revision, Transport};
    use serde_json::json;

    use super::super::tests::{Case, finding, outcome};
    use crate::check::Outcome;
    use crate::scenario::compiled::Knob;

    const REFUSED: &str = "title: t\nsteps:\n  - request:\n      method: sampling/createMessage\n      expect:\n        within_ms: 100\n        error: {spec: jsonrpc/response-required}\n        error_code: {one_of: [-32601], severity: should, spec: jsonrpc/method-not-found}\n        error_message: {contains: ['{{client_name}}', sampling/createMessage], severity: should, spec: policy/refusal-names-peer-and-method}\n";

    fn refused(answer: Option<serde_json::Value>, after_ms: u64) -> Vec<crate::check::Finding> {
        let mut c = Case::new(REFUSED, Transport::Stdio, Revision::V2025_11_25)
            .handshake(json!({}))
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}), Some("sampling/createMessage"))
            .wait_ms(after_ms);
        if let Some(a) = answer {
            c = c.c2s(a);
        }
        c.end().eval()
    }

    #[test]
    fn an_answer_is_judged_on_time_code_and_message() {
        let good = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"c does not support sampling/createMessage"}});
        let f = refused(Some(good.clone()), 0);
        for check in ["answered", "error", "error-code", "error-message"] {
            let check = format!("sampling/createMessage.{check}");
            assert_eq!(outcome(&f, &check), Outcome::Pass, "{check}: {:?}", finding(&f, &check).evidence);
        }
        assert_eq!(outcome(&refused(Some(good), 500), "sampling/createMessage.answered"), Outcome::Violated);
        assert_eq!(outcome(&refused(None, 0), "sampling/createMessage.answered"), Outcome::Violated);
        let wrong = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Invalid Request"}});
        let f = refused(Some(wrong), 0);
        assert_eq!(outcome(&f, "sampling/createMessage.error-code"), Outcome::Violated);
        assert_eq!(outcome(&f, "sampling/createMessage.error-message"), Outcome::Violated);
        let result = json!({"jsonrpc":"2.0","id":1,"result":{}});
        assert_eq!(outcome(&refused(Some(result), 0), "sampling/createMessage.error"), Outcome::Violated);
    }

    const ALIKE: &str = "title: t\nrevisions: [2025-11-25]\nsteps:\n  - request: {name: plain, method: sampling/createMessage}\n  - request:\n      name: augmented\n      method: sampling/createMessage\n      params: {task: {ttl: 1}}\n      expect:\n        alike: {step: plain, spec: tasks/undeclared-processed-normally}\n";

    #[test]
    fn alike_compares_the_error_code_or_the_result_members_with_the_named_step() {
        let case = |plain: serde_json::Value, augmented: Option<serde_json::Value>| {
            let answer = |id: i64, body: serde_json::Value| {
                let mut m = json!({"jsonrpc": "2.0", "id": id});
                let key = if body.get("code").is_some() { "error" } else { "result" };
                m[key] = body;
                m
            };
            let mut c = Case::new(ALIKE, Transport::Stdio, Revision::V2025_11_25)
                .handshake(json!({}))
                .s2c(json!({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}), Some("plain"))
                .c2s(answer(1, plain))
                .s2c(
                    json!({"jsonrpc":"2.0","id":2,"method":"sampling/createMessage","params":{"task":{"ttl":1}}}),
                    Some("augmented"),
                );
            if let Some(a) = augmented {
                c = c.c2s(answer(2, a));
            }
            outcome(&c.end().eval(), "augmented.alike")
        };
        let refusal = json!({"code": -32601, "message": "no"});
        let message = json!({"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m"});
        let task = json!({"task": {"taskId": "t", "status": "working"}});
        assert_eq!(case(refusal.clone(), Some(refusal.clone())), Outcome::Pass);
        assert_eq!(case(message.clone(), Some(message.clone())), Outcome::Pass);
        // An error because of `task`, a task for a plain answer, a result for a refusal.
        assert_eq!(case(refusal.clone(), Some(json!({"code": -32602, "message": "no tasks"}))), Outcome::Violated);
        assert_eq!(case(message.clone(), Some(task)), Outcome::Violated);
        assert_eq!(case(refusal, Some(message.clone())), Outcome::Violated);
        assert_eq!(case(message, None), Outcome::Skipped, "no answer: `.answered` fails, nothing to compare");
    }

    #[test]
    fn a_request_that_never_reached_the_client_says_why() {
        let f = Case::new(REFUSED, Transport::Http, Revision::V2025_11_25)
            .handshake(json!({}))
            .event(EventKind::Undelivered { steps: vec![Some("sampling/createMessage".into())], why: "x".into() })
            .end()
            .eval();
        let e = &finding(&f, "sampling/createMessage.answered").evidence.summary;
        assert!(e.contains("GET stream"), "{e}");
    }

    #[test]
    fn a_request_never_sent_because_the_client_left_is_not_applicable_and_one_it_left_unanswered_fails() {
        // The client closed its side before the mock's request: it was never asked.
        let left = Case::new(REFUSED, Transport::Stdio, Revision::V2025_11_25)
            .handshake(json!({}))
            .end_by(EndReason::ClientClosed)
            .eval();
        assert_eq!(outcome(&left, "sampling/createMessage.answered"), Outcome::NotApplicable);
        // Asked, then left without an answer: that is a request it did not answer.
        let fled = Case::new(REFUSED, Transport::Stdio, Revision::V2025_11_25)
            .handshake(json!({}))
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}), Some("sampling/createMessage"))
            .end_by(EndReason::ClientClosed)
            .eval();
        assert_eq!(outcome(&fled, "sampling/createMessage.answered"), Outcome::Violated);
        // Left with its own request unanswered (a crash mid-call): it abandoned the session.
        let crashed = Case::new(REFUSED, Transport::Stdio, Revision::V2025_11_25)
            .handshake(json!({}))
            .c2s(json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t"}}))
            .end_by(EndReason::ClientClosed)
            .eval();
        let f = finding(&crashed, "sampling/createMessage.answered");
        assert_eq!(f.outcome, Outcome::Violated, "{:?}", f.evidence);
        assert!(f.evidence.summary.contains("tools/call unanswered"), "{:?}", f.evidence);
        // A session that never worked (the server refused the client's requests) is
        // not one the client left with its business done.
        let refused = Case::new(REFUSED, Transport::Http, Revision::V2025_11_25)
            .handshake(json!({}))
            .post(json!({"jsonrpc":"2.0","id":7,"method":"tools/list"}), None, Some("2025-11-25"), 400, None)
            .end_by(EndReason::ClientClosed)
            .eval();
        assert_eq!(outcome(&refused, "sampling/createMessage.answered"), Outcome::Violated);
        // The server ending the session first is the mock's cut, not the client's leave.
        let cut = Case::new(REFUSED, Transport::Stdio, Revision::V2025_11_25)
            .handshake(json!({}))
            .end_by(EndReason::Timeout)
            .eval();
        assert_eq!(outcome(&cut, "sampling/createMessage.answered"), Outcome::Violated);
    }

    const ROOTS: &str = "title: t\nclient:\n  roots: [{uri: 'file:///w'}]\nsteps:\n  - request:\n      method: roots/list\n      expect:\n        result:\n          pointers: [{pointer: /roots/0/uri, equals: 'file:///w'}]\n          spec: roots/file-uri\n";

    #[test]
    fn a_result_for_a_capability_the_client_does_not_take_is_not_applicable() {
        let case = |claims: &[Knob], caps, answer| {
            Case::new(ROOTS, Transport::Stdio, Revision::V2025_11_25)
                .claims(claims)
                .handshake(caps)
                .s2c(json!({"jsonrpc":"2.0","id":1,"method":"roots/list"}), Some("roots/list"))
                .c2s(answer)
                .end()
                .eval()
        };
        let refusal = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no roots"}});
        let f = case(&[], json!({}), refusal.clone());
        assert_eq!(outcome(&f, "roots/list.result"), Outcome::NotApplicable);
        assert_eq!(outcome(&f, "roots/list.answered"), Outcome::Pass, "answering stays a MUST");
        assert_eq!(outcome(&case(&[Knob::Roots], json!({}), refusal), "roots/list.result"), Outcome::Violated);
        // Roots of its own, declared, the knob not claimed: its values are not the
        // scenario's to dictate — validity is judged (answers.roots-file-uri).
        let own = json!({"jsonrpc":"2.0","id":1,"result":{"roots":[{"uri":"file:///home/me/project"}]}});
        let f = case(&[], json!({"roots":{}}), own.clone());
        assert_eq!(outcome(&f, "roots/list.result"), Outcome::NotApplicable);
        assert!(finding(&f, "roots/list.result").evidence.summary.contains("of its own"), "{f:?}");
        assert_eq!(outcome(&f, "answers.roots-file-uri"), Outcome::Pass);
        assert_eq!(outcome(&case(&[Knob::Roots], json!({"roots":{}}), own), "roots/list.result"), Outcome::Violated);
        let bad = json!({"jsonrpc":"2.0","id":1,"result":{"roots":[{"uri":"/w"}]}});
        let f = case(&[], json!({"roots":{}}), bad);
        assert_eq!(outcome(&f, "roots/list.result"), Outcome::NotApplicable);
        assert_eq!(outcome(&f, "answers.roots-file-uri"), Outcome::Violated);
    }

    /// The roots a roots/list lists after the scenario's change are the change's: a
    /// client that serves the roots it was given but does not claim the change knob is
    /// N/A on them (it still must answer, with valid roots).
    #[test]
    fn roots_after_a_change_are_judged_only_on_a_client_that_claims_the_change() {
        let yaml = "title: t\nclient:\n  roots: [{uri: 'file:///a'}]\n  roots_change: {after_ms: 1, roots: [{uri: 'file:///b'}]}\nsteps:\n  - request:\n      method: roots/list\n      expect:\n        result:\n          pointers: [{pointer: /roots/0/uri, equals: 'file:///b'}]\n          spec: policy/roots-current\n";
        let case = |claims: &[Knob]| {
            Case::new(yaml, Transport::Stdio, Revision::V2025_11_25)
                .claims(claims)
                .handshake(json!({"roots":{"listChanged":true}}))
                .s2c(json!({"jsonrpc":"2.0","id":1,"method":"roots/list"}), Some("roots/list"))
                .c2s(json!({"jsonrpc":"2.0","id":1,"result":{"roots":[{"uri":"file:///a"}]}}))
                .end()
                .eval()
        };
        let f = case(&[Knob::Roots]);
        let r = finding(&f, "roots/list.result");
        assert_eq!(r.outcome, Outcome::NotApplicable, "{r:?}");
        assert!(r.evidence.summary.contains("ROOTS_CHANGE"), "{r:?}");
        assert_eq!(outcome(&f, "roots/list.answered"), Outcome::Pass);
        assert_eq!(outcome(&case(&[Knob::Roots, Knob::RootsChange]), "roots/list.result"), Outcome::Violated);
    }

    #[test]
    fn raw_lines_and_notifications() {
        let yaml = "title: t\nexpect:\n  notifications: [{method: notifications/roots/list_changed, spec: roots/list-changed}]\nclient:\n  roots: [{uri: 'file:///a'}]\n  roots_change: {after_ms: 1, roots: [{uri: 'file:///b'}]}\nsteps:\n  - raw:\n      line: 'nope {'\n      expect:\n        error_code_if_answered: {one_of: [-32700], severity: should, spec: jsonrpc/parse-error}\n";
        let base = || {
            Case::new(yaml, Transport::Stdio, Revision::V2025_11_25)
                .handshake(json!({"roots":{"listChanged":true}}))
                .s2c(json!("nope {"), Some("raw"))
        };
        let f = base().c2s(json!({"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"?"}})).end().eval();
        assert_eq!(outcome(&f, "raw.error-code-if-answered"), Outcome::Violated);
        assert_eq!(outcome(&f, "notifications.notifications/roots/list_changed"), Outcome::Violated);
        let f = base().c2s(json!({"jsonrpc":"2.0","method":"notifications/roots/list_changed"})).end().eval();
        assert_eq!(outcome(&f, "raw.error-code-if-answered"), Outcome::Pass, "answering is optional");
        assert_eq!(outcome(&f, "notifications.notifications/roots/list_changed"), Outcome::Pass);
    }
}
