//! Streamable HTTP (2025-03-26+): one MCP endpoint (`/mcp`) with POST, GET and
//! DELETE, sessions, JSON or SSE responses to POSTed requests, a standalone GET
//! SSE stream, and every exchange recorded (method, status, the session and
//! protocol-version headers seen, which stream each server message went out on).
//!
//! Rules (2025-11-25 `basic/transports.mdx`): `MCP-Session-Id` is issued on the
//! `InitializeResult` response and required afterwards (400 without, 404 for an
//! unknown or ended session); a POSTed response or notification gets 202 with no
//! body; a POSTed request gets `application/json` or `text/event-stream`; a foreign
//! `Origin` gets 403. Server-initiated messages go on the GET stream, or — for the
//! script's [`Delivery::RequestStream`](crate::script::Delivery) — on the SSE
//! response of the in-flight trigger `tools/call`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::ClientExit;
use super::http_common::{
    Live, SESSION_HEADER, Server, end_on_client_exit, foreign_origin, issue_session, new_exchange, origin_allowed,
    record, reject,
};
use super::streams::{ABORT, Conn, NoResume, Sent, StreamNo, Streams};
use crate::canary::Canary;
use crate::engine::{Close, Engine, Inbound, Origin, Outgoing, Route, Sink, Tap, tap, with_tap};
use crate::script::Script;
use crate::trace::{Direction, EndReason, EventKind, HttpExchange, HttpRef, HttpStream, TraceWriter};
use crate::wire::{Envelope, ErrorCode, classify, headers};
use backchannel_protocol::Revision;
use backchannel_protocol::Transport;

/// How the mock answers a POSTed request (other than the trigger call, which is always SSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// `application/json`.
    #[default]
    Json,
    /// `text/event-stream`.
    Sse,
}

/// How many sessions one mock serves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Sessions {
    /// One: a second `initialize` is refused (400), and the mock stops when the
    /// session ends.
    #[default]
    One,
    /// As many as clients open — a gateway may open a probing session before the real
    /// one, or a session per downstream client. Each `initialize` opens a session of
    /// its own, with its own engine following the script, traced to the next free
    /// [`numbered`](crate::trace::numbered) sibling of this path
    /// ([`TraceWriter::create_next`]); the first writes the trace given to [`serve`].
    /// The mock serves until its client has exited ([`ClientExit`]) and every session
    /// has ended. (2026-07-28 has no sessions: there this is [`Sessions::One`].)
    Many(PathBuf),
}

/// Options of the Streamable HTTP mock.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Largest POST body accepted (bytes).
    pub max_body: usize,
    /// How ordinary POSTed requests are answered.
    pub response_mode: ResponseMode,
    /// One session, or one per `initialize`.
    pub sessions: Sessions,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self { max_body: super::DEFAULT_MAX_FRAME, response_mode: ResponseMode::Json, sessions: Sessions::One }
    }
}

/// The MCP endpoint's path.
pub const PATH: &str = "/mcp";

enum Pending {
    /// A JSON response waits for the replies to these request ids.
    Json { waiting: Vec<Value>, replies: Vec<Vec<u8>>, done: Option<oneshot::Sender<Vec<Vec<u8>>>> },
    /// An SSE response stream ends once these ids are answered.
    Sse { waiting: Vec<Value>, stream: StreamNo },
}

#[derive(Default)]
struct SessionState {
    session: Option<String>,
    /// An `initialize` was routed here ([`Sessions::Many`]): the next opens another session.
    claimed: bool,
    ended: bool,
    negotiated: Option<Revision>,
    /// The standalone stream (its connection may be closed, to be resumed).
    get_stream: Option<StreamNo>,
    /// Every SSE stream of the session.
    streams: Streams,
    queued: Vec<Outgoing>,
    exchanges: HashMap<u64, Pending>,
}

