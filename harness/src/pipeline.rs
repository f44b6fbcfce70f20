//! The run pipeline, as a library: plan the cases ([`Plan`]), run them at most
//! `jobs` at a time, grade each as it finishes ([`Grader`]: the revision's grade,
//! strictness and the baseline, once), stream [`Event`]s to the reporters, and end
//! with the [`RunSummary`] whose [`RunSummary::outcome`] decides the exit code.
//!
//! `backchannel run`, `backchannel matrix`, `backchannel bench` and the real-client
//! tests all call [`run`]; the CLI only turns argv into a [`Selection`] and a
//! [`RunOptions`], and the outcome into an exit code.

pub mod admission;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Instant, SystemTime};

use backchannel_protocol::{Revision, Transport};

use crate::outcome::{CaseReport, Grader, PlanInfo, RunSummary, Unjudged};
use crate::report::event::{CaseKey, Event, Reporter};
use crate::runner::{ClientSpec, RunConfig, RunError, Stop, run_case};
use crate::scenario::Compiled;
use crate::scenario::compiled::{Knob, Knobs};
pub use admission::Jobs;

/// Which revisions of each scenario to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RevisionFilter {
    /// Every revision each scenario lists.
    #[default]
    All,
    /// The newest each scenario lists (what a client asking for the newest protocol meets).
    Latest,
    /// Only this one.
    One(Revision),
    /// Only these (a profile's `test_revisions`).
    Among(Vec<Revision>),
}

impl RevisionFilter {
    /// `all`, `latest`, or a revision date.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Self::All),
            "latest" => Ok(Self::Latest),
            other => other.parse().map(Self::One).map_err(|e: backchannel_protocol::UnknownRevision| e.to_string()),
        }
    }

    fn keeps(&self, c: &Compiled, r: Revision) -> bool {
        match self {
            Self::All => true,
            Self::Latest => c.latest_revision() == r,
            Self::One(one) => *one == r,
            Self::Among(these) => these.contains(&r),
        }
    }
}

/// Which cases of the scenarios to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these transports (`None`: every transport each scenario lists).
    pub transports: Option<Vec<Transport>>,
    /// Which revisions.
    pub revisions: RevisionFilter,
    /// Keep scenarios whose id matches any of these globs (none: all).
    pub filters: Vec<String>,
    /// Keep shard K of N (1-based) of the planned cases, dealt round-robin.
    pub shard: Option<(usize, usize)>,
}

/// One planned case.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    /// Its position in the unsharded plan.
    pub index: usize,
    /// The scenario.
    pub compiled: Arc<Compiled>,
    /// The transport.
    pub transport: Transport,
    /// The revision the mock speaks.
    pub revision: Revision,
}

impl PlannedCase {
    /// `<scenario> [<transport> <revision>]`.
    pub fn label(&self) -> String {
        format!("{} [{} {}]", self.compiled.id, self.transport, self.revision)
    }

    /// How long this case is likely to keep its client waiting: against a client
    /// that claims every knob the scenario turns, the scenario's certain wait
    /// ([`Compiled::certain_wait`]); against one that may not take them up, its
    /// possible wait ([`Compiled::possible_wait`]) — and at 2026-07-28, for a client
    /// that does not claim to speak it, the whole session's timeout (a client of the
    /// earlier revisions is refused `initialize` and waits for a server that waits for
    /// it).
    pub fn likely_wait(&self, claims: &Knobs) -> std::time::Duration {
        let c = &self.compiled;
        if !self.revision.is_legacy() && !claims.contains(&Knob::Modern) {
            return c.timeout.max(c.possible_wait());
        }
        if c.client.knobs(self.revision).iter().all(|k| claims.contains(k)) {
            c.certain_wait()
        } else {
            c.possible_wait()
        }
    }

    /// This case, not judged, for this reason.
    fn unjudged(&self, why: String) -> Unjudged {
        Unjudged { case: self.label(), why, plan_index: self.index }
    }
}

