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
use backchannel_mock::trace::TraceWriter;
use backchannel_mock::transport::http::{self, HttpOptions, Sessions};
use backchannel_mock::transport::{ClientExit, ClientExited, DEFAULT_MAX_FRAME, sse};
use backchannel_protocol::{Revision, Transport};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::profile::Endpoint;
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

/// The mock of one case, and where the client finds it.
#[derive(Debug)]
pub struct CaseMock {
    /// The mock's argv (stdio: the client launches it) or URL (HTTP).
    pub endpoint: Endpoint,
    /// The mock served in this process (HTTP).
    pub http: Option<HttpMock>,
}

/// Prepare the mock of a case, tracing to `trace`: over stdio its compiled script,
/// written beside the trace, and the argv the client launches; over HTTP the mock
/// itself, served on a loopback port. `gateway`: the client is a gateway, which may
/// start the server more than once (a probe, one process per downstream operation)
/// or open several sessions (one per downstream client): each is traced on its own.
pub async fn start(
    exe: &Path,
    compiled: &Compiled,
    transport: Transport,
    revision: Revision,
    settle: Duration,
    gateway: bool,
    trace: &Path,
) -> Result<CaseMock, MockError> {
    match transport {
        Transport::Stdio => {
            let script = trace.with_file_name("script.json");
            write_script(compiled, revision, settle, gateway, &script)?;
            let mut argv = stdio_argv(exe, &script, trace);
            if gateway {
                argv.push("--trace-per-process".into());
            }
            Ok(CaseMock { endpoint: Endpoint::Launch(argv), http: None })
        }
        Transport::Http | Transport::Sse => {
            let m = HttpMock::start(compiled, transport, revision, settle, trace, gateway).await?;
            Ok(CaseMock { endpoint: Endpoint::Url(m.url.clone()), http: Some(m) })
        }
    }
}

/// Write the compiled script of a case (what `backchannel mock --script` reads).
/// `gateway`: the client is a gateway, which may put several downstream sessions on
/// this one (the mock answers each `initialize`, [`Script::answer_repeated_initialize`](backchannel_mock::script::Script::answer_repeated_initialize)).
fn write_script(
    compiled: &Compiled,
    revision: Revision,
    settle: Duration,
    gateway: bool,
    path: &Path,
) -> Result<(), MockError> {
    let mut script = compiled.script_for(Some(revision), settle);
    script.answer_repeated_initialize = gateway;
    std::fs::write(path, script.to_json()).map_err(MockError::Files)
}

