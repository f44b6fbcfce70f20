//! The Rust API of a mock session: what the server says about itself, and the
//! steps it runs against the client once the client is initialized.
//!
//! The YAML scenario format lives in the harness and compiles to a [`Script`];
//! the mock never sees YAML semantics beyond this.

//!
//! A script serializes (JSON): the harness compiles a scenario once and hands the
//! stdio mock the compiled script (`backchannel mock --script FILE`), so the mock
//! never re-reads the YAML.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canary::Canary;
use backchannel_protocol::Revision;
pub use backchannel_protocol::RoundMethod;

/// Durations as whole milliseconds in the serialized script.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A complete mock session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The scenario id (recorded in the trace).
    pub scenario: String,
    /// How the server presents itself.
    pub server: ServerSettings,
    /// The steps, run in order after `notifications/initialized`.
    pub steps: Vec<Step>,
    /// The whole session ends after this long, whatever happens.
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// After the last step, its answers and the barrier, wait this long for late
    /// frames (what a barrier cannot prove: answers sent concurrently, late logs).
    #[serde(with = "millis")]
    pub grace: Duration,
    /// Send the barrier `ping` when the script is done (revisions with `ping`).
    #[serde(default = "yes")]
    pub barrier: bool,
    /// When the steps start.
    pub trigger: Trigger,
    /// Where server-initiated messages go over Streamable HTTP, unless a step says otherwise.
    pub delivery: Delivery,
    /// 2026-07-28: which request of the client the input rounds answer (with
    /// [`Trigger::ToolCall`], whose name is then the prompt's, or the resource's
    /// `backchannel://NAME`).
    #[serde(default)]
    pub round_method: RoundMethod,
    /// Answer an `initialize` after the first like the first, the session's phase
    /// unchanged, instead of refusing it (-32600): a gateway that puts all its
    /// downstream sessions on one upstream session sends one per downstream session,
    /// and common servers answer it (the harness sets this for gateway cases).
    #[serde(default)]
    pub answer_repeated_initialize: bool,
}

fn yes() -> bool {
    true
}

/// When a script's steps start.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Right after the client's `notifications/initialized`.
    #[default]
    Initialized,
    /// When the client calls this tool (listed by `tools/list`); the steps run
    /// while that `tools/call` is in flight, and its result is sent after them.
    ToolCall {
        /// The tool's name.
        tool: String,
    },
    /// Right after the `initialize` response, before `notifications/initialized`
    /// (which servers SHOULD wait for: a robustness case, on purpose).
    BeforeInitialized,
}

/// Where a server-initiated message travels over Streamable HTTP (stdio and the
/// legacy HTTP+SSE transport have one stream; there it makes no difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// The standalone SSE stream the client opens with GET.
    #[default]
    GetStream,
    /// The SSE response stream of the client's in-flight `tools/call` (the trigger).
    RequestStream,
}

/// How the mock server presents itself in `initialize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Pin the protocol revision offered, whatever the client asks for.
    pub protocol_version: Option<Revision>,
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// Tools listed by `tools/list` (each a `Tool` object).
    pub tools: Vec<Value>,
    /// The trigger tool's `inputSchema` (default: an object without properties).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_input_schema: Option<Value>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            protocol_version: None,
            name: "backchannel-mock".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            tools: Vec::new(),
            trigger_input_schema: None,
        }
    }
}

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Send a server→client request.
    Request(RequestStep),
    /// Send several requests as one JSON-RPC batch (one line holding an array).
    Batch(Vec<RequestStep>),
    /// Send a notification.
    Notification {
        /// Step name (recorded on the frame).
        name: String,
        /// The method.
        method: String,
        /// The params, when any.
        params: Option<Value>,
        /// Where it goes over Streamable HTTP (default: the script's).
        delivery: Option<Delivery>,
    },
    /// Send one line exactly as given (malformed input on purpose).
    Raw {
        /// Step name.
        name: String,
        /// The line, without its terminator.
        line: String,
        /// Where it goes over Streamable HTTP (default: the script's).
        delivery: Option<Delivery>,
    },
    /// Do nothing for a while.
    Sleep(#[serde(with = "millis")] Duration),
    /// Wait for the client to send this notification (at most `within`), then go on.
    AwaitNotification {
        /// Step name.
        name: String,
        /// The notification's method.
        method: String,
        /// How long to wait at most.
        #[serde(with = "millis")]
        within: Duration,
    },
    /// 2026-07-28 (MRTR): answer the in-flight trigger `tools/call` with an
    /// `InputRequiredResult`, then wait for the client's retry (which becomes the
    /// in-flight call for the next step).
    InputRequired(InputRound),
    /// 2026-07-28 over Streamable HTTP: end the response stream of the in-flight
    /// trigger request without its result (the connection is aborted), then wait for
    /// the client to re-issue the request with a new id (`changelog.mdx` item 9: a
    /// broken response stream loses the request; streams are not resumable). The
    /// re-issued request becomes the request in flight for the next step.
    BreakStream {
        /// Step name (recorded on the event).
        name: String,
        /// How long the mock waits for the re-issued request.
        #[serde(with = "millis")]
        reissue_within: Duration,
    },
    /// Streamable HTTP, 2025-03-26 … 2025-11-25: close the connection of an SSE stream
    /// without ending the stream (`basic/transports.mdx` of 2025-11-25, :105-117 and
    /// :164-186) — the GET stream, or the response stream of the in-flight trigger
    /// call. Gracefully (after a `retry` field when `retry` is set: the client must
    /// poll the stream back) or, with `abort`, as a broken connection. Every SSE
    /// stream of a script with such a step carries event ids and a priming event;
    /// what the mock sends to the stream until the client resumes it (a GET with
    /// `Last-Event-ID`) is held and replayed then. The next step follows at once.
    CloseStream {
        /// Step name (recorded on the event).
        name: String,
        /// Which stream.
        delivery: Delivery,
        /// The `retry` field sent before a graceful close (milliseconds).
        #[serde(default)]
        retry_ms: Option<u64>,
        /// Abort the connection instead of ending it.
        #[serde(default)]
        abort: bool,
    },
}

