//! The client × check matrix (Markdown), from runs of several clients over the same
//! scenarios. Verdicts are the checks' own, before any baseline: the table shows
//! what each client does, not what is excused.

use std::collections::{BTreeMap, BTreeSet};

use backchannel_protocol::Transport;

use crate::outcome::{CaseReport, Verdict};

/// The client × check table, ready to render as Markdown or HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column headers: each client's label.
    pub clients: Vec<String>,
    /// `(check id, one cell per client)`, for the checks some client FAILs, WARNs or gets
    /// a NOTE on somewhere.
    pub rows: Vec<(String, Vec<String>)>,
    /// Per client: `N pass · N warn · N fail · N skip`.
    pub totals: Vec<String>,
    /// How many checks no client FAILs or WARNs (not listed).
    pub all_pass: usize,
}

fn cell(by_transport: &BTreeMap<Transport, Verdict>) -> String {
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

/// Build the table from each client's `(label, reports)`. Verdicts are the checks'
/// own, before any baseline.
pub fn table(runs: &[(&str, &[CaseReport])]) -> Table {
    // check id -> client index -> transport -> verdict
    let mut by_check: BTreeMap<String, Vec<BTreeMap<Transport, Verdict>>> = BTreeMap::new();
    for (i, (_, reports)) in runs.iter().enumerate() {
        for report in *reports {
            for c in &report.checks {
                let row = by_check.entry(c.id.clone()).or_insert_with(|| vec![BTreeMap::new(); runs.len()]);
                row[i].insert(report.record.transport, c.verdict);
            }
        }
    }
    let mut rows = Vec::new();
    let mut all_pass = 0;
    for (id, row) in by_check {
        // A row is a check some client FAILs or WARNs somewhere (a SKIP is a client
        // that lacks the precondition, not a finding).
        if !row.iter().any(|m| {
            m.values().any(|v| matches!(v, Verdict::Fail | Verdict::Warn | Verdict::Inconclusive | Verdict::Note))
        }) {
            all_pass += 1;
            continue;
        }
        rows.push((id, row.iter().map(|m| if m.is_empty() { "—".to_owned() } else { cell(m) }).collect()));
    }
    let totals = runs
        .iter()
        .map(|(_, reports)| {
            let mut n: BTreeMap<Verdict, usize> = BTreeMap::new();
            for c in reports.iter().flat_map(|rep| &rep.checks) {
                *n.entry(c.verdict).or_default() += 1;
            }
            let get = |v| n.get(&v).copied().unwrap_or(0);
            format!(
                "{} pass · {} warn · {} fail · {} n/a · {} skip",
                get(Verdict::Pass),
                get(Verdict::Warn),
                get(Verdict::Fail),
                get(Verdict::NotApplicable),
                get(Verdict::Skip)
            )
        })
        .collect();
    Table { clients: runs.iter().map(|(l, _)| (*l).to_owned()).collect(), rows, totals, all_pass }
}

/// Render the table as Markdown.
pub fn markdown(t: &Table) -> String {
    let mut out = format!("| check | {} |\n", t.clients.join(" | "));
    out.push_str(&format!("|---|{}\n", "---|".repeat(t.clients.len())));
    for (id, cells) in &t.rows {
        out.push_str(&format!("| `{id}` | {} |\n", cells.join(" | ")));
    }
    out.push_str(&format!("| **all checks, all transports** | {} |\n", t.totals.join(" | ")));
    out.push_str(&format!(
        "\n{} other checks neither FAIL, WARN nor get a NOTE on any column (they PASS; N/A where a client or gateway does not implement what the scenario exercises; SKIP where there is nothing to judge). A cell lists the transports where a verdict differs; — means the check was not made there (a client that does not run the scenario — rmcp has no HTTP+SSE client —, or a gateway check with nothing to judge).\n",
        t.all_pass
    ));
    out
}

/// Replace the text between `<!-- backchannel:matrix:start -->` and `<!-- backchannel:matrix:end -->`.
pub fn splice(doc: &str, table: &str) -> Option<String> {
    splice_at(doc, "matrix", table)
}

/// Replace what lies between `<!-- backchannel:NAME:start -->` and
/// `<!-- backchannel:NAME:end -->` with `table`; `None` without the markers.
pub fn splice_at(doc: &str, name: &str, table: &str) -> Option<String> {
    let start = format!("<!-- backchannel:{name}:start -->");
    let end = format!("<!-- backchannel:{name}:end -->");
    let a = doc.find(&start)? + start.len();
    let b = doc[a..].find(&end)? + a;
    Some(format!("{}\n{}{}", &doc[..a], table, &doc[b..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_name_the_transports_that_differ() {
        let m: BTreeMap<Transport, Verdict> =
            [(Transport::Http, Verdict::Pass), (Transport::Sse, Verdict::Pass), (Transport::Stdio, Verdict::Warn)]
                .into();
        assert_eq!(cell(&m), "WARN (stdio) · PASS (http, sse)");
        let m: BTreeMap<Transport, Verdict> = [(Transport::Http, Verdict::Fail)].into();
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
        let doc = "<!-- backchannel:gateway-matrix:start -->\nold\n<!-- backchannel:gateway-matrix:end -->";
        assert_eq!(
            splice_at(doc, "gateway-matrix", "new\n").unwrap(),
            "<!-- backchannel:gateway-matrix:start -->\nnew\n<!-- backchannel:gateway-matrix:end -->"
        );
    }
}
