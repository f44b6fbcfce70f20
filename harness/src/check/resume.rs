//! Streams that close and come back (Streamable HTTP, 2025-03-26 … 2025-11-25,
//! `basic/transports.mdx` Resumability and Redelivery; at 2025-11-25 the polling of
//! :105-117): per `close_stream` step, from the mock's record of the close
//! (`stream_closed`), of what it held and replayed (`held`, `resumed`) and of the
//! client's HTTP exchanges and frames after it, whether the client came back for
//! the stream, when, from where, and without treating the close as a cancellation
//! or as the end of the session. What reached it after the reconnect is judged by
//! the requests' own `.answered`.

use backchannel_mock::trace::{Direction, EventKind, HttpExchange};
use serde_json::Value;

use super::{Emitter, Evidence, Judged, ScenarioCtx};
use crate::scenario::compiled::ScriptedClose;
use crate::scenario::model::Severity::{Must, Should};
use crate::scenario::model::{DeliveryKind, Severity};

/// Per `close_stream` step: `.reconnected`, `.retry-respected`, `.last-event-id`,
/// `.answered-once`, `.not-cancelled` (a request stream) and `.session-kept`.
pub(crate) fn closes(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    // Transport rules: they bind every client, whatever the scenario requires of it.
    let wide = ctx.spec_wide();
    for c in &ctx.compiled.closes {
        one(out, &wide, c);
    }
}

/// The close as the mock recorded it.
struct Closed<'t> {
    t_us: u64,
    stream: &'t str,
    last_event_id: &'t str,
    retry_ms: Option<u64>,
    request: Option<&'t Value>,
}

/// A close's checks, each with its severity and rule: the ones it has (a retry
/// field, a response stream) in the order they are reported.
fn kinds(c: &ScriptedClose) -> Vec<(&'static str, Severity, &'static str)> {
    let reconnect_rule = if c.abort { "http/resume-last-event-id" } else { "http/poll-after-close" };
    let mut kinds = vec![("reconnected", Should, reconnect_rule)];
    if c.retry_ms.is_some() {
        kinds.push(("retry-respected", Must, "http/respect-retry"));
    }
    kinds.push(("last-event-id", Should, "http/resume-last-event-id"));
    kinds.push(("answered-once", Must, "jsonrpc/one-response"));
    if c.delivery == DeliveryKind::RequestStream {
        kinds.push(("not-cancelled", Should, "http/disconnect-not-cancel"));
    }
    kinds.push(("session-kept", Should, "http/close-not-session-end"));
    kinds
}

