//! `backchannel bench`: benchmarks that print numbers (see `crate::bench`).

use std::time::Instant;

use clap::Args;

use backchannel_mock::protocol::Transport;

use super::{EXIT_FAIL, EXIT_OK, EXIT_USAGE, load_cases};
use crate::bench::{
    BenchError, RoundTrips, children_peak_rss_kib, outstanding, ping_scenario, pipe_floor, request_lines, round_trips,
    run_reference,
};
use crate::pipeline::{self, Plan, RunOptions, Selection};
use crate::runner::{ClientSpec, RunConfig};

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Which benchmarks: `suite`, `ping`, `outstanding`, `repeat` (repeatable; default:
    /// the first three — `repeat` runs the suite many times and is asked for by name).
    #[arg(long = "only", value_name = "NAME", value_parser = ["suite", "ping", "outstanding", "repeat"])]
    only: Vec<String>,
    /// `repeat`: how many runs at each --jobs setting.
    #[arg(long, value_name = "N", default_value_t = 5)]
    runs: usize,
    /// `repeat`: the --jobs settings, as multiples of the default (8 per core).
    #[arg(long, value_name = "K,K…", value_delimiter = ',', default_value = "1,4")]
    jobs_times: Vec<usize>,
    /// `repeat`: busy threads of the CPU hog (default: one per core).
    #[arg(long, value_name = "N")]
    hog: Option<usize>,
    /// `--jobs` values to time the built-in suite at.
    #[arg(long, value_name = "N,N…", value_delimiter = ',', default_value = "1,2")]
    jobs: Vec<usize>,
    /// Server→client pings per transport, one at a time.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pings: usize,
    /// Server→client requests outstanding at once.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    outstanding: usize,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn suite(exe: &std::path::Path, jobs: &[usize]) -> Result<bool, String> {
    let Some(cases) = load_cases(&[]) else { return Err("the built-in scenarios do not load".into()) };
    let plan = Plan::new(&cases, &Selection::default(), &ClientSpec::Reference).map_err(|e| e.to_string())?;
    println!(
        "suite: the built-in suite against the reference client, {} cases (all transports and revisions)",
        plan.cases.len()
    );
    let mut ok = true;
    let mut first = None;
    for &j in jobs {
        let start = Instant::now();
        let options = RunOptions { jobs: j, strict: true, label: "the reference client".into(), handle_signals: true };
        let summary = pipeline::run(&plan, RunConfig::reference(exe.to_owned()), &options, &mut [])
            .map_err(|e| super::chain(&e))?;
        let wall = start.elapsed().as_secs_f64();
        let failed = summary.totals.failed;
        ok &= failed == 0;
        let speedup = first.map(|f: f64| format!(" ({:.2}x the first)", f / wall)).unwrap_or_default();
        first.get_or_insert(wall);
        println!("  --jobs {j}: {wall:.1} s{speedup}, {failed} FAIL under --strict");
    }
    Ok(ok)
}

fn ratio(a: &RoundTrips, floor: &RoundTrips) -> String {
    format!("{:.1}x the floor's median", a.median_us / floor.median_us)
}

fn ping(exe: &std::path::Path, n: usize) -> Result<bool, BenchError> {
    let rt = runtime().map_err(|e| BenchError::Io(std::io::Error::other(e)))?;
    let c = ping_scenario(n, true, 120_000)?;
    println!(
        "ping: {n} server→client pings, one at a time, against the reference client (round trip at the mock's tap)"
    );
    let mut floor = None;
    let mut ok = true;
    for t in [Transport::Stdio, Transport::Http] {
        let report = rt.block_on(run_reference(exe, &c, t))?;
        let trace = report.record.trace.as_ref().ok_or(BenchError::NoTrace)?;
        if floor.is_none() {
            let f = pipe_floor(&request_lines(trace))?;
            println!("  floor, the same lines through a raw pipe (cat): {f}");
            floor = Some(f);
        }
        let (samples, span) = round_trips(trace);
        ok &= samples.len() == n;
        let r = RoundTrips::of(samples, span);
        let vs = floor.as_ref().map(|f| ratio(&r, f)).unwrap_or_default();
        println!("  {t:<5}: {r} ({vs})");
    }
    Ok(ok)
}

