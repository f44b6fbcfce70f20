//! Every check can fail: each mode of the deliberately broken client
//! (`tests/fixtures/broken_client.rs`) has one bug, and running the scenarios
//! against it must produce exactly the FAILs and WARNs that bug explains — the
//! right checks, and no unrelated one. Mode `good` is the control: the same client
//! without a bug passes everything, so the failures are the bugs' and not the
//! fixture's.
//!
//! The expected verdicts are derived from each scenario's *declared* structure
//! (its requests, their expectations and severities, its log and capability
//! expectations) by a rule per bug — "a client that never answers fails every
//! request's `.answered` and nothing else" — so new scenarios are covered without
//! new tables, and no expectation is read off the checks' own output.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use backchannel_harness::check::Verdict;
use backchannel_harness::runner::{ClientSpec, RunConfig, run_case};
use backchannel_harness::scenario::compile::{ScriptedRaw, ScriptedRound};
use backchannel_harness::scenario::model::InputSpec;
use backchannel_harness::scenario::model::{DeliveryKind, Revision, Severity, SpecLevel, Transport};
use backchannel_harness::scenario::{Compiled, ScriptedRequest, compile_file, resolve_spec};

use crate::support::{builtin_scenarios, exe, root};

type Found = BTreeSet<(String, Verdict)>;

/// The verdict a violated expectation gets at revision `rev`: its severity,
/// lowered to a WARN where the cited rule is a SHOULD at that revision.
fn graded(c: &Compiled, severity: Severity, spec: &str, rev: Revision) -> Verdict {
    let should = resolve_spec(&c.scenario, spec, rev).is_some_and(|s| s.level == SpecLevel::Should);
    match severity {
        Severity::Must if !should => Verdict::Fail,
        _ => Verdict::Warn,
    }
}

/// How the fixture, without a bug, answers a scripted request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Good {
    /// A success result.
    Result,
    /// An error response.
    Error,
    /// No answer: the scenario cancels it (`no_answer`), and the fixture honours that.
    Cancelled,
}

/// The fixture model: what the broken client does in mode `mode` on scenario `c`
/// at revision `rev`, written from its source (tests/fixtures/broken_client.rs).
struct Model<'a> {
    c: &'a Compiled,
    rev: Revision,
    mode: &'a str,
}

impl Model<'_> {
    fn has_roots(&self) -> bool {
        let client = &self.c.scenario.client;
        (!client.roots.is_empty() || client.roots_change.is_some()) && self.mode != "no-roots-cap"
    }

    /// The elicitation modes the fixture declares (`empty` for `{}`).
    fn elicitation(&self) -> Option<Vec<&'static str>> {
        self.c.scenario.client.elicitation.as_ref().map(|e| e.contract_modes())
    }

    /// Whether the fixture declares capability `path` (dotted).
    fn declares(&self, path: &str) -> bool {
        let mut parts = path.split('.');
        let (top, sub) = (parts.next().unwrap_or_default(), parts.next());
        match (top, sub) {
            ("roots", None) => self.has_roots(),
            ("roots", Some("listChanged")) => self.has_roots() && self.c.scenario.client.roots_change.is_some(),
            ("sampling", None) => self.mode == "declare-sampling",
            ("elicitation", None) => self.elicitation().is_some(),
            ("elicitation", Some(m)) => self.elicitation().is_some_and(|modes| modes.contains(&m)),
            _ => false,
        }
    }

    /// Whether the scenario's `requires:` hold for the fixture (else its own checks SKIP).
    fn requirements_met(&self) -> bool {
        let req = &self.c.scenario.requires;
        req.declared.iter().all(|p| self.declares(p)) && !req.undeclared.iter().any(|p| self.declares(p))
    }

    fn good(&self, r: &ScriptedRequest) -> Good {
        if r.expect.no_answer.is_some() {
            return Good::Cancelled;
        }
        match r.method.as_str() {
            "ping" => Good::Result,
            "roots/list" if self.has_roots() => Good::Result,
            "elicitation/create" if self.elicitation().is_some() && self.rev >= Revision::V2025_06_18 => {
                let p = r.params.clone().unwrap_or_default();
                let text = |k: &str| p.get(k).is_some_and(serde_json::Value::is_string);
                let requested = p.get("mode").and_then(serde_json::Value::as_str).unwrap_or("form");
                let valid = text("message")
                    && match requested {
                        "form" => p.get("requestedSchema").is_some_and(serde_json::Value::is_object),
                        "url" => text("url") && text("elicitationId"),
                        _ => false,
                    };
                if valid && self.declares(&format!("elicitation.{requested}"))
                    || valid && requested == "form" && self.elicitation().is_some_and(|m| m.contains(&"empty"))
                {
                    Good::Result
                } else {
                    Good::Error
                }
            }
            _ => Good::Error,
        }
    }

    /// The capability `method` needs in this revision (see check/capabilities.rs).
    fn gate(&self, method: &str) -> Option<&'static str> {
        match method {
            "sampling/createMessage" => Some("sampling"),
            "elicitation/create" if self.rev >= Revision::V2025_06_18 => Some("elicitation"),
            "roots/list" => Some("roots"),
            _ => None,
        }
    }

    /// Whether the fixture answers a raw line (with a null-id error).
    fn answers_raw(line: &str) -> bool {
        match serde_json::from_str::<serde_json::Value>(line) {
            Err(_) => true,
            Ok(serde_json::Value::Array(items)) => items.is_empty(),
            Ok(v) => {
                let response = v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some());
                v.get("jsonrpc") != Some(&serde_json::json!("2.0")) || (v.get("method").is_none() && !response)
            }
        }
    }
}

