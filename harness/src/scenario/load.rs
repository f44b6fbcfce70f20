//! Reading a scenario file: YAML → [`Scenario`], with every mistake reported as
//! `file:line:col: message` plus a snippet, then semantic validation.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::catalog::{self, SpecRef};
use super::model::{DeliveryKind, Revision, Scenario, Severity, SpecLevel, Step, TriggerKind};

/// Scenario files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a scenario file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: failed to read the scenario: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{}: the scenario is {size} bytes, more than the {MAX_FILE_BYTES}-byte limit", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The YAML is malformed or does not fit the format.
    #[error("{}:{line}:{column}: {message}\n{snippet}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// What is wrong.
        message: String,
        /// The source snippet, rendered.
        snippet: String,
    },
}

impl LoadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::TooLarge { path, .. } | Self::Invalid { path, .. } => path,
        }
    }
}

/// Parse and validate one scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let meta = std::fs::metadata(path).map_err(|source| LoadError::Io { path: path.to_owned(), source })?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge { path: path.to_owned(), size: meta.len() });
    }
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_owned(), source })?;
    parse(path, &text)
}

/// Parse and validate scenario text that came from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, LoadError> {
    let options = serde_saphyr::options! {
        // `no`/`on`/`yes` inside free-form JSON payloads stay strings.
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_events: 1_000_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_depth: 64,
            max_documents: 1,
            max_nodes: 250_000,
            max_total_scalar_bytes: 16 * 1024 * 1024,
        },
    };
    let scenario: Scenario =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_error(path, text, &e))?;
    validate(path, text, &scenario)?;
    Ok(scenario)
}

fn yaml_error(path: &Path, _text: &str, e: &serde_saphyr::Error) -> LoadError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    let name = path.display().to_string();
    let snippet = e.render_with_options(serde_saphyr::render_options! { source_name: Some(name.as_str()) });
    let message = e.without_snippet().to_string();
    // serde-saphyr says where as "line L column C: …" or "… at line L, column C";
    // the location is already in our prefix.
    let message = message
        .split_once(": ")
        .filter(|(head, _)| head.starts_with("line "))
        .map_or(message.clone(), |(_, m)| m.to_owned());
    let message = match message.rfind(" at line ") {
        Some(i) if message[i..].contains(", column ") => message[..i].to_owned(),
        _ => message,
    };
    // Its snippet repeats the message as a first "error: …" line; keep the picture only.
    let snippet = snippet
        .split_once('\n')
        .filter(|(first, _)| first.starts_with("error: "))
        .map_or(snippet.clone(), |(_, rest)| rest.to_owned());
    LoadError::Invalid { path: path.to_owned(), line, column, message, snippet }
}

fn invalid_at(path: &Path, text: &str, at: Option<&serde_saphyr::Location>, message: String) -> LoadError {
    let (line, column) = at.map_or((0, 0), |l| (l.line(), l.column()));
    let snippet = if line > 0 {
        let src = text.lines().nth(line as usize - 1).unwrap_or_default();
        let gutter = " ".repeat(line.to_string().len());
        let pad = " ".repeat(column.saturating_sub(1) as usize);
        format!(" --> {}:{line}:{column}\n{gutter} |\n{line} | {src}\n{gutter} | {pad}^ {message}", path.display())
    } else {
        String::new()
    };
    LoadError::Invalid { path: path.to_owned(), line, column, message, snippet }
}

/// Resolve a `spec:` key, as revision `rev` states the rule, against the built-in
/// catalogue and the file's own `specs:` (which apply to every revision).
pub fn resolve_spec(scenario: &Scenario, key: &str, rev: Revision) -> Option<SpecRef> {
    catalog::builtin_at(key, rev).or_else(|| {
        scenario.specs.get(key).map(|d| SpecRef {
            key: key.to_owned(),
            source: d.source.clone(),
            section: d.section.clone(),
            level: d.level,
            text: d.text.clone(),
        })
    })
}

