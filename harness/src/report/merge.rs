//! `backchannel report merge`: the JSON reports of the shards of one run (or of
//! several clients' runs) combined into the runs they came from, from which every
//! reporter writes as if the run had been one.
//!
//! Reports are refused, with the file named, when they were written by another
//! backchannel version or format version, from another set of scenarios, or when two
//! of them cover the same part of a client's plan. Shards of one client must come
//! from the same selection (the same plan digest); a shard that is missing makes the
//! merged run incomplete, never PASS.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::json::{FORMAT, JsonCase, JsonCheck, JsonReport, JsonRun, VERSION};
use crate::check::{Evidence, Outcome};
use crate::outcome::{CaseRecord, CaseReport, CheckResult, PlanInfo, RunSummary, Unjudged, Verdict};

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not a backchannel JSON report this version reads.
    #[error(
        "{path}: not a backchannel JSON report (format {format:?}, version {version}; this is {FORMAT} version {VERSION}): {why}"
    )]
    NotAReport {
        /// The file.
        path: PathBuf,
        /// Its `format`, if any.
        format: String,
        /// Its `version`, if any.
        version: u32,
        /// What did not parse.
        why: String,
    },
    /// Two files were written by different backchannel versions.
    #[error(
        "{path}: written by backchannel {found}, but {first} was written by {expected}: merge reports of one version"
    )]
    ToolVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: String,
        /// The first file.
        first: PathBuf,
        /// The first file's version.
        expected: String,
    },
    /// Two runs were made from different scenario sets or selections.
    #[error(
        "{path}: {what} differ from {first}'s (digest {found} vs {expected}): merge runs of the same scenarios and selection"
    )]
    Plan {
        /// The file.
        path: PathBuf,
        /// What differs.
        what: String,
        /// Its digest.
        found: String,
        /// The first file.
        first: PathBuf,
        /// The first file's digest.
        expected: String,
    },
    /// Runs of one client that cannot be put together.
    #[error("client {client}: {why}")]
    Runs {
        /// The client.
        client: String,
        /// Why.
        why: String,
    },
    /// No report was given.
    #[error("no report to merge")]
    Empty,
}

/// Read one JSON report.
pub fn read(path: &Path) -> Result<JsonReport, MergeError> {
    let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read { path: path.to_owned(), source })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| MergeError::NotAReport {
        path: path.to_owned(),
        format: String::new(),
        version: 0,
        why: e.to_string(),
    })?;
    let format = value.get("format").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let version = value.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
    let version = u32::try_from(version).unwrap_or(0);
    let not = |why: String| MergeError::NotAReport { path: path.to_owned(), format: format.clone(), version, why };
    if format != FORMAT || version != VERSION {
        return Err(not("unknown format or version".to_owned()));
    }
    serde_json::from_value(value).map_err(|e| not(e.to_string()))
}

/// The runs of one report as they are (one shard stays one shard: nothing is
/// missing from it), for rendering.
pub fn runs_of(path: &Path, report: JsonReport) -> Result<Vec<RunSummary>, MergeError> {
    report.runs.into_iter().map(|run| merge_client(run.client.clone(), vec![(path.to_owned(), run)], false)).collect()
}

/// Merge reports (read with [`read`]) into one run per client, in the order the
/// clients first appear.
pub fn merge(inputs: Vec<(PathBuf, JsonReport)>) -> Result<Vec<RunSummary>, MergeError> {
    let Some((first, first_report)) = inputs.first() else { return Err(MergeError::Empty) };
    let (first, tool) = (first.clone(), first_report.tool.version.clone());
    let scenarios = first_report.runs.first().map(|r| r.plan.scenarios.clone()).unwrap_or_default();
    let mut groups: Vec<(String, Vec<(PathBuf, JsonRun)>)> = Vec::new();
    for (path, report) in inputs {
        if report.tool.version != tool {
            return Err(MergeError::ToolVersion { path, found: report.tool.version, first, expected: tool });
        }
        for run in report.runs {
            if run.plan.scenarios != scenarios {
                return Err(MergeError::Plan {
                    path,
                    what: "its scenarios".to_owned(),
                    found: run.plan.scenarios,
                    first,
                    expected: scenarios,
                });
            }
            match groups.iter_mut().find(|(c, _)| *c == run.client) {
                Some((_, runs)) => runs.push((path.clone(), run)),
                None => groups.push((run.client.clone(), vec![(path.clone(), run)])),
            }
        }
    }
    groups.into_iter().map(|(client, runs)| merge_client(client, runs, true)).collect()
}

