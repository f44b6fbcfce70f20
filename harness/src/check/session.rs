//! A structured view of one recorded session, built from the trace alone: the
//! client's `initialize`, what the mock sent, and which answer belongs to which
//! request. Everything is parsed here from the raw frames with the independent
//! wire classifier; nothing comes from the client's SDK.

use std::collections::HashMap;

use backchannel_mock::trace::{Direction, Frame, HttpStream, Trace};
use backchannel_mock::wire::{Classified, Envelope, classify, loose_key};
use backchannel_protocol::Revision;
use serde_json::Value;

/// A request the mock sent.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The step name recorded on the frame (absent for the mock's own traffic).
    pub step: Option<String>,
    /// The id exactly as sent.
    pub id: Value,
    /// The method.
    pub method: String,
    /// Frame number.
    pub seq: u64,
    /// When it was sent (µs since start).
    pub t_us: u64,
    /// Over HTTP: the stream it went out on.
    pub stream: Option<HttpStream>,
}

impl Sent {
    /// Whether this is the mock's closing barrier `ping`, not a scripted request.
    pub fn is_barrier(&self) -> bool {
        self.step.as_deref() == Some(backchannel_mock::engine::BARRIER_STEP)
    }
}

/// What an answer said.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerKind {
    /// A success result.
    Result(Value),
    /// An error.
    Error {
        /// The code, when it is an integer.
        code: Option<i64>,
        /// The message, when it is a string.
        message: Option<String>,
    },
}

/// A response the client sent.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Frame number.
    pub seq: u64,
    /// When it arrived (µs since start).
    pub t_us: u64,
    /// The id exactly as the client wrote it (`None`: absent or null).
    pub id: Option<Value>,
    /// Result or error.
    pub kind: AnswerKind,
    /// Index into [`Session::sent`] of the request it answers, if any.
    pub answers: Option<usize>,
    /// Whether the id matched that request's exactly (vs. only loosely: `7` for `"7"`).
    pub exact: bool,
}

/// A request the client sent (2026-07-28 judges each one's `_meta`).
#[derive(Debug, Clone)]
pub struct ClientRequest {
    /// Frame number.
    pub seq: u64,
    /// When it arrived (µs since start).
    pub t_us: u64,
    /// The id.
    pub id: Value,
    /// The method.
    pub method: String,
    /// The params, when any.
    pub params: Option<Value>,
}

impl ClientRequest {
    /// `params._meta`, when it is an object.
    pub fn meta(&self) -> Option<&serde_json::Map<String, Value>> {
        self.params.as_ref()?.get("_meta")?.as_object()
    }
}

/// An `InputRequiredResult` the mock sent (an MRTR round, 2026-07-28).
#[derive(Debug, Clone)]
pub struct Round {
    /// The step name recorded on the frame.
    pub step: String,
    /// Frame number.
    pub seq: u64,
    /// When it was sent (µs since start).
    pub t_us: u64,
    /// The id of the client request it answered.
    pub answers: Value,
    /// The result as sent.
    pub result: Value,
}

/// The `_meta` key of the client's capabilities on a 2026-07-28 request.
pub const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// The `_meta` key of the protocol version on a 2026-07-28 request.
pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key of the client's identity on a 2026-07-28 request.
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";

/// The session as the checks see it.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The client's `initialize` request frame and params, when it sent one.
    pub initialize: Option<(u64, Value)>,
    /// Whether the first client frame was `initialize`.
    pub initialize_first: bool,
    /// The frame of the client's `notifications/initialized`.
    pub initialized: Option<u64>,
    /// Requests the mock sent (scripted or not).
    pub sent: Vec<Sent>,
    /// Responses the client sent.
    pub answers: Vec<Answer>,
    /// Every client frame with its classification (`None`: not JSON).
    pub client_frames: Vec<(u64, Option<Classified>, Option<String>)>,
    /// The protocol revision the server answered `initialize` with (`None`: no answer,
    /// or a date the kit does not know).
    pub negotiated: Option<Revision>,
    /// Notifications the client sent: `(frame, method)`.
    pub notifications: Vec<(u64, String)>,
    /// Client frames the HTTP mock refused (4xx): they never reached the server,
    /// so their answers do not count. `(frame, status)`.
    pub rejected: Vec<(u64, u16)>,
    /// Every request the client sent, in order.
    pub requests: Vec<ClientRequest>,
    /// The MRTR rounds the mock sent, in order.
    pub rounds: Vec<Round>,
    /// Indexes that keep attribution linear in the size of the session.
    index: Index,
}

