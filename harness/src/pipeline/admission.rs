//! How many cases run at once ([`Jobs`]): a fixed number (`--jobs N`, and the
//! reference client's default), or as many as the machine has CPU for.
//!
//! A third-party client's case spends little CPU and then waits (its start-up, the
//! answer windows, the barrier, the settle time): a fixed count low enough never to
//! starve a CPU-hungry client leaves the machine idle with a light one, and one high
//! enough for a light client starves a heavy one. [`Jobs::Adaptive`] keeps `min`
//! cases running, and each tick (50 ms) starts one more while the CPU was idle —
//! at least 0.3 of a core, smoothed over the last few ticks — up to `cap`. A finished
//! case is replaced only so: on a saturated machine the run shrinks back towards
//! `min` as its cases finish, and a case waiting on the wire costs nothing, since it
//! leaves the CPU idle. Idle is measured, not guessed: the machine's idle time
//! (`/proc/stat`, idle and iowait), and where the run is held to a CPU quota (cgroup
//! v2 `cpu.max`), the quota left — whichever is smaller. Other work on the machine
//! counts: a busy neighbour (or `backchannel bench`'s CPU hog) keeps the run at `min`.
//!
//! The decisions are pure functions ([`starts_now`], [`starts_on_idle`]);
//! [`CpuMeter`] reads the machine, [`Smoothed`] averages what it reads.

use std::time::{Duration, Instant};

/// How many cases run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jobs {
    /// Exactly this many.
    Fixed(usize),
    /// At least `min`; one more while there is idle CPU, up to `cap`.
    Adaptive {
        /// Always allowed (what a saturated machine runs).
        min: usize,
        /// Never more.
        cap: usize,
    },
}

impl Jobs {
    /// The number of cases allowed at the start.
    pub fn initial(self) -> usize {
        match self {
            Self::Fixed(n) => n.max(1),
            Self::Adaptive { min, .. } => min.max(1),
        }
    }
}

impl std::fmt::Display for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fixed(n) => write!(f, "{n}"),
            Self::Adaptive { min, cap } => write!(f, "{min}–{cap}, as the CPU allows"),
        }
    }
}

/// How often the adaptive rule looks at the CPU.
pub const TICK: Duration = Duration::from_millis(50);

/// Idle CPU (in cores, smoothed) that lets one more case start.
const IDLE_TO_START: f64 = 0.3;

/// Whether a case may start now, without measuring anything: fewer than the fixed
/// number run, or fewer than the adaptive minimum.
pub fn starts_now(jobs: Jobs, running: usize) -> bool {
    running < jobs.initial()
}

/// Whether the adaptive rule starts one more case this tick: below the cap, and at
/// least 0.3 of a core was idle (`idle`, in cores; `None`: not measured, no start).
pub fn starts_on_idle(jobs: Jobs, running: usize, idle: Option<f64>) -> bool {
    match jobs {
        Jobs::Fixed(_) => false,
        Jobs::Adaptive { cap, .. } => running < cap && idle.is_some_and(|i| i >= IDLE_TO_START),
    }
}

/// An exponentially weighted average of the idle cores a [`CpuMeter`] reads each
/// tick: one tick sees a few jiffies per core, too coarse to act on alone.
#[derive(Debug, Default)]
pub struct Smoothed {
    meter: CpuMeter,
    average: Option<f64>,
}

impl Smoothed {
    /// Read the meter and fold it in; the average so far.
    pub fn idle_cores(&mut self) -> Option<f64> {
        if let Some(now) = self.meter.idle_cores() {
            self.average = Some(self.average.map_or(now, |a| a + 0.4 * (now - a)));
        }
        self.average
    }
}

/// Reads how much CPU was idle since it last looked.
#[derive(Debug)]
pub struct CpuMeter {
    host: Option<(u64, u64)>,
    /// The CPUs `/proc/stat` counts.
    cores: f64,
    quota: Option<Quota>,
}

