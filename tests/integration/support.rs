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

/// Live (non-zombie) processes whose environment holds `marker`.
pub(crate) fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let dir = std::path::Path::new("/proc").join(&pid);
        let Ok(environ) = std::fs::read(dir.join("environ")) else { continue };
        if !environ.split(|b| *b == 0).any(|kv| kv == marker.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
        if state != Some('Z') {
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            found.push(format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    found
}
