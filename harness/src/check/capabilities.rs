//! Capability checks: what the client declared in `initialize`, and whether its
//! answers are consistent with it.

use backchannel_mock::wire::{ErrorCode, render_id};
use backchannel_protocol::{Revision, capability_for};

use super::session::{AnswerKind, Session};
use super::{Emitter, Evidence, Judged, ScenarioCtx};
use crate::scenario::compiled::Knob;
use crate::scenario::model::Severity::Must;

/// The capability a server→client method requires in a session that negotiated
/// `negotiated` (unknown or absent counts as the latest): [`Revision::capability_for`].
pub(crate) fn gate(method: &str, negotiated: Option<Revision>) -> Option<&'static str> {
    negotiated.map_or_else(|| capability_for(method), |r| r.capability_for(method))
}

/// `capabilities.honest`: an undeclared capability is never answered with a
/// success result, and a declared one is never answered "method not found".
/// Emitted only when a capability-gated request was sent.
pub(crate) fn honesty(out: &mut Emitter, s: &Session) {
    let negotiated = s.negotiated;
    let gated: Vec<usize> = (0..s.sent.len()).filter(|&i| gate(&s.sent[i].method, negotiated).is_some()).collect();
    if gated.is_empty() {
        return;
    }
    for &i in &gated {
        let sent = &s.sent[i];
        let cap = gate(&sent.method, negotiated).expect("filtered on gate");
        let Some(answer) = s.answer_to(i) else { continue };
        let declared = s.declares(cap);
        let lie = match (&answer.kind, declared) {
            (AnswerKind::Result(_), false) => Some(format!(
                "answered {} (id {}) with a success result without declaring `{cap}`",
                sent.method,
                render_id(&sent.id)
            )),
            (AnswerKind::Error { code: Some(code), .. }, true) if *code == ErrorCode::METHOD_NOT_FOUND.0 => {
                Some(format!(
                    "declared `{cap}` but answered {} (id {}) with -32601 (method not found)",
                    sent.method,
                    render_id(&sent.id)
                ))
            }
            _ => None,
        };
        if let Some(summary) = lie {
            out.violated(
                "capabilities.honest",
                Must,
                "lifecycle/negotiated-capabilities",
                Evidence::new(summary).at_frame(answer.seq),
            );
            return;
        }
    }
    out.pass(
        "capabilities.honest",
        Must,
        "lifecycle/negotiated-capabilities",
        Evidence::new(format!(
            "{} capability-gated requests answered consistently with the declared capabilities",
            gated.len()
        )),
    );
}

