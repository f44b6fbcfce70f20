//! Checks: pure functions from a recorded case (the compiled scenario, the trace,
//! the client's logs, how it ended) to ungraded [`Finding`]s. No sockets, no
//! processes; every check is testable on a hand-written trace (`check::tests`).
//! Grading — the rule as the case's revision states it, strictness, the baseline —
//! is [`crate::outcome::Grader`]'s.
//!
//! Every kind of check is listed once, with what it judges, in [`registry`]: the
//! protocol checks run in every case, the scenario checks come from the file's
//! steps and expectations, the gateway checks ([`gateway`]) run in gateway mode.
//! Ids are `<scenario id>:<check>`; they are stable, and baselines refer to them.
//!
//! [`evaluate`] establishes what the case is (did the session start, does the
//! scenario apply to this client) and hands each check what it judges: the
//! [`Session`] view of the wire and a `ScenarioCtx` (the scenario, the trace, the
//! logs, the client's end, the revision, the claims); checks write their findings
//! to an `Emitter`, which they never read from.

mod answers;
mod capabilities;
pub mod gateway;
mod http;
mod hygiene;
pub mod model;
mod mrtr;
mod protocol;
pub mod registry;
mod requests;
mod resume;
pub mod session;
pub mod shapes;

use backchannel_mock::trace::{EventKind, Trace};
use backchannel_protocol::{Revision, Transport};
use serde_json::Value;

pub use model::{Evidence, Finding, Outcome};
pub use session::Session;

use crate::logs::{Level, LogLine};
use crate::scenario::compiled::{ClientPlan, Expectation, Knob, Knobs};
use crate::scenario::model::Severity;
use crate::scenario::{Compiled, TRIGGER_TOOL};

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
    /// The knobs the client claims to honour (all of them for the reference client).
    pub claims: &'a Knobs,
    /// In gateway mode: what the downstream client received through the gateway.
    pub downstream: Option<&'a gateway::Delivered>,
    /// Whether the client claims to speak the case's transport (the reference
    /// client, a profile that lists it); a bare command claims none of the optional ones.
    pub transport_claimed: bool,
}

/// How the client process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEnd {
    /// It was still running after the session ended (or at the case timeout) and was killed.
    pub timed_out: bool,
    /// It was killed for sitting idle once the session was over (hung); a client
    /// killed at the time limit while busy or still starting was not.
    pub hung: bool,
    /// Its exit status, described.
    pub status: String,
    /// How long it may sit idle (no CPU time) after the session ended before it
    /// counts as hanging.
    pub after_end: std::time::Duration,
    /// Its output hit the capture cap: the logs are cut.
    pub output_truncated: bool,
}

