//! The session engine: one mock MCP session over any frame transport.
//!
//! The engine owns the [`TraceWriter`] (the tap every frame passes through), answers
//! the client's requests (`initialize`, `ping`, `tools/*`), and runs the script's
//! steps after `notifications/initialized`. A transport feeds it [`Inbound`] frames
//! and gives it a [`Sink`] for outbound ones; framing and routing are the
//! transport's business.
//!
//! Lifecycle of a session:
//! 1. `AwaitInitialize`: only `initialize` and `ping` are served; every other
//!    request gets `-32601`, so a dual-era client's `server/discover` probe falls back.
//! 2. `AwaitInitialized`: the client got its `InitializeResult`.
//! 3. `Running`: steps run in order (sleeps and `wait: true` requests block).
//! 4. `Draining`: all steps sent; wait for outstanding answers up to their deadlines.
//! 5. `Grace`: a short wait for late frames, then the session ends (`script_done`).
//!
//! It also ends when the client closes its side, or at the script's timeout.

use std::future::Future;
use std::io;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use crate::canary::Canary;
use crate::script::{IdSpec, RequestStep, Script, Step};
use crate::trace::{Direction, EndReason, FORMAT, Start, TraceWriter};
use crate::wire::{Classified, Envelope, ErrorCode, classify, id_loosely_equal};

/// Where outbound frames go.
pub trait Sink: Send {
    /// Send one frame (without a terminator).
    fn send(&mut self, frame: &[u8]) -> impl Future<Output = io::Result<()>> + Send;
}

/// What a transport hands the engine.
#[derive(Debug)]
pub enum Inbound {
    /// One frame, without its terminator, and when it was read.
    Frame {
        /// The bytes.
        bytes: Vec<u8>,
        /// When the transport read them.
        at: Instant,
    },
    /// A frame longer than the transport's limit was discarded.
    Oversized {
        /// Its length in bytes.
        len: usize,
        /// When the transport finished skipping it.
        at: Instant,
    },
    /// The client closed its side.
    Closed,
}

