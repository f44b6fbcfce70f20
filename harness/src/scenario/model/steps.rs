//! The steps of a scenario: what the mock sends, in order.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{DeliveryKind, InputExpect, RawExpect, ReissueExpect, RequestExpect, RoundExpect};

/// One step of the script.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Send a server→client request.
    Request(Box<RequestStep>),
    /// Send a server→client notification.
    Notification(NotificationStep),
    /// Send several requests as one JSON-RPC batch (an array on one line).
    Batch(BatchStep),
    /// Send one line exactly as written (e.g. not JSON).
    Raw(RawStep),
    /// Wait.
    Sleep(SleepStep),
    /// Wait for the client to send a notification (e.g. `notifications/roots/list_changed`),
    /// at most `within_ms`, then go on: a scenario waits for what it expects instead of
    /// sleeping a fixed time.
    AwaitNotification(AwaitNotificationStep),
    /// 2026-07-28 (MRTR): answer the client's in-flight trigger `tools/call` with an
    /// `InputRequiredResult` holding these asks, and wait for its retry.
    InputRequired(InputRequiredStep),
    /// 2026-07-28 over Streamable HTTP: break the response stream of the request in
    /// flight before its result, and wait for the client to re-issue it.
    BreakStream(BreakStreamStep),
    /// Streamable HTTP, 2025-03-26 … 2025-11-25: close the connection of an SSE stream
    /// without ending the stream, for the client to resume it.
    CloseStream(CloseStreamStep),
}

/// A server→client request.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestStep {
    /// Name used in check ids (default: the method; `#2`, `#3`… when repeated).
    #[serde(default)]
    pub name: Option<String>,
    /// The method, e.g. `sampling/createMessage`.
    pub method: String,
    /// The params (any JSON; `{{canary}}` in any string expands to the run's canary).
    #[serde(default)]
    pub params: Option<Value>,
    /// The request id: an integer or a string, sent exactly. Default: the mock's counter (1, 2, …).
    #[serde(default)]
    pub id: Option<WireId>,
    /// Take the id from elsewhere: `trigger_call` reuses the id of the client's
    /// in-flight trigger `tools/call` (the same id in both directions at once).
    #[serde(default)]
    pub id_from: Option<IdSource>,
    /// Send this request this many times (named `<name>#1` … `#N`; default 1).
    #[serde(default)]
    pub repeat: Option<u32>,
    /// Wait for the answer before the next step (default: send and go on).
    #[serde(default)]
    pub wait: bool,
    /// Where it goes over Streamable HTTP (default: the scenario's `server.delivery`).
    #[serde(default)]
    pub delivery: Option<DeliveryKind>,
    /// What the answer must be.
    #[serde(default)]
    pub expect: RequestExpect,
}

/// Where a request's id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdSource {
    /// The id of the client's in-flight trigger `tools/call` (needs `trigger: tool_call`).
    TriggerCall,
}

/// A request id as written in YAML: an integer or a string.
#[derive(Debug, Clone, PartialEq)]
pub struct WireId(pub Value);

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = WireId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<WireId, E> {
                Ok(WireId(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<WireId, E> {
                Ok(WireId(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<WireId, E> {
                Ok(WireId(Value::String(v.to_owned())))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for WireId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WireId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["integer", "string"], "description": "A JSON-RPC request id: an integer or a string." })
    }
}

/// A server→client notification.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationStep {
    /// Step name (default: the method).
    #[serde(default)]
    pub name: Option<String>,
    /// The method.
    pub method: String,
    /// The params.
    #[serde(default)]
    pub params: Option<Value>,
    /// Where it goes over Streamable HTTP (default: the scenario's `server.delivery`).
    #[serde(default)]
    pub delivery: Option<DeliveryKind>,
}

/// A JSON-RPC batch of requests (2025-03-26 is the revision with batches).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchStep {
    /// The requests, in array order (each with its own name and expectations).
    pub requests: Vec<RequestStep>,
    /// Where it goes over Streamable HTTP (default: the scenario's `server.delivery`).
    #[serde(default)]
    pub delivery: Option<DeliveryKind>,
}

/// One raw line.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Step name (default `raw`).
    #[serde(default)]
    pub name: Option<String>,
    /// The line, without a newline.
    pub line: String,
    /// Where it goes over Streamable HTTP (default: the scenario's `server.delivery`).
    #[serde(default)]
    pub delivery: Option<DeliveryKind>,
    /// If the client answers the line (an error with a null id), the answer's code.
    #[serde(default)]
    pub expect: RawExpect,
}

