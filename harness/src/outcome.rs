//! The finished run: graded checks, case reports, the run's totals and its outcome.
//!
//! Checks return ungraded [`Finding`]s. One grading step ([`Grader`]) turns a case's
//! findings into [`CheckResult`]s: it resolves each rule as the case's revision states
//! it (a MUST expectation on a rule that revision states as SHOULD is graded SHOULD),
//! applies strictness, and marks what the client's baseline lists. Nothing after it
//! recomputes a verdict: reporters read [`CheckResult::verdict`] and
//! [`CheckResult::final_verdict`], and the exit code comes from
//! [`RunSummary::outcome`] alone.

use std::fmt;
use std::time::{Duration, SystemTime};

use backchannel_mock::trace::Trace;
use backchannel_protocol::{Revision, Transport};
use serde::Serialize;

use crate::baseline::Baseline;
use crate::check::{Evidence, Finding, Outcome};
use crate::logs::LogLine;
use crate::scenario::model::{Severity, SpecLevel};
use crate::scenario::{Compiled, SpecRef};

/// The verdict a person reads, least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum Verdict {
    /// Holds.
    #[serde(rename = "PASS")]
    Pass,
    /// Not applicable: the scenario exercises something the client may legitimately
    /// not implement, and it does not take it up. Never fails a run.
    #[serde(rename = "N/A")]
    NotApplicable,
    /// Nothing to judge.
    #[serde(rename = "SKIP")]
    Skip,
    /// Advice not followed: shown, never a failure (also under `--strict`).
    #[serde(rename = "NOTE")]
    Note,
    /// A known failure: listed in the client's baseline.
    #[serde(rename = "XFAIL")]
    Known,
    /// A SHOULD is violated.
    #[serde(rename = "WARN")]
    Warn,
    /// The evidence cannot decide it (e.g. output past the capture cap): the run is
    /// incomplete.
    #[serde(rename = "INCONCLUSIVE")]
    Inconclusive,
    /// A MUST is violated (or a SHOULD under `--strict`).
    #[serde(rename = "FAIL")]
    Fail,
}

impl Verdict {
    /// The word reports print.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::NotApplicable => "N/A",
            Self::Skip => "SKIP",
            Self::Note => "NOTE",
            Self::Known => "XFAIL",
            Self::Warn => "WARN",
            Self::Inconclusive => "INCONCLUSIVE",
            Self::Fail => "FAIL",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The graded result of one check in one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Stable id: `<scenario>:<check>`.
    pub id: String,
    /// The check part of the id (`sampling/createMessage.error-code`).
    pub check: String,
    /// How much a violation weighs at the case's revision.
    pub severity: Severity,
    /// The rule enforced, as the case's revision states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecRef>,
    /// What evaluation found.
    pub outcome: Outcome,
    /// Why.
    pub evidence: Evidence,
    /// The verdict with strictness applied, before the baseline.
    pub verdict: Verdict,
    /// The client's baseline lists this FAIL or WARN as a known failure, for this reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

impl CheckResult {
    /// The verdict after the client's baseline: a listed FAIL or WARN is XFAIL.
    pub fn final_verdict(&self) -> Verdict {
        match self.verdict {
            Verdict::Fail | Verdict::Warn if self.known.is_some() => Verdict::Known,
            v => v,
        }
    }
}

/// The grading rule: the outcome and severity of a check as a verdict, with
/// strictness applied, before the baseline.
pub(crate) fn verdict(outcome: Outcome, severity: Severity, strict: bool) -> Verdict {
    match (outcome, severity) {
        (Outcome::Pass, _) => Verdict::Pass,
        (Outcome::Skipped, _) => Verdict::Skip,
        (Outcome::NotApplicable, _) => Verdict::NotApplicable,
        (Outcome::Inconclusive, _) => Verdict::Inconclusive,
        (Outcome::Violated, Severity::Advice) => Verdict::Note,
        (Outcome::Violated, Severity::Must) => Verdict::Fail,
        (Outcome::Violated, Severity::Should) if strict => Verdict::Fail,
        (Outcome::Violated, Severity::Should) => Verdict::Warn,
    }
}

/// What a case recorded, whatever its checks say.
#[derive(Debug)]
pub struct CaseRecord {
    /// Scenario id.
    pub scenario: String,
    /// The transport it ran on.
    pub transport: Transport,
    /// The protocol revision the mock spoke.
    pub revision: Revision,
    /// Scenario title.
    pub title: String,
    /// Wall time of the case.
    pub duration: Duration,
    /// When it finished (wall clock, for reports).
    pub finished_at: SystemTime,
    /// How the client process ended.
    pub client_status: String,
    /// The last lines of the client's stderr (evidence when it crashed or hung).
    pub stderr_tail: Vec<String>,
    /// The trace, when the mock wrote one.
    pub trace: Option<Trace>,
    /// The client's parsed output.
    pub logs: Vec<LogLine>,
    /// The client's output hit its capture cap (the logs are cut).
    pub output_truncated: bool,
    /// Its position in the unsharded plan (what merging shards orders by).
    pub plan_index: usize,
    /// In gateway mode: what reached the downstream client (and the bystander).
    pub downstream: Option<crate::check::gateway::Delivered>,
}

/// A case that ran: what it recorded, and its checks' findings, before grading.
#[derive(Debug)]
pub struct CaseRun {
    /// What the case recorded.
    pub record: CaseRecord,
    /// The checks' findings.
    pub findings: Vec<Finding>,
}

/// One graded case.
#[derive(Debug)]
pub struct CaseReport {
    /// What the case recorded.
    pub record: CaseRecord,
    /// Every check's graded result.
    pub checks: Vec<CheckResult>,
}

impl CaseReport {
    /// The worst verdict among the checks, after the baseline.
    pub fn worst(&self) -> Verdict {
        self.checks.iter().map(CheckResult::final_verdict).max().unwrap_or(Verdict::Pass)
    }

