//! The architecture ARCHITECTURE.md describes holds: the harness's module graph has
//! no cycle and no module imports one listed to its right (data flows one way:
//! scenario → compiled case → runner → checks → outcome → reports → pipeline, with
//! the CLI on top); the checks import nothing of the rmcp-based reference client; no
//! revision is compared as a string anywhere. The graph is read from the
//! `use crate::…` paths (and `crate::…` expressions) of each top-level module's files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::root;

/// Top-level module → the top-level modules its files name through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let module =
                rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
            if module == "main" || module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let deps = graph.entry(module.clone()).or_default();
            for (i, _) in text.match_indices("crate::") {
                // Skip doc links and comments: only code lines count.
                let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                let line = text[line_start..].lines().next().unwrap_or_default().trim_start();
                if line.starts_with("//") {
                    continue;
                }
                let name: String =
                    text[i + "crate::".len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() && name != module {
                    deps.insert(name);
                }
            }
        }
    }
    graph
}

/// A cycle through `start`, if any (depth-first).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn go(g: &BTreeMap<String, BTreeSet<String>>, at: &str, start: &str, path: &mut Vec<String>) -> bool {
        for next in g.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if path.contains(next) {
                continue;
            }
            path.push(next.clone());
            if go(g, next, start, path) {
                return true;
            }
            path.pop();
        }
        false
    }
    let mut path = vec![start.to_owned()];
    go(graph, start, start, &mut path).then_some(path)
}

#[test]
fn the_harness_module_graph_has_no_cycle() {
    let graph = module_graph(&root().join("harness/src"));
    assert!(graph.contains_key("pipeline") && graph.contains_key("outcome"), "{graph:?}");
    for module in graph.keys() {
        if let Some(c) = cycle(&graph, module) {
            panic!("import cycle: {}", c.join(" → "));
        }
    }
    // The CLI is on top: no library module reaches into it.
    for (module, deps) in &graph {
        assert!(!deps.contains("cli") || module == "cli", "{module} imports the CLI");
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert_eq!(cycle(&g, "a"), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(cycle(&g, "d"), None);
}

/// The harness's modules in the order ARCHITECTURE.md lists them (the bullets
/// `` - `name`: `` of its harness section).
fn documented_order() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let start = text.find("### `harness/`").expect("ARCHITECTURE.md has a harness section");
    let section = &text[start..];
    let section = &section[..section[4..].find("\n### ").map_or(section.len(), |i| i + 4)];
    section.lines().filter_map(|l| l.strip_prefix("- `")?.split_once("`:").map(|(m, _)| m.to_owned())).collect()
}

#[test]
fn no_module_imports_one_to_its_right_in_the_documented_order() {
    let order = documented_order();
    let graph = module_graph(&root().join("harness/src"));
    for module in graph.keys() {
        assert!(order.contains(module), "ARCHITECTURE.md does not list the harness module `{module}`");
    }
    for (i, module) in order.iter().enumerate() {
        let right: Vec<&String> =
            graph.get(module).into_iter().flatten().filter(|d| order[i + 1..].contains(d)).collect();
        assert!(right.is_empty(), "`{module}` imports {right:?}, listed to its right in ARCHITECTURE.md");
    }
}

/// Code lines (not comments) of every Rust file under `dir`, with their place.
fn code_lines(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && name != "target" && name != "node_modules" && !name.to_string_lossy().starts_with('.') {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if !line.trim_start().starts_with("//") {
                        out.push((format!("{}:{}", path.display(), n + 1), line.to_owned()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_checks_import_nothing_of_the_reference_client_or_rmcp() {
    let check = root().join("harness/src/check");
    let mut lines = code_lines(&check);
    let top = std::fs::read_to_string(root().join("harness/src/check.rs")).unwrap();
    lines.extend(top.lines().enumerate().map(|(n, l)| (format!("check.rs:{}", n + 1), l.to_owned())));
    for (at, line) in lines {
        assert!(
            !line.contains("backchannel_reference_client") && !line.contains("rmcp::"),
            "{at}: the oracle must not depend on the rmcp-based client: {line}"
        );
    }
}

/// A revision date compared as a string: `v < "2025-06-18"`, `"2025-06-18" <= v`.
fn compares_a_revision_string(line: &str) -> bool {
    // `=>` (a match arm) and `->` are not comparisons.
    let re =
        regex::Regex::new(r#"(^|[^=-])(<=|>=|<|>)\s*"\d{4}-\d{2}-\d{2}"|"\d{4}-\d{2}-\d{2}"\s*(<=|>=|<|>)"#).unwrap();
    re.is_match(line)
}

#[test]
fn no_revision_is_compared_as_a_string() {
    // What the reference client once did, and what must be caught.
    // (Written in two pieces, so that this file does not trip its own test.)
    assert!(compares_a_revision_string(concat!("if negotiated.as_deref().is_some_and(|v| v <", " \"2025-06-18\") {")));
    assert!(!compares_a_revision_string(r#"assert_eq!(r.as_str(), "2025-06-18");"#));
    assert!(!compares_a_revision_string(r#"Self::V2025_06_18 => "2025-06-18","#));
    for dir in ["protocol", "mock-servers", "reference-client", "harness", "clients/rmcp-default", "tests"] {
        for (at, line) in code_lines(&root().join(dir)) {
            assert!(
                !compares_a_revision_string(&line),
                "{at}: a revision compared as a string (use backchannel_protocol::Revision): {line}"
            );
        }
    }
}