struct Shared {
    tap: Tap,
    inbound: mpsc::Sender<Inbound>,
    bound: SocketAddr,
    options: HttpOptions,
    /// The script: its trigger request is answered with SSE, its era picks the binding
    /// (2026-07-28: sessionless, request headers checked against its tools).
    script: Script,
    /// Exchange numbers are unique across the sessions of one mock.
    next_exchange: Arc<AtomicU64>,
    state: Mutex<SessionState>,
    timeout: Duration,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new exchange of this session (numbered across the mock's sessions).
    fn new_exchange(&self, method: &str, uri: &Uri, headers: &HeaderMap, at: Instant) -> HttpExchange {
        new_exchange(&self.tap, &self.next_exchange, method, uri, headers, at)
    }

    fn record_s2c(&self, bytes: &[u8], step: Option<&str>, exchange: u64, stream: HttpStream) {
        with_tap(&self.tap, |t| {
            t.frame_via(
                Direction::ServerToClient,
                bytes,
                step,
                std::time::Instant::now(),
                Some(HttpRef { exchange, stream }),
            )
        });
    }

    /// Put `msg` on SSE stream `no` and record it, as one step under the tap's lock:
    /// the client can read it as soon as it is sent, and its answer — recorded by
    /// another task — must never land in the trace before the request it answers
    /// (on a busy machine that happened, and the answer looked like one to an id
    /// never sent). A message held for a resumption is recorded as held; one for a
    /// connection that is gone, not at all.
    fn send_on(&self, streams: &mut Streams, no: StreamNo, msg: &Outgoing) -> Sent {
        let mut sent = Sent::Gone;
        with_tap(&self.tap, |t| {
            sent = streams.send(no, &msg.bytes, msg.step.as_deref());
            match &sent {
                Sent::Written(exchange, stream) => t.frame_via(
                    Direction::ServerToClient,
                    &msg.bytes,
                    msg.step.as_deref(),
                    std::time::Instant::now(),
                    Some(HttpRef { exchange: *exchange, stream: *stream }),
                ),
                Sent::Held(id) => {
                    t.event(EventKind::Held { step: msg.step.clone(), stream: format!("s{no}"), event_id: id.clone() })
                }
                Sent::Gone => Ok(()),
            }
        });
        sent
    }

    /// Open an SSE response stream on POST `exchange`.
    fn open_post_stream(&self, exchange: u64, tx: mpsc::UnboundedSender<Bytes>) -> StreamNo {
        self.lock().streams.open(Conn { exchange, http: HttpStream::PostSse, tx })
    }

    /// Hand a client frame to the engine, registering what its replies complete —
    /// unless the session has ended (checked under the lock that ending takes, so no
    /// request can wait for an engine that is gone); `false` then.
    async fn deliver(&self, exchange: u64, pending: Option<Pending>, frame: Inbound) -> bool {
        {
            let mut state = self.lock();
            if state.ended {
                return false;
            }
            if let Some(p) = pending {
                state.exchanges.insert(exchange, p);
            }
        }
        if self.inbound.send(frame).await.is_err() {
            self.lock().exchanges.remove(&exchange);
            return false;
        }
        true
    }

    /// Deliver on the GET stream (or hold it there for a resumption); `false` when
    /// none is open (or it closed, not to be resumed).
    fn to_get_stream(&self, state: &mut SessionState, msg: &Outgoing) -> bool {
        let Some(no) = state.get_stream else { return false };
        if self.send_on(&mut state.streams, no, msg) == Sent::Gone {
            state.get_stream = None;
            return false;
        }
        true
    }
}

struct HttpSink(Arc<Shared>);

impl Sink for HttpSink {
    async fn send(&mut self, msg: Outgoing) -> io::Result<()> {
        let shared = &self.0;
        let mut guard = shared.lock();
        let state = &mut *guard;
        if let Some(v) = msg.negotiated {
            state.negotiated = Some(v);
        }
        match msg.route {
            Route::Reply(Origin { exchange: Some(x) }) => match state.exchanges.get_mut(&x) {
                Some(Pending::Json { waiting, replies, done }) => {
                    waiting.retain(|id| !msg.answers.contains(id));
                    replies.push(msg.bytes.clone());
                    shared.record_s2c(&msg.bytes, msg.step.as_deref(), x, HttpStream::PostJson);
                    if waiting.is_empty() {
                        if let Some(done) = done.take() {
                            let _ = done.send(std::mem::take(replies));
                        }
                        state.exchanges.remove(&x);
                    }
                }
                Some(Pending::Sse { waiting, stream }) => {
                    waiting.retain(|id| !msg.answers.contains(id));
                    let (no, done) = (*stream, waiting.is_empty());
                    shared.send_on(&mut state.streams, no, &msg);
                    if done {
                        state.streams.end(no);
                        state.exchanges.remove(&x);
                    }
                }
                None => {
                    let why = format!("the client closed POST #{x} before its reply");
                    with_tap(&shared.tap, |t| t.event(EventKind::Undelivered { steps: vec![msg.step.clone()], why }));
                }
            },
            Route::InRequest(Origin { exchange: Some(x) }) => match state.exchanges.get(&x) {
                Some(Pending::Sse { stream, .. }) => {
                    let no = *stream;
                    shared.send_on(&mut state.streams, no, &msg);
                }
                _ => {
                    if !shared.to_get_stream(state, &msg) {
                        state.queued.push(msg);
                    }
                }
            },
            Route::Standalone
            | Route::Reply(Origin { exchange: None })
            | Route::InRequest(Origin { exchange: None }) => {
                if !shared.to_get_stream(state, &msg) {
                    let step = msg.step.clone();
                    state.queued.push(msg);
                    drop(guard);
                    with_tap(&shared.tap, |t| t.event(EventKind::QueuedForGetStream { step }));
                }
            }
        }
        Ok(())
    }
    fn break_stream(&mut self, origin: Origin, event: EventKind) -> bool {
        let Some(x) = origin.exchange else { return false };
        let mut state = self.0.lock();
        let Some(Pending::Sse { stream, .. }) = state.exchanges.get(&x) else { return false };
        let no = *stream;
        if !state.streams.is_live(no) {
            return false;
        }
        let mut broken = false;
        with_tap(&self.0.tap, |t| {
            t.event(event)?;
            // The abort marker makes the body fail: hyper drops the connection
            // mid-stream, with no terminating chunk, as a network failure would.
            broken = state.streams.abort(no);
            Ok(())
        });
        state.exchanges.remove(&x);
        broken
    }

