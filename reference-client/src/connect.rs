//! Running the reference client against a server.

use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::service::{ClientInitializeError, QuitReason};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};

use crate::config::Config;
use crate::handler::{InterceptingClient, loggable};

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
    /// Ping the server this often and end the session when a ping fails: how an HTTP
    /// client notices that the server is gone (`basic/utilities/ping.mdx`: timeouts
    /// SHOULD be treated as connection failures). `None`: never ping.
    pub ping_interval: Option<Duration>,
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

    /// Set [`Self::ping_interval`].
    pub fn ping_interval(mut self, every: Option<Duration>) -> Self {
        self.ping_interval = every;
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
    let server = loggable(client.config().server.as_str()).into_owned();
    let http = reqwest::Client::new();
    let mut transport_config = StreamableHttpClientTransportConfig::with_uri(url);
    transport_config.retry_config = std::sync::Arc::new(FewRetries);
    let transport = StreamableHttpClientTransport::with_client(http.clone(), transport_config);
    match serve(client.clone(), transport, options).await {
        Err(ClientError::Initialize(e)) if refused_with_4xx(&*e) => {
            tracing::info!(server = %server, "the server refused Streamable HTTP; falling back to HTTP+SSE");
            let transport = crate::legacy_sse::connect(http, url).await.map_err(ClientError::LegacySse)?;
            serve(client, transport, options).await
        }
        other => other,
    }
}

/// Whether an initialize failure is the 400/404/405 that means "not Streamable HTTP".
fn refused_with_4xx(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
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
    let mut command = tokio::process::Command::new(program);
    command.args(args);
    let transport =
        TokioChildProcess::new(command).map_err(|source| ClientError::Spawn { program: program.to_owned(), source })?;
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
    let running = client.serve(transport).await.map_err(|e| ClientError::Initialize(Box::new(e)))?;
    if let Some(info) = running.peer_info() {
        tracing::info!(server = %server, protocol = %info.protocol_version, "session initialized");
    }
    if let Some(tool) = options.call_tool.clone() {
        let peer = running.peer().clone();
        let server = server.clone();
        tokio::spawn(async move {
            match peer.call_tool(rmcp::model::CallToolRequestParams::new(tool.clone())).await {
                Ok(result) => {
                    tracing::info!(server = %server, tool = %loggable(&tool), is_error = ?result.is_error, "tool call finished");
                    tracing::debug!(server = %server, content = ?result.content, "tool call result");
                }
                Err(e) => tracing::warn!(server = %server, tool = %loggable(&tool), error = %e, "tool call failed"),
            }
        });
    }
    if let Some(every) = options.ping_interval {
        let peer = running.peer().clone();
        let token = running.cancellation_token();
        let server = server.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let ping = peer.send_request(rmcp::model::ClientRequest::PingRequest(Default::default()));
                match tokio::time::timeout(every.max(Duration::from_secs(1)), ping).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::info!(server = %server, error = %e, "ping failed; the server is gone");
                        break;
                    }
                    Err(_) => {
                        tracing::info!(server = %server, "ping timed out; treating the connection as failed");
                        break;
                    }
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
