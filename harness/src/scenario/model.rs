//! The scenario file format, version 1 (YAML). These types are the format: the
//! JSON Schema in `scenarios/schema.json` is generated from them, and their doc
//! comments are its descriptions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

/// A scenario: what the mock server does, and what the client must do about it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable id, `area/name`. Defaults to the file's path under `scenarios/`, without `.yaml`.
    #[serde(default)]
    pub id: Option<String>,
    /// One line: what this scenario checks.
    pub title: String,
    /// Longer explanation: the rationale, the spec sentence, what a failure means.
    #[serde(default)]
    pub description: Option<String>,
    /// The protocol revisions this scenario applies to (default: the four with the
    /// `initialize` handshake). Each case pins its revision: the mock answers
    /// `initialize` with it whatever the client asks for.
    #[serde(default = "legacy_revisions")]
    pub revisions: Vec<Revision>,
    /// The transports this scenario runs on (default: all three).
    #[serde(default = "all_transports")]
    pub transports: Vec<Transport>,
    /// When the steps start (default: right after `notifications/initialized`).
    #[serde(default)]
    pub trigger: TriggerKind,
    /// The whole mock session ends after this many milliseconds (default 15000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// After the last step and its answers, wait this long for late frames (default 300).
    #[serde(default)]
    pub grace_ms: Option<u64>,
    /// How the mock server presents itself.
    #[serde(default)]
    pub server: ServerSection,
    /// How to configure the client under test (the reference client honours all of it).
    #[serde(default)]
    pub client: ClientSection,
    /// Preconditions: when unmet, the scenario's own expectations are SKIPped
    /// (the protocol-wide checks still run).
    #[serde(default)]
    pub requires: Requires,
    /// Expectations about the whole session.
    #[serde(default)]
    pub expect: ScenarioExpect,
    /// Extra spec references, by key, usable in `spec:` fields of this file.
    #[serde(default)]
    pub specs: BTreeMap<String, SpecRefDef>,
    /// What the mock does after the client's `notifications/initialized`, in order.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Every `spec:` this file cites, with the severity it grades it at, in file
    /// order (scenario-level expectations last). The loader validates each;
    /// `backchannel list` shows them.
    pub fn citations(&self) -> Vec<(&SpecKey, Severity)> {
        fn request<'a>(out: &mut Vec<(&'a SpecKey, Severity)>, r: &'a RequestStep) {
            let e = &r.expect;
            out.extend([&e.no_answer, &e.error].into_iter().flatten().map(|g| (&g.spec, g.severity)));
            out.extend(e.error_code.iter().map(|g| (&g.spec, g.severity)));
            out.extend(e.error_message.iter().map(|g| (&g.spec, g.severity)));
            out.extend(e.result.iter().map(|g| (&g.spec, g.severity)));
        }
        let mut out = Vec::new();
        for step in &self.steps {
            match step {
                Step::Request(r) => request(&mut out, r),
                Step::Batch(b) => b.requests.iter().for_each(|r| request(&mut out, r)),
                Step::Raw(r) => out.extend(r.expect.error_code_if_answered.iter().map(|g| (&g.spec, g.severity))),
                Step::InputRequired(round) => {
                    out.extend(round.expect.retry.iter().map(|g| (&g.spec, g.severity)));
                    for input in &round.inputs {
                        out.extend(input.expect.no_answer.iter().map(|g| (&g.spec, g.severity)));
                        out.extend(input.expect.result.iter().map(|g| (&g.spec, g.severity)));
                    }
                }
                Step::Notification(_) | Step::Sleep(_) => {}
            }
        }
        let ex = &self.expect;
        out.extend(ex.notifications.iter().map(|n| (&n.spec, n.severity)));
        let caps = [&ex.capabilities.absent, &ex.capabilities.present];
        out.extend(caps.into_iter().flatten().map(|l| (&l.spec, l.severity)));
        let logs = [&ex.logs.no_canary_at_warning, &ex.logs.canary_at_debug];
        out.extend(logs.into_iter().flatten().map(|g| (&g.spec, g.severity)));
        out.extend(ex.logs.warning_per_request.iter().map(|m| (&m.spec, m.severity)));
        out
    }
}

fn legacy_revisions() -> Vec<Revision> {
    Revision::LEGACY.to_vec()
}

fn all_transports() -> Vec<Transport> {
    Transport::ALL.to_vec()
}

