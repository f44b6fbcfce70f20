//! The legacy HTTP+SSE transport (2024-11-05 `basic/transports.mdx:46-86`): the
//! client GETs `/sse` and receives an `endpoint` event naming the URI to POST its
//! messages to; every server message — replies and server-initiated requests —
//! is an SSE `message` event on that stream. POSTed messages get 202.
//!
//! A POST to `/sse` gets 405, so a client that first tries Streamable HTTP on the
//! URL it was given falls back to this transport the way the spec's
//! backwards-compatibility section describes.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::ClientExit;
use super::http_common::{
    Server, end_on_client_exit, foreign_origin, issue_session, new_exchange, record, reject, sse_event,
};
use crate::canary::Canary;
use crate::engine::{Engine, Inbound, Origin, Outgoing, Sink, Tap, tap, with_tap};
use crate::script::Script;
use crate::trace::{Direction, EndReason, EventKind, HttpRef, HttpStream, TraceWriter};
use backchannel_protocol::Transport;

/// The SSE endpoint's path (the URL a client is given).
pub const PATH: &str = "/sse";
/// The POST endpoint's path.
pub const MESSAGES_PATH: &str = "/messages";

#[derive(Default)]
struct SessionState {
    session: Option<String>,
    stream: Option<(u64, mpsc::UnboundedSender<Bytes>)>,
    ended: bool,
}

struct Shared {
    tap: Tap,
    inbound: mpsc::Sender<Inbound>,
    bound: SocketAddr,
    next_exchange: AtomicU64,
    state: Mutex<SessionState>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn facts(&self, method: &str, uri: &Uri, headers: &HeaderMap, at: Instant) -> crate::trace::HttpExchange {
        new_exchange(&self.tap, &self.next_exchange, method, uri, headers, at)
    }
}

struct SseSink(Arc<Shared>);

impl Sink for SseSink {
    async fn send(&mut self, msg: Outgoing) -> io::Result<()> {
        let state = self.0.lock();
        // One stream carries everything; routes do not matter here.
        let Some((exchange, tx)) = &state.stream else {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "no SSE stream is open"));
        };
        with_tap(&self.0.tap, |t| {
            let via = Some(HttpRef { exchange: *exchange, stream: HttpStream::LegacySse });
            t.frame_via(Direction::ServerToClient, &msg.bytes, msg.step.as_deref(), std::time::Instant::now(), via)
        });
        tx.send(sse_event("message", &msg.bytes))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the SSE stream closed"))
    }
}

/// Serve one legacy HTTP+SSE session on `listener` until it ends (see [`ClientExit`]
/// for `exit`).
pub async fn serve(
    script: Script,
    canary: &Canary,
    trace: TraceWriter,
    listener: TcpListener,
    max_body: usize,
    exit: ClientExit,
) -> io::Result<EndReason> {
    let bound = listener.local_addr()?;
    let tap = tap(trace);
    let (tx, rx) = mpsc::channel(64);
    let shared = Arc::new(Shared {
        tap: tap.clone(),
        inbound: tx,
        bound,
        next_exchange: AtomicU64::new(1),
        state: Mutex::new(SessionState::default()),
    });
    let router = Router::new()
        .route(PATH, get(open_stream).post(streamable_probe))
        .route(MESSAGES_PATH, post(post_message))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(shared.clone());
    let server = Server::spawn(listener, router);
    let engine = Engine::new(script, canary, Transport::Sse, tap, SseSink(shared.clone()))?;
    let streams = shared.clone();
    let watcher = end_on_client_exit(exit, server.live(), shared.inbound.clone(), move || streams.lock().stream = None);
    let reason = engine.run(rx).await;
    watcher.abort();
    {
        let mut state = shared.lock();
        state.ended = true;
        state.stream = None;
    }
    server.stop().await;
    Ok(reason)
}