/// The fixture's `wrong-id` mangling of a written id.
fn wrong_id(id: &serde_json::Value) -> serde_json::Value {
    match id {
        serde_json::Value::Number(n) => serde_json::Value::String(n.to_string()),
        serde_json::Value::String(s) => s.parse::<i64>().map_or_else(|_| id.clone(), |n| serde_json::json!(n)),
        other => other.clone(),
    }
}

/// Checks that run whatever the scenario requires (the rest SKIP when its
/// `requires:` do not hold).
fn protocol_wide(check: &str) -> bool {
    ["session.", "wire.", "http.", "client.", "mrtr.", "capabilities.honest"].iter().any(|p| check.starts_with(p))
        || [".new-id", ".request-state", ".retry-inputs"].iter().any(|s| check.ends_with(s))
}

struct Expect {
    required: Found,
    /// Also acceptable (only where the bug makes timing or attribution matter).
    allowed: Found,
}

/// The verdicts mode `mode` must produce on scenario `c` over `t` at revision `rev`.
fn expected(mode: &str, c: &Compiled, t: Transport, rev: Revision) -> Expect {
    if !rev.is_legacy() {
        return expected_modern(mode, c);
    }
    let m = Model { c, rev, mode };
    let id = |check: &str| format!("{}:{check}", c.id);
    let v = |severity: Severity, spec: &str| graded(c, severity, spec, rev);
    let mut req = Found::new();
    let mut allowed = Found::new();
    let reqs = &c.requests;
    let answered: Vec<&ScriptedRequest> = reqs.iter().filter(|r| m.good(r) != Good::Cancelled).collect();
    let errors: Vec<&ScriptedRequest> = reqs.iter().filter(|r| m.good(r) == Good::Error).collect();
    let logs = &c.scenario.expect.logs;
    let every_answered =
        || answered.iter().map(|r| (id(&format!("{}.answered", r.name)), Verdict::Fail)).collect::<Found>();
    let notifications = || {
        c.scenario
            .expect
            .notifications
            .iter()
            .map(|n| (id(&format!("notifications.{}", n.method)), v(n.severity, &n.spec.value)))
            .collect::<Found>()
    };
    let warned_methods = |rs: &[&ScriptedRequest]| -> Option<Verdict> {
        let g = logs.warning_per_request.as_ref()?;
        rs.iter()
            .any(|r| m.good(r) == Good::Error && g.methods.contains(&r.method))
            .then(|| v(g.severity, &g.spec.value))
    };
    let every_check_of = |rs: &[&ScriptedRequest]| -> Found {
        let kinds = ["answered", "error", "error-code", "error-message", "result"];
        rs.iter()
            .flat_map(|r| {
                kinds.iter().flat_map(move |k| [Verdict::Fail, Verdict::Warn].map(|x| (format!("{}.{k}", r.name), x)))
            })
            .map(|(check, x)| (id(&check), x))
            .collect()
    };
    match mode {
        "good" => {}
        "minus-32600" => {
            for r in &errors {
                if let Some(g) = r.expect.error_code.as_ref().filter(|g| !g.one_of.contains(&-32600)) {
                    req.insert((id(&format!("{}.error-code", r.name)), v(g.severity, &g.spec.value)));
                }
            }
        }
        "result" => {
            for r in &errors {
                if let Some(g) = &r.expect.error {
                    req.insert((id(&format!("{}.error", r.name)), v(g.severity, &g.spec.value)));
                }
            }
            if errors.iter().any(|r| m.gate(&r.method).is_some_and(|cap| !m.declares(cap))) {
                req.insert((id("capabilities.honest"), v(Severity::Must, "lifecycle/negotiated-capabilities")));
            }
        }
        "silent" => req = every_answered(),
        "wrong-id" if !answered.is_empty() => {
            // The ids on the wire: as written, the mock's counter (integers), or the
            // fixture's own trigger call id ("call", which the mangling keeps).
            let wire = |r: &ScriptedRequest| match (&r.id, r.id_from_trigger) {
                (_, true) => serde_json::json!("call"),
                (Some(id), false) => id.clone(),
                (None, false) => serde_json::json!(1),
            };
            let written: Vec<_> = reqs.iter().filter_map(|r| r.id.clone()).collect();
            let mangled = |r: &ScriptedRequest| Some(wrong_id(&wire(r))).filter(|w| *w != wire(r));
            // An answer whose mangled id is another request's exact id answers the
            // wrong request: those requests' checks may fail, and whether the echo and
            // one-answer checks do depends on whether that request was sent yet.
            if answered.iter().any(|r| mangled(r).is_some_and(|w| !written.contains(&w))) {
                req.insert((id("wire.id-echo"), Verdict::Fail));
            }
            if answered.iter().any(|r| mangled(r).is_some_and(|w| written.contains(&w))) {
                allowed.extend(every_check_of(&answered));
                for check in ["capabilities.honest", "wire.id-echo", "wire.one-answer"] {
                    allowed.insert((id(check), Verdict::Fail));
                }
            }
        }
        "float-ids" => {
            let big: Vec<&ScriptedRequest> = answered
                .iter()
                .copied()
                .filter(|r| {
                    r.id.as_ref().and_then(serde_json::Value::as_i64).is_some_and(|n| n.unsigned_abs() > 1 << 53)
                })
                .collect();
            if !big.is_empty() {
                req.insert((id("wire.id-echo"), Verdict::Fail));
                allowed.extend(every_check_of(&big));
            }
        }
        "double-answer" if !answered.is_empty() => {
            req.insert((id("wire.one-answer"), Verdict::Fail));
        }
        "leak" => {
            let canary_refused =
                errors.iter().any(|r| r.params.as_ref().is_some_and(|p| p.to_string().contains("{{canary}}")));
            if let (Some(g), true) = (&logs.no_canary_at_warning, canary_refused) {
                req.insert((id("logs.no-canary-at-warning"), v(g.severity, &g.spec.value)));
            }
        }
        "declare-sampling" => {
            if let Some(list) = &c.scenario.expect.capabilities.absent
                && list.names.iter().any(|n| n == "sampling")
            {
                req.insert((id("capabilities.absent"), v(list.severity, &list.spec.value)));
            }
            if reqs.iter().any(|r| r.method == "sampling/createMessage") {
                req.insert((id("capabilities.honest"), v(Severity::Must, "lifecycle/negotiated-capabilities")));
            }
        }
        "crash" => {
            // It dies on the first request: that one is unanswered; whether the mock
            // got the later ones out before the pipe closed is a race.
            if let Some(first) = reqs.first().filter(|r| m.good(r) != Good::Cancelled) {
                req.insert((id(&format!("{}.answered", first.name)), Verdict::Fail));
            }
            allowed = every_answered();
            allowed.extend(notifications());
            if let Some(g) = &logs.warning_per_request {
                allowed.insert((id("logs.warning-per-request"), v(g.severity, &g.spec.value)));
            }
        }
        "hang" => {
            req.insert((id("client.exits"), Verdict::Fail));
        }
        "quiet" | "no-server-name" => {
            if let Some(x) = warned_methods(&reqs.iter().collect::<Vec<_>>()) {
                req.insert((id("logs.warning-per-request"), x));
            }
            if let (Some(g), "quiet") = (&logs.canary_at_debug, mode) {
                req.insert((id("logs.canary-at-debug"), v(g.severity, &g.spec.value)));
            }
        }
        "no-debug" => {
            if let Some(g) = &logs.canary_at_debug {
                req.insert((id("logs.canary-at-debug"), v(g.severity, &g.spec.value)));
            }
        }
        "garbage" => {
            req.insert((id("wire.json-rpc"), Verdict::Fail));
        }
        "slow" => {
            // The first answer comes 2.5 s late; over stdio and HTTP+SSE the client
            // handles messages in order, so everything sent with it is as late.
            for r in answered.iter().filter(|r| r.within < Duration::from_millis(2500)) {
                req.insert((id(&format!("{}.answered", r.name)), Verdict::Fail));
            }
        }
        "bad-message" => {
            for r in &errors {
                if let Some(g) = &r.expect.error_message {
                    req.insert((id(&format!("{}.error-message", r.name)), v(g.severity, &g.spec.value)));
                }
            }
        }
        "bad-roots" | "no-roots-cap" => {
            let has_roots = !c.scenario.client.roots.is_empty() || c.scenario.client.roots_change.is_some();
            for r in reqs.iter().filter(|r| has_roots && r.method == "roots/list") {
                if let Some(g) = &r.expect.result {
                    req.insert((id(&format!("{}.result", r.name)), v(g.severity, &g.spec.value)));
                }
            }
            if let (Some(list), "no-roots-cap") = (&c.scenario.expect.capabilities.present, mode)
                && list.names.iter().any(|n| n == "roots" || n.starts_with("roots."))
            {
                req.insert((id("capabilities.present"), v(list.severity, &list.spec.value)));
            }
        }
        "late-init" | "no-connect" => {
            req.insert((id("session.initialize"), Verdict::Fail));
        }
        "no-initialized" => {
            req = every_answered();
            req.insert((id("session.initialized"), Verdict::Fail));
        }
        "ignore-cancel" => {
            for r in reqs {
                if let Some(g) = &r.expect.no_answer {
                    req.insert((id(&format!("{}.not-answered", r.name)), v(g.severity, &g.spec.value)));
                }
            }
        }
        "bad-parse-code" => {
            for ScriptedRaw { name, expect, line } in &c.raws {
                if let Some(g) = expect.error_code_if_answered.as_ref().filter(|g| !g.one_of.contains(&-32603))
                    && Model::answers_raw(line)
                {
                    req.insert((id(&format!("{name}.error-code-if-answered")), v(g.severity, &g.spec.value)));
                }
            }
        }
        "no-batch" => {
            let members: Vec<&ScriptedRequest> = answered.iter().copied().filter(|r| r.in_batch).collect();
            req.extend(members.iter().map(|r| (id(&format!("{}.answered", r.name)), Verdict::Fail)));
            if let Some(x) = warned_methods(&members) {
                req.insert((id("logs.warning-per-request"), x));
            }
        }
        "no-list-changed" => {
            req = notifications();
        }
        "lax-elicitation" if m.elicitation().is_some() => {
            for r in errors.iter().filter(|r| r.method == "elicitation/create") {
                if let Some(g) = &r.expect.error {
                    req.insert((id(&format!("{}.error", r.name)), v(g.severity, &g.spec.value)));
                }
            }
        }
        "url-content" | "bad-action" => {
            let probe = if mode == "url-content" { "/content" } else { "/action" };
            for r in reqs.iter().filter(|r| r.method == "elicitation/create" && m.good(r) == Good::Result) {
                let url = r.params.as_ref().and_then(|p| p.get("mode")).is_some_and(|x| x == "url");
                if let Some(g) = r.expect.result.as_ref().filter(|g| g.pointers.iter().any(|p| p.pointer == probe))
                    && (mode == "bad-action" || url)
                {
                    req.insert((id(&format!("{}.result", r.name)), v(g.severity, &g.spec.value)));
                }
            }
        }
        "drop-get" if t == Transport::Http => {
            for r in answered.iter().filter(|r| r.delivery == DeliveryKind::GetStream) {
                req.insert((id(&format!("{}.answered", r.name)), Verdict::Fail));
            }
        }
        // Over Streamable HTTP every request after initialize lacks the header, so its
        // notifications/initialized is refused and the server never sends anything.
        "no-session" if t == Transport::Http => {
            req.insert((id("http.session"), Verdict::Fail));
            req.insert((id("session.initialized"), Verdict::Fail));
            req.extend(every_answered());
            req.extend(notifications());
            if let Some(g) = &logs.canary_at_debug {
                req.insert((id("logs.canary-at-debug"), v(g.severity, &g.spec.value)));
            }
        }
        // Over HTTP+SSE the endpoint carries the session; the fixture drops it from
        // its answers only.
        "no-session" if t == Transport::Sse && !answered.is_empty() => {
            req.insert((id("http.session"), Verdict::Fail));
            req.extend(every_answered());
        }
        "wrong-session" if t != Transport::Stdio && !answered.is_empty() => {
            req.insert((id("http.session"), Verdict::Fail));
            req.extend(every_answered());
        }
        "no-version" if t == Transport::Http && rev >= Revision::V2025_06_18 => {
            req.insert((id("http.protocol-version"), Verdict::Fail));
        }
        "drop-get" | "no-session" | "wrong-session" | "no-version" | "wrong-id" | "double-answer"
        | "lax-elicitation" => {}
        // 2026-07-28 bugs: a legacy session never reaches them.
        "legacy-only" | "no-meta" | "mrtr-same-id" | "mrtr-bad-state" | "mrtr-fabricate" | "mrtr-partial"
        | "mrtr-no-retry" => {}
        other => panic!("no rule for mode `{other}`"),
    }
    if !m.requirements_met() {
        let wide = |(check, _): &(String, Verdict)| protocol_wide(check.split_once(':').map_or("", |(_, c)| c));
        req.retain(wide);
        allowed.retain(wide);
    }
    Expect { required: req, allowed }
}

