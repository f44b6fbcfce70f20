//! The trace: every frame both ways, as JSON Lines.
//!
//! # Wire format (format 1)
//!
//! One JSON object per line, tagged by `kind`:
//!
//! - `{"kind":"start","format":2,"scenario":…,"transport":"stdio","canary":…}` — first line
//!   (`transport` is `stdio`, `http` or `sse`; `revision`, when the case pins one, the
//!   revision the mock speaks).
//! - `{"kind":"frame","seq":N,"t_us":T,"dir":"c2s"|"s2c","raw":…,"json":…}` — one frame.
//!   `raw` is the line exactly as read or written (invalid UTF-8 replaced, then
//!   `lossy_utf8: true`); `json` is the parsed value, or `parse_error` says why
//!   there is none. Frames the script sent carry `step` (the step's name).
//!   Over HTTP a frame also carries `http: {"exchange":N,"stream":…}`: the HTTP exchange
//!   that carried it and the stream kind (`post_body`, `post_json`, `post_sse`,
//!   `get_sse`, `legacy_sse`).
//! - `{"kind":"http","exchange":N,"t_us":T,"method":"POST","path":"/mcp","status":202,…}` —
//!   one HTTP request the mock received, with the headers the checks need
//!   (`session`, `protocol_version`, `origin`, `accept`), the status it answered and,
//!   for a rejected request, why (`note`). Written when the status is decided.
//! - `{"kind":"event","t_us":T,"event":…,"detail":…}` — something the mock did or saw
//!   that is not a frame; `event` names it and `detail` holds its fields ([`EventKind`]
//!   lists every event and its detail).
//! - `{"kind":"end","t_us":T,"reason":…}` — last line, when the session ended cleanly.
//!
//! `t_us` is microseconds on a monotonic clock since the `start` record; `seq`
//! counts frames from 1. A reader must tolerate a missing `end` record and a
//! truncated last line (the process may have been killed).
//!
//! Format 2 (this version) typed the events ([`EventKind`]) and merged format 1's
//! `undeliverable` into `undelivered`; it added `revision` to the start record.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use backchannel_protocol::{Revision, Transport};

/// The trace format version written in the `start` record.
pub const FORMAT: u32 = 2;

/// Which way a frame travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// From the client under test to the mock server.
    #[serde(rename = "c2s")]
    ClientToServer,
    /// From the mock server to the client under test.
    #[serde(rename = "s2c")]
    ServerToClient,
}

/// One line of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The first record.
    Start(Start),
    /// A frame on the wire.
    Frame(Frame),
    /// One HTTP request and the status it got.
    Http(HttpExchange),
    /// A non-frame event.
    Event(Event),
    /// The last record of a session that ended in an orderly way.
    End(End),
}

/// The `start` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Start {
    /// Trace format version ([`FORMAT`]).
    pub format: u32,
    /// The scenario's id.
    pub scenario: String,
    /// The transport the session runs on.
    pub transport: Transport,
    /// The revision the mock speaks, when the case pins one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
    /// The canary token `{{canary}}` expanded to in this run.
    pub canary: String,
}

/// A frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// 1-based frame counter.
    pub seq: u64,
    /// Microseconds since the start record.
    pub t_us: u64,
    /// Direction.
    pub dir: Direction,
    /// The frame's text as read or written, without the line terminator.
    pub raw: String,
    /// The parsed JSON value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Why `raw` did not parse as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// The name of the script step that sent this frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The raw bytes were not valid UTF-8 and were replaced lossily.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lossy_utf8: bool,
    /// Over HTTP: the exchange and stream that carried the frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRef>,
}

/// Where an HTTP-borne frame travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRef {
    /// The exchange number (see [`HttpExchange::exchange`]).
    pub exchange: u64,
    /// Which part of the exchange.
    pub stream: HttpStream,
}

/// The stream kinds of the HTTP transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpStream {
    /// The body of a client POST (client → server).
    PostBody,
    /// A JSON response body to a POST.
    PostJson,
    /// The SSE response stream of a POST.
    PostSse,
    /// The standalone SSE stream of a GET (Streamable HTTP).
    GetSse,
    /// The event stream of the legacy HTTP+SSE transport.
    LegacySse,
}

impl std::fmt::Display for HttpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::PostBody => "POST body",
            Self::PostJson => "POST JSON response",
            Self::PostSse => "POST SSE stream",
            Self::GetSse => "GET SSE stream",
            Self::LegacySse => "HTTP+SSE event stream",
        })
    }
}