/// Evaluate every check of a case. The findings are ungraded: the rule each cites
/// is a key, resolved (and the severity lowered where the case's revision states the
/// rule as a SHOULD) by the grading step that follows.
pub fn evaluate(input: &CaseInput<'_>) -> Vec<Finding> {
    // The self-tests prove a panicking check loses nothing: the run is incomplete,
    // never PASS. Only in builds with the test fixtures.
    #[cfg(feature = "fixtures")]
    if std::env::var("BACKCHANNEL_FIXTURE_PANIC_IN_CHECKS").is_ok_and(|id| id == input.compiled.id) {
        panic!("a panic injected into the checks of {} (BACKCHANNEL_FIXTURE_PANIC_IN_CHECKS)", input.compiled.id);
    }
    let empty = Trace::default();
    let trace = input.trace.unwrap_or(&empty);
    let session = Session::from_trace(trace);
    let mut out = Emitter::default();
    let plan = &input.compiled.client;
    let knobs = plan.knobs(input.revision);
    let took_up = |k: Knob| knob_taken_up(k, &session, input.logs, plan);
    let unclaimed_and_untaken = |k: Knob| knobs.contains(&k) && !took_up(k) && !input.claims.contains(&k);

    // 2026-07-28 has no handshake: the session starts with the client's first modern
    // request. A client that never asked for that revision does not speak it: N/A.
    let modern = !input.revision.is_legacy();
    // Likewise a transport the client need not speak: HTTP+SSE, the legacy transport a
    // client takes up only to reach older servers. A client that never opened its GET
    // stream does not speak it — unless it claims to (the reference client, a profile
    // that lists `sse` under `transports:`).
    // Not opening the stream tells that only once the client has given up on its own,
    // or POSTed to the stream's URL as Streamable HTTP does: one killed at the timeout
    // before it connected may have been slow (inconclusive, below).
    let legacy_sse_unspoken = trace.start().is_some_and(|s| s.transport == Transport::Sse)
        && !input.transport_claimed
        && !trace.events().any(|e| matches!(e.kind, EventKind::Endpoint { .. }))
        && (!input.client.timed_out || trace.http_exchanges().any(|h| h.method == "POST"));
    let modern_na = if modern {
        unclaimed_and_untaken(Knob::Modern).then(|| {
            format!(
                "N/A: the client does not speak {} (it never asked for it nor probed server/discover)",
                input.revision
            )
        })
    } else {
        legacy_sse_unspoken
            .then(|| {
                "N/A: the client does not speak HTTP+SSE (it never opened the legacy transport's GET stream; a client need not speak it, and does not claim to)".to_owned()
            })
            .or_else(|| revision_unspoken(&session, input.revision))
    };
    // A client that had not sent a single frame when the session's own timeout ended
    // it was still starting, or hung: a timer must not decide which (a slow client on
    // a loaded machine is not a broken one). The case cannot be judged — the run is
    // incomplete, never PASS — and a client that hangs still fails `client.exits`.
    // Likewise a stdio client killed at the case's timeout before it launched the server.
    let silent_until_timeout = (input.trace.is_some()
        && session.client_frames.is_empty()
        && trace.end().is_some_and(|e| e.reason == backchannel_mock::trace::EndReason::Timeout))
        || (input.trace.is_none() && input.client.timed_out);
    let started = match (&modern_na, modern) {
        (Some(why), _) => {
            let checks: &[&str] =
                if modern { &["session.modern", "mrtr.request-meta"] } else { &["session.initialize"] };
            for check in checks {
                out.not_applicable(check, why);
            }
            false
        }
        _ if silent_until_timeout => {
            let (check, rule) = if modern {
                ("session.modern", "mrtr/request-meta")
            } else {
                ("session.initialize", "lifecycle/initialize-first")
            };
            let secs = input.compiled.timeout.as_secs_f64();
            let why = if input.trace.is_none() {
                "the client was killed at the case's timeout before it launched the server: still starting or hung, which a timer cannot tell apart (rerun with fewer --jobs on a loaded machine)".to_owned()
            } else {
                format!(
                    "the client sent nothing before the session's {secs:.0} s timeout ended it: still starting or hung, which a timer cannot tell apart (rerun with fewer --jobs on a loaded machine)"
                )
            };
            out.push(check, Severity::Must, rule, Outcome::Inconclusive, Evidence::new(why));
            false
        }
        (None, true) => mrtr::session_checks(&mut out, &session, input.trace.is_some()),
        (None, false) => protocol::session_checks(&mut out, &session, input.trace.is_some()),
    };
    // What the client was configured to do is judged in a session that started.
    match (&modern_na, started) {
        (_, true) => configured(&mut out, &knobs, input.claims, &took_up),
        (Some(why), false) if knobs.iter().any(|k| input.claims.contains(k)) => {
            out.not_applicable("client.configured", why);
        }
        (None, false) if knobs.iter().any(|k| input.claims.contains(k)) => {
            out.skip("client.configured", "the client never started the session");
        }
        _ => {}
    }
    let scenario_na = if !started {
        modern_na.clone().or_else(|| Some("the client never initialized the session".to_owned()))
    } else if unclaimed_and_untaken(Knob::CallTool) {
        Some(format!(
            "N/A: the client never called the scenario's tool (it does not take up {})",
            Knob::CallTool.source()
        ))
    } else {
        unmet_requirement(input.compiled, &session)
    };
    if started {
        protocol::wire_checks(&mut out, &session, input.revision);
        http::checks(&mut out, trace, &session, &input.compiled.tools());
        if modern {
            mrtr::honesty(&mut out, &session);
        } else {
            capabilities::honesty(&mut out, &session);
        }
        answers::checks(&mut out, &session, trace, session.negotiated.unwrap_or(input.revision));
    } else {
        if modern && modern_na.is_none() && session.sent_requests().any(|(m, _)| m == "server/discover") {
            // A 2026-07-28 client whose every request was refused for its headers
            // never starts a session: the headers say why. (One that opened with
            // `initialize` does not speak the revision: `session.modern` says so.)
            http::checks(&mut out, trace, &session, &input.compiled.tools());
        }
        for check in ["wire.json-rpc", "wire.id-echo", "wire.one-answer"] {
            match &modern_na {
                Some(why) => out.not_applicable(check, why),
                None => out.skip(check, "the client never initialized the session"),
            }
        }
    }
    let ctx = ScenarioCtx {
        compiled: input.compiled,
        session: &session,
        trace,
        logs: input.logs,
        server_names: input.server_names,
        client: input.client,
        na: scenario_na,
        never_started: !started && modern_na.is_none(),
        started,
        plan,
        claims: input.claims,
        revision: input.revision,
        downstream: input.downstream,
    };
    capabilities::declared(&mut out, &ctx);
    requests::per_request(&mut out, &ctx);
    requests::per_raw(&mut out, &ctx);
    requests::notifications(&mut out, &ctx);
    mrtr::rounds(&mut out, &ctx);
    mrtr::breaks(&mut out, &ctx);
    resume::closes(&mut out, &ctx);
    hygiene::logs(&mut out, &ctx);
    match input.downstream {
        // A gateway serves many sessions: it outlives one upstream session by design,
        // and the harness stops it (no `client.exits`).
        Some(downstream) => gateway::checks(&mut out, &ctx, downstream),
        None => protocol::client_exit(&mut out, input.client),
    }
    // A check of no kind in the registry is undocumented and may have no fixture
    // that fails it: a bug of the kit, caught by every test.
    #[cfg(debug_assertions)]
    for f in &out.out {
        assert!(registry::kind_of(&f.check).is_some(), "check `{}` is of no kind in check::registry", f.check);
    }
    out.out
}