/// The verdicts mode `mode` must produce on a 2026-07-28 (MRTR) scenario.
fn expected_modern(mode: &str, c: &Compiled) -> Expect {
    let rev = Revision::V2026_07_28;
    let m = Model { c, rev, mode };
    let id = |check: &str| format!("{}:{check}", c.id);
    let v = |severity: Severity, spec: &str| graded(c, severity, spec, rev);
    let logs = &c.scenario.expect.logs;
    // The fixture answers an ask when it has the capability (roots configured, or
    // elicitation configured and the request valid in a declared mode); a round is
    // retried when every ask is answered.
    let answers = |i: &InputSpec| match i.method.as_str() {
        "roots/list" => m.has_roots(),
        "elicitation/create" => {
            let r = ScriptedRequest {
                name: String::new(),
                method: i.method.clone(),
                expect: Default::default(),
                within: Duration::ZERO,
                params: i.params.clone(),
                delivery: DeliveryKind::GetStream,
                id: None,
                id_from_trigger: false,
                in_batch: false,
            };
            m.good(&r) == Good::Result
        }
        _ => false,
    };
    let refused: Vec<(&str, &InputSpec)> = c
        .rounds
        .iter()
        .flat_map(|r| r.inputs.iter().filter(|i| !answers(i)).map(move |i| (r.name.as_str(), i)))
        .collect();
    // Rounds the good fixture reaches and retries: up to the first one with a refused ask.
    let mut retried = Vec::new();
    for r in &c.rounds {
        if r.inputs.iter().all(&answers) {
            retried.push(r);
        } else {
            break;
        }
    }
    let first_blocked = c.rounds.get(retried.len());
    let mut req = Found::new();
    let mut allowed = Found::new();
    let round_checks = |r: &ScriptedRound| -> Found {
        let mut f = Found::new();
        for k in ["retried", "new-id", "request-state", "retry-inputs"] {
            f.insert((id(&format!("{}.{k}", r.name)), Verdict::Fail));
        }
        for i in &r.inputs {
            for k in ["result", "not-answered"] {
                f.insert((id(&format!("{}.{}.{k}", r.name, i.key)), Verdict::Fail));
            }
        }
        f
    };
    match mode {
        "legacy-only" | "no-connect" => {
            req.insert((id("session.modern"), Verdict::Fail));
        }
        // It pings, then initializes: neither is a 2026-07-28 request.
        "late-init" => {
            req.insert((id("session.modern"), Verdict::Fail));
            req.insert((id("mrtr.request-meta"), Verdict::Fail));
        }
        "no-meta" => {
            req.insert((id("mrtr.request-meta"), Verdict::Fail));
            // Without _meta it declares nothing: every ask it answers is undeclared.
            if retried.iter().any(|r| !r.inputs.is_empty()) {
                req.insert((id("capabilities.honest"), Verdict::Fail));
            }
        }
        "mrtr-same-id" => {
            req.extend(retried.iter().map(|r| (id(&format!("{}.new-id", r.name)), Verdict::Fail)));
        }
        "mrtr-bad-state" => {
            req.extend(retried.iter().map(|r| (id(&format!("{}.request-state", r.name)), Verdict::Fail)));
        }
        "mrtr-no-retry" => {
            if let Some(r) = retried.first() {
                if let Some(g) = &r.expect.retry {
                    req.insert((id(&format!("{}.retried", r.name)), v(g.severity, &g.spec.value)));
                }
                for i in &r.inputs {
                    if let Some(g) = &i.expect.result {
                        req.insert((id(&format!("{}.{}.result", r.name, i.key)), v(g.severity, &g.spec.value)));
                    }
                }
            }
        }
        "mrtr-fabricate" => {
            if let Some(r) = first_blocked {
                for i in r.inputs.iter().filter(|i| !answers(i)) {
                    if let Some(g) = &i.expect.no_answer {
                        req.insert((id(&format!("{}.{}.not-answered", r.name, i.key)), v(g.severity, &g.spec.value)));
                    }
                }
                req.insert((id("capabilities.honest"), Verdict::Fail));
                // It answers instead of refusing: nothing to log.
                if let Some(g) = logs
                    .warning_per_request
                    .as_ref()
                    .filter(|g| refused.iter().any(|(_, i)| g.methods.contains(&i.method)))
                {
                    req.insert((id("logs.warning-per-request"), v(g.severity, &g.spec.value)));
                }
                // Later rounds now happen.
                for later in c.rounds.iter().skip(retried.len() + 1) {
                    allowed.extend(round_checks(later));
                }
            }
        }
        "mrtr-partial" => {
            if let Some(r) = first_blocked {
                req.insert((id(&format!("{}.retry-inputs", r.name)), Verdict::Fail));
                for later in c.rounds.iter().skip(retried.len() + 1) {
                    allowed.extend(round_checks(later));
                }
            }
        }
        "bad-roots" | "bad-action" => {
            let (method, probe) =
                if mode == "bad-roots" { ("roots/list", "/roots") } else { ("elicitation/create", "/action") };
            for r in &retried {
                for i in r.inputs.iter().filter(|i| i.method == method) {
                    if let Some(g) =
                        i.expect.result.as_ref().filter(|g| g.pointers.iter().any(|p| p.pointer.starts_with(probe)))
                    {
                        req.insert((id(&format!("{}.{}.result", r.name, i.key)), v(g.severity, &g.spec.value)));
                    }
                }
            }
        }
        "leak" => {
            let canary =
                refused.iter().any(|(_, i)| i.params.as_ref().is_some_and(|p| p.to_string().contains("{{canary}}")));
            if let (Some(g), true) = (&logs.no_canary_at_warning, canary) {
                req.insert((id("logs.no-canary-at-warning"), v(g.severity, &g.spec.value)));
            }
        }
        "quiet" | "no-server-name" => {
            if let Some(g) =
                logs.warning_per_request.as_ref().filter(|g| refused.iter().any(|(_, i)| g.methods.contains(&i.method)))
            {
                req.insert((id("logs.warning-per-request"), v(g.severity, &g.spec.value)));
            }
        }
        "crash" => {
            // It dies at the first round: what the rounds expected is not there.
            for r in &c.rounds {
                allowed.extend(round_checks(r));
            }
            if let Some(g) = &logs.warning_per_request {
                allowed.insert((id("logs.warning-per-request"), v(g.severity, &g.spec.value)));
            }
        }
        "hang" => {
            req.insert((id("client.exits"), Verdict::Fail));
        }
        "garbage" => {
            req.insert((id("wire.json-rpc"), Verdict::Fail));
        }
        "no-roots-cap" => {
            // Roots undeclared: a roots ask is refused, so its round is not retried.
            for r in c.rounds.iter().filter(|r| r.inputs.iter().any(|i| i.method == "roots/list")).take(1) {
                if let Some(g) = &r.expect.retry {
                    req.insert((id(&format!("{}.retried", r.name)), v(g.severity, &g.spec.value)));
                }
                for i in &r.inputs {
                    if let Some(g) = &i.expect.result {
                        req.insert((id(&format!("{}.{}.result", r.name, i.key)), v(g.severity, &g.spec.value)));
                    }
                }
            }
        }
        // No JSON-RPC server requests, batches, raw lines or notifications in MRTR scenarios.
        _ => {}
    }
    if !m.requirements_met() {
        let wide = |(check, _): &(String, Verdict)| protocol_wide(check.split_once(':').map_or("", |(_, c)| c));
        req.retain(wide);
        allowed.retain(wide);
    }
    Expect { required: req, allowed }
}