    fn close_stream(&mut self, route: Route, close: Close) -> bool {
        let Close { step, request, retry_ms, abort } = close;
        let mut state = self.0.lock();
        let no = match route {
            Route::InRequest(Origin { exchange: Some(x) }) => match state.exchanges.get(&x) {
                Some(Pending::Sse { stream, .. }) => *stream,
                _ => return false,
            },
            _ => match state.get_stream {
                Some(no) => no,
                None => return false,
            },
        };
        let mut closed = false;
        with_tap(&self.0.tap, |t| {
            // Recorded before the connection ends, so the client's reconnect follows it.
            let Some((exchange, last_event_id)) = state.streams.close(no, retry_ms, abort) else { return Ok(()) };
            closed = true;
            t.event(EventKind::StreamClosed {
                step,
                stream: format!("s{no}"),
                exchange,
                last_event_id,
                retry_ms,
                abort,
                request,
            })
        });
        closed
    }
}

/// Serve Streamable HTTP on `listener`: one session until it ends, or — with
/// [`Sessions::Many`] — every session a client opens until the client has exited
/// (see [`ClientExit`] for `exit`). Returns how the first session ended.
pub async fn serve(
    script: Script,
    canary: &Canary,
    trace: TraceWriter,
    listener: TcpListener,
    options: HttpOptions,
    exit: ClientExit,
) -> io::Result<EndReason> {
    let bound = listener.local_addr()?;
    // 2026-07-28 is sessionless: every POST belongs to the one engine.
    let many = match &options.sessions {
        Sessions::Many(path) if !script.is_modern() => Some(path.clone()),
        _ => None,
    };
    let (opened_tx, mut opened) = mpsc::unbounded_channel();
    let next_exchange = Arc::new(AtomicU64::new(1));
    let (first, first_engine, first_rx) = open_session(&script, canary, trace, bound, &options, &next_exchange)?;
    let front = Arc::new(Front {
        sessions: Mutex::new(vec![first.clone()]),
        many: many.map(|traces| More {
            traces,
            script: script.clone(),
            canary: canary.clone(),
            bound,
            options: options.clone(),
            next_exchange,
            opened: opened_tx,
            closing: AtomicBool::new(false),
        }),
    });
    let router = Router::new()
        .route(PATH, post(post_handler).get(get_handler).delete(delete_handler).fallback(not_found))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(options.max_body))
        .with_state(front.clone());
    let server = Server::spawn(listener, router);
    let live = server.live();
    // The sessions run here, so aborting this future ends them all.
    let mut running = tokio::task::JoinSet::new();
    let first_id = running.spawn(run_session(first, first_engine, first_rx, exit.clone(), live.clone())).id();
    let mut first_reason = None;
    let exited = exit.clone().exited();
    tokio::pin!(exited);
    let mut closing = front.many.is_none();
    loop {
        tokio::select! {
            Some(session) = opened.recv() => {
                let (shared, engine, rx) = session;
                running.spawn(run_session(shared, engine, rx, exit.clone(), live.clone()));
            }
            Some(done) = running.join_next_with_id() => {
                if let Ok((id, reason)) = done && id == first_id {
                    first_reason = Some(reason);
                }
                if closing && running.is_empty() {
                    break;
                }
            }
            () = &mut exited, if !closing => {
                closing = true;
                if let Some(more) = &front.many {
                    more.closing.store(true, Ordering::SeqCst);
                }
                if running.is_empty() {
                    break;
                }
            }
        }
    }
    server.stop().await;
    Ok(first_reason.unwrap_or(EndReason::ClientClosed))
}

