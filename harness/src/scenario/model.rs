//! The scenario file format, version 1 (YAML). These types are the format: the
//! JSON Schema in `scenarios/schema.json` is generated from them, and their doc
//! comments are its descriptions. The format has three seams, one module each:
//! [`steps`] (what the mock sends), [`expect`] (what the client must do about it)
//! and [`client`] (how the client under test is configured). Fields that a
//! validation rule may reject carry their location ([`Spanned`]), so every error
//! names the file, the line and the field.

mod client;
mod expect;
mod steps;

use std::collections::BTreeMap;

pub use backchannel_protocol::RoundMethod;
pub use backchannel_protocol::{Revision, Transport};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

pub use client::{
    ClientElicitation, ClientSampling, ClientSection, ElicitAction, ElicitationMode, LogLevel, RootSpec,
    RootsChangeSpec,
};
pub use expect::{
    AlikeExpect, CapabilitiesExpect, CapabilityList, CodeExpect, Graded, InputExpect, LogsExpect, MessageExpect,
    MethodsGraded, NotificationExpect, PointerAssert, RawExpect, ReissueExpect, RequestExpect, ResultExpect,
    RoundExpect, ScenarioExpect,
};
pub use steps::{
    AwaitNotificationStep, BatchStep, BreakStreamStep, CloseStreamStep, IdSource, InputRequiredStep, InputSpec,
    NotificationStep, RawStep, RequestStep, SleepStep, Step, WireId,
};

/// The downstream side of a gateway case (`gateway:`). Both apply to a gateway whose
/// downstream is HTTP (Streamable HTTP; `get_stream` to Streamable HTTP only): a stdio
/// downstream is one session, and HTTP+SSE has no other stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// A second downstream session (a bystander) is opened once the client's is up,
    /// with the same capabilities; it asks for nothing, and the client asks for its
    /// tool only once the bystander is up. Every scripted request it receives is a
    /// request the gateway delivered to a session that did not cause it
    /// (`<step>.isolated`). Default: false.
    #[serde(default)]
    pub bystander: bool,
    /// Whether the downstream client opens the standalone GET stream (default true).
    /// `false`: the gateway can reach it only on the response stream of its call.
    #[serde(default = "yes")]
    pub get_stream: bool,
}

impl Default for GatewaySection {
    fn default() -> Self {
        Self { bystander: false, get_stream: true }
    }
}

fn yes() -> bool {
    true
}

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
    #[schemars(with = "Vec<Revision>", default = "legacy_revision_list")]
    pub revisions: Spanned<Vec<Revision>>,
    /// The transports this scenario runs on (default: all three).
    #[serde(default = "all_transports")]
    #[schemars(with = "Vec<Transport>", default = "all_transport_list")]
    pub transports: Spanned<Vec<Transport>>,
    /// When the steps start (default: right after `notifications/initialized`).
    #[serde(default)]
    pub trigger: TriggerKind,
    /// 2026-07-28: the request the `input_required` rounds answer — `tools/call`
    /// (default), `prompts/get` (the mock lists a prompt named like the trigger tool)
    /// or `resources/read` (a resource `backchannel://backchannel_run_scenario`).
    #[serde(default)]
    #[schemars(with = "Option<RoundMethod>")]
    pub input_required_on: Option<Spanned<RoundMethod>>,
    /// The whole mock session ends after this many milliseconds (default 15000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// After the last step, its answers and the closing barrier (a `ping`), wait this
    /// long for late frames. Default: the client's settle time (0 for the reference
    /// client, 300 ms or the profile's `settle_ms` for any other).
    #[serde(default)]
    pub grace_ms: Option<u64>,
    /// How the mock server presents itself.
    #[serde(default)]
    pub server: ServerSection,
    /// How to configure the client under test (the reference client honours all of it).
    #[serde(default)]
    pub client: ClientSection,
    /// How the downstream side of a gateway is arranged (gateway runs only; a client
    /// run ignores it).
    #[serde(default)]
    pub gateway: GatewaySection,
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
    #[schemars(with = "Vec<Step>")]
    pub steps: Vec<Spanned<Step>>,
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
            out.extend(e.alike.iter().map(|g| (&g.spec, g.severity)));
        }
        let mut out = Vec::new();
        for step in &self.steps {
            match &step.value {
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
                Step::BreakStream(b) => out.extend(b.expect.reissue.iter().map(|g| (&g.spec, g.severity))),
                Step::Notification(_) | Step::Sleep(_) | Step::AwaitNotification(_) | Step::CloseStream(_) => {}
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

fn legacy_revisions() -> Spanned<Vec<Revision>> {
    unlocated(legacy_revision_list())
}

fn legacy_revision_list() -> Vec<Revision> {
    Revision::LEGACY.to_vec()
}

/// A value that came from a default, not from the file.
fn unlocated<T>(value: T) -> Spanned<T> {
    Spanned::new(value, serde_saphyr::Location::UNKNOWN, serde_saphyr::Location::UNKNOWN)
}

fn all_transports() -> Spanned<Vec<Transport>> {
    unlocated(all_transport_list())
}

fn all_transport_list() -> Vec<Transport> {
    Transport::ALL.to_vec()
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
    /// The `inputSchema` of the trigger tool (`trigger: tool_call`), e.g. with
    /// `x-mcp-header` annotations (default: an object without properties).
    #[serde(default)]
    #[schemars(with = "Option<Value>")]
    pub trigger_input_schema: Option<Spanned<Value>>,
    /// How POSTed requests are answered over Streamable HTTP (default `json`).
    #[serde(default)]
    pub http_response: HttpResponseKind,
    /// Where server-initiated messages go over Streamable HTTP (default: `request_stream`
    /// with `trigger: tool_call`, else `get_stream`).
    #[serde(default)]
    #[schemars(with = "Option<DeliveryKind>")]
    pub delivery: Option<Spanned<DeliveryKind>>,
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
    /// Advice, not a rule: a violation is shown as a NOTE and never fails a run, also
    /// under `--strict` (e.g. the params logged at DEBUG for diagnosis).
    Advice,
}

impl Severity {
    /// `MUST` or `SHOULD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::Advice => "ADVICE",
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