/// One HTTP request the mock received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpExchange {
    /// 1-based exchange counter.
    pub exchange: u64,
    /// Microseconds since the start record, when the request arrived.
    pub t_us: u64,
    /// `GET`, `POST`, `DELETE`.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The status the mock answered.
    pub status: u16,
    /// The `MCP-Session-Id` header sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The `MCP-Protocol-Version` header sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// The `Origin` header sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The `Accept` header sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
    /// Why the request was rejected, or what it opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The session id the server issued in this exchange (the `initialize` POST, or
    /// the legacy `GET /sse` whose endpoint names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_session: Option<String>,
    /// The MCP request metadata headers sent (2026-07-28: `mcp-method`, `mcp-name`,
    /// `mcp-param-*`; names lowercased, values as received).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mcp: crate::wire::headers::McpHeaders,
    /// The `Last-Event-ID` header sent (a resumption attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_id: Option<String>,
}

/// A non-frame event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Microseconds since the start record.
    pub t_us: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Every event the mock records: `{"event": <name>, "detail": {<fields>}}` (no
/// `detail` for the events without fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// The steps started (after `notifications/initialized`, or at the trigger call).
    ScriptStarted,
    /// Every step was sent; the mock waits for outstanding answers.
    ScriptDone,
    /// 2026-07-28: the client retried the trigger call after an `InputRequiredResult`,
    /// or re-issued it after its response stream broke.
    Retry,
    /// 2026-07-28: no retry (or re-issue) came within the step's window.
    NoRetry,
    /// 2026-07-28 over Streamable HTTP: a `break_stream` step aborted the response
    /// stream of the request in flight, before its result.
    StreamBroken {
        /// The step.
        step: String,
        /// The id of the request whose stream was broken.
        id: Value,
    },
    /// An `input_required` step had no call in flight to answer, and was skipped.
    RoundSkipped {
        /// The step.
        step: String,
    },
    /// The scenario's whole-session timeout ended the session.
    Timeout {
        /// The timeout.
        timeout_ms: u64,
    },
    /// A client frame longer than the transport's limit was discarded.
    FrameTooLarge {
        /// Its length.
        bytes: usize,
        /// When the transport finished skipping it (µs since start).
        t_us: u64,
    },
    /// Requests the client never answered, when the session ended.
    Unanswered {
        /// Their ids.
        ids: Vec<Value>,
    },
    /// HTTP+SSE: the endpoint the client was told to POST to.
    Endpoint {
        /// The URI.
        uri: String,
    },
    /// Streamable HTTP: a server message waits for the client's GET stream.
    QueuedForGetStream {
        /// The step that sent it.
        step: Option<String>,
    },
    /// Streamable HTTP: a `close_stream` step closed the connection of an SSE stream
    /// without ending the stream — gracefully, after a `retry` field when it has one,
    /// or by aborting it as a network failure would (`abort`). What is sent to the
    /// stream from then on is [`EventKind::Held`] for the client to resume.
    StreamClosed {
        /// The step.
        step: String,
        /// The stream (`s1`, `s2`…: the prefix of its event ids).
        stream: String,
        /// The exchange whose connection was closed (the POST or the GET).
        exchange: u64,
        /// The id of the last event written on the connection: what a client that
        /// resumes should send as `Last-Event-ID`.
        last_event_id: String,
        /// The `retry` field sent before a graceful close (milliseconds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_ms: Option<u64>,
        /// An abort (a broken connection), not a graceful close.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        abort: bool,
        /// The id of the client's request in flight whose response stream this is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<Value>,
    },
    /// Streamable HTTP: a server message for a stream whose connection is closed,
    /// kept under its event id for the client to resume (`Last-Event-ID`).
    Held {
        /// The step that sent it (`null` for a reply).
        step: Option<String>,
        /// The stream.
        stream: String,
        /// Its event id.
        event_id: String,
    },
    /// Streamable HTTP: a GET carrying `Last-Event-ID` resumed a stream; the events
    /// after that id were replayed on it (their frames follow, on this exchange).
    Resumed {
        /// The stream.
        stream: String,
        /// The GET.
        exchange: u64,
        /// The `Last-Event-ID` the client sent.
        last_event_id: String,
        /// How many messages were replayed.
        replayed: usize,
    },
    /// Server messages that never reached the client.
    Undelivered {
        /// The steps that sent them (`null` for replies).
        steps: Vec<Option<String>>,
        /// Why.
        why: String,
    },
}

