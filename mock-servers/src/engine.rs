//! The session engine: one mock MCP session over any frame transport.
//!
//! The engine answers the client's requests (`initialize`, `ping`, `tools/*`) and
//! runs the script's steps. A transport feeds it [`Inbound`] frames (already
//! recorded in the trace: the transport is the tap) and gives it a [`Sink`] for
//! [`Outgoing`] ones, each with a [`Route`] — which matters only over Streamable
//! HTTP, where a reply belongs to the POST that carried its request and a
//! server-initiated message goes either on the standalone GET stream or on the
//! SSE stream of an in-flight client request.
//!
//! Lifecycle of a session:
//! 1. `AwaitInitialize`: only `initialize` and `ping` are served; every other
//!    request gets `-32601`, so a dual-era client's `server/discover` probe falls back.
//! 2. `AwaitInitialized`: the client got its `InitializeResult`.
//! 3. `Ready`: initialized; the steps start now, or when the client calls the
//!    trigger tool ([`Trigger::ToolCall`]).
//! 4. `Running`: steps run in order (sleeps and `wait: true` requests block).
//! 5. `Draining`: all steps sent; wait for outstanding answers up to their deadlines,
//!    then answer the trigger `tools/call`, if any.
//! 6. `Barrier` (revisions with `ping`): a last server `ping` (id
//!    [`BARRIER_ID`]); its answer follows everything the client wrote before it, so
//!    the session can end as soon as it comes — nothing the client did earlier is still
//!    on its way (over an ordered stream, from a client that answers in order).
//! 7. `Grace`: the script's grace period for what a barrier cannot prove (a client that
//!    answers concurrently, or logs late), then the session ends (`script_done`).
//!
//! It also ends when the client closes its side, or at the script's timeout.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use crate::canary::Canary;
use crate::script::{Delivery, IdSpec, RequestStep, RoundMethod, Script, Step, Trigger};
use crate::trace::{EndReason, EventKind, FORMAT, Start, TraceWriter};
use crate::wire::{Classified, Envelope, ErrorCode, classify, id_loosely_equal, loose_key};
use backchannel_protocol::{Revision, Transport};

/// The trace, shared by the engine (events) and the transport (frames, HTTP).
pub type Tap = Arc<Mutex<TraceWriter>>;

/// Share a trace writer.
pub fn tap(writer: TraceWriter) -> Tap {
    Arc::new(Mutex::new(writer))
}

/// Run `f` on the trace writer, logging (never propagating) a write failure.
pub fn with_tap(tap: &Tap, f: impl FnOnce(&mut TraceWriter) -> io::Result<()>) {
    let mut w = tap.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(e) = f(&mut w) {
        tracing::error!(error = %e, "failed to write the trace");
    }
}

/// Which transport context carried a client frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Origin {
    /// The HTTP exchange (POST) it came in, if any.
    pub exchange: Option<u64>,
}

/// The engine's direct reply to a client request: the id it answers, the JSON-RPC
/// response, and — to `initialize` or `server/discover` — the revision negotiated.
struct Reply {
    id: Value,
    body: Value,
    negotiated: Option<Revision>,
}

impl Reply {
    /// The response to request `id`: its result, or an error with this code and message.
    fn new(id: Value, result: Result<Value, (ErrorCode, String)>, negotiated: Option<Revision>) -> Self {
        let body = match result {
            Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Err((code, message)) => {
                json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code.0, "message": message } })
            }
        };
        Self { id, body, negotiated }
    }
}

/// Where an outgoing frame must go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The answer to client requests that arrived through this origin.
    Reply(Origin),
    /// A server-initiated message for the standalone stream (GET over Streamable HTTP).
    Standalone,
    /// A server-initiated message for the response stream of the in-flight request from this origin.
    InRequest(Origin),
}

/// One outgoing frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The frame, without a terminator.
    pub bytes: Vec<u8>,
    /// The script step that sent it.
    pub step: Option<String>,
    /// Where it goes.
    pub route: Route,
    /// For a reply: the ids of the client requests it answers.
    pub answers: Vec<Value>,
    /// For the `initialize` reply: the negotiated protocol revision.
    pub negotiated: Option<Revision>,
}

/// Where outbound frames go.
pub trait Sink: Send {
    /// Deliver one frame (recording it in the trace when it is actually written).
    fn send(&mut self, msg: Outgoing) -> impl Future<Output = io::Result<()>> + Send;

    /// Abort the response stream of the in-flight request from `origin` before its
    /// result, recording `event` first (so nothing the client does about the break
    /// can land in the trace before it); `false`, and nothing recorded, when the
    /// transport has no per-request stream to break (stdio, HTTP+SSE) or the
    /// request's stream is gone already.
    fn break_stream(&mut self, origin: Origin, event: EventKind) -> bool {
        let _ = (origin, event);
        false
    }

    /// Close the connection of the SSE stream `route` names (the GET stream, or the
    /// response stream of the request in flight from an origin) without ending the
    /// stream, recording [`EventKind::StreamClosed`] first; `false`, and nothing
    /// recorded, when there is no such stream with a live connection (stdio,
    /// HTTP+SSE, a client that opened no GET stream).
    fn close_stream(&mut self, route: Route, close: Close) -> bool {
        let _ = (route, close);
        false
    }
}