/// One `InputRequiredResult` round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputRound {
    /// Step name (recorded on the frame).
    pub name: String,
    /// The asks, in order: key, method, params.
    pub inputs: Vec<(String, String, Option<Value>)>,
    /// The opaque `requestState`, when any.
    pub request_state: Option<String>,
    /// How long the mock waits for the retry.
    #[serde(with = "millis")]
    pub retry_within: Duration,
}

impl InputRound {
    /// The `InputRequiredResult` of this round.
    pub fn result(&self) -> Value {
        let mut result = serde_json::json!({ "resultType": "input_required" });
        if !self.inputs.is_empty() {
            let asks: serde_json::Map<String, Value> = self
                .inputs
                .iter()
                .map(|(key, method, params)| {
                    let mut ask = serde_json::json!({ "method": method });
                    if let Some(p) = params {
                        ask["params"] = p.clone();
                    }
                    (key.clone(), ask)
                })
                .collect();
            result["inputRequests"] = Value::Object(asks);
        }
        if let Some(state) = &self.request_state {
            result["requestState"] = Value::String(state.clone());
        }
        result
    }
}

/// A server→client request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestStep {
    /// Step name; checks refer to the request by it.
    pub name: String,
    /// The id to send.
    pub id: IdSpec,
    /// The method.
    pub method: String,
    /// The params, when any.
    pub params: Option<Value>,
    /// Wait for the answer (or `answer_within`) before the next step.
    pub wait: bool,
    /// How long the mock keeps waiting for the answer.
    #[serde(with = "millis")]
    pub answer_within: Duration,
    /// Where it goes over Streamable HTTP (default: the script's).
    pub delivery: Option<Delivery>,
}

/// The id of a scripted request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdSpec {
    /// The next number of the mock's own counter (1, 2, …).
    Auto,
    /// Exactly this id (any JSON value, valid or not).
    Fixed(Value),
    /// The id of the client's in-flight trigger `tools/call`: the same id in both
    /// directions at once.
    TriggerCall,
}

impl Script {
    /// Replace `{{canary}}` (and `{{fill:N}}`) in every param, raw line and method.
    pub fn expand_canary(&mut self, canary: &Canary) {
        fn request(r: &mut RequestStep, canary: &Canary) {
            r.method = canary.expand_str(&r.method);
            if let Some(p) = r.params.as_mut() {
                canary.expand_value(p);
            }
            if let IdSpec::Fixed(id) = &mut r.id {
                canary.expand_value(id);
            }
        }
        for step in &mut self.steps {
            match step {
                Step::Request(r) => request(r, canary),
                Step::Batch(rs) => rs.iter_mut().for_each(|r| request(r, canary)),
                Step::Notification { method, params, .. } => {
                    *method = canary.expand_str(method);
                    if let Some(p) = params.as_mut() {
                        canary.expand_value(p);
                    }
                }
                Step::Raw { line, .. } => *line = canary.expand_str(line),
                Step::InputRequired(round) => {
                    for (_, _, params) in &mut round.inputs {
                        if let Some(p) = params.as_mut() {
                            canary.expand_value(p);
                        }
                    }
                    if let Some(state) = round.request_state.as_mut() {
                        *state = canary.expand_str(state);
                    }
                }
                Step::Sleep(_)
                | Step::AwaitNotification { .. }
                | Step::BreakStream { .. }
                | Step::CloseStream { .. } => {}
            }
        }
    }

    /// The tools `tools/list` returns: the configured ones, plus the trigger tool.
    pub fn tools(&self) -> Vec<Value> {
        let mut tools = self.server.tools.clone();
        if let Trigger::ToolCall { tool } = &self.trigger {
            tools.push(serde_json::json!({
                "name": tool,
                "description": "Runs the backchannel scenario: while this call is in flight the server sends its requests.",
                "inputSchema": self.server.trigger_input_schema.clone()
                    .unwrap_or_else(|| serde_json::json!({ "type": "object", "properties": {} })),
            }));
        }
        tools
    }

