//! Workspace integration tests: the CLI, the broken-client fixtures, snapshots,
//! and the scenario schema.

mod cli;
mod fixtures;
mod reports;
mod schema;
mod snapshots;
mod supervision;
mod support;