/// A `close_stream` step, as the engine hands it to the transport.
#[derive(Debug, Clone)]
pub struct Close {
    /// The step.
    pub step: String,
    /// The id of the request in flight whose response stream it closes.
    pub request: Option<Value>,
    /// The `retry` field sent before a graceful close (milliseconds).
    pub retry_ms: Option<u64>,
    /// Abort the connection instead.
    pub abort: bool,
}

impl<S: Sink> Sink for &mut S {
    fn send(&mut self, msg: Outgoing) -> impl Future<Output = io::Result<()>> + Send {
        (**self).send(msg)
    }

    fn break_stream(&mut self, origin: Origin, event: EventKind) -> bool {
        (**self).break_stream(origin, event)
    }

    fn close_stream(&mut self, route: Route, close: Close) -> bool {
        (**self).close_stream(route, close)
    }
}

/// What a transport hands the engine.
#[derive(Debug)]
pub enum Inbound {
    /// One frame, without its terminator (already in the trace).
    Frame {
        /// The bytes.
        bytes: Vec<u8>,
        /// When the transport read them.
        at: Instant,
        /// What carried it.
        origin: Origin,
    },
    /// A frame longer than the transport's limit was discarded.
    Oversized {
        /// Its length in bytes.
        len: usize,
        /// When the transport finished skipping it.
        at: Instant,
    },
    /// The client closed its side (stdin EOF, or DELETE of the HTTP session).
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitInitialize,
    AwaitInitialized,
    Ready,
    Running,
    Draining,
    Barrier,
    Grace,
}

/// The id of the barrier `ping` the mock sends when the script is done.
pub const BARRIER_ID: &str = "backchannel-barrier";

/// The step name the barrier `ping` is recorded with.
pub const BARRIER_STEP: &str = "backchannel:barrier";

/// How long the mock waits for the barrier's answer (a client that never answers a
/// ping has failed its requests already; this only bounds the case).
const BARRIER_WITHIN: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// A `sleep` step ends.
    Sleep(Instant),
    /// A `wait: true` request stops blocking.
    AwaitAnswer(Instant),
    /// An MRTR round stops waiting for the client's retry.
    AwaitRetry(Instant),
    /// An `await_notification` step stops waiting.
    AwaitNotification(Instant),
    /// The barrier's answer is no longer waited for.
    Barrier(Instant),
    /// Outstanding answers are no longer waited for.
    Drain(Instant),
    /// The grace period ends.
    Grace(Instant),
}

impl Timer {
    fn at(self) -> Instant {
        match self {
            Self::Sleep(t)
            | Self::AwaitAnswer(t)
            | Self::AwaitRetry(t)
            | Self::AwaitNotification(t)
            | Self::Barrier(t)
            | Self::Drain(t)
            | Self::Grace(t) => t,
        }
    }
}

#[derive(Debug)]
struct Outstanding {
    id: Value,
    deadline: Instant,
    answered: bool,
}

/// One mock session.
#[derive(Debug)]
pub struct Engine<S> {
    script: Script,
    tap: Tap,
    sink: S,
    phase: Phase,
    cursor: usize,
    /// Every request sent, in order.
    outstanding: Vec<Outstanding>,
    /// The unanswered ones, by loose id form, earliest first: an answer is matched in
    /// constant time, so a session's cost stays linear in its requests.
    unanswered: HashMap<String, VecDeque<usize>>,
    /// How many are unanswered.
    open: usize,
    /// The request a `wait: true` step blocks on.
    awaited: Option<usize>,
    /// The notification an `await_notification` step waits for.
    awaiting: Option<String>,
    next_auto_id: u64,
    timer: Option<Timer>,
    deadline: Instant,
    /// Whether the client has sent anything yet (the deadline is re-based then).
    contacted: bool,
    /// The trigger `tools/call` in flight: its id and origin.
    trigger_call: Option<(Value, Origin)>,
}

impl<S: Sink> Engine<S> {
    /// Start a session: expands the canary into the script and writes the trace's start record.
    pub fn new(mut script: Script, canary: &Canary, transport: Transport, tap: Tap, sink: S) -> io::Result<Self> {
        script.expand_canary(canary);
        tap.lock().unwrap_or_else(std::sync::PoisonError::into_inner).start(Start {
            format: FORMAT,
            scenario: script.scenario.clone(),
            transport,
            revision: script.server.protocol_version,
            canary: canary.as_str().to_owned(),
        })?;
        let deadline = Instant::now() + script.timeout;
        // A 2026-07-28 session has no handshake: it is ready from the first request.
        let phase = if script.is_modern() { Phase::Ready } else { Phase::AwaitInitialize };
        Ok(Self {
            script,
            tap,
            sink,
            phase,
            cursor: 0,
            outstanding: Vec::new(),
            unanswered: HashMap::new(),
            open: 0,
            awaited: None,
            awaiting: None,
            next_auto_id: 1,
            timer: None,
            deadline,
            contacted: false,
            trigger_call: None,
        })
    }

