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

/// The process groups of the cases running now: an interrupted run kills them all.
static LIVE_GROUPS: std::sync::Mutex<std::collections::BTreeSet<i32>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn live_groups() -> std::sync::MutexGuard<'static, std::collections::BTreeSet<i32>> {
    LIVE_GROUPS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// SIGKILL every process group a case is running (a second interrupt: end at once).
pub fn kill_all_groups() {
    for pgid in live_groups().iter() {
        let _ = killpg(Pid::from_raw(*pgid), Signal::SIGKILL);
    }
}

/// A request to stop a run: cases not started do not start, and the ones in flight
/// are killed (their process groups) and reaped.
#[derive(Debug, Clone, Default)]
pub struct Stop(Option<tokio::sync::watch::Receiver<bool>>);

impl Stop {
    /// A stop and the sender that sets it.
    pub fn channel() -> (tokio::sync::watch::Sender<bool>, Self) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Self(Some(rx)))
    }

    /// Whether the stop is set.
    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|rx| *rx.borrow())
    }

    /// Resolves when the stop is set (never, for a run that cannot be stopped).
    pub async fn wait(&self) {
        match self.0.clone() {
            Some(mut rx) => {
                if rx.wait_for(|set| *set).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending().await,
        }
    }
}

/// What a supervised process did.
#[derive(Debug)]
pub struct Supervised {
    /// Its exit status; `None` when it was killed at the timeout.
    pub status: Option<ExitStatus>,
    /// Whether it was killed: at the time limit, or as [`Supervised::hung`].
    pub timed_out: bool,
    /// Whether it was killed because it sat idle (no CPU time, nothing runnable) for
    /// `after_end` once the session was over — hung, as opposed to still busy (or still
    /// starting) when the time limit came, which a timer cannot tell from slow.
    pub hung: bool,
    /// Captured stdout.
    pub stdout: Vec<u8>,
    /// Captured stderr.
    pub stderr: Vec<u8>,
    /// Whether output was cut at [`MAX_OUTPUT`].
    pub truncated: bool,
    /// The run was stopped while it ran: it was killed, and its outcome means nothing.
    pub stopped: bool,
}