/// Lookups over [`Session::sent`] and [`Session::answers`], maintained as frames
/// are read: a session of N requests and N answers costs O(N), not O(N²).
#[derive(Debug, Clone, Default)]
struct Index {
    /// Sent requests by exact id (its JSON text), in order.
    exact: HashMap<String, Vec<usize>>,
    /// Sent requests by loose id form, in order.
    loose: HashMap<String, Vec<usize>>,
    /// Per sent request: how many answers were attributed to it, and the first.
    answered: Vec<(u32, Option<usize>)>,
    /// The first sent request of each step name.
    by_step: HashMap<String, usize>,
}

impl Session {
    /// Build the view from a trace.
    pub fn from_trace(trace: &Trace) -> Self {
        let status: HashMap<u64, u16> = trace.http_exchanges().map(|h| (h.exchange, h.status)).collect();
        let mut s = Self::default();
        for frame in trace.frames() {
            match frame.dir {
                Direction::ServerToClient => s.on_server_frame(frame),
                Direction::ClientToServer => {
                    let refused = frame.http.and_then(|h| status.get(&h.exchange)).copied().filter(|st| *st >= 400);
                    if let Some(st) = refused {
                        s.rejected.push((frame.seq, st));
                    }
                    s.on_client_frame(frame, refused.is_some());
                }
            }
        }
        s
    }

