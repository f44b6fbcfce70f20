//! Baselines: check ids a client is known to fail, each with a reason. A FAIL or
//! WARN matched by an entry is reported as XFAIL and does not fail the run; an
//! entry that matches checks which all pass is *stale* and fails the run, so a
//! baseline can only shrink as the client improves.
//!
//! An entry's `check` is `<scenario>:<check>`, optionally qualified by transport
//! and/or revision (`<scenario>@http:<check>`, `<scenario>@2025-06-18:<check>`,
//! `<scenario>@http@2025-06-18:<check>`); `*` matches any run of characters
//! (`*:logs.warning-per-request`).
//!
//! This module only matches ids against entries; the grading step
//! ([`crate::outcome::Grader`]) marks the checks and counts what each entry matched.

use backchannel_protocol::{Revision, Transport};
use regex::Regex;
use serde::Deserialize;

/// One known failure.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The check id pattern.
    pub check: String,
    /// Why the client fails it.
    pub reason: String,
}

/// A baseline file: a list of entries, or any mapping with a `baseline:` list (a
/// client profile is one).
#[derive(Deserialize)]
#[serde(untagged)]
enum File {
    List(Vec<Entry>),
    Doc { baseline: Vec<Entry> },
}

/// Read and compile a baseline file (`--baseline FILE`); the error names the file
/// and, where the YAML is wrong, the line.
pub fn load_file(path: &std::path::Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = serde_saphyr::from_str(&text).map_err(|e| {
        format!("{}: not a baseline (a list of {{check, reason}}, or a `baseline:` list): {e}", path.display())
    })?;
    let entries = match file {
        File::List(e) | File::Doc { baseline: e } => e,
    };
    Baseline::new(entries).map_err(|e| format!("{}: {e}", path.display()))
}

/// A compiled baseline.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    entries: Vec<(Entry, Regex)>,
}

impl Baseline {
    /// Compile entries; an invalid pattern is an error naming it.
    pub fn new(entries: Vec<Entry>) -> Result<Self, String> {
        let entries = entries
            .into_iter()
            .map(|e| {
                let pattern = format!("^{}$", regex::escape(&e.check).replace("\\*", ".*"));
                Regex::new(&pattern)
                    .map(|re| (e.clone(), re))
                    .map_err(|err| format!("baseline entry `{}`: {err}", e.check))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// This baseline's entries, then `other`'s.
    pub fn extend(&mut self, other: Self) {
        self.entries.extend(other.entries);
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `i`'s pattern, as written.
    pub fn pattern(&self, i: usize) -> &str {
        &self.entries[i].0.check
    }

    /// Entry `i`'s reason.
    pub fn reason(&self, i: usize) -> &str {
        &self.entries[i].0.reason
    }

    /// The entries that match check `id` (`<scenario>:<check>`) of a case on this
    /// transport at this revision, in order.
    pub fn matching(&self, id: &str, transport: Transport, revision: Revision) -> Vec<usize> {
        let (t, r) = (transport.as_str(), revision.as_str());
        let forms = [id.to_owned(), qualified_id(id, t), qualified_id(id, r), qualified_id(id, &format!("{t}@{r}"))];
        (0..self.entries.len()).filter(|&i| forms.iter().any(|f| self.entries[i].1.is_match(f))).collect()
    }
}

/// `<scenario>@<qualifier>:<check>`.
fn qualified_id(id: &str, qualifier: &str) -> String {
    match id.split_once(':') {
        Some((scenario, rest)) => format!("{scenario}@{qualifier}:{rest}"),
        None => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_plain_and_qualified_ids() {
        let b = Baseline::new(vec![
            Entry { check: "a/b:x.answered".into(), reason: "r1".into() },
            Entry { check: "a/*@http:*".into(), reason: "r2".into() },
            Entry { check: "*@2025-03-26:y".into(), reason: "r3".into() },
        ])
        .unwrap();
        assert_eq!(b.matching("a/b:x.answered", Transport::Stdio, Revision::V2025_11_25), [0]);
        assert_eq!(b.matching("a/b:x.answered", Transport::Http, Revision::V2025_11_25), [0, 1]);
        assert_eq!(b.matching("c/d:y", Transport::Sse, Revision::V2025_03_26), [2]);
        assert!(b.matching("c/d:y", Transport::Sse, Revision::V2025_06_18).is_empty());
        assert_eq!((b.pattern(1), b.reason(1)), ("a/*@http:*", "r2"));
    }
}