type Opened = (Arc<Shared>, Engine<HttpSink>, mpsc::Receiver<Inbound>);

/// A session's state and its engine, not yet running.
fn open_session(
    script: &Script,
    canary: &Canary,
    trace: TraceWriter,
    bound: SocketAddr,
    options: &HttpOptions,
    next_exchange: &Arc<AtomicU64>,
) -> io::Result<Opened> {
    let tap = tap(trace);
    let (tx, rx) = mpsc::channel(64);
    let state = SessionState { streams: Streams::new(script.is_resumable()), ..SessionState::default() };
    let shared = Arc::new(Shared {
        tap: tap.clone(),
        inbound: tx,
        bound,
        script: script.clone(),
        next_exchange: next_exchange.clone(),
        state: Mutex::new(state),
        timeout: script.timeout,
        options: options.clone(),
    });
    let engine = Engine::new(script.clone(), canary, Transport::Http, tap, HttpSink(shared.clone()))?;
    Ok((shared, engine, rx))
}

/// Run one session's engine to its end, then end every stream it holds open.
async fn run_session(
    shared: Arc<Shared>,
    engine: Engine<HttpSink>,
    rx: mpsc::Receiver<Inbound>,
    exit: ClientExit,
    live: Arc<Live>,
) -> EndReason {
    let streams = shared.clone();
    let watcher = end_on_client_exit(exit, live, shared.inbound.clone(), move || {
        let mut state = streams.lock();
        state.get_stream = None;
        state.exchanges.clear();
        state.streams.close_all();
    });
    let reason = engine.run(rx).await;
    watcher.abort();
    // End every stream: the client sees the session close.
    let mut state = shared.lock();
    state.ended = true;
    state.get_stream = None;
    state.exchanges.clear();
    state.streams.close_all();
    if !state.queued.is_empty() {
        let steps: Vec<Option<String>> = state.queued.iter().map(|m| m.step.clone()).collect();
        let why = "no GET stream was open".to_owned();
        with_tap(&shared.tap, |t| t.event(EventKind::Undelivered { steps, why }));
    }
    let held = state.streams.held();
    if !held.is_empty() {
        let why = HELD_NEVER_RESUMED.to_owned();
        with_tap(&shared.tap, |t| t.event(EventKind::Undelivered { steps: held, why }));
    }
    reason
}

/// Why a held message never reached the client (the checks quote it).
pub const HELD_NEVER_RESUMED: &str =
    "it was held for a closed stream the client never resumed (no GET with that stream's Last-Event-ID)";

/// The router's state: the sessions, and how to open another.
struct Front {
    /// In the order they were opened; the last one records what belongs to none.
    sessions: Mutex<Vec<Arc<Shared>>>,
    /// Set with [`Sessions::Many`].
    many: Option<More>,
}

/// What opening another session takes ([`Sessions::Many`]).
struct More {
    traces: PathBuf,
    script: Script,
    canary: Canary,
    bound: SocketAddr,
    options: HttpOptions,
    next_exchange: Arc<AtomicU64>,
    /// To [`serve`], which runs the session.
    opened: mpsc::UnboundedSender<Opened>,
    /// The client has exited: no session opens any more.
    closing: AtomicBool,
}

