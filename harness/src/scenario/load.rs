//! Reading a scenario file: YAML → [`Scenario`], with every mistake reported as
//! `file:line:col: message` plus a snippet, then semantic validation.

use std::path::{Path, PathBuf};

use super::model::Scenario;
use super::validate;

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
    if let Some(problem) = validate::first_problem(&scenario) {
        return Err(invalid_at(path, text, problem.at.as_ref(), problem.message));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::model::Step;

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
        let Step::Request(r) = &s.steps[0].value else { panic!() };
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
            .map(|s| match &s.value {
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
