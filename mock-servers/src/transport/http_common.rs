//! Pieces both HTTP transports share: opening an exchange (its number, its facts,
//! the Origin check), issuing the session, SSE framing, rejections, and recording
//! exchanges.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::ClientExit;
use crate::engine::{Inbound, Tap, with_tap};
use crate::trace::HttpExchange;

/// The session header (`Mcp-Session-Id` before 2025-11-25; header names are case-insensitive).
pub(super) const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol version header (2025-06-18+).
pub(super) const VERSION_HEADER: &str = "mcp-protocol-version";

/// Whether an `Origin` header is acceptable: absent, or naming a loopback host
/// (or the host the mock is bound to). DNS-rebinding defence: 2025-11-25
/// `basic/transports.mdx:78-79` (servers MUST validate Origin; 403 when invalid).
pub fn origin_allowed(origin: Option<&str>, bound: &SocketAddr) -> bool {
    let Some(origin) = origin else { return true };
    let Some(rest) = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) else { return false };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
        None => rest.split(':').next().unwrap_or_default().to_owned(),
    };
    matches!(host.as_str(), "127.0.0.1" | "localhost" | "::1") || host == bound.ip().to_string()
}

/// The axum server of an HTTP mock session, shut down gracefully when the session
/// ends. It counts the connections it holds, so the session can wait until every
/// one has been read to its end ([`Server::drained`]).
pub(super) struct Server {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    live: Arc<Live>,
}

impl Server {
    /// Serve `router` on `listener` until [`Server::stop`].
    pub(super) fn spawn(listener: tokio::net::TcpListener, router: axum::Router) -> Self {
        let (stop, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let live = Arc::new(Live::default());
        let counted = live.clone();
        let task = tokio::spawn(async move {
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = &mut stop_rx => break,
                };
                let Ok((io, _)) = accepted else {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: try again shortly.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                };
                // Every SSE event is written as it happens: without this, Nagle's
                // algorithm holds a second small write until the client's delayed ACK
                // (40 ms).
                let _ = io.set_nodelay(true);
                counted.count.fetch_add(1, Ordering::SeqCst);
                let io = TokioIo::new(Counted { io, live: counted.clone() });
                let service = TowerToHyperService::new(router.clone());
                // Half-close: a client may write its last request and exit at once;
                // the request is still handled, and recorded, after its EOF.
                let conn = hyper::server::conn::http1::Builder::new().half_close(true).serve_connection(io, service);
                let conn = graceful.watch(conn);
                connections.spawn(async move {
                    let _ = conn.await;
                });
            }
            drop(listener);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), graceful.shutdown()).await;
            // Whatever did not finish is dropped with the set.
            connections.abort_all();
        });
        Self { stop, task, live }
    }

    /// The connection count, to wait on with [`Live::drained`].
    pub(super) fn live(&self) -> Arc<Live> {
        self.live.clone()
    }

    /// Stop accepting, give open connections up to 2 s to finish, then drop them
    /// (the server may run inside a longer-lived process: nothing may outlive the session).
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// How many connections are open.
#[derive(Debug, Default)]
pub(super) struct Live {
    count: AtomicUsize,
    zero: Notify,
}

