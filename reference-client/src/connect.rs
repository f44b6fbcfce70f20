//! Running the reference client against a server.

use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::service::{ClientInitializeError, QuitReason};
use rmcp::transport::TokioChildProcess;

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

/// Spawn `program args…` as an MCP server over stdio and serve it until it ends
/// the session (or `wait` elapses).
pub async fn run_stdio(
    config: Config,
    program: &str,
    args: &[String],
    wait: Option<Duration>,
) -> Result<SessionEnd, ClientError> {
    let mut command = tokio::process::Command::new(program);
    command.args(args);
    let transport =
        TokioChildProcess::new(command).map_err(|source| ClientError::Spawn { program: program.to_owned(), source })?;
    serve(InterceptingClient::new(config), transport, wait).await
}

/// Serve any rmcp client transport until the server ends the session (or `wait` elapses).
pub async fn serve<T, E, A>(
    client: InterceptingClient,
    transport: T,
    wait: Option<Duration>,
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
    let quit = match wait {
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