    /// `<scenario> [<transport> <revision>]`.
    pub fn label(&self) -> String {
        format!("{} [{} {}]", self.record.scenario, self.record.transport, self.record.revision)
    }
}

// Counted from a run's cases and its stale baseline entries, never stored beside
// them: `RunSummary::totals`. (The doc comment below is the report schema's.)
/// Counts of final verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Totals {
    /// Cases run.
    pub cases: usize,
    /// Checks evaluated.
    pub checks: usize,
    /// PASS.
    pub passed: usize,
    /// FAIL.
    pub failed: usize,
    /// WARN.
    pub warned: usize,
    /// SKIP.
    pub skipped: usize,
    /// N/A: what the client legitimately does not implement.
    #[serde(default)]
    pub not_applicable: usize,
    /// NOTE: advice not followed.
    #[serde(default)]
    pub notes: usize,
    /// INCONCLUSIVE: checks the evidence cannot decide.
    #[serde(default)]
    pub inconclusive: usize,
    /// XFAIL: failures the client's baseline lists.
    pub known: usize,
    /// Baseline entries the client now passes.
    pub stale: usize,
}

impl Totals {
    /// The counts every summary leads with, in order, with their names: cases,
    /// checks, passed, failed, warned, skipped, not applicable.
    pub fn leading(&self) -> [(usize, &'static str); 7] {
        [
            (self.cases, "cases"),
            (self.checks, "checks"),
            (self.passed, "passed"),
            (self.failed, "failed"),
            (self.warned, "warned"),
            (self.skipped, "skipped"),
            (self.not_applicable, "not applicable"),
        ]
    }

    /// The counts of these cases, and of these stale baseline entries.
    fn of(cases: &[CaseReport], stale: &[String]) -> Self {
        let mut t = Self { stale: stale.len(), ..Self::default() };
        for case in cases {
            t.cases += 1;
            for c in &case.checks {
                t.checks += 1;
                match c.final_verdict() {
                    Verdict::Pass => t.passed += 1,
                    Verdict::Fail => t.failed += 1,
                    Verdict::Warn => t.warned += 1,
                    Verdict::Skip => t.skipped += 1,
                    Verdict::NotApplicable => t.not_applicable += 1,
                    Verdict::Note => t.notes += 1,
                    Verdict::Inconclusive => t.inconclusive += 1,
                    Verdict::Known => t.known += 1,
                }
            }
        }
        t
    }
}

/// How a run ended, and what `backchannel run` exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// No FAIL and no stale baseline entry (WARN, SKIP, N/A, NOTE and XFAIL allowed).
    Pass,
    /// At least one FAIL, or a stale baseline entry.
    Fail,
    /// A planned case was not judged: it could not start, its task panicked, it was
    /// never reported, or a check could not be decided. Never PASS.
    Incomplete,
    /// The run was stopped by this signal (SIGINT 2, SIGTERM 15).
    Interrupted(i32),
}

