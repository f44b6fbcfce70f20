//! What a check returns: a [`Finding`] — the check, how much it weighs, the rule it
//! enforces, what evaluation found and the evidence — before any grading.

use serde::Serialize;

use crate::scenario::model::Severity;

/// What evaluation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The expectation holds.
    Pass,
    /// The expectation is violated.
    Violated,
    /// Nothing to judge (the request was never sent, no answer came to judge).
    Skipped,
    /// The scenario exercises something the client may legitimately not implement,
    /// and it does not take it up (it does not declare roots, never calls the tool,
    /// does not speak 2026-07-28, declares what the scenario is not about).
    NotApplicable,
    /// The evidence cannot decide it (e.g. the client's output hit its capture cap
    /// before anything was found): the case cannot be judged, and the run is incomplete.
    Inconclusive,
}

/// Why a verdict is what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Evidence {
    /// One line.
    #[serde(default)]
    pub summary: String,
    /// What was expected, when that is not obvious from the summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The trace frame that decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    /// The log line that decided it (`stderr:12`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_carries_its_frame_and_diff() {
        let e = Evidence::new("s").at_frame(3).diff("a", "b");
        assert_eq!((e.frame, e.expected.as_deref(), e.actual.as_deref()), (Some(3), Some("a"), Some("b")));
        let v = serde_json::to_value(&e).unwrap();
        assert!(v.get("log_line").is_none(), "absent evidence is not serialized");
        assert_eq!(serde_json::to_value(Outcome::NotApplicable).unwrap(), "not_applicable");
    }
}