impl<S: Sink> Sink for &mut S {
    fn send(&mut self, frame: &[u8]) -> impl Future<Output = io::Result<()>> + Send {
        (**self).send(frame)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitInitialize,
    AwaitInitialized,
    Running,
    Draining,
    Grace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// A `sleep` step ends.
    Sleep(Instant),
    /// A `wait: true` request stops blocking.
    AwaitAnswer(Instant),
    /// Outstanding answers are no longer waited for.
    Drain(Instant),
    /// The grace period ends.
    Grace(Instant),
}

impl Timer {
    fn at(self) -> Instant {
        match self {
            Self::Sleep(t) | Self::AwaitAnswer(t) | Self::Drain(t) | Self::Grace(t) => t,
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
    trace: TraceWriter,
    sink: S,
    phase: Phase,
    cursor: usize,
    outstanding: Vec<Outstanding>,
    next_auto_id: u64,
    timer: Option<Timer>,
    deadline: Instant,
}

impl<S: Sink> Engine<S> {
    /// Start a session: expands the canary into the script and writes the trace's start record.
    pub fn new(
        mut script: Script,
        canary: &Canary,
        transport: &str,
        mut trace: TraceWriter,
        sink: S,
    ) -> io::Result<Self> {
        script.expand_canary(canary);
        trace.start(Start {
            format: FORMAT,
            scenario: script.scenario.clone(),
            transport: transport.to_owned(),
            canary: canary.as_str().to_owned(),
        })?;
        let deadline = Instant::now() + script.timeout;
        Ok(Self {
            script,
            trace,
            sink,
            phase: Phase::AwaitInitialize,
            cursor: 0,
            outstanding: Vec::new(),
            next_auto_id: 1,
            timer: None,
            deadline,
        })
    }

    /// Run until the session ends; returns why it ended (also recorded in the trace).
    pub async fn run(mut self, mut inbound: mpsc::Receiver<Inbound>) -> EndReason {
        let reason = loop {
            let wake = self.timer.map_or(self.deadline, |t| t.at().min(self.deadline));
            let step = tokio::select! {
                msg = inbound.recv() => match msg {
                    Some(Inbound::Frame { bytes, at }) => self.on_frame(&bytes, at).await,
                    Some(Inbound::Oversized { len, at }) => {
                        let t_us = self.trace.now_us().saturating_sub(at.elapsed().as_micros() as u64);
                        self.event("frame_too_large", Some(json!({ "bytes": len, "t_us": t_us })));
                        Ok(())
                    }
                    Some(Inbound::Closed) | None => Err(EndReason::ClientClosed),
                },
                () = sleep_until(wake) => self.on_timer().await,
            };
            if let Err(reason) = step {
                break reason;
            }
        };
        self.note_unanswered();
        let _ = self.trace.end(reason);
        reason
    }

    async fn on_frame(&mut self, bytes: &[u8], at: Instant) -> Result<(), EndReason> {
        self.trace_frame(Direction::ClientToServer, bytes, None, at);
        let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
            return Ok(()); // recorded; the checks report it
        };
        let classified = classify(&value);
        let replies = match classified.envelope {
            Envelope::Batch(parts) => {
                let mut replies = Vec::new();
                for part in parts {
                    if let Some(r) = self.on_message(part)? {
                        replies.push(r);
                    }
                }
                // A batch of requests is answered with a batch (JSON-RPC 2.0 §6).
                if replies.is_empty() { Vec::new() } else { vec![Value::Array(replies)] }
            }
            _ => self.on_message(classified)?.into_iter().collect(),
        };
        for reply in replies {
            self.send(&serde_json::to_vec(&reply).unwrap_or_default(), None).await?;
        }
        self.advance().await
    }

    /// Handle one message; returns the reply to send, if any.
    fn on_message(&mut self, msg: Classified) -> Result<Option<Value>, EndReason> {
        match msg.envelope {
            Envelope::Request { id, method, params } => Ok(Some(self.on_request(id, &method, params.as_ref()))),
            Envelope::Notification { method, .. } => {
                if method == "notifications/initialized" && self.phase == Phase::AwaitInitialized {
                    self.phase = Phase::Running;
                    self.event("script_started", None);
                }
                Ok(None)
            }
            Envelope::Result { id, .. } => {
                self.on_answer(&id);
                Ok(None)
            }
            Envelope::Error { id: Some(id), .. } => {
                self.on_answer(&id);
                Ok(None)
            }
            Envelope::Error { id: None, .. } | Envelope::Batch(_) | Envelope::Invalid => Ok(None),
        }
    }

    fn on_request(&mut self, id: Value, method: &str, params: Option<&Value>) -> Value {
        let result = match (self.phase, method) {
            (_, "ping") => Ok(json!({})),
            (Phase::AwaitInitialize, "initialize") => {
                let requested = params.and_then(|p| p.get("protocolVersion")).and_then(Value::as_str);
                let version = self.script.negotiate(requested);
                self.phase = Phase::AwaitInitialized;
                Ok(json!({
                    "protocolVersion": version,
                    "capabilities": { "tools": {} },
                    "serverInfo": { "name": self.script.server.name, "version": self.script.server.version },
                }))
            }
            (Phase::AwaitInitialize, _) => {
                Err((ErrorCode::METHOD_NOT_FOUND, format!("{method} is not available before initialize")))
            }
            (_, "initialize") => Err((ErrorCode::INVALID_REQUEST, "already initialized".to_owned())),
            (_, "tools/list") => Ok(json!({ "tools": self.script.server.tools })),
            (_, "tools/call") => {
                let name = params.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or_default();
                if self.script.server.tools.iter().any(|t| t.get("name").and_then(Value::as_str) == Some(name)) {
                    Ok(json!({ "content": [{ "type": "text", "text": "ok" }], "isError": false }))
                } else {
                    Err((ErrorCode::INVALID_PARAMS, format!("unknown tool: {name}")))
                }
            }
            _ => Err((ErrorCode::METHOD_NOT_FOUND, format!("method not found: {method}"))),
        };
        match result {
            Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Err((code, message)) => {
                json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code.0, "message": message } })
            }
        }
    }

    fn on_answer(&mut self, id: &Value) {
        // Loose matching is bookkeeping only (stop waiting); the checks judge the id.
        if let Some(o) = self.outstanding.iter_mut().find(|o| !o.answered && id_loosely_equal(&o.id, id)) {
            o.answered = true;
        }
        if matches!(self.timer, Some(Timer::AwaitAnswer(_))) && self.outstanding.last().is_some_and(|o| o.answered) {
            self.timer = None;
        }
        if self.phase == Phase::Draining && self.outstanding.iter().all(|o| o.answered) {
            self.start_grace();
        }
    }

    async fn on_timer(&mut self) -> Result<(), EndReason> {
        let now = Instant::now();
        if now >= self.deadline {
            self.event("timeout", Some(json!({ "timeout_ms": self.script.timeout.as_millis() as u64 })));
            return Err(EndReason::Timeout);
        }
        match self.timer {
            Some(Timer::Sleep(t) | Timer::AwaitAnswer(t)) if now >= t => {
                self.timer = None;
                self.advance().await
            }
            Some(Timer::Drain(t)) if now >= t => {
                self.start_grace();
                Ok(())
            }
            Some(Timer::Grace(t)) if now >= t => Err(EndReason::ScriptDone),
            _ => Ok(()),
        }
    }

    /// Run steps until one blocks or the script is done.
    async fn advance(&mut self) -> Result<(), EndReason> {
        if self.phase != Phase::Running || self.timer.is_some() {
            return Ok(());
        }
        while let Some(step) = self.script.steps.get(self.cursor).cloned() {
            self.cursor += 1;
            match step {
                Step::Request(r) => {
                    if self.send_request(&r).await? {
                        return Ok(());
                    }
                }
                Step::Notification { name, method, params } => {
                    let mut msg = json!({ "jsonrpc": "2.0", "method": method });
                    if let Some(p) = params {
                        msg["params"] = p;
                    }
                    self.send(&serde_json::to_vec(&msg).unwrap_or_default(), Some(&name)).await?;
                }
                Step::Raw { name, line } => self.send(line.as_bytes(), Some(&name)).await?,
                Step::Sleep(d) => {
                    self.timer = Some(Timer::Sleep(Instant::now() + d));
                    return Ok(());
                }
            }
        }
        self.phase = Phase::Draining;
        self.event("script_done", None);
        match self.outstanding.iter().filter(|o| !o.answered).map(|o| o.deadline).max() {
            Some(t) => self.timer = Some(Timer::Drain(t)),
            None => self.start_grace(),
        }
        Ok(())
    }

    /// Send a scripted request; returns whether the script now blocks on its answer.
    async fn send_request(&mut self, r: &RequestStep) -> Result<bool, EndReason> {
        let id = match &r.id {
            IdSpec::Auto => {
                let id = json!(self.next_auto_id);
                self.next_auto_id += 1;
                id
            }
            IdSpec::Fixed(id) => id.clone(),
        };
        // Built by hand so the member order is the conventional one.
        let mut line = format!(r#"{{"jsonrpc":"2.0","id":{},"method":{}"#, id, Value::String(r.method.clone()));
        if let Some(p) = &r.params {
            line.push_str(",\"params\":");
            line.push_str(&p.to_string());
        }
        line.push('}');
        self.send(line.as_bytes(), Some(&r.name)).await?;
        let deadline = Instant::now() + r.answer_within;
        self.outstanding.push(Outstanding { id, deadline, answered: false });
        if r.wait {
            self.timer = Some(Timer::AwaitAnswer(deadline));
        }
        Ok(r.wait)
    }

    fn start_grace(&mut self) {
        self.phase = Phase::Grace;
        self.timer = Some(Timer::Grace(Instant::now() + self.script.grace));
    }

    fn note_unanswered(&mut self) {
        let unanswered: Vec<Value> = self.outstanding.iter().filter(|o| !o.answered).map(|o| o.id.clone()).collect();
        if !unanswered.is_empty() {
            self.event("unanswered", Some(json!({ "ids": unanswered })));
        }
    }

    async fn send(&mut self, frame: &[u8], step: Option<&str>) -> Result<(), EndReason> {
        self.trace_frame(Direction::ServerToClient, frame, step, Instant::now());
        self.sink.send(frame).await.map_err(|_| EndReason::WriteFailed)
    }

    fn trace_frame(&mut self, dir: Direction, bytes: &[u8], step: Option<&str>, at: Instant) {
        if let Err(e) = self.trace.frame(dir, bytes, step, at.into_std()) {
            tracing::error!(error = %e, "failed to write the trace");
        }
    }

    fn event(&mut self, event: &str, detail: Option<Value>) {
        if let Err(e) = self.trace.event(event, detail) {
            tracing::error!(error = %e, "failed to write the trace");
        }
    }
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
}
