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

/// The answer shapes the oracle validates against (`harness/schemas/mcp/<revision>.json`)
/// are exactly what `shapes::extract` cuts from the official `schema.json` of each
/// revision, read from the copy of the spec the catalogue tests use
/// (`BACKCHANNEL_MCP_SPEC_DIR`; required under CI's `BACKCHANNEL_REQUIRE_SPEC=1`,
/// skipped with a message elsewhere). `BACKCHANNEL_BLESS=1` rewrites the extracts.
#[test]
fn answer_shapes_agree_with_the_official_schemas() {
    use backchannel_harness::check::shapes;
    use backchannel_protocol::Revision;
    let Some(dir) = backchannel_harness::scenario::catalog::spec_copy() else { return };
    for rev in Revision::ALL {
        let path = dir.join(rev.as_str()).join("schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let full: serde_json::Value = serde_json::from_str(&text).unwrap();
        let extract = shapes::extract(&full);
        let vendored = root().join(format!("harness/schemas/mcp/{}.json", rev.as_str()));
        if std::env::var_os("BACKCHANNEL_BLESS").is_some() {
            std::fs::write(&vendored, serde_json::to_string_pretty(&extract).unwrap() + "\n").unwrap();
        }
        let ours: serde_json::Value = serde_json::from_str(shapes::vendored(rev)).unwrap();
        assert!(
            ours == extract,
            "harness/schemas/mcp/{rev}.json differs from what the official {} yields: rerun with BACKCHANNEL_BLESS=1",
            path.display()
        );
    }
}