/// Wait for a notification from the client.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwaitNotificationStep {
    /// The notification's method.
    pub method: String,
    /// Wait at most this long (default 5000).
    #[serde(default)]
    pub within_ms: Option<u64>,
}

/// A pause.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepStep {
    /// Milliseconds.
    pub ms: u64,
}

/// One MRTR round (2026-07-28, `basic/patterns/mrtr.mdx`): the mock answers the
/// trigger `tools/call` in flight with an `InputRequiredResult`; the client's retry
/// (a new id, `inputResponses`, the exact `requestState`) is judged by the checks
/// `<name>.retry-inputs`, `<name>.request-state` and `<name>.new-id`, and becomes
/// the call in flight for the next round.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputRequiredStep {
    /// Step name (default `input_required`; `#2`, `#3`… when repeated).
    #[serde(default)]
    pub name: Option<String>,
    /// The asks (`inputRequests`), in order.
    #[serde(default)]
    pub inputs: Vec<InputSpec>,
    /// The opaque `requestState` (`{{canary}}` expands).
    #[serde(default)]
    pub request_state: Option<String>,
    /// What the retry must be.
    #[serde(default)]
    pub expect: RoundExpect,
}

/// A broken response stream (2026-07-28 Streamable HTTP, `changelog.mdx` item 9,
/// SEP-2575): the mock aborts the connection carrying the SSE response of the
/// request in flight (the trigger call, or a round's retry) before its result. The
/// client MUST re-issue the request as a new request with a new id — checks
/// `<name>.new-id` and `<name>.same-request` judge the re-issue, `<name>.reissued`
/// whether one came — and it becomes the request in flight for the next step.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakStreamStep {
    /// Step name (default `break_stream`; `#2`, `#3`… when repeated).
    #[serde(default)]
    pub name: Option<String>,
    /// What the re-issue must be.
    #[serde(default)]
    pub expect: ReissueExpect,
}

/// A closed stream connection (Streamable HTTP, 2025-03-26 … 2025-11-25,
/// `basic/transports.mdx` Resumability and Redelivery; at 2025-11-25 also the polling
/// of :105-117). The mock closes the connection of the GET stream, or of the response
/// stream of the in-flight trigger call, without ending the stream: gracefully (only
/// at 2025-11-25, where a server may; after a `retry` field with `retry_ms`) or, with
/// `abort: true`, as a broken connection. Every SSE stream of the scenario then
/// carries event ids (`s<stream>e<n>`) and opens with a priming event; what the mock
/// sends to the stream until the client resumes it — a GET with `Last-Event-ID` — is
/// held, and replayed on that GET. The next step follows at once: a request placed
/// after this step is sent while the client is away. Checks `<name>.reconnected`,
/// `<name>.retry-respected` (with `retry_ms`), `<name>.last-event-id`,
/// `<name>.not-cancelled` (the request stream) and `<name>.session-kept`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseStreamStep {
    /// Step name (default `close_stream`; `#2`, `#3`… when repeated).
    #[serde(default)]
    pub name: Option<String>,
    /// Which stream: `get_stream` (default) or `request_stream` (the trigger call's).
    #[serde(default)]
    pub delivery: Option<DeliveryKind>,
    /// Send a `retry` field of this many milliseconds before a graceful close: the
    /// client must wait at least that long before it reconnects.
    #[serde(default)]
    pub retry_ms: Option<u64>,
    /// Abort the connection (no terminating chunk, as a network failure) instead of
    /// ending it.
    #[serde(default)]
    pub abort: bool,
}

/// One ask of an MRTR round.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The `inputRequests` key.
    pub key: String,
    /// `sampling/createMessage`, `elicitation/create` or `roots/list`.
    pub method: String,
    /// The params (`{{canary}}` expands).
    #[serde(default)]
    pub params: Option<Value>,
    /// What the client's response to this ask must be.
    #[serde(default)]
    pub expect: InputExpect,
}
