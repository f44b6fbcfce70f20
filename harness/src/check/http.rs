//! Checks of the HTTP layer, from the exchanges the mock recorded.
//!
//! - `http.session` — every request after the session was issued carries it
//!   (Streamable HTTP: the `MCP-Session-Id` header; HTTP+SSE: the endpoint's `sessionId`).
//! - `http.protocol-version` — Streamable HTTP from 2025-06-18 on: every request after
//!   `initialize` carries `MCP-Protocol-Version: <negotiated>`.
//!
//! A POST carrying a new `initialize` starts a new session and carries neither: a
//! client told 404 for its session "MUST start a new session by sending a new
//! InitializeRequest without a session ID attached" (2025-11-25
//! `basic/transports.mdx:213-215`), and a client re-initializing for another reason is
//! judged by the session checks, not here.

use backchannel_mock::protocol::Transport;
use backchannel_mock::trace::{Direction, HttpExchange, Trace};

use super::session::Session;
use super::{Emitter, Evidence, truncate};
use crate::scenario::model::Severity::Must;

pub(crate) fn checks(out: &mut Emitter<'_>, trace: &Trace, session: &Session) {
    let Some(transport) = trace.start().map(|s| s.transport) else { return };
    if !transport.is_http() {
        return;
    }
    // The exchanges that start a session (their body is an `initialize`).
    let initializes: std::collections::BTreeSet<u64> = trace
        .frames()
        .filter(|f| f.dir == Direction::ClientToServer)
        .filter(|f| f.json.as_ref().and_then(|j| j.get("method")).and_then(|m| m.as_str()) == Some("initialize"))
        .filter_map(|f| f.http.map(|h| h.exchange))
        .collect();
    let mut exchanges: Vec<&HttpExchange> = trace.http_exchanges().collect();
    exchanges.sort_by_key(|h| h.exchange);
    let Some(issuer) = exchanges.iter().find(|h| h.issued_session.is_some()) else {
        out.skip("http.session", "no session was established");
        return;
    };
    let issued = issuer.issued_session.as_deref().unwrap_or_default();
    let spec = if transport == Transport::Http { "http/session-id" } else { "sse/post-to-endpoint" };
    // After the issuing exchange, every request to the MCP endpoint must name the session
    // (over HTTP+SSE: every POST; the event stream itself is where it was issued).
    let later = exchanges.iter().filter(|h| {
        h.exchange > issuer.exchange
            && (transport == Transport::Http || h.method == "POST")
            && !initializes.contains(&h.exchange)
    });
    let wrong = later.clone().find(|h| h.session.as_deref() != Some(issued));
    match wrong {
        Some(h) => {
            let what = match &h.session {
                None => "no session id".to_owned(),
                Some(s) => format!("session `{}`, not the issued `{}`", truncate(s, 12), truncate(issued, 12)),
            };
            out.violated(
                "http.session",
                Must,
                spec,
                Evidence::new(format!("{} #{} carried {what} (answered {})", h.method, h.exchange, h.status)),
            );
        }
        None => out.pass(
            "http.session",
            Must,
            spec,
            Evidence::new(format!("{} later requests, all in the issued session", later.count())),
        ),
    }

    if transport != Transport::Http {
        return;
    }
    let Some(version) = session.negotiated.filter(|v| v.has_protocol_version_header()) else { return };
    let init_exchange = issuer.exchange;
    let later: Vec<&&HttpExchange> =
        exchanges.iter().filter(|h| h.exchange > init_exchange && !initializes.contains(&h.exchange)).collect();
    match later.iter().find(|h| h.protocol_version.as_deref() != Some(version.as_str())) {
        Some(h) => {
            let got = h
                .protocol_version
                .as_deref()
                .map_or("no MCP-Protocol-Version header".to_owned(), |v| format!("MCP-Protocol-Version {v}"));
            out.violated(
                "http.protocol-version",
                Must,
                "http/protocol-version-header",
                Evidence::new(format!(
                    "{} #{} carried {got}; the negotiated version is {version}",
                    h.method, h.exchange
                )),
            );
        }
        None => out.pass(
            "http.protocol-version",
            Must,
            "http/protocol-version-header",
            Evidence::new(format!("{} later requests, all with MCP-Protocol-Version {version}", later.len())),
        ),
    }
}

#[cfg(test)]
mod tests {
    use backchannel_mock::protocol::{Revision, Transport};
    use serde_json::json;

    use super::super::tests::{Case, one_request, outcome};
    use crate::check::Outcome;

    fn over_http(rev: Revision, session: Option<&str>, version: Option<&str>) -> Vec<crate::check::Finding> {
        let v = rev.as_str();
        Case::new(&one_request("ping"), Transport::Http, rev)
            .post(
                json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":v,"capabilities":{}}}),
                None,
                None,
                200,
                Some("s1"),
            )
            .s2c(json!({"jsonrpc":"2.0","id":0,"result":{"protocolVersion":v}}), None)
            .post(json!({"jsonrpc":"2.0","method":"notifications/initialized"}), session, version, 202, None)
            .end()
            .eval()
    }

    #[test]
    fn later_requests_carry_the_session_and_the_version() {
        let f = over_http(Revision::V2025_11_25, Some("s1"), Some("2025-11-25"));
        assert_eq!(outcome(&f, "http.session"), Outcome::Pass);
        assert_eq!(outcome(&f, "http.protocol-version"), Outcome::Pass);
        let f = over_http(Revision::V2025_11_25, None, Some("2025-11-25"));
        assert_eq!(outcome(&f, "http.session"), Outcome::Violated);
        let f = over_http(Revision::V2025_11_25, Some("other"), Some("2025-11-25"));
        assert_eq!(outcome(&f, "http.session"), Outcome::Violated);
        let f = over_http(Revision::V2025_11_25, Some("s1"), Some("2025-06-18"));
        assert_eq!(outcome(&f, "http.protocol-version"), Outcome::Violated);
        let f = over_http(Revision::V2025_06_18, Some("s1"), None);
        assert_eq!(outcome(&f, "http.protocol-version"), Outcome::Violated);
        // No header rule before 2025-06-18.
        let f = over_http(Revision::V2025_03_26, Some("s1"), None);
        assert!(f.iter().all(|f| f.check != "http.protocol-version"));
    }

    #[test]
    fn a_new_initialize_after_a_404_is_not_a_session_violation() {
        let v = "2025-11-25";
        let init =
            json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":v,"capabilities":{}}});
        let f = Case::new(&one_request("ping"), Transport::Http, Revision::V2025_11_25)
            .post(init.clone(), None, None, 200, Some("s1"))
            .s2c(json!({"jsonrpc":"2.0","id":0,"result":{"protocolVersion":v}}), None)
            .post(json!({"jsonrpc":"2.0","method":"notifications/initialized"}), Some("s1"), Some(v), 202, None)
            .post(json!({"jsonrpc":"2.0","id":9,"method":"ping"}), Some("s1"), Some(v), 404, None)
            .post(init, None, None, 400, None)
            .end()
            .eval();
        assert_eq!(outcome(&f, "http.session"), Outcome::Pass);
        assert_eq!(outcome(&f, "http.protocol-version"), Outcome::Pass);
    }

    #[test]
    fn stdio_has_no_http_checks() {
        let f = Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_11_25).handshake(json!({})).eval();
        assert!(f.iter().all(|f| !f.check.starts_with("http.")));
    }
}
