//! Protocol checks that run in every case: the handshake and the JSON-RPC wire.

use backchannel_mock::wire::{Envelope, render_id};
use backchannel_protocol::Revision;

use super::session::Session;
use super::{Emitter, Evidence, Outcome, truncate};
use crate::scenario::model::Severity::Must;

/// `session.initialize` and `session.initialized`; returns whether the session started.
pub(crate) fn session_checks(out: &mut Emitter, s: &Session, has_trace: bool) -> bool {
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

/// `wire.json-rpc`, `wire.no-batch`, `wire.id-echo`, `wire.one-answer`.
pub(crate) fn wire_checks(out: &mut Emitter, s: &Session, revision: Revision) {
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

    no_batch(out, s, revision);

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

    let twice = (0..s.sent.len()).find(|&i| s.answer_count(i) > 1).and_then(|i| {
        let second = s.answers.iter().filter(|a| a.answers == Some(i)).nth(1)?;
        Some((i, second.seq))
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

/// `wire.no-batch`: from 2025-06-18 on every client message is a single JSON-RPC
/// message — "Messages are individual JSON-RPC requests, notifications, or
/// responses" (stdio), "The body of the POST request MUST be a single JSON-RPC
/// request, notification, or response" (Streamable HTTP). Before, JSON-RPC 2.0
/// batches are legal, and their members are judged as answers like any other.
fn no_batch(out: &mut Emitter, s: &Session, revision: Revision) {
    let batches: Vec<(u64, usize)> = s
        .client_frames
        .iter()
        .filter_map(|(seq, c, _)| match c.as_ref().map(|c| &c.envelope) {
            Some(Envelope::Batch(parts)) => Some((*seq, parts.len())),
            _ => None,
        })
        .collect();
    let rule = "mcp/no-batches";
    match batches.first() {
        _ if !revision.forbids_batches() => out.pass(
            "wire.no-batch",
            Must,
            rule,
            Evidence::new(format!("{} batch(es); JSON-RPC batches are legal at {revision}", batches.len())),
        ),
        None => {
            out.pass("wire.no-batch", Must, rule, Evidence::new("every client message is a single JSON-RPC message"))
        }
        Some((seq, n)) => out.violated(
            "wire.no-batch",
            Must,
            rule,
            Evidence::new(format!(
                "frame {seq} is a JSON-RPC batch of {n} message(s) ({} batch(es) in all); {revision} has no batches",
                batches.len()
            ))
            .at_frame(*seq),
        ),
    }
}

/// `client.exits`: once the server ends the session the client must not hang.
pub(crate) fn client_exit(out: &mut Emitter, end: &super::ClientEnd) {
    if end.hung {
        out.violated(
            "client.exits",
            Must,
            "policy/client-ends-with-session",
            Evidence::new(format!(
                "the client was still running, idle for {} ms, after the server ended the session; killed",
                end.after_end.as_millis()
            )),
        );
    } else if end.timed_out {
        // Busy, or still starting, when the time limit came: slow or hung, which a
        // timer cannot tell apart — the run is incomplete, never PASS or FAIL by a clock.
        out.push(
            "client.exits",
            Must,
            "policy/client-ends-with-session",
            Outcome::Inconclusive,
            Evidence::new(
                "the client was still running at the case's time limit, not idle (busy, or still starting): slow or hung, which a timer cannot tell apart (rerun with fewer --jobs on a loaded machine)",
            ),
        );
    } else {
        out.pass("client.exits", Must, "policy/client-ends-with-session", Evidence::new(end.status.clone()));
    }
}

#[cfg(test)]
mod tests {
    use backchannel_protocol::{Revision, Transport};
    use serde_json::json;

    use super::super::tests::{Case, finding, one_request, outcome};
    use crate::check::Outcome;

    fn ping_case(rev: Revision) -> Case {
        Case::new(&one_request("ping"), Transport::Stdio, rev)
            .handshake(json!({}))
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":"ping"}), Some("ping"))
    }

    /// HTTP+SSE is optional for a client: one that never opens the legacy GET stream
    /// does not speak it (N/A, one reason) — unless it claims to.
    #[test]
    fn a_legacy_sse_case_a_client_never_opened_is_not_applicable_unless_claimed() {
        use backchannel_mock::trace::EventKind;
        let never = || Case::new(&one_request("ping"), Transport::Sse, Revision::V2025_03_26).end();
        let f = never().transport_unclaimed().eval();
        let c = finding(&f, "session.initialize");
        assert_eq!(c.outcome, Outcome::NotApplicable, "{c:?}");
        assert!(c.evidence.summary.contains("HTTP+SSE"), "{}", c.evidence.summary);
        assert_eq!(outcome(&f, "ping.answered"), Outcome::NotApplicable);
        assert!(f.iter().all(|x| x.outcome != Outcome::Violated), "{f:?}");
        assert_eq!(outcome(&never().eval(), "session.initialize"), Outcome::Violated, "claimed: held to it");
        // It opened the stream (it speaks the transport), and then never initialized.
        let opened = Case::new(&one_request("ping"), Transport::Sse, Revision::V2025_03_26)
            .event(EventKind::Endpoint { uri: "/messages?sessionId=x".into() })
            .end()
            .transport_unclaimed()
            .eval();
        assert_eq!(outcome(&opened, "session.initialize"), Outcome::Violated);
        // Killed at the timeout before it connected, without a POST: maybe slow.
        let mut slow = Case::new(&one_request("ping"), Transport::Sse, Revision::V2025_03_26)
            .end_by(backchannel_mock::trace::EndReason::Timeout)
            .transport_unclaimed();
        slow.client.timed_out = true;
        assert_eq!(outcome(&slow.eval(), "session.initialize"), Outcome::Inconclusive);
        // Streamable HTTP is not the optional one.
        let http = Case::new(&one_request("ping"), Transport::Http, Revision::V2025_03_26).end().transport_unclaimed();
        assert_eq!(outcome(&http.eval(), "session.initialize"), Outcome::Violated);
    }

    /// "If the client does not support the version in the server's response, it
    /// SHOULD disconnect" (`basic/lifecycle.mdx`): a client that asked for an older
    /// revision and went no further does not speak the case's — N/A, not a FAIL.
    #[test]
    fn a_client_that_leaves_a_revision_it_did_not_ask_for_is_not_applicable() {
        let asked = |version: &str| {
            Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_11_25)
                .c2s(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                    "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}}))
                .s2c(json!({"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-11-25","capabilities":{}}}), None)
        };
        let f = asked("2025-06-18").end_by(backchannel_mock::trace::EndReason::ClientClosed).eval();
        let c = finding(&f, "session.initialize");
        assert_eq!(c.outcome, Outcome::NotApplicable, "{c:?}");
        assert!(c.evidence.summary.contains("asked for 2025-06-18"), "{}", c.evidence.summary);
        assert_eq!(outcome(&f, "ping.answered"), Outcome::NotApplicable);
        assert!(f.iter().all(|x| x.outcome != Outcome::Violated), "{f:?}");
        // It asked for the case's revision and still never sent `initialized`: a FAIL.
        let f = asked("2025-11-25").end_by(backchannel_mock::trace::EndReason::ClientClosed).eval();
        assert_eq!(outcome(&f, "session.initialized"), Outcome::Violated);
        // It asked for an older one and carried on anyway: judged as it behaved.
        let f = asked("2025-06-18").c2s(json!({"jsonrpc":"2.0","id":1,"method":"tools/list"})).end().eval();
        assert_eq!(outcome(&f, "session.initialized"), Outcome::Violated);
    }

    #[test]
    fn a_client_silent_until_the_timeout_cannot_be_judged() {
        use backchannel_mock::trace::EndReason;
        // Nothing from the client when the session's timeout ended it: still starting
        // (a loaded machine) or hung — INCONCLUSIVE, never a FAIL decided by a timer.
        let f =
            Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_11_25).end_by(EndReason::Timeout).eval();
        assert_eq!(outcome(&f, "session.initialize"), Outcome::Inconclusive);
        // A client that closed its side without a word did fail.
        let f = Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_11_25)
            .end_by(EndReason::ClientClosed)
            .eval();
        assert_eq!(outcome(&f, "session.initialize"), Outcome::Violated);
    }

    #[test]
    fn a_well_behaved_session_passes_the_protocol_checks() {
        let f = ping_case(Revision::V2025_11_25).c2s(json!({"jsonrpc":"2.0","id":1,"result":{}})).end().eval();
        for check in ["session.initialize", "session.initialized", "wire.json-rpc", "wire.no-batch", "wire.id-echo"] {
            assert_eq!(outcome(&f, check), Outcome::Pass, "{check}: {:?}", finding(&f, check).evidence);
        }
        assert_eq!(outcome(&f, "wire.one-answer"), Outcome::Pass);
        assert_eq!(outcome(&f, "client.exits"), Outcome::Pass);
    }

    #[test]
    fn initialize_must_come_first_and_initialized_must_follow() {
        let c = Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_06_18)
            .c2s(json!({"jsonrpc":"2.0","id":"x","method":"ping"}))
            .handshake(json!({}));
        assert_eq!(outcome(&c.eval(), "session.initialize"), Outcome::Violated);
        let c = Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_06_18)
            .c2s(json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}));
        let f = c.eval();
        assert_eq!(outcome(&f, "session.initialize"), Outcome::Pass);
        assert_eq!(outcome(&f, "session.initialized"), Outcome::Violated);
        // A dual-era probe before initialize is allowed.
        let c = Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_06_18)
            .c2s(json!({"jsonrpc":"2.0","id":"p","method":"server/discover","params":{}}))
            .handshake(json!({}));
        assert_eq!(outcome(&c.eval(), "session.initialize"), Outcome::Pass);
    }

    #[test]
    fn garbage_from_the_client_fails_the_wire() {
        let f = ping_case(Revision::V2025_11_25).c2s_raw("hello {").eval();
        assert_eq!(outcome(&f, "wire.json-rpc"), Outcome::Violated);
        let f = ping_case(Revision::V2025_11_25).c2s(json!({"id":1,"result":{}})).eval();
        assert_eq!(outcome(&f, "wire.json-rpc"), Outcome::Violated, "no jsonrpc member");
    }

    #[test]
    fn a_batch_fails_where_batches_do_not_exist() {
        let batch = json!([{"jsonrpc":"2.0","id":1,"result":{}}]);
        let f = ping_case(Revision::V2025_11_25).c2s(batch.clone()).eval();
        assert_eq!(outcome(&f, "wire.no-batch"), Outcome::Violated);
        assert_eq!(outcome(&f, "ping.answered"), Outcome::Pass, "its members are still answers");
        let f = ping_case(Revision::V2025_06_18).c2s(batch.clone()).eval();
        assert_eq!(outcome(&f, "wire.no-batch"), Outcome::Violated);
        let f = ping_case(Revision::V2025_03_26).c2s(batch).eval();
        assert_eq!(outcome(&f, "wire.no-batch"), Outcome::Pass, "2025-03-26 has batches");
    }

    #[test]
    fn ids_are_echoed_exactly_and_answered_once() {
        let f = ping_case(Revision::V2025_11_25).c2s(json!({"jsonrpc":"2.0","id":"1","result":{}})).eval();
        assert_eq!(outcome(&f, "wire.id-echo"), Outcome::Violated);
        assert_eq!(outcome(&f, "ping.answered"), Outcome::Pass, "a loose echo is attributed");
        let f = ping_case(Revision::V2025_11_25)
            .c2s(json!({"jsonrpc":"2.0","id":1,"result":{}}))
            .c2s(json!({"jsonrpc":"2.0","id":1,"result":{}}))
            .eval();
        assert_eq!(outcome(&f, "wire.one-answer"), Outcome::Violated);
        let f = ping_case(Revision::V2025_11_25).c2s(json!({"jsonrpc":"2.0","id":99,"result":{}})).eval();
        assert_eq!(outcome(&f, "wire.id-echo"), Outcome::Violated, "an id never issued");
    }

    #[test]
    fn a_client_that_hangs_fails_client_exits() {
        let mut c = ping_case(Revision::V2025_11_25).c2s(json!({"jsonrpc":"2.0","id":1,"result":{}}));
        c.client.timed_out = true;
        c.client.hung = true;
        assert_eq!(outcome(&c.eval(), "client.exits"), Outcome::Violated);
        // Killed at the time limit while busy or starting: a timer decided, not the client.
        c.client.hung = false;
        assert_eq!(outcome(&c.eval(), "client.exits"), Outcome::Inconclusive);
    }
}
