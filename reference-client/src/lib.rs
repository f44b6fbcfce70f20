//! The backchannel reference intercepting client: an MCP client (a
//! [`rmcp::ClientHandler`]) for gateways that do not support sampling or
//! elicitation and want to say so properly.
//!
//! It declares no `sampling` and no `elicitation` capability (and `roots` only
//! when roots are configured). It answers `sampling/createMessage`,
//! `elicitation/create` — and `roots/list` when no roots are configured — with
//! JSON-RPC `-32601` and a message naming itself and the method; it logs exactly
//! one WARNING per refused request naming the server and the method, and the
//! params only at DEBUG. It answers `ping` with `{}`.
//!
//! Configured to *handle* the back channel ([`Config::sampling`],
//! [`Config::elicitation`] with an [`ElicitationAction`], [`Config::roots`]), it
//! declares exactly that and answers: a canned sampling reply (a `tool_use` when the
//! request offers tools and the capability covers them), an elicitation accepted with
//! the form's defaults, declined or cancelled, the roots ([`answer`]).
//!
//! rmcp's own defaults differ: its `ClientHandler` answers `elicitation/create`
//! with `decline` and `roots/list` with `[]` even when nothing was declared.
//!
//! This crate knows nothing of the harness or the mocks (of the kit it uses only the
//! vocabulary crate, `backchannel-protocol`: revisions, the capability each request
//! needs, the format of its [`Recorder`]'s record); the harness drives it as a
//! separate process, exactly like a third-party client.
//!
//! ```
//! use backchannel_reference_client::{Config, InterceptingClient, ServerLabel};
//!
//! let client = InterceptingClient::new(Config::new(ServerLabel::url("http://user:pw@127.0.0.1:9/mcp?key=x")));
//! assert_eq!(client.config().server.as_str(), "http://127.0.0.1:9/mcp");
//! let caps = serde_json::to_value(client.capabilities()).unwrap();
//! assert_eq!(caps, serde_json::json!({}));
//! ```
//!
//! **Logging note for embedders.** rmcp logs every error response a handler
//! returns at WARN (target `rmcp::service`), and in a few paths logs whole
//! messages, params included, at WARN. Cap the `rmcp` target at `error` in your
//! subscriber (the `backchannel client` command does) so the only WARNING per
//! refusal is this crate's, and no params reach WARNING.

pub mod answer;
mod config;
mod connect;
mod handler;
pub mod legacy_sse;
mod record;
mod rounds;
pub mod stdio;

pub use backchannel_protocol::capability_for;
pub use config::{
    CLIENT_NAME, Config, Elicitation, ElicitationAction, PROTOCOL_VERSION, RootEntry, RootsChange, Sampling,
    ServerLabel, redact_url,
};
pub use connect::{
    ClientError, Lifecycle, SESSION_UP, SessionEnd, SessionOptions, Signal, run_stdio, run_url, serve, socket_address,
};
pub use handler::{InterceptingClient, Refusal, loggable};
pub use record::Recorder;