/// Whether the client took up a knob: declared what it configures, logged at DEBUG,
/// called the tool (or got the prompt, read the resource the rounds answer), spoke 2026-07-28.
fn knob_taken_up(knob: Knob, session: &Session, logs: &[LogLine], plan: &ClientPlan) -> bool {
    match knob {
        Knob::Roots => session.declares("roots"),
        Knob::RootsChange => session.declares("roots.listChanged"),
        Knob::Elicitation => session.declares("elicitation"),
        Knob::Sampling => session.declares("sampling"),
        Knob::LogLevel => logs.iter().any(|l| l.level.is_some_and(|lv| lv <= Level::Debug)),
        Knob::CallTool => session.requests.iter().any(|r| {
            let m = plan.trigger_request;
            r.method == m.as_str()
                && r.params.as_ref().and_then(|p| p.get(m.name_field())).and_then(Value::as_str)
                    == Some(m.target(TRIGGER_TOOL).as_str())
        }),
        Knob::Modern => session.asked_for_modern(),
    }
}

/// `client.configured`: every knob the scenario turns that the client claims to
/// honour is taken up. Emitted only when the client claims one of them.
fn configured(out: &mut Emitter, knobs: &Knobs, claims: &Knobs, took_up: &dyn Fn(Knob) -> bool) {
    let claimed: Vec<Knob> = knobs.iter().copied().filter(|k| claims.contains(k)).collect();
    if claimed.is_empty() {
        return;
    }
    let rule = "policy/client-honours-knobs";
    let ignored: Vec<Knob> = claimed.iter().copied().filter(|k| !took_up(*k)).collect();
    if ignored.is_empty() {
        let names: Vec<&str> = claimed.iter().map(|k| k.as_str()).collect();
        out.pass("client.configured", Severity::Must, rule, Evidence::new(format!("took up {}", names.join(", "))));
    } else {
        let names: Vec<String> = ignored.iter().map(|k| format!("{} ({})", k.as_str(), k.source())).collect();
        out.violated(
            "client.configured",
            Severity::Must,
            rule,
            Evidence::new(format!("the client claims to honour, yet did not take up: {}", names.join(", "))),
        );
    }
}

