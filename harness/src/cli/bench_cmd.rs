//! `backchannel bench`: benchmarks that print numbers (see `crate::bench`).

use std::time::Instant;

use clap::Args;

use backchannel_protocol::Transport;

use super::{EXIT_FAIL, EXIT_OK, EXIT_USAGE, load_cases};
use crate::bench::{
    BenchError, RoundTrips, before, case_times, outstanding, ping_scenario, pipe_floor, quantile, request_lines,
    round_trips, run_reference,
};
use crate::pipeline::{self, Jobs, Plan, RunOptions, Selection};
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
    /// `repeat` against the reference client: the --jobs settings, as multiples of
    /// its default (8 per core). Against another client, the default (as many as the
    /// CPU allows) only.
    #[arg(long, value_name = "K,K…", value_delimiter = ',', default_value = "1,4")]
    jobs_times: Vec<usize>,
    /// `repeat`: against this profiled client (`clients/<NAME>.yaml`, or a path)
    /// instead of the reference client.
    #[arg(long, value_name = "NAME", conflicts_with = "client_cmd")]
    client: Option<String>,
    /// `repeat`: against this client command line (as `run --client-cmd`).
    #[arg(long, value_name = "'CMD ARGS'")]
    client_cmd: Option<String>,
    /// `repeat` with --client-cmd: the knobs it honours (as `run --honours`).
    #[arg(long, value_name = "KNOBS", value_parser = super::run_cmd::parse_knobs)]
    honours: Option<crate::scenario::compiled::Knobs>,
    /// `repeat` with --client-cmd: its settle time (as `run --settle-ms`).
    #[arg(long, value_name = "MS", default_value_t = 300)]
    settle_ms: u64,
    /// `repeat`: which transports (as `run --transport`; a client that only launches
    /// its server wants `stdio`).
    #[arg(long, value_name = "T", default_value = "all", value_parser = ["stdio", "http", "sse", "all"])]
    transport: String,
    /// `repeat`: busy threads of the CPU hog (default: one per core).
    #[arg(long, value_name = "N")]
    hog: Option<usize>,
    /// `--jobs` values to time the built-in suite at (default: the default `--jobs`,
    /// 8 per core).
    #[arg(long, value_name = "N,N…", value_delimiter = ',')]
    jobs: Vec<usize>,
    /// Server→client pings per transport, one at a time.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pings: usize,
    /// Server→client requests outstanding at once, per case.
    #[arg(long, value_name = "N,N…", value_delimiter = ',', default_value = "1000,10000,100000")]
    outstanding: Vec<usize>,
    /// Internal: run one outstanding case (`TRANSPORT:N`) and print its result as JSON.
    #[arg(long, value_name = "TRANSPORT:N", hide = true)]
    outstanding_case: Option<String>,
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
    let default = match pipeline::default_jobs(&ClientSpec::Reference) {
        Jobs::Fixed(n) | Jobs::Adaptive { cap: n, .. } => n,
    };
    println!(
        "suite: the built-in suite against the reference client, {} cases (all transports and revisions); before = {}",
        plan.cases.len(),
        before::COMMIT
    );
    let mut ok = true;
    let jobs = if jobs.is_empty() { vec![default] } else { jobs.to_vec() };
    for j in jobs {
        let start = Instant::now();
        let options = RunOptions {
            jobs: Jobs::Fixed(j),
            strict: true,
            label: "the reference client".into(),
            handle_signals: true,
        };
        let summary = pipeline::run(&plan, RunConfig::reference(exe.to_owned()), &options, &mut [])
            .map_err(|e| super::chain(&e))?;
        let wall = start.elapsed().as_secs_f64();
        let failed = summary.totals().failed;
        ok &= summary.outcome() == crate::outcome::RunOutcome::Pass;
        let vs = if j == default {
            format!(" ({:.2}x the {:.1} s before)", wall / before::suite_s(), before::suite_s())
        } else {
            String::new()
        };
        let mark = if j == default { " (the default)" } else { "" };
        println!("  --jobs {j}{mark}: {wall:.2} s{vs}, {failed} FAIL under --strict, {}", summary.outcome().word());
        let (times, slowest) = case_times(&summary);
        let (p50, p99) = (quantile(&times, 0.5), quantile(&times, 0.99));
        println!(
            "    per case: p50 {p50:.0} ms, p90 {:.0} ms, p99 {p99:.0} ms, max {:.0} ms ({})",
            quantile(&times, 0.9),
            quantile(&times, 1.0),
            slowest.unwrap_or_default()
        );
        if j == default && !cfg!(debug_assertions) {
            let (b50, b99) = before::CASE_MS;
            println!("    before: p50 {b50:.0} ms, p99 {b99:.0} ms ({:.2}x, {:.2}x)", p50 / b50, p99 / b99);
        }
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

/// One outstanding-requests case, in this process: what `many` runs in a fresh
/// process per size, so each size's peak memory is its own.
fn one_outstanding(exe: &std::path::Path, spec: &str) -> Result<bool, String> {
    let (t, n) = spec.split_once(':').ok_or("expected TRANSPORT:N")?;
    let t: Transport = t.parse().map_err(|e| format!("{e}"))?;
    let n: usize = n.parse().map_err(|e| format!("{e}"))?;
    let rt = runtime()?;
    let c = ping_scenario(n, false, 600_000).map_err(|e| e.to_string())?;
    let report = rt.block_on(run_reference(exe, &c, t)).map_err(|e| e.to_string())?;
    let o = outstanding(&report).map_err(|e| e.to_string())?;
    println!("{}", serde_json::to_string(&o).map_err(|e| e.to_string())?);
    Ok(o.all_checks_pass && o.answered == n)
}

fn many(exe: &std::path::Path, counts: &[usize]) -> Result<bool, String> {
    println!(
        "outstanding: N server→client pings sent back to back, then answered, against the reference client, each size in a fresh process; before = {}",
        before::COMMIT
    );
    let mut ok = true;
    let mut counts = counts.to_vec();
    counts.sort_unstable();
    let mib = |kib: Option<i64>| kib.map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    for t in [Transport::Stdio, Transport::Http] {
        let mut previous: Option<(usize, f64)> = None;
        for &n in &counts {
            let out = std::process::Command::new(exe)
                .args(["bench", "--outstanding-case", &format!("{t}:{n}")])
                .stderr(std::process::Stdio::inherit())
                .output()
                .map_err(|e| format!("cannot run the case: {e}"))?;
            let line = String::from_utf8_lossy(&out.stdout);
            let o: crate::bench::Outstanding = line
                .lines()
                .last()
                .and_then(|l| serde_json::from_str(l).ok())
                .ok_or_else(|| format!("the {t} case with {n} requests reported nothing ({})", out.status))?;
            let wall = o.wall.as_secs_f64();
            ok &= o.all_checks_pass && o.answered == n;
            let vs = match before::outstanding_s(t, n) {
                Some(Some(b)) => format!("; before {b:.2} s ({:.2}x)", wall / b),
                Some(None) => "; before: unfinished after 240 s".to_owned(),
                None => String::new(),
            };
            let scaling = previous
                .map(|(pn, pw)| {
                    format!("; {:.1}x the time of {pn} for {:.0}x the requests", wall / pw, n as f64 / pn as f64)
                })
                .unwrap_or_default();
            println!(
                "  {t:<5} {n:>7}: {}/{} answered with their ids, every check {}; first request to last answer {:.2} s; case {wall:.2} s ({:.1} µs per request){scaling}{vs}",
                o.answered,
                o.sent,
                if o.all_checks_pass { "PASS" } else { "NOT passed" },
                o.span.as_secs_f64(),
                wall * 1e6 / n.max(1) as f64,
            );
            println!(
                "  {:<5} {:>7}  peak memory: client or stdio mock {}, harness with the HTTP mock {}",
                "",
                "",
                mib(o.children_peak_kib),
                mib(o.self_peak_kib)
            );
            previous = Some((n, wall));
        }
    }
    Ok(ok)
}

/// The suite `runs` times at each jobs setting under a CPU hog: every verdict that
/// differed between runs.
fn repeat(exe: &std::path::Path, args: &BenchArgs) -> Result<bool, String> {
    let settle = std::time::Duration::from_millis(args.settle_ms);
    let client =
        super::run_cmd::client_spec(args.client.as_deref(), args.client_cmd.as_deref(), args.honours.clone(), settle)?;
    let transport = super::run_cmd::transport_filter(&args.transport)?;
    let Some(cases) = load_cases(&[]) else { return Err("the built-in scenarios do not load".into()) };
    let selection = Selection { transports: transport.map(|t| vec![t]), ..Selection::default() };
    let plan = Plan::new(&cases, &selection, &client).map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let hog_threads = args.hog.unwrap_or(cores);
    let label = client.describe();
    println!(
        "repeat: the built-in suite ({} cases) {}× at each --jobs setting, against {label}, with {hog_threads} busy thread(s) on {cores} core(s)",
        plan.cases.len(),
        args.runs
    );
    let settings: Vec<Jobs> = match pipeline::default_jobs(&client) {
        Jobs::Fixed(default) => args.jobs_times.iter().map(|k| Jobs::Fixed(default * k.max(&1))).collect(),
        adaptive => vec![adaptive],
    };
    let cfg = RunConfig { client, ..RunConfig::reference(exe.to_owned()) };
    let mut ok = true;
    for jobs in settings {
        let _hog = crate::bench::CpuHog::start(hog_threads);
        let mut all = Vec::new();
        for i in 0..args.runs {
            let start = Instant::now();
            let options = RunOptions { jobs, strict: true, label: label.clone(), handle_signals: true };
            let summary = pipeline::run(&plan, cfg.clone(), &options, &mut []).map_err(|e| super::chain(&e))?;
            println!(
                "  --jobs {jobs} run {}: {} in {:.1} s ({} checks: {} passed, {} failed, {} not judged)",
                i + 1,
                summary.outcome().word(),
                start.elapsed().as_secs_f64(),
                summary.totals().checks,
                summary.totals().passed,
                summary.totals().failed,
                summary.unjudged.len()
            );
            // Against the reference client every run passes; another client's FAILs are
            // what it is (the point here is that they do not move), but every case is judged.
            ok &= match cfg.client {
                ClientSpec::Reference => summary.outcome() == crate::outcome::RunOutcome::Pass,
                _ => summary.unjudged.is_empty() && summary.totals().inconclusive == 0,
            };
            all.push(crate::bench::verdicts(&summary));
        }
        let flips = crate::bench::flips(&all);
        println!("  --jobs {jobs}: {} check(s) flipped in {} runs", flips.len(), args.runs);
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
    if let Some(spec) = &args.outstanding_case {
        return match one_outstanding(&exe, spec) {
            Ok(true) => EXIT_OK,
            Ok(false) => EXIT_FAIL,
            Err(e) => {
                eprintln!("error: outstanding case: {e}");
                EXIT_USAGE
            }
        };
    }
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
        step("outstanding", many(&exe, &args.outstanding));
    }
    if wants("suite") {
        step("suite", suite(&exe, &args.jobs));
    }
    if wants("repeat") {
        step("repeat", repeat(&exe, &args));
    }
    if ok { EXIT_OK } else { EXIT_FAIL }
}