/// A transport between the client under test and the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// The client launches the mock and speaks over its stdin/stdout.
    Stdio,
    /// Streamable HTTP (2025-03-26+).
    Http,
    /// The legacy HTTP+SSE transport (2024-11-05).
    Sse,
}

impl Transport {
    /// Every transport, in a stable order.
    pub const ALL: [Self; 3] = [Self::Stdio, Self::Http, Self::Sse];

    /// `stdio`, `http`, `sse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdio => "stdio",
            Self::Http => "http",
            Self::Sse => "sse",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a scenario's steps start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// Right after the client's `notifications/initialized`.
    #[default]
    Initialized,
    /// When the client calls the mock's tool `backchannel_run_scenario`: the steps run
    /// while that `tools/call` is in flight, and its result comes after them.
    ToolCall,
    /// Right after the `initialize` response, before the client's
    /// `notifications/initialized`: the server breaks a SHOULD NOT on purpose, and the
    /// scenario grades the client leniently.
    BeforeInitialized,
}

/// Where a server-initiated message travels over Streamable HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryKind {
    /// The standalone SSE stream the client opens with GET.
    GetStream,
    /// The SSE response stream of the in-flight trigger `tools/call` (needs `trigger: tool_call`).
    RequestStream,
}

/// How the mock answers POSTed requests over Streamable HTTP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpResponseKind {
    /// `application/json` (the trigger `tools/call` is always answered with SSE).
    #[default]
    Json,
    /// `text/event-stream`.
    Sse,
}

/// How the mock server presents itself in `initialize`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Tools listed by `tools/list` (MCP `Tool` objects).
    #[serde(default)]
    pub tools: Vec<Value>,
    /// How POSTed requests are answered over Streamable HTTP (default `json`).
    #[serde(default)]
    pub http_response: HttpResponseKind,
    /// Where server-initiated messages go over Streamable HTTP (default: `request_stream`
    /// with `trigger: tool_call`, else `get_stream`).
    #[serde(default)]
    pub delivery: Option<DeliveryKind>,
}

/// A protocol revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
pub enum Revision {
    /// 2024-11-05
    #[serde(rename = "2024-11-05")]
    V2024_11_05,
    /// 2025-03-26
    #[serde(rename = "2025-03-26")]
    V2025_03_26,
    /// 2025-06-18
    #[serde(rename = "2025-06-18")]
    V2025_06_18,
    /// 2025-11-25
    #[serde(rename = "2025-11-25")]
    V2025_11_25,
    /// 2026-07-28: no `initialize`; server-to-client requests travel inside tool results (MRTR).
    #[serde(rename = "2026-07-28")]
    V2026_07_28,
}

impl Revision {
    /// The revision's date string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Every revision, oldest first.
    pub const ALL: [Self; 5] =
        [Self::V2024_11_05, Self::V2025_03_26, Self::V2025_06_18, Self::V2025_11_25, Self::V2026_07_28];

    /// The revisions with the `initialize` handshake (and server-to-client JSON-RPC requests).
    pub const LEGACY: [Self; 4] = [Self::V2024_11_05, Self::V2025_03_26, Self::V2025_06_18, Self::V2025_11_25];

    /// Whether this revision uses the `initialize` handshake.
    pub fn is_legacy(self) -> bool {
        self != Self::V2026_07_28
    }

    /// Whether the kit runs this revision over a transport: Streamable HTTP from
    /// 2025-03-26, HTTP+SSE (deprecated, still served) in every legacy revision, stdio
    /// always. 2026-07-28 has no HTTP+SSE, and its sessionless Streamable HTTP binding
    /// (`Mcp-Method` headers, no GET stream) is not in the mock yet: stdio only.
    pub fn has_transport(self, t: Transport) -> bool {
        match t {
            Transport::Stdio => true,
            Transport::Http => self >= Self::V2025_03_26 && self.is_legacy(),
            Transport::Sse => self.is_legacy(),
        }
    }
}

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Client configuration a scenario needs.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSection {
    /// Roots the client should expose (`file://` URIs).
    #[serde(default)]
    pub roots: Vec<RootSpec>,
    /// The client's log level for this scenario.
    #[serde(default)]
    pub log_level: Option<LogLevel>,
    /// Elicitation the client should support (it then declines every request it
    /// accepts: a user who says no). Default: none.
    #[serde(default)]
    pub elicitation: Option<ClientElicitation>,
    /// Change the client's roots during the session.
    #[serde(default)]
    pub roots_change: Option<RootsChangeSpec>,
}

