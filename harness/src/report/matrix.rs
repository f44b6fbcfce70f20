//! The client × check matrix (Markdown), from runs of several clients over the same
//! scenarios. Verdicts are the checks' own, before any baseline: the table shows
//! what each client does, not what is excused.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::Verdict;
use crate::runner::CaseReport;

/// One client's run.
#[derive(Debug)]
pub struct ClientRun {
    /// The column header: name and version.
    pub label: String,
    /// Its reports.
    pub reports: Vec<CaseReport>,
}

fn cell(by_transport: &BTreeMap<String, Verdict>) -> String {
    let distinct: BTreeSet<Verdict> = by_transport.values().copied().collect();
    if distinct.len() == 1 {
        return distinct.into_iter().next().map(|v| v.to_string()).unwrap_or_default();
    }
    // Worst first, naming the transports where it differs from the best.
    let mut parts: Vec<String> = Vec::new();
    for v in distinct.iter().rev() {
        let ts: Vec<&str> = by_transport.iter().filter(|(_, x)| *x == v).map(|(t, _)| t.as_str()).collect();
        parts.push(format!("{v} ({})", ts.join(", ")));
    }
    parts.join(" · ")
}

/// Render the matrix. Rows are the checks some client does not pass everywhere.
pub fn markdown(runs: &[ClientRun], strict: bool) -> String {
    // check id -> client index -> transport -> verdict
    let mut table: BTreeMap<String, Vec<BTreeMap<String, Verdict>>> = BTreeMap::new();
    for (i, run) in runs.iter().enumerate() {
        for report in &run.reports {
            for c in &report.checks {
                let row = table.entry(c.id.clone()).or_insert_with(|| vec![BTreeMap::new(); runs.len()]);
                row[i].insert(report.transport.to_string(), c.verdict(strict));
            }
        }
    }
    let mut out = String::new();
    out.push_str(&format!("| check | {} |\n", runs.iter().map(|r| r.label.as_str()).collect::<Vec<_>>().join(" | ")));
    out.push_str(&format!("|---|{}\n", "---|".repeat(runs.len())));
    let mut all_pass = 0;
    for (id, row) in &table {
        let interesting = row.iter().any(|m| m.values().any(|v| *v != Verdict::Pass));
        if !interesting {
            all_pass += 1;
            continue;
        }
        let cells: Vec<String> = row.iter().map(|m| if m.is_empty() { "—".to_owned() } else { cell(m) }).collect();
        out.push_str(&format!("| `{id}` | {} |\n", cells.join(" | ")));
    }
    let totals: Vec<String> = runs
        .iter()
        .map(|r| {
            let mut n: BTreeMap<Verdict, usize> = BTreeMap::new();
            for c in r.reports.iter().flat_map(|rep| &rep.checks) {
                *n.entry(c.verdict(strict)).or_default() += 1;
            }
            let get = |v| n.get(&v).copied().unwrap_or(0);
            format!(
                "{} pass · {} warn · {} fail · {} skip",
                get(Verdict::Pass),
                get(Verdict::Warn),
                get(Verdict::Fail),
                get(Verdict::Skip)
            )
        })
        .collect();
    out.push_str(&format!("| **all checks, all transports** | {} |\n", totals.join(" | ")));
    out.push_str(&format!(
        "\n{all_pass} other checks pass on every client and transport. A cell lists the transports where a verdict differs; — means the client does not run that scenario (rmcp has no HTTP+SSE client).\n"
    ));
    out
}

/// Replace the text between `<!-- backchannel:matrix:start -->` and `<!-- backchannel:matrix:end -->`.
pub fn splice(doc: &str, table: &str) -> Option<String> {
    const START: &str = "<!-- backchannel:matrix:start -->";
    const END: &str = "<!-- backchannel:matrix:end -->";
    let a = doc.find(START)? + START.len();
    let b = doc[a..].find(END)? + a;
    Some(format!("{}\n{}{}", &doc[..a], table, &doc[b..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_name_the_transports_that_differ() {
        let m: BTreeMap<String, Verdict> =
            [("http".into(), Verdict::Pass), ("sse".into(), Verdict::Pass), ("stdio".into(), Verdict::Warn)].into();
        assert_eq!(cell(&m), "WARN (stdio) · PASS (http, sse)");
        let m: BTreeMap<String, Verdict> = [("http".into(), Verdict::Fail)].into();
        assert_eq!(cell(&m), "FAIL");
    }

    #[test]
    fn splice_replaces_between_markers() {
        let doc = "a\n<!-- backchannel:matrix:start -->\nold\n<!-- backchannel:matrix:end -->\nb";
        assert_eq!(
            splice(doc, "new\n").unwrap(),
            "a\n<!-- backchannel:matrix:start -->\nnew\n<!-- backchannel:matrix:end -->\nb"
        );
        assert!(splice("no markers", "x").is_none());
    }
}