/// Why nothing could be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no case to run: {0}")]
pub struct EmptyPlan(pub String);

/// The cases of a run, in order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The cases.
    pub cases: Vec<PlannedCase>,
    /// The whole plan's size, the shard, the digest of what it was made from.
    pub info: PlanInfo,
}

impl Plan {
    /// Every case of `scenarios` the selection keeps: each scenario on each transport
    /// it lists that the client supports, at each listed revision that has the
    /// transport. An empty plan is an error that says why nothing matched.
    pub fn new(scenarios: &[Compiled], selection: &Selection, client: &ClientSpec) -> Result<Self, EmptyPlan> {
        let filters = crate::scenario::expand_suites(&selection.filters);
        let matched: Vec<&Compiled> =
            scenarios.iter().filter(|c| filters.is_empty() || filters.iter().any(|g| glob_matches(g, &c.id))).collect();
        if matched.is_empty() {
            return Err(EmptyPlan(if scenarios.is_empty() {
                "no scenario was given".to_owned()
            } else {
                format!("--filter {} matches no scenario", selection.filters.join(", "))
            }));
        }
        let mut cases = Vec::new();
        for c in &matched {
            let c = Arc::new((*c).clone());
            for &t in &c.transports {
                if selection.transports.as_ref().is_some_and(|these| !these.contains(&t)) || !client.supports(t) {
                    continue;
                }
                for &r in &c.revisions {
                    if r.has_transport(t) && selection.revisions.keeps(&c, r) {
                        cases.push(PlannedCase { index: cases.len(), compiled: c.clone(), transport: t, revision: r });
                    }
                }
            }
        }
        if cases.is_empty() {
            return Err(EmptyPlan(why_empty(&matched, selection, client)));
        }
        let (scenarios, digest) = digests(scenarios, &cases);
        let info = PlanInfo { cases: cases.len(), shard: selection.shard, scenarios, digest };
        if let Some((k, n)) = selection.shard {
            cases = cases.into_iter().enumerate().filter(|(i, _)| i % n == k - 1).map(|(_, c)| c).collect();
            if cases.is_empty() {
                return Err(EmptyPlan(format!("shard {k}/{n} is empty: there are fewer cases than shards")));
            }
        }
        Ok(Self { cases, info })
    }
}

/// SHA-256 over the scenarios given (ids and sources: their files, the built-in text
/// for a built-in scenario run without a checkout, or nothing when a file cannot be
/// read), and that digest extended with the whole plan's case labels.
fn digests(scenarios: &[Compiled], cases: &[PlannedCase]) -> (String, String) {
    use sha2::Digest;
    let hex = |h: sha2::Sha256| h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut h = sha2::Sha256::new();
    for c in scenarios {
        h.update(c.id.as_bytes());
        h.update([0]);
        match crate::scenario::builtin::source(&c.path) {
            Some(text) if !c.path.exists() => h.update(text.as_bytes()),
            _ => h.update(std::fs::read(&c.path).unwrap_or_default()),
        }
        h.update([0]);
    }
    let mut plan = h.clone();
    for case in cases {
        plan.update(case.label().as_bytes());
        plan.update([b'\n']);
    }
    (hex(h), hex(plan))
}

/// Why a selection kept no case of the matched scenarios.
fn why_empty(matched: &[&Compiled], selection: &Selection, client: &ClientSpec) -> String {
    let transports: Vec<Transport> = selection.transports.clone().unwrap_or_else(|| Transport::ALL.to_vec());
    let one = match selection.transports.as_deref() {
        Some([t]) => Some(*t),
        _ => None,
    };
    if let Some(t) = one {
        if !client.supports(t) {
            return format!("the client does not support the {t} transport");
        }
        if !matched.iter().any(|c| c.transports.contains(&t)) {
            return format!("no scenario runs on the {t} transport");
        }
    }
    if let RevisionFilter::One(r) = selection.revisions {
        if !matched.iter().any(|c| c.revisions.contains(&r)) {
            return format!("no scenario lists revision {r}");
        }
        if let Some(t) = one.filter(|t| !r.has_transport(*t)) {
            return format!("revision {r} does not run over {t} in this kit");
        }
        let listed: Vec<String> = transports.iter().map(ToString::to_string).collect();
        return format!("no scenario lists revision {r} on a transport of {}", listed.join(", "));
    }
    "no scenario runs on a transport and revision the selection and the client share".to_owned()
}