fn validate(path: &Path, text: &str, s: &Scenario) -> Result<(), LoadError> {
    let latest = s.revisions.iter().max().copied().unwrap_or(Revision::V2025_11_25);
    let spec = |key: &Spanned<String>, severity: Severity| -> Result<(), LoadError> {
        if let Some(rev) = s.revisions.iter().find(|r| resolve_spec(s, &key.value, **r).is_none())
            && let Some(since) = catalog::since(&key.value)
        {
            return Err(invalid_at(
                path,
                text,
                Some(&key.referenced),
                format!("`{}` exists from {since} on, but this scenario runs at {rev} (see `revisions:`)", key.value),
            ));
        }
        let Some(r) = resolve_spec(s, &key.value, latest) else {
            return Err(invalid_at(
                path,
                text,
                Some(&key.referenced),
                format!(
                    "unknown spec key `{}` (see `backchannel list --specs`, or define it under `specs:`)",
                    key.value
                ),
            ));
        };
        // Honesty guard: a sentence that says SHOULD cannot be graded as a MUST. (A rule
        // that is SHOULD only in early revisions is graded SHOULD at those, per case.)
        if r.level == SpecLevel::Should && severity == Severity::Must {
            return Err(invalid_at(
                path,
                text,
                Some(&key.referenced),
                format!("`{}` states a SHOULD; grade it `severity: should`", key.value),
            ));
        }
        Ok(())
    };
    if s.revisions.is_empty() {
        return Err(invalid_at(
            path,
            text,
            None,
            "`revisions` is empty: list at least one protocol revision".to_owned(),
        ));
    }
    if !s.revisions.iter().any(|r| s.transports.iter().any(|t| r.has_transport(*t))) {
        return Err(invalid_at(path, text, None, "no listed transport exists in any listed revision".to_owned()));
    }
    if s.transports.is_empty() {
        return Err(invalid_at(
            path,
            text,
            None,
            "`transports` is empty: list at least one of stdio, http, sse".to_owned(),
        ));
    }
    let request_stream = |d: Option<DeliveryKind>| d == Some(DeliveryKind::RequestStream);
    let uses_request_stream = request_stream(s.server.delivery)
        || s.steps.iter().any(|st| match st {
            Step::Request(r) => request_stream(r.delivery),
            Step::Batch(b) => request_stream(b.delivery) || b.requests.iter().any(|r| request_stream(r.delivery)),
            Step::Notification(n) => request_stream(n.delivery),
            Step::Raw(r) => request_stream(r.delivery),
            Step::Sleep(_) | Step::InputRequired(_) => false,
        });
    let modern = s.revisions.contains(&Revision::V2026_07_28);
    let mrtr = s.steps.iter().any(|st| matches!(st, Step::InputRequired(_)));
    if mrtr && (s.revisions != [Revision::V2026_07_28] || s.trigger != TriggerKind::ToolCall) {
        return Err(invalid_at(
            path,
            text,
            None,
            "`input_required` steps need `revisions: [2026-07-28]` and `trigger: tool_call` (MRTR answers a tool call)"
                .to_owned(),
        ));
    }
    if modern && s.steps.iter().any(|st| matches!(st, Step::Request(_) | Step::Batch(_))) {
        return Err(invalid_at(
            path,
            text,
            None,
            "2026-07-28 has no server-to-client requests on the wire (basic/patterns/mrtr.mdx): use `input_required` steps"
                .to_owned(),
        ));
    }
    if uses_request_stream && s.trigger != TriggerKind::ToolCall {
        return Err(invalid_at(
            path,
            text,
            None,
            "`delivery: request_stream` needs `trigger: tool_call` (there is no in-flight request otherwise)"
                .to_owned(),
        ));
    }
    for (key, severity) in s.citations() {
        spec(key, severity)?;
    }
    let check_result = |g: &super::model::ResultExpect| -> Result<(), LoadError> {
        for p in &g.pointers {
            if !(p.pointer.is_empty() || p.pointer.starts_with('/')) {
                return Err(invalid_at(
                    path,
                    text,
                    None,
                    format!("pointer `{}` must be empty or start with `/`", p.pointer),
                ));
            }
            if let Some(re) = &p.matches {
                regex::Regex::new(re).map_err(|err| {
                    invalid_at(path, text, None, format!("pointer `{}`: invalid regex: {err}", p.pointer))
                })?;
            }
        }
        Ok(())
    };
    let mut names = BTreeSet::new();
    let mut check_request = |r: &super::model::RequestStep| -> Result<(), LoadError> {
        let e = &r.expect;
        if e.no_answer.is_some()
            && (e.error.is_some() || e.error_code.is_some() || e.error_message.is_some() || e.result.is_some())
        {
            return Err(invalid_at(
                path,
                text,
                None,
                format!("`{}`: `no_answer` excludes expectations on an answer", r.method),
            ));
        }
        if r.id_from.is_some() && (r.id.is_some() || s.trigger != TriggerKind::ToolCall) {
            return Err(invalid_at(
                path,
                text,
                None,
                "`id_from: trigger_call` needs `trigger: tool_call` and no `id`".to_owned(),
            ));
        }
        if r.repeat == Some(0) {
            return Err(invalid_at(path, text, None, "`repeat` must be at least 1".to_owned()));
        }
        if let Some(g) = &e.result {
            check_result(g)?;
        }
        if let Some(name) = &r.name
            && !names.insert(name.clone())
        {
            return Err(invalid_at(path, text, None, format!("two steps are named `{name}`")));
        }
        Ok(())
    };
    for step in &s.steps {
        match step {
            Step::Request(r) => check_request(r)?,
            Step::Batch(b) => {
                if b.requests.is_empty() {
                    return Err(invalid_at(path, text, None, "a batch needs at least one request".to_owned()));
                }
                for r in &b.requests {
                    if r.wait || r.repeat.is_some() {
                        return Err(invalid_at(
                            path,
                            text,
                            None,
                            "`wait` and `repeat` do not apply inside a batch".to_owned(),
                        ));
                    }
                    check_request(r)?;
                }
            }
            Step::Raw(r) if r.line.contains('\n') => {
                return Err(invalid_at(
                    path,
                    text,
                    None,
                    "a raw line must not contain a newline (send two raw steps)".to_owned(),
                ));
            }
            Step::InputRequired(round) => {
                if round.inputs.is_empty() && round.request_state.is_none() {
                    return Err(invalid_at(
                        path,
                        text,
                        None,
                        "an `input_required` round needs `inputs` or a `request_state` (mrtr.mdx: at least one of them)"
                            .to_owned(),
                    ));
                }
                let mut keys = BTreeSet::new();
                for input in &round.inputs {
                    if !keys.insert(input.key.as_str()) {
                        return Err(invalid_at(
                            path,
                            text,
                            None,
                            format!("two inputs of one round use the key `{}`", input.key),
                        ));
                    }
                    if let Some(g) = &input.expect.result {
                        check_result(g)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("scenarios/x/y.yaml"), text).unwrap_err().to_string()
    }

    #[test]
    fn misspelled_field_names_file_line_and_field() {
        let e = err("title: t\nsteps:\n  - request:\n      method: ping\n      parms: {}\n");
        assert!(e.starts_with("scenarios/x/y.yaml:5:7: unknown field `parms`"), "{e}");
    }

    #[test]
    fn unknown_spec_key_is_located() {
        let e =
            err("title: t\nsteps:\n  - request:\n      method: ping\n      expect:\n        error: {spec: no/such}\n");
        assert!(e.starts_with("scenarios/x/y.yaml:6:23: unknown spec key `no/such`"), "{e}");
    }

    #[test]
    fn should_sentence_cannot_be_a_must() {
        let e = err(
            "title: t\nsteps:\n  - request:\n      method: roots/list\n      expect:\n        error_code: {one_of: [-32601], spec: roots/unsupported-method-not-found}\n",
        );
        assert!(e.contains("states a SHOULD"), "{e}");
    }

    #[test]
    fn strict_booleans_keep_payload_strings() {
        let s =
            parse(Path::new("a.yaml"), "title: t\nsteps:\n  - request:\n      method: x\n      params: {answer: no}\n")
                .unwrap();
        let Step::Request(r) = &s.steps[0] else { panic!() };
        assert_eq!(r.params.as_ref().unwrap()["answer"], "no");
    }

    #[test]
    fn alias_bombs_are_stopped() {
        // Inside a free-form payload, where deny_unknown_fields does not apply:
        // 10^12 nodes if expanded.
        let mut bomb = String::from(
            "title: t\nsteps:\n  - request:\n      method: x\n      params:\n        x0: &a0 [1,1,1,1,1,1,1,1,1,1]\n",
        );
        for i in 1..12 {
            bomb.push_str(&format!(
                "        x{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n",
                p = i - 1
            ));
        }
        let started = std::time::Instant::now();
        let e = parse(Path::new("bomb.yaml"), &bomb).unwrap_err().to_string();
        assert!(e.starts_with("bomb.yaml:"), "{e}");
        assert!(e.to_lowercase().contains("budget") || e.contains("alias"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn ids_are_integers_or_strings() {
        let s = parse(Path::new("a.yaml"), "title: t\nsteps:\n  - request: {method: ping, id: 18446744073709551615}\n  - request: {method: ping, id: 'abc'}\n").unwrap();
        let ids: Vec<_> = s
            .steps
            .iter()
            .map(|s| match s {
                Step::Request(r) => r.id.clone().unwrap().0,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(ids, vec![serde_json::json!(u64::MAX), serde_json::json!("abc")]);
        assert!(err("title: t\nsteps:\n  - request: {method: ping, id: [1]}\n").contains("an integer or a string"));
    }

    mod fuzz {
        //! The loader on arbitrary and mutated input: it never panics, and every
        //! refusal names the file (and a line when there is one). Inputs that once
        //! misbehaved go to `tests/fixtures/hostile-scenarios/` (and proptest keeps
        //! its own regressions file beside this one).

        use proptest::prelude::*;

        use super::*;

        const SEEDS: &[&str] = &[
            include_str!("../../../scenarios/sampling/undeclared.yaml"),
            include_str!("../../../scenarios/ids/out-of-order.yaml"),
            include_str!("../../../scenarios/mrtr/two-rounds.yaml"),
            include_str!("../../../scenarios/batch/requests-2025-03-26.yaml"),
        ];

        fn refusal_is_located(text: &str) {
            match parse(Path::new("fuzz.yaml"), text) {
                Ok(_) => {}
                Err(e) => {
                    let shown = e.to_string();
                    assert!(shown.starts_with("fuzz.yaml"), "{shown}");
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
                refusal_is_located(&text);
            }

            #[test]
            fn yamlish_text_never_panics(text in "([a-z_]{1,8}: ?(\\[|\\{|&a|\\*a|-|\"|'|[0-9]{1,3}|\n  )){0,40}") {
                refusal_is_located(&text);
            }

            #[test]
            fn mutated_scenarios_never_panic(
                seed in 0..SEEDS.len(),
                cut in any::<prop::sample::Index>(),
                len in 0usize..40,
                insert in "\\PC{0,12}",
            ) {
                let text = SEEDS[seed];
                let mut at = cut.index(text.len());
                while !text.is_char_boundary(at) { at -= 1; }
                let mut end = (at + len).min(text.len());
                while !text.is_char_boundary(end) { end -= 1; }
                let mutated = format!("{}{}{}", &text[..at], insert, &text[end..]);
                refusal_is_located(&mutated);
            }
        }
    }
}
