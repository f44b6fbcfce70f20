//! A client transport for the legacy HTTP+SSE transport (2024-11-05
//! `basic/transports.mdx:46-86`), which rmcp 3.x no longer ships: GET the URL for an
//! event stream, wait for the `endpoint` event, then POST every client message to
//! that endpoint while server messages arrive as SSE `message` events.

use futures::{SinkExt, StreamExt};
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use sse_stream::SseStream;

/// Why the legacy transport could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LegacySseError {
    /// The HTTP request failed.
    #[error("failed to open the SSE stream")]
    Http(#[from] reqwest::Error),
    /// The GET was answered with a non-success status.
    #[error("the SSE endpoint answered HTTP {0}")]
    Status(u16),
    /// The stream ended (or broke) before an `endpoint` event.
    #[error("the stream ended before an `endpoint` event")]
    NoEndpoint,
    /// The `endpoint` event's URI could not be resolved against the URL.
    #[error("the `endpoint` event names an invalid URI")]
    BadEndpoint,
}

/// The two halves rmcp's `(Sink, Stream)` transport adapter takes.
pub type LegacySseTransport = (
    futures::channel::mpsc::Sender<TxJsonRpcMessage<RoleClient>>,
    futures::channel::mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
);

/// Open the event stream at `url` and return a transport once the endpoint is known.
pub async fn connect(http: reqwest::Client, url: &str) -> Result<LegacySseTransport, LegacySseError> {
    let base = reqwest::Url::parse(url).map_err(|_| LegacySseError::BadEndpoint)?;
    let response = http.get(base.clone()).header(reqwest::header::ACCEPT, "text/event-stream").send().await?;
    if !response.status().is_success() {
        return Err(LegacySseError::Status(response.status().as_u16()));
    }
    let mut events = SseStream::from_bytes_stream(response.bytes_stream());
    let endpoint = loop {
        match events.next().await {
            Some(Ok(e)) if e.event.as_deref() == Some("endpoint") => {
                let data = e.data.unwrap_or_default();
                break base.join(data.trim()).map_err(|_| LegacySseError::BadEndpoint)?;
            }
            Some(Ok(_)) => {}
            _ => return Err(LegacySseError::NoEndpoint),
        }
    };
    tracing::debug!(endpoint = %crate::redact_url(endpoint.as_str()), "HTTP+SSE endpoint received");

    let (to_rmcp, from_server) = futures::channel::mpsc::channel::<RxJsonRpcMessage<RoleClient>>(64);
    let (to_server, mut from_rmcp) = futures::channel::mpsc::channel::<TxJsonRpcMessage<RoleClient>>(64);
    tokio::spawn(async move {
        let mut to_rmcp = to_rmcp;
        while let Some(event) = events.next().await {
            let Ok(event) = event else { break };
            if event.event.as_deref().is_some_and(|e| e != "message") {
                continue;
            }
            let Some(data) = event.data else { continue };
            // One message, or a JSON-RPC batch (2025-03-26) split into its members.
            let values = match serde_json::from_str::<serde_json::Value>(&data) {
                Ok(serde_json::Value::Array(items)) => items,
                Ok(v) => vec![v],
                Err(e) => {
                    // The body can hold params: never above DEBUG.
                    tracing::debug!(error = %e, "ignoring an SSE message that is not JSON");
                    continue;
                }
            };
            for v in values {
                match serde_json::from_value::<RxJsonRpcMessage<RoleClient>>(v) {
                    Ok(msg) => {
                        if to_rmcp.send(msg).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "ignoring an SSE message rmcp cannot read"),
                }
            }
        }
        // Dropping the sender ends the stream: rmcp sees the session close.
    });
    tokio::spawn(async move {
        while let Some(msg) = from_rmcp.next().await {
            let result = http.post(endpoint.clone()).json(&msg).send().await;
            match result {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => tracing::warn!(status = r.status().as_u16(), "the HTTP+SSE endpoint refused a message"),
                Err(e) => {
                    tracing::warn!(error = %e, "failed to POST to the HTTP+SSE endpoint");
                    break;
                }
            }
        }
    });
    Ok((to_server, from_server))
}