    /// Run until the session ends; returns why it ended (also recorded in the trace).
    pub async fn run(mut self, mut inbound: mpsc::Receiver<Inbound>) -> EndReason {
        let reason = loop {
            let wake = self.timer.map_or(self.deadline, |t| t.at().min(self.deadline));
            let step = tokio::select! {
                msg = inbound.recv() => match msg {
                    Some(Inbound::Frame { bytes, origin, .. }) => {
                        // The scenario's clock runs from the client's first word: a
                        // client (or a gateway's upstream connection) that comes late
                        // to a session opened before it started gets all of its time.
                        if !self.contacted {
                            self.contacted = true;
                            self.deadline = self.deadline.max(Instant::now() + self.script.timeout);
                        }
                        self.on_frame(&bytes, origin).await
                    }
                    Some(Inbound::Oversized { len, at }) => {
                        let t_us = self.tap.lock().unwrap_or_else(std::sync::PoisonError::into_inner).us_at(at.into_std());
                        self.event(EventKind::FrameTooLarge { bytes: len, t_us });
                        Ok(())
                    }
                    Some(Inbound::Closed) | None => Err(EndReason::ClientClosed),
                },
                // One step at a time, the client read between steps (the branches
                // are polled in random order): a script sending thousands of requests
                // back to back never stops reading the answers, so neither side's
                // buffers fill up.
                () = std::future::ready(()), if self.step_ready() => self.advance().await,
                () = sleep_until(wake) => self.on_timer().await,
            };
            if let Err(reason) = step {
                break reason;
            }
        };
        self.note_unanswered();
        with_tap(&self.tap, |t| t.end(reason));
        reason
    }

