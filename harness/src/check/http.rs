//! Checks of the HTTP layer, from the exchanges the mock recorded.
//!
//! - `http.session` — every request after the session was issued carries it
//!   (Streamable HTTP: the `MCP-Session-Id` header; HTTP+SSE: the endpoint's `sessionId`);
//!   one with none that arrived before the client's `notifications/initialized` may
//!   have been sent before the client had the id, and is not judged.
//! - `http.protocol-version` — Streamable HTTP from 2025-06-18 on: every request after
//!   `initialize` carries `MCP-Protocol-Version: <negotiated>`.
//!
//! 2026-07-28 (sessionless Streamable HTTP, `basic/transports/streamable-http.mdx`):
//! - `http.request-headers` — every POSTed request carries `Accept` (JSON and SSE),
//!   `MCP-Protocol-Version` equal to its `_meta` version, `Mcp-Method`, and `Mcp-Name`
//!   where required, Base64-encoded when not plain ASCII;
//! - `http.param-headers` — for a tool whose `inputSchema` marks parameters with
//!   `x-mcp-header`, every annotated argument with a value is mirrored into its
//!   `Mcp-Param-{Name}` header (N/A when no call carried one);
//! - `http.modern-no-session` (SHOULD) — once the server answered `server/discover`,
//!   no GET stream, DELETE, `Mcp-Session-Id` or `Last-Event-ID`.
//!
//! The header rules are read by `backchannel_mock::wire::headers`, which the mock
//! also enforces (400, `-32020`): one reading of the spec, on the bytes as sent.
//!
//! A POST carrying a new `initialize` starts a new session and carries neither: a
//! client told 404 for its session "MUST start a new session by sending a new
//! InitializeRequest without a session ID attached" (2025-11-25
//! `basic/transports.mdx:213-215`), and a client re-initializing for another reason is
//! judged by the session checks, not here.

use backchannel_mock::trace::{Direction, HttpExchange, HttpStream, Trace};
use backchannel_mock::wire::headers::{self, HeaderRule};
use backchannel_protocol::Transport;
use serde_json::Value;

use super::session::Session;
use super::{Emitter, Evidence, truncate};
use crate::scenario::model::Severity::{Must, Should};

