//! How the scenario wants the client under test configured (`client:`): roots,
//! log level, elicitation support, a roots change. The harness turns it into the
//! client plan (`BACKCHANNEL_CLIENT_*`, `backchannel client` flags).

use schemars::JsonSchema;
use serde::Deserialize;

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
    /// Elicitation the client should support ("the user" then answers with
    /// `action`: by default, no). Default: none.
    #[serde(default)]
    pub elicitation: Option<ClientElicitation>,
    /// Sampling the client should support (it then answers every request with a
    /// model reply). Default: none.
    #[serde(default)]
    pub sampling: Option<ClientSampling>,
    /// Change the client's roots during the session.
    #[serde(default)]
    pub roots_change: Option<RootsChangeSpec>,
    /// The arguments of the trigger `tools/call` (`trigger: tool_call`; an object).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub call_arguments: Option<serde_saphyr::Spanned<serde_json::Map<String, serde_json::Value>>>,
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
    /// How long "the user" takes to answer, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
    /// What "the user" answers: `decline` (default), `cancel`, or `accept` (a form
    /// with its defaults and a valid value for each required field; a URL consented to).
    #[serde(default)]
    pub action: ElicitAction,
}

/// What "the user" answers an elicitation with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Accept.
    Accept,
    /// Decline.
    #[default]
    Decline,
    /// Cancel.
    Cancel,
}

impl ElicitAction {
    /// As the contract spells it (`BACKCHANNEL_CLIENT_ELICITATION_ACTION`, `--elicitation-action`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Cancel => "cancel",
        }
    }
}

/// Sampling support for the client under test.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSampling {
    /// Declare `sampling.tools` (2025-11-25): accept tool-enabled requests.
    #[serde(default)]
    pub tools: bool,
    /// Declare `sampling.context`: accept `includeContext` other than `none`.
    #[serde(default)]
    pub context: bool,
}

impl ClientSampling {
    /// The features as the contract spells them (`BACKCHANNEL_CLIENT_SAMPLING`,
    /// `--sampling`): `basic`, or `tools`, `context`, `tools,context`.
    pub fn contract_features(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.tools {
            f.push("tools");
        }
        if self.context {
            f.push("context");
        }
        if f.is_empty() {
            f.push("basic");
        }
        f
    }
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

/// A log level, most verbose first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
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