impl EventKind {
    /// The event's name as the trace writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ScriptStarted => "script_started",
            Self::ScriptDone => "script_done",
            Self::Retry => "retry",
            Self::NoRetry => "no_retry",
            Self::StreamBroken { .. } => "stream_broken",
            Self::RoundSkipped { .. } => "round_skipped",
            Self::Timeout { .. } => "timeout",
            Self::FrameTooLarge { .. } => "frame_too_large",
            Self::Unanswered { .. } => "unanswered",
            Self::Endpoint { .. } => "endpoint",
            Self::QueuedForGetStream { .. } => "queued_for_get_stream",
            Self::StreamClosed { .. } => "stream_closed",
            Self::Held { .. } => "held",
            Self::Resumed { .. } => "resumed",
            Self::Undelivered { .. } => "undelivered",
        }
    }
}

/// The `end` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    /// Microseconds since the start record.
    pub t_us: u64,
    /// Why the session ended.
    pub reason: EndReason,
}

/// Why a mock session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The script finished and the grace period passed; the mock closed the session.
    ScriptDone,
    /// The client closed its side (EOF on stdin).
    ClientClosed,
    /// The scenario's timeout elapsed.
    Timeout,
    /// Writing to the client failed.
    WriteFailed,
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ScriptDone => "the script finished and the mock closed the session",
            Self::ClientClosed => "the client closed its side",
            Self::Timeout => "the scenario timed out",
            Self::WriteFailed => "the client stopped reading (write failed)",
        })
    }
}

/// How many mock processes one case may trace ([`TraceWriter::create_next`]).
pub const MAX_TRACES: usize = 64;

/// The `n`th trace of a case (1-based): `path` itself, then `trace.2.jsonl`,
/// `trace.3.jsonl`… beside it.
pub fn numbered(path: &Path, n: usize) -> std::path::PathBuf {
    if n <= 1 {
        return path.to_owned();
    }
    let stem = path.file_stem().map_or_else(|| "trace".into(), |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{n}"),
    };
    path.with_file_name(name)
}

/// Every trace of a case that exists, in the order the processes started.
pub fn traces_of(path: &Path) -> Vec<std::path::PathBuf> {
    (1..=MAX_TRACES).map(|n| numbered(path, n)).take_while(|p| p.exists()).collect()
}

/// Appends records to a trace file, flushing each one so a killed process
/// still leaves everything it saw.
#[derive(Debug)]
pub struct TraceWriter {
    out: Option<BufWriter<File>>,
    clock: Instant,
    seq: u64,
}

impl TraceWriter {
    /// A writer to `path` (created or truncated).
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(Self { out: Some(BufWriter::new(File::create(path)?)), clock: Instant::now(), seq: 0 })
    }

    /// A writer to `path`, or — when `path` exists (an earlier process of the same case
    /// wrote it) — to the first free [`numbered`] sibling, each created exclusively:
    /// mock processes started at once by a gateway each get a trace of their own.
    pub fn create_next(path: &Path) -> io::Result<Self> {
        for n in 1..=MAX_TRACES {
            let candidate = numbered(path, n);
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&candidate) {
                Ok(f) => return Ok(Self { out: Some(BufWriter::new(f)), clock: Instant::now(), seq: 0 }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(format!("{MAX_TRACES} traces already exist beside {}", path.display())))
    }

    /// A writer that keeps nothing (a mock run without `--trace`).
    pub fn discard() -> Self {
        Self { out: None, clock: Instant::now(), seq: 0 }
    }

    /// Microseconds since this writer was created.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Write the start record (resets the clock).
    pub fn start(&mut self, start: Start) -> io::Result<()> {
        self.clock = Instant::now();
        self.write(&Record::Start(start))
    }

    /// Record a frame seen at `at`. `bytes` is the frame without its terminator.
    pub fn frame(&mut self, dir: Direction, bytes: &[u8], step: Option<&str>, at: Instant) -> io::Result<()> {
        self.frame_via(dir, bytes, step, at, None)
    }

    /// Record a frame that travelled over HTTP.
    pub fn frame_via(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        step: Option<&str>,
        at: Instant,
        http: Option<HttpRef>,
    ) -> io::Result<()> {
        self.seq += 1;
        let (raw, lossy_utf8) = match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_owned(), false),
            Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
        };
        let (json, parse_error) = match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let t_us = u64::try_from(at.saturating_duration_since(self.clock).as_micros()).unwrap_or(u64::MAX);
        let frame =
            Frame { seq: self.seq, t_us, dir, raw, json, parse_error, step: step.map(str::to_owned), lossy_utf8, http };
        self.write(&Record::Frame(frame))
    }

    /// Microseconds since the start record at `at`.
    pub fn us_at(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.clock).as_micros()).unwrap_or(u64::MAX)
    }

    /// Record an HTTP exchange.
    pub fn http(&mut self, exchange: HttpExchange) -> io::Result<()> {
        self.write(&Record::Http(exchange))
    }

    /// Record an event.
    pub fn event(&mut self, kind: EventKind) -> io::Result<()> {
        let t_us = self.now_us();
        self.write(&Record::Event(Event { t_us, kind }))
    }

    /// Record the end of the session.
    pub fn end(&mut self, reason: EndReason) -> io::Result<()> {
        let t_us = self.now_us();
        self.write(&Record::End(End { t_us, reason }))
    }

    fn write(&mut self, record: &Record) -> io::Result<()> {
        let Some(out) = self.out.as_mut() else { return Ok(()) };
        serde_json::to_writer(&mut *out, record)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// A trace read back from disk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    /// Every record, in order.
    pub records: Vec<Record>,
    /// Lines that could not be read as records (e.g. a truncated last line).
    pub unreadable_lines: usize,
}

