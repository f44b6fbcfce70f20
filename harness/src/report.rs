//! Reports. The runner and the CLI emit one stream of [`event::Event`]s; each
//! reporter subscribes to it: the terminal (progress while the run is long, then
//! the verdict table and a summary), `--report json=PATH` (a versioned document),
//! `--report junit=PATH` and `--report html=PATH` (one self-contained page with a
//! sequence diagram per case). `matrix` renders the client × check table.

pub mod event;
pub mod html;
pub mod json;
pub mod junit;
pub mod lanes;
pub mod markdown;
pub mod matrix;
pub mod merge;
pub mod terminal;

use std::path::PathBuf;

use crate::outcome::{CaseReport, RunSummary};

/// The area of a scenario id: its first path segment (`sampling/undeclared` → `sampling`).
pub fn area(scenario: &str) -> &str {
    scenario.split_once('/').map_or(scenario, |(a, _)| a)
}

/// A function that writes the case's canary as `{{canary}}`: reports prove a leak
/// without spreading what leaked.
pub fn redactor(case: &CaseReport) -> impl Fn(&str) -> String + use<> {
    let canary = case.record.trace.as_ref().and_then(|t| t.canary()).map(str::to_owned);
    move |s: &str| match &canary {
        Some(c) => s.replace(c.as_str(), "{{canary}}"),
        None => s.to_owned(),
    }
}

/// A report file to write: `--report KIND=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportFile {
    /// The versioned JSON document.
    Json(PathBuf),
    /// JUnit XML.
    Junit(PathBuf),
    /// The self-contained HTML page.
    Html(PathBuf),
}

impl std::str::FromStr for ReportFile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, path) =
            s.split_once('=').ok_or_else(|| format!("`{s}`: expected KIND=PATH (json, junit or html)"))?;
        if path.is_empty() {
            return Err(format!("`{s}`: the path is empty"));
        }
        let path = PathBuf::from(path);
        match kind {
            "json" => Ok(Self::Json(path)),
            "junit" => Ok(Self::Junit(path)),
            "html" => Ok(Self::Html(path)),
            other => Err(format!("unknown report kind `{other}` (json, junit or html)")),
        }
    }
}

impl ReportFile {
    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Json(p) | Self::Junit(p) | Self::Html(p) => p,
        }
    }

    /// Write the report of these runs.
    pub fn write(&self, runs: &[RunSummary]) -> std::io::Result<()> {
        match self {
            Self::Json(p) => json::write(p, runs),
            Self::Junit(p) => junit::write(p, runs),
            Self::Html(p) => html::write(p, runs),
        }
    }
}

/// A report file is a reporter: it writes itself when the run finishes.
impl event::Reporter for ReportFile {
    fn on(&mut self, e: &event::Event<'_>) -> std::io::Result<()> {
        match e {
            event::Event::RunFinished(summary) => self.write(std::slice::from_ref(*summary)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_specs_parse() {
        assert_eq!("json=out/r.json".parse(), Ok(ReportFile::Json("out/r.json".into())));
        assert_eq!("junit=j.xml".parse(), Ok(ReportFile::Junit("j.xml".into())));
        assert!("xml=j.xml".parse::<ReportFile>().unwrap_err().contains("unknown report kind"));
        assert!("html".parse::<ReportFile>().unwrap_err().contains("KIND=PATH"));
        assert!("html=".parse::<ReportFile>().is_err());
        assert_eq!(area("sampling/undeclared"), "sampling");
    }
}