    fn on_server_frame(&mut self, frame: &Frame) {
        let Some(json) = &frame.json else { return };
        let c = classify(json);
        if let Envelope::Result { result, .. } = &c.envelope
            && self.initialize.is_some()
            && self.negotiated.is_none()
            && let Some(v) = result.get("protocolVersion").and_then(Value::as_str)
        {
            self.negotiated = Revision::from_wire(v);
        }
        if let (Envelope::Result { id, result }, Some(step)) = (&c.envelope, &frame.step)
            && result.get("resultType").and_then(Value::as_str) == Some("input_required")
        {
            self.rounds.push(Round {
                step: step.clone(),
                seq: frame.seq,
                t_us: frame.t_us,
                answers: id.clone(),
                result: result.clone(),
            });
        }
        // A batch frame's step is its members' names joined with `+`.
        let mut names = frame
            .step
            .as_deref()
            .map(|s| s.split('+').map(str::to_owned).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter();
        let single = frame.step.clone();
        let is_batch = matches!(c.envelope, Envelope::Batch(_));
        let mut push = |env: &Envelope| {
            if let Envelope::Request { id, method, .. } = env {
                let i = self.sent.len();
                self.index.exact.entry(id.to_string()).or_default().push(i);
                self.index.loose.entry(loose_key(id)).or_default().push(i);
                self.index.answered.push((0, None));
                let step = if is_batch { names.next() } else { single.clone() };
                if let Some(name) = &step {
                    self.index.by_step.entry(name.clone()).or_insert(i);
                }
                self.sent.push(Sent {
                    step,
                    id: id.clone(),
                    method: method.clone(),
                    seq: frame.seq,
                    t_us: frame.t_us,
                    stream: frame.http.map(|h| h.stream),
                });
            }
        };
        match &c.envelope {
            Envelope::Batch(parts) => parts.iter().for_each(|p| push(&p.envelope)),
            env => push(env),
        }
    }

    /// Every client frame counts for the wire checks and "initialize first"; only
    /// the delivered ones (not refused by the HTTP mock) count as messages.
    fn on_client_frame(&mut self, frame: &Frame, refused: bool) {
        let first = self.client_frames.is_empty();
        let Some(json) = &frame.json else {
            self.client_frames.push((frame.seq, None, frame.parse_error.clone()));
            return;
        };
        let c = classify(json);
        if refused {
            if let (true, Some("initialize")) = (first, c.envelope.method()) {
                self.initialize_first = true;
            }
            self.client_frames.push((frame.seq, Some(c), None));
            return;
        }
        let parts: Vec<Envelope> = match &c.envelope {
            Envelope::Batch(parts) => parts.iter().map(|p| p.envelope.clone()).collect(),
            env => vec![env.clone()],
        };
        for env in parts {
            if let Envelope::Request { id, method, params } = &env {
                self.requests.push(ClientRequest {
                    seq: frame.seq,
                    t_us: frame.t_us,
                    id: id.clone(),
                    method: method.clone(),
                    params: params.clone(),
                });
            }
            match env {
                Envelope::Request { method, params, .. } if method == "initialize" && self.initialize.is_none() => {
                    // A dual-era client's `server/discover` probe may come first
                    // (2026-07-28 basic/versioning.mdx, Backward Compatibility).
                    self.initialize_first = first
                        || self
                            .client_frames
                            .iter()
                            .all(|(_, c, _)| c.as_ref().and_then(|c| c.envelope.method()) == Some("server/discover"));
                    self.initialize = Some((frame.seq, params.unwrap_or(Value::Null)));
                }
                Envelope::Notification { method, .. } => {
                    if method == "notifications/initialized" {
                        self.initialized.get_or_insert(frame.seq);
                    }
                    self.notifications.push((frame.seq, method));
                }
                Envelope::Result { id, result } => self.on_answer(frame, Some(id), AnswerKind::Result(result)),
                Envelope::Error { id, code, message, .. } => {
                    self.on_answer(frame, id, AnswerKind::Error { code, message })
                }
                _ => {}
            }
        }
        self.client_frames.push((frame.seq, Some(c), None));
    }

    fn on_answer(&mut self, frame: &Frame, id: Option<Value>, kind: AnswerKind) {
        let id = id.filter(|v| !v.is_null());
        let ix = &self.index;
        let unanswered = |i: &&usize| ix.answered[**i].0 == 0;
        // Exact id first (earliest unanswered request with it), then loosely.
        let mut target = None;
        if let Some(id) = &id {
            let exact = ix.exact.get(&id.to_string()).map(Vec::as_slice).unwrap_or_default();
            target = exact.iter().find(unanswered).map(|&i| (i, true));
            if target.is_none() {
                // A second answer to an already answered request: attribute it for the
                // one-answer check (before any loose match: `7` answered twice is not
                // an answer to an outstanding `"7"`).
                target = exact.first().map(|&i| (i, true));
            }
            if target.is_none() {
                let loose = ix.loose.get(&loose_key(id)).map(Vec::as_slice).unwrap_or_default();
                target = loose.iter().find(unanswered).map(|&i| (i, false));
            }
        }
        if let Some((i, _)) = target {
            let entry = &mut self.index.answered[i];
            entry.0 += 1;
            entry.1.get_or_insert(self.answers.len());
        }
        self.answers.push(Answer {
            seq: frame.seq,
            t_us: frame.t_us,
            id,
            kind,
            answers: target.map(|(i, _)| i),
            exact: target.is_some_and(|(_, e)| e),
        });
    }

    /// The capabilities object the client declared: in `initialize`, or (2026-07-28)
    /// in the `_meta` of its first request that carries them.
    pub fn capabilities(&self) -> Option<&Value> {
        match &self.initialize {
            Some((_, p)) => p.get("capabilities"),
            None => self.requests.iter().find_map(|r| r.meta()?.get(META_CAPABILITIES)),
        }
    }

    /// Whether the client declared capability `name` (any value but null and `false`):
    /// a top-level name (`sampling`) or a dotted path (`sampling.tools`, `roots.listChanged`).
    pub fn declares(&self, name: &str) -> bool {
        let pointer = format!("/{}", name.replace('.', "/"));
        self.capabilities().and_then(|c| c.pointer(&pointer)).is_some_and(|v| !v.is_null() && *v != Value::Bool(false))
    }

    /// `clientInfo.name`, when given (in `initialize`, or in a 2026-07-28 request's `_meta`).
    pub fn client_name(&self) -> Option<&str> {
        match &self.initialize {
            Some((_, p)) => p.pointer("/clientInfo/name").and_then(Value::as_str),
            None => self.requests.iter().find_map(|r| r.meta()?.get(META_CLIENT_INFO)?.get("name")?.as_str()),
        }
    }

    /// Whether the client asked for 2026-07-28: probed with `server/discover`, asked
    /// for it in `initialize`, or sent a request whose `_meta` names it — in any
    /// request it sent, also one the HTTP mock refused (what it asked for is its
    /// intent, whether or not the server took the request).
    pub fn asked_for_modern(&self) -> bool {
        let modern =
            |v: Option<&Value>| v.and_then(Value::as_str).and_then(Revision::from_wire) == Some(Revision::MODERN);
        self.sent_requests().any(|(method, params)| {
            method == "server/discover"
                || (method == "initialize" && modern(params.and_then(|p| p.get("protocolVersion"))))
                || modern(params.and_then(|p| p.get("_meta")).and_then(|m| m.get(META_VERSION)))
        })
    }

    /// Every request the client sent (method, params), delivered or refused by the
    /// HTTP mock, in order.
    pub fn sent_requests(&self) -> impl Iterator<Item = (&str, Option<&Value>)> {
        self.client_frames.iter().filter_map(|(_, c, _)| c.as_ref()).flat_map(|c| {
            let parts: Vec<&Envelope> = match &c.envelope {
                Envelope::Batch(parts) => parts.iter().map(|p| &p.envelope).collect(),
                env => vec![env],
            };
            parts.into_iter().filter_map(|e| match e {
                Envelope::Request { method, params, .. } => Some((method.as_str(), params.as_ref())),
                _ => None,
            })
        })
    }

    /// Index of the sent request recorded with this step name.
    pub fn sent_by_step(&self, step: &str) -> Option<usize> {
        self.index.by_step.get(step).copied()
    }

    /// The first answer attributed to sent request `i`.
    pub fn answer_to(&self, i: usize) -> Option<&Answer> {
        self.index.answered.get(i)?.1.map(|a| &self.answers[a])
    }

    /// How many answers were attributed to sent request `i`.
    pub fn answer_count(&self, i: usize) -> u32 {
        self.index.answered.get(i).map_or(0, |(n, _)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backchannel_mock::trace::Record;

    pub(crate) fn frame(seq: u64, t_us: u64, dir: Direction, json: Value, step: Option<&str>) -> Record {
        Record::Frame(Frame {
            seq,
            t_us,
            dir,
            raw: json.to_string(),
            json: Some(json),
            parse_error: None,
            step: step.map(str::to_owned),
            lossy_utf8: false,
            http: None,
        })
    }

    #[test]
    fn answers_are_attributed_exactly_then_loosely() {
        use serde_json::json;
        let c2s = Direction::ClientToServer;
        let s2c = Direction::ServerToClient;
        let trace = Trace {
            records: vec![
                frame(
                    1,
                    0,
                    c2s,
                    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":{"roots":{}},"clientInfo":{"name":"c"}}}),
                    None,
                ),
                frame(2, 1, s2c, json!({"jsonrpc":"2.0","id":0,"result":{}}), None),
                frame(3, 2, c2s, json!({"jsonrpc":"2.0","method":"notifications/initialized"}), None),
                frame(4, 3, s2c, json!({"jsonrpc":"2.0","id":7,"method":"ping"}), Some("a")),
                frame(5, 4, s2c, json!({"jsonrpc":"2.0","id":"x","method":"ping"}), Some("b")),
                frame(6, 5, c2s, json!({"jsonrpc":"2.0","id":"7","result":{}}), None),
                frame(7, 6, c2s, json!({"jsonrpc":"2.0","id":"x","error":{"code":-1,"message":"m"}}), None),
                frame(8, 7, c2s, json!({"jsonrpc":"2.0","id":"x","result":{}}), None),
                frame(9, 8, c2s, json!({"jsonrpc":"2.0","id":99,"result":{}}), None),
            ],
            unreadable_lines: 0,
        };
        let s = Session::from_trace(&trace);
        assert!(s.initialize_first);
        assert_eq!(s.initialized, Some(3));
        assert!(s.declares("roots") && !s.declares("sampling"));
        assert_eq!(s.client_name(), Some("c"));
        assert_eq!(s.sent.len(), 2);
        let a: Vec<_> = s.answers.iter().map(|a| (a.answers, a.exact)).collect();
        assert_eq!(a, [(Some(0), false), (Some(1), true), (Some(1), true), (None, false)]);
        assert_eq!(s.sent_by_step("b"), Some(1));
        assert!(!s.asked_for_modern());
    }

    #[test]
    fn asking_for_2026_07_28_is_seen_in_a_probe_initialize_or_meta() {
        use serde_json::json;
        let c2s = Direction::ClientToServer;
        let one = |j| Session::from_trace(&Trace { records: vec![frame(1, 0, c2s, j, None)], unreadable_lines: 0 });
        assert!(one(json!({"jsonrpc":"2.0","id":1,"method":"server/discover"})).asked_for_modern());
        assert!(
            one(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2026-07-28"}}))
                .asked_for_modern()
        );
        assert!(
            !one(json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}))
                .asked_for_modern()
        );
        let meta = json!({"io.modelcontextprotocol/protocolVersion":"2026-07-28"});
        assert!(one(json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":meta}})).asked_for_modern());
    }
}
