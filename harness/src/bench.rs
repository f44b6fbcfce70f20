//! Benchmarks behind `backchannel bench`: numbers printed, never asserted.
//!
//! - **suite**: the built-in suite against the reference client, every transport
//!   and revision: wall time at the default `--jobs` (or each value asked for) and
//!   per-case p50/p90/p99, with their ratios to the figures in [`before`];
//! - **ping**: server→client `ping` round trips, one at a time, over stdio and
//!   Streamable HTTP, against the reference client — median, p99, throughput —
//!   with the floor measured in the same run: the same bytes echoed line by line
//!   through a raw pipe (`cat`);
//! - **outstanding**: N server→client requests sent back to back before any answer
//!   (default 1 000, 10 000 and 100 000, on stdio and Streamable HTTP): whether all
//!   were answered with their ids, the wall time and its cost per request (flat when
//!   the cost is linear), and the peak resident memory of the client, the stdio mock
//!   and this process (where the HTTP mock runs).
//!
//! - **repeat**: the built-in suite run N times against the reference client while
//!   every core is kept busy by a CPU hog the bench starts and stops itself, at the
//!   default `--jobs` and at 4× it: every check whose verdict differed between runs
//!   (a verdict must never depend on how busy the machine is).
//!
//! Round trips are measured where the wire is tapped: from the mock writing a
//! request to the mock reading its answer (the trace's microsecond timestamps).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use backchannel_mock::engine::BARRIER_STEP;
use backchannel_mock::trace::{Direction, Trace};
use serde_json::Value;

use backchannel_protocol::{Revision, Transport};

use crate::baseline::Baseline;
use crate::outcome::{CaseReport, Grader, Verdict};
use crate::runner::{RunConfig, run_case};
use crate::scenario::{Compiled, compile, parse};

/// Errors of a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The generated scenario did not compile (a bug here).
    #[error("benchmark scenario: {0}")]
    Scenario(String),
    /// The case could not run.
    #[error("case: {0}")]
    Run(#[from] crate::runner::RunError),
    /// The raw pipe floor could not run.
    #[error("raw pipe floor: {0}")]
    Io(#[from] std::io::Error),
    /// The case ran but produced no trace.
    #[error("the case wrote no trace")]
    NoTrace,
}

/// Round-trip statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrips {
    /// How many were measured.
    pub count: usize,
    /// Median, in microseconds.
    pub median_us: f64,
    /// 99th percentile, in microseconds.
    pub p99_us: f64,
    /// Round trips per second over the whole burst.
    pub per_second: f64,
}

/// The `q` quantile (0..=1) of `sorted` (ascending), nearest rank; NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

impl RoundTrips {
    /// Statistics of `samples` (µs) taken over `span`.
    pub fn of(mut samples: Vec<f64>, span: Duration) -> Self {
        samples.sort_by(f64::total_cmp);
        Self {
            count: samples.len(),
            median_us: quantile(&samples, 0.5),
            p99_us: quantile(&samples, 0.99),
            per_second: samples.len() as f64 / span.as_secs_f64().max(f64::EPSILON),
        }
    }
}

/// The figures the benchmarks print their ratios against: measured on this
/// project's CI-class machine (2 cores, 24 GiB) at commit `b84ac5d` (2026-11-30),
/// before a case ended at a barrier instead of fixed waits (BENCHMARKS.md has the
/// commands).
pub mod before {
    use backchannel_protocol::Transport;

    /// The commit the figures were measured at.
    pub const COMMIT: &str = "b84ac5d";
    /// The built-in suite at the default `--jobs`, seconds: (release, debug).
    pub const SUITE_S: (f64, f64) = (SUITE_RELEASE_S, SUITE_DEBUG_S);
    // Medians of three runs: 12.9, 13.0, 15.3 s (release); 14.05, 14.08, 14.80 s (debug).
    const SUITE_RELEASE_S: f64 = 13.0;
    const SUITE_DEBUG_S: f64 = 14.1;
    /// One case's wall time in those runs (release), ms: (p50, p99).
    pub const CASE_MS: (f64, f64) = (360.0, 3360.0);
    /// The outstanding-requests case's wall time (release), seconds, by transport
    /// and count; `None`: had not finished after 240 s.
    pub const OUTSTANDING_S: &[(Transport, usize, Option<f64>)] = &[
        (Transport::Stdio, 1_000, Some(0.28)),
        (Transport::Stdio, 10_000, Some(1.37)),
        (Transport::Stdio, 100_000, Some(68.9)),
        (Transport::Http, 1_000, Some(0.42)),
        (Transport::Http, 10_000, Some(2.52)),
        (Transport::Http, 100_000, Some(69.4)),
    ];