/// (mode, transports, scenarios)
fn plan() -> Vec<(&'static str, Vec<Transport>, Vec<PathBuf>)> {
    use Transport::{Http, Sse, Stdio};
    let builtin = builtin_scenarios();
    let handshake = vec![root().join("tests/fixtures/scenarios/handshake-only.yaml")];
    let every = [
        "good",
        "minus-32600",
        "result",
        "silent",
        "wrong-id",
        "leak",
        "declare-sampling",
        "crash",
        "hang",
        "quiet",
        "no-server-name",
        "no-debug",
        "double-answer",
        "garbage",
        "slow",
        "bad-message",
        "bad-roots",
        "no-roots-cap",
        "late-init",
        "no-connect",
        "float-ids",
        "lax-elicitation",
        "url-content",
        "bad-action",
        "bad-parse-code",
        "no-batch",
        "ignore-cancel",
        "no-list-changed",
        "legacy-only",
        "no-meta",
        "mrtr-same-id",
        "mrtr-bad-state",
        "mrtr-fabricate",
        "mrtr-partial",
        "mrtr-no-retry",
    ];
    let mut plan: Vec<_> = every.iter().map(|m| (*m, vec![Stdio], builtin.clone())).collect();
    // Over HTTP: the HTTP bugs, the control, and answer/wire bugs that must not
    // depend on the transport.
    for m in ["good", "garbage", "wrong-id", "minus-32600", "late-init"] {
        plan.push((m, vec![Http, Sse], builtin.clone()));
    }
    plan.push(("drop-get", vec![Http], builtin.clone()));
    plan.push(("no-version", vec![Http], builtin.clone()));
    plan.push(("no-session", vec![Http, Sse], builtin.clone()));
    plan.push(("wrong-session", vec![Http, Sse], builtin.clone()));
    plan.push(("no-initialized", vec![Stdio, Http, Sse], handshake));
    plan
}