/// Elicitation support for the client under test.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientElicitation {
    /// The modes to declare: `form`, `url`; empty with `declare_empty`.
    #[serde(default)]
    pub modes: Vec<ElicitationMode>,
    /// Declare the capability as `{}` (the 2025-06-18 spelling; form only since 2025-11-25).
    #[serde(default)]
    pub declare_empty: bool,
    /// How long "the user" takes before declining, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
}

impl ClientElicitation {
    /// The modes as the client contract spells them (`form`, `url`, and `empty`
    /// for a `{}` declaration): `BACKCHANNEL_CLIENT_ELICITATION`, `--elicitation`.
    pub fn contract_modes(&self) -> Vec<&'static str> {
        let mut modes: Vec<&'static str> = self
            .modes
            .iter()
            .map(|m| match m {
                ElicitationMode::Form => "form",
                ElicitationMode::Url => "url",
            })
            .collect();
        if self.declare_empty {
            modes.push("empty");
        }
        modes
    }
}

/// An elicitation mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ElicitationMode {
    /// Form mode.
    Form,
    /// URL mode (2025-11-25).
    Url,
}

/// A change of the client's roots during the session.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootsChangeSpec {
    /// When, in milliseconds after initialization.
    pub after_ms: u64,
    /// The roots from then on.
    pub roots: Vec<RootSpec>,
}

/// A root.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootSpec {
    /// The URI.
    pub uri: String,
    /// A display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// trace
    Trace,
    /// debug
    Debug,
    /// info
    Info,
    /// warn
    Warn,
    /// error
    Error,
}

impl LogLevel {
    /// The level's name as `RUST_LOG` and `--log-level` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// Preconditions of a scenario's own expectations.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requires {
    /// Client capabilities that must NOT be declared for this scenario to apply
    /// (e.g. `[sampling]`; dotted paths reach inside: `sampling.tools`).
    #[serde(default)]
    pub undeclared: Vec<String>,
    /// Client capabilities that must be declared for this scenario to apply (dotted paths allowed).
    #[serde(default)]
    pub declared: Vec<String>,
}

/// How much a violated expectation weighs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A violation FAILs.
    #[default]
    Must,
    /// A violation WARNs (FAILs under `--strict`).
    Should,
}

impl Severity {
    /// `MUST` or `SHOULD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
        }
    }
}

/// A spec reference: a key of the built-in catalogue (`backchannel list --specs`)
/// or of this file's `specs:` section.
pub type SpecKey = Spanned<String>;

/// A spec reference defined in a scenario file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecRefDef {
    /// Where the rule comes from: a revision (`2025-11-25`), `JSON-RPC 2.0`, or `backchannel policy`.
    pub source: String,
    /// File and line, or section.
    pub section: String,
    /// The requirement level the source states.
    pub level: SpecLevel,
    /// The sentence, quoted.
    pub text: String,
}

/// The requirement level a spec sentence states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SpecLevel {
    /// MUST / MUST NOT / REQUIRED.
    Must,
    /// SHOULD / SHOULD NOT / RECOMMENDED.
    Should,
    /// A rule of this kit, not of the spec.
    Policy,
}

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
    /// 2026-07-28 (MRTR): answer the client's in-flight trigger `tools/call` with an
    /// `InputRequiredResult` holding these asks, and wait for its retry.
    InputRequired(InputRequiredStep),
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

/// Expectations on the client's response to one ask (`inputResponses[key]` of its retry).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputExpect {
    /// The response must match (check `<round>.<key>.result`).
    #[serde(default)]
    pub result: Option<ResultExpect>,
    /// No retry may carry a response to this ask (check `<round>.<key>.not-answered`).
    #[serde(default)]
    pub no_answer: Option<Graded>,
}

/// Expectations on the retry of an MRTR round.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundExpect {
    /// The retry must come within this many milliseconds (default 5000).
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// The client must retry (check `<round>.retried`).
    #[serde(default)]
    pub retry: Option<Graded>,
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