    /// The suite figure for this build.
    pub fn suite_s() -> f64 {
        if cfg!(debug_assertions) { SUITE_S.1 } else { SUITE_S.0 }
    }

    /// The outstanding figure for `transport` and `n`, if measured.
    pub fn outstanding_s(transport: Transport, n: usize) -> Option<Option<f64>> {
        OUTSTANDING_S.iter().find(|(t, c, _)| *t == transport && *c == n).map(|(_, _, s)| *s)
    }
}

/// Per-case wall times of a run, ms, ascending, with the slowest case's label.
pub fn case_times(summary: &crate::outcome::RunSummary) -> (Vec<f64>, Option<String>) {
    let mut times: Vec<(f64, String)> =
        summary.reports.iter().map(|r| (r.record.duration.as_secs_f64() * 1e3, r.label())).collect();
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let slowest = times.last().map(|(_, l)| l.clone());
    (times.into_iter().map(|(t, _)| t).collect(), slowest)
}

impl std::fmt::Display for RoundTrips {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} round trips: median {:.1} µs, p99 {:.1} µs, {:.0}/s",
            self.count, self.median_us, self.p99_us, self.per_second
        )
    }
}

/// A scenario sending `count` pings: one at a time (`wait`) or all at once.
pub fn ping_scenario(count: usize, one_at_a_time: bool, timeout_ms: u64) -> Result<Compiled, BenchError> {
    let yaml = format!(
        "title: bench\nrevisions: [2025-11-25]\ntimeout_ms: {timeout_ms}\ngrace_ms: 100\nsteps:\n  - request:\n      name: ping\n      method: ping\n      repeat: {count}\n      wait: {one_at_a_time}\n      expect: {{within_ms: {timeout_ms}}}\n"
    );
    let path = Path::new("bench/ping.yaml");
    parse(path, &yaml).map(|s| compile(path, s)).map_err(|e| BenchError::Scenario(e.to_string()))
}

/// Run a bench scenario against the reference client, graded strictly.
pub async fn run_reference(exe: &Path, c: &Compiled, transport: Transport) -> Result<CaseReport, BenchError> {
    let run = run_case(c, transport, Revision::V2025_11_25, &RunConfig::reference(exe.to_owned())).await?;
    Ok(Grader::new(true, Baseline::default()).grade(c, run))
}

/// Per scripted request, the round trip at the tap: request written → answer read (µs),
/// and the span from the first request to the last answer.
pub fn round_trips(trace: &Trace) -> (Vec<f64>, Duration) {
    let mut sent: HashMap<String, u64> = HashMap::new();
    let mut samples = Vec::new();
    let (mut first, mut last) = (u64::MAX, 0);
    for f in trace.frames() {
        let Some(json) = &f.json else { continue };
        let id = json.get("id").map(Value::to_string).unwrap_or_default();
        match f.dir {
            Direction::ServerToClient
                if f.step.as_deref().is_some_and(|s| s != BARRIER_STEP) && json.get("method").is_some() =>
            {
                first = first.min(f.t_us);
                sent.insert(id, f.t_us);
            }
            Direction::ClientToServer if json.get("method").is_none() => {
                if let Some(t) = sent.remove(&id) {
                    samples.push((f.t_us - t) as f64);
                    last = last.max(f.t_us);
                }
            }
            _ => {}
        }
    }
    (samples, Duration::from_micros(last.saturating_sub(first)))
}

/// The floor: the same request lines echoed one at a time through `cat`.
pub fn pipe_floor(lines: &[String]) -> Result<RoundTrips, BenchError> {
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    let mut stdin = child.stdin.take().ok_or_else(|| std::io::Error::other("no stdin"))?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?);
    let mut samples = Vec::with_capacity(lines.len());
    let mut back = String::new();
    let start = Instant::now();
    for line in lines {
        let t = Instant::now();
        stdin.write_all(line.as_bytes())?;
        stdin.write_all(b"\n")?;
        stdin.flush()?;
        back.clear();
        stdout.read_line(&mut back)?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let span = start.elapsed();
    drop(stdin);
    child.wait()?;
    Ok(RoundTrips::of(samples, span))
}

/// The request lines the mock wrote, as sent.
pub fn request_lines(trace: &Trace) -> Vec<String> {
    trace
        .frames()
        .filter(|f| f.dir == Direction::ServerToClient && f.step.as_deref().is_some_and(|s| s != BARRIER_STEP))
        .map(|f| f.raw.clone())
        .collect()
}

