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
use backchannel_mock::transport::{DEFAULT_MAX_FRAME, sse};
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
pub fn write_script(compiled: &Compiled, revision: Revision, path: &Path) -> Result<(), MockError> {
    std::fs::write(path, compiled.script(Some(revision)).to_json()).map_err(MockError::Files)
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
}

impl HttpMock {
    /// Serve the case's script over Streamable HTTP or HTTP+SSE on 127.0.0.1, writing
    /// the trace to `trace`.
    pub async fn start(
        compiled: &Compiled,
        transport: Transport,
        revision: Revision,
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
        let script = compiled.script(Some(revision));
        let options = HttpOptions { max_body: DEFAULT_MAX_FRAME, response_mode: compiled.http_response };
        let (done, ended) = watch::channel(false);
        let task = tokio::spawn(async move {
            let canary = Canary::generate();
            // A failure here leaves a trace without its `end` record: the checks say so.
            let _ = match transport {
                Transport::Sse => sse::serve(script, &canary, writer, listener, DEFAULT_MAX_FRAME).await,
                _ => http::serve(script, &canary, writer, listener, options).await,
            };
            let _ = done.send(true);
        });
        Ok(Self { url, task, ended })
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
