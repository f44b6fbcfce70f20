//! The Markdown summary (`backchannel report markdown`): per run, the outcome, the
//! counts and the table of what did not pass — what a CI job summary shows (the
//! GitHub Action appends it to `$GITHUB_STEP_SUMMARY`).

use std::io::Write;

use super::terminal::not_passed;
use crate::outcome::RunSummary;

/// At most this many rows per run; the rest is counted.
const MAX_ROWS: usize = 200;

/// Make a string safe inside one Markdown table cell.
fn cell(s: &str) -> String {
    crate::check::truncate(s, 200).replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Write the summary of these runs.
pub fn write(out: &mut dyn Write, runs: &[RunSummary]) -> std::io::Result<()> {
    for s in runs {
        let t = s.totals();
        writeln!(out, "### backchannel: {} — {}\n", s.outcome().word(), cell(&s.client))?;
        let [(cases, _), (checks, _), verdicts @ ..] = t.leading();
        let verdicts: Vec<String> = verdicts.iter().map(|(n, what)| format!("{n} {what}")).collect();
        writeln!(
            out,
            "{cases} cases, {checks} checks: {}, {} known failures{}\n",
            verdicts.join(", "),
            t.known,
            if s.strict { " (strict)" } else { "" }
        )?;
        let rows = not_passed(s);
        if rows.is_empty() && s.stale.is_empty() && s.unjudged.is_empty() {
            writeln!(out, "Every check passed or does not apply.\n")?;
            continue;
        }
        writeln!(out, "| verdict | check | evidence |\n|---|---|---|")?;
        for (v, at, why) in rows.iter().take(MAX_ROWS) {
            writeln!(out, "| {v} | `{}` | {} |", at.replace('`', "'"), cell(why))?;
        }
        if rows.len() > MAX_ROWS {
            writeln!(out, "| … | {} more | |", rows.len() - MAX_ROWS)?;
        }
        for entry in &s.stale {
            writeln!(
                out,
                "| STALE | `{}` | baseline entry the client passes now: remove it |",
                entry.replace('`', "'")
            )?;
        }
        for u in &s.unjudged {
            writeln!(out, "| NOT JUDGED | `{}` | {} |", u.case.replace('`', "'"), cell(&u.why))?;
        }
        writeln!(out)?;
    }
    Ok(())
}
