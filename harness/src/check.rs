//! Checks: pure functions from a recorded case (trace, logs, scenario) to
//! [`CheckResult`]s. No sockets, no processes; every check is testable on a
//! hand-written trace.
//!
//! Two families:
//! - **protocol checks**, run in every case whatever the scenario says:
//!   `session.initialize`, `session.initialized`, `wire.json-rpc`, `wire.id-echo`,
//!   `wire.one-answer`, `client.exits` (the client does not hang once the server
//!   ends the session), `capabilities.honest` when a capability-gated request was sent,
//!   and over HTTP `http.session` and (2025-06-18+) `http.protocol-version`;
//! - **scenario checks**, one per expectation in the file: `<step>.answered` (always,
//!   per request), `<step>.error`, `<step>.error-code`, `<step>.error-message`,
//!   `<step>.result` (or `<step>.not-answered` for a request that must stay unanswered),
//!   `<raw>.error-code-if-answered`, `notifications.<method>`, `capabilities.absent`, `capabilities.present`,
//!   `logs.warning-per-request`, `logs.no-canary-at-warning`, `logs.canary-at-debug`.
//!
//! Ids are `<scenario id>:<check>`; they are stable, and baselines refer to them.
//!
//! Checks read the compiled scenario ([`Compiled`]) and the recorded case, and return
//! ungraded [`Finding`]s; they know nothing of strictness, baselines or reports.

mod capabilities;
mod http;
mod hygiene;
pub mod model;
mod mrtr;
mod protocol;
mod requests;
pub mod session;

use backchannel_mock::protocol::Revision;
use backchannel_mock::trace::Trace;
use serde_json::Value;

pub use model::{Evidence, Finding, Outcome};
pub use session::Session;

use crate::logs::LogLine;
use crate::scenario::Compiled;
use crate::scenario::compiled::Expectation;
use crate::scenario::model::Severity;

/// Everything a case produced, for the checks.
#[derive(Debug, Clone, Copy)]
pub struct CaseInput<'a> {
    /// The scenario.
    pub compiled: &'a Compiled,
    /// The mock's trace; `None` when the mock never wrote one.
    pub trace: Option<&'a Trace>,
    /// The client's output, parsed.
    pub logs: &'a [LogLine],
    /// Strings that name the server in the client's logs (any one will do).
    pub server_names: &'a [String],
    /// How the client process ended.
    pub client: &'a ClientEnd,
    /// The protocol revision of the case.
    pub revision: Revision,
}

/// How the client process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEnd {
    /// It was still running after the session ended (or at the case timeout) and was killed.
    pub timed_out: bool,
    /// Its exit status, described.
    pub status: String,
    /// How long it was allowed to take after the session ended.
    pub after_end: std::time::Duration,
}

/// Evaluate every check of a case. The findings are ungraded: the rule each cites
/// is a key, resolved (and the severity lowered where the case's revision states the
/// rule as a SHOULD) by the grading step that follows.
pub fn evaluate(input: &CaseInput<'_>) -> Vec<Finding> {
    let empty = Trace::default();
    let trace = input.trace.unwrap_or(&empty);
    let session = Session::from_trace(trace);
    let mut out = Emitter { input: *input, out: Vec::new() };

    // 2026-07-28 has no handshake: the session starts with the client's first modern request.
    let modern = !input.revision.is_legacy();
    let started = if modern {
        mrtr::session_checks(&mut out, &session, input.trace.is_some())
    } else {
        protocol::session_checks(&mut out, &session, input.trace.is_some())
    };
    let not_applicable = if !started {
        Some("the client never initialized the session".to_owned())
    } else {
        unmet_requirement(input.compiled, &session)
    };
    if started {
        protocol::wire_checks(&mut out, &session);
        http::checks(&mut out, trace, &session);
        if modern {
            mrtr::honesty(&mut out, &session);
        } else {
            capabilities::honesty(&mut out, &session);
        }
    } else {
        for check in ["wire.json-rpc", "wire.id-echo", "wire.one-answer"] {
            out.skip(check, "the client never initialized the session");
        }
    }
    let ctx = ScenarioCtx { session: &session, trace, skip: not_applicable, started };
    capabilities::declared(&mut out, &ctx);
    requests::per_request(&mut out, &ctx);
    requests::per_raw(&mut out, &ctx);
    requests::notifications(&mut out, &ctx);
    mrtr::rounds(&mut out, &ctx);
    hygiene::logs(&mut out, &ctx);
    protocol::client_exit(&mut out, input.client);
    out.out
}

/// Shared state for the scenario checks.
pub(crate) struct ScenarioCtx<'a> {
    pub(crate) session: &'a Session,
    pub(crate) trace: &'a Trace,
    /// When set, every scenario check is skipped with this reason.
    pub(crate) skip: Option<String>,
    /// Whether the session started (protocol rules judged per step need only that).
    pub(crate) started: bool,
}

