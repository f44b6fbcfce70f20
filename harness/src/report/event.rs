//! The run's event stream. The pipeline emits events as the run starts, as cases
//! start and finish (graded, in plan order), and when the run is over (with the
//! baseline's stale entries known); every reporter — terminal, JSON, JUnit, HTML —
//! is a [`Reporter`] subscribed to the same stream, as in nextest's reporter design.

use backchannel_protocol::{Revision, Transport};

use crate::outcome::{CaseReport, RunSummary};

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
    /// A case is finished and graded.
    CaseFinished(CaseKey<'a>, &'a CaseReport),
    /// The run is over.
    RunFinished(&'a RunSummary),
}

/// A subscriber to the event stream.
pub trait Reporter {
    /// Handle one event. An error ends the run's reporting with exit code 2.
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()>;
}