#[test]
fn each_broken_client_fails_exactly_the_right_checks() {
    let fixture = env!("CARGO_BIN_EXE_backchannel-broken-client");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let results = rt.block_on(async {
        // The cases mostly wait (grace periods, deadlines), so many run at once.
        let limit = Arc::new(tokio::sync::Semaphore::new(40));
        let mut tasks = tokio::task::JoinSet::new();
        for (mode, transports, scenarios) in plan() {
            for path in scenarios {
                let compiled = Arc::new(compile_file(&path).unwrap());
                // The broken clients are graded at the latest revision each scenario lists; the
                // revision matrix itself is the scenario tests' business.
                let Some(r) = compiled.scenario.revisions.iter().max().copied() else { continue };
                for t in transports
                    .iter()
                    .copied()
                    .filter(|t| compiled.scenario.transports.contains(t) && r.has_transport(*t))
                {
                    let limit = limit.clone();
                    let compiled = compiled.clone();
                    let cfg = RunConfig {
                        client: ClientSpec::Command(vec![fixture.into(), "--mode".into(), mode.into(), "--".into()]),
                        after_end: Duration::from_secs(1),
                        ..RunConfig::reference(exe())
                    };
                    tasks.spawn(async move {
                        let _permit = limit.acquire_owned().await.unwrap();
                        let report = run_case(&compiled, t, r, &cfg).await.unwrap();
                        let found: Found = report
                            .checks
                            .iter()
                            .filter_map(|c| match c.verdict(false) {
                                v @ (Verdict::Fail | Verdict::Warn) => Some((c.id.clone(), v)),
                                _ => None,
                            })
                            .collect();
                        (mode, t, compiled, found)
                    });
                }
            }
        }
        let mut out = Vec::new();
        while let Some(r) = tasks.join_next().await {
            out.push(r.unwrap());
        }
        out
    });
    let mut errors = Vec::new();
    let mut cases = 0;
    for (mode, t, compiled, found) in results {
        cases += 1;
        let rev = compiled.scenario.revisions.iter().max().copied().expect("a revision");
        let Expect { required, allowed } = expected(mode, &compiled, t, rev);
        let missing: Vec<_> = required.difference(&found).collect();
        let unrelated: Vec<_> = found.iter().filter(|f| !required.contains(f) && !allowed.contains(f)).collect();
        if !missing.is_empty() || !unrelated.is_empty() {
            errors.push(format!(
                "mode `{mode}` on {} [{t}]:\n  not caught: {missing:?}\n  unrelated:  {unrelated:?}",
                compiled.id
            ));
        }
    }
    assert!(cases > 300, "only {cases} cases ran");
    assert!(errors.is_empty(), "{} of {cases} cases wrong:\n{}", errors.len(), errors.join("\n"));
}

