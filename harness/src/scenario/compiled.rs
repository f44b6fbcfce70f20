//! A scenario compiled for each of its consumers: the mock's [`Script`], the
//! client plan, and the expectations the checks read. Nothing here is YAML — no
//! spans, no defaults left to resolve, regexes already built — and checks read
//! only these types, never the file model.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use backchannel_mock::script::Script;
use backchannel_mock::transport::http::ResponseMode;
use backchannel_protocol::{Revision, RoundMethod, Transport};
use serde_json::Value;

use super::catalog::{self, SpecRef};
use super::model::{DeliveryKind, ElicitAction, LogLevel, Severity, SpecRefDef, TriggerKind};

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Stable id (`area/name`).
    pub id: String,
    /// The file it came from.
    pub path: PathBuf,
    /// One line: what it checks.
    pub title: String,
    /// The revisions it runs at, oldest first.
    pub revisions: Vec<Revision>,
    /// The transports it runs on.
    pub transports: Vec<Transport>,
    /// When the steps start.
    pub trigger: TriggerKind,
    /// The scripted requests, in step order (repeats and batch members expanded).
    pub requests: Vec<ScriptedRequest>,
    /// The raw lines, in step order.
    pub raws: Vec<ScriptedRaw>,
    /// The MRTR rounds (2026-07-28), in step order.
    pub rounds: Vec<ScriptedRound>,
    /// The broken response streams (2026-07-28 Streamable HTTP), in step order.
    pub breaks: Vec<ScriptedBreak>,
    /// The closed stream connections, in order.
    pub closes: Vec<ScriptedClose>,
    /// Expectations about the whole session.
    pub expect: SessionExpect,
    /// Preconditions of the scenario's own expectations.
    pub requires: Requirements,
    /// How to configure the client under test.
    pub client: ClientPlan,
    /// How a gateway case arranges its downstream side.
    pub gateway: super::model::GatewaySection,
    /// The whole-session timeout.
    pub timeout: Duration,
    /// The grace period the scenario sets (`grace_ms`), whatever the client's settle time.
    pub grace: Option<Duration>,
    /// How the Streamable HTTP mock answers POSTed requests.
    pub http_response: ResponseMode,
    /// Every rule the file cites, with the severity it grades it at (file order).
    pub citations: Vec<(String, Severity)>,
    /// Rules the file defines itself (`specs:`).
    pub(super) specs: BTreeMap<String, SpecRefDef>,
    /// The mock's script, before a revision is pinned.
    pub(super) script: Script,
}

impl Compiled {
    /// Whether this is one of the built-in gateway scenarios ([`super::GATEWAY_SUITE`]).
    pub fn is_gateway_scenario(&self) -> bool {
        self.id.starts_with(super::GATEWAY_SUITE.trim_end_matches('*'))
    }

    /// The mock's script for a case, answering `initialize` with `pin` when given (each
    /// case pins its revision).
    pub fn script(&self, pin: Option<Revision>) -> Script {
        let mut script = self.script.clone();
        script.server.protocol_version = pin;
        script
    }

    /// The tools the mock lists (the trigger tool included).
    pub fn tools(&self) -> Vec<serde_json::Value> {
        self.script.tools()
    }

    /// The script for a case against a client that settles in `settle`: the scenario's
    /// own `grace_ms` when it sets one, else the client's settle time.
    pub fn script_for(&self, pin: Option<Revision>, settle: Duration) -> Script {
        let mut script = self.script(pin);
        script.grace = self.grace.unwrap_or(settle);
        script
    }

    /// How long the script is sure to keep a case waiting against a conforming
    /// client: its sleeps, plus the longest window that must pass in silence (a
    /// request that must not be answered; an MRTR round none of whose asks may be
    /// answered, so no retry comes). The pipeline starts the longest first, so a run
    /// does not end waiting on a slow case it started last.
    pub fn certain_wait(&self) -> Duration {
        use backchannel_mock::script::Step;
        let sleeps = self.summed(|s| if let Step::Sleep(d) = s { Some(*d) } else { None });
        let unanswered = self.requests.iter().filter(|r| r.expect.no_answer.is_some()).map(|r| r.within);
        let unretried = self
            .rounds
            .iter()
            .filter(|r| !r.inputs.is_empty() && r.inputs.iter().all(|i| i.no_answer.is_some()))
            .map(|r| r.within);
        sleeps + unanswered.chain(unretried).max().unwrap_or_default()
    }

    /// How long the script may keep a case waiting on a client that does not do what
    /// the scenario configures: its certain wait, plus every notification it awaits
    /// waited out (a client that does not take up a roots change never announces one).
    pub fn possible_wait(&self) -> Duration {
        use backchannel_mock::script::Step;
        let awaited =
            self.summed(|s| if let Step::AwaitNotification { within, .. } = s { Some(*within) } else { None });
        self.certain_wait() + awaited
    }