impl RunOutcome {
    /// The exit code: 0 pass, 1 fail, 2 incomplete, 128 + the signal when interrupted.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Pass => 0,
            Self::Fail => 1,
            Self::Incomplete => 2,
            Self::Interrupted(signal) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        }
    }

    /// The word the summary line starts with.
    pub fn word(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Incomplete => "INCOMPLETE",
            Self::Interrupted(_) => "INTERRUPTED",
        }
    }
}

/// A planned case that was not judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Unjudged {
    /// `<scenario> [<transport> <revision>]`.
    pub case: String,
    /// Why.
    pub why: String,
    /// Its position in the unsharded plan.
    #[serde(default)]
    pub plan_index: usize,
}

/// Which part of the plan a run covered, and what the plan was made of: what
/// `backchannel report merge` needs to put shards back together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PlanInfo {
    /// Cases in the whole (unsharded) plan.
    pub cases: usize,
    /// The shard this run covered, `[K, N]` (1-based), if sharded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<(usize, usize)>,
    /// SHA-256 of the scenarios the run was given (their ids and sources): runs of
    /// different scenario sets, or of other versions of them, differ here.
    pub scenarios: String,
    /// SHA-256 of the scenarios and of the whole plan's case list: runs of
    /// different selections (transports, revisions, filters, client) differ here.
    pub digest: String,
}

/// The end of a run: what every reporter writes from.
#[derive(Debug)]
pub struct RunSummary {
    /// Who was under test.
    pub client: String,
    /// Whether SHOULD violations were graded FAIL.
    pub strict: bool,
    /// How many cases were planned.
    pub planned: usize,
    /// The graded cases, in plan order.
    pub reports: Vec<CaseReport>,
    /// Baseline entries the client now passes.
    pub stale: Vec<String>,
    /// Baseline entries that matched no judged check (none, or only N/A, SKIP or undecided ones).
    pub unused: Vec<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// When the run started.
    pub started_at: SystemTime,
    /// Planned cases that were not judged (could not start, panicked, never reported).
    pub unjudged: Vec<Unjudged>,
    /// The signal that stopped the run early, if one did.
    pub interrupted: Option<i32>,
    /// The plan this run covered (all of it, or one shard).
    pub plan: PlanInfo,
    /// Baseline entries that turned some FAIL or WARN into XFAIL in this run.
    pub baseline_used: Vec<String>,
}

impl RunSummary {
    /// Verdict counts of the graded cases, and the stale baseline entries.
    pub fn totals(&self) -> Totals {
        Totals::of(&self.reports, &self.stale)
    }

    /// How the run ended: interrupted, then incomplete, then fail, then pass.
    pub fn outcome(&self) -> RunOutcome {
        let totals = self.totals();
        if let Some(signal) = self.interrupted {
            RunOutcome::Interrupted(signal)
        } else if !self.unjudged.is_empty() || totals.inconclusive > 0 {
            RunOutcome::Incomplete
        } else if totals.failed > 0 || !self.stale.is_empty() {
            RunOutcome::Fail
        } else {
            RunOutcome::Pass
        }
    }
}

/// What applying a baseline to a whole run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineUse {
    /// Entries whose checks all passed: the client no longer fails them.
    pub stale: Vec<String>,
    /// Entries that matched no judged check in this run (none, or only N/A, SKIP or undecided ones).
    pub unused: Vec<String>,
    /// Entries that turned a FAIL or WARN into XFAIL.
    pub used: Vec<String>,
}

/// The one grading step: findings → graded checks, with the case's revision, the
/// run's strictness and the client's baseline. A run grades each case as it
/// finishes; [`Grader::finish`] then tells which baseline entries went stale.
#[derive(Debug)]
pub struct Grader {
    strict: bool,
    baseline: Baseline,
    /// Per baseline entry: (checks matched, checks that failed).
    hits: Vec<(usize, usize)>,
}