#[test]
fn every_check_kind_is_required_to_fail_somewhere() {
    // The check kinds the harness emits (the part after the step name for per-request ones).
    let kinds = [
        "session.initialize",
        "session.initialized",
        "wire.json-rpc",
        "wire.id-echo",
        "wire.one-answer",
        "client.exits",
        "capabilities.honest",
        "capabilities.absent",
        "capabilities.present",
        "http.session",
        "http.protocol-version",
        ".answered",
        ".error",
        ".error-code",
        ".error-message",
        ".result",
        "logs.warning-per-request",
        "logs.no-canary-at-warning",
        "logs.canary-at-debug",
        ".not-answered",
        ".error-code-if-answered",
        "notifications.",
        "session.modern",
        "mrtr.request-meta",
        ".new-id",
        ".request-state",
        ".retry-inputs",
        ".retried",
    ];
    let mut required = BTreeSet::new();
    for (mode, transports, scenarios) in plan() {
        for path in scenarios {
            let c = compile_file(&path).unwrap();
            let Some(rev) = c.scenario.revisions.iter().max().copied() else { continue };
            for t in &transports {
                required.extend(expected(mode, &c, *t, rev).required.into_iter().map(|(id, _)| id));
            }
        }
    }
    for kind in kinds {
        let hit = required.iter().any(|id| {
            let check = id.split_once(':').map_or(id.as_str(), |(_, c)| c);
            if kind.starts_with('.') {
                check.ends_with(kind) && !check.starts_with("capabilities.")
            } else if kind.ends_with('.') {
                check.starts_with(kind)
            } else {
                check == kind
            }
        });
        assert!(hit, "no broken fixture is required to fail a `{kind}` check");
    }
}
