//! The mock a case talks to. Over stdio the client launches it
//! (`backchannel mock --script FILE`, the compiled script written into the case's
//! scratch directory); over HTTP the runner serves it itself, in this process, on
//! an ephemeral loopback port ([`HttpMock`]).
//!
//! Why in-process: the HTTP mocks are library functions of the mock crate, and a
//! process per case cost a spawn, a scenario re-compile and a `listening` line
//! handshake (see BENCHMARKS.md); the trace is the same file either way, written
//! as each frame is read or written.

use std::path::Path;
use std::time::Duration;

use backchannel_mock::canary::Canary;
use backchannel_mock::protocol::{Revision, Transport};
use backchannel_mock::trace::TraceWriter;
use backchannel_mock::transport::http::{self, HttpOptions};
use backchannel_mock::transport::{ClientExit, ClientExited, DEFAULT_MAX_FRAME, sse};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::scenario::Compiled;

/// Why a mock could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The trace or the script file could not be written.
    #[error("failed to write the mock's files")]
    Files(#[source] std::io::Error),
    /// No loopback port could be bound.
    #[error("failed to bind a loopback port")]
    Bind(#[source] std::io::Error),
    /// Stdio mocks are launched by the client.
    #[error("a stdio mock is launched by the client, not served by the runner")]
    NotHttp,
}

/// Write the compiled script of a case (what `backchannel mock --script` reads).
pub fn write_script(compiled: &Compiled, revision: Revision, settle: Duration, path: &Path) -> Result<(), MockError> {
    std::fs::write(path, compiled.script_for(Some(revision), settle).to_json()).map_err(MockError::Files)
}

/// The mock's argv for a stdio case: what the client under test launches.
pub fn stdio_argv(exe: &Path, script: &Path, trace: &Path) -> Vec<String> {
    vec![
        exe.display().to_string(),
        "mock".into(),
        "--script".into(),
        script.display().to_string(),
        "--trace".into(),
        trace.display().to_string(),
    ]
}

/// An HTTP mock served by the runner for one case.
#[derive(Debug)]
pub struct HttpMock {
    /// The URL the client is given.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
    ended: watch::Receiver<bool>,
    exited: ClientExited,
}

impl HttpMock {
    /// Serve the case's script over Streamable HTTP or HTTP+SSE on 127.0.0.1, writing
    /// the trace to `trace`.
    pub async fn start(
        compiled: &Compiled,
        transport: Transport,
        revision: Revision,
        settle: Duration,
        trace: &Path,
    ) -> Result<Self, MockError> {
        let path = match transport {
            Transport::Http => http::PATH,
            Transport::Sse => sse::PATH,
            Transport::Stdio => return Err(MockError::NotHttp),
        };
        let writer = TraceWriter::create(trace).map_err(MockError::Files)?;
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(MockError::Bind)?;
        let url = format!("http://{}{path}", listener.local_addr().map_err(MockError::Bind)?);
        let script = compiled.script_for(Some(revision), settle);
        let options = HttpOptions { max_body: DEFAULT_MAX_FRAME, response_mode: compiled.http_response };
        let (done, ended) = watch::channel(false);
        let (exited, exit) = ClientExit::channel();
        let task = tokio::spawn(async move {
            let canary = Canary::generate();
            // A failure here leaves a trace without its `end` record: the checks say so.
            let _ = match transport {
                Transport::Sse => sse::serve(script, &canary, writer, listener, DEFAULT_MAX_FRAME, exit).await,
                _ => http::serve(script, &canary, writer, listener, options, exit).await,
            };
            let _ = done.send(true);
        });
        Ok(Self { url, task, ended, exited })
    }

    /// The client's process has exited: the mock records what it still has to read
    /// and ends the session at once (no timer can change anything now).
    pub fn client_exited(&self) {
        self.exited.notify();
    }

    /// Resolves once the session has ended (the trace has its `end` record).
    pub fn ended(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.ended.clone();
        async move {
            let _ = rx.wait_for(|done| *done).await;
        }
    }

    /// Wait up to `grace` for the session to end on its own (the client left first),
    /// then stop serving.
    pub async fn finish(self, grace: Duration) {
        let _ = tokio::time::timeout(grace, self.ended()).await;
        self.task.abort();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use backchannel_mock::protocol::{Revision, Transport};
    use backchannel_mock::trace::{Direction, EndReason, Trace};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::HttpMock;
    use crate::scenario::{compile, parse};

    /// One raw HTTP/1.1 POST on a fresh connection; the whole response, read to EOF.
    async fn post(addr: &str, session: Option<&str>, body: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let session = session.map(|s| format!("mcp-session-id: {s}\r\n")).unwrap_or_default();
        let req = format!(
            "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\n{session}connection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_client_that_exits_ends_the_session_at_once_and_loses_nothing() {
        // Timers far longer than the test may take: only the exit can end the session.
        let yaml = "title: t\nrevisions: [2025-11-25]\ntimeout_ms: 600000\ngrace_ms: 600000\nsteps: []\n";
        let path = Path::new("t.yaml");
        let c = compile(path, parse(path, yaml).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let trace = dir.path().join("trace.jsonl");
        let m = HttpMock::start(&c, Transport::Http, Revision::V2025_11_25, Duration::ZERO, &trace).await.unwrap();
        let addr = m.url.trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
        let answer = post(&addr, None, init).await;
        let session = answer
            .lines()
            .find_map(|l| l.to_ascii_lowercase().starts_with("mcp-session-id:").then(|| l[15..].trim().to_owned()))
            .expect("a session id");
        post(&addr, Some(&session), r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
        // The last thing the client writes is still unread when the mock learns the
        // client has exited (as when the kernel holds the bytes of a dead process):
        // the headers are read, the body is not even written yet.
        let mut last = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let body = r#"{"jsonrpc":"2.0","method":"notifications/last-words"}"#;
        let head = format!(
            "POST /mcp HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\nmcp-session-id: {session}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        last.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        m.client_exited();
        last.write_all(body.as_bytes()).await.unwrap();
        drop(last);
        tokio::time::timeout(Duration::from_secs(60), m.ended()).await.expect("the session ends without its timers");
        m.finish(Duration::ZERO).await;
        let t = Trace::read(&trace).unwrap();
        assert_eq!(t.end().map(|e| e.reason), Some(EndReason::ClientClosed));
        assert!(
            t.frames().any(|f| f.dir == Direction::ClientToServer && f.raw.contains("last-words")),
            "what the client wrote before it exited is recorded"
        );
        // …and reached the session before it ended, not after.
        let lines: Vec<String> = std::fs::read_to_string(&trace).unwrap().lines().map(str::to_owned).collect();
        let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
        assert!(at("last-words") < at(r#""kind":"end""#), "{lines:#?}");
    }
}