/// The mock's argv for a stdio case: what the client under test launches.
fn stdio_argv(exe: &Path, script: &Path, trace: &Path) -> Vec<String> {
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
    /// the trace to `trace`. `many`: over Streamable HTTP, serve every session the
    /// client opens, each traced on its own beside `trace` (a gateway may probe first,
    /// or open a session per downstream client), until [`HttpMock::client_exited`].
    pub async fn start(
        compiled: &Compiled,
        transport: Transport,
        revision: Revision,
        settle: Duration,
        trace: &Path,
        many: bool,
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
        let sessions = if many { Sessions::Many(trace.to_owned()) } else { Sessions::One };
        let options = HttpOptions { max_body: DEFAULT_MAX_FRAME, response_mode: compiled.http_response, sessions };
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

    /// The client is gone (it exited, or was stopped): wait up to `grace` for the
    /// sessions to end — each records what its connections still carried — then stop
    /// serving.
    pub async fn finish(self, grace: Duration) {
        self.exited.notify();
        let _ = tokio::time::timeout(grace, self.ended()).await;
        self.task.abort();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use backchannel_mock::trace::{Direction, EndReason, Trace};
    use backchannel_protocol::{Revision, Transport};
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

    /// A mock of an empty script whose timers outlast any test (only the client's exit
    /// ends its sessions): the mock, its directory, its first trace, its `host:port`.
    async fn start(many: bool) -> (HttpMock, tempfile::TempDir, std::path::PathBuf, String) {
        start_with("title: t\nrevisions: [2025-11-25]\ntimeout_ms: 600000\ngrace_ms: 600000\nsteps: []\n", many).await
    }

    async fn start_with(yaml: &str, many: bool) -> (HttpMock, tempfile::TempDir, std::path::PathBuf, String) {
        let path = Path::new("t.yaml");
        let c = compile(path, parse(path, yaml).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let trace = dir.path().join("trace.jsonl");
        let m =
            HttpMock::start(&c, Transport::Http, Revision::V2025_11_25, Duration::ZERO, &trace, many).await.unwrap();
        let addr = m.url.trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
        (m, dir, trace, addr)
    }

    /// The session id a response issued.
    fn issued(response: &str) -> Option<String> {
        response
            .lines()
            .find_map(|l| l.to_ascii_lowercase().starts_with("mcp-session-id:").then(|| l[15..].trim().to_owned()))
    }

    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"CLIENT","version":"0"}}}"#;

    #[tokio::test]
    async fn many_sessions_are_served_at_once_each_on_its_own_trace() {
        let (m, dir, trace, addr) = start(true).await;
        // A probe opens a session and keeps it; the real client opens another meanwhile.
        let probe = issued(&post(&addr, None, &INIT.replace("CLIENT", "probe")).await).expect("a session");
        let real = issued(&post(&addr, None, &INIT.replace("CLIENT", "real")).await).expect("a second session");
        assert_ne!(probe, real);
        post(&addr, Some(&real), r#"{"jsonrpc":"2.0","method":"notifications/real-only"}"#).await;
        post(&addr, Some(&probe), r#"{"jsonrpc":"2.0","method":"notifications/probe-only"}"#).await;
        let unknown = post(&addr, Some("0123"), r#"{"jsonrpc":"2.0","method":"notifications/lost"}"#).await;
        assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
        // The sessions outlive their client only until it is gone.
        m.finish(Duration::from_secs(60)).await;
        let first = std::fs::read_to_string(&trace).unwrap();
        let second = std::fs::read_to_string(dir.path().join("trace.2.jsonl")).unwrap();
        assert!(first.contains("probe") && first.contains("probe-only") && !first.contains("real"), "{first}");
        assert!(second.contains("real") && second.contains("real-only") && !second.contains("probe"), "{second}");
        // What named no session of its own is refused on the newest session's record.
        assert!(second.contains("unknown MCP-Session-Id"), "{second}");
        for t in [trace.clone(), dir.path().join("trace.2.jsonl")] {
            let end = Trace::read(&t).unwrap().end().map(|e| e.reason);
            assert_eq!(end, Some(EndReason::ClientClosed), "{}", t.display());
        }
        assert!(!dir.path().join("trace.3.jsonl").exists());
    }

    #[tokio::test]
    async fn a_late_client_gets_a_session_with_all_of_its_time() {
        // The script's clock is short; the client (a gateway's upstream connection)
        // comes after it ran out on the session opened before it started.
        let yaml = "title: t\nrevisions: [2025-11-25]\ntimeout_ms: 1500\ngrace_ms: 0\nsteps: []\n";
        let (m, dir, trace, addr) = start_with(yaml, true).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let late = post(&addr, None, &INIT.replace("CLIENT", "late")).await;
        let session = issued(&late).unwrap_or_else(|| panic!("a fresh session, not the timed-out one: {late}"));
        // Within its own 1.5 s, counted from its first word, it is still served.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let note = post(&addr, Some(&session), r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
        assert!(note.starts_with("HTTP/1.1 202"), "{note}");
        m.finish(Duration::from_secs(5)).await;
        assert_eq!(Trace::read(&trace).unwrap().end().map(|e| e.reason), Some(EndReason::Timeout));
        let second = std::fs::read_to_string(dir.path().join("trace.2.jsonl")).unwrap();
        assert!(second.contains("late") && second.contains("notifications/initialized"), "{second}");
    }

    #[tokio::test]
    async fn the_clock_starts_at_the_clients_first_word() {
        let yaml = "title: t\nrevisions: [2025-11-25]\ntimeout_ms: 3000\ngrace_ms: 0\nsteps: []\n";
        let (m, _dir, trace, addr) = start_with(yaml, false).await;
        // Most of the scenario's time passes before the client speaks…
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let session = issued(&post(&addr, None, INIT).await).expect("a session");
        // …and it still has the whole of it from there.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let note = post(&addr, Some(&session), r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
        assert!(note.starts_with("HTTP/1.1 202"), "{note}");
        m.finish(Duration::from_secs(5)).await;
        assert!(Trace::read(&trace).unwrap().frames().any(|f| f.raw.contains("notifications/initialized")));
    }

    #[tokio::test]
    async fn one_session_refuses_a_second_initialize() {
        let (m, dir, _trace, addr) = start(false).await;
        assert!(issued(&post(&addr, None, INIT).await).is_some());
        let again = post(&addr, None, INIT).await;
        assert!(again.starts_with("HTTP/1.1 400") && issued(&again).is_none(), "{again}");
        m.finish(Duration::from_secs(60)).await;
        assert!(!dir.path().join("trace.2.jsonl").exists());
    }

    #[tokio::test]
    async fn a_client_that_exits_ends_the_session_at_once_and_loses_nothing() {
        // Timers far longer than the test may take: only the exit can end the session.
        let (m, _dir, trace, addr) = start(false).await;
        let session = issued(&post(&addr, None, INIT).await).expect("a session id");
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
