//! Shared helpers.

use std::path::PathBuf;

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("harness/ has a parent").to_owned()
}

/// The `backchannel` binary under test.
pub(crate) fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_backchannel"))
}

/// The built-in scenarios.
pub(crate) fn builtin_scenarios() -> Vec<PathBuf> {
    backchannel_harness::scenario::discover(&root().join("scenarios")).expect("scenarios/ is readable")
}
