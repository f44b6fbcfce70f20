//! The HTTP mocks run as their own process (`backchannel mock --http|--sse`),
//! supervised like a client: own process group, stderr captured, killed at the end.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::scenario::Compiled;
use crate::scenario::model::{Revision, Transport};

/// How long a starting mock may take to announce its URL.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running HTTP mock.
#[derive(Debug)]
pub struct MockProcess {
    child: Child,
    pgid: Option<Pid>,
    /// The URL it listens on.
    pub url: String,
    stderr: tokio::task::JoinHandle<Vec<u8>>,
}

/// Why a mock could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The process could not be spawned.
    #[error("failed to start the mock server")]
    Spawn(#[source] std::io::Error),
    /// It did not print its `listening` line in time (carries its stderr).
    #[error("the mock server did not announce its URL: {0}")]
    NoUrl(String),
}

impl MockProcess {
    /// Start `backchannel mock --http|--sse 127.0.0.1:0` for a case and wait for its URL.
    pub async fn start(
        exe: &Path,
        compiled: &Compiled,
        transport: Transport,
        revision: Revision,
        trace: &Path,
    ) -> Result<Self, MockError> {
        let flag = match transport {
            Transport::Http => "--http",
            Transport::Sse => "--sse",
            Transport::Stdio => return Err(MockError::NoUrl("stdio mocks are launched by the client".into())),
        };
        let mut cmd = Command::new(exe);
        cmd.arg("mock").arg("--scenario").arg(&compiled.path).arg("--revision").arg(revision.as_str());
        cmd.arg("--trace").arg(trace).arg(flag).arg("127.0.0.1:0");
        cmd.process_group(0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        cmd.env_remove("RUST_LOG");
        let mut child = cmd.spawn().map_err(MockError::Spawn)?;
        let pgid = child.id().map(|id| Pid::from_raw(id as i32));
        let mut err = child.stderr.take().expect("piped");
        let stderr = tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = (&mut err).take(1 << 20).read_to_end(&mut buf).await;
            buf
        });
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, out.read_line(&mut line)).await;
        let url = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v.get("url").and_then(|u| u.as_str()).map(str::to_owned));
        let mut mock = Self { child, pgid, url: url.clone().unwrap_or_default(), stderr };
        if read.is_err() || url.is_none() {
            let why = mock.stop().await;
            return Err(MockError::NoUrl(format!("printed {line:?}; stderr: {}", String::from_utf8_lossy(&why))));
        }
        Ok(mock)
    }

    /// Wait up to `grace` for the mock to exit on its own, then kill its group.
    /// Returns what it wrote to stderr.
    pub async fn finish(mut self, grace: Duration) -> Vec<u8> {
        let _ = tokio::time::timeout(grace, self.child.wait()).await;
        self.stop().await
    }

    async fn stop(&mut self) -> Vec<u8> {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        tokio::time::timeout(Duration::from_secs(2), &mut self.stderr)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default()
    }
}
