//! Scenarios: the YAML format ([`model`]), loading with located errors ([`load`],
//! [`validate`]), the rule catalogue checks cite ([`catalog`]), and compilation
//! ([`compile`]) into a [`Compiled`] scenario: the mock's script, the client plan
//! and the expectations the checks read ([`compiled`]).
//!
//! This module owns the file format; nothing downstream of [`compile`] reads the
//! file model.

pub mod catalog;
pub mod compile;
pub mod compiled;
pub mod load;
pub mod model;
mod validate;

pub use catalog::SpecRef;
pub use compile::{TRIGGER_TOOL, compile, compile_file, scenario_id};
pub use compiled::{ClientPlan, Compiled, ScriptedRequest};
pub use load::{LoadError, load, parse};

/// The glob of the built-in gateway scenarios (`scenarios/gateway/`): the default plan
/// of `--gateway`, and what the client tables leave out.
pub const GATEWAY_SUITE: &str = "gateway/*";

/// The built-in scenarios, compiled into the binary (`harness/build.rs`).
pub mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));

    /// The built-in scenario text at `path` (`scenarios/<area>/<name>.yaml`), if any.
    pub fn source(path: &std::path::Path) -> Option<&'static str> {
        BUILTIN.iter().find(|(p, _)| std::path::Path::new(p) == path).map(|(_, text)| *text)
    }

    /// Every built-in scenario, compiled; the first that does not load is the error.
    pub fn compile_all() -> Result<Vec<super::Compiled>, super::LoadError> {
        BUILTIN
            .iter()
            .map(|(path, text)| {
                let path = std::path::Path::new(path);
                Ok(super::compile(path, super::parse(path, text)?))
            })
            .collect()
    }
}
pub use model::Scenario;

/// The scenario format's JSON Schema (draft-07, for editors), pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft07().into_generator().into_root_schema_for::<Scenario>();
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    out.push('\n');
    out
}

/// Every `*.yaml` under `dir`, sorted.
pub fn discover(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