/// What the answer to a request must be. `answered` (an answer with this id, in
/// time) is always checked; the rest only when given.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestExpect {
    /// The answer must arrive within this many milliseconds (default 5000).
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// The request must NOT be answered (e.g. it was cancelled). Replaces the
    /// `.answered` check with `.not-answered`; the mock waits `within_ms` for a
    /// late answer.
    #[serde(default)]
    pub no_answer: Option<Graded>,
    /// The answer must be an error response.
    #[serde(default)]
    pub error: Option<Graded>,
    /// The error's code.
    #[serde(default)]
    pub error_code: Option<CodeExpect>,
    /// The error's message.
    #[serde(default)]
    pub error_message: Option<MessageExpect>,
    /// The answer must be a success response matching these asserts.
    #[serde(default)]
    pub result: Option<ResultExpect>,
}

/// An expectation with no parameters of its own.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Graded {
    /// `must` (a violation FAILs) or `should` (a violation WARNs).
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
}

/// The error code must be one of these.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeExpect {
    /// Acceptable codes.
    pub one_of: Vec<i64>,
    /// `must` or `should`.
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
}

/// The error message must contain each of `contains` and none of `not_contains`.
/// `{{client_name}}` expands to the `clientInfo.name` the client declared, `{{canary}}` to the canary.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageExpect {
    /// Substrings the message must contain (case-sensitive).
    #[serde(default)]
    pub contains: Vec<String>,
    /// Substrings the message must not contain.
    #[serde(default)]
    pub not_contains: Vec<String>,
    /// `must` or `should`.
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
}

/// The answer must be a success result matching these asserts.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultExpect {
    /// The result must contain this JSON as a subset (objects: listed members, recursively;
    /// arrays and scalars: equal). `{}` accepts any object.
    #[serde(default)]
    pub subset: Option<Value>,
    /// The result must be exactly this JSON.
    #[serde(default)]
    pub equals: Option<Value>,
    /// JSON-pointer asserts on the result.
    #[serde(default)]
    pub pointers: Vec<PointerAssert>,
    /// `must` or `should`.
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
}

/// An assert on the value at a JSON pointer (RFC 6901) into the result.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PointerAssert {
    /// The pointer, e.g. `/roots/0/uri`.
    pub pointer: String,
    /// The value must equal this.
    #[serde(default)]
    pub equals: Option<Value>,
    /// The value must be a string matching this regex.
    #[serde(default)]
    pub matches: Option<String>,
    /// The value must exist (`true`) or be absent (`false`).
    #[serde(default)]
    pub exists: Option<bool>,
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

/// Expectations on how a client answers a raw line, if it does.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// An error without an id sent after this line must have one of these codes
    /// (no answer at all passes). Check `<name>.error-code-if-answered`.
    #[serde(default)]
    pub error_code_if_answered: Option<CodeExpect>,
}

/// A pause.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepStep {
    /// Milliseconds.
    pub ms: u64,
}

/// Expectations about the whole session.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioExpect {
    /// The client's `initialize` capabilities.
    #[serde(default)]
    pub capabilities: CapabilitiesExpect,
    /// Notifications the client must send (check `notifications.<method>`).
    #[serde(default)]
    pub notifications: Vec<NotificationExpect>,
    /// The client's logs.
    #[serde(default)]
    pub logs: LogsExpect,
}

/// A notification the client must send during the session.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationExpect {
    /// The method, e.g. `notifications/roots/list_changed`.
    pub method: String,
    /// `must` or `should`.
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
}

/// Expectations on the `capabilities` the client declares in `initialize`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesExpect {
    /// These top-level capabilities must not be declared.
    #[serde(default)]
    pub absent: Option<CapabilityList>,
    /// These top-level capabilities must be declared.
    #[serde(default)]
    pub present: Option<CapabilityList>,
}

/// A list of capability names with a grade.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilityList {
    /// Capability names (`sampling`, `elicitation`, `roots`, …; dotted paths reach inside: `roots.listChanged`).
    pub names: Vec<String>,
    /// `must` or `should`.
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
}

/// Expectations on the client's log output (stderr and stdout).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsExpect {
    /// For each request of these methods, exactly one line at WARNING or above
    /// names the method, and each such line names the server.
    #[serde(default)]
    pub warning_per_request: Option<MethodsGraded>,
    /// No line at WARNING or above (or without a level) contains the canary.
    #[serde(default)]
    pub no_canary_at_warning: Option<Graded>,
    /// Some DEBUG line contains the canary (the params are there for diagnosis).
    #[serde(default)]
    pub canary_at_debug: Option<Graded>,
}

/// Methods with a grade.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodsGraded {
    /// The methods.
    pub methods: Vec<String>,
    /// `must` or `should`.
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
}