impl Front {
    fn all(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Shared>>> {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session a request names with its `MCP-Session-Id`; else the newest, which
    /// then refuses it (400 without the header, 404 for an unknown one) on its record.
    fn by_header(&self, headers: &HeaderMap) -> Arc<Shared> {
        let sessions = self.all();
        let named = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok());
        let found = named.and_then(|n| sessions.iter().find(|s| s.lock().session.as_deref() == Some(n)));
        found.cloned().unwrap_or_else(|| newest(&sessions))
    }

    /// The session a POST belongs to. With [`Sessions::Many`], an `initialize` from an
    /// allowed origin opens a new session once the first has had one; should that
    /// fail (its trace cannot be created), the newest refuses it as one session does.
    fn for_post(&self, headers: &HeaderMap, initialize: bool) -> Arc<Shared> {
        let Some(more) = &self.many else { return self.by_header(headers) };
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if !initialize || !origin_allowed(origin, &more.bound) || more.closing.load(Ordering::SeqCst) {
            return self.by_header(headers);
        }
        let mut sessions = self.all();
        // An unclaimed session that already ended (it timed out before any client
        // came: a gateway that took long to start) is not handed out: a new one opens.
        if let Some(unclaimed) = sessions.iter().find(|s| {
            let state = s.lock();
            !state.claimed && !state.ended
        }) {
            unclaimed.lock().claimed = true;
            return unclaimed.clone();
        }
        let opened = TraceWriter::create_next(&more.traces).and_then(|trace| {
            open_session(&more.script, &more.canary, trace, more.bound, &more.options, &more.next_exchange)
        });
        match opened {
            Ok((shared, engine, rx)) => {
                shared.lock().claimed = true;
                sessions.push(shared.clone());
                if more.opened.send((shared.clone(), engine, rx)).is_err() {
                    // The mock is stopping: the session will never run; refuse on its record.
                    shared.lock().ended = true;
                }
                shared
            }
            Err(_) => newest(&sessions),
        }
    }
}

/// The session opened last (there is always one: the first is never removed).
fn newest(sessions: &[Arc<Shared>]) -> Arc<Shared> {
    sessions.last().cloned().unwrap_or_else(|| unreachable!("the first session is never removed"))
}

/// The messages of a POST body: a batch's parts, or the one message.
fn messages_of(value: &Value) -> Vec<Envelope> {
    match classify(value).envelope {
        Envelope::Batch(parts) => parts.into_iter().map(|p| p.envelope).collect(),
        env => vec![env],
    }
}

fn sse_response(rx: mpsc::UnboundedReceiver<Bytes>, session: Option<&str>) -> Response {
    let stream = futures::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await? {
            b if b == ABORT => {
                // Pending once first, so the connection flushes what it was sent
                // (hyper aborts at the error without writing out its buffer).
                tokio::time::sleep(Duration::from_millis(10)).await;
                Some((Err(io::Error::other("response stream broken on purpose")), None))
            }
            b => Some((Ok(b), Some(rx))),
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(s) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        h.insert(SESSION_HEADER, s);
    }
    response
}

/// Check the session header; `Err` is the rejection (already recorded).
fn check_session(shared: &Shared, facts: &crate::trace::HttpExchange) -> Result<(), (StatusCode, &'static str)> {
    let state = shared.lock();
    match (&facts.session, &state.session) {
        (None, _) => Err((StatusCode::BAD_REQUEST, "missing MCP-Session-Id")),
        (Some(_), None) => Err((StatusCode::NOT_FOUND, "no session has been established")),
        (Some(got), Some(issued)) if got != issued => Err((StatusCode::NOT_FOUND, "unknown MCP-Session-Id")),
        _ if state.ended => Err((StatusCode::NOT_FOUND, "the session has ended")),
        _ => Ok(()),
    }
}

async fn post_handler(State(front): State<Arc<Front>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let at = Instant::now();
    // Parsed once: which session it belongs to depends on whether it initializes one.
    let parsed = serde_json::from_slice::<Value>(&body).ok();
    let messages = parsed.as_ref().map(messages_of).unwrap_or_default();
    let is_initialize = messages.iter().any(|m| m.method() == Some("initialize"));
    let shared = front.for_post(&headers, is_initialize);
    let mut facts = shared.new_exchange("POST", &uri, &headers, at);
    if let Some(refused) = foreign_origin(&shared.tap, &shared.bound, &facts) {
        return refused;
    }
    let exchange = facts.exchange;
    let here = Some(HttpRef { exchange, stream: HttpStream::PostBody });
    with_tap(&shared.tap, |t| t.frame_via(Direction::ClientToServer, &body, None, at.into_std(), here));
    let Some(value) = parsed else {
        facts.status = 400;
        facts.note = Some("body is not JSON".into());
        with_tap(&shared.tap, |t| t.http(facts));
        let error = serde_json::json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}});
        return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], error.to_string())
            .into_response();
    };
    if shared.script.is_modern() {
        return modern_post(&shared, exchange, at, facts, value, body).await;
    }
    let request_ids: Vec<Value> = messages
        .iter()
        .filter_map(|m| if let Envelope::Request { id, .. } = m { Some(id.clone()) } else { None })
        .collect();
    let triggers = messages.iter().any(|m| match m {
        Envelope::Request { method, params, .. } => shared.script.is_trigger(method, params.as_ref()),
        _ => false,
    });

    let mut issued = None;
    if is_initialize {
        issued = issue_session(&mut shared.lock().session);
        if issued.is_none() {
            return reject(
                &shared.tap,
                facts,
                StatusCode::BAD_REQUEST,
                "this mock serves one session; it is already initialized",
            );
        }
    } else {
        if let Err((status, note)) = check_session(&shared, &facts) {
            return reject(&shared.tap, facts, status, note);
        }
        if let Some(v) = &facts.protocol_version
            && !Revision::from_wire(v).is_some_and(Revision::is_legacy)
        {
            return reject(&shared.tap, facts, StatusCode::BAD_REQUEST, "unsupported MCP-Protocol-Version");
        }
    }

    let origin = Origin { exchange: Some(exchange) };
    let frame = Inbound::Frame { bytes: body.to_vec(), at, origin };
    if request_ids.is_empty() {
        if !shared.deliver(exchange, None, frame).await {
            return reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session has ended");
        }
        record(&shared.tap, facts, StatusCode::ACCEPTED, None);
        return StatusCode::ACCEPTED.into_response();
    }
    facts.issued_session.clone_from(&issued);
    let sse = triggers || shared.options.response_mode == ResponseMode::Sse;
    if sse {
        let (tx, rx) = mpsc::unbounded_channel();
        let stream = shared.open_post_stream(exchange, tx);
        if !shared.deliver(exchange, Some(Pending::Sse { waiting: request_ids, stream }), frame).await {
            return reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session has ended");
        }
        record(&shared.tap, facts, StatusCode::OK, Some("SSE response"));
        return sse_response(rx, issued.as_deref());
    }
    let (done_tx, done_rx) = oneshot::channel();
    let pending = Pending::Json { waiting: request_ids, replies: Vec::new(), done: Some(done_tx) };
    if !shared.deliver(exchange, Some(pending), frame).await {
        return reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session has ended");
    }
    match tokio::time::timeout(shared.timeout, done_rx).await {
        Ok(Ok(replies)) => {
            record(&shared.tap, facts, StatusCode::OK, Some("JSON response"));
            let body = if replies.len() == 1 {
                replies.into_iter().next().unwrap_or_default()
            } else {
                let parts: Vec<Value> = replies.iter().filter_map(|r| serde_json::from_slice(r).ok()).collect();
                serde_json::to_vec(&parts).unwrap_or_default()
            };
            let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response();
            if let Some(s) = issued.and_then(|s| HeaderValue::from_str(&s).ok()) {
                response.headers_mut().insert(SESSION_HEADER, s);
            }
            response
        }
        // The session ended meanwhile: what the spec answers a request to an ended session.
        Ok(Err(_)) => reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session ended before the reply"),
        Err(_) => reject(&shared.tap, facts, StatusCode::SERVICE_UNAVAILABLE, "no reply within the session's timeout"),
    }
}