    /// The sum of what `of` reads off the script's steps.
    fn summed(&self, of: impl Fn(&backchannel_mock::script::Step) -> Option<Duration>) -> Duration {
        self.script.steps.iter().filter_map(of).sum()
    }

    /// The rule `key` as revision `rev` states it: the built-in catalogue, else the
    /// file's own `specs:` (which apply to every revision).
    pub fn rule(&self, key: &str, rev: Revision) -> Option<SpecRef> {
        catalog::resolve(key, rev, &self.specs)
    }

    /// The request whose handling makes the mock run its steps, when it waits for one
    /// (`trigger: tool_call`): the trigger `tools/call`, `prompts/get` or `resources/read`.
    pub fn awaited_request(&self) -> Option<RoundMethod> {
        (self.trigger == TriggerKind::ToolCall).then_some(self.client.trigger_request)
    }

    /// The newest revision the scenario lists.
    pub fn latest_revision(&self) -> Revision {
        self.revisions.iter().max().copied().unwrap_or(Revision::LATEST_LEGACY)
    }

    /// The scripted request with this step name.
    pub fn request(&self, name: &str) -> Option<&ScriptedRequest> {
        self.requests.iter().find(|r| r.name == name)
    }
}

/// A graded expectation: how much a violation weighs, and the rule it enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// `must` or `should` (lowered to `should` where the case's revision states the rule so).
    pub severity: Severity,
    /// The rule's key (built-in catalogue or the file's `specs:`).
    pub rule: String,
}

/// The error code must be one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRule {
    /// Acceptable codes.
    pub one_of: Vec<i64>,
    /// The grade.
    pub grade: Expectation,
}

/// The error message must contain each of `contains` and none of `not_contains`
/// (`{{client_name}}` and `{{canary}}` expand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRule {
    /// Substrings the message must contain.
    pub contains: Vec<String>,
    /// Substrings it must not contain.
    pub not_contains: Vec<String>,
    /// The grade.
    pub grade: Expectation,
}

/// A success result must match these asserts.
#[derive(Debug, Clone)]
pub struct ResultRule {
    /// The result contains this JSON as a subset.
    pub subset: Option<Value>,
    /// The result is exactly this JSON.
    pub equals: Option<Value>,
    /// JSON-pointer asserts.
    pub pointers: Vec<Pointer>,
    /// The grade.
    pub grade: Expectation,
}

/// An assert on the value at a JSON pointer.
#[derive(Debug, Clone)]
pub struct Pointer {
    /// The pointer (RFC 6901).
    pub pointer: String,
    /// The value equals this.
    pub equals: Option<Value>,
    /// The value is a string matching this.
    pub matches: Option<regex::Regex>,
    /// The value exists (`true`) or is absent (`false`).
    pub exists: Option<bool>,
}

/// What the answer to a scripted request must be.
#[derive(Debug, Clone, Default)]
pub struct AnswerExpect {
    /// It must NOT be answered (replaces `.answered` with `.not-answered`).
    pub no_answer: Option<Expectation>,
    /// It must be an error response.
    pub error: Option<Expectation>,
    /// The error's code.
    pub error_code: Option<CodeRule>,
    /// The error's message.
    pub error_message: Option<MessageRule>,
    /// It must be a success result matching these asserts.
    pub result: Option<ResultRule>,
    /// It must be answered as the named earlier step was.
    pub alike: Option<AlikeRule>,
}

/// The answer must be of the same kind as step `step`'s: an error with the same
/// code, or a result with the same members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlikeRule {
    /// The earlier step's name.
    pub step: String,
    /// The grade.
    pub grade: Expectation,
}

/// One scripted request, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedRequest {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The method.
    pub method: String,
    /// What the answer must be.
    pub expect: AnswerExpect,
    /// How long the answer may take.
    pub within: Duration,
    /// The params as written (before canary expansion).
    pub params: Option<Value>,
    /// Where it travels over Streamable HTTP.
    pub delivery: DeliveryKind,
    /// The id written in the scenario (`None`: the mock's counter or the trigger call's id).
    pub id: Option<Value>,
    /// Whether it reuses the id of the client's in-flight trigger `tools/call`.
    pub id_from_trigger: bool,
    /// Whether it travels as a member of a JSON-RPC batch.
    pub in_batch: bool,
}

/// One raw line, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedRaw {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The line as written (before canary expansion).
    pub line: String,
    /// If the client answers it (an id-less error), the code.
    pub error_code_if_answered: Option<CodeRule>,
}

