//! What the client's answers *are*, whatever the scenario asked: every result and
//! error it returns to a server→client request has its revision's schema shape
//! (`answers.schema`), an accepted form elicitation's content satisfies the
//! request's `requestedSchema` (`answers.elicitation-content`), and a sampling
//! result's tool use agrees with the request and the capabilities
//! (`answers.sampling-tool-use`), and every root listed is a `file://` URI
//! (`answers.roots-file-uri`). Legacy answers and 2026-07-28 `inputResponses`
//! alike, read from the raw frames. Each check is emitted only when the session has
//! something for it to judge.

use std::collections::HashMap;

use backchannel_mock::trace::Trace;
use backchannel_mock::wire::render_id;
use backchannel_protocol::Revision;
use serde_json::Value;

use super::session::Session;
use super::shapes::{self, Shape};
use super::{Emitter, Evidence, truncate};
use crate::scenario::model::Severity::Must;

/// One answer to one ask: a legacy response, or one value of a retry's `inputResponses`.
struct Ask<'a> {
    /// The method asked.
    method: &'a str,
    /// The ask's params, as the mock sent them.
    params: Option<&'a Value>,
    /// `Ok(result)` or `Err(the whole error response)`.
    answer: Result<&'a Value, &'a Value>,
    /// The frame the answer is in.
    seq: u64,
    /// How evidence names it: `sampling/createMessage (id 3)`, `inputResponses["k"]`.
    label: String,
}

/// The member of a (possibly batch) frame that is the response with this id.
fn member<'a>(json: &'a Value, id: Option<&Value>) -> Option<&'a Value> {
    let is_response = |m: &Value| m.get("result").is_some() || m.get("error").is_some();
    match json {
        Value::Array(parts) => parts
            .iter()
            .find(|m| is_response(m) && m.get("id").filter(|v| !v.is_null()) == id)
            .or_else(|| parts.iter().find(|m| is_response(m))),
        one => Some(one),
    }
}

fn collect<'a>(session: &'a Session, trace: &'a Trace) -> Vec<Ask<'a>> {
    let frames: HashMap<u64, &Value> = trace.frames().filter_map(|f| Some((f.seq, f.json.as_ref()?))).collect();
    let mut asks = Vec::new();
    for a in &session.answers {
        let Some(i) = a.answers else { continue };
        let sent = &session.sent[i];
        if sent.is_barrier() {
            continue;
        }
        let Some(m) = frames.get(&a.seq).and_then(|j| member(j, a.id.as_ref())) else { continue };
        let params = frames.get(&sent.seq).and_then(|j| member_request(j, &sent.id)).and_then(|r| r.get("params"));
        let answer = match (m.get("result"), m.get("error")) {
            (Some(r), None) => Ok(r),
            (_, Some(_)) => Err(m),
            (None, None) => continue,
        };
        asks.push(Ask {
            method: &sent.method,
            params,
            answer,
            seq: a.seq,
            label: format!("{} (id {})", sent.method, render_id(&sent.id)),
        });
    }
    // 2026-07-28: the answers travel in the retries' `inputResponses`.
    let mut asked: HashMap<&str, &Value> = HashMap::new();
    for round in &session.rounds {
        if let Some(reqs) = round.result.get("inputRequests").and_then(Value::as_object) {
            for (k, v) in reqs {
                asked.insert(k, v);
            }
        }
    }
    for r in &session.requests {
        let Some(responses) = r.params.as_ref().and_then(|p| p.get("inputResponses")).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in responses {
            let Some(ask) = asked.get(key.as_str()) else { continue };
            let Some(method) = ask.get("method").and_then(Value::as_str) else { continue };
            asks.push(Ask {
                method,
                params: ask.get("params"),
                answer: Ok(value),
                seq: r.seq,
                label: format!("inputResponses[\"{}\"] ({method})", truncate(key, 40)),
            });
        }
    }
    asks
}

fn member_request<'a>(json: &'a Value, id: &Value) -> Option<&'a Value> {
    match json {
        Value::Array(parts) => parts.iter().find(|m| m.get("method").is_some() && m.get("id") == Some(id)),
        one => Some(one),
    }
}

