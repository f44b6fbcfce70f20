//! The kit's vocabulary, typed once, in the lowest crate: the mock, the reference
//! client and the harness all depend on it, and nothing else.
//!
//! - [`Revision`]: the MCP revisions and the facts of each (what it has, what the mock
//!   serves on which [`Transport`]); every crate compares these enums — nobody compares
//!   revision dates or transport names as strings;
//! - [`capability_for`] / [`Revision::capability_for`]: the client capability each
//!   server→client request needs — one table for the mock's scripts, the reference
//!   client's refusals and the harness's checks;
//! - [`RoundMethod`]: the requests a 2026-07-28 `InputRequiredResult` may answer;
//! - [`record`]: the record a client keeps of the server→client requests that reached
//!   it and what it answered (written by the reference client, read by the harness's
//!   gateway mode).
//!
//! Sources for the facts are cited on each method (`D/<rev>/…` is the spec page of
//! that revision).

pub mod record;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An MCP protocol revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
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
    /// Every revision, oldest first.
    pub const ALL: [Self; 5] =
        [Self::V2024_11_05, Self::V2025_03_26, Self::V2025_06_18, Self::V2025_11_25, Self::V2026_07_28];

    /// The revisions with the `initialize` handshake (and server-to-client JSON-RPC requests).
    pub const LEGACY: [Self; 4] = [Self::V2024_11_05, Self::V2025_03_26, Self::V2025_06_18, Self::V2025_11_25];

    /// The newest revision with the `initialize` handshake: what a legacy server offers
    /// a client that asks for a revision it does not speak.
    pub const LATEST_LEGACY: Self = Self::V2025_11_25;

    /// The revision without `initialize` (`server/discover`, per-request `_meta`, MRTR).
    pub const MODERN: Self = Self::V2026_07_28;

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

    /// Read a revision date as it travels on the wire (`None` for one the kit does not know).
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this revision uses the `initialize` handshake (every revision before
    /// 2026-07-28; `D/2026-07-28/changelog.mdx`: "no handshake").
    pub fn is_legacy(self) -> bool {
        self != Self::MODERN
    }

    /// Whether JSON-RPC batches exist: 2025-03-26 only ("MUST support receiving JSON-RPC
    /// batches", `D/2025-03-26/basic/index.mdx:94-97`; removed in 2025-06-18,
    /// `D/2025-06-18/changelog.mdx:12`).
    pub fn has_batches(self) -> bool {
        self == Self::V2025_03_26
    }

    /// Whether a client's JSON-RPC batch breaks the revision's framing: from 2025-06-18
    /// every message is a single request, notification or response
    /// (`D/2025-06-18/basic/transports.mdx:27,90`). Before, JSON-RPC 2.0 batches are legal.
    pub fn forbids_batches(self) -> bool {
        self >= Self::V2025_06_18
    }

    /// Whether `elicitation/create` exists (from 2025-06-18, `D/2025-06-18/client/elicitation.mdx`).
    pub fn has_elicitation(self) -> bool {
        self >= Self::V2025_06_18
    }

    /// Whether elicitation has modes (form and URL) and sampling has tools (2025-11-25 on).
    pub fn has_elicitation_modes(self) -> bool {
        self >= Self::V2025_11_25
    }

    /// The client capability `method`, a server→client request, needs in a session
    /// at this revision: `sampling`, `roots`, and `elicitation` from 2025-06-18 (before
    /// it `elicitation/create` is an unknown method whatever the client declared, and
    /// `-32601` the right answer); `None` for a request that needs none (`ping`) or
    /// that the revision does not have.
    pub fn capability_for(self, method: &str) -> Option<&'static str> {
        match capability_for(method) {
            Some("elicitation") if !self.has_elicitation() => None,
            Some(cap) if cap.starts_with("tasks") && !self.has_tasks() => None,
            other => other,
        }
    }

    /// Whether tasks are core protocol, the `tasks/*` requests a server may send a
    /// client among them (2025-11-25 only: `S/2025-11-25` `ServerRequest`; at
    /// 2026-07-28 they left the core for the `io.modelcontextprotocol/tasks`
    /// extension).
    pub fn has_tasks(self) -> bool {
        self == Self::V2025_11_25
    }

    /// Whether a Streamable HTTP client resumes a broken SSE stream with a GET carrying
    /// `Last-Event-ID` (2025-03-26 … 2025-11-25 `basic/transports.mdx`, Resumability
    /// and Redelivery; 2026-07-28 streams are not resumable: a lost request is re-issued).
    pub fn has_stream_resumption(self) -> bool {
        (Self::V2025_03_26..=Self::V2025_11_25).contains(&self)
    }

    /// Whether a server may close an SSE stream's connection on purpose, after a
    /// `retry` field, for the client to poll it back (2025-11-25 only, SEP-1699).
    pub fn has_stream_polling(self) -> bool {
        self == Self::V2025_11_25
    }

    /// Whether audio content blocks exist (from 2025-03-26, `S/2025-03-26` `AudioContent`).
    pub fn has_audio(self) -> bool {
        self >= Self::V2025_03_26
    }

    /// Whether Streamable HTTP requests after `initialize` carry `MCP-Protocol-Version`
    /// (MUST from 2025-06-18, `D/2025-06-18/basic/transports.mdx:242-243`).
    pub fn has_protocol_version_header(self) -> bool {
        self >= Self::V2025_06_18 && self.is_legacy()
    }

    /// Whether the kit runs this revision over a transport: Streamable HTTP from
    /// 2025-03-26 (in 2026-07-28 its sessionless binding: request headers, no GET
    /// stream, `D/2026-07-28/basic/transports/streamable-http.mdx`), HTTP+SSE
    /// (deprecated, still served) in every legacy revision, stdio always.
    pub fn has_transport(self, t: Transport) -> bool {
        match t {
            Transport::Stdio => true,
            Transport::Http => self >= Self::V2025_03_26,
            Transport::Sse => self.is_legacy(),
        }
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A revision date the kit does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown revision `{0}`; one of 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28")]
pub struct UnknownRevision(pub String);

impl FromStr for Revision {
    type Err = UnknownRevision;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_wire(s).ok_or_else(|| UnknownRevision(s.to_owned()))
    }
}