/// Run `cmd` in a new process group with stdin closed, capturing stdout and
/// stderr, until `limit` resolves at the latest (a timer: the case's time limit) —
/// or until `stop` is set. Once `ended` resolves
/// (the session is over) the client must exit: it counts as hanging when it has made
/// no progress (no CPU time, see [`idle_for`]) for `after_end` — a slow client on a
/// busy machine is waited for, never judged hung by a wall clock. If the client
/// exits first, `left` is called and the session gets [`LINGER`] to end.
/// The whole group is SIGKILLed at the end, so a server the client spawned cannot
/// outlive the case.
pub async fn supervise(
    mut cmd: Command,
    limit: impl Future<Output = ()>,
    ended: impl Future<Output = ()>,
    left: impl FnOnce(),
    after_end: Duration,
    stop: &Stop,
) -> std::io::Result<Supervised> {
    cmd.process_group(0).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    if let Some(p) = pgid {
        live_groups().insert(p.as_raw());
    }
    let child_pid = child.id();
    let out = tokio::spawn(read_bounded(child.stdout.take()));
    let err = tokio::spawn(read_bounded(child.stderr.take()));

    tokio::pin!(ended);
    let mut session_over = false;
    let mut stopped = false;
    let mut hung = false;
    let (status, timed_out) = {
        let wait = child.wait();
        tokio::pin!(wait);
        let hard = limit;
        tokio::pin!(hard);
        let halt = stop.wait();
        tokio::pin!(halt);
        tokio::select! {
            status = &mut wait => (Some(status?), false),
            () = &mut hard => (None, true),
            () = &mut halt => { stopped = true; (None, false) }
            () = &mut ended => {
                session_over = true;
                tokio::select! {
                    status = &mut wait => (Some(status?), false),
                    () = &mut hard => (None, true),
                    () = &mut halt => { stopped = true; (None, false) }
                    () = idle_for(child_pid, after_end) => { hung = true; (None, true) }
                }
            }
        }
    };
    if !session_over && !timed_out && !stopped {
        // The client left first (it closed the session or crashed): give the
        // server a moment to notice and finish its record.
        left();
        let _ = tokio::time::timeout(LINGER, &mut ended).await;
    }
    if let Some(pgid) = pgid {
        // ESRCH (nobody left in the group) is the normal case.
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    if timed_out || stopped {
        // SIGKILL cannot be refused, but a process stuck in the kernel can take a
        // moment to die; never wait on it forever.
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    }
    if let Some(p) = pgid {
        live_groups().remove(&p.as_raw());
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
    Ok(Supervised {
        status,
        timed_out,
        hung,
        truncated: stdout.1 || stderr.1,
        stdout: stdout.0,
        stderr: stderr.0,
        stopped,
    })
}

/// The CPU time (user + system, in clock ticks) a process has used and whether it is
/// runnable (state `R`) or in uninterruptible sleep (`D`), from `/proc/<pid>/stat`
/// (`None` where there is no procfs, or the process is gone), with its parent and group.
fn activity(pid: u32) -> Option<(u64, bool, u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is parenthesised and may hold spaces: fields start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the name: state(3) ppid(4) pgrp(5) … utime(14) stime(15): indices 0, 1, 2, 11, 12 here.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The state is per thread: a worker thread may be runnable while the main one sleeps.
    let runnable = |stat: &str| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|st| st == "R" || st == "D")
    };
    let active = std::fs::read_dir(format!("/proc/{pid}/task")).ok().is_some_and(|tasks| {
        tasks.flatten().any(|t| std::fs::read_to_string(t.path().join("stat")).is_ok_and(|st| runnable(&st)))
    });
    Some((ticks, active, fields.get(1)?.parse().ok()?, fields.get(2)?.parse().ok()?))
}

/// The activity of the client and everything it started: its process group (it
/// leads its own) and every descendant — a stdio client's server may run in a
/// session of its own (the Python SDK starts it with `start_new_session`), and a
/// client waiting for its server to exit is making progress when the server is.
/// The CPU ticks of all of them, and whether any is runnable. `None` once the leader
/// is gone or without procfs.
fn group_activity(leader: u32) -> Option<(u64, bool)> {
    let (mut ticks, mut active, ..) = activity(leader)?;
    let mut procs: Vec<(u32, u32, u64, bool, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if pid == leader {
            continue;
        }
        let Some((t, a, ppid, group)) = activity(pid) else { continue };
        procs.push((pid, ppid, t, a, group));
    }
    // The group's members, then their descendants, to a fixed point.
    let mut family: std::collections::HashSet<u32> = std::iter::once(leader).collect();
    family.extend(procs.iter().filter(|p| p.4 == leader).map(|p| p.0));
    loop {
        let before = family.len();
        family.extend(procs.iter().filter(|p| family.contains(&p.1)).map(|p| p.0).collect::<Vec<_>>());
        if family.len() == before {
            break;
        }
    }
    for (pid, _, t, a, _) in &procs {
        if family.contains(pid) {
            ticks += t;
            active |= a;
        }
    }
    Some((ticks, active))
}

