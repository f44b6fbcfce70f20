//! Running the reference client against a server.

use std::time::Duration;

use rmcp::service::{ClientInitializeError, ClientLifecycleMode, ClientServiceExt, QuitReason};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use crate::config::Config;
use crate::handler::{InterceptingClient, loggable};

/// What the client logs at INFO once its session is initialized (a supervisor may
/// wait for it: the harness starts a gateway case's clock there).
pub const SESSION_UP: &str = "session initialized";

/// Why running the client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server process could not be started.
    #[error("failed to start the server `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The `initialize` handshake failed.
    #[error("failed to initialize the session")]
    Initialize(#[source] Box<ClientInitializeError>),
    /// The session task panicked or was aborted.
    #[error("the session task failed")]
    Join(#[source] tokio::task::JoinError),
    /// The legacy HTTP+SSE fallback failed.
    #[error("failed to fall back to HTTP+SSE")]
    LegacySse(#[source] crate::legacy_sse::LegacySseError),
}

/// What the client does once connected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Close the session after this long even if the server has not ended it.
    pub wait: Option<Duration>,
    /// Call this tool once initialized (the result is logged at INFO, its content at DEBUG).
    pub call_tool: Option<String>,
    /// The arguments of that call.
    pub call_arguments: Option<serde_json::Map<String, serde_json::Value>>,
    /// Get this prompt once connected (2026-07-28 input rounds answered as for a tool call).
    pub get_prompt: Option<String>,
    /// Read this resource once connected (likewise).
    pub read_resource: Option<String>,
    /// Ping the server this often and end the session when a ping *fails* (the
    /// transport refuses it: connection refused, 404 for an ended session): how an HTTP
    /// client notices that the server is gone. A ping that is merely slow is waited
    /// for — never a deadline, so a busy client or machine never hangs up on a live
    /// server. `None`: never ping.
    pub ping_interval: Option<Duration>,
    /// How the session starts.
    pub lifecycle: Lifecycle,
    /// The server's TCP address, when it has one (HTTP): with a ping interval, the
    /// session also ends once nothing listens there.
    pub address: Option<std::net::SocketAddr>,
    /// Notified once the session is initialized.
    pub up: Option<Signal>,
    /// Once initialized, wait for this before asking for anything (another session
    /// opened in between, say).
    pub hold: Option<Signal>,
    /// Streamable HTTP: open no standalone GET stream, so that the server can reach
    /// this client only on the response streams of its requests (a client MAY open
    /// one, 2025-11-25 `basic/transports.mdx`, "Listening for Messages from the Server").
    pub no_get_stream: bool,
}

/// A one-shot signal between tasks; cheap to clone. A `notify` before the `wait` is
/// not lost.
#[derive(Debug, Clone, Default)]
pub struct Signal(std::sync::Arc<tokio::sync::Notify>);

impl PartialEq for Signal {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Signal {}

impl Signal {
    /// A signal not yet given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Give the signal.
    pub fn notify(&self) {
        self.0.notify_one();
    }

    /// Resolves once the signal is given.
    pub async fn wait(&self) {
        self.0.notified().await;
    }
}

/// How a session starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lifecycle {
    /// Probe with `server/discover` and speak 2026-07-28 (per-request `_meta`, MRTR)
    /// when the server does; fall back to `initialize` on any other answer (2026-07-28
    /// `basic/versioning.mdx`, Backward Compatibility; `basic/transports/stdio.mdx`).
    #[default]
    DualEra,
    /// `initialize` only (a legacy-only client).
    Initialize,
}

impl SessionOptions {
    /// Wait for the server to end the session; call no tool.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set [`Self::wait`].
    pub fn wait(mut self, wait: Option<Duration>) -> Self {
        self.wait = wait;
        self
    }

    /// Set [`Self::call_tool`].
    pub fn call_tool(mut self, tool: Option<String>) -> Self {
        self.call_tool = tool;
        self
    }

    /// Set [`Self::get_prompt`].
    pub fn get_prompt(mut self, name: Option<String>) -> Self {
        self.get_prompt = name;
        self
    }

    /// Set [`Self::read_resource`].
    pub fn read_resource(mut self, uri: Option<String>) -> Self {
        self.read_resource = uri;
        self
    }

    /// Set [`Self::call_arguments`].
    pub fn call_arguments(mut self, arguments: Option<serde_json::Map<String, serde_json::Value>>) -> Self {
        self.call_arguments = arguments;
        self
    }

    /// Set [`Self::ping_interval`].
    pub fn ping_interval(mut self, every: Option<Duration>) -> Self {
        self.ping_interval = every;
        self
    }

    /// Set [`Self::lifecycle`].
    pub fn lifecycle(mut self, lifecycle: Lifecycle) -> Self {
        self.lifecycle = lifecycle;
        self
    }

    /// Set [`Self::up`].
    pub fn up(mut self, signal: Option<Signal>) -> Self {
        self.up = signal;
        self
    }

    /// Set [`Self::hold`].
    pub fn hold(mut self, signal: Option<Signal>) -> Self {
        self.hold = signal;
        self
    }

    /// Set [`Self::no_get_stream`].
    pub fn no_get_stream(mut self, no: bool) -> Self {
        self.no_get_stream = no;
        self
    }
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEnd {
    /// The server ended the session (closed its output).
    ServerClosed,
    /// `wait` elapsed and the client closed the session.
    WaitElapsed,
}

/// Retry a broken SSE stream a few times, quickly, then give up: the mock (and a
/// real server that went away) should not keep the client alive forever.
#[derive(Debug)]
struct FewRetries;

impl rmcp::transport::common::client_side_sse::SseRetryPolicy for FewRetries {
    fn retry(&self, attempt: usize) -> Option<Duration> {
        (attempt < 3).then(|| Duration::from_millis(200))
    }
}

/// Connect to an MCP server over HTTP: Streamable HTTP first; when the server
/// refuses the `initialize` POST with 400, 404 or 405, fall back to the legacy
/// HTTP+SSE transport (2025-11-25 `basic/transports.mdx:282-309`).
pub async fn run_url(config: Config, url: &str, options: &SessionOptions) -> Result<SessionEnd, ClientError> {
    let client = InterceptingClient::new(config);
    let mut options = options.clone();
    options.address = socket_address(url).await;
    let options = &options;
    let server = loggable(client.config().server.as_str()).into_owned();
    let http = reqwest::Client::new();
    let mut transport_config = StreamableHttpClientTransportConfig::with_uri(url);
    transport_config.retry_config = std::sync::Arc::new(FewRetries);
    // Dual era here too: rmcp's Streamable HTTP transport speaks the sessionless
    // 2026-07-28 binding (request metadata headers, `x-mcp-header` parameters) once
    // `server/discover` succeeds, and the session falls back to `initialize` otherwise.
    let streamable = |options: SessionOptions| {
        let (client, http, transport_config) = (client.clone(), http.clone(), transport_config.clone());
        async move {
            if options.no_get_stream {
                let transport = StreamableHttpClientTransport::with_client(NoGetStream(http), transport_config);
                serve(client, transport, &options).await
            } else {
                let transport = StreamableHttpClientTransport::with_client(http, transport_config);
                serve(client, transport, &options).await
            }
        }
    };
    let first = match streamable(options.clone()).await {
        // A success that is not a `DiscoverResult` (a legacy server answering every
        // unknown method with `{}`) is "anything else": a legacy server (2026-07-28
        // `basic/versioning.mdx:132-146`). rmcp's probe stops there; start again with
        // `initialize`, on a new connection.
        Err(ClientError::Initialize(e))
            if options.lifecycle == Lifecycle::DualEra
                && matches!(*e, ClientInitializeError::ExpectedInitResult(_)) =>
        {
            tracing::info!(server = %server, "server/discover got a result that is not a DiscoverResult: a legacy server; initializing");
            streamable(options.clone().lifecycle(Lifecycle::Initialize)).await
        }
        other => other,
    };
    match first {
        Err(ClientError::Initialize(e)) if refused_with_4xx(&e) => {
            tracing::info!(server = %server, "the server refused Streamable HTTP; falling back to HTTP+SSE");
            let transport = crate::legacy_sse::connect(http, url).await.map_err(ClientError::LegacySse)?;
            // HTTP+SSE exists before 2026-07-28 only: no discover probe there.
            serve(client, transport, &options.clone().lifecycle(Lifecycle::Initialize)).await
        }
        other => other,
    }
}

/// rmcp's reqwest client, but a standalone GET stream is refused as a server without
/// one would (405): the session then hears from the server only on its POSTs'
/// response streams. A GET that resumes a broken response stream still goes out.
#[derive(Clone)]
struct NoGetStream(reqwest::Client);

type Headers = std::collections::HashMap<reqwest::header::HeaderName, reqwest::header::HeaderValue>;
type HttpError = rmcp::transport::streamable_http_client::StreamableHttpError<reqwest::Error>;
type SseStream =
    futures::stream::BoxStream<'static, Result<sse_stream::Sse, rmcp::transport::streamable_http_client::SseError>>;

/// A GET without `Last-Event-ID` opens the standalone stream: refused.
fn refuse_standalone(last_event_id: Option<&str>) -> Result<(), HttpError> {
    if last_event_id.is_none() {
        tracing::debug!("no standalone GET stream (as configured)");
        return Err(HttpError::ServerDoesNotSupportSse);
    }
    Ok(())
}

impl rmcp::transport::streamable_http_client::StreamableHttpClient for NoGetStream {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: std::sync::Arc<str>,
        message: rmcp::model::ClientJsonRpcMessage,
        session_id: Option<std::sync::Arc<str>>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<rmcp::transport::streamable_http_client::StreamableHttpPostResponse, HttpError> {
        self.0.post_message(uri, message, session_id, auth_header, custom_headers).await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: std::sync::Arc<str>,
        message: rmcp::model::ClientJsonRpcMessage,
        session_id: Option<std::sync::Arc<str>>,
        auth_header: Option<String>,
        custom_headers: Headers,
        limits: rmcp::transport::streamable_http_client::StreamableHttpResponseLimits,
    ) -> Result<rmcp::transport::streamable_http_client::StreamableHttpPostResponse, HttpError> {
        self.0.post_message_with_response_limits(uri, message, session_id, auth_header, custom_headers, limits).await
    }

    async fn delete_session(
        &self,
        uri: std::sync::Arc<str>,
        session_id: std::sync::Arc<str>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<(), HttpError> {
        self.0.delete_session(uri, session_id, auth_header, custom_headers).await
    }

    async fn get_stream(
        &self,
        uri: std::sync::Arc<str>,
        session_id: Option<std::sync::Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: Headers,
    ) -> Result<SseStream, HttpError> {
        refuse_standalone(last_event_id.as_deref())?;
        self.0.get_stream(uri, session_id, last_event_id, auth_header, custom_headers).await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: std::sync::Arc<str>,
        session_id: Option<std::sync::Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: Headers,
        max_sse_event_size: usize,
    ) -> Result<SseStream, HttpError> {
        refuse_standalone(last_event_id.as_deref())?;
        self.0
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
    }
}

/// The first socket address of a URL's host and port (`None` when the URL has none
/// or the host does not resolve).
pub async fn socket_address(url: &str) -> Option<std::net::SocketAddr> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = parsed.port_or_known_default()?;
    tokio::net::lookup_host((host, port)).await.ok()?.next()
}

/// What the client asks for once connected.
enum Ask {
    /// `tools/call` of this tool with these arguments.
    Tool(String, Option<serde_json::Map<String, serde_json::Value>>),
    /// `prompts/get` of this prompt.
    Prompt(String),
    /// `resources/read` of this resource.
    Resource(String),
}

/// Make the request, fulfilling 2026-07-28 input rounds (each ask goes to the handler:
/// roots and configured elicitation are answered, anything else is refused with its
/// one WARNING — and then the request is not retried, since "the client MUST construct
/// the requested inputs before retrying", `basic/patterns/mrtr.mdx`); an attempt whose
/// response stream broke is re-issued ([`crate::rounds::drive`]). `modern`: the
/// session speaks 2026-07-28.
async fn ask<S: rmcp::Service<rmcp::RoleClient>>(
    running: &rmcp::service::RunningService<rmcp::RoleClient, S>,
    server: &str,
    ask: Ask,
    modern: bool,
) {
    let (what, name) = match &ask {
        Ask::Tool(n, _) => ("tool call", n.clone()),
        Ask::Prompt(n) => ("prompt", n.clone()),
        Ask::Resource(u) => ("resource read", u.clone()),
    };
    let name = loggable(&name).into_owned();
    let (handler, peer) = (running.service(), running.peer());
    let outcome = match ask {
        Ask::Tool(tool, arguments) => {
            // A 2026-07-28 client learns the tool's schema first: over HTTP, its
            // `x-mcp-header` annotations say which arguments travel as `Mcp-Param-*`
            // headers (rmcp's transport reads them from the `tools/list` answer).
            if modern && let Err(e) = running.list_all_tools().await {
                tracing::info!(server = %server, error = %e, "tools/list failed");
            }
            let mut params = rmcp::model::CallToolRequestParams::new(tool);
            if let Some(arguments) = arguments {
                params = params.with_arguments(arguments);
            }
            crate::rounds::drive(handler, peer, server, params, modern).await.map(|r| {
                tracing::debug!(server = %server, content = ?r.content, "tool call result");
                format!("is_error: {:?}", r.is_error)
            })
        }
        Ask::Prompt(prompt) => {
            let params = rmcp::model::GetPromptRequestParams::new(prompt);
            crate::rounds::drive(handler, peer, server, params, modern).await.map(|r| {
                tracing::debug!(server = %server, messages = ?r.messages, "prompt");
                format!("{} message(s)", r.messages.len())
            })
        }
        Ask::Resource(uri) => {
            let params = rmcp::model::ReadResourceRequestParams::new(uri);
            crate::rounds::drive(handler, peer, server, params, modern).await.map(|r| {
                tracing::debug!(server = %server, contents = ?r.contents, "resource");
                format!("{} content(s)", r.contents.len())
            })
        }
    };
    match outcome {
        Ok(summary) => tracing::info!(server = %server, name = %name, %summary, "{what} finished"),
        // An ask this client refused (already logged once at WARNING, by method):
        // the round is abandoned, not retried.
        Err(rmcp::ServiceError::McpError(e)) if e.data.as_ref().is_some_and(|d| d.get("reason").is_some()) => {
            tracing::info!(server = %server, name = %name, "{what} abandoned: the server asked for input this client does not give");
        }
        Err(e) => tracing::warn!(server = %server, name = %name, error = %e, "{what} failed"),
    }
}

/// How often the reference client checks that an HTTP server still listens: a TCP
/// connect on loopback costs microseconds, and the end of a session is noticed within it.
const PROBE_EVERY: Duration = Duration::from_millis(20);

/// Resolves once nothing accepts TCP connections at `address` any more (checked
/// every `every`; never, without an address). Connection refused is the kernel's
/// answer, whatever the load: a live listener accepts even when its process is slow.
async fn nothing_listens(address: Option<std::net::SocketAddr>, every: Duration) {
    let Some(address) = address else { return std::future::pending().await };
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = tokio::net::TcpStream::connect(address).await
            && e.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return;
        }
    }
}

