//! What a check returns: an outcome, a severity, the rule, and the evidence.

use std::fmt;

use serde::Serialize;

use crate::scenario::SpecRef;
use crate::scenario::model::Severity;

/// What evaluation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The expectation holds.
    Pass,
    /// The expectation is violated.
    Violated,
    /// The expectation does not apply (precondition unmet, nothing to judge).
    Skipped,
}

/// The verdict a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Holds.
    Pass,
    /// Not applicable.
    Skip,
    /// A known failure: listed in the client's baseline.
    #[serde(rename = "XFAIL")]
    Known,
    /// A SHOULD is violated.
    Warn,
    /// A MUST is violated (or a SHOULD under `--strict`).
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Pass => "PASS",
            Self::Skip => "SKIP",
            Self::Known => "XFAIL",
            Self::Warn => "WARN",
            Self::Fail => "FAIL",
        })
    }
}

/// Why a verdict is what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// One line.
    pub summary: String,
    /// What was expected, when that is not obvious from the summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The trace frame that decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    /// The log line that decided it (`stderr:12`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_line: Option<String>,
}

impl Evidence {
    /// Evidence with just a summary.
    pub fn new(summary: impl Into<String>) -> Self {
        Self { summary: summary.into(), ..Self::default() }
    }

    /// Attach the deciding frame.
    pub fn at_frame(mut self, seq: u64) -> Self {
        self.frame = Some(seq);
        self
    }

    /// Attach expected and actual.
    pub fn diff(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }
}

/// The result of one check in one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Stable id: `<scenario>:<check>`.
    pub id: String,
    /// The check part of the id (`sampling/createMessage.error-code`).
    pub check: String,
    /// How much a violation weighs.
    pub severity: Severity,
    /// The rule enforced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecRef>,
    /// What evaluation found.
    pub outcome: Outcome,
    /// Why.
    pub evidence: Evidence,
    /// The client's baseline lists this check as a known failure, for this reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

impl CheckResult {
    /// The verdict under normal or `--strict` grading, before any baseline.
    pub fn verdict(&self, strict: bool) -> Verdict {
        match (self.outcome, self.severity) {
            (Outcome::Pass, _) => Verdict::Pass,
            (Outcome::Skipped, _) => Verdict::Skip,
            (Outcome::Violated, Severity::Must) => Verdict::Fail,
            (Outcome::Violated, Severity::Should) if strict => Verdict::Fail,
            (Outcome::Violated, Severity::Should) => Verdict::Warn,
        }
    }

    /// The verdict after the client's baseline: a listed FAIL or WARN is XFAIL.
    pub fn final_verdict(&self, strict: bool) -> Verdict {
        match self.verdict(strict) {
            Verdict::Fail | Verdict::Warn if self.known.is_some() => Verdict::Known,
            v => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_fails_only_under_strict() {
        let mut r = CheckResult {
            id: "a:b".into(),
            check: "b".into(),
            severity: Severity::Should,
            spec: None,
            outcome: Outcome::Violated,
            evidence: Evidence::new("x"),
            known: None,
        };
        assert_eq!(r.verdict(false), Verdict::Warn);
        assert_eq!(r.verdict(true), Verdict::Fail);
        r.severity = Severity::Must;
        assert_eq!(r.verdict(false), Verdict::Fail);
        r.known = Some("reason".into());
        assert_eq!(r.final_verdict(false), Verdict::Known);
        r.outcome = Outcome::Skipped;
        assert_eq!(r.verdict(true), Verdict::Skip);
        assert_eq!(r.final_verdict(true), Verdict::Skip);
    }
}
