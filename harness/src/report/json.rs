//! The JSON report (`--report json=PATH`).
//!
//! # Wire format
//!
//! One JSON document, `{"format": "backchannel-report", "version": 1, …}`; its JSON
//! Schema is `harness/report.schema.json` (`backchannel schema --report` prints
//! it). Version 1 promises: fields are only ever *added*; a removal or a change of
//! meaning bumps `version`. Readers should ignore fields they do not know.
//!
//! - `runs[]`: one per client under test (`backchannel matrix` writes several).
//! - `runs[].cases[]`: one per (scenario, transport, revision), in plan order.
//! - `runs[].cases[].checks[]`: one per check. Each carries the **official MCP
//!   conformance suite's per-check fields** — `id`, `name`, `description`,
//!   `status` (`SUCCESS`, `FAILURE`, `WARNING`, `SKIPPED`, `INFO`), `timestamp`
//!   (RFC 3339), `specReferences` (`[{id, url}]`), `details`, `errorMessage`,
//!   `logs` — so results can be compared with that suite's `checks.json`, plus
//!   this kit's: `verdict` (`PASS`, `FAIL`, `WARN`, `SKIP`, `XFAIL`, after the
//!   baseline), `severity`, `spec` (the rule with its sentence), `evidence`, and
//!   `known` (the baseline's reason).
//!
//! `status` maps the final verdict: PASS → SUCCESS, FAIL and INCONCLUSIVE →
//! FAILURE, WARN → WARNING, SKIP and N/A → SKIPPED, XFAIL (a known failure) and NOTE
//! → INFO. `runs[].outcome` is what the exit code says (PASS, FAIL, INCOMPLETE,
//! INTERRUPTED); `runs[].unjudged` names every planned case that was not judged. The run's canary is
//! written as `{{canary}}` in evidence and logs, as in the terminal report.

use std::path::Path;
use std::time::{Duration, SystemTime};

use backchannel_protocol::{Revision, Transport};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::outcome::{CaseReport, CheckResult, PlanInfo, RunSummary, Totals, Unjudged, Verdict};
use crate::scenario::SpecRef;
use crate::scenario::catalog::Source;

/// `format` of every version.
pub const FORMAT: &str = "backchannel-report";
/// The version this build writes.
pub const VERSION: u32 = 1;

/// The document.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct JsonReport {
    /// Always `backchannel-report`.
    #[schemars(extend("const" = "backchannel-report"))]
    pub format: String,
    /// The format version (1).
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// One per client under test.
    pub runs: Vec<JsonRun>,
}

/// The writer.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    /// `backchannel`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// One client's run.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct JsonRun {
    /// Who was under test.
    pub client: String,
    /// SHOULD violations graded FAIL.
    pub strict: bool,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Verdict counts.
    pub totals: Totals,
    /// Baseline entries the client now passes (each fails the run).
    pub stale_baseline: Vec<String>,
    /// How the run ended: `PASS`, `FAIL`, `INCOMPLETE` (a planned case was not judged)
    /// or `INTERRUPTED` (SIGINT/SIGTERM; the cases that finished are below).
    pub outcome: String,
    /// How many cases were planned.
    pub planned: usize,
    /// Planned cases that were not judged, and why.
    pub unjudged: Vec<Unjudged>,
    /// The signal that interrupted the run (2 SIGINT, 15 SIGTERM), if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<i32>,
    /// The plan this run covered: its size, the shard, the digest of the scenarios.
    #[serde(default)]
    pub plan: PlanInfo,
    /// Baseline entries that turned a FAIL or WARN into XFAIL.
    #[serde(default)]
    pub baseline_used: Vec<String>,
    /// The cases, in plan order.
    pub cases: Vec<JsonCase>,
}

/// One case: a scenario on one transport at one revision.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct JsonCase {
    /// The scenario id (`sampling/undeclared`).
    pub scenario: String,
    /// Its area (`sampling`).
    pub area: String,
    /// Its title.
    pub title: String,
    /// `stdio`, `http` or `sse`.
    pub transport: Transport,
    /// The protocol revision the case pinned.
    pub revision: Revision,
    /// Its position in the unsharded plan.
    #[serde(default)]
    pub plan_index: usize,
    /// The worst final verdict of its checks.
    pub verdict: Verdict,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// How the client process ended.
    pub client_status: String,
    /// The last lines of the client's stderr.
    pub stderr_tail: Vec<String>,
    /// The checks.
    pub checks: Vec<JsonCheck>,
}

/// The official suite's check status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// PASS.
    Success,
    /// FAIL.
    Failure,
    /// WARN.
    Warning,
    /// SKIP.
    Skipped,
    /// XFAIL: a failure the client's baseline lists.
    Info,
}

impl From<Verdict> for Status {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Pass => Self::Success,
            Verdict::Fail => Self::Failure,
            Verdict::Warn => Self::Warning,
            Verdict::Skip | Verdict::NotApplicable => Self::Skipped,
            Verdict::Known | Verdict::Note => Self::Info,
            // Not a pass: a consumer of the official fields must not read it as one.
            Verdict::Inconclusive => Self::Failure,
        }
    }
}