impl ScenarioCtx<'_> {
    /// Expand `{{canary}}` and `{{client_name}}` in an expected string.
    pub(crate) fn expand(&self, s: &str) -> String {
        let mut s = s.to_owned();
        if let Some(c) = self.trace.canary() {
            s = s.replace("{{canary}}", c);
        }
        if let Some(n) = self.session.client_name() {
            s = s.replace("{{client_name}}", n);
        }
        s
    }

    /// Expand placeholders in every string of an expected JSON value.
    pub(crate) fn expand_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.expand(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.expand_value(x)).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (self.expand(k), self.expand_value(x))).collect()),
            other => other.clone(),
        }
    }
}

fn unmet_requirement(compiled: &Compiled, session: &Session) -> Option<String> {
    let req = &compiled.requires;
    if let Some(cap) = req.undeclared.iter().find(|c| session.declares(c)) {
        return Some(format!("the client declares `{cap}`; this scenario is about clients that do not"));
    }
    if let Some(cap) = req.declared.iter().find(|c| !session.declares(c)) {
        return Some(format!("the client does not declare `{cap}`; this scenario is about clients that do"));
    }
    None
}

/// Collects findings.
pub(crate) struct Emitter<'a> {
    input: CaseInput<'a>,
    out: Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub(crate) fn push(&mut self, check: &str, severity: Severity, rule: &str, outcome: Outcome, evidence: Evidence) {
        self.out.push(Finding { check: check.to_owned(), severity, rule: Some(rule.to_owned()), outcome, evidence });
    }

    pub(crate) fn pass(&mut self, check: &str, severity: Severity, rule: &str, evidence: Evidence) {
        self.push(check, severity, rule, Outcome::Pass, evidence);
    }

    pub(crate) fn violated(&mut self, check: &str, severity: Severity, rule: &str, evidence: Evidence) {
        self.push(check, severity, rule, Outcome::Violated, evidence);
    }

    /// A protocol check that does not apply.
    pub(crate) fn skip(&mut self, check: &str, why: &str) {
        self.out.push(Finding {
            check: check.to_owned(),
            severity: Severity::Must,
            rule: None,
            outcome: Outcome::Skipped,
            evidence: Evidence::new(why),
        });
    }

    /// A graded check: pass/violated per `result`, or skipped per `ctx.skip`.
    pub(crate) fn graded(
        &mut self,
        ctx: &ScenarioCtx<'_>,
        check: &str,
        severity: Severity,
        rule: &str,
        result: Judged,
    ) {
        let (outcome, evidence) = match (&ctx.skip, result) {
            (Some(why), _) => (Outcome::Skipped, Evidence::new(why.clone())),
            (None, Judged::Pass(e)) => (Outcome::Pass, e),
            (None, Judged::Violated(e)) => (Outcome::Violated, e),
            (None, Judged::Skip(e)) => (Outcome::Skipped, e),
        };
        self.push(check, severity, rule, outcome, evidence);
    }

    /// A check of a scenario expectation.
    pub(crate) fn expected(&mut self, ctx: &ScenarioCtx<'_>, check: &str, e: &Expectation, result: Judged) {
        self.graded(ctx, check, e.severity, &e.rule, result);
    }

    pub(crate) fn input(&self) -> CaseInput<'a> {
        self.input
    }
}

/// A scenario check's finding before grading.
pub(crate) enum Judged {
    Pass(Evidence),
    Violated(Evidence),
    Skip(Evidence),
}

/// Whether `actual` contains `expected`: objects member-wise (recursively), arrays
/// element-wise with equal length, scalars equal. On mismatch, the JSON pointer
/// where they differ and why.
pub fn json_subset(expected: &Value, actual: &Value) -> Result<(), String> {
    fn go(e: &Value, a: &Value, path: &mut String) -> Result<(), String> {
        match (e, a) {
            (Value::Object(eo), Value::Object(ao)) => {
                for (k, ev) in eo {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    match ao.get(k) {
                        Some(av) => go(ev, av, path)?,
                        None => return Err(format!("{path}: missing")),
                    }
                    path.truncate(len);
                }
                Ok(())
            }
            (Value::Array(ea), Value::Array(aa)) => {
                if ea.len() != aa.len() {
                    return Err(format!("{}: {} items, expected {}", or_root(path), aa.len(), ea.len()));
                }
                for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    go(ev, av, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ if e == a => Ok(()),
            _ => Err(format!(
                "{}: {} is not {}",
                or_root(path),
                truncate(&a.to_string(), 120),
                truncate(&e.to_string(), 120)
            )),
        }
    }
    fn or_root(p: &str) -> &str {
        if p.is_empty() { "(root)" } else { p }
    }
    go(expected, actual, &mut String::new())
}

/// At most `max` characters of `s`, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