fn one(out: &mut Emitter, ctx: &ScenarioCtx<'_>, c: &ScriptedClose) {
    let table = kinds(c);
    let mut emit = |kind: &str, judged: Judged| {
        if let Some((_, severity, rule)) = table.iter().find(|(k, ..)| *k == kind) {
            out.graded(ctx, &format!("{}.{kind}", c.name), *severity, rule, judged);
        }
    };
    let name = &c.name;
    let request_stream = c.delivery == DeliveryKind::RequestStream;
    let closed = ctx.trace.events().find_map(|e| match &e.kind {
        EventKind::StreamClosed { step, stream, last_event_id, retry_ms, request, .. } if step == name => {
            Some(Closed { t_us: e.t_us, stream, last_event_id, retry_ms: *retry_ms, request: request.as_ref() })
        }
        _ => None,
    });
    let Some(closed) = closed else {
        // Nothing was closed: nothing to come back for.
        let why = ctx
            .trace
            .events()
            .find_map(|e| match &e.kind {
                EventKind::Undelivered { steps, why } if steps.iter().any(|s| s.as_deref() == Some(name)) => {
                    Some(why.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| "the session ended before this step".to_owned());
        for (kind, ..) in &table {
            emit(kind, Judged::NotApplicable(Evidence::new(format!("the mock closed no stream here: {why}"))));
        }
        return;
    };
    let ours = |id: &str| id.strip_prefix(closed.stream).is_some_and(|rest| rest.starts_with('e'));
    let gets: Vec<&HttpExchange> =
        ctx.trace.http_exchanges().filter(|h| h.method == "GET" && h.t_us >= closed.t_us).collect();
    // The reconnect: a GET naming this stream; for the GET stream, any new GET.
    let naming = gets.iter().copied().find(|h| h.last_event_id.as_deref().is_some_and(ours));
    let reconnect = if request_stream {
        naming.or_else(|| gets.iter().copied().find(|h| h.last_event_id.is_some()))
    } else {
        naming.or_else(|| gets.first().copied())
    };
    let held: Vec<String> = ctx
        .trace
        .events()
        .filter_map(|e| match &e.kind {
            EventKind::Held { stream, step, .. } if stream == closed.stream => {
                Some(step.clone().unwrap_or_else(|| "a reply".to_owned()))
            }
            _ => None,
        })
        .collect();
    let resumed =
        ctx.trace.events().any(|e| matches!(&e.kind, EventKind::Resumed { stream, .. } if stream == closed.stream));
    let after = |h: &HttpExchange| h.t_us.saturating_sub(closed.t_us) / 1000;
    let header = |h: &HttpExchange| {
        h.last_event_id.clone().map_or("no Last-Event-ID".to_owned(), |id| format!("Last-Event-ID: {id}"))
    };

    let reconnected = match reconnect {
        Some(h) => {
            Judged::Pass(Evidence::new(format!("GET #{} {} ms after the close ({})", h.exchange, after(h), header(h))))
        }
        None if held.is_empty() => Judged::NotApplicable(Evidence::new(
            "the client did not reconnect, and nothing was sent to the stream after the close: nothing was lost",
        )),
        None => Judged::Violated(Evidence::new(format!(
            "the client never came back for stream {} ({}): {} message(s) sent to it meanwhile never reached it ({})",
            closed.stream,
            if request_stream { "no GET with its Last-Event-ID" } else { "no GET after the close" },
            held.len(),
            held.join(", ")
        ))),
    };
    emit("reconnected", reconnected);

    if let Some(retry) = closed.retry_ms {
        // Only the reconnect: a GET that is not one (the client's own GET stream, opened
        // after the close of a call's stream on a busy machine) says nothing of its wait.
        let judged = match reconnect {
            None => Judged::NotApplicable(Evidence::new("the client did not reconnect")),
            Some(h) if after(h) >= retry => Judged::Pass(Evidence::new(format!(
                "reconnected {} ms after the close; the retry field said {retry} ms",
                after(h)
            ))),
            Some(h) => Judged::Violated(Evidence::new(format!(
                "reconnected {} ms after the close (GET #{}), before the {retry} ms the retry field asked for",
                after(h),
                h.exchange
            ))),
        };
        emit("retry-respected", judged);
    }

    let last = match reconnect {
        None => Judged::NotApplicable(Evidence::new("the client did not reconnect")),
        Some(h) => match h.last_event_id.as_deref() {
            Some(id) if id == closed.last_event_id => {
                Judged::Pass(Evidence::new(format!("resumed with Last-Event-ID: {id}, the last event it was sent")))
            }
            Some(id) if ours(id) => Judged::Violated(Evidence::new(format!(
                "resumed with Last-Event-ID: {id}, not the last event it was sent ({}): what it had already was replayed",
                closed.last_event_id
            ))),
            Some(id) => Judged::Violated(Evidence::new(format!(
                "GET #{} sent Last-Event-ID: {id}, which names no event of stream {} (its last was {})",
                h.exchange, closed.stream, closed.last_event_id
            ))),
            None => Judged::Violated(Evidence::new(format!(
                "reconnected (GET #{}) without Last-Event-ID: stream {} could not be resumed{}",
                h.exchange,
                closed.stream,
                if held.is_empty() { String::new() } else { format!(", and {} held message(s) were lost", held.len()) }
            ))),
        },
    };
    emit("last-event-id", last);

    emit("answered-once", answered_once(ctx, resumed));

    // What the client sent after the close.
    let frames = || {
        ctx.trace
            .frames()
            .filter(move |f| f.dir == Direction::ClientToServer && f.t_us >= closed.t_us)
            .filter_map(|f| f.json.as_ref().map(|j| (f.seq, j)))
    };
    if request_stream {
        let cancel = closed.request.and_then(|id| {
            frames().find(|(_, j)| {
                j.get("method").and_then(Value::as_str) == Some("notifications/cancelled")
                    && j.pointer("/params/requestId") == Some(id)
            })
        });
        let judged = match (closed.request, cancel) {
            (_, Some((seq, _))) => Judged::Violated(
                Evidence::new("the client cancelled its call when the connection closed (notifications/cancelled)")
                    .at_frame(seq),
            ),
            (Some(id), None) => {
                Judged::Pass(Evidence::new(format!("no notifications/cancelled for its call {id} after the close")))
            }
            (None, None) => Judged::NotApplicable(Evidence::new("no call was in flight")),
        };
        emit("not-cancelled", judged);
    }

    // Until the server answers a request of the client's (its call): a client may
    // leave once it has what it came for; before that, or in a session where it asked
    // for nothing, only the server ends the session — and once the server has ended
    // it (its `end` record, written before it closes the streams), a DELETE is the
    // client seeing it out, and a new `initialize` what a client MUST send after the
    // 404 its next request gets (transports.mdx:211-214), however late a loaded
    // machine makes either.
    let ended = ctx.trace.end().map_or(u64::MAX, |e| e.t_us);
    let done = ctx
        .trace
        .frames()
        .filter(|f| f.dir == Direction::ServerToClient && f.t_us >= closed.t_us)
        .find(|f| f.json.as_ref().is_some_and(|j| j.get("method").is_none() && j.get("id").is_some()))
        .map_or(u64::MAX, |f| f.t_us);
    let deleted =
        ctx.trace.http_exchanges().find(|h| h.method == "DELETE" && h.t_us >= closed.t_us && h.t_us < done.min(ended));
    let again = ctx
        .trace
        .frames()
        .filter(|f| f.dir == Direction::ClientToServer && f.t_us >= closed.t_us && f.t_us < ended)
        .filter_map(|f| f.json.as_ref().map(|j| (f.seq, j)))
        .find(|(_, j)| j.get("method").and_then(Value::as_str) == Some("initialize"));
    let kept = match (deleted, again) {
        (Some(h), _) => Judged::Violated(Evidence::new(format!(
            "the client ended the session (DELETE #{}) {} ms after the connection closed",
            h.exchange,
            after(h)
        ))),
        (None, Some((seq, _))) => Judged::Violated(
            Evidence::new("the client started a new session (initialize) after the connection closed").at_frame(seq),
        ),
        (None, None) => Judged::Pass(Evidence::new("no DELETE and no new initialize after the close")),
    };
    emit("session-kept", kept);
}

/// No request of the mock's is answered twice — a replay of what the client had
/// already answered (a stale `Last-Event-ID`) must not get a second answer.
fn answered_once(ctx: &ScenarioCtx<'_>, resumed: bool) -> Judged {
    if !resumed {
        return Judged::NotApplicable(Evidence::new("the stream was not resumed: nothing was replayed"));
    }
    // By the id as written: a replayed request is sent again under its id, so the
    // session may attribute the second answer to the second send.
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for a in &ctx.session.answers {
        let Some(id) = &a.id else { continue };
        if let Some(first) = seen.insert(id.to_string(), a.seq) {
            return Judged::Violated(
                Evidence::new(format!(
                    "request {id} was answered twice (frames {first} and {}): once before the close, once when it was replayed",
                    a.seq
                ))
                .at_frame(a.seq),
            );
        }
    }
    Judged::Pass(Evidence::new("every request answered once, replayed or not"))
}

#[cfg(test)]
mod tests {
    use backchannel_mock::trace::EventKind;
    use backchannel_protocol::{Revision, Transport};
    use serde_json::json;

    use crate::check::Outcome;
    use crate::check::tests::{Case, outcome};

    const CLOSES: &str = "title: t\nrevisions: [2025-11-25]\ntransports: [http]\nsteps:\n  - request: {name: before, method: ping, wait: true}\n  - close_stream: {name: c, retry_ms: 300}\n  - request: {name: away, method: ping}\n";

    fn closed() -> EventKind {
        EventKind::StreamClosed {
            step: "c".into(),
            stream: "s2".into(),
            exchange: 4,
            last_event_id: "s2e1".into(),
            retry_ms: Some(300),
            abort: false,
            request: None,
        }
    }

    fn case() -> Case {
        Case::new(CLOSES, Transport::Http, Revision::V2025_11_25)
            .handshake(json!({}))
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":"ping"}), Some("before"))
            .c2s(json!({"jsonrpc":"2.0","id":1,"result":{}}))
            .event(closed())
            .event(EventKind::Held { step: Some("away".into()), stream: "s2".into(), event_id: "s2e2".into() })
    }

    #[test]
    fn a_client_that_polls_back_after_the_retry_with_its_last_event_id_passes() {
        let f = case()
            .wait_ms(350)
            .exchange("GET", Some("s2e1"))
            .event(EventKind::Resumed { stream: "s2".into(), exchange: 5, last_event_id: "s2e1".into(), replayed: 1 })
            .s2c(json!({"jsonrpc":"2.0","id":2,"method":"ping"}), Some("away"))
            .c2s(json!({"jsonrpc":"2.0","id":2,"result":{}}))
            .end()
            .eval();
        for check in ["c.reconnected", "c.retry-respected", "c.last-event-id", "c.answered-once", "c.session-kept"] {
            assert_eq!(outcome(&f, check), Outcome::Pass, "{check}");
        }
        assert_eq!(outcome(&f, "away.answered"), Outcome::Pass);
    }

    #[test]
    fn each_way_of_not_coming_back_properly_fails_its_check() {
        // Never reconnects: what was held is lost.
        let f = case().end().eval();
        assert_eq!(outcome(&f, "c.reconnected"), Outcome::Violated);
        assert_eq!(outcome(&f, "c.last-event-id"), Outcome::NotApplicable);
        // Too early, and without Last-Event-ID.
        let f = case().wait_ms(50).exchange("GET", None).end().eval();
        assert_eq!(outcome(&f, "c.retry-respected"), Outcome::Violated);
        assert_eq!(outcome(&f, "c.last-event-id"), Outcome::Violated);
        // A stale id: the answered ping comes again and is answered again.
        let f = case()
            .wait_ms(350)
            .exchange("GET", Some("s2e0"))
            .event(EventKind::Resumed { stream: "s2".into(), exchange: 5, last_event_id: "s2e0".into(), replayed: 2 })
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":"ping"}), Some("before"))
            .c2s(json!({"jsonrpc":"2.0","id":1,"result":{}}))
            .end()
            .eval();
        assert_eq!(outcome(&f, "c.last-event-id"), Outcome::Violated);
        assert_eq!(outcome(&f, "c.answered-once"), Outcome::Violated);
        // The close taken for the end of the session.
        let f = case().exchange("DELETE", None).wait_ms(10).end().eval();
        assert_eq!(outcome(&f, "c.session-kept"), Outcome::Violated);
        let f = case().c2s(json!({"jsonrpc":"2.0","id":9,"method":"initialize"})).wait_ms(10).end().eval();
        assert_eq!(outcome(&f, "c.session-kept"), Outcome::Violated);
        // Once the server ended the session: seeing it out (DELETE), and the new session
        // the 404 to its next request calls for (initialize), however late — not the
        // close taken for the end.
        let f = case()
            .end()
            .wait_ms(100)
            .exchange("DELETE", None)
            .c2s(json!({"jsonrpc":"2.0","id":9,"method":"initialize"}))
            .eval();
        assert_eq!(outcome(&f, "c.session-kept"), Outcome::Pass);
    }

    /// Found by the fixture matrix on a busy machine: a client that opens its GET
    /// stream only after its call's stream was closed has not reconnected, and its
    /// GET says nothing of how long it waited.
    #[test]
    fn a_get_stream_opened_after_a_calls_stream_closed_is_no_reconnect() {
        const CALL: &str = "title: t\nrevisions: [2025-11-25]\ntransports: [http]\ntrigger: tool_call\nsteps:\n  - close_stream: {name: c, delivery: request_stream, retry_ms: 300}\n  - request: {name: away, method: ping, delivery: request_stream}\n";
        let f = Case::new(CALL, Transport::Http, Revision::V2025_11_25)
            .handshake(json!({}))
            .event(EventKind::StreamClosed {
                step: "c".into(),
                stream: "s1".into(),
                exchange: 3,
                last_event_id: "s1e0".into(),
                retry_ms: Some(300),
                abort: false,
                request: Some(json!("call")),
            })
            .event(EventKind::Held { step: Some("away".into()), stream: "s1".into(), event_id: "s1e1".into() })
            .wait_ms(10)
            .exchange("GET", None)
            .end()
            .eval();
        assert_eq!(outcome(&f, "c.retry-respected"), Outcome::NotApplicable);
        assert_eq!(outcome(&f, "c.reconnected"), Outcome::Violated);
        assert_eq!(outcome(&f, "c.not-cancelled"), Outcome::Pass);
    }

    #[test]
    fn nothing_closed_or_nothing_lost_is_not_applicable() {
        let f = Case::new(CLOSES, Transport::Http, Revision::V2025_11_25)
            .handshake(json!({}))
            .event(EventKind::Undelivered { steps: vec![Some("c".into())], why: "no GET stream is open".into() })
            .end()
            .eval();
        assert_eq!(outcome(&f, "c.reconnected"), Outcome::NotApplicable);
        let f =
            Case::new(CLOSES, Transport::Http, Revision::V2025_11_25).handshake(json!({})).event(closed()).end().eval();
        assert_eq!(outcome(&f, "c.reconnected"), Outcome::NotApplicable);
    }
}