/// A GET or a DELETE: the session it names, and its exchange once it passed what
/// both must — the Origin, a session binding (2026-07-28 has none: 405), the
/// session header. `Err`: refused, and recorded.
#[expect(clippy::result_large_err, reason = "the refusal is the handler's response, returned at once")]
fn in_session(
    front: &Front,
    method: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Arc<Shared>, HttpExchange), Response> {
    let shared = front.by_header(headers);
    let facts = shared.new_exchange(method, uri, headers, Instant::now());
    if let Some(refused) = foreign_origin(&shared.tap, &shared.bound, &facts) {
        return Err(refused);
    }
    if shared.script.is_modern() {
        return Err(reject(&shared.tap, facts, StatusCode::METHOD_NOT_ALLOWED, NO_GET_OR_DELETE));
    }
    if let Err((status, note)) = check_session(&shared, &facts) {
        return Err(reject(&shared.tap, facts, status, note));
    }
    Ok((shared, facts))
}

async fn get_handler(State(front): State<Arc<Front>>, uri: Uri, headers: HeaderMap) -> Response {
    let (shared, facts) = match in_session(&front, "GET", &uri, &headers) {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    let exchange = facts.exchange;
    let mut state = shared.lock();
    // A resumption: the stream Last-Event-ID names goes on here (2025-11-25
    // `basic/transports.mdx:176-186`); an id naming no stream of the session opens a
    // new standalone stream, as a GET without one does.
    if let Some(last) = facts.last_event_id.clone().filter(|_| state.streams.resumable()) {
        let (tx, rx) = mpsc::unbounded_channel();
        match state.streams.resume(&last, Conn { exchange, http: HttpStream::GetSse, tx }) {
            Ok(r) => {
                let note = format!("resumed stream s{} after {last}: {} replayed", r.stream, r.replayed.len());
                record(&shared.tap, facts, StatusCode::OK, Some(&note));
                with_tap(&shared.tap, |t| {
                    t.event(EventKind::Resumed {
                        stream: format!("s{}", r.stream),
                        exchange,
                        last_event_id: last.clone(),
                        replayed: r.replayed.len(),
                    })?;
                    for (bytes, step) in &r.replayed {
                        let here = Some(HttpRef { exchange, stream: HttpStream::GetSse });
                        t.frame_via(
                            Direction::ServerToClient,
                            bytes,
                            step.as_deref(),
                            std::time::Instant::now(),
                            here,
                        )?;
                    }
                    Ok(())
                });
                return sse_response(rx, None);
            }
            Err(NoResume::Connected) => {
                drop(state);
                let why = "the stream this Last-Event-ID names is connected already";
                return reject(&shared.tap, facts, StatusCode::CONFLICT, why);
            }
            Err(NoResume::Unknown) => {}
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    {
        if state.get_stream.is_some_and(|no| state.streams.is_live(no)) {
            drop(state);
            return reject(&shared.tap, facts, StatusCode::CONFLICT, "a GET stream is already open");
        }
        let no = state.streams.open(Conn { exchange, http: HttpStream::GetSse, tx });
        state.get_stream = Some(no);
        record(&shared.tap, facts, StatusCode::OK, Some("standalone SSE stream"));
        // Deliver what waited for this stream.
        for msg in std::mem::take(&mut state.queued) {
            if !shared.to_get_stream(&mut state, &msg) {
                state.queued.push(msg);
            }
        }
    }
    sse_response(rx, None)
}

async fn delete_handler(State(front): State<Arc<Front>>, uri: Uri, headers: HeaderMap) -> Response {
    let (shared, facts) = match in_session(&front, "DELETE", &uri, &headers) {
        Ok(ok) => ok,
        Err(refused) => return refused,
    };
    record(&shared.tap, facts, StatusCode::OK, Some("session terminated by the client"));
    let _ = shared.inbound.send(Inbound::Closed).await;
    StatusCode::OK.into_response()
}

async fn not_found(
    State(front): State<Arc<Front>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let shared = front.by_header(&headers);
    let facts = shared.new_exchange(method.as_str(), &uri, &headers, Instant::now());
    let (status, note) = if uri.path() == PATH {
        (StatusCode::METHOD_NOT_ALLOWED, format!("{method} is not supported on {PATH}"))
    } else {
        (StatusCode::NOT_FOUND, format!("no MCP endpoint here; use {PATH}"))
    };
    reject(&shared.tap, facts, status, &note)
}

/// 2026-07-28 has no GET stream and no session to delete (`streamable-http.mdx`,
/// Earlier Streamable HTTP Revisions: "respond with 405 Method Not Allowed").
const NO_GET_OR_DELETE: &str = "2026-07-28 has no GET stream and no session: 405";

/// A POST in a 2026-07-28 session (`basic/transports/streamable-http.mdx` of that
/// revision): no session (an `Mcp-Session-Id` is ignored, none is minted), one
/// message per POST, and the request metadata headers validated before the engine
/// sees the request — a missing or disagreeing header gets 400 with `-32020`, an
/// unsupported `MCP-Protocol-Version` 400 with `-32022`. Requests are answered with
/// JSON (the trigger call, whose rounds may carry notifications, with SSE); the
/// engine's errors take their HTTP status: `-32601` 404, the modern codes 400.
async fn modern_post(
    shared: &Arc<Shared>,
    exchange: u64,
    at: Instant,
    facts: crate::trace::HttpExchange,
    value: Value,
    body: Bytes,
) -> Response {
    let origin = Origin { exchange: Some(exchange) };
    let frame = Inbound::Frame { bytes: body.to_vec(), at, origin };
    let (id, method, params) = match classify(&value).envelope {
        Envelope::Request { id, method, params } => (id, method, params),
        Envelope::Notification { .. } => {
            if !shared.deliver(exchange, None, frame).await {
                return reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session has ended");
            }
            record(&shared.tap, facts, StatusCode::ACCEPTED, None);
            return StatusCode::ACCEPTED.into_response();
        }
        Envelope::Batch(_) => {
            return reject(
                &shared.tap,
                facts,
                StatusCode::BAD_REQUEST,
                "2026-07-28 has no batches: one message per POST",
            );
        }
        Envelope::Result { .. } | Envelope::Error { .. } | Envelope::Invalid => {
            return reject(
                &shared.tap,
                facts,
                StatusCode::BAD_REQUEST,
                "the body must be one JSON-RPC request or notification (a 2026-07-28 client sends no responses)",
            );
        }
    };
    let requested = facts.protocol_version.clone();
    // Unsupported version first (the client may retry at a supported one); a legacy
    // `initialize` without the header is a 2025-03-26 request (MAY, Protocol Version Header).
    let unsupported = match requested.as_deref() {
        Some(v) => (Revision::from_wire(v) != Some(Revision::MODERN)).then(|| v.to_owned()),
        None if method == "initialize" => Some(Revision::V2025_03_26.as_str().to_owned()),
        None => None,
    };
    if let Some(v) = unsupported {
        let error = serde_json::json!({
            "code": ErrorCode::UNSUPPORTED_PROTOCOL_VERSION.0,
            "message": format!("unsupported protocol version {v}; this server speaks {}", Revision::MODERN),
            "data": { "supported": [Revision::MODERN.as_str()], "requested": v },
        });
        return rpc_reject(shared, facts, exchange, &id, error, "unsupported MCP-Protocol-Version");
    }
    let problems =
        headers::problems(requested.as_deref(), &facts.mcp, &method, params.as_ref(), &shared.script.tools());
    if let Some(p) = problems.first() {
        let error = serde_json::json!({
            "code": ErrorCode::HEADER_MISMATCH.0,
            "message": format!("Header mismatch: {}: {}", p.header, p.detail),
        });
        return rpc_reject(shared, facts, exchange, &id, error, "header validation failed");
    }
    let triggers = shared.script.is_trigger(&method, params.as_ref());
    if triggers || shared.options.response_mode == ResponseMode::Sse {
        let (tx, rx) = mpsc::unbounded_channel();
        let stream = shared.open_post_stream(exchange, tx);
        if !shared.deliver(exchange, Some(Pending::Sse { waiting: vec![id], stream }), frame).await {
            return reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session has ended");
        }
        record(&shared.tap, facts, StatusCode::OK, Some("SSE response"));
        let mut response = sse_response(rx, None);
        response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
        return response;
    }
    let (done_tx, done_rx) = oneshot::channel();
    let pending = Pending::Json { waiting: vec![id], replies: Vec::new(), done: Some(done_tx) };
    if !shared.deliver(exchange, Some(pending), frame).await {
        return reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session has ended");
    }
    match tokio::time::timeout(shared.timeout, done_rx).await {
        Ok(Ok(replies)) => {
            let body = replies.into_iter().next().unwrap_or_default();
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.get("code")).and_then(Value::as_i64));
            let status = match code.map(ErrorCode) {
                Some(ErrorCode::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
                Some(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION | ErrorCode::HEADER_MISMATCH) => StatusCode::BAD_REQUEST,
                _ => StatusCode::OK,
            };
            record(&shared.tap, facts, status, Some("JSON response"));
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Ok(Err(_)) => reject(&shared.tap, facts, StatusCode::NOT_FOUND, "the session ended before the reply"),
        Err(_) => reject(&shared.tap, facts, StatusCode::SERVICE_UNAVAILABLE, "no reply within the session's timeout"),
    }
}

/// Refuse a 2026-07-28 request with HTTP 400 and a JSON-RPC error under its id,
/// recording both the exchange and the error frame (the checks see the request answered).
fn rpc_reject(
    shared: &Shared,
    facts: crate::trace::HttpExchange,
    exchange: u64,
    id: &Value,
    error: Value,
    note: &str,
) -> Response {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": error }).to_string();
    shared.record_s2c(body.as_bytes(), None, exchange, HttpStream::PostJson);
    record(&shared.tap, facts, StatusCode::BAD_REQUEST, Some(note));
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