fn many(exe: &std::path::Path, n: usize) -> Result<bool, BenchError> {
    let rt = runtime().map_err(|e| BenchError::Io(std::io::Error::other(e)))?;
    let c = ping_scenario(n, false, 120_000)?;
    println!("outstanding: {n} server→client pings sent back to back, then answered, against the reference client");
    let mut ok = true;
    for t in [Transport::Stdio, Transport::Http] {
        let started = Instant::now();
        let report = rt.block_on(run_reference(exe, &c, t))?;
        let o = outstanding(&report)?;
        ok &= o.all_checks_pass && o.answered == n;
        println!(
            "  {t:<5}: {}/{} answered with their ids, every check {}; first request to last answer {:.2} s; case {:.2} s (checks included: {:.2} s)",
            o.answered,
            o.sent,
            if o.all_checks_pass { "PASS" } else { "NOT passed" },
            o.span.as_secs_f64(),
            o.wall.as_secs_f64(),
            started.elapsed().as_secs_f64(),
        );
    }
    if let Some(kib) = children_peak_rss_kib() {
        println!("  peak RSS of the largest process of the cases (client or mock): {:.1} MiB", kib as f64 / 1024.0);
    }
    Ok(ok)
}

/// The suite `runs` times at each jobs setting under a CPU hog: every verdict that
/// differed between runs.
fn repeat(exe: &std::path::Path, runs: usize, times: &[usize], hog: Option<usize>) -> Result<bool, String> {
    let Some(cases) = load_cases(&[]) else { return Err("the built-in scenarios do not load".into()) };
    let plan = Plan::new(&cases, &Selection::default(), &ClientSpec::Reference).map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let hog_threads = hog.unwrap_or(cores);
    println!(
        "repeat: the built-in suite ({} cases) {runs}× at each --jobs setting, against the reference client, with {hog_threads} busy thread(s) on {cores} core(s)",
        plan.cases.len()
    );
    let default = ClientSpec::Reference.default_jobs();
    let mut ok = true;
    for &k in times {
        let jobs = default * k.max(1);
        let _hog = crate::bench::CpuHog::start(hog_threads);
        let mut all = Vec::new();
        for i in 0..runs {
            let start = Instant::now();
            let options = RunOptions { jobs, strict: true, label: "the reference client".into(), handle_signals: true };
            let summary = pipeline::run(&plan, RunConfig::reference(exe.to_owned()), &options, &mut [])
                .map_err(|e| super::chain(&e))?;
            println!(
                "  --jobs {jobs} run {}: {} in {:.1} s ({} checks: {} passed, {} failed, {} not judged)",
                i + 1,
                summary.outcome().word(),
                start.elapsed().as_secs_f64(),
                summary.totals.checks,
                summary.totals.passed,
                summary.totals.failed,
                summary.unjudged.len()
            );
            ok &= summary.outcome() == crate::outcome::RunOutcome::Pass;
            all.push(crate::bench::verdicts(&summary));
        }
        let flips = crate::bench::flips(&all);
        println!("  --jobs {jobs}: {} check(s) flipped in {runs} runs", flips.len());
        for (key, per_run) in &flips {
            let shown: Vec<String> = per_run.iter().map(|v| v.map_or("-".to_owned(), |v| v.to_string())).collect();
            println!("    {key}: {}", shown.join(" "));
        }
        ok &= flips.is_empty();
    }
    Ok(ok)
}

pub(crate) fn run(args: BenchArgs) -> u8 {
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot locate the backchannel executable: {e}");
            return EXIT_USAGE;
        }
    };
    let wants = |name: &str| (args.only.is_empty() && name != "repeat") || args.only.iter().any(|o| o == name);
    println!(
        "backchannel {} bench ({} build)\n",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    let mut ok = true;
    let mut step = |name: &str, r: Result<bool, String>| match r {
        Ok(pass) => {
            ok &= pass;
            println!();
        }
        Err(e) => {
            eprintln!("error: {name}: {e}");
            ok = false;
        }
    };
    if wants("ping") {
        step("ping", ping(&exe, args.pings).map_err(|e| e.to_string()));
    }
    if wants("outstanding") {
        step("outstanding", many(&exe, args.outstanding).map_err(|e| e.to_string()));
    }
    if wants("suite") {
        step("suite", suite(&exe, &args.jobs));
    }
    if wants("repeat") {
        step("repeat", repeat(&exe, args.runs, &args.jobs_times, args.hog));
    }
    if ok { EXIT_OK } else { EXIT_FAIL }
}