/// What the outstanding-requests benchmark found.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Outstanding {
    /// Requests sent.
    pub sent: usize,
    /// Answers with the exact id of a request.
    pub answered: usize,
    /// Every check of the case passed (all answered in time, ids echoed, one answer each).
    pub all_checks_pass: bool,
    /// From the first request to the last answer.
    pub span: Duration,
    /// The case's wall time.
    pub wall: Duration,
    /// Peak resident memory of the process that ran the case (the harness, and the
    /// HTTP mock it serves), KiB.
    #[serde(default)]
    pub self_peak_kib: Option<i64>,
    /// Peak resident memory of the largest process it started (the client, or the
    /// stdio mock the client started), KiB. Each size runs in a fresh process: a
    /// child's peak includes its parent's at the time it was spawned (`exec` after
    /// `vfork` counts the shared memory), which is small there.
    #[serde(default)]
    pub children_peak_kib: Option<i64>,
}

/// Summarize an outstanding-requests case.
pub fn outstanding(report: &CaseReport) -> Result<Outstanding, BenchError> {
    let trace = report.record.trace.as_ref().ok_or(BenchError::NoTrace)?;
    let (samples, span) = round_trips(trace);
    Ok(Outstanding {
        sent: request_lines(trace).len(),
        answered: samples.len(),
        all_checks_pass: report.checks.iter().all(|c| c.verdict == Verdict::Pass),
        span,
        wall: report.record.duration,
        self_peak_kib: self_peak_rss_kib(),
        children_peak_kib: children_peak_rss_kib(),
    })
}

/// A CPU hog: one busy thread per core until dropped.
#[derive(Debug)]
pub struct CpuHog {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

impl CpuHog {
    /// Start `threads` busy threads.
    pub fn start(threads: usize) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x: u64 = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                        }
                    }
                    x
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for CpuHog {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Every check's final verdict in a run, by `<case label> <check id>`.
pub fn verdicts(summary: &crate::outcome::RunSummary) -> std::collections::BTreeMap<String, Verdict> {
    let mut out = std::collections::BTreeMap::new();
    for r in &summary.reports {
        for c in &r.checks {
            out.insert(format!("{} {}", r.label(), c.check), c.final_verdict());
        }
    }
    for u in &summary.unjudged {
        out.insert(format!("{} (case)", u.case), Verdict::Inconclusive);
    }
    out
}

/// The checks whose verdict differs between runs: `(key, verdict per run)`
/// (`None`: the check did not occur in that run).
pub fn flips(runs: &[std::collections::BTreeMap<String, Verdict>]) -> Vec<(String, Vec<Option<Verdict>>)> {
    let keys: std::collections::BTreeSet<&String> = runs.iter().flat_map(|r| r.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let per_run: Vec<Option<Verdict>> = runs.iter().map(|r| r.get(k).copied()).collect();
            let first = per_run.first().copied().flatten();
            per_run.iter().any(|v| *v != first).then(|| (k.clone(), per_run))
        })
        .collect()
}

/// Peak resident set size of this process's reaped descendants, in KiB (Linux: the
/// largest single process among them).
pub fn children_peak_rss_kib() -> Option<i64> {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).ok().map(|u| u.max_rss())
}

/// Peak resident set size of this process, in KiB.
pub fn self_peak_rss_kib() -> Option<i64> {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).ok().map(|u| u.max_rss())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_sample() {
        let r = RoundTrips::of((1..=100).map(f64::from).collect(), Duration::from_secs(2));
        assert_eq!(r.count, 100);
        assert!((r.median_us - 50.0).abs() <= 1.0, "{r}");
        assert!((r.p99_us - 99.0).abs() <= 1.0, "{r}");
        assert!((r.per_second - 50.0).abs() < 1e-9);
    }

    #[test]
    fn flips_are_the_checks_that_differ() {
        let run = |v: Verdict| [("a x".to_owned(), Verdict::Pass), ("b y".to_owned(), v)].into_iter().collect();
        assert!(flips(&[run(Verdict::Pass), run(Verdict::Pass)]).is_empty());
        let f = flips(&[run(Verdict::Pass), run(Verdict::Fail), run(Verdict::Pass)]);
        assert_eq!(f, [("b y".to_owned(), vec![Some(Verdict::Pass), Some(Verdict::Fail), Some(Verdict::Pass)])]);
        let missing = [("a x".to_owned(), Verdict::Pass)].into_iter().collect();
        assert_eq!(flips(&[run(Verdict::Pass), missing]).len(), 1);
    }

    #[test]
    fn the_bench_scenarios_compile() {
        let c = ping_scenario(3, true, 1000).unwrap();
        assert_eq!(c.requests.len(), 3);
        assert!(c.requests.iter().all(|r| r.method == "ping"));
    }
}