    async fn on_frame(&mut self, bytes: &[u8], origin: Origin) -> Result<(), EndReason> {
        let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
            return Ok(()); // recorded by the transport; the checks report it
        };
        let classified = classify(&value);
        let (batch, replies): (bool, Vec<Reply>) = match classified.envelope {
            Envelope::Batch(parts) => (true, parts.into_iter().filter_map(|p| self.on_message(p, origin)).collect()),
            _ => (false, self.on_message(classified, origin).into_iter().collect()),
        };
        let answers: Vec<Value> = replies.iter().map(|r| r.id.clone()).collect();
        let negotiated = replies.iter().find_map(|r| r.negotiated);
        let mut bodies: Vec<Value> = replies.into_iter().map(|r| r.body).collect();
        // A batch of requests is answered with a batch (JSON-RPC 2.0 §6).
        if batch && !bodies.is_empty() {
            bodies = vec![Value::Array(bodies)];
        }
        for body in bodies {
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            self.emit(Outgoing {
                bytes,
                step: None,
                route: Route::Reply(origin),
                answers: answers.clone(),
                negotiated,
            })
            .await?;
        }
        self.advance().await
    }

    /// Handle one message; returns the reply to a request. A trigger `tools/call` is
    /// answered later.
    fn on_message(&mut self, msg: Classified, origin: Origin) -> Option<Reply> {
        match msg.envelope {
            Envelope::Request { id, method, params } => self.on_request(id, &method, params.as_ref(), origin),
            Envelope::Notification { method, .. } => {
                if self.awaiting.as_deref() == Some(method.as_str()) {
                    self.awaiting = None;
                    self.timer = None;
                }
                if method == "notifications/initialized" && self.phase == Phase::AwaitInitialized {
                    self.phase = Phase::Ready;
                    if self.script.trigger == Trigger::Initialized {
                        self.start_script(None);
                    }
                }
                None
            }
            Envelope::Result { id, .. } | Envelope::Error { id: Some(id), .. } => {
                self.on_answer(&id);
                None
            }
            Envelope::Error { id: None, .. } | Envelope::Batch(_) | Envelope::Invalid => None,
        }
    }

    fn start_script(&mut self, trigger_call: Option<(Value, Origin)>) {
        self.phase = Phase::Running;
        self.trigger_call = trigger_call;
        self.event(EventKind::ScriptStarted);
    }

    fn on_request(&mut self, id: Value, method: &str, params: Option<&Value>, origin: Origin) -> Option<Reply> {
        if self.script.is_modern() {
            return self.on_modern_request(id, method, params, origin);
        }
        let mut negotiated = None;
        let result = match (self.phase, method) {
            (_, "ping") => Ok(json!({})),
            (Phase::AwaitInitialize, "initialize") => {
                let version = self.script.negotiate(requested_version(params));
                negotiated = Some(version);
                self.phase = Phase::AwaitInitialized;
                if self.script.trigger == Trigger::BeforeInitialized {
                    // The reply goes out first; then advance() starts the steps.
                    self.start_script(None);
                }
                Ok(self.initialize_result(version))
            }
            (Phase::AwaitInitialize, _) => {
                Err((ErrorCode::METHOD_NOT_FOUND, format!("{method} is not available before initialize")))
            }
            (_, "initialize") if self.script.answer_repeated_initialize => {
                Ok(self.initialize_result(self.script.negotiate(requested_version(params))))
            }
            (_, "initialize") => Err((ErrorCode::INVALID_REQUEST, "already initialized".to_owned())),
            (_, "tools/list") => Ok(json!({ "tools": self.script.tools() })),
            (phase, "tools/call") => {
                let name = params.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or_default();
                let is_trigger = matches!(&self.script.trigger, Trigger::ToolCall { tool } if tool == name);
                if is_trigger && phase == Phase::Ready {
                    self.start_script(Some((id, origin)));
                    return None;
                }
                self.plain_tool_call(name, is_trigger)
            }
            _ => Err((ErrorCode::METHOD_NOT_FOUND, format!("method not found: {method}"))),
        };
        Some(Reply::new(id, result, negotiated))
    }

    /// A request in a 2026-07-28 session (`basic/versioning.mdx`, `basic/patterns/mrtr.mdx`):
    /// `server/discover` is answered, `initialize` refused naming the supported
    /// version, and the trigger `tools/call` runs the MRTR rounds — its retries
    /// (a new id, the inputs, the request state) each become the call in flight.
    /// Every request is served whatever its `_meta` says: the checks judge that.
    fn on_modern_request(&mut self, id: Value, method: &str, params: Option<&Value>, origin: Origin) -> Option<Reply> {
        let modern = Revision::MODERN.as_str();
        let result = match method {
            "server/discover" => Ok(json!({
                "supportedVersions": [modern],
                "capabilities": self.script.capabilities(),
                "ttlMs": 0,
                "cacheScope": "public",
                "_meta": { "io.modelcontextprotocol/serverInfo": {
                    "name": self.script.server.name, "version": self.script.server.version,
                }},
            })),
            "initialize" => {
                let requested = params.and_then(|p| p.get("protocolVersion")).cloned().unwrap_or(Value::Null);
                let body = json!({ "jsonrpc": "2.0", "id": id, "error": {
                    "code": ErrorCode::UNSUPPORTED_PROTOCOL_VERSION.0,
                    "message": format!("this server speaks MCP {modern} only (no initialize): send server/discover"),
                    "data": { "supported": [modern], "requested": requested },
                }});
                return Some(Reply { id, body, negotiated: None });
            }
            "ping" => Ok(json!({})),
            // Cacheable results carry their cache directives (schema: ListToolsResult).
            "tools/list" => Ok(json!({ "tools": self.script.tools(), "ttlMs": 0, "cacheScope": "public" })),
            "prompts/list" => Ok(json!({ "prompts": self.script.prompts(), "ttlMs": 0, "cacheScope": "public" })),
            "resources/list" => Ok(json!({ "resources": self.script.resources(), "ttlMs": 0, "cacheScope": "public" })),
            "tools/call" | "prompts/get" | "resources/read" => {
                let is_trigger = self.script.is_trigger(method, params);
                if is_trigger && self.phase == Phase::Ready {
                    self.start_script(Some((id, origin)));
                    return None;
                }
                if is_trigger && self.phase == Phase::Running && matches!(self.timer, Some(Timer::AwaitRetry(_))) {
                    self.timer = None;
                    self.trigger_call = Some((id, origin));
                    self.event(EventKind::Retry);
                    return None;
                }
                let name = params.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or_default();
                match method {
                    "tools/call" => self.plain_tool_call(name, is_trigger),
                    _ => Err((ErrorCode::INVALID_PARAMS, format!("{method}: no such prompt or resource"))),
                }
            }
            _ => Err((ErrorCode::METHOD_NOT_FOUND, format!("method not found: {method}"))),
        };
        // "Servers implementing this protocol version MUST include" resultType.
        let result = result.map(|mut result| {
            result["resultType"] = json!("complete");
            result
        });
        Some(Reply::new(id, result, (method == "server/discover").then_some(Revision::MODERN)))
    }

    /// A `tools/call` that is not (or no longer) the scenario's trigger: a tool the
    /// mock offers gets a plain result, any other name `-32602`.
    /// The result of `initialize` at `version`.
    fn initialize_result(&self, version: Revision) -> Value {
        json!({
            "protocolVersion": version,
            "capabilities": { "tools": {} },
            "serverInfo": { "name": self.script.server.name, "version": self.script.server.version },
        })
    }

    fn plain_tool_call(&self, name: &str, is_trigger: bool) -> Result<Value, (ErrorCode, String)> {
        if is_trigger || self.script.tools().iter().any(|t| t.get("name").and_then(Value::as_str) == Some(name)) {
            Ok(tool_result("ok"))
        } else {
            Err((ErrorCode::INVALID_PARAMS, format!("unknown tool: {name}")))
        }
    }

    fn on_answer(&mut self, id: &Value) {
        if self.phase == Phase::Barrier && id_loosely_equal(id, &json!(BARRIER_ID)) {
            self.start_grace();
            return;
        }
        // Loose matching is bookkeeping only (stop waiting); the checks judge the id.
        let Some(i) = self.unanswered.get_mut(&loose_key(id)).and_then(VecDeque::pop_front) else { return };
        self.outstanding[i].answered = true;
        self.open -= 1;
        if matches!(self.timer, Some(Timer::AwaitAnswer(_))) && self.awaited == Some(i) {
            self.timer = None;
        }
    }

    /// Track a request sent; its index.
    fn track(&mut self, id: Value, deadline: Instant) -> usize {
        let i = self.outstanding.len();
        self.unanswered.entry(loose_key(&id)).or_default().push_back(i);
        self.outstanding.push(Outstanding { id, deadline, answered: false });
        self.open += 1;
        i
    }

    async fn on_timer(&mut self) -> Result<(), EndReason> {
        let now = Instant::now();
        if now >= self.deadline {
            let timeout_ms = u64::try_from(self.script.timeout.as_millis()).unwrap_or(u64::MAX);
            self.event(EventKind::Timeout { timeout_ms });
            return Err(EndReason::Timeout);
        }
        match self.timer {
            Some(Timer::AwaitRetry(t)) if now >= t => {
                self.timer = None;
                self.event(EventKind::NoRetry);
                self.advance().await
            }
            Some(Timer::Sleep(t) | Timer::AwaitAnswer(t)) if now >= t => {
                self.timer = None;
                self.advance().await
            }
            Some(Timer::AwaitNotification(t)) if now >= t => {
                self.timer = None;
                self.awaiting = None;
                self.advance().await
            }
            Some(Timer::Drain(t)) if now >= t => self.finish_script().await,
            Some(Timer::Barrier(t)) if now >= t => {
                self.start_grace();
                Ok(())
            }
            Some(Timer::Grace(t)) if now >= t => Err(EndReason::ScriptDone),
            _ => Ok(()),
        }
    }

    /// Whether the script can take its next step now.
    fn step_ready(&self) -> bool {
        self.phase == Phase::Running && self.timer.is_none()
    }

    /// Take the script's next step unless it is blocked (a sleep, an awaited answer
    /// or notification, an MRTR retry); after the last one, drain. The run loop calls
    /// it again while [`Self::step_ready`].
    async fn advance(&mut self) -> Result<(), EndReason> {
        if self.phase == Phase::Draining && self.open == 0 {
            return self.finish_script().await;
        }
        if !self.step_ready() {
            return Ok(());
        }
        if let Some(step) = self.script.steps.get(self.cursor).cloned() {
            self.cursor += 1;
            match step {
                Step::Request(r) => {
                    self.send_request(&r).await?;
                }
                Step::Batch(rs) => {
                    let mut lines = Vec::new();
                    for r in &rs {
                        let id = self.request_id(&r.id);
                        lines.push(request_line(&id, r));
                        self.track(id, Instant::now() + r.answer_within);
                    }
                    let name = rs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join("+");
                    let route = self.server_route(rs.first().and_then(|r| r.delivery));
                    let bytes = format!("[{}]", lines.join(",")).into_bytes();
                    self.emit(server_msg(bytes, name, route)).await?;
                }
                Step::Notification { name, method, params, delivery } => {
                    let mut msg = json!({ "jsonrpc": "2.0", "method": method });
                    if let Some(p) = params {
                        msg["params"] = p;
                    }
                    let route = self.server_route(delivery);
                    self.emit(server_msg(serde_json::to_vec(&msg).unwrap_or_default(), name, route)).await?;
                }
                Step::Raw { name, line, delivery } => {
                    let route = self.server_route(delivery);
                    self.emit(server_msg(line.into_bytes(), name, route)).await?;
                }
                Step::Sleep(d) => {
                    self.timer = Some(Timer::Sleep(Instant::now() + d));
                }
                Step::AwaitNotification { method, within, .. } => {
                    self.awaiting = Some(method);
                    self.timer = Some(Timer::AwaitNotification(Instant::now() + within));
                }
                Step::InputRequired(round) => {
                    // Without a call in flight (the client did not retry) there is
                    // nothing to answer: the round is skipped.
                    let Some((id, origin)) = self.trigger_call.take() else {
                        self.event(EventKind::RoundSkipped { step: round.name.clone() });
                        return Ok(());
                    };
                    let reply = json!({ "jsonrpc": "2.0", "id": id, "result": round.result() });
                    let bytes = serde_json::to_vec(&reply).unwrap_or_default();
                    self.emit(Outgoing {
                        bytes,
                        step: Some(round.name.clone()),
                        route: Route::Reply(origin),
                        answers: vec![id],
                        negotiated: None,
                    })
                    .await?;
                    self.timer = Some(Timer::AwaitRetry(Instant::now() + round.retry_within));
                }
                Step::BreakStream { name, reissue_within } => {
                    let Some((id, origin)) = self.trigger_call.take() else {
                        self.event(EventKind::RoundSkipped { step: name });
                        return Ok(());
                    };
                    if !self.sink.break_stream(origin, EventKind::StreamBroken { step: name.clone(), id: id.clone() }) {
                        // Nothing to break here: the request stays in flight.
                        let why = "this transport has no per-request response stream to break".to_owned();
                        self.event(EventKind::Undelivered { steps: vec![Some(name)], why });
                        self.trigger_call = Some((id, origin));
                        return Ok(());
                    }
                    // The re-issued request is recognised as a retry is.
                    self.timer = Some(Timer::AwaitRetry(Instant::now() + reissue_within));
                }
                Step::CloseStream { name, delivery, retry_ms, abort } => {
                    let request = self.trigger_call.as_ref().map(|(id, _)| id.clone());
                    let close = |request| Close { step: name.clone(), request, retry_ms, abort };
                    let why = match (delivery, request) {
                        (Delivery::RequestStream, None) => Some("no call in flight: no response stream to close"),
                        (Delivery::RequestStream, request) => {
                            let route = self.server_route(Some(delivery));
                            (!self.sink.close_stream(route, close(request)))
                                .then_some("the call's response stream is not an open SSE stream")
                        }
                        (Delivery::GetStream, _) => (!self.sink.close_stream(Route::Standalone, close(None)))
                            .then_some("no GET stream is open (the client opened none, or this transport has none)"),
                    };
                    if let Some(why) = why {
                        self.event(EventKind::Undelivered { steps: vec![Some(name)], why: why.to_owned() });
                    }
                }
            }
            return Ok(());
        }
        self.phase = Phase::Draining;
        self.event(EventKind::ScriptDone);
        let open = self.unanswered.values().flatten();
        match open.map(|&i| self.outstanding[i].deadline).max() {
            Some(t) => {
                self.timer = Some(Timer::Drain(t));
                Ok(())
            }
            None => self.finish_script().await,
        }
    }

    /// The grace period: a wait for what a barrier cannot prove, then the end.
    fn start_grace(&mut self) {
        self.phase = Phase::Grace;
        self.timer = Some(Timer::Grace(Instant::now() + self.script.grace));
    }

    /// All answers are in (or late): answer the trigger call, then the barrier (where
    /// the revision has `ping`) and the grace period.
    async fn finish_script(&mut self) -> Result<(), EndReason> {
        if let Some((id, origin)) = self.trigger_call.take() {
            let done = "backchannel: the scenario's steps are done";
            let mut result = match (&self.script.trigger, self.script.round_method) {
                (Trigger::ToolCall { tool }, RoundMethod::PromptsGet) => json!({
                    "description": tool,
                    "messages": [{ "role": "user", "content": { "type": "text", "text": done } }],
                }),
                (Trigger::ToolCall { tool }, RoundMethod::ResourcesRead) => json!({
                    "contents": [{ "uri": RoundMethod::ResourcesRead.target(tool), "mimeType": "text/plain", "text": done }],
                }),
                _ => tool_result(done),
            };
            if self.script.is_modern() {
                result["resultType"] = json!("complete");
            }
            let reply = json!({ "jsonrpc": "2.0", "id": id, "result": result });
            let bytes = serde_json::to_vec(&reply).unwrap_or_default();
            self.emit(Outgoing { bytes, step: None, route: Route::Reply(origin), answers: vec![id], negotiated: None })
                .await?;
        }
        if self.script.is_modern() || !self.script.barrier {
            // 2026-07-28 has no ping: nothing can be a barrier.
            self.start_grace();
            return Ok(());
        }
        self.phase = Phase::Barrier;
        self.timer = Some(Timer::Barrier(Instant::now() + BARRIER_WITHIN));
        let line = format!(r#"{{"jsonrpc":"2.0","id":"{BARRIER_ID}","method":"ping"}}"#).into_bytes();
        let route = self.server_route(None);
        self.emit(server_msg(line, BARRIER_STEP.to_owned(), route)).await
    }

    fn server_route(&self, delivery: Option<Delivery>) -> Route {
        match (delivery.unwrap_or(self.script.delivery), &self.trigger_call) {
            (Delivery::RequestStream, Some((_, origin))) => Route::InRequest(*origin),
            _ => Route::Standalone,
        }
    }

    fn request_id(&mut self, spec: &IdSpec) -> Value {
        match spec {
            IdSpec::Auto => {
                let id = json!(self.next_auto_id);
                self.next_auto_id += 1;
                id
            }
            IdSpec::Fixed(id) => id.clone(),
            IdSpec::TriggerCall => match &self.trigger_call {
                Some((id, _)) => id.clone(),
                None => self.request_id(&IdSpec::Auto),
            },
        }
    }

    /// Send a scripted request (with `wait`, the script blocks on its answer).
    async fn send_request(&mut self, r: &RequestStep) -> Result<(), EndReason> {
        let id = self.request_id(&r.id);
        let line = request_line(&id, r);
        let route = self.server_route(r.delivery);
        self.emit(server_msg(line.into_bytes(), r.name.clone(), route)).await?;
        let deadline = Instant::now() + r.answer_within;
        let i = self.track(id, deadline);
        if r.wait {
            self.awaited = Some(i);
            self.timer = Some(Timer::AwaitAnswer(deadline));
        }
        Ok(())
    }

    fn note_unanswered(&mut self) {
        let unanswered: Vec<Value> = self.outstanding.iter().filter(|o| !o.answered).map(|o| o.id.clone()).collect();
        if !unanswered.is_empty() {
            self.event(EventKind::Unanswered { ids: unanswered });
        }
    }

    async fn emit(&mut self, msg: Outgoing) -> Result<(), EndReason> {
        self.sink.send(msg).await.map_err(|_| EndReason::WriteFailed)
    }

    fn event(&mut self, kind: EventKind) {
        with_tap(&self.tap, |t| t.event(kind));
    }
}

