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

/// Elicitation support, for a client that has a user to ask (the reference client
/// declines every request it accepts, after `answer_delay`: a user who says no).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elicitation {
    /// Form mode is supported.
    pub form: bool,
    /// URL mode is supported.
    pub url: bool,
    /// Declare the capability as `{}` (the 2025-06-18 spelling, "form only" since
    /// 2025-11-25) instead of naming the modes.
    pub declare_empty: bool,
    /// How long "the user" takes before declining.
    pub answer_delay: std::time::Duration,
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
    /// Change the roots (and send `notifications/roots/list_changed`) during the
    /// session; declares `roots.listChanged`.
    pub roots_change: Option<RootsChange>,
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
            roots_change: None,
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