impl Live {
    /// Resolves when no connection is open: each was read to its end (hyper ends a
    /// connection at EOF, after the requests it carried were handled) or failed.
    pub(super) async fn drained(&self) {
        loop {
            let notified = self.zero.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// End the session once the client has exited: end the streams the mock holds
/// open (`end_streams`), wait until every connection was read to its end, then tell
/// the engine (`Inbound::Closed`): everything the client wrote is recorded by then.
pub(super) fn end_on_client_exit(
    exit: ClientExit,
    live: Arc<Live>,
    inbound: mpsc::Sender<Inbound>,
    end_streams: impl FnOnce() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        exit.exited().await;
        end_streams();
        live.drained().await;
        let _ = inbound.send(Inbound::Closed).await;
    })
}

/// A connection that is uncounted when hyper drops it.
struct Counted {
    io: tokio::net::TcpStream,
    live: Arc<Live>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        if self.live.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.live.zero.notify_waiters();
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A fresh, unguessable session id: 128 bits from the OS CSPRNG, hex.
pub(super) fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    crate::canary::hex(&bytes)
}

/// One SSE event; multi-line data is split into `data:` lines.
pub(super) fn sse_event(event: &str, data: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(data);
    let mut out = format!("event: {event}\n");
    for line in text.split('\n') {
        out.push_str("data: ");
        out.push_str(line.trim_end_matches('\r'));
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// A header's value as text.
pub(super) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The facts of a new exchange: the next number of the mock's `counter`, stamped
/// with the time the request arrived (`at`), on the clock of `tap`'s trace.
pub(super) fn new_exchange(
    tap: &Tap,
    counter: &AtomicU64,
    method: &str,
    uri: &Uri,
    headers: &HeaderMap,
    at: Instant,
) -> HttpExchange {
    let exchange = counter.fetch_add(1, Ordering::Relaxed);
    let t_us = tap.lock().unwrap_or_else(std::sync::PoisonError::into_inner).us_at(at.into_std());
    exchange_facts(exchange, t_us, method, &uri.to_string(), headers)
}

/// A request from an `Origin` that is not this loopback server's is refused with
/// 403 and recorded ([`origin_allowed`]); `None` when it may proceed.
pub(super) fn foreign_origin(tap: &Tap, bound: &SocketAddr, facts: &HttpExchange) -> Option<Response> {
    (!origin_allowed(facts.origin.as_deref(), bound))
        .then(|| reject(tap, facts.clone(), StatusCode::FORBIDDEN, "Origin not allowed"))
}

/// Issue the session of a transport that serves one: a fresh id in `slot`, or
/// `None` when one was issued already.
pub(super) fn issue_session(slot: &mut Option<String>) -> Option<String> {
    if slot.is_some() {
        return None;
    }
    let id = new_session_id();
    *slot = Some(id.clone());
    Some(id)
}

/// The request facts every exchange record carries.
fn exchange_facts(exchange: u64, t_us: u64, method: &str, path: &str, headers: &HeaderMap) -> HttpExchange {
    HttpExchange {
        exchange,
        t_us,
        method: method.to_owned(),
        path: path.to_owned(),
        status: 0,
        session: header_str(headers, SESSION_HEADER),
        protocol_version: header_str(headers, VERSION_HEADER),
        origin: header_str(headers, header::ORIGIN.as_str()),
        accept: header_str(headers, header::ACCEPT.as_str()),
        note: None,
        issued_session: None,
        mcp: headers
            .iter()
            .filter(|(name, _)| crate::wire::headers::is_mcp_metadata_header(name.as_str()))
            .map(|(name, v)| (name.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        last_event_id: header_str(headers, "last-event-id"),
    }
}

/// Record an exchange with its status and note, and build the rejection response
/// (an id-less JSON-RPC error, as the spec allows for HTTP errors).
pub(super) fn reject(tap: &Tap, mut facts: HttpExchange, status: StatusCode, note: &str) -> Response {
    facts.status = status.as_u16();
    facts.note = Some(note.to_owned());
    with_tap(tap, |t| t.http(facts));
    let body = json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32600, "message": note } });
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// Record an exchange that was accepted.
pub(super) fn record(tap: &Tap, mut facts: HttpExchange, status: StatusCode, note: Option<&str>) {
    facts.status = status.as_u16();
    facts.note = note.map(str::to_owned);
    with_tap(tap, |t| t.http(facts));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_origins_pass() {
        let bound: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert!(origin_allowed(None, &bound));
        assert!(origin_allowed(Some("http://localhost:3000"), &bound));
        assert!(origin_allowed(Some("http://127.0.0.1"), &bound));
        assert!(origin_allowed(Some("http://[::1]:8080"), &bound));
        assert!(!origin_allowed(Some("http://evil.example"), &bound));
        assert!(!origin_allowed(Some("http://localhost.evil.example"), &bound));
        assert!(!origin_allowed(Some("null"), &bound));
    }

    #[test]
    fn sse_events_split_lines() {
        assert_eq!(sse_event("message", b"{\"a\":1}"), Bytes::from("event: message\ndata: {\"a\":1}\n\n"));
        assert_eq!(sse_event("x", b"a\nb"), Bytes::from("event: x\ndata: a\ndata: b\n\n"));
    }

    #[test]
    fn session_ids_are_long_and_fresh() {
        let a = new_session_id();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_session_id());
    }
}