#[derive(Debug)]
struct Quota {
    cores: f64,
    usage_us: u64,
    at: Instant,
}

impl CpuMeter {
    /// Start measuring.
    pub fn new() -> Self {
        let quota =
            cgroup_quota().and_then(|cores| Some(Quota { cores, usage_us: cgroup_usage_us()?, at: Instant::now() }));
        Self { host: host_times(), cores: host_cores(), quota }
    }

    /// Cores idle since the last call (or since [`CpuMeter::new`]); `None` where
    /// neither `/proc/stat` nor a cgroup can be read.
    pub fn idle_cores(&mut self) -> Option<f64> {
        let cores = self.cores;
        let host = host_times().and_then(|now| {
            let (idle0, total0) = self.host.replace(now)?;
            let (d_idle, d_total) = (now.0.saturating_sub(idle0), now.1.saturating_sub(total0));
            (d_total > 0).then(|| d_idle as f64 / d_total as f64 * cores)
        });
        let quota = self.quota.as_mut().and_then(|q| {
            let (usage, at) = (cgroup_usage_us()?, Instant::now());
            let wall = at.duration_since(q.at).as_micros() as f64;
            let busy = usage.saturating_sub(q.usage_us) as f64 / wall.max(1.0);
            (q.usage_us, q.at) = (usage, at);
            Some((q.cores - busy).max(0.0))
        });
        match (host, quota) {
            (Some(h), Some(q)) => Some(h.min(q)),
            (h, q) => h.or(q),
        }
    }
}

impl Default for CpuMeter {
    fn default() -> Self {
        Self::new()
    }
}

/// Idle (idle + iowait) and total jiffies of all CPUs, from `/proc/stat`.
fn host_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> =
        stat.lines().next()?.strip_prefix("cpu ")?.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is within user).
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    let total = fields.iter().take(8).sum();
    Some((idle, total))
}

/// The CPUs `/proc/stat` counts.
fn host_cores() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .map_or(1.0, |s| s.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count().max(1) as f64)
}

/// The run's cgroup (v2) CPU quota in cores, when it has one.
fn cgroup_quota() -> Option<f64> {
    let max = std::fs::read_to_string("/sys/fs/cgroup/cpu.max").ok()?;
    let mut it = max.split_whitespace();
    let (quota, period): (f64, f64) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    (period > 0.0).then_some(quota / period)
}

/// The run's cgroup (v2) CPU time so far, in µs.
fn cgroup_usage_us() -> Option<u64> {
    let stat = std::fs::read_to_string("/sys/fs/cgroup/cpu.stat").ok()?;
    stat.lines().find_map(|l| l.strip_prefix("usage_usec ")?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_starts_below_the_floor_at_once_and_above_it_only_on_idle_cpu() {
        let adaptive = Jobs::Adaptive { min: 2, cap: 32 };
        assert!(starts_now(adaptive, 1) && !starts_now(adaptive, 2));
        assert!(starts_now(Jobs::Fixed(8), 7) && !starts_now(Jobs::Fixed(8), 8));
        assert!(starts_on_idle(adaptive, 2, Some(1.5)));
        assert!(!starts_on_idle(adaptive, 2, Some(0.2)), "a little idle: no");
        assert!(!starts_on_idle(adaptive, 32, Some(2.0)), "at the cap");
        assert!(!starts_on_idle(adaptive, 2, None), "nothing measured: no");
        assert!(!starts_on_idle(Jobs::Fixed(8), 2, Some(2.0)), "a fixed number stays so");
    }

    #[test]
    fn the_machine_is_measured_here() {
        let mut m = CpuMeter::new();
        std::thread::sleep(Duration::from_millis(60));
        let idle = m.idle_cores().expect("/proc/stat is readable on Linux");
        assert!((0.0..=host_cores() + 0.01).contains(&idle), "{idle}");
    }
}