impl Trace {
    /// Read a trace file. Unreadable lines are counted, not fatal.
    pub fn read(path: &Path) -> io::Result<Self> {
        let mut trace = Self::default();
        for line in BufReader::new(File::open(path)?).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(&line) {
                Ok(r) => trace.records.push(r),
                Err(_) => trace.unreadable_lines += 1,
            }
        }
        Ok(trace)
    }

    /// The start record, when present.
    pub fn start(&self) -> Option<&Start> {
        self.records.iter().find_map(|r| match r {
            Record::Start(s) => Some(s),
            _ => None,
        })
    }

    /// The canary of this run, when the trace has a start record.
    pub fn canary(&self) -> Option<&str> {
        self.start().map(|s| s.canary.as_str())
    }

    /// All frames, in order.
    pub fn frames(&self) -> impl Iterator<Item = &Frame> {
        self.records.iter().filter_map(|r| match r {
            Record::Frame(f) => Some(f),
            _ => None,
        })
    }

    /// All HTTP exchanges, in order of their status decision.
    pub fn http_exchanges(&self) -> impl Iterator<Item = &HttpExchange> {
        self.records.iter().filter_map(|r| match r {
            Record::Http(h) => Some(h),
            _ => None,
        })
    }

    /// All events, in order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.records.iter().filter_map(|r| match r {
            Record::Event(e) => Some(e),
            _ => None,
        })
    }

    /// The end record, when the session ended in an orderly way.
    pub fn end(&self) -> Option<&End> {
        self.records.iter().find_map(|r| match r {
            Record::End(e) => Some(e),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("bc-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.jsonl");
        let mut w = TraceWriter::create(&path).unwrap();
        w.start(Start {
            format: FORMAT,
            scenario: "s".into(),
            transport: Transport::Stdio,
            revision: Some(Revision::V2025_06_18),
            canary: "c".into(),
        })
        .unwrap();
        w.frame(Direction::ServerToClient, br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, Some("p"), Instant::now())
            .unwrap();
        w.frame(Direction::ClientToServer, b"not json \xff", None, Instant::now()).unwrap();
        w.event(EventKind::ScriptDone).unwrap();
        w.event(EventKind::Unanswered { ids: vec![serde_json::json!(7)] }).unwrap();
        w.end(EndReason::ScriptDone).unwrap();
        drop(w);
        // A truncated last line is tolerated.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"kind\":\"fra").unwrap();

        let t = Trace::read(&path).unwrap();
        assert_eq!(t.canary(), Some("c"));
        assert_eq!(t.unreadable_lines, 1);
        let frames: Vec<_> = t.frames().collect();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].step.as_deref(), Some("p"));
        assert!(frames[0].json.is_some());
        assert!(frames[1].lossy_utf8);
        assert!(frames[1].parse_error.is_some());
        assert_eq!(t.end().map(|e| e.reason), Some(EndReason::ScriptDone));
        let events: Vec<_> = t.events().map(|e| e.kind.clone()).collect();
        assert_eq!(events, [EventKind::ScriptDone, EventKind::Unanswered { ids: vec![serde_json::json!(7)] }]);
        assert_eq!(t.start().map(|s| s.transport), Some(Transport::Stdio));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
