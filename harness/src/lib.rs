//! backchannel's harness: the `backchannel` binary's library.
//!
//! - [`scenario`]: the YAML format, loading with file:line errors, the rule catalogue;
//! - [`runner`]: one case = one scenario against one client process, supervised;
//! - [`check`]: pure functions from a recorded case to verdicts;
//! - [`logs`]: reading levels from a client's log output;
//! - [`profile`]: third-party client profiles (`clients/<name>.yaml`);
//! - [`baseline`]: known failures per client; stale entries fail the run;
//! - [`report`]: the terminal table;
//! - [`cli`]: argv, exit codes (0 pass, 1 a FAIL, 2 usage/setup error).
//!
//! The oracle (the mock's trace, the wire classifier, the checks) never depends on
//! rmcp; rmcp appears only inside the reference client, which the runner drives as
//! a separate process exactly like a third-party client.

pub mod baseline;
pub mod bench;
pub mod check;
pub mod cli;
pub mod logs;
pub mod profile;
pub mod report;
pub mod runner;
pub mod scenario;
