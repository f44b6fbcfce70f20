//! Scenarios: the YAML format ([`model`]), loading with located errors
//! ([`load`]), the spec catalogue checks cite ([`catalog`]), and compilation into
//! a mock script, a client plan and the checks' request table ([`compile`]).

pub mod catalog;
pub mod compile;
pub mod load;
pub mod model;

pub use catalog::SpecRef;
pub use compile::{ClientPlan, Compiled, ScriptedRequest, TRIGGER_TOOL, compile, compile_file, scenario_id};
pub use load::{LoadError, load, parse, resolve_spec};
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