impl Grader {
    /// A grader for one run.
    pub fn new(strict: bool, baseline: Baseline) -> Self {
        let hits = vec![(0, 0); baseline.len()];
        Self { strict, baseline, hits }
    }

    /// Grade one case.
    pub fn grade(&mut self, compiled: &Compiled, run: CaseRun) -> CaseReport {
        let CaseRun { record, findings } = run;
        let checks = findings
            .into_iter()
            .map(|f| {
                let id = format!("{}:{}", record.scenario, f.check);
                self.grade_one(compiled, &record, id, f)
            })
            .collect();
        CaseReport { record, checks }
    }

    fn grade_one(&mut self, compiled: &Compiled, record: &CaseRecord, id: String, f: Finding) -> CheckResult {
        let spec = f.rule.as_deref().and_then(|key| compiled.rule(key, record.revision));
        // A rule the case's revision states as SHOULD is graded SHOULD there (advice stays advice).
        let severity = match (&spec, f.severity) {
            (_, Severity::Advice) => Severity::Advice,
            (Some(s), _) if s.level == SpecLevel::Should => Severity::Should,
            _ => f.severity,
        };
        let verdict = verdict(f.outcome, severity, self.strict);
        let mut known = None;
        // Only a judged check can show an entry stale: one that was N/A, skipped or
        // undecided here says nothing about whether the client still fails it.
        let judged = !matches!(verdict, Verdict::NotApplicable | Verdict::Skip | Verdict::Inconclusive);
        for i in self.baseline.matching(&id, record.transport, record.revision) {
            self.hits[i].0 += usize::from(judged);
            if matches!(verdict, Verdict::Fail | Verdict::Warn) {
                self.hits[i].1 += 1;
                known.get_or_insert_with(|| self.baseline.reason(i).to_owned());
            }
        }
        CheckResult { id, check: f.check, severity, spec, outcome: f.outcome, evidence: f.evidence, verdict, known }
    }