/// A request line, built by hand so the member order is the conventional one.
fn request_line(id: &Value, r: &RequestStep) -> String {
    let mut line = format!(r#"{{"jsonrpc":"2.0","id":{},"method":{}"#, id, Value::String(r.method.clone()));
    if let Some(p) = &r.params {
        line.push_str(",\"params\":");
        line.push_str(&p.to_string());
    }
    line.push('}');
    line
}

fn server_msg(bytes: Vec<u8>, step: String, route: Route) -> Outgoing {
    Outgoing { bytes, step: Some(step), route, answers: Vec::new(), negotiated: None }
}

/// The `protocolVersion` an `initialize` asks for.
fn requested_version(params: Option<&Value>) -> Option<&str> {
    params.and_then(|p| p.get("protocolVersion")).and_then(Value::as_str)
}

fn tool_result(text: &str) -> Value {
    json!({ "content": [{ "type": "text", "text": text }], "isError": false })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf};

    use super::*;
    use crate::script::{RequestStep, ServerSettings};
    use crate::transport::stdio;

    fn script(steps: Vec<Step>, timeout_ms: u64) -> Script {
        Script {
            scenario: "t".into(),
            server: ServerSettings::default(),
            steps,
            timeout: Duration::from_millis(timeout_ms),
            grace: Duration::from_millis(20),
            barrier: false,
            trigger: Trigger::Initialized,
            delivery: Delivery::GetStream,
            round_method: RoundMethod::ToolsCall,
            answer_repeated_initialize: false,
        }
    }

    fn ping(name: &str, wait: bool) -> Step {
        Step::Request(RequestStep {
            name: name.into(),
            id: IdSpec::Auto,
            method: "ping".into(),
            params: None,
            wait,
            answer_within: Duration::from_millis(500),
            delivery: None,
        })
    }

    struct Peer {
        lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
        w: WriteHalf<DuplexStream>,
        mock: tokio::task::JoinHandle<std::io::Result<EndReason>>,
    }

    impl Peer {
        fn start(script: Script, max_frame: usize) -> Self {
            let (client, server) = tokio::io::duplex(1 << 16);
            let (sr, sw) = tokio::io::split(server);
            let mock = tokio::spawn(async move {
                stdio::serve(script, &Canary::fixed("C"), TraceWriter::discard(), sr, sw, max_frame).await
            });
            let (cr, w) = tokio::io::split(client);
            Self { lines: BufReader::new(cr).lines(), w, mock }
        }
        async fn send(&mut self, v: &str) {
            self.w.write_all(format!("{v}\n").as_bytes()).await.unwrap();
        }
        async fn recv(&mut self) -> Option<Value> {
            let line = tokio::time::timeout(Duration::from_secs(5), self.lines.next_line()).await.unwrap().unwrap();
            line.map(|l| serde_json::from_str(&l).unwrap())
        }
        async fn init(&mut self, version: &str) -> Value {
            self.send(&json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":version,"capabilities":{},"clientInfo":{"name":"t","version":"0"}}}).to_string()).await;
            let r = self.recv().await.unwrap();
            self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
            r
        }
    }

    #[tokio::test]
    async fn only_ping_is_served_before_initialize() {
        let mut p = Peer::start(script(vec![], 2000), 1 << 20);
        p.send(r#"{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{}}"#).await;
        assert_eq!(p.recv().await.unwrap()["error"]["code"], -32601);
        p.send(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).await;
        assert_eq!(p.recv().await.unwrap(), json!({"jsonrpc":"2.0","id":1,"result":{}}));
        let init = p.init("2026-07-28").await;
        assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "an unknown version gets the latest legacy one");
        assert_eq!(p.recv().await, None, "the empty script ends the session");
        assert_eq!(p.mock.await.unwrap().unwrap(), EndReason::ScriptDone);
    }

    #[tokio::test]
    async fn a_repeated_initialize_is_refused_unless_the_script_answers_it() {
        let again = r#"{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"u","version":"0"}}}"#;
        for answer in [false, true] {
            let mut s = script(vec![ping("a", true)], 2000);
            s.answer_repeated_initialize = answer;
            let mut p = Peer::start(s, 1 << 20);
            p.init("2025-11-25").await;
            assert_eq!(p.recv().await.unwrap()["id"], 1, "the steps started");
            p.send(again).await;
            let r = p.recv().await.unwrap();
            if answer {
                assert_eq!(r["result"]["protocolVersion"], "2025-06-18", "{r}");
            } else {
                assert_eq!(r["error"]["code"], -32600, "{r}");
            }
            // Either way the session goes on where it was.
            p.send(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#).await;
            assert_eq!(p.recv().await, None);
        }
    }

    #[tokio::test]
    async fn wait_blocks_the_next_step_until_answered() {
        let mut p = Peer::start(script(vec![ping("a", true), ping("b", false)], 5000), 1 << 20);
        p.init("2025-06-18").await;
        let a = p.recv().await.unwrap();
        assert_eq!(a["id"], 1);
        // Nothing else comes until `a` is answered.
        assert!(tokio::time::timeout(Duration::from_millis(100), p.lines.next_line()).await.is_err());
        p.send(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#).await;
        assert_eq!(p.recv().await.unwrap()["id"], 2);
    }

    #[tokio::test]
    async fn a_barrier_ends_the_session_as_soon_as_it_is_answered() {
        let mut s = script(vec![ping("a", false)], 5000);
        s.barrier = true;
        s.grace = Duration::ZERO;
        let mut p = Peer::start(s, 1 << 20);
        p.init("2025-11-25").await;
        assert_eq!(p.recv().await.unwrap()["id"], 1);
        p.send(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#).await;
        let barrier = p.recv().await.unwrap();
        assert_eq!((barrier["id"].clone(), barrier["method"].clone()), (json!(BARRIER_ID), json!("ping")));
        let started = std::time::Instant::now();
        p.send(&format!(r#"{{"jsonrpc":"2.0","id":"{BARRIER_ID}","result":{{}}}}"#)).await;
        assert_eq!(p.recv().await, None);
        assert!(started.elapsed() < Duration::from_millis(500), "no fixed wait after the barrier");
        assert_eq!(p.mock.await.unwrap().unwrap(), EndReason::ScriptDone);
    }

    #[tokio::test]
    async fn a_notification_ends_its_await() {
        let steps = vec![
            Step::AwaitNotification {
                name: "wait".into(),
                method: "notifications/roots/list_changed".into(),
                within: Duration::from_secs(5),
            },
            ping("after", false),
        ];
        let mut p = Peer::start(script(steps, 8000), 1 << 20);
        p.init("2025-11-25").await;
        let started = std::time::Instant::now();
        p.send(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#).await;
        assert_eq!(p.recv().await.unwrap()["method"], "ping");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn many_outstanding_answers_are_matched_in_any_order() {
        let mut steps: Vec<Step> = (0..2000).map(|i| ping(&format!("p{i}"), false)).collect();
        steps.push(ping("last", false));
        let mut p = Peer::start(script(steps, 20_000), 1 << 20);
        p.init("2025-11-25").await;
        let mut ids = Vec::new();
        for _ in 0..2001 {
            ids.push(p.recv().await.unwrap()["id"].clone());
        }
        // Answered backwards, the loose way for half of them ("7" for 7).
        for (n, id) in ids.iter().rev().enumerate() {
            let id = if n % 2 == 0 { json!(id.to_string()) } else { id.clone() };
            p.send(&json!({"jsonrpc":"2.0","id":id,"result":{}}).to_string()).await;
        }
        assert_eq!(p.recv().await, None, "every request answered: the session ends");
        assert_eq!(p.mock.await.unwrap().unwrap(), EndReason::ScriptDone);
    }

    #[tokio::test]
    async fn client_closing_ends_the_session() {
        let p = Peer::start(script(vec![ping("a", false)], 5000), 1 << 20);
        let Peer { w, mock, lines } = p;
        drop(w);
        drop(lines);
        assert_eq!(mock.await.unwrap().unwrap(), EndReason::ClientClosed);
    }

    #[tokio::test]
    async fn the_scenario_timeout_ends_a_silent_session() {
        let mut p = Peer::start(script(vec![], 200), 1 << 20);
        assert_eq!(p.recv().await, None);
        assert_eq!(p.mock.await.unwrap().unwrap(), EndReason::Timeout);
    }

    #[tokio::test]
    async fn batches_get_batch_answers_and_big_frames_are_skipped() {
        let mut p = Peer::start(script(vec![], 2000), 120);
        p.send(&"x".repeat(200)).await;
        p.send(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#).await;
        let batch = p.recv().await.unwrap();
        assert_eq!(batch[0]["result"], json!({}));
        assert_eq!(batch[1]["error"]["code"], -32601);
    }
    /// A 2026-07-28 session whose trigger tool is `go`, over the test transport.
    fn modern_peer(steps: Vec<Step>) -> Peer {
        let mut s = script(steps, 5000);
        s.server.protocol_version = Some(Revision::V2026_07_28);
        s.trigger = Trigger::ToolCall { tool: "go".into() };
        Peer::start(s, 1 << 20)
    }

    fn round(name: &str, inputs: Vec<(String, String, Option<Value>)>, state: Option<&str>) -> Step {
        Step::InputRequired(crate::script::InputRound {
            name: name.into(),
            inputs,
            request_state: state.map(str::to_owned),
            retry_within: Duration::from_millis(500),
        })
    }

    #[tokio::test]
    async fn a_modern_session_discovers_and_runs_input_rounds() {
        let roots = || vec![("where".into(), "roots/list".into(), None)];
        let mut p = modern_peer(vec![round("r1", roots(), Some("st-1")), round("r2", roots(), None)]);
        p.send(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#).await;
        let refused = p.recv().await.unwrap();
        assert_eq!(refused["error"]["code"], -32022);
        assert_eq!(refused["error"]["data"]["supported"], json!(["2026-07-28"]));
        p.send(r#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#).await;
        let discovered = p.recv().await.unwrap();
        assert_eq!(discovered["result"]["supportedVersions"], json!(["2026-07-28"]));
        assert_eq!(discovered["result"]["resultType"], "complete");
        p.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"go"}}"#).await;
        let first = p.recv().await.unwrap();
        assert_eq!(first["id"], 2);
        assert_eq!(first["result"]["resultType"], "input_required");
        assert_eq!(first["result"]["inputRequests"]["where"]["method"], "roots/list");
        assert_eq!(first["result"]["requestState"], "st-1");
        p.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"go","inputResponses":{"where":{"roots":[]}},"requestState":"st-1"}}"#).await;
        let second = p.recv().await.unwrap();
        assert_eq!((second["id"].clone(), second["result"].get("requestState")), (json!(3), None));
        p.send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"go","inputResponses":{"where":{"roots":[]}}}}"#).await;
        let last = p.recv().await.unwrap();
        assert_eq!((last["id"].clone(), last["result"]["resultType"].clone()), (json!(4), json!("complete")));
    }

    #[tokio::test]
    async fn a_stream_break_where_there_is_no_stream_leaves_the_call_in_flight() {
        let cut = Step::BreakStream { name: "cut".into(), reissue_within: Duration::from_millis(100) };
        let mut p = modern_peer(vec![cut, round("r1", Vec::new(), Some("s"))]);
        p.send(r#"{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"go"}}"#).await;
        // stdio has no per-request stream: the round answers the same call.
        let round = p.recv().await.unwrap();
        assert_eq!((round["id"].clone(), round["result"]["requestState"].clone()), (json!("c"), json!("s")));
    }

    #[tokio::test]
    async fn a_modern_round_without_retry_ends_the_script() {
        let sampling = vec![("s".into(), "sampling/createMessage".into(), Some(json!({"maxTokens": 1})))];
        let mut p = modern_peer(vec![round("r1", sampling, None)]);
        p.send(r#"{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"go"}}"#).await;
        assert_eq!(p.recv().await.unwrap()["result"]["inputRequests"]["s"]["params"]["maxTokens"], 1);
        assert_eq!(p.recv().await, None, "no retry: the session ends after the grace period");
        assert_eq!(p.mock.await.unwrap().unwrap(), EndReason::ScriptDone);
    }
}
