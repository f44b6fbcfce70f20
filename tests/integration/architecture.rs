//! The harness's module graph has no cycle: data flows one way (scenario →
//! compiled case → runner → checks → outcome → pipeline → reports), and the CLI
//! sits on top. The graph is read from the `use crate::…` paths (and `crate::…`
//! expressions) of each top-level module's files.

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
