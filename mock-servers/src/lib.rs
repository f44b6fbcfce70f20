//! Scriptable raw-wire MCP mock servers, and the oracle's eyes.
//!
//! This crate owns everything that touches the wire on the server side of a
//! backchannel case:
//!
//! - the vocabulary every crate shares — revisions, transports, the capability
//!   each server→client request needs — is the `backchannel-protocol` crate's;
//! - [`wire`]: classifying untrusted JSON-RPC frames (never fails, records findings);
//! - [`trace`]: the JSON Lines record of every frame both ways (the "Wire format" is
//!   documented there);
//! - [`script`]: the Rust API of a session (what to send, when);
//! - [`engine`]: one MCP session — `initialize`, then the script — over any transport;
//! - [`transport`]: stdio framing (the mock as the child process a client spawns),
//!   Streamable HTTP and the legacy HTTP+SSE transport.
//!
//! It knows nothing of YAML scenarios, checks or reports: the harness compiles a
//! scenario into a [`script::Script`] and reads the trace back.
//!
//! It deliberately does not depend on rmcp: the mock must be able to send what a
//! well-behaved SDK never would (string or duplicate ids, requests before
//! `initialized`, malformed lines) and must see exactly what the client sent.
//!
//! ```
//! use std::time::Duration;
//! use backchannel_mock::{canary::Canary, script::*, trace::TraceWriter, transport::stdio};
//! use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let script = Script {
//!     scenario: "doc/ping".into(),
//!     server: ServerSettings::default(),
//!     steps: vec![Step::Request(RequestStep {
//!         name: "ping".into(), id: IdSpec::Auto, method: "ping".into(), params: None,
//!         wait: true, answer_within: Duration::from_secs(1), delivery: None,
//!     })],
//!     timeout: Duration::from_secs(5),
//!     grace: Duration::from_millis(10),
//!     barrier: false,
//!     trigger: Trigger::Initialized,
//!     delivery: Delivery::GetStream,
//!     round_method: RoundMethod::ToolsCall,
//!     answer_repeated_initialize: false,
//! };
//! let (client, server) = tokio::io::duplex(4096);
//! let (server_r, server_w) = tokio::io::split(server);
//! let mock = tokio::spawn(async move {
//!     stdio::serve(script, &Canary::generate(), TraceWriter::discard(), server_r, server_w, 1 << 20).await
//! });
//! let (client_r, mut client_w) = tokio::io::split(client);
//! let mut lines = BufReader::new(client_r).lines();
//! client_w.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"doc\",\"version\":\"0\"}}}\n").await.unwrap();
//! let init = lines.next_line().await.unwrap().unwrap();
//! assert!(init.contains("\"protocolVersion\":\"2025-06-18\""));
//! client_w.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n").await.unwrap();
//! let ping = lines.next_line().await.unwrap().unwrap();
//! assert_eq!(ping, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
//! client_w.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n").await.unwrap();
//! // The script is done: after the grace period the mock closes its side.
//! assert_eq!(lines.next_line().await.unwrap(), None);
//! assert_eq!(mock.await.unwrap().unwrap(), backchannel_mock::trace::EndReason::ScriptDone);
//! # });
//! ```

pub mod canary;
pub mod engine;
pub mod script;
pub mod trace;
pub mod transport;
pub mod wire;