/// Resolves once the client's process group has made no progress for `limit`: no
/// member used CPU time or was runnable — it is blocked, not busy or starved (a
/// process waiting for a CPU on a loaded machine is runnable, and uses no CPU time
/// meanwhile: it must not count as idle). Without procfs it falls back to `limit` of
/// wall time.
async fn idle_for(pid: Option<u32>, limit: Duration) {
    let Some(pid) = pid.filter(|p| activity(*p).is_some()) else {
        return tokio::time::sleep(limit).await;
    };
    let step = Duration::from_millis(250).min(limit);
    let mut last = group_activity(pid).map(|(t, _)| t);
    let mut idle = Duration::ZERO;
    while idle < limit {
        tokio::time::sleep(step).await;
        match group_activity(pid) {
            Some((ticks, active)) if active || Some(ticks) != last => {
                idle = Duration::ZERO;
                last = Some(ticks);
            }
            _ => idle += step,
        }
    }
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

    /// Supervise `cmd` with only a time limit (no session end, nothing to tell).
    async fn bounded(cmd: Command, limit: Duration, stop: &Stop) -> Supervised {
        supervise(cmd, tokio::time::sleep(limit), std::future::pending(), || (), Duration::ZERO, stop).await.unwrap()
    }

    #[tokio::test]
    async fn captures_and_times_out_and_kills_the_group() {
        let mut cmd = Command::new("sh");
        // A child that would outlive its parent: the group kill must take it too.
        cmd.args(["-c", "echo out; echo err >&2; (sleep 30 &) ; sleep 30"]);
        let started = std::time::Instant::now();
        let s = supervise(
            cmd,
            tokio::time::sleep(Duration::from_secs(20)),
            tokio::time::sleep(Duration::from_millis(100)),
            || (),
            Duration::from_millis(200),
            &Stop::default(),
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
        let s = bounded(cmd, Duration::from_millis(200), &Stop::default()).await;
        assert!(s.timed_out && s.status.is_none());
    }

    #[tokio::test]
    async fn a_stop_kills_the_group_at_once() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "(sleep 30 &) ; sleep 30"]);
        let (tx, stop) = Stop::channel();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = tx.send(true);
        });
        let started = std::time::Instant::now();
        let s = bounded(cmd, Duration::from_secs(20), &stop).await;
        assert!(s.stopped && !s.timed_out);
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_busy_client_is_waited_for_and_an_idle_one_is_not() {
        // The session has already ended; the client may sit idle for 0.5 s, and the
        // case's time limit is `limit`.
        let stop = Stop::default();
        let within = |cmd, limit| {
            supervise(cmd, tokio::time::sleep(limit), std::future::ready(()), || (), Duration::from_millis(500), &stop)
        };
        let after_end = |cmd| within(cmd, Duration::from_secs(20));
        // Busy for ~1.5 s after the end, then exits: not hung, even with a 0.5 s idle limit.
        let mut busy = Command::new("sh");
        busy.args(["-c", "end=$(($(date +%s%N) + 1500000000)); while [ $(date +%s%N) -lt $end ]; do :; done"]);
        let s = after_end(busy).await.unwrap();
        assert!(!s.timed_out, "a client doing work is not hanging");
        // Blocked: judged hung after the idle limit.
        let mut idle = Command::new("sleep");
        idle.arg("30");
        let started = std::time::Instant::now();
        let s = after_end(idle).await.unwrap();
        assert!(s.timed_out && s.hung);
        assert!(started.elapsed() < Duration::from_secs(5));
        // Busy when the time limit comes: killed, but not hung (a timer decided).
        let mut spinning = Command::new("sh");
        spinning.args(["-c", "while :; do :; done"]);
        let s = within(spinning, Duration::from_millis(1500)).await.unwrap();
        assert!(s.timed_out && !s.hung, "{:?}", (s.timed_out, s.hung));
    }

    #[test]
    fn activity_of_this_process() {
        // This test's thread is running while it reads its process's tasks.
        assert!(activity(std::process::id()).is_some_and(|(_, active, ..)| active));
        assert!(activity(u32::MAX).is_none());
        assert!(group_activity(u32::MAX).is_none());
    }

    #[tokio::test]
    async fn reports_exit_codes() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 3"]);
        let s = bounded(cmd, Duration::from_secs(5), &Stop::default()).await;
        assert_eq!(describe_status(s.status, s.timed_out), "exited 3");
    }
}
