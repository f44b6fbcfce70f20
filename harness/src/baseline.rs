//! Baselines: check ids a client is known to fail, each with a reason. A FAIL or
//! WARN matched by an entry is reported as XFAIL and does not fail the run; an
//! entry that matches checks which all pass is *stale* and fails the run, so a
//! baseline can only shrink as the client improves.
//!
//! An entry's `check` is `<scenario>:<check>`, optionally qualified by transport
//! and/or revision (`<scenario>@http:<check>`, `<scenario>@2025-06-18:<check>`,
//! `<scenario>@http@2025-06-18:<check>`); `*` matches any run of characters
//! (`*:logs.warning-per-request`).

use regex::Regex;
use serde::Deserialize;

use crate::check::{CheckResult, Verdict};
use crate::runner::CaseReport;

/// One known failure.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The check id pattern.
    pub check: String,
    /// Why the client fails it.
    pub reason: String,
}

/// A compiled baseline.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    entries: Vec<(Entry, Regex)>,
}

/// What applying a baseline found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Entries whose checks all passed: the client no longer fails them.
    pub stale: Vec<String>,
    /// Entries that matched no check in this run.
    pub unused: Vec<String>,
}

impl Baseline {
    /// Compile entries; an invalid pattern is an error naming it.
    pub fn new(entries: Vec<Entry>) -> Result<Self, String> {
        let entries = entries
            .into_iter()
            .map(|e| {
                let pattern = format!("^{}$", regex::escape(&e.check).replace("\\*", ".*"));
                Regex::new(&pattern)
                    .map(|re| (e.clone(), re))
                    .map_err(|err| format!("baseline entry `{}`: {err}", e.check))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Mark the checks of `reports` that entries match, and report stale and unused entries.
    pub fn apply(&self, reports: &mut [CaseReport], strict: bool) -> Applied {
        let mut hits = vec![(0usize, 0usize); self.entries.len()]; // (matched, failing)
        for report in reports.iter_mut() {
            let (transport, revision) = (report.transport.as_str(), report.revision.as_str());
            for check in &mut report.checks {
                let forms = [
                    check.id.clone(),
                    qualified_id(check, transport),
                    qualified_id(check, revision),
                    qualified_id(check, &format!("{transport}@{revision}")),
                ];
                for (i, (entry, re)) in self.entries.iter().enumerate() {
                    if forms.iter().any(|f| re.is_match(f)) {
                        hits[i].0 += 1;
                        if matches!(check.verdict(strict), Verdict::Fail | Verdict::Warn) {
                            hits[i].1 += 1;
                            check.known = Some(entry.reason.clone());
                        }
                    }
                }
            }
        }
        let mut applied = Applied::default();
        for ((entry, _), (matched, failing)) in self.entries.iter().zip(hits) {
            match (matched, failing) {
                (0, _) => applied.unused.push(entry.check.clone()),
                (_, 0) => applied.stale.push(entry.check.clone()),
                _ => {}
            }
        }
        applied
    }
}

/// `<scenario>@<qualifier>:<check>`.
fn qualified_id(check: &CheckResult, transport: &str) -> String {
    match check.id.split_once(':') {
        Some((scenario, rest)) => format!("{scenario}@{transport}:{rest}"),
        None => check.id.clone(),
    }
}
