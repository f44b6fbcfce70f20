//! Supervising a client process: its own process group, output captured
//! separately and bounded, a hard timeout, and every process of the group killed
//! and the leader reaped at the end, whatever happened.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// How long the rest of the process group may take to finish after the client exits.
pub const LINGER: Duration = Duration::from_secs(1);

/// Output beyond this many bytes per stream is dropped (and reported).
pub const MAX_OUTPUT: usize = 8 * 1024 * 1024;

/// What a supervised process did.
#[derive(Debug)]
pub struct Supervised {
    /// Its exit status; `None` when it was killed at the timeout.
    pub status: Option<ExitStatus>,
    /// Whether it ran into the timeout.
    pub timed_out: bool,
    /// Captured stdout.
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
    /// Whether output was cut at [`MAX_OUTPUT`].
    pub truncated: bool,
}

/// Run `cmd` in a new process group with stdin closed, capturing stdout and
/// stderr, for at most `timeout` — and at most `after_end` once `ended` resolves
/// (the session is over; a client that lingers is hanging). The whole group is
/// SIGKILLed at the end, so a server the client spawned cannot outlive the case.
pub async fn supervise(
    mut cmd: Command,
    timeout: Duration,
    ended: impl Future<Output = ()>,
    after_end: Duration,
) -> std::io::Result<Supervised> {
    cmd.process_group(0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    let out = tokio::spawn(read_bounded(child.stdout.take()));
    let err = tokio::spawn(read_bounded(child.stderr.take()));

    tokio::pin!(ended);
    let mut session_over = false;
    let (status, timed_out) = {
        let wait = child.wait();
        tokio::pin!(wait);
        let hard = tokio::time::sleep(timeout);
        tokio::pin!(hard);
        tokio::select! {
            status = &mut wait => (Some(status?), false),
            () = &mut hard => (None, true),
            () = &mut ended => {
                session_over = true;
                tokio::select! {
                    status = &mut wait => (Some(status?), false),
                    () = &mut hard => (None, true),
                    () = tokio::time::sleep(after_end) => (None, true),
                }
            }
        }
    };
    if !session_over && !timed_out {
        // The client left first (it closed the session or crashed): give the
        // server it launched a moment to notice and finish its record.
        let _ = tokio::time::timeout(LINGER, &mut ended).await;
    }
    if let Some(pgid) = pgid {
        // ESRCH (nobody left in the group) is the normal case.
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    if timed_out {
        // SIGKILL cannot be refused, but a process stuck in the kernel can take a
        // moment to die; never wait on it forever.
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    }
    // The pipes close once every writer is gone; a process that left the group
    // could keep them open, so the wait is bounded.
    let collect = async { (out.await, err.await) };
    let (stdout, stderr) = match tokio::time::timeout(Duration::from_secs(2), collect).await {
        Ok((Ok(o), Ok(e))) => (o, e),
        _ => (
            (Vec::new(), true),
            (b"backchannel: the client's output was still open after it was killed\n".to_vec(), true),
        ),
    };
    Ok(Supervised { status, timed_out, truncated: stdout.1 || stderr.1, stdout: stdout.0, stderr: stderr.0 })
}

async fn read_bounded<R: AsyncRead + Unpin>(reader: Option<R>) -> (Vec<u8>, bool) {
    let Some(mut reader) = reader else { return (Vec::new(), false) };
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut truncated = false;
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = MAX_OUTPUT.saturating_sub(buf.len());
                truncated |= n > room;
                buf.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    (buf, truncated)
}

/// A short description of an exit status.
pub fn describe_status(s: Option<ExitStatus>, timed_out: bool) -> String {
    use std::os::unix::process::ExitStatusExt;
    match s {
        _ if timed_out => "killed at the case timeout".to_owned(),
        Some(s) if s.success() => "exited 0".to_owned(),
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited {c}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => "ended".to_owned(),
        },
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn captures_and_times_out_and_kills_the_group() {
        let mut cmd = Command::new("sh");
        // A child that would outlive its parent: the group kill must take it too.
        cmd.args(["-c", "echo out; echo err >&2; (sleep 30 &) ; sleep 30"]);
        let started = std::time::Instant::now();
        let s = supervise(
            cmd,
            Duration::from_secs(20),
            tokio::time::sleep(Duration::from_millis(100)),
            Duration::from_millis(200),
        )
        .await
        .unwrap();
        assert!(s.timed_out);
        assert_eq!(s.stdout, b"out\n");
        assert_eq!(s.stderr, b"err\n");
        assert!(started.elapsed() < Duration::from_secs(3), "the pipes were held open by a survivor");
    }

    #[tokio::test]
    async fn hard_timeout_applies_without_an_end() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let s = supervise(cmd, Duration::from_millis(200), std::future::pending(), Duration::ZERO).await.unwrap();
        assert!(s.timed_out && s.status.is_none());
    }

    #[tokio::test]
    async fn reports_exit_codes() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 3"]);
        let s = supervise(cmd, Duration::from_secs(5), std::future::pending(), Duration::ZERO).await.unwrap();
        assert_eq!(describe_status(s.status, s.timed_out), "exited 3");
    }
}
