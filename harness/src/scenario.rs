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

/// What a profile's `test_scenarios` names with `@back-channel`: the scenarios where a
/// client's own handlers decide what goes back to the server — sampling, elicitation
/// and roots refused or answered, the capabilities it declares, ping, the `tasks/*`
/// requests, how it logs a refusal. CI's plan for a framework client whose transports
/// are an SDK another profile runs in full, and whose every start costs seconds of CPU.
pub const BACK_CHANNEL_SUITE: &[&str] = &[
    "sampling/undeclared",
    "sampling/answered-text",
    "sampling/tool-use",
    "sampling/during-tool-call",
    "elicitation/form-undeclared",
    "elicitation/url-undeclared",
    "elicitation/form-accepted",
    "elicitation/form-cancelled",
    "elicitation/url-accepted",
    "roots/undeclared",
    "roots/configured",
    "roots/list-changed",
    "capabilities/none-declared",
    "ping/empty-result",
    "logs/warning-without-params",
    "logs/params-at-debug",
    "tasks/requests-undeclared",
];

/// The name of [`BACK_CHANNEL_SUITE`] in a scenario selection.
pub const BACK_CHANNEL_SUITE_NAME: &str = "@back-channel";

/// Scenario filters with the named suites (`@back-channel`) spelled out.
pub fn expand_suites(filters: &[String]) -> Vec<String> {
    filters
        .iter()
        .flat_map(|f| match f.as_str() {
            BACK_CHANNEL_SUITE_NAME => BACK_CHANNEL_SUITE.iter().map(|s| (*s).to_owned()).collect(),
            _ => vec![f.clone()],
        })
        .collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_channel_suite_names_built_in_scenarios() {
        for id in BACK_CHANNEL_SUITE {
            let path = std::path::PathBuf::from(format!("scenarios/{id}.yaml"));
            assert!(builtin::source(&path).is_some(), "{id} is not a built-in scenario");
        }
        let expanded = expand_suites(&["@back-channel".to_owned(), "ping/*".to_owned()]);
        assert_eq!(expanded.len(), BACK_CHANNEL_SUITE.len() + 1);
    }
}
