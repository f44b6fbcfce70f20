//! backchannel's harness: the `backchannel` binary's library.
//!
//! Data flows one way: scenario → compiled case → mock + client → trace + logs →
//! checks → graded outcome → reporters.
//!
//! - [`scenario`]: the YAML format, loading with file:line errors, the rule
//!   catalogue, compilation into what the mock, the client and the checks need;
//! - [`runner`]: one case = one compiled scenario against one client process,
//!   supervised; its checks evaluated into findings;
//! - [`check`]: pure functions from a recorded case to ungraded findings;
//! - [`outcome`]: the finished run — graded checks, case reports, totals, the run's
//!   outcome, and the one grading step (revision, strictness, baseline);
//! - [`pipeline`]: the run as a library function — plan, run, grade, report;
//! - [`logs`]: reading levels from a client's log output;
//! - [`profile`]: third-party client profiles (`clients/<name>.yaml`);
//! - [`baseline`]: matching check ids against a client's known failures;
//! - [`report`]: the event stream and its reporters (terminal, JSON, JUnit, HTML);
//! - [`bench`]: the measurements behind `backchannel bench`;
//! - [`cli`]: argv and exit codes, nothing else.
//!
//! The protocol vocabulary is typed once, below every crate of the kit: revisions,
//! transports and the capability each server→client request needs in
//! [`backchannel_protocol`], trace events in [`backchannel_mock::trace`].
//!
//! The oracle (the mock's trace, the wire classifier, the checks) never depends on
//! rmcp; rmcp appears only inside the reference client, which the runner drives as
//! a separate process exactly like a third-party client.

pub mod baseline;
pub mod bench;
pub mod check;
pub mod cli;
pub mod logs;
pub mod outcome;
pub mod pipeline;
pub mod profile;
pub mod report;
pub mod runner;
pub mod scenario;

/// An error and its causes, `outer: inner: innermost`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(&format!(": {cause}"));
        next = cause.source();
    }
    out
}