/// One ask of an MRTR round, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedInput {
    /// The `inputRequests` key.
    pub key: String,
    /// The method asked for.
    pub method: String,
    /// The params as written.
    pub params: Option<Value>,
    /// The response must match (`<round>.<key>.result`).
    pub result: Option<ResultRule>,
    /// No retry may answer it (`<round>.<key>.not-answered`).
    pub no_answer: Option<Expectation>,
}

/// One MRTR round, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedRound {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The asks, in order.
    pub inputs: Vec<ScriptedInput>,
    /// The `requestState` as written (before canary expansion).
    pub request_state: Option<String>,
    /// The client must retry (`<round>.retried`).
    pub retry: Option<Expectation>,
    /// How long the retry may take.
    pub within: Duration,
}

/// One broken response stream, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedBreak {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The client must re-issue the request (`<name>.reissued`).
    pub reissue: Option<Expectation>,
    /// How long the re-issue may take.
    pub within: Duration,
}

/// One closed stream connection, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptedClose {
    /// The step name (unique in the scenario).
    pub name: String,
    /// The GET stream, or the trigger call's response stream.
    pub delivery: DeliveryKind,
    /// The `retry` field sent before a graceful close (milliseconds).
    pub retry_ms: Option<u64>,
    /// An abort (a broken connection), not a graceful close.
    pub abort: bool,
}

/// Capabilities that must (not) be declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityRule {
    /// Capability names (dotted paths reach inside).
    pub names: Vec<String>,
    /// The grade.
    pub grade: Expectation,
}

/// Expectations about the whole session.
#[derive(Debug, Clone, Default)]
pub struct SessionExpect {
    /// `capabilities.absent`.
    pub capabilities_absent: Option<CapabilityRule>,
    /// `capabilities.present`.
    pub capabilities_present: Option<CapabilityRule>,
    /// `notifications.<method>`: notifications the client must send.
    pub notifications: Vec<(String, Expectation)>,
    /// `logs.warning-per-request`: the methods, and the grade.
    pub warning_per_request: Option<(Vec<String>, Expectation)>,
    /// `logs.no-canary-at-warning`.
    pub no_canary_at_warning: Option<Expectation>,
    /// `logs.canary-at-debug`.
    pub canary_at_debug: Option<Expectation>,
}

/// Preconditions of a scenario's own expectations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Capabilities that must NOT be declared.
    pub undeclared: Vec<String>,
    /// Capabilities that must be declared.
    pub declared: Vec<String>,
}

/// A root the client exposes: its URI and optional name.
pub type PlannedRoot = (String, Option<String>);

/// A way the harness configures a client under test (the client contract's
/// `BACKCHANNEL_CLIENT_*` variables, the reference client's flags). A client may
/// legitimately honour none of them: checks that depend on a knob the client does
/// not take up are N/A — unless the client claims the knob (its profile lists it,
/// `--honours`, or it is the reference client), when they stay judged and
/// `client.configured` fails.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Knob {
    /// `BACKCHANNEL_CLIENT_ROOTS`: expose roots (declare `roots`).
    Roots,
    /// `BACKCHANNEL_CLIENT_ROOTS_CHANGE`: change them (declare `roots.listChanged`, notify).
    RootsChange,
    /// `BACKCHANNEL_CLIENT_ELICITATION`: support elicitation in these modes.
    Elicitation,
    /// `BACKCHANNEL_CLIENT_SAMPLING`: support sampling (declare `sampling`, answer it).
    Sampling,
    /// `BACKCHANNEL_CLIENT_LOG_LEVEL=debug`: log at DEBUG.
    LogLevel,
    /// `BACKCHANNEL_CLIENT_CALL_TOOL`: call the scenario's tool once initialized.
    CallTool,
    /// Speak MCP 2026-07-28 (probe with `server/discover`).
    #[serde(rename = "2026-07-28")]
    Modern,
}

impl Knob {
    /// Every knob.
    pub const ALL: [Self; 7] = [
        Self::Roots,
        Self::RootsChange,
        Self::Elicitation,
        Self::Sampling,
        Self::LogLevel,
        Self::CallTool,
        Self::Modern,
    ];

