//! Protocol checks that run in every case: the handshake and the JSON-RPC wire.

use backchannel_mock::wire::{Envelope, render_id};

use super::session::Session;
use super::{Emitter, Evidence, truncate};
use crate::scenario::model::Severity::Must;

/// `session.initialize` and `session.initialized`; returns whether the session started.
pub(crate) fn session_checks(out: &mut Emitter<'_>, s: &Session, has_trace: bool) -> bool {
    let started = match &s.initialize {
        _ if !has_trace => {
            out.violated(
                "session.initialize",
                Must,
                "lifecycle/initialize-first",
                Evidence::new(
                    "the mock server never started: no trace was written (did the client launch the server?)",
                ),
            );
            false
        }
        None => {
            let n = s.client_frames.len();
            out.violated(
                "session.initialize",
                Must,
                "lifecycle/initialize-first",
                Evidence::new(format!("the client sent no initialize request ({n} frames from the client)")),
            );
            false
        }
        Some((seq, _)) if !s.initialize_first => {
            out.violated(
                "session.initialize",
                Must,
                "lifecycle/initialize-first",
                Evidence::new("initialize was not the client's first message").at_frame(*seq),
            );
            true
        }
        Some((seq, params)) => {
            let version = params.get("protocolVersion").and_then(|v| v.as_str()).unwrap_or("?");
            out.pass(
                "session.initialize",
                Must,
                "lifecycle/initialize-first",
                Evidence::new(format!("initialize first, asking for {version}")).at_frame(*seq),
            );
            true
        }
    };
    if !started && s.initialize.is_none() {
        out.skip("session.initialized", "the client never initialized the session");
        return false;
    }
    match s.initialized {
        Some(seq) => out.pass(
            "session.initialized",
            Must,
            "lifecycle/initialized",
            Evidence::new("notifications/initialized sent").at_frame(seq),
        ),
        None => {
            let why = if s.rejected.is_empty() {
                "the client never sent notifications/initialized".to_owned()
            } else {
                format!(
                    "the server never received notifications/initialized: it refused {} of the client's HTTP requests (see http.session)",
                    s.rejected.len()
                )
            };
            out.violated("session.initialized", Must, "lifecycle/initialized", Evidence::new(why))
        }
    }
    true
}

/// `wire.json-rpc`, `wire.id-echo`, `wire.one-answer`.
pub(crate) fn wire_checks(out: &mut Emitter<'_>, s: &Session) {
    let n = s.client_frames.len();
    let bad = s.client_frames.iter().find_map(|(seq, c, parse_error)| match (c, parse_error) {
        (None, e) => Some((*seq, format!("not JSON: {}", e.as_deref().unwrap_or("unparsable")))),
        (Some(c), _) => {
            let mut findings: Vec<String> = c.findings.iter().map(ToString::to_string).collect();
            if let Envelope::Batch(parts) = &c.envelope {
                findings.extend(parts.iter().flat_map(|p| p.findings.iter().map(ToString::to_string)));
            }
            (!findings.is_empty()).then(|| (*seq, findings.join("; ")))
        }
    });
    match bad {
        Some((seq, why)) => out.violated(
            "wire.json-rpc",
            Must,
            "mcp/messages-follow-jsonrpc",
            Evidence::new(format!("frame {seq}: {why}")).at_frame(seq),
        ),
        None => out.pass(
            "wire.json-rpc",
            Must,
            "mcp/messages-follow-jsonrpc",
            Evidence::new(format!("{n} client frames, all well-formed JSON-RPC")),
        ),
    }

    // A null/absent id is how an error says "I could not read your id"; such
    // answers are not judged here (an unanswered request is, by `.answered`).
    let wrong = s.answers.iter().find(|a| a.id.is_some() && !a.exact);
    match wrong {
        Some(a) => {
            let id = a.id.as_ref().expect("filtered on is_some");
            let summary = match a.answers {
                Some(i) => format!("answered id {} to the request with id {}", render_id(id), render_id(&s.sent[i].id)),
                None => format!("answered id {}, which the server never sent", render_id(id)),
            };
            out.violated("wire.id-echo", Must, "mcp/response-same-id", Evidence::new(summary).at_frame(a.seq));
        }
        None => out.pass(
            "wire.id-echo",
            Must,
            "mcp/response-same-id",
            Evidence::new(format!(
                "{} answers, each with the exact id of its request",
                s.answers.iter().filter(|a| a.id.is_some()).count()
            )),
        ),
    }

    let twice = (0..s.sent.len()).find_map(|i| {
        let mut answers = s.answers.iter().filter(|a| a.answers == Some(i));
        answers.next()?;
        answers.next().map(|second| (i, second.seq))
    });
    match twice {
        Some((i, seq)) => out.violated(
            "wire.one-answer",
            Must,
            "jsonrpc/one-response",
            Evidence::new(format!(
                "request {} ({}) was answered more than once",
                render_id(&s.sent[i].id),
                truncate(&s.sent[i].method, 60)
            ))
            .at_frame(seq),
        ),
        None => out.pass("wire.one-answer", Must, "jsonrpc/one-response", Evidence::new("no request answered twice")),
    }
}

/// `client.exits`: once the server ends the session the client must not hang.
pub(crate) fn client_exit(out: &mut Emitter<'_>, end: &super::ClientEnd) {
    if end.timed_out {
        out.violated(
            "client.exits",
            Must,
            "policy/client-ends-with-session",
            Evidence::new(format!("the client was still running {} ms after the server ended the session (or at the case timeout); killed", end.after_end.as_millis())),
        );
    } else {
        out.pass("client.exits", Must, "policy/client-ends-with-session", Evidence::new(end.status.clone()));
    }
}