/// A spec reference as the official suite writes it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SpecReference {
    /// The rule's catalogue key (`lifecycle/negotiated-capabilities`).
    pub id: String,
    /// Where the rule is stated, when it has a public address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One check.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonCheck {
    /// Stable id `<scenario>:<check>` (what baselines list).
    pub id: String,
    /// The check (`sampling/createMessage.error-code`).
    pub name: String,
    /// The sentence the check enforces (empty for checks without a rule).
    pub description: String,
    /// The official suite's status.
    pub status: Status,
    /// When the case finished (RFC 3339).
    pub timestamp: String,
    /// The rule, with its public address.
    pub spec_references: Vec<SpecReference>,
    /// The evidence, as structured data.
    pub details: Value,
    /// The evidence summary, when the check did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The client's log line that decided the check, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// The final verdict (after the baseline).
    pub verdict: Verdict,
    /// `must` or `should`.
    pub severity: crate::scenario::model::Severity,
    /// The rule, as the case's revision states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<SpecRef>,
    /// The baseline's reason, for an XFAIL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
}

/// The public address of a rule: the MCP spec page of its revision, or JSON-RPC 2.0.
pub fn spec_url(spec: &SpecRef) -> Option<String> {
    let rev = match spec.source {
        Source::JsonRpc => return Some("https://www.jsonrpc.org/specification".to_owned()),
        Source::Mcp(rev) => rev,
        Source::Kit | Source::Other(_) => return None,
    };
    if spec.section.starts_with("schema.json") {
        return Some(format!(
            "https://github.com/modelcontextprotocol/modelcontextprotocol/blob/main/schema/{rev}/schema.json"
        ));
    }
    let page = spec.section.split([':', ';', ' ']).next()?.strip_suffix(".mdx")?;
    Some(format!("https://modelcontextprotocol.io/specification/{rev}/{page}"))
}

/// RFC 3339, UTC, seconds.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn check(c: &CheckResult, finished: &str, redact: &dyn Fn(&str) -> String) -> JsonCheck {
    let verdict = c.final_verdict();
    let mut details = serde_json::to_value(&c.evidence).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut details {
        for v in m.values_mut() {
            if let Value::String(s) = v {
                *s = redact(s);
            }
        }
    }
    JsonCheck {
        id: c.id.clone(),
        name: c.check.clone(),
        description: c.spec.as_ref().map(|s| s.text.clone()).unwrap_or_default(),
        status: verdict.into(),
        timestamp: finished.to_owned(),
        spec_references: c.spec.iter().map(|s| SpecReference { id: s.key.clone(), url: spec_url(s) }).collect(),
        details,
        error_message: (!matches!(verdict, Verdict::Pass | Verdict::Skip)).then(|| redact(&c.evidence.summary)),
        logs: c.evidence.log_line.iter().map(|l| redact(l)).collect(),
        verdict,
        severity: c.severity,
        spec: c.spec.clone(),
        known: c.known.clone(),
    }
}

fn case(case: &CaseReport) -> JsonCase {
    let redact = super::redactor(case);
    let r = &case.record;
    let finished = rfc3339(r.finished_at);
    JsonCase {
        scenario: r.scenario.clone(),
        area: super::area(&r.scenario).to_owned(),
        title: r.title.clone(),
        transport: r.transport,
        revision: r.revision,
        plan_index: r.plan_index,
        verdict: case.worst(),
        duration_ms: millis(r.duration),
        client_status: r.client_status.clone(),
        stderr_tail: r.stderr_tail.iter().map(|l| redact(l)).collect(),
        checks: case.checks.iter().map(|c| check(c, &finished, &redact)).collect(),
    }
}

/// The document for these runs.
pub fn build(runs: &[RunSummary]) -> JsonReport {
    JsonReport {
        format: FORMAT.to_owned(),
        version: VERSION,
        tool: Tool { name: "backchannel".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() },
        runs: runs
            .iter()
            .map(|s| JsonRun {
                client: s.client.clone(),
                strict: s.strict,
                started_at: rfc3339(s.started_at),
                duration_ms: millis(s.elapsed),
                totals: s.totals(),
                stale_baseline: s.stale.clone(),
                outcome: s.outcome().word().to_owned(),
                planned: s.planned,
                unjudged: s.unjudged.clone(),
                interrupted: s.interrupted,
                plan: s.plan.clone(),
                baseline_used: s.baseline_used.clone(),
                cases: s.reports.iter().map(case).collect(),
            })
            .collect(),
    }
}

/// Write the document for these runs to `path`.
pub fn write(path: &Path, runs: &[RunSummary]) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(&build(runs)).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// The report's JSON Schema (draft-07), pretty-printed: `harness/report.schema.json`.
pub fn schema() -> String {
    // The shape this kit *writes*: fields skipped when empty are not required.
    let mut settings = schemars::generate::SchemaSettings::draft07();
    settings.contract = schemars::generate::Contract::Serialize;
    let schema = settings.into_generator().into_root_schema_for::<JsonReport>();
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    out.push('\n');
    out
}