/// `capabilities.absent` and `capabilities.present`, as the scenario asks.
pub(crate) fn declared(out: &mut Emitter, ctx: &ScenarioCtx<'_>) {
    let compiled = ctx.compiled;
    let caps = ctx.session.capabilities().map_or_else(|| "(none)".to_owned(), ToString::to_string);
    let frame = ctx.session.initialize.as_ref().map(|(seq, _)| *seq);
    let expect = &compiled.expect;
    for (check, list, want_declared) in [
        ("capabilities.absent", &expect.capabilities_absent, false),
        ("capabilities.present", &expect.capabilities_present, true),
    ] {
        let Some(list) = list else { continue };
        let mut wrong: Vec<&str> =
            list.names.iter().filter(|n| ctx.session.declares(n) != want_declared).map(String::as_str).collect();
        // "Declare only what you handle": a capability the client declares *and*
        // handles (it answered a request that needs it with a result) is not what
        // this policy is about — N/A, not FAIL.
        // Nor is a capability the client declares of its own (it does not claim the
        // knob that would configure it) where nothing probed it — the revision has no
        // request that needs it, or the mock never sent one: it may well handle it.
        let mut not_for_it = Vec::new();
        if !want_declared && list.grade.rule == "policy/declare-only-handled" {
            wrong.retain(|n| {
                let unclaimed = Knob::for_capability(n).filter(|k| !ctx.claims.contains(k));
                let why = if handles(ctx.session, n) {
                    format!("N/A: the client declares `{n}` and handles it (it answered a {n} request with a result); this policy is for clients that do not")
                } else if let Some(k) = unclaimed.filter(|_| !probed(ctx.session, n)) {
                    format!("N/A: the client declares `{n}` of its own (it does not claim {}), and no {n} request probed it in this session (at {}) to show whether it handles it", k.source(), ctx.revision)
                } else {
                    return true;
                };
                not_for_it.push(why);
                false
            });
        }
        let mut evidence = if wrong.is_empty() {
            Evidence::new(format!(
                "{} {}",
                if want_declared { "declares" } else { "does not declare" },
                list.names.join(", ")
            ))
        } else {
            Evidence::new(format!(
                "{} {}",
                if want_declared { "does not declare" } else { "declares" },
                wrong.join(", ")
            ))
            .diff(
                format!("{} {}", if want_declared { "declared:" } else { "not declared:" }, list.names.join(", ")),
                caps.clone(),
            )
        };
        evidence.frame = frame;
        // A missing capability the scenario configured and the client does not claim
        // to take: N/A when every missing one is such.
        let na: Vec<String> =
            if want_declared { wrong.iter().filter_map(|n| ctx.needs(n)).collect() } else { Vec::new() };
        let judged = match () {
            () if wrong.is_empty() && !not_for_it.is_empty() => {
                Judged::NotApplicable(Evidence::new(not_for_it.join("; ")))
            }
            () if wrong.is_empty() => Judged::Pass(evidence),
            () if na.len() == wrong.len() => Judged::NotApplicable(Evidence::new(na.join("; "))),
            () => Judged::Violated(evidence),
        };
        out.expected(ctx, check, &list.grade, judged);
    }
}

/// The requests the mock sent that capability `cap` gates (their indices in `s.sent`).
fn gated<'s>(s: &'s Session, cap: &'s str) -> impl Iterator<Item = usize> + 's {
    (0..s.sent.len()).filter(move |&i| gate(&s.sent[i].method, s.negotiated) == Some(cap))
}

/// Whether the mock sent a request gated by capability `cap`.
fn probed(s: &Session, cap: &str) -> bool {
    gated(s, cap).next().is_some()
}

/// Whether the client answered a request gated by capability `cap` with a result.
fn handles(s: &Session, cap: &str) -> bool {
    gated(s, cap).any(|i| s.answer_to(i).is_some_and(|a| matches!(a.kind, AnswerKind::Result(_))))
}

#[cfg(test)]
mod tests {
    use backchannel_protocol::{Revision, Transport};
    use serde_json::json;

    use super::super::tests::{Case, finding, one_request, outcome};
    use super::gate;
    use crate::check::Outcome;
    use crate::scenario::compiled::Knob;

    #[test]
    fn elicitation_is_gated_only_in_revisions_that_have_it() {
        use backchannel_protocol::Revision::*;
        assert_eq!(gate("elicitation/create", Some(V2025_03_26)), None);
        assert_eq!(gate("elicitation/create", Some(V2025_06_18)), Some("elicitation"));
        assert_eq!(gate("elicitation/create", None), Some("elicitation"));
        assert_eq!(gate("sampling/createMessage", Some(V2024_11_05)), Some("sampling"));
        assert_eq!(gate("ping", None), None);
    }

    fn sampling(caps: serde_json::Value, answer: serde_json::Value) -> Vec<crate::check::Finding> {
        Case::new(&one_request("sampling/createMessage"), Transport::Stdio, Revision::V2025_11_25)
            .handshake(caps)
            .s2c(json!({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}), Some("sampling/createMessage"))
            .c2s(answer)
            .eval()
    }

