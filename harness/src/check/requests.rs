//! Per-request checks: was it answered, in time, and with what the scenario expects.

use backchannel_mock::trace::{Direction, EventKind};
use backchannel_mock::wire::{ErrorCode, render_id};
use serde_json::Value;

use super::session::{Answer, AnswerKind};
use super::{Emitter, Evidence, Judged, ScenarioCtx, json_subset, truncate};
use crate::scenario::ScriptedRequest;
use crate::scenario::compiled::{Pointer, ResultRule, ScriptedRaw};
use crate::scenario::model::Severity;

pub(crate) fn per_request(out: &mut Emitter<'_>, ctx: &ScenarioCtx<'_>) {
    let compiled = out.input().compiled;
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

fn one(out: &mut Emitter<'_>, ctx: &ScenarioCtx<'_>, req: &ScriptedRequest) {
    let name = &req.name;
    let within_ms = req.within.as_millis();
    let sent = ctx.session.sent_by_step(name);
    let answer = sent.and_then(|i| ctx.session.answer_to(i));
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
        out.expected(ctx, &format!("{name}.not-answered"), g, judged);
        return;
    }

    let (answered, usable) = match (sent, answer) {
        (None, _) => {
            let undelivered = ctx.trace.events().any(|e| {
                matches!(&e.kind, EventKind::Undelivered { steps, .. } if steps.iter().any(|s| s.as_deref() == Some(name.as_str())))
            });
            let why = if undelivered {
                "it waited for a GET stream the client never opened".to_owned()
            } else {
                ctx.trace.end().map_or("the session was cut short".to_owned(), |e| {
                    format!("the session ended first: {}", e.reason)
                })
            };
            (Judged::Violated(Evidence::new(format!("the mock never sent this request: {why}"))), None)
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
        out.expected(ctx, &format!("{name}.error"), g, judged);
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
        out.expected(ctx, &format!("{name}.error-code"), &g.grade, judged);
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
        out.expected(ctx, &format!("{name}.error-message"), &g.grade, judged);
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
        out.expected(ctx, &format!("{name}.result"), &g.grade, judged);
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
pub(crate) fn per_raw(out: &mut Emitter<'_>, ctx: &ScenarioCtx<'_>) {
    let compiled = out.input().compiled;
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
pub(crate) fn notifications(out: &mut Emitter<'_>, ctx: &ScenarioCtx<'_>) {
    let compiled = out.input().compiled;
    for (method, g) in &compiled.expect.notifications {
        let judged = match ctx.session.notifications.iter().find(|(_, m)| m == method) {
            Some((seq, _)) => Judged::Pass(Evidence::new(format!("sent {method}")).at_frame(*seq)),
            None => Judged::Violated(Evidence::new(format!("the client never sent {method}"))),
        };
        out.expected(ctx, &format!("notifications.{method}"), g, judged);
    }
}