    /// Whether a client request is the trigger (the request the steps run during:
    /// the trigger `tools/call`, or in 2026-07-28 the `prompts/get` / `resources/read`
    /// the rounds answer).
    pub fn is_trigger(&self, method: &str, params: Option<&Value>) -> bool {
        let Trigger::ToolCall { tool } = &self.trigger else { return false };
        let m = self.round_method;
        method == m.as_str()
            && params.and_then(|p| p.get(m.name_field())).and_then(Value::as_str) == Some(m.target(tool).as_str())
    }

    /// The prompts `prompts/list` returns: the trigger prompt, when the rounds answer `prompts/get`.
    pub fn prompts(&self) -> Vec<Value> {
        match (&self.trigger, self.round_method) {
            (Trigger::ToolCall { tool }, RoundMethod::PromptsGet) => vec![serde_json::json!({
                "name": tool,
                "description": "Runs the backchannel scenario: the server asks for input before it returns the prompt.",
            })],
            _ => Vec::new(),
        }
    }

    /// The resources `resources/list` returns: the trigger resource, when the rounds answer `resources/read`.
    pub fn resources(&self) -> Vec<Value> {
        match (&self.trigger, self.round_method) {
            (Trigger::ToolCall { tool }, RoundMethod::ResourcesRead) => vec![serde_json::json!({
                "uri": RoundMethod::ResourcesRead.target(tool),
                "name": tool,
                "description": "Runs the backchannel scenario: the server asks for input before it returns the resource.",
            })],
            _ => Vec::new(),
        }
    }

    /// The server capabilities: tools, and prompts or resources when the rounds answer them.
    pub fn capabilities(&self) -> Value {
        let mut caps = serde_json::json!({ "tools": {} });
        if !self.prompts().is_empty() {
            caps["prompts"] = serde_json::json!({});
        }
        if !self.resources().is_empty() {
            caps["resources"] = serde_json::json!({});
        }
        caps
    }

    /// Whether its SSE streams are resumable (event ids, a priming event, replay on
    /// `Last-Event-ID`): when a step closes one. Other scripts send plain events, as
    /// a server that does not offer resumption does.
    pub fn is_resumable(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::CloseStream { .. }))
    }

    /// Whether this session speaks 2026-07-28 (no `initialize`; MRTR).
    pub fn is_modern(&self) -> bool {
        self.server.protocol_version.is_some_and(|r| !r.is_legacy())
    }

    /// The protocol revision to answer `initialize` with, given what the client asked for.
    ///
    /// Lifecycle (2025-11-25 `basic/lifecycle.mdx:165-175`): a server that supports the
    /// requested version MUST echo it; otherwise it answers with another version it
    /// supports, which SHOULD be its latest.
    pub fn negotiate(&self, requested: Option<&str>) -> Revision {
        if let Some(pinned) = self.server.protocol_version {
            return pinned;
        }
        match requested.and_then(Revision::from_wire) {
            Some(v) if v.is_legacy() => v,
            _ => Revision::LATEST_LEGACY,
        }
    }

    /// The script as JSON (what `backchannel mock --script` reads).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a script serializes")
    }

    /// Read a script written by [`Script::to_json`].
    pub fn from_json(text: &str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script() -> Script {
        Script {
            scenario: "t".into(),
            server: ServerSettings::default(),
            steps: vec![],
            timeout: Duration::from_secs(1),
            grace: Duration::ZERO,
            barrier: false,
            trigger: Trigger::Initialized,
            delivery: Delivery::GetStream,
            round_method: RoundMethod::ToolsCall,
            answer_repeated_initialize: false,
        }
    }

    #[test]
    fn negotiation_echoes_known_and_offers_latest_otherwise() {
        let s = script();
        assert_eq!(s.negotiate(Some("2025-03-26")), Revision::V2025_03_26);
        assert_eq!(s.negotiate(Some("2026-07-28")), Revision::V2025_11_25);
        assert_eq!(s.negotiate(None), Revision::V2025_11_25);
        let mut pinned = script();
        pinned.server.protocol_version = Some(Revision::V2024_11_05);
        assert_eq!(pinned.negotiate(Some("2025-11-25")), Revision::V2024_11_05);
    }

    #[test]
    fn scripts_round_trip_through_json() {
        let mut s = script();
        s.trigger = Trigger::ToolCall { tool: "go".into() };
        s.steps = vec![
            Step::Request(RequestStep {
                name: "r".into(),
                id: IdSpec::Fixed(serde_json::json!("7")),
                method: "ping".into(),
                params: Some(serde_json::json!({"b": 1, "a": [2]})),
                wait: true,
                answer_within: Duration::from_millis(1500),
                delivery: Some(Delivery::RequestStream),
            }),
            Step::Sleep(Duration::from_millis(5)),
            Step::Raw { name: "raw".into(), line: "not json".into(), delivery: None },
            Step::InputRequired(InputRound {
                name: "i".into(),
                inputs: vec![("k".into(), "roots/list".into(), None)],
                request_state: Some("s".into()),
                retry_within: Duration::from_secs(1),
            }),
            Step::BreakStream { name: "cut".into(), reissue_within: Duration::from_millis(700) },
        ];
        assert_eq!(Script::from_json(&s.to_json()).unwrap(), s);
    }
}
