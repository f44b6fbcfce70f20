//! Compiles the built-in scenarios (`../scenarios/**/*.yaml`) into the binary, so
//! `backchannel run` works from any directory, installed from a wheel or an npm
//! package, with no checkout. Without that directory (a crate built on its own) the
//! built-in suite is empty and `backchannel run` asks for scenario paths.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.sort();
    let mut code = String::from(
        "/// The built-in scenarios: (path as in the repository, YAML text).\npub static BUILTIN: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let rel = f.strip_prefix(&dir).expect("under the scenarios directory");
        let rel = format!("scenarios/{}", rel.to_string_lossy().replace('\\', "/"));
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        let _ = writeln!(code, "    ({rel:?}, include_str!({:?})),", abs.to_string_lossy());
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_scenarios.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
