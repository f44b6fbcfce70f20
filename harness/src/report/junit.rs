//! The JUnit XML report (`--report junit=PATH`), written with quick-junit (the
//! nextest writer) in the shape GitHub, GitLab, Jenkins and Buildkite read.
//!
//! - `<testsuites name="backchannel">`: the run (with several clients, one
//!   testsuite per client and area, named `<client>: <area>`);
//! - `<testsuite name="<area>">`: one per scenario area (`sampling`, `roots`…);
//! - `<testcase classname="<scenario>" name="<check> [<transport> <revision>]">`:
//!   one per (scenario, transport, revision, check).
//!
//! N/A is `<skipped>` (its message says why); NOTE is a passing testcase whose
//! `<system-out>` starts with `NOTE:`; INCONCLUSIVE is a `<failure type="INCONCLUSIVE">`;
//! each planned case that was not judged, and an interrupted run, is an `<error>` in
//! a suite `not judged`.
//!
//! FAIL is a `<failure>` whose message is the evidence summary and whose text is
//! the whole evidence (expected, actual, frame, log line, rule and sentence, check
//! id). SKIP is `<skipped>`; XFAIL (a failure the baseline lists) is `<skipped
//! type="xfail">` with the reason, as pytest writes expected failures. WARN is a
//! passing testcase whose `<system-out>` starts with `WARN:` (it is a `<failure>`
//! under `--strict`, where WARN fails the run).

use std::collections::BTreeMap;
use std::path::Path;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::outcome::{CaseReport, CheckResult, RunSummary, Verdict};

/// The evidence of a check as text: what a CI system shows under a failure.
fn evidence_text(c: &CheckResult, redact: &dyn Fn(&str) -> String) -> String {
    let e = &c.evidence;
    let mut out = redact(&e.summary);
    for (label, value) in [("expected", &e.expected), ("actual", &e.actual), ("log", &e.log_line)] {
        if let Some(v) = value {
            out += &format!("\n{label}: {}", redact(v));
        }
    }
    if let Some(f) = e.frame {
        out += &format!("\nframe: #{f} of the trace");
    }
    if let Some(spec) = &c.spec {
        out += &format!("\nrule: {} — \"{}\"", spec.short(), spec.text);
    }
    out += &format!("\nid: {}", c.id);
    out
}

fn testcase(case: &CaseReport, c: &CheckResult, redact: &dyn Fn(&str) -> String) -> TestCase {
    let verdict = c.final_verdict();
    let status = match verdict {
        Verdict::Pass | Verdict::Warn | Verdict::Note => TestCaseStatus::success(),
        Verdict::Fail | Verdict::Inconclusive => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(redact(&c.evidence.summary))
                .set_type(if verdict == Verdict::Inconclusive { "INCONCLUSIVE" } else { c.severity.as_str() })
                .set_description(evidence_text(c, redact));
            s
        }
        Verdict::Skip | Verdict::NotApplicable => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(redact(&c.evidence.summary));
            s
        }
        Verdict::Known => {
            let mut s = TestCaseStatus::skipped();
            s.set_type("xfail")
                .set_message(c.known.clone().unwrap_or_default())
                .set_description(evidence_text(c, redact));
            s
        }
    };
    let r = &case.record;
    let mut t = TestCase::new(format!("{} [{} {}]", c.check, r.transport, r.revision), status);
    t.set_classname(r.scenario.clone());
    if matches!(verdict, Verdict::Warn | Verdict::Note) {
        t.set_system_out(format!("{verdict}: {}", evidence_text(c, redact)));
    }
    if let Some(spec) = &c.spec {
        t.add_property(Property::new("spec", spec.short()));
    }
    t
}

/// The JUnit document for these runs.
pub fn build(runs: &[RunSummary]) -> Report {
    let mut report = Report::new("backchannel");
    if let Some(first) = runs.first() {
        report.set_timestamp(chrono::DateTime::<chrono::Utc>::from(first.started_at).fixed_offset());
    }
    report.set_time(runs.iter().map(|r| r.elapsed).sum());
    for run in runs {
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for case in &run.reports {
            let area = super::area(&case.record.scenario);
            let suite = suites.entry(area).or_insert_with(|| {
                let name = if runs.len() > 1 { format!("{}: {area}", run.client) } else { area.to_owned() };
                let mut s = TestSuite::new(name);
                s.add_property(Property::new("client", run.client.clone()));
                s
            });
            let redact = super::redactor(case);
            for c in &case.checks {
                suite.add_test_case(testcase(case, c, &redact));
            }
            // The case's wall time, on the suite (a check has no time of its own).
            suite.set_time(suite.time.unwrap_or_default() + case.record.duration);
        }
        report.add_test_suites(suites.into_values());
        // Cases that were not judged are errors of their own: a CI reader must see them.
        if !run.unjudged.is_empty() || run.interrupted.is_some() {
            let name = if runs.len() > 1 { format!("{}: not judged", run.client) } else { "not judged".to_owned() };
            let mut suite = TestSuite::new(name);
            for u in &run.unjudged {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(u.why.clone()).set_type("unjudged");
                let mut t = TestCase::new(u.case.clone(), status);
                t.set_classname("backchannel");
                suite.add_test_case(t);
            }
            if let Some(signal) = run.interrupted {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(format!("the run was interrupted by signal {signal}"))
                    .set_type("interrupted")
                    .set_description(format!("{} of {} planned cases ran", run.reports.len(), run.planned));
                let mut t = TestCase::new("run interrupted", status);
                t.set_classname("backchannel");
                suite.add_test_case(t);
            }
            report.add_test_suite(suite);
        }
    }
    report
}

/// Write the JUnit document for these runs to `path`.
pub fn write(path: &Path, runs: &[RunSummary]) -> std::io::Result<()> {
    let text = build(runs).to_string().map_err(std::io::Error::other)?;
    std::fs::write(path, text)
}