/// What the scenario checks judge: the case (its scenario, the wire, the client's
/// logs and end) and what evaluating it has established (whether the session
/// started, why the scenario does not apply). Checks read it; they write only to the
/// [`Emitter`].
#[derive(Clone)]
pub(crate) struct ScenarioCtx<'a> {
    /// The scenario.
    pub(crate) compiled: &'a Compiled,
    pub(crate) session: &'a Session,
    pub(crate) trace: &'a Trace,
    /// The client's output, parsed.
    pub(crate) logs: &'a [LogLine],
    /// Strings that name the server in the client's logs.
    pub(crate) server_names: &'a [String],
    /// How the client process ended.
    pub(crate) client: &'a ClientEnd,
    /// When set, every scenario check is not applicable (or, when the session never
    /// started, skipped) for this reason.
    pub(crate) na: Option<String>,
    /// The session never started (nothing to judge: SKIP, not N/A).
    pub(crate) never_started: bool,
    /// Whether the session started (protocol rules judged per step need only that).
    pub(crate) started: bool,
    /// How the scenario configures the client.
    pub(crate) plan: &'a ClientPlan,
    /// The knobs the client claims to honour.
    pub(crate) claims: &'a Knobs,
    /// The case's revision.
    pub(crate) revision: Revision,
    /// In gateway mode: what reached the downstream client through the gateway.
    pub(crate) downstream: Option<&'a gateway::Delivered>,
}

impl<'a> ScenarioCtx<'a> {
    /// This context for a rule of the spec that binds every client, whatever the
    /// scenario `requires:` (an MRTR retry's id, a closed stream's resumption): N/A
    /// only when the session never started.
    pub(crate) fn spec_wide(&self) -> ScenarioCtx<'a> {
        ScenarioCtx { na: self.na.clone().filter(|_| !self.started), ..self.clone() }
    }

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

    /// Why a check that needs capability `path` (dotted) is not applicable: the
    /// scenario configures it, the client does not declare it, and does not claim the
    /// knob. `None`: judge it.
    pub(crate) fn needs(&self, path: &str) -> Option<String> {
        let knob = self.plan.configures(path)?;
        if self.session.declares(path) || self.claims.contains(&knob) {
            return None;
        }
        Some(format!("N/A: the client does not declare `{path}` (it does not take up {})", knob.source()))
    }

    /// Why an expectation on what the client *answers* to a request that needs
    /// capability `path` is not applicable: the scenario configures the client for it
    /// (the roots to list, the action to take, how long to take) and the client does
    /// not claim that knob. A client that declares the capability of its own (an IDE
    /// exposing its workspace, a client that accepts elicitations) answers with its
    /// own values: they are judged for validity (`answers.*`), never against the
    /// values the knob dictates. `None`: judge it.
    pub(crate) fn dictates(&self, path: &str) -> Option<String> {
        let knob = self.plan.configures(path)?;
        if !self.claims.contains(&knob) {
            if !self.session.declares(path) {
                return self.needs(path);
            }
            return Some(format!(
                "N/A: the client declares `{path}` of its own but does not claim {}: what it answers is its own, not what this scenario configures (answers.* judge it for validity)",
                knob.source()
            ));
        }
        // The roots listed after a change are the change's: a client that serves the
        // roots it was given but cannot change them is not judged on the new ones.
        let change = (path == "roots").then(|| self.plan.configures("roots.listChanged")).flatten();
        change.filter(|k| !self.claims.contains(k)).map(|k| {
            format!(
                "N/A: the roots this request should list are the ones the scenario changes to, and the client does not claim {} (it serves the roots it was given; answers.* judge them for validity)",
                k.source()
            )
        })
    }

    /// Why advice on the DEBUG log does not apply: the scenario asks for DEBUG, the
    /// client logged no DEBUG line at all, and does not claim the knob.
    pub(crate) fn log_level_not_taken(&self) -> Option<String> {
        let asked = self.plan.knobs(self.revision).contains(&Knob::LogLevel);
        let took = knob_taken_up(Knob::LogLevel, self.session, self.logs, self.plan);
        (asked && !took && !self.claims.contains(&Knob::LogLevel))
            .then(|| format!("N/A: the client logs nothing at DEBUG (it does not take up {})", Knob::LogLevel.source()))
    }

    /// The capability path a server→client method needs at this case's revision
    /// (`elicitation.<mode>` where elicitation has modes).
    pub(crate) fn path_for(&self, method: &str, params: Option<&Value>) -> Option<String> {
        let cap = self.revision.capability_for(method)?;
        if cap == "elicitation" && self.revision.has_elicitation_modes() {
            let mode = params.and_then(|p| p.get("mode")).and_then(Value::as_str).unwrap_or("form");
            return Some(format!("elicitation.{mode}"));
        }
        Some(cap.to_owned())
    }
}

