//! The run's event stream. The runner emits events as cases start and finish; the
//! CLI adds the run's start and end (after the client's baseline is applied). Every
//! reporter — terminal, JSON, JUnit, HTML — is a [`Reporter`] that subscribes to
//! the same stream, as in nextest's reporter design.
//!
//! Frame and check events are emitted when their case finishes: the mock records
//! the wire in its trace (it may be another process), and checks are pure functions
//! over that trace. They carry the verdict before any baseline; `RunFinished`
//! carries the final reports.

use std::time::Duration;

use backchannel_mock::trace::Frame;

use crate::check::CheckResult;
use crate::report::terminal::Totals;
use crate::runner::CaseReport;
use crate::scenario::model::{Revision, Transport};

/// Which case an event is about: its position in the plan, and what it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseKey<'a> {
    /// 0-based position in the plan.
    pub index: usize,
    /// How many cases the run has.
    pub total: usize,
    /// The scenario id.
    pub scenario: &'a str,
    /// The transport.
    pub transport: Transport,
    /// The protocol revision.
    pub revision: Revision,
}

/// One event of a run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The run is planned.
    RunStarted {
        /// Who is under test (`the reference client`, a profile name and version…).
        client: &'a str,
        /// How many cases.
        cases: usize,
    },
    /// A case's client is about to start.
    CaseStarted(CaseKey<'a>),
    /// A frame of a finished case's trace, in trace order.
    Frame(CaseKey<'a>, &'a Frame),
    /// A check of a finished case (verdict before the baseline).
    Check(CaseKey<'a>, &'a CheckResult),
    /// A case is finished (its report, before the baseline).
    CaseFinished(CaseKey<'a>, &'a CaseReport),
    /// The run is over; the baseline is applied.
    RunFinished(&'a RunSummary),
}

/// The end of a run: what every file reporter writes from.
#[derive(Debug)]
pub struct RunSummary {
    /// Who was under test.
    pub client: String,
    /// Whether SHOULD violations are graded FAIL.
    pub strict: bool,
    /// The reports, in plan order, with the baseline applied.
    pub reports: Vec<CaseReport>,
    /// Verdict counts.
    pub totals: Totals,
    /// Baseline entries the client now passes.
    pub stale: Vec<String>,
    /// Baseline entries that matched no check.
    pub unused: Vec<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// When the run started.
    pub started_at: std::time::SystemTime,
}

/// A subscriber to the event stream.
pub trait Reporter {
    /// Handle one event. An error ends the run's reporting with exit code 2.
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()>;
}

/// Emit the events of one finished case: its frames, its checks, then `CaseFinished`.
pub fn emit_case(key: CaseKey<'_>, report: &CaseReport, reporters: &mut [Box<dyn Reporter>]) -> std::io::Result<()> {
    let mut each = |e: Event<'_>| reporters.iter_mut().try_for_each(|r| r.on(&e));
    if let Some(trace) = &report.trace {
        for f in trace.frames() {
            each(Event::Frame(key, f))?;
        }
    }
    for c in &report.checks {
        each(Event::Check(key, c))?;
    }
    each(Event::CaseFinished(key, report))
}
