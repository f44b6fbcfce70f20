//! `scenarios/schema.json` is generated from the scenario types; it must be
//! current, and every built-in scenario must validate against it.

use crate::support::{builtin_scenarios, root};

#[test]
fn committed_schema_is_current() {
    let generated = backchannel_harness::scenario::json_schema();
    let path = root().join("scenarios/schema.json");
    if std::env::var_os("BACKCHANNEL_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "scenarios/schema.json is stale: run `cargo run -q -p backchannel-harness -- schema > scenarios/schema.json` (or rerun this test with BACKCHANNEL_BLESS=1)"
    );
}

#[test]
fn builtin_scenarios_validate_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(&backchannel_harness::scenario::json_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let files = builtin_scenarios();
    assert!(files.len() >= 11);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
    }
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let schema: serde_json::Value = serde_json::from_str(&backchannel_harness::scenario::json_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for bad in [
        serde_json::json!({"title": "t", "steps": [{"request": {"method": "ping", "parms": {}}}]}),
        serde_json::json!({"title": "t", "steps": [{"requets": {"method": "ping"}}]}),
        serde_json::json!({"steps": []}),
        serde_json::json!({"title": "t", "steps": [{"request": {"method": "ping", "id": [1]}}]}),
    ] {
        assert!(!validator.is_valid(&bad), "the schema accepts {bad}");
    }
}

#[test]
fn readme_example_scenario_is_valid() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let example = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml example in README.md");
    backchannel_harness::scenario::parse(std::path::Path::new("README.md"), example).unwrap();
}