/// Why a legacy case does not apply: the client asked for an older revision, the
/// server answered with the case's, and the client went no further. "If the client
/// does not support the version in the server's response, it SHOULD disconnect"
/// (`basic/lifecycle.mdx`, every legacy revision): it did what it should, in a
/// revision it does not speak.
fn revision_unspoken(session: &Session, revision: Revision) -> Option<String> {
    let (_, params) = session.initialize.as_ref()?;
    let asked = params.get("protocolVersion").and_then(Value::as_str).and_then(Revision::from_wire)?;
    let gone = session.initialized.is_none() && session.requests.len() == 1;
    (asked < revision && session.negotiated == Some(revision) && gone).then(|| {
        format!(
            "N/A: the client does not speak {revision}: it asked for {asked} and went no further once the server answered {revision} (a client SHOULD disconnect from a version it does not support)"
        )
    })
}

fn unmet_requirement(compiled: &Compiled, session: &Session) -> Option<String> {
    let req = &compiled.requires;
    if let Some(cap) = req.undeclared.iter().find(|c| session.declares(c)) {
        return Some(format!("N/A: the client declares `{cap}`; this scenario is about clients that do not"));
    }
    if let Some(cap) = req.declared.iter().find(|c| !session.declares(c)) {
        return Some(format!("N/A: the client does not declare `{cap}`; this scenario is about clients that do"));
    }
    None
}

/// Collects findings: a sink, never a source — what a check judges comes in as its
/// arguments.
#[derive(Default)]
pub(crate) struct Emitter {
    out: Vec<Finding>,
}

impl Emitter {
    pub(crate) fn push(&mut self, check: &str, severity: Severity, rule: &str, outcome: Outcome, evidence: Evidence) {
        self.out.push(Finding { check: check.to_owned(), severity, rule: Some(rule.to_owned()), outcome, evidence });
    }

    pub(crate) fn pass(&mut self, check: &str, severity: Severity, rule: &str, evidence: Evidence) {
        self.push(check, severity, rule, Outcome::Pass, evidence);
    }

    pub(crate) fn violated(&mut self, check: &str, severity: Severity, rule: &str, evidence: Evidence) {
        self.push(check, severity, rule, Outcome::Violated, evidence);
    }

    /// A protocol check with nothing to judge.
    pub(crate) fn skip(&mut self, check: &str, why: &str) {
        self.unruled(check, Outcome::Skipped, why);
    }

    /// A protocol check that does not apply to this client.
    pub(crate) fn not_applicable(&mut self, check: &str, why: &str) {
        self.unruled(check, Outcome::NotApplicable, why);
    }

    fn unruled(&mut self, check: &str, outcome: Outcome, why: &str) {
        self.out.push(Finding {
            check: check.to_owned(),
            severity: Severity::Must,
            rule: None,
            outcome,
            evidence: Evidence::new(why),
        });
    }

    /// A graded check: per `result`, unless the whole scenario does not apply (`ctx.na`).
    pub(crate) fn graded(
        &mut self,
        ctx: &ScenarioCtx<'_>,
        check: &str,
        severity: Severity,
        rule: &str,
        result: Judged,
    ) {
        let (outcome, evidence) = match (&ctx.na, result) {
            (Some(why), _) if ctx.never_started => (Outcome::Skipped, Evidence::new(why.clone())),
            (Some(why), _) => (Outcome::NotApplicable, Evidence::new(why.clone())),
            (None, Judged::Pass(e)) => (Outcome::Pass, e),
            (None, Judged::Violated(e)) => (Outcome::Violated, e),
            (None, Judged::Skip(e)) => (Outcome::Skipped, e),
            (None, Judged::NotApplicable(e)) => (Outcome::NotApplicable, e),
            (None, Judged::Inconclusive(e)) => (Outcome::Inconclusive, e),
        };
        self.push(check, severity, rule, outcome, evidence);
    }

    /// A check of a scenario expectation.
    pub(crate) fn expected(&mut self, ctx: &ScenarioCtx<'_>, check: &str, e: &Expectation, result: Judged) {
        self.graded(ctx, check, e.severity, &e.rule, result);
    }
}

/// A scenario check's finding before grading.
pub(crate) enum Judged {
    Pass(Evidence),
    Violated(Evidence),
    Skip(Evidence),
    NotApplicable(Evidence),
    Inconclusive(Evidence),
}

impl Judged {
    /// Not applicable for this reason, when there is one; `self` otherwise.
    pub(crate) fn unless(self, na: Option<String>) -> Self {
        match na {
            Some(why) => Self::NotApplicable(Evidence::new(why)),
            None => self,
        }
    }
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
