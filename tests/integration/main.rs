//! Workspace integration tests: the CLI, the broken-client fixtures, snapshots,
//! and the scenario schema.

mod architecture;
mod cli;
mod docs;
mod fixtures;
mod gateways;
mod hostile;
mod merge;
mod reports;
mod schema;
mod security;
mod snapshots;
mod supervision;
mod support;
mod verdicts;