    /// How the contract spells it (`--honours`, profiles' `honours:`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Roots => "roots",
            Self::RootsChange => "roots-change",
            Self::Elicitation => "elicitation",
            Self::Sampling => "sampling",
            Self::LogLevel => "log-level",
            Self::CallTool => "call-tool",
            Self::Modern => "2026-07-28",
        }
    }

    /// The knob that configures capability `path` (dotted), whatever a scenario sets.
    pub fn for_capability(path: &str) -> Option<Self> {
        let root = path.split('.').next().unwrap_or(path);
        match (root, path) {
            (_, "roots.listChanged") => Some(Self::RootsChange),
            ("roots", _) => Some(Self::Roots),
            ("elicitation", _) => Some(Self::Elicitation),
            ("sampling", _) => Some(Self::Sampling),
            _ => None,
        }
    }

    /// What turns it, for evidence: the variable, or the revision.
    pub fn source(self) -> &'static str {
        match self {
            Self::Roots => "BACKCHANNEL_CLIENT_ROOTS",
            Self::RootsChange => "BACKCHANNEL_CLIENT_ROOTS_CHANGE",
            Self::Elicitation => "BACKCHANNEL_CLIENT_ELICITATION",
            Self::Sampling => "BACKCHANNEL_CLIENT_SAMPLING",
            Self::LogLevel => "BACKCHANNEL_CLIENT_LOG_LEVEL",
            Self::CallTool => "BACKCHANNEL_CLIENT_CALL_TOOL (or _GET_PROMPT, _READ_RESOURCE)",
            Self::Modern => "MCP_CONFORMANCE_PROTOCOL_VERSION=2026-07-28",
        }
    }
}

impl std::str::FromStr for Knob {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown knob `{s}`; one of {}", names.join(", "))
        })
    }
}

/// The knobs a client claims to honour.
pub type Knobs = std::collections::BTreeSet<Knob>;

/// How the client under test should be configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientPlan {
    /// Roots to expose.
    pub roots: Vec<PlannedRoot>,
    /// Log level.
    pub log_level: Option<LogLevel>,
    /// A tool to call once initialized.
    pub call_tool: Option<String>,
    /// The arguments of that call.
    pub call_arguments: Option<serde_json::Map<String, serde_json::Value>>,
    /// 2026-07-28: whether the trigger is that tool's `tools/call`, or a `prompts/get`
    /// of the prompt of that name, or a `resources/read` of `backchannel://NAME`.
    pub trigger_request: RoundMethod,
    /// Elicitation modes to support (`form`, `url`, or `empty` for a `{}` declaration),
    /// and how long the user takes to answer.
    pub elicitation: Option<(Vec<&'static str>, u64)>,
    /// What the user answers a supported elicitation with.
    pub elicitation_action: ElicitAction,
    /// Sampling to support: `basic`, or the features `tools`, `context`.
    pub sampling: Option<Vec<&'static str>>,
    /// Change the roots after this many milliseconds, to these.
    pub roots_change: Option<(u64, Vec<PlannedRoot>)>,
}

impl ClientPlan {
    /// The knobs this plan turns, at this revision.
    pub fn knobs(&self, revision: Revision) -> Knobs {
        let mut k = Knobs::new();
        if !self.roots.is_empty() || self.roots_change.is_some() {
            k.insert(Knob::Roots);
        }
        if self.roots_change.is_some() {
            k.insert(Knob::RootsChange);
        }
        if self.elicitation.is_some() {
            k.insert(Knob::Elicitation);
        }
        if self.sampling.is_some() {
            k.insert(Knob::Sampling);
        }
        if self.log_level.is_some_and(|l| l <= LogLevel::Debug) {
            k.insert(Knob::LogLevel);
        }
        if self.call_tool.is_some() {
            k.insert(Knob::CallTool);
        }
        if !revision.is_legacy() {
            k.insert(Knob::Modern);
        }
        k
    }

    /// The knob that asks the client to declare capability `path` (dotted: `roots`,
    /// `roots.listChanged`, `elicitation`, `elicitation.url`), if this plan turns one.
    pub fn configures(&self, path: &str) -> Option<Knob> {
        let modes = self.elicitation.as_ref().map(|(m, _)| m.as_slice()).unwrap_or_default();
        let sampling = self.sampling.as_deref().unwrap_or_default();
        match path {
            "roots" if !self.roots.is_empty() || self.roots_change.is_some() => Some(Knob::Roots),
            "roots.listChanged" if self.roots_change.is_some() => Some(Knob::RootsChange),
            "elicitation" if self.elicitation.is_some() => Some(Knob::Elicitation),
            "elicitation.form" if modes.contains(&"form") || modes.contains(&"empty") => Some(Knob::Elicitation),
            "elicitation.url" if modes.contains(&"url") => Some(Knob::Elicitation),
            "sampling" if self.sampling.is_some() => Some(Knob::Sampling),
            "sampling.tools" if sampling.contains(&"tools") => Some(Knob::Sampling),
            "sampling.context" if sampling.contains(&"context") => Some(Knob::Sampling),
            _ => None,
        }
    }
}
