//! Checks of the HTTP layer, from the exchanges the mock recorded.
//!
//! - `http.session` — every request after the session was issued carries it
//!   (Streamable HTTP: the `MCP-Session-Id` header; HTTP+SSE: the endpoint's `sessionId`).
//! - `http.protocol-version` — Streamable HTTP from 2025-06-18 on: every request after
//!   `initialize` carries `MCP-Protocol-Version: <negotiated>`.

use backchannel_mock::protocol::Transport;
use backchannel_mock::trace::{HttpExchange, Trace};

use super::session::Session;
use super::{Emitter, Evidence, truncate};
use crate::scenario::model::Severity::Must;

pub(crate) fn checks(out: &mut Emitter<'_>, trace: &Trace, session: &Session) {
    let Some(transport) = trace.start().map(|s| s.transport) else { return };
    if !transport.is_http() {
        return;
    }
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
    let later = exchanges
        .iter()
        .filter(|h| h.exchange > issuer.exchange && (transport == Transport::Http || h.method == "POST"));
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
    let later: Vec<&&HttpExchange> = exchanges.iter().filter(|h| h.exchange > init_exchange).collect();
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