/// Whether a scenario id matches a `--filter` glob (`*` matches any run of characters).
pub fn glob_matches(glob: &str, id: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return glob == id;
    }
    if !id.starts_with(first) || id.len() < first.len() + last.len() || !id.ends_with(last) {
        return false;
    }
    let mut rest = &id[first.len()..id.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

/// `K/N` with 1 ≤ K ≤ N.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 1/4")?;
    let (k, n): (usize, usize) =
        (k.trim().parse().map_err(|_| "K is not a number")?, n.trim().parse().map_err(|_| "N is not a number")?);
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: need 1 <= K <= N"));
    }
    Ok((k, n))
}

/// How many of this client's cases run at once by default. The reference client's
/// cases spend their time waiting (answer windows, grace periods) and its CPU is
/// known: a fixed 8 per core (the built-in suite takes 205 s at one job and 7.5 s at
/// 32 on two cores, with the same verdicts; BENCHMARKS.md). Any other client's is
/// not: one client starts in 50 ms of CPU, another in 2 s (LiteLLM's imports), and a
/// starved client would miss answer windows — so as many as the CPU allows
/// ([`Jobs::Adaptive`]): one per core always, up to 32 per core while cores are idle.
pub fn default_jobs(client: &ClientSpec) -> Jobs {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    match client {
        ClientSpec::Reference => Jobs::Fixed((cores * 8).min(64)),
        _ => Jobs::Adaptive { min: cores, cap: (cores * 32).min(256) },
    }
}

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How many cases run at once.
    pub jobs: Jobs,
    /// Grade SHOULD violations as FAIL.
    pub strict: bool,
    /// Who is under test, as the reports name it.
    pub label: String,
    /// Stop on SIGINT/SIGTERM (what `backchannel run` wants; a library caller may
    /// handle signals itself).
    pub handle_signals: bool,
}

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The async runtime could not start.
    #[error("failed to start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// A reporter failed (e.g. a report file cannot be written).
    #[error("cannot write a report")]
    Report(#[source] std::io::Error),
}