/// The answer checks. `revision`: what the session negotiated (the case's when it
/// negotiated none the kit knows).
pub(crate) fn checks(out: &mut Emitter, session: &Session, trace: &Trace, revision: Revision) {
    let asks = collect(session, trace);
    schema(out, &asks, revision);
    elicitation_content(out, &asks);
    sampling_tool_use(out, &asks, session);
    roots_file_uri(out, &asks);
}

/// `answers.roots-file-uri`: every root a client lists is a `file://` URI — whatever
/// roots it has, the scenario's or its own. Emitted when a `roots/list` got a result
/// listing roots.
fn roots_file_uri(out: &mut Emitter, asks: &[Ask<'_>]) {
    const RULE: &str = "roots/file-uri";
    let mut judged = 0usize;
    for ask in asks.iter().filter(|a| a.method == "roots/list") {
        let Ok(result) = ask.answer else { continue };
        let Some(roots) = result.get("roots").and_then(Value::as_array) else { continue };
        for root in roots {
            // A root without a string uri is the schema's finding (`answers.schema`).
            let Some(uri) = root.get("uri").and_then(Value::as_str) else { continue };
            judged += 1;
            if !uri.starts_with("file://") {
                out.violated(
                    "answers.roots-file-uri",
                    Must,
                    RULE,
                    Evidence::new(format!("{} lists a root whose uri is not a file:// URI: {uri:?}", ask.label))
                        .diff("file://…", truncate(uri, 200))
                        .at_frame(ask.seq),
                );
                return;
            }
        }
    }
    if judged > 0 {
        out.pass("answers.roots-file-uri", Must, RULE, Evidence::new(format!("{judged} root(s), each a file:// URI")));
    }
}

fn schema(out: &mut Emitter, asks: &[Ask<'_>], rev: Revision) {
    const RULE: &str = "schema/answer-shape";
    let mut judged = 0usize;
    for ask in asks {
        let (shape, value) = match ask.answer {
            Ok(result) => match Shape::of_result(ask.method) {
                Some(s) => (s, result),
                None => continue,
            },
            Err(response) => (Shape::ErrorResponse, response),
        };
        // A method the revision does not have (elicitation before 2025-06-18) has no
        // result shape; its answer should be an error, which other checks judge.
        let Some(def) = shape.definition(rev) else { continue };
        let Some(why) = shapes::violations(rev, def, value) else { continue };
        judged += 1;
        if !why.is_empty() {
            out.violated(
                "answers.schema",
                Must,
                RULE,
                Evidence::new(format!("the answer to {} is not a valid {def} at {rev}: {}", ask.label, why.join("; ")))
                    .diff(format!("{def} (MCP {rev} schema.json)"), truncate(&value.to_string(), 400))
                    .at_frame(ask.seq),
            );
            return;
        }
    }
    if judged > 0 {
        out.pass(
            "answers.schema",
            Must,
            RULE,
            Evidence::new(format!("{judged} answer(s) have the shapes of the {rev} schema")),
        );
    }
}

fn elicitation_content(out: &mut Emitter, asks: &[Ask<'_>]) {
    const RULE: &str = "elicitation/content-matches-schema";
    let mut judged = 0usize;
    for ask in asks.iter().filter(|a| a.method == "elicitation/create") {
        let Ok(result) = ask.answer else { continue };
        let Some(params) = ask.params else { continue };
        if result.get("action").and_then(Value::as_str) != Some("accept")
            || params.get("mode").and_then(Value::as_str).is_some_and(|m| m != "form")
        {
            continue;
        }
        let Some(requested) = params.get("requestedSchema").filter(|s| s.is_object()) else { continue };
        let empty = Value::Object(serde_json::Map::new());
        let content = result.get("content").unwrap_or(&empty);
        let Some(why) = shapes::against(requested, content) else { continue };
        judged += 1;
        if !why.is_empty() {
            out.violated(
                "answers.elicitation-content",
                Must,
                RULE,
                Evidence::new(format!(
                    "the content accepted for {} does not satisfy the request's requestedSchema: {}",
                    ask.label,
                    why.join("; ")
                ))
                .diff(truncate(&requested.to_string(), 300), truncate(&content.to_string(), 300))
                .at_frame(ask.seq),
            );
            return;
        }
    }
    if judged > 0 {
        out.pass(
            "answers.elicitation-content",
            Must,
            RULE,
            Evidence::new(format!("{judged} accepted form(s) satisfy their requestedSchema")),
        );
    }
}

/// The tool names a sampling request offers, and its `toolChoice.mode`.
fn offered(params: Option<&Value>) -> (Vec<&str>, Option<&str>) {
    let tools = params
        .and_then(|p| p.get("tools"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|t| t.get("name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    let mode = params.and_then(|p| p.get("toolChoice")).and_then(|c| c.get("mode")).and_then(Value::as_str);
    (tools, mode)
}

fn sampling_tool_use(out: &mut Emitter, asks: &[Ask<'_>], session: &Session) {
    let mut judged = 0usize;
    for ask in asks.iter().filter(|a| a.method == "sampling/createMessage") {
        let Ok(result) = ask.answer else { continue };
        judged += 1;
        let (tools, mode) = offered(ask.params);
        let blocks: Vec<&Value> = match result.get("content") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(one) => vec![one],
            None => vec![],
        };
        let uses: Vec<&str> = blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
            .map(|b| b.get("name").and_then(Value::as_str).unwrap_or(""))
            .collect();
        let stop = result.get("stopReason").and_then(Value::as_str);
        let offers_tools = ask.params.and_then(|p| p.get("tools")).is_some();
        let problem: Option<(&str, String)> = if offers_tools && !session.declares("sampling.tools") {
            Some((
                "sampling/tools-capability",
                "answered a tool-enabled request with a result without declaring `sampling.tools` (it must return an error)".to_owned(),
            ))
        } else if stop == Some("toolUse") && uses.is_empty() {
            Some((
                "sampling/tool-use-result",
                "stopReason is \"toolUse\" but the content has no tool_use block".to_owned(),
            ))
        } else if !uses.is_empty() && tools.is_empty() {
            Some(("sampling/tool-use-result", "a tool_use block answers a request that offered no tools".to_owned()))
        } else if let Some(name) = uses.iter().find(|n| !tools.contains(n)) {
            Some((
                "sampling/tool-use-result",
                format!(
                    "a tool_use block calls `{}`, which the request did not offer ({})",
                    truncate(name, 60),
                    tools.join(", ")
                ),
            ))
        } else if !uses.is_empty() && mode == Some("none") {
            Some((
                "sampling/tool-use-result",
                "a tool_use block answers a request with toolChoice mode \"none\"".to_owned(),
            ))
        } else if uses.is_empty() && mode == Some("required") && stop != Some("maxTokens") {
            Some(("sampling/tool-use-result", "no tool_use block, although toolChoice mode is \"required\"".to_owned()))
        } else {
            None
        };
        if let Some((rule, why)) = problem {
            out.violated(
                "answers.sampling-tool-use",
                Must,
                rule,
                Evidence::new(format!("{}: {why}", ask.label))
                    .diff("a result whose tool use agrees with the request", truncate(&result.to_string(), 300))
                    .at_frame(ask.seq),
            );
            return;
        }
    }
    if judged > 0 {
        out.pass(
            "answers.sampling-tool-use",
            Must,
            "sampling/tool-use-result",
            Evidence::new(format!("{judged} sampling result(s) use tools only as offered")),
        );
    }
}

#[cfg(test)]
mod tests {
    use backchannel_protocol::{Revision, Transport};
    use serde_json::{Value, json};

    use super::super::tests::{Case, finding};
    use crate::check::{Finding, Outcome};

    const SCN: &str = "title: t\nsteps: []\n";

    /// A 2025-11-25 stdio session: handshake with `caps`, the mock asks, the client answers.
    fn ask(caps: Value, method: &str, params: Value, result: Value) -> Vec<Finding> {
        Case::new(SCN, Transport::Stdio, Revision::V2025_11_25)
            .handshake(caps)
            .s2c(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}), Some("s"))
            .c2s(json!({"jsonrpc": "2.0", "id": 1, "result": result}))
            .end()
            .eval()
    }

    fn outcome(f: &[Finding], check: &str) -> Outcome {
        finding(f, check).outcome
    }

    #[test]
    fn a_sampling_result_without_model_fails_the_schema() {
        let caps = json!({"sampling": {}});
        let params = json!({"messages": [], "maxTokens": 5});
        let text = json!({"type": "text", "text": "x"});
        let f =
            ask(caps.clone(), "sampling/createMessage", params.clone(), json!({"role": "assistant", "content": text}));
        let c = finding(&f, "answers.schema");
        assert_eq!(c.outcome, Outcome::Violated, "{c:?}");
        assert!(c.evidence.summary.contains("model"), "{}", c.evidence.summary);
        let ok =
            ask(caps, "sampling/createMessage", params, json!({"role": "assistant", "content": text, "model": "m"}));
        assert_eq!(outcome(&ok, "answers.schema"), Outcome::Pass);
        assert_eq!(outcome(&ok, "answers.sampling-tool-use"), Outcome::Pass);
    }

    #[test]
    fn every_listed_root_is_a_file_uri_whoever_chose_it() {
        let own = ask(json!({"roots": {}}), "roots/list", json!({}), json!({"roots": [{"uri": "file:///home/me/p"}]}));
        assert_eq!(outcome(&own, "answers.roots-file-uri"), Outcome::Pass);
        let bad =
            ask(json!({"roots": {}}), "roots/list", json!({}), json!({"roots": [{"uri": "file:///a"}, {"uri": "/b"}]}));
        let c = finding(&bad, "answers.roots-file-uri");
        assert_eq!(c.outcome, Outcome::Violated, "{c:?}");
        assert!(c.evidence.summary.contains("\"/b\""), "{}", c.evidence.summary);
        let none = ask(json!({"roots": {}}), "roots/list", json!({}), json!({"roots": []}));
        assert!(none.iter().all(|f| f.check != "answers.roots-file-uri"), "nothing to judge");
    }

    #[test]
    fn an_error_object_is_judged_too() {
        let f = Case::new(SCN, Transport::Stdio, Revision::V2025_11_25)
            .handshake(json!({}))
            .s2c(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}), Some("s"))
            .c2s(json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601}}))
            .end()
            .eval();
        assert_eq!(outcome(&f, "answers.schema"), Outcome::Violated);
    }

    #[test]
    fn accepted_content_must_satisfy_the_requested_schema() {
        let caps = json!({"elicitation": {"form": {}}});
        let params = json!({"message": "m", "requestedSchema": {"type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1}}, "required": ["n"]}});
        let e = "elicitation/create";
        let bad = ask(caps.clone(), e, params.clone(), json!({"action": "accept", "content": {"n": 0}}));
        assert_eq!(outcome(&bad, "answers.elicitation-content"), Outcome::Violated);
        let missing = ask(caps.clone(), e, params.clone(), json!({"action": "accept"}));
        assert_eq!(outcome(&missing, "answers.elicitation-content"), Outcome::Violated);
        let good = ask(caps.clone(), e, params.clone(), json!({"action": "accept", "content": {"n": 3}}));
        assert_eq!(outcome(&good, "answers.elicitation-content"), Outcome::Pass);
        let declined = ask(caps, e, params, json!({"action": "decline"}));
        assert!(declined.iter().all(|f| f.check != "answers.elicitation-content"), "nothing to judge on a decline");
    }

    #[test]
    fn tool_use_must_agree_with_the_request() {
        let caps = json!({"sampling": {"tools": {}}});
        let params = json!({"messages": [], "maxTokens": 5,
            "tools": [{"name": "weather", "inputSchema": {"type": "object"}}]});
        let s = "sampling/createMessage";
        let call = |name: &str| {
            json!({"role": "assistant", "content": [{"type": "tool_use", "id": "c", "name": name, "input": {}}],
                "model": "m", "stopReason": "toolUse"})
        };
        let no_block = json!({"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m", "stopReason": "toolUse"});
        assert_eq!(
            outcome(&ask(caps.clone(), s, params.clone(), no_block), "answers.sampling-tool-use"),
            Outcome::Violated
        );
        assert_eq!(
            outcome(&ask(caps.clone(), s, params.clone(), call("rm")), "answers.sampling-tool-use"),
            Outcome::Violated
        );
        assert_eq!(outcome(&ask(caps, s, params.clone(), call("weather")), "answers.sampling-tool-use"), Outcome::Pass);
        let undeclared = ask(json!({"sampling": {}}), s, params, call("weather"));
        let c = finding(&undeclared, "answers.sampling-tool-use");
        assert_eq!((c.outcome, c.rule.as_deref()), (Outcome::Violated, Some("sampling/tools-capability")));
    }
}