async fn open_stream(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let at = Instant::now();
    let facts = shared.facts("GET", &uri, &headers, at);
    if let Some(refused) = foreign_origin(&shared.tap, &shared.bound, &facts) {
        return refused;
    }
    // A GET that cannot take an event stream (an OAuth discovery probe asking for
    // JSON, as mcp-use sends before it connects) is not the client opening its
    // session: it is refused, and the one session stays for the GET that is.
    if !accepts_event_stream(facts.accept.as_deref()) {
        return reject(&shared.tap, facts, StatusCode::NOT_ACCEPTABLE, "this endpoint serves text/event-stream only");
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let session = {
        let mut state = shared.lock();
        let Some(session) = issue_session(&mut state.session) else {
            drop(state);
            return reject(
                &shared.tap,
                facts,
                StatusCode::CONFLICT,
                "this mock serves one session; its stream is already open",
            );
        };
        state.stream = Some((facts.exchange, tx.clone()));
        session
    };
    let endpoint = format!("{MESSAGES_PATH}?sessionId={session}");
    let mut facts = facts;
    facts.issued_session = Some(session);
    record(&shared.tap, facts, StatusCode::OK, Some("SSE stream"));
    with_tap(&shared.tap, |t| t.event(EventKind::Endpoint { uri: endpoint.clone() }));
    let _ = tx.send(sse_event("endpoint", endpoint.as_bytes()));
    // When the client drops the stream the session is over: the guard, owned by the
    // body stream, tells the engine.
    let guard = ClosedOnDrop(shared.inbound.clone());
    let stream = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), (rx, guard)))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A Streamable HTTP client's first POST: a plain 405 (no JSON-RPC body, which a
/// client could mistake for an answer to its `initialize`), so it falls back.
async fn streamable_probe(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let facts = shared.facts("POST", &uri, &headers, Instant::now());
    record(
        &shared.tap,
        facts,
        StatusCode::METHOD_NOT_ALLOWED,
        Some("legacy HTTP+SSE endpoint: GET it for the event stream"),
    );
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response()
}

/// Whether an `Accept` header admits `text/event-stream` (no header admits anything).
fn accepts_event_stream(accept: Option<&str>) -> bool {
    accept.is_none_or(|a| {
        a.split(',').any(|range| {
            let media = range.split(';').next().unwrap_or("").trim();
            ["text/event-stream", "text/*", "*/*"].iter().any(|m| media.eq_ignore_ascii_case(m))
        })
    })
}

/// Tells the engine the client left when the event stream is dropped.
struct ClosedOnDrop(mpsc::Sender<Inbound>);

impl Drop for ClosedOnDrop {
    fn drop(&mut self) {
        let _ = self.0.try_send(Inbound::Closed);
    }
}

#[derive(serde::Deserialize)]
struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

async fn post_message(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    Query(q): Query<SessionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let mut facts = shared.facts("POST", &uri, &headers, at);
    facts.session = q.session_id.clone();
    if let Some(refused) = foreign_origin(&shared.tap, &shared.bound, &facts) {
        return refused;
    }
    let here = Some(HttpRef { exchange: facts.exchange, stream: HttpStream::PostBody });
    with_tap(&shared.tap, |t| t.frame_via(Direction::ClientToServer, &body, None, at.into_std(), here));
    let verdict = {
        let state = shared.lock();
        match (&q.session_id, &state.session) {
            (None, _) => Err((StatusCode::BAD_REQUEST, "missing sessionId")),
            (Some(got), Some(s)) if got == s && !state.ended => Ok(()),
            _ => Err((StatusCode::NOT_FOUND, "unknown or ended session")),
        }
    };
    if let Err((status, note)) = verdict {
        return reject(&shared.tap, facts, status, note);
    }
    record(&shared.tap, facts, StatusCode::ACCEPTED, None);
    let _ = shared.inbound.send(Inbound::Frame { bytes: body.to_vec(), at, origin: Origin::default() }).await;
    (StatusCode::ACCEPTED, "Accepted").into_response()
}

#[cfg(test)]
mod tests {
    use super::accepts_event_stream;

    #[test]
    fn only_a_get_that_takes_an_event_stream_opens_the_session() {
        for yes in [
            None,
            Some("text/event-stream"),
            Some("*/*"),
            Some("application/json, text/event-stream;q=0.9"),
            Some("TEXT/*"),
        ] {
            assert!(accepts_event_stream(yes), "{yes:?}");
        }
        for no in [Some("application/json"), Some("text/html, application/xml")] {
            assert!(!accepts_event_stream(no), "{no:?}");
        }
    }
}
