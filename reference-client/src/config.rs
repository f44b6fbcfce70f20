//! What the reference client is told: how to name the server, which roots it
//! exposes, and how to word its refusals.

use std::fmt;

/// The version string the client announces in `initialize`.
pub const CLIENT_NAME: &str = "backchannel-reference-client";

/// The protocol revision the client asks for in `initialize`.
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// How log lines name the server: `stdio:<program>` or a URL without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLabel(String);

impl ServerLabel {
    /// `stdio:<program>`. Only the program is named: arguments can carry secrets.
    pub fn stdio(program: &str) -> Self {
        Self(format!("stdio:{program}"))
    }

    /// A URL with userinfo, query and fragment removed, so no credential lands in a log line.
    pub fn url(url: &str) -> Self {
        Self(redact_url(url))
    }

    /// Any label, used verbatim.
    pub fn custom(label: impl Into<String>) -> Self {
        Self(label.into())
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Strip `user:pass@`, `?query` and `#fragment` from a URL.
pub fn redact_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    format!("{}{}{}", &url[..scheme_end], host, &rest[authority_end..])
}

/// A root the client exposes through `roots/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootEntry {
    /// The root's URI (the spec requires `file://`).
    pub uri: String,
    /// A human-readable name.
    pub name: Option<String>,
}

/// What "the user" does with an elicitation the client supports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ElicitationAction {
    /// Accept: a form is submitted with its defaults (SEP-1034) and, for required
    /// fields without one, the first valid value; a URL is consented to.
    Accept,
    /// Decline (the default: a user who says no).
    #[default]
    Decline,
    /// Dismiss without choosing.
    Cancel,
}

impl ElicitationAction {
    /// As the result's `action` and the `--elicitation-action` flag spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Cancel => "cancel",
        }
    }
}

impl std::str::FromStr for ElicitationAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "accept" => Ok(Self::Accept),
            "decline" => Ok(Self::Decline),
            "cancel" => Ok(Self::Cancel),
            other => Err(format!("unknown elicitation action `{other}` (accept, decline, cancel)")),
        }
    }
}

/// Sampling support: the capability is declared and every request answered with a
/// canned assistant message from model [`Sampling::model`] — or, when the request
/// offers tools and its `toolChoice` allows them, a `tool_use` of the first tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sampling {
    /// Declare `sampling.tools` (2025-11-25): accept tool-enabled requests.
    pub tools: bool,
    /// Declare `sampling.context`: accept `includeContext` other than `none`.
    pub context: bool,
    /// The text of every reply.
    pub reply: String,
    /// The `model` every result names.
    pub model: String,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            tools: false,
            context: false,
            reply: "backchannel reference reply".to_owned(),
            model: "backchannel-reference-model".to_owned(),
        }
    }
}

/// Elicitation support, for a client that has a user to ask ("the user" answers
/// with [`Elicitation::action`] after `answer_delay`; by default: no).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elicitation {
    /// Form mode is supported.
    pub form: bool,
    /// URL mode is supported.
    pub url: bool,
    /// Declare the capability as `{}` (the 2025-06-18 spelling, "form only" since
    /// 2025-11-25) instead of naming the modes.
    pub declare_empty: bool,
    /// How long "the user" takes to answer.
    pub answer_delay: std::time::Duration,
    /// What "the user" answers.
    pub action: ElicitationAction,
}

/// A change of roots during the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootsChange {
    /// When, after initialization.
    pub after: std::time::Duration,
    /// The roots from then on.
    pub roots: Vec<RootEntry>,
}

/// The reference client's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// How logs name the server.
    pub server: ServerLabel,
    /// Roots to expose; the `roots` capability is declared only when this is non-empty.
    pub roots: Vec<RootEntry>,
    /// A link appended to refusal messages, e.g. the gateway's docs page.
    pub docs_url: Option<String>,
    /// `clientInfo.name`, also the peer named in refusal messages.
    pub client_name: String,
    /// The protocol revision requested in `initialize`.
    pub protocol_version: String,
    /// Elicitation support; `None` (the default) declares none and refuses every request.
    pub elicitation: Option<Elicitation>,
    /// Sampling support; `None` (the default) declares none and refuses every request.
    pub sampling: Option<Sampling>,
    /// Change the roots (and send `notifications/roots/list_changed`) during the
    /// session; declares `roots.listChanged`.
    pub roots_change: Option<RootsChange>,
    /// Keep a record of every server→client request and its answer
    /// ([`crate::Recorder`]); `None` (the default) keeps none.
    pub record: Option<crate::Recorder>,
}

impl Config {
    /// A configuration with no roots and the default names.
    pub fn new(server: ServerLabel) -> Self {
        Self {
            server,
            roots: Vec::new(),
            docs_url: None,
            client_name: CLIENT_NAME.to_owned(),
            protocol_version: PROTOCOL_VERSION.to_owned(),
            elicitation: None,
            sampling: None,
            roots_change: None,
            record: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(redact_url("http://user:pw@127.0.0.1:8080/mcp?token=abc#x"), "http://127.0.0.1:8080/mcp");
        assert_eq!(redact_url("https://host/a/b"), "https://host/a/b");
        assert_eq!(redact_url("http://a@b@host:1"), "http://host:1");
        assert_eq!(redact_url("not a url?secret"), "not a url");
        assert_eq!(ServerLabel::stdio("/usr/bin/srv").as_str(), "stdio:/usr/bin/srv");
    }
}