    /// Which baseline entries went stale or matched nothing.
    pub fn finish(self) -> BaselineUse {
        let mut used = BaselineUse::default();
        for (i, (matched, failing)) in self.hits.into_iter().enumerate() {
            match (matched, failing) {
                (0, _) => used.unused.push(self.baseline.pattern(i).to_owned()),
                (_, 0) => used.stale.push(self.baseline.pattern(i).to_owned()),
                _ => used.used.push(self.baseline.pattern(i).to_owned()),
            }
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_never_fails_and_not_applicable_is_its_own_verdict() {
        assert_eq!(verdict(Outcome::Violated, Severity::Advice, true), Verdict::Note);
        assert_eq!(verdict(Outcome::NotApplicable, Severity::Must, true), Verdict::NotApplicable);
        assert_eq!(verdict(Outcome::Inconclusive, Severity::Should, false), Verdict::Inconclusive);
        assert!(Verdict::Inconclusive < Verdict::Fail && Verdict::Warn < Verdict::Inconclusive);
        assert_eq!(RunOutcome::Interrupted(15).exit_code(), 143);
        assert_eq!(RunOutcome::Interrupted(2).exit_code(), 130);
        assert_eq!(RunOutcome::Incomplete.exit_code(), 2);
    }

    fn run_at(revision: Revision, findings: Vec<Finding>) -> CaseRun {
        CaseRun {
            record: CaseRecord {
                scenario: "t/case".into(),
                transport: Transport::Stdio,
                revision,
                title: "t".into(),
                duration: Duration::ZERO,
                finished_at: SystemTime::UNIX_EPOCH,
                client_status: "exited 0".into(),
                stderr_tail: Vec::new(),
                trace: None,
                logs: Vec::new(),
                output_truncated: false,
                plan_index: 0,
                downstream: None,
            },
            findings,
        }
    }

    fn violated(check: &str, severity: Severity, rule: &str) -> Finding {
        Finding {
            check: check.into(),
            severity,
            rule: Some(rule.into()),
            outcome: Outcome::Violated,
            evidence: Evidence::new("x"),
        }
    }

    #[test]
    fn a_rule_is_graded_as_the_case_revision_states_it() {
        let path = std::path::Path::new("scenarios/t/case.yaml");
        let c = crate::scenario::compile(path, crate::scenario::parse(path, "title: t\nsteps: []\n").unwrap());
        let honest = || vec![violated("capabilities.honest", Severity::Must, "lifecycle/negotiated-capabilities")];
        let mut g = Grader::new(false, Baseline::default());
        let old = g.grade(&c, run_at(Revision::V2024_11_05, honest()));
        assert_eq!((old.checks[0].severity, old.checks[0].verdict), (Severity::Should, Verdict::Warn));
        let new = g.grade(&c, run_at(Revision::V2025_11_25, honest()));
        assert_eq!((new.checks[0].severity, new.checks[0].verdict), (Severity::Must, Verdict::Fail));
        assert_eq!(new.checks[0].id, "t/case:capabilities.honest");
        assert_eq!(new.checks[0].spec.as_ref().map(|s| s.source.to_string()).as_deref(), Some("MCP 2025-11-25"));
        // Strictness once, in the grader; advice stays advice.
        let mut strict = Grader::new(true, Baseline::default());
        let advice = vec![violated("logs.canary-at-debug", Severity::Advice, "policy/params-at-debug")];
        assert_eq!(strict.grade(&c, run_at(Revision::V2024_11_05, honest())).checks[0].verdict, Verdict::Fail);
        assert_eq!(strict.grade(&c, run_at(Revision::V2025_11_25, advice)).checks[0].verdict, Verdict::Note);
    }

    #[test]
    fn the_baseline_marks_failures_and_finds_stale_and_unused_entries() {
        let path = std::path::Path::new("scenarios/t/case.yaml");
        let c = crate::scenario::compile(path, crate::scenario::parse(path, "title: t\nsteps: []\n").unwrap());
        let baseline = Baseline::new(vec![
            crate::baseline::Entry { check: "t/case:a".into(), reason: "known".into() },
            crate::baseline::Entry { check: "t/case:b".into(), reason: "fixed now".into() },
            crate::baseline::Entry { check: "t/other:*".into(), reason: "nothing".into() },
            crate::baseline::Entry { check: "t/case:c".into(), reason: "not judged here".into() },
        ])
        .unwrap();
        let mut g = Grader::new(false, baseline);
        let pass = Finding { outcome: Outcome::Pass, ..violated("b", Severity::Must, "jsonrpc/response-required") };
        // An entry whose every match is N/A here (a revision the client does not
        // speak) is unused, not stale: nothing shows the client passes it now.
        let na =
            Finding { outcome: Outcome::NotApplicable, ..violated("c", Severity::Must, "jsonrpc/response-required") };
        let r = g.grade(
            &c,
            run_at(Revision::V2025_11_25, vec![violated("a", Severity::Must, "jsonrpc/response-required"), pass, na]),
        );
        assert_eq!(r.checks[0].final_verdict(), Verdict::Known);
        assert_eq!(r.checks[0].known.as_deref(), Some("known"));
        let used = g.finish();
        assert_eq!(used.stale, ["t/case:b"]);
        assert_eq!(used.unused, ["t/other:*", "t/case:c"]);
    }

    #[test]
    fn should_fails_only_under_strict_and_the_baseline_excuses() {
        assert_eq!(verdict(Outcome::Violated, Severity::Should, false), Verdict::Warn);
        assert_eq!(verdict(Outcome::Violated, Severity::Should, true), Verdict::Fail);
        assert_eq!(verdict(Outcome::Violated, Severity::Must, false), Verdict::Fail);
        assert_eq!(verdict(Outcome::Skipped, Severity::Must, true), Verdict::Skip);
        let mut r = CheckResult {
            id: "a:b".into(),
            check: "b".into(),
            severity: Severity::Must,
            spec: None,
            outcome: Outcome::Violated,
            evidence: Evidence::new("x"),
            verdict: Verdict::Fail,
            known: Some("reason".into()),
        };
        assert_eq!(r.final_verdict(), Verdict::Known);
        r.verdict = Verdict::Pass;
        assert_eq!(r.final_verdict(), Verdict::Pass);
    }
}