    #[test]
    fn honesty_fails_a_result_without_the_capability_and_method_not_found_with_it() {
        let result = json!({"jsonrpc":"2.0","id":1,"result":{"role":"assistant","model":"m","content":{"type":"text","text":"x"}}});
        let refusal = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}});
        assert_eq!(outcome(&sampling(json!({}), result.clone()), "capabilities.honest"), Outcome::Violated);
        assert_eq!(outcome(&sampling(json!({}), refusal.clone()), "capabilities.honest"), Outcome::Pass);
        assert_eq!(outcome(&sampling(json!({"sampling":{}}), refusal), "capabilities.honest"), Outcome::Violated);
        assert_eq!(outcome(&sampling(json!({"sampling":{}}), result), "capabilities.honest"), Outcome::Pass);
    }

    const ROOTS: &str = "title: t\nclient:\n  roots: [{uri: 'file:///w'}]\nexpect:\n  capabilities:\n    present: {names: [roots], spec: roots/declare}\n    absent: {names: [sampling], severity: should, spec: policy/declare-only-handled}\nsteps:\n  - request: {method: sampling/createMessage}\n";

    #[test]
    fn present_is_not_applicable_for_a_knob_the_client_does_not_take_or_claim() {
        let case = |claims: &[Knob], caps| {
            Case::new(ROOTS, Transport::Stdio, Revision::V2025_11_25).claims(claims).handshake(caps).end().eval()
        };
        assert_eq!(outcome(&case(&[], json!({})), "capabilities.present"), Outcome::NotApplicable);
        assert_eq!(outcome(&case(&[Knob::Roots], json!({})), "capabilities.present"), Outcome::Violated);
        assert_eq!(outcome(&case(&[], json!({"roots":{}})), "capabilities.present"), Outcome::Pass);
        // Declared of its own and never probed: N/A; held to it once the knob is claimed.
        assert_eq!(outcome(&case(&[], json!({"sampling":{}})), "capabilities.absent"), Outcome::NotApplicable);
        assert_eq!(outcome(&case(&[Knob::Sampling], json!({"sampling":{}})), "capabilities.absent"), Outcome::Violated);
        // client.configured: only for a client that claims the knob.
        let f = case(&[Knob::Roots], json!({}));
        assert_eq!(outcome(&f, "client.configured"), Outcome::Violated);
        assert!(case(&[], json!({})).iter().all(|f| f.check != "client.configured"));
    }

    /// A capability declared of its own, never probed (the revision has no request
    /// for it): not the intercepting policy's to judge — unless the knob is claimed.
    #[test]
    fn an_unprobed_capability_declared_of_its_own_is_not_applicable() {
        const NONE: &str = "title: t\nexpect:\n  capabilities:\n    absent: {names: [sampling, elicitation], spec: policy/declare-only-handled}\nsteps:\n  - request: {method: sampling/createMessage}\n  - request: {method: elicitation/create}\n";
        let case = |claims: &[Knob]| {
            let c = Case::new(NONE, Transport::Stdio, Revision::V2025_03_26).claims(claims);
            c.handshake(json!({"elicitation": {}})).end().eval()
        };
        let f = case(&[]);
        let c = finding(&f, "capabilities.absent");
        assert_eq!(c.outcome, Outcome::NotApplicable, "{c:?}");
        assert!(c.evidence.summary.contains("of its own"), "{}", c.evidence.summary);
        assert_eq!(outcome(&case(&[Knob::Elicitation]), "capabilities.absent"), Outcome::Violated);
    }

    #[test]
    fn declaring_what_it_handles_is_not_applicable_to_the_intercepting_policy() {
        const PROBE: &str = "title: t\nexpect:\n  capabilities:\n    absent: {names: [sampling], spec: policy/declare-only-handled}\nsteps:\n  - request: {method: sampling/createMessage}\n";
        let probe = |answer: serde_json::Value| {
            Case::new(PROBE, Transport::Stdio, Revision::V2025_11_25)
                .handshake(json!({"sampling": {}}))
                .s2c(json!({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage"}), Some("sampling/createMessage"))
                .c2s(answer)
                .end()
                .eval()
        };
        let handled = json!({"jsonrpc":"2.0","id":1,"result":{"role":"assistant","model":"m","content":{"type":"text","text":"x"}}});
        assert_eq!(outcome(&probe(handled), "capabilities.absent"), Outcome::NotApplicable);
        let refused = json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}});
        assert_eq!(outcome(&probe(refused), "capabilities.absent"), Outcome::Violated);
    }
}