/// Whether an initialize failure is the 400/404/405 that means "not Streamable HTTP"
/// (after a refused discover probe: whether the `initialize` that followed got one).
fn refused_with_4xx(e: &ClientInitializeError) -> bool {
    if let ClientInitializeError::LegacyFallbackFailed { fallback, .. } = e {
        return refused_with_4xx(fallback);
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if ["HTTP 400", "HTTP 404", "HTTP 405"].iter().any(|s| text.contains(s)) {
            return true;
        }
        next = err.source();
    }
    false
}

/// Spawn `program args…` as an MCP server over stdio and serve it until it ends
/// the session (or `wait` elapses).
pub async fn run_stdio(
    config: Config,
    program: &str,
    args: &[String],
    options: &SessionOptions,
) -> Result<SessionEnd, ClientError> {
    let server = loggable(config.server.as_str()).into_owned();
    let transport = crate::stdio::spawn(program, args, server)
        .map_err(|source| ClientError::Spawn { program: program.to_owned(), source })?;
    serve(InterceptingClient::new(config), transport, options).await
}

/// Serve any rmcp client transport until the server ends the session (or `wait` elapses).
pub async fn serve<T, E, A>(
    client: InterceptingClient,
    transport: T,
    options: &SessionOptions,
) -> Result<SessionEnd, ClientError>
where
    T: rmcp::transport::IntoTransport<rmcp::RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let server = loggable(client.config().server.as_str()).into_owned();
    let handle = client.clone();
    let lifecycle = match options.lifecycle {
        Lifecycle::Initialize => ClientLifecycleMode::Initialize,
        Lifecycle::DualEra => ClientLifecycleMode::Auto {
            preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            legacy_version: None,
        },
    };
    let running =
        client.serve_with_lifecycle(transport, lifecycle).await.map_err(|e| ClientError::Initialize(Box::new(e)))?;
    if let Some(change) = handle.config().roots_change.clone() {
        let peer = running.peer().clone();
        let server = server.clone();
        tokio::spawn(async move {
            tokio::time::sleep(change.after).await;
            handle.set_roots(change.roots);
            // 2025-11-25 client/roots.mdx:78: clients that support listChanged MUST notify.
            match peer.notify_roots_list_changed().await {
                Ok(()) => tracing::info!(server = %server, "roots changed; sent notifications/roots/list_changed"),
                Err(e) => {
                    tracing::warn!(server = %server, error = %e, "failed to send notifications/roots/list_changed")
                }
            }
        });
    }
    if let Some(info) = running.peer_info() {
        tracing::info!(server = %server, protocol = %info.protocol_version, "{SESSION_UP}");
    }
    if let Some(up) = &options.up {
        up.notify();
    }
    if let Some(hold) = &options.hold {
        hold.wait().await;
    }
    let modern = running.peer_info().is_some_and(|i| i.protocol_version >= rmcp::model::ProtocolVersion::V_2026_07_28);
    let asked = match (&options.call_tool, &options.get_prompt, &options.read_resource) {
        (Some(tool), ..) => Some(Ask::Tool(tool.clone(), options.call_arguments.clone())),
        (None, Some(prompt), _) => Some(Ask::Prompt(prompt.clone())),
        (None, None, Some(uri)) => Some(Ask::Resource(uri.clone())),
        (None, None, None) => None,
    };
    if let Some(request) = asked {
        // The 2026-07-28 input rounds go through this handler (the same policy as
        // legacy requests); they need the running service, which `waiting()`
        // consumes, so the request runs before the wait below.
        let call = ask(&running, &server, request, modern);
        match options.wait {
            Some(limit) => {
                let _ = tokio::time::timeout(limit, call).await;
            }
            None => call.await,
        }
    }
    // 2026-07-28 has no `ping` (its changelog): the end of the server is noticed by
    // the TCP probe alone.
    if let Some(every) = options.ping_interval {
        let peer = running.peer().clone();
        let token = running.cancellation_token();
        let server = server.clone();
        let address = options.address;
        tokio::spawn(async move {
            // The transport says when the session ended: a ping fails (404, refused), or
            // nothing listens any more. A slow answer is only slow — a busy client (its
            // own loop decoding a large message) or a busy machine must not end a live
            // session — so there is no deadline on the ping itself.
            let pings = async {
                if modern {
                    return std::future::pending().await;
                }
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let ping = peer.send_request(rmcp::model::ClientRequest::PingRequest(Default::default()));
                    if let Err(e) = ping.await {
                        tracing::info!(server = %server, error = %e, "ping failed; the server is gone");
                        return;
                    }
                }
            };
            tokio::select! {
                () = pings => {}
                () = nothing_listens(address, PROBE_EVERY.min(every)) => {
                    tracing::info!(server = %server, "the server no longer accepts connections; it is gone");
                }
            }
            token.cancel();
        });
    }
    let quit = match options.wait {
        None => running.waiting().await,
        Some(limit) => {
            let token = running.cancellation_token();
            let mut handle = Box::pin(running.waiting());
            match tokio::time::timeout(limit, &mut handle).await {
                Ok(quit) => quit,
                Err(_) => {
                    token.cancel();
                    let _ = handle.await;
                    tracing::info!(server = %server, "--wait elapsed; closed the session");
                    return Ok(SessionEnd::WaitElapsed);
                }
            }
        }
    };
    match quit.map_err(ClientError::Join)? {
        QuitReason::Closed | QuitReason::Cancelled => {
            tracing::info!(server = %server, "session ended by the server");
            Ok(SessionEnd::ServerClosed)
        }
        QuitReason::JoinError(e) => Err(ClientError::Join(e)),
        other => {
            tracing::info!(server = %server, reason = ?other, "session ended");
            Ok(SessionEnd::ServerClosed)
        }
    }
}