/// One client's runs (its shards, or one whole run) as one; `whole`: the shards
/// must make up the whole plan (a missing one is named, and makes the run incomplete).
fn merge_client(client: String, runs: Vec<(PathBuf, JsonRun)>, whole: bool) -> Result<RunSummary, MergeError> {
    let err = |why: String| MergeError::Runs { client: client.clone(), why };
    let (first_path, first) = &runs[0];
    let (plan, strict) = (first.plan.clone(), first.strict);
    let n = match plan.shard {
        _ if !whole => 1,
        Some((_, n)) => n,
        None if runs.len() == 1 => 1,
        None => return Err(err(format!("{} reports, and {} is not a shard", runs.len(), first_path.display()))),
    };
    let mut seen = vec![false; n];
    for (path, run) in &runs {
        if run.plan.digest != plan.digest {
            return Err(MergeError::Plan {
                path: path.clone(),
                what: "its plan (the selection of scenarios, transports and revisions)".to_owned(),
                found: run.plan.digest.clone(),
                first: first_path.clone(),
                expected: plan.digest.clone(),
            });
        }
        if run.strict != strict {
            return Err(err(format!("{} was run with --strict and {} without", first_path.display(), path.display())));
        }
        let k = match run.plan.shard {
            _ if !whole => 1,
            Some((k, m)) if m == n && (1..=n).contains(&k) => k,
            None if n == 1 => 1,
            other => return Err(err(format!("{}: shard {other:?} does not fit shards of {n}", path.display()))),
        };
        if std::mem::replace(&mut seen[k - 1], true) {
            return Err(err(format!("shard {k}/{n} is given twice ({})", path.display())));
        }
    }
    let mut reports = Vec::new();
    let mut unjudged: Vec<Unjudged> = Vec::new();
    let (mut stale, mut used) = (Vec::new(), Vec::new());
    let mut interrupted = None;
    let mut start: Option<SystemTime> = None;
    let mut end: Option<SystemTime> = None;
    for (_, run) in runs {
        let started = parse_time(&run.started_at);
        let finished = started + Duration::from_millis(run.duration_ms);
        start = Some(start.map_or(started, |s| s.min(started)));
        end = Some(end.map_or(finished, |e| e.max(finished)));
        interrupted = interrupted.or(run.interrupted);
        stale.extend(run.stale_baseline);
        used.extend(run.baseline_used);
        unjudged.extend(run.unjudged);
        reports.extend(run.cases.into_iter().map(|c| case(c, strict)));
    }
    for (k, _) in seen.iter().enumerate().filter(|(_, s)| !**s) {
        unjudged.push(Unjudged {
            case: format!("shard {}/{n}", k + 1),
            why: "no report of this shard was given to merge".to_owned(),
            plan_index: usize::MAX,
        });
    }
    reports.sort_by_key(|r: &CaseReport| r.record.plan_index);
    unjudged.sort_by_key(|u| u.plan_index);
    used.sort();
    used.dedup();
    // Stale: passing wherever it matched, in every shard.
    stale.retain(|s| !used.contains(s));
    stale.sort();
    stale.dedup();
    let started_at = start.unwrap_or(SystemTime::UNIX_EPOCH);
    let planned = if whole { plan.cases } else { reports.len() + unjudged.len() };
    Ok(RunSummary {
        client,
        strict,
        planned,
        reports,
        stale,
        unused: Vec::new(),
        elapsed: end.and_then(|e| e.duration_since(started_at).ok()).unwrap_or_default(),
        started_at,
        unjudged,
        interrupted,
        plan: if whole { PlanInfo { shard: None, ..plan } } else { plan },
        baseline_used: used,
    })
}

fn parse_time(s: &str) -> SystemTime {
    chrono::DateTime::parse_from_rfc3339(s).map_or(SystemTime::UNIX_EPOCH, SystemTime::from)
}

fn case(c: JsonCase, strict: bool) -> CaseReport {
    let finished_at = c.checks.first().map_or(SystemTime::UNIX_EPOCH, |k| parse_time(&k.timestamp));
    CaseReport {
        checks: c.checks.into_iter().map(|k| check(k, strict)).collect(),
        record: CaseRecord {
            scenario: c.scenario,
            transport: c.transport,
            revision: c.revision,
            title: c.title,
            duration: Duration::from_millis(c.duration_ms),
            finished_at,
            client_status: c.client_status,
            stderr_tail: c.stderr_tail,
            trace: None,
            logs: Vec::new(),
            output_truncated: false,
            plan_index: c.plan_index,
            downstream: None,
        },
    }
}

/// A check as graded: the final verdict the report holds, the outcome it stands
/// for (an XFAIL, a NOTE, a WARN and a FAIL are violations), and the verdict before
/// the baseline by the grading rule itself ([`outcome::verdict`](crate::outcome::verdict)).
fn check(k: JsonCheck, strict: bool) -> CheckResult {
    let outcome = match k.verdict {
        Verdict::Pass => Outcome::Pass,
        Verdict::Skip => Outcome::Skipped,
        Verdict::NotApplicable => Outcome::NotApplicable,
        Verdict::Inconclusive => Outcome::Inconclusive,
        Verdict::Fail | Verdict::Warn | Verdict::Note | Verdict::Known => Outcome::Violated,
    };
    let verdict = crate::outcome::verdict(outcome, k.severity, strict);
    let evidence = serde_json::from_value::<Evidence>(k.details)
        .unwrap_or_else(|_| Evidence::new(k.error_message.unwrap_or_default()));
    CheckResult {
        id: k.id,
        check: k.name,
        severity: k.severity,
        spec: k.spec,
        outcome,
        evidence,
        verdict,
        known: k.known,
    }
}