/// Run `plan` against `cfg.client`: every case, graded, its events streamed to
/// `reporters` (each case's `CaseFinished` in plan order), then `RunFinished`.
///
/// Nothing is lost silently: a case that cannot start, whose task panics, or that is
/// planned and never reported is listed in [`RunSummary::unjudged`] (the run is
/// incomplete). With [`RunOptions::handle_signals`], SIGINT or SIGTERM stops the run:
/// no case starts any more, the cases in flight are killed with their process groups
/// and reaped, and the summary (marked interrupted) goes to the reporters; a second
/// signal kills every process group and exits at once.
pub fn run(
    plan: &Plan,
    mut cfg: RunConfig,
    options: &RunOptions,
    reporters: &mut [Box<dyn Reporter>],
) -> Result<RunSummary, PipelineError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(PipelineError::Runtime)?;
    let (started_at, started) = (SystemTime::now(), Instant::now());
    let emit = |reporters: &mut [Box<dyn Reporter>], e: &Event<'_>| reporters.iter_mut().try_for_each(|r| r.on(e));
    emit(reporters, &Event::RunStarted { client: &options.label, cases: plan.cases.len() })
        .map_err(PipelineError::Report)?;
    let (stop_tx, stop) = Stop::channel();
    cfg.stop = stop;
    let signal = Arc::new(AtomicI32::new(0));
    if options.handle_signals {
        let (signal, stop_tx) = (signal.clone(), stop_tx);
        rt.spawn(async move { watch_signals(stop_tx, &signal).await });
    }
    let mut grader = Grader::new(options.strict, cfg.baseline());
    let total = plan.cases.len();
    let key = |i: usize| {
        let c = &plan.cases[i];
        CaseKey { index: i, total, scenario: &c.compiled.id, transport: c.transport, revision: c.revision }
    };
    let mut reports: Vec<CaseReport> = Vec::with_capacity(total);
    let mut unjudged: Vec<Unjudged> = Vec::new();
    let mut report_error: Option<std::io::Error> = None;
    rt.block_on(async {
        let cfg = Arc::new(cfg);
        let jobs = options.jobs;
        let adaptive = matches!(jobs, Jobs::Adaptive { .. });
        let mut meter = admission::Smoothed::default();
        let mut tick = tokio::time::interval(admission::TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tasks = tokio::task::JoinSet::new();
        let mut index_of = HashMap::new();
        // Longest likely wait first, so a run does not end waiting on a long case it
        // started last: the cases start here, one after the other, in this order;
        // reports still come in plan order.
        let claims = cfg.client.claims();
        let mut order: Vec<usize> = (0..total).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(plan.cases[i].likely_wait(&claims)));
        let mut queue = order.into_iter().peekable();
        // Finished cases wait here for the ones planned before them.
        let mut done: BTreeMap<usize, Finished> = BTreeMap::new();
        let mut next = 0;
        loop {
            // Start what may start: below the floor at once, above it on idle CPU.
            let mut start = |i: usize, tasks: &mut tokio::task::JoinSet<_>| {
                if let Err(e) = emit(reporters, &Event::CaseStarted(key(i))) {
                    report_error.get_or_insert(e);
                }
                let (cfg, case) = (cfg.clone(), plan.cases[i].clone());
                let handle = tasks.spawn(async move {
                    let run = if cfg.stop.is_set() {
                        Err(RunError::Stopped)
                    } else {
                        run_case(&case.compiled, case.transport, case.revision, &cfg).await
                    };
                    (i, run)
                });
                index_of.insert(handle.id(), i);
            };
            if cfg.stop.is_set() {
                // Stopped: nothing starts any more.
                done.extend(queue.by_ref().map(|i| (i, Finished::Stopped)));
            }
            while queue.peek().is_some() && admission::starts_now(jobs, tasks.len()) {
                let i = queue.next().expect("peeked");
                start(i, &mut tasks);
            }
            tokio::select! {
                biased;
                Some(joined) = tasks.join_next_with_id() => {
                    match joined {
                        Ok((_, (i, Ok(run)))) => done.insert(i, Finished::Ran(Box::new(run))),
                        Ok((_, (i, Err(RunError::Stopped)))) => done.insert(i, Finished::Stopped),
                        Ok((_, (i, Err(e)))) => done.insert(i, Finished::Unjudged(crate::error_chain(&e))),
                        Err(e) => {
                            let Some(&i) = index_of.get(&e.id()) else { continue };
                            let why = if e.is_panic() {
                                format!("the case panicked: {}", panic_message(e.into_panic()))
                            } else {
                                "the case's task was cancelled".to_owned()
                            };
                            done.insert(i, Finished::Unjudged(why))
                        }
                    };
                }
                _ = tick.tick(), if adaptive && queue.peek().is_some() => {
                    if admission::starts_on_idle(jobs, tasks.len(), meter.idle_cores()) && !cfg.stop.is_set() {
                        let i = queue.next().expect("peeked");
                        start(i, &mut tasks);
                    }
                }
                else => break,
            }
            while let Some(finished) = done.remove(&next) {
                match finished {
                    Finished::Ran(mut run) => {
                        run.record.plan_index = plan.cases[next].index;
                        let report = grader.grade(&plan.cases[next].compiled, *run);
                        if let Err(e) = emit(reporters, &Event::CaseFinished(key(next), &report)) {
                            report_error.get_or_insert(e);
                        }
                        reports.push(report);
                    }
                    Finished::Unjudged(why) => {
                        unjudged.push(plan.cases[next].unjudged(why));
                    }
                    Finished::Stopped => {}
                }
                next += 1;
            }
        }
        // Whatever never came back is lost: name it.
        for (i, finished) in std::mem::take(&mut done) {
            if let Finished::Unjudged(why) = finished {
                unjudged.push(plan.cases[i].unjudged(why));
            }
        }
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    if let Some(e) = report_error {
        return Err(PipelineError::Report(e));
    }
    let interrupted = Some(signal.load(Ordering::SeqCst)).filter(|s| *s != 0);
    if interrupted.is_none() {
        let reported: std::collections::BTreeSet<String> =
            reports.iter().map(CaseReport::label).chain(unjudged.iter().map(|u| u.case.clone())).collect();
        for case in &plan.cases {
            if !reported.contains(&case.label()) {
                unjudged.push(case.unjudged("planned, and never reported".to_owned()));
            }
        }
    }
    let used = grader.finish();
    let summary = RunSummary {
        client: options.label.clone(),
        strict: options.strict,
        planned: plan.cases.len(),
        reports,
        stale: used.stale,
        unused: used.unused,
        elapsed: started.elapsed(),
        started_at,
        unjudged,
        interrupted,
        plan: plan.info.clone(),
        baseline_used: used.used,
    };
    emit(reporters, &Event::RunFinished(&summary)).map_err(PipelineError::Report)?;
    Ok(summary)
}

/// How one planned case came back.
enum Finished {
    Ran(Box<crate::outcome::CaseRun>),
    Unjudged(String),
    Stopped,
}

/// The text of a panic payload.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// The first SIGINT or SIGTERM stops the run; the second kills every case's process
/// group and exits with 128 + the signal.
async fn watch_signals(stop: tokio::sync::watch::Sender<bool>, signal: &AtomicI32) {
    use tokio::signal::unix::{SignalKind, signal as on};
    let (Ok(mut int), Ok(mut term)) = (on(SignalKind::interrupt()), on(SignalKind::terminate())) else { return };
    let next = async |int: &mut tokio::signal::unix::Signal, term: &mut tokio::signal::unix::Signal| {
        tokio::select! {
            _ = int.recv() => 2,
            _ = term.recv() => 15,
        }
    };
    let first = next(&mut int, &mut term).await;
    signal.store(first, Ordering::SeqCst);
    let _ = stop.send(true);
    eprintln!(
        "\nbackchannel: {} received: stopping — no new case starts, running ones are killed (again to end at once)",
        if first == 2 { "SIGINT" } else { "SIGTERM" }
    );
    let second = next(&mut int, &mut term).await;
    crate::runner::process::kill_all_groups();
    std::process::exit(128 + second);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_ids() {
        assert!(glob_matches("sampling/*", "sampling/undeclared"));
        assert!(glob_matches("*/undeclared", "roots/undeclared"));
        assert!(glob_matches("*", "x/y"));
        assert!(glob_matches("ids/*-*", "ids/large-integers"));
        assert!(glob_matches("roots/undeclared", "roots/undeclared"));
        assert!(!glob_matches("roots/*", "sampling/undeclared"));
        assert!(!glob_matches("a*a", "a"));
        assert!(!glob_matches("roots/undeclared", "roots/undeclared-2"));
    }

    #[test]
    fn shards_parse() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err() && parse_shard("5/4").is_err() && parse_shard("x").is_err());
    }

    fn scenario(id: &str, text: &str) -> Compiled {
        let path = std::path::PathBuf::from(format!("scenarios/{id}.yaml"));
        crate::scenario::compile(&path, crate::scenario::parse(&path, text).unwrap())
    }

    #[test]
    fn plans_partition_into_shards_and_say_why_they_are_empty() {
        let scenarios = [
            scenario("a/one", "title: t\nsteps: []\n"),
            scenario("a/two", "title: t\nrevisions: [2026-07-28]\ntransports: [stdio]\nsteps: []\n"),
        ];
        let all = Plan::new(&scenarios, &Selection::default(), &ClientSpec::Reference).unwrap();
        // 2024-11-05: stdio, sse; the next three: stdio, http, sse; 2026-07-28: stdio.
        assert_eq!(all.cases.len(), 2 + 3 * 3 + 1);
        let mut seen: Vec<String> = (1..=3)
            .flat_map(|k| {
                let s = Selection { shard: Some((k, 3)), ..Selection::default() };
                Plan::new(&scenarios, &s, &ClientSpec::Reference).unwrap().cases.into_iter().map(|c| c.label())
            })
            .collect();
        seen.sort();
        let mut expected: Vec<String> = all.cases.iter().map(PlannedCase::label).collect();
        expected.sort();
        assert_eq!(seen, expected);
        let modern_http = Selection {
            transports: Some(vec![Transport::Http]),
            revisions: RevisionFilter::One(Revision::V2026_07_28),
            ..Selection::default()
        };
        let why = Plan::new(&scenarios, &modern_http, &ClientSpec::Reference).unwrap_err().to_string();
        assert!(why.contains("2026-07-28"), "{why}");
        let nothing = Selection { filters: vec!["zzz/*".into()], ..Selection::default() };
        assert!(Plan::new(&scenarios, &nothing, &ClientSpec::Reference).unwrap_err().0.contains("matches no scenario"));
    }

    #[test]
    fn a_named_suite_selects_its_scenarios() {
        let scenarios = [
            scenario("ping/empty-result", "title: t\ntransports: [stdio]\nrevisions: [2025-11-25]\nsteps: []\n"),
            scenario("ping/other", "title: t\ntransports: [stdio]\nrevisions: [2025-11-25]\nsteps: []\n"),
        ];
        let suite =
            Selection { filters: vec![crate::scenario::BACK_CHANNEL_SUITE_NAME.into()], ..Selection::default() };
        let plan = Plan::new(&scenarios, &suite, &ClientSpec::Reference).unwrap();
        let ids: Vec<&str> = plan.cases.iter().map(|c| c.compiled.id.as_str()).collect();
        assert_eq!(ids, ["ping/empty-result"]);
    }

    #[test]
    fn the_longest_likely_wait_is_the_one_this_client_may_not_cut_short() {
        let roots = "title: t\nclient:\n  roots: [{uri: 'file:///a'}]\n  roots_change: {after_ms: 50, roots: [{uri: 'file:///b'}]}\nsteps:\n  - await_notification: {method: notifications/roots/list_changed, within_ms: 3000}\n";
        let plain = "title: t\nrevisions: [2025-11-25, 2026-07-28]\ntransports: [stdio]\nsteps: []\n";
        let scenarios = [scenario("a/plain", plain), scenario("a/roots", roots)];
        let plan = Plan::new(&scenarios, &Selection::default(), &ClientSpec::Reference).unwrap();
        let wait = |id: &str, rev: Revision, claims: &Knobs| {
            let case = plan.cases.iter().find(|c| c.compiled.id == id && c.revision == rev).unwrap();
            case.likely_wait(claims).as_millis()
        };
        let (all, none): (Knobs, Knobs) = (Knob::ALL.into_iter().collect(), Knobs::default());
        // A client that takes up every knob announces the change: nothing certain to wait.
        assert_eq!(wait("a/roots", Revision::V2025_11_25, &all), 0);
        // One that may not waits the notification's window out.
        assert_eq!(wait("a/roots", Revision::V2025_11_25, &none), 3000);
        // At 2026-07-28, one that does not claim to speak it waits for the timeout.
        assert_eq!(wait("a/plain", Revision::V2026_07_28, &none), 15_000);
        assert_eq!(wait("a/plain", Revision::V2026_07_28, &all), 0);
    }
}