pub(crate) fn checks(out: &mut Emitter, trace: &Trace, session: &Session, tools: &[Value]) {
    let Some(start) = trace.start() else { return };
    let transport = start.transport;
    if !transport.is_http() {
        return;
    }
    if start.revision.is_some_and(|r| !r.is_legacy()) {
        return modern(out, trace, tools);
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
    // A request without a session id that reached the server before the client's
    // `notifications/initialized` may have left the client before the initialize
    // response reached it (a client opening its GET stream alongside `initialize`, as
    // the AI SDK does): only requests *subsequent* to the initialization must carry it,
    // and the order two connections arrive in is the machine's, not the client's. The
    // `initialized` notification is the first message the client can only send after it
    // had the response: from it on, every request is judged.
    let initialized = trace
        .frames()
        .filter(|f| f.dir == Direction::ClientToServer)
        .find(|f| {
            f.json.as_ref().and_then(|j| j.get("method")).and_then(|m| m.as_str()) == Some("notifications/initialized")
        })
        .and_then(|f| f.http.map(|h| h.exchange));
    let early = |h: &HttpExchange| h.session.is_none() && initialized.is_some_and(|i| h.exchange < i);
    let later = exchanges.iter().filter(|h| {
        h.exchange > issuer.exchange
            && (transport == Transport::Http || h.method == "POST")
            && !initializes.contains(&h.exchange)
            && !early(h)
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

/// The 2026-07-28 checks: what each POSTed request carries, and no legacy mechanics.
fn modern(out: &mut Emitter, trace: &Trace, tools: &[Value]) {
    let exchanges: std::collections::BTreeMap<u64, &HttpExchange> =
        trace.http_exchanges().map(|h| (h.exchange, h)).collect();
    // Each POSTed request with its exchange.
    let requests: Vec<(&HttpExchange, &str, Option<&Value>)> = trace
        .frames()
        .filter(|f| f.dir == Direction::ClientToServer)
        .filter_map(|f| {
            let via = f.http.filter(|h| h.stream == HttpStream::PostBody)?;
            let json = f.json.as_ref()?;
            json.get("id")?;
            let method = json.get("method")?.as_str()?;
            Some((*exchanges.get(&via.exchange)?, method, json.get("params")))
        })
        .collect();
    let mut standard = Vec::new();
    let mut params = Vec::new();
    let mut mirrored = 0usize;
    for (h, method, p) in &requests {
        let accept = h.accept.as_deref().unwrap_or_default();
        if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
            standard.push(format!("POST #{} ({method}): Accept `{accept}` does not list both", h.exchange));
        }
        for problem in headers::problems(h.protocol_version.as_deref(), &h.mcp, method, *p, tools) {
            let line = format!("POST #{} ({method}): {}: {}", h.exchange, problem.header, problem.detail);
            match problem.rule {
                HeaderRule::Param => params.push(line),
                _ => standard.push(line),
            }
        }
        mirrored += headers::mirrored(method, *p, tools).len();
    }
    let first = |v: &[String]| {
        let more = if v.len() > 1 { format!(" (and {} more)", v.len() - 1) } else { String::new() };
        format!("{}{more}", v[0])
    };
    if requests.is_empty() {
        out.skip("http.request-headers", "the client POSTed no request");
    } else if standard.is_empty() {
        let evidence = format!(
            "{} requests, each with Accept, MCP-Protocol-Version, Mcp-Method and Mcp-Name where required",
            requests.len()
        );
        out.pass("http.request-headers", Must, "http/request-headers", Evidence::new(evidence));
    } else {
        out.violated("http.request-headers", Must, "http/request-headers", Evidence::new(first(&standard)));
    }
    let annotated = tools.iter().any(|t| !headers::annotations(t).is_empty());
    if annotated {
        if !params.is_empty() {
            out.violated("http.param-headers", Must, "http/param-headers", Evidence::new(first(&params)));
        } else if mirrored == 0 {
            out.not_applicable(
                "http.param-headers",
                "N/A: no tools/call carried an argument a tool marks with x-mcp-header",
            );
        } else {
            let evidence = format!("{mirrored} annotated argument(s) mirrored into Mcp-Param-* headers");
            out.pass("http.param-headers", Must, "http/param-headers", Evidence::new(evidence));
        }
    }
    // After the server said it speaks 2026-07-28 (its discover answer), nothing of the
    // legacy binding.
    let discovered = trace
        .frames()
        .filter(|f| f.dir == Direction::ServerToClient)
        .filter(|f| f.json.as_ref().and_then(|j| j.get("result")).and_then(|r| r.get("supportedVersions")).is_some())
        .find_map(|f| f.http.map(|h| h.exchange));
    let Some(after) = discovered else { return };
    let legacy = exchanges.values().filter(|h| h.exchange > after).find_map(|h| {
        let what = match (h.method.as_str(), &h.session, &h.last_event_id) {
            ("GET", _, Some(id)) => format!("a resumption (Last-Event-ID `{}`)", truncate(id, 24)),
            ("GET", ..) => "a standalone stream".to_owned(),
            ("DELETE", ..) => "a session end".to_owned(),
            (_, Some(s), _) => format!("Mcp-Session-Id `{}`", truncate(s, 12)),
            (_, _, Some(_)) => "Last-Event-ID (a resumption)".to_owned(),
            _ => return None,
        };
        let verb = if matches!(h.method.as_str(), "GET" | "DELETE") { "asked for" } else { "carried" };
        Some(format!("{} #{} {verb} {what}, answered {}", h.method, h.exchange, h.status))
    });
    match legacy {
        Some(e) => out.violated("http.modern-no-session", Should, "http/modern-no-session", Evidence::new(e)),
        None => out.pass(
            "http.modern-no-session",
            Should,
            "http/modern-no-session",
            Evidence::new("no GET, DELETE, session id or Last-Event-ID after server/discover"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use backchannel_protocol::{Revision, Transport};
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
    fn a_get_opened_alongside_initialize_is_not_yet_subsequent() {
        // The AI SDK opens its GET stream while `initialize` is in flight: whether it
        // reaches the server before or after the session is issued is the machine's
        // doing. Before the client's `initialized`, a session-less request is not judged;
        // from it on, it is.
        let v = "2025-11-25";
        let init =
            json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":v,"capabilities":{}}});
        let case = |get_first: bool| {
            let c = Case::new(&one_request("ping"), Transport::Http, Revision::V2025_11_25)
                .post(init.clone(), None, None, 200, Some("s1"))
                .s2c(json!({"jsonrpc":"2.0","id":0,"result":{"protocolVersion":v}}), None);
            let c = if get_first { c.exchange("GET", None) } else { c };
            let c =
                c.post(json!({"jsonrpc":"2.0","method":"notifications/initialized"}), Some("s1"), Some(v), 202, None);
            let c = if get_first { c } else { c.exchange("GET", None) };
            c.end().eval()
        };
        assert_eq!(outcome(&case(true), "http.session"), Outcome::Pass);
        assert_eq!(outcome(&case(false), "http.session"), Outcome::Violated);
    }

    /// A 2026-07-28 HTTP session: discover, then the trigger call with these headers.
    fn modern(yaml: &str, call_args: serde_json::Value, call_headers: &[(&str, &str)]) -> Vec<crate::check::Finding> {
        let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"}});
        let discover = json!({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta": meta}});
        let discovered =
            json!({"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"],"capabilities":{}}});
        let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{
            "name":"backchannel_run_scenario","arguments":call_args,"_meta":meta}});
        let done = json!({"jsonrpc":"2.0","id":2,"result":{"resultType":"complete","content":[]}});
        Case::new(yaml, Transport::Http, Revision::V2026_07_28)
            .modern_http("POST", discover, &[("mcp-method", "server/discover")], Some(discovered))
            .modern_http("POST", call, call_headers, Some(done))
            .end()
            .eval()
    }

    const PARAMS: &str = "title: t\nrevisions: [2026-07-28]\ntransports: [http]\ntrigger: tool_call\nserver:\n  trigger_input_schema:\n    type: object\n    properties:\n      greeting: {type: string, x-mcp-header: Greeting}\nsteps: []\n";

    #[test]
    fn modern_requests_carry_their_headers() {
        let name = ("mcp-name", "backchannel_run_scenario");
        let good = [("mcp-method", "tools/call"), name];
        let f = modern(PARAMS, json!({}), &good);
        assert_eq!(outcome(&f, "http.request-headers"), Outcome::Pass);
        assert_eq!(outcome(&f, "http.modern-no-session"), Outcome::Pass);
        assert_eq!(outcome(&f, "http.param-headers"), Outcome::NotApplicable);
        assert!(f.iter().all(|f| f.check != "http.session" && f.check != "http.protocol-version"));
        let f = modern(PARAMS, json!({}), &[name]);
        assert_eq!(outcome(&f, "http.request-headers"), Outcome::Violated);
        let f = modern(PARAMS, json!({}), &[("mcp-method", "tools/call"), ("mcp-name", "other")]);
        assert_eq!(outcome(&f, "http.request-headers"), Outcome::Violated);
        // Annotated arguments: mirrored and Base64-encoded where needed, or not.
        let with = |v: &'static str| [("mcp-method", "tools/call"), name, ("mcp-param-greeting", v)];
        let f = modern(PARAMS, json!({"greeting": "Hello, 世界"}), &with("=?base64?SGVsbG8sIOS4lueVjA==?="));
        assert_eq!(outcome(&f, "http.param-headers"), Outcome::Pass);
        let f = modern(PARAMS, json!({"greeting": "Hello, 世界"}), &with("Hello, 世界"));
        assert_eq!(outcome(&f, "http.param-headers"), Outcome::Violated);
        let f = modern(PARAMS, json!({"greeting": "Hello, 世界"}), &good);
        assert_eq!(outcome(&f, "http.param-headers"), Outcome::Violated);
    }

    #[test]
    fn a_modern_client_uses_no_legacy_mechanics() {
        let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"});
        let f = Case::new(PARAMS, Transport::Http, Revision::V2026_07_28)
            .modern_http(
                "POST",
                json!({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta": meta}}),
                &[("mcp-method", "server/discover")],
                Some(json!({"jsonrpc":"2.0","id":1,"result":{"supportedVersions":["2026-07-28"]}})),
            )
            .modern_http("GET", json!(null), &[], None)
            .end()
            .eval();
        assert_eq!(outcome(&f, "http.modern-no-session"), Outcome::Violated);
    }

    #[test]
    fn a_refused_initialize_asking_for_2026_is_judged_not_na() {
        // Over HTTP the mock refuses a legacy initialize (400): it is never delivered,
        // yet it asked for 2026-07-28, so the client is judged — as over stdio.
        let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2026-07-28","capabilities":{}}});
        let f = Case::new(PARAMS, Transport::Http, Revision::V2026_07_28)
            .claims(&[])
            .post(init, None, None, 400, None)
            .end()
            .eval();
        assert_eq!(outcome(&f, "session.modern"), Outcome::Violated);
        // It never probed: the modern header rules are not its to break.
        assert!(f.iter().all(|f| f.check != "http.request-headers"));
    }

    #[test]
    fn stdio_has_no_http_checks() {
        let f = Case::new(&one_request("ping"), Transport::Stdio, Revision::V2025_11_25).handshake(json!({})).eval();
        assert!(f.iter().all(|f| !f.check.starts_with("http.")));
    }
}
