//! Expectations: what the client's answers, notifications, capabilities and logs
//! must be. Each carries its grade (`severity`) and the rule it enforces (`spec`).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use super::{Severity, SpecKey};

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
    /// The answer must be of the same kind as an earlier step's: an error with the
    /// same code, or a result with the same members (check `<step>.alike`). For a
    /// request the client must process as it processed another — a task-augmented
    /// ask from a client that declared no task support, as the plain ask.
    #[serde(default)]
    pub alike: Option<AlikeExpect>,
}

/// The answer must be answered as the earlier step `step` was.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlikeExpect {
    /// The `name:` of an earlier request step.
    #[schemars(with = "String")]
    pub step: Spanned<String>,
    /// `must` or `should`.
    #[serde(default)]
    pub severity: Severity,
    /// The rule enforced.
    #[schemars(with = "String")]
    pub spec: SpecKey,
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
    #[schemars(with = "String")]
    pub pointer: Spanned<String>,
    /// The value must equal this.
    #[serde(default)]
    pub equals: Option<Value>,
    /// The value must be a string matching this regex.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub matches: Option<Spanned<String>>,
    /// The value must exist (`true`) or be absent (`false`).
    #[serde(default)]
    pub exists: Option<bool>,
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

/// What must follow a broken response stream.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueExpect {
    /// The re-issued request must come within this many milliseconds (default 5000).
    #[serde(default)]
    pub within_ms: Option<u64>,
    /// The client must re-issue the request (check `<name>.reissued`).
    #[serde(default)]
    pub reissue: Option<Graded>,
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
    /// Some DEBUG line contains the canary (the params are there for diagnosis). Advice:
    /// grade it `severity: advice`.
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