/// The client capability a server→client request needs in the revisions that have
/// it ("Clients that support sampling **MUST** declare the `sampling` capability",
/// `D/2025-11-25/client/sampling.mdx:44`; likewise `client/elicitation.mdx:51`,
/// `client/roots.mdx:27`; the `tasks/*` requests: a client that supports tasks
/// declares `tasks`, and `tasks.list` / `tasks.cancel` control whether those two
/// operations are supported, `D/2025-11-25/basic/utilities/tasks.mdx:60-104`) — as a
/// capability path, dotted; `None` for one that needs none. At a known revision,
/// ask [`Revision::capability_for`].
pub fn capability_for(method: &str) -> Option<&'static str> {
    match method {
        "sampling/createMessage" => Some("sampling"),
        "elicitation/create" => Some("elicitation"),
        "roots/list" => Some("roots"),
        "tasks/get" | "tasks/result" => Some("tasks"),
        "tasks/list" => Some("tasks.list"),
        "tasks/cancel" => Some("tasks.cancel"),
        _ => None,
    }
}

/// A transport between the client under test and the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
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

    /// Whether frames travel over HTTP (Streamable HTTP or HTTP+SSE).
    pub fn is_http(self) -> bool {
        self != Self::Stdio
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A transport name the kit does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport `{0}`; one of stdio, http, sse")]
pub struct UnknownTransport(pub String);

impl FromStr for Transport {
    type Err = UnknownTransport;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownTransport(s.to_owned()))
    }
}

/// The requests a 2026-07-28 `InputRequiredResult` may answer — `tools/call`,
/// `prompts/get`, `resources/read` (`basic/transports/streamable-http.mdx`;
/// `basic/patterns/mrtr.mdx`) — which are also the ones whose target (`params.name`,
/// or `params.uri`) travels as the `Mcp-Name` header over Streamable HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum RoundMethod {
    /// `tools/call` of the trigger tool.
    #[default]
    #[serde(rename = "tools/call")]
    ToolsCall,
    /// `prompts/get` of the trigger prompt.
    #[serde(rename = "prompts/get")]
    PromptsGet,
    /// `resources/read` of the trigger resource.
    #[serde(rename = "resources/read")]
    ResourcesRead,
}

impl RoundMethod {
    /// Every one of them.
    pub const ALL: [Self; 3] = [Self::ToolsCall, Self::PromptsGet, Self::ResourcesRead];

    /// The one whose JSON-RPC method is `method`.
    pub fn from_method(method: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == method)
    }

    /// The JSON-RPC method.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToolsCall => "tools/call",
            Self::PromptsGet => "prompts/get",
            Self::ResourcesRead => "resources/read",
        }
    }

    /// The params member that names what is called, read or got.
    pub fn name_field(self) -> &'static str {
        if self == Self::ResourcesRead { "uri" } else { "name" }
    }

    /// What the client names in that member, for a trigger named `name`.
    pub fn target(self, name: &str) -> String {
        if self == Self::ResourcesRead { format!("backchannel://{name}") } else { name.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_round_trip_and_order() {
        for r in Revision::ALL {
            assert_eq!(r.as_str().parse::<Revision>(), Ok(r));
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
        }
        assert!("2025-13-01".parse::<Revision>().is_err());
        assert!(Revision::V2024_11_05 < Revision::V2026_07_28);
        assert_eq!(format!("{:<12}|", Revision::V2025_06_18), "2025-06-18  |");
    }

    #[test]
    fn facts_per_revision() {
        use Revision::*;
        assert!(V2025_03_26.has_batches() && !V2025_06_18.has_batches() && !V2024_11_05.has_batches());
        assert!(!V2025_03_26.has_elicitation() && V2025_06_18.has_elicitation());
        assert!(V2025_11_25.has_protocol_version_header() && !V2026_07_28.has_protocol_version_header());
        assert!(!V2024_11_05.has_transport(Transport::Http) && V2024_11_05.has_transport(Transport::Sse));
        assert!(!V2026_07_28.has_transport(Transport::Sse));
        assert!(!V2024_11_05.has_audio() && V2025_03_26.has_audio());
    }

    #[test]
    fn capabilities_per_method_and_revision() {
        use Revision::*;
        assert_eq!(capability_for("sampling/createMessage"), Some("sampling"));
        assert_eq!(capability_for("ping"), None);
        assert_eq!(V2025_03_26.capability_for("elicitation/create"), None);
        assert_eq!(V2025_06_18.capability_for("elicitation/create"), Some("elicitation"));
        assert_eq!(V2024_11_05.capability_for("roots/list"), Some("roots"));
        assert_eq!(V2025_11_25.capability_for("tasks/get"), Some("tasks"));
        assert_eq!(V2025_11_25.capability_for("tasks/list"), Some("tasks.list"));
        assert_eq!(V2025_06_18.capability_for("tasks/cancel"), None, "no tasks before 2025-11-25");
        assert_eq!(V2026_07_28.capability_for("tasks/result"), None, "an extension's at 2026-07-28");
    }

    #[test]
    fn transports_parse() {
        assert_eq!("sse".parse::<Transport>(), Ok(Transport::Sse));
        assert!("ws".parse::<Transport>().is_err());
        assert!(Transport::Http.is_http() && !Transport::Stdio.is_http());
    }
}
