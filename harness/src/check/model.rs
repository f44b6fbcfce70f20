//! What a check returns: a [`Finding`] — the check, how much it weighs, the rule it
//! enforces, what evaluation found and the evidence — before any grading.

use serde::Serialize;

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

/// One check's finding in one case, before grading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check (`sampling/createMessage.error-code`); the id adds the scenario.
    pub check: String,
    /// The severity as declared (the grading step lowers it where the case's revision
    /// states the rule as a SHOULD).
    pub severity: Severity,
    /// The rule's key (`None` for a protocol check that did not apply).
    pub rule: Option<String>,
    /// What evaluation found.
    pub outcome: Outcome,
    /// Why.
    pub evidence: Evidence,
}
