//! What the reference client answers when it is configured to handle the back
//! channel: a canned sampling reply (or a `tool_use` of an offered tool), and the
//! content of an accepted form (defaults first, SEP-1034, then the first valid value
//! of each required field). Pure functions over the request's JSON, so the answers do
//! not depend on how rmcp models the params.

use serde_json::{Map, Value, json};

use crate::config::Sampling;

/// The result of a `sampling/createMessage` the client handles: a text reply; when
/// the request offers tools and its `toolChoice.mode` is not `none`, and the
/// conversation does not end with tool results, a `tool_use` of the first offered
/// tool with `stopReason: toolUse`.
pub fn sampling_result(cfg: &Sampling, params: &Value) -> Value {
    let first_tool = params.get("tools").and_then(Value::as_array).and_then(|t| t.first());
    let mode = params.get("toolChoice").and_then(|c| c.get("mode")).and_then(Value::as_str).unwrap_or("auto");
    let answered_tools = params
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last())
        .and_then(|m| m.get("content"))
        .is_some_and(|c| blocks(c).iter().any(|b| b.get("type").and_then(Value::as_str) == Some("tool_result")));
    match first_tool.and_then(|t| t.get("name")).and_then(Value::as_str) {
        Some(name) if mode != "none" && (!answered_tools || mode == "required") => json!({
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "backchannel-call-1", "name": name, "input": {}}],
            "model": cfg.model,
            "stopReason": "toolUse",
        }),
        _ => json!({
            "role": "assistant",
            "content": {"type": "text", "text": cfg.reply},
            "model": cfg.model,
            "stopReason": "endTurn",
        }),
    }
}

fn blocks(content: &Value) -> Vec<&Value> {
    match content {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    }
}

/// The content of an accepted form: every property's `default`, and for a required
/// property without one, the first value its schema allows.
pub fn form_content(requested: &Value) -> Map<String, Value> {
    let required: Vec<&str> = requested
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    let Some(props) = requested.get("properties").and_then(Value::as_object) else { return out };
    for (name, prop) in props {
        if let Some(d) = prop.get("default") {
            out.insert(name.clone(), d.clone());
        } else if required.contains(&name.as_str()) {
            out.insert(name.clone(), first_valid(prop));
        }
    }
    out
}

/// The first value of an enum (plain or titled `oneOf`/`anyOf` of `const`s).
fn first_choice(schema: &Value) -> Option<Value> {
    if let Some(v) = schema.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return Some(v.clone());
    }
    ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(Value::as_array).and_then(|a| a.first()).and_then(|c| c.get("const")))
        .cloned()
}

fn first_valid(prop: &Value) -> Value {
    if let Some(v) = first_choice(prop) {
        return v;
    }
    let num = |k: &str| prop.get(k).and_then(Value::as_f64);
    match prop.get("type").and_then(Value::as_str) {
        Some("boolean") => Value::Bool(false),
        Some("integer") => {
            let lo = num("minimum").map_or(0.0, f64::ceil);
            let v = num("maximum").map_or(lo, |hi| lo.min(hi.floor()));
            json!(v as i64)
        }
        Some("number") => {
            let lo = num("minimum").unwrap_or(0.0);
            json!(num("maximum").map_or(lo, |hi| lo.min(hi)))
        }
        Some("array") => {
            let items = prop.get("items").cloned().unwrap_or(Value::Null);
            let n = prop.get("minItems").and_then(Value::as_u64).unwrap_or(1).max(1);
            let choices: Vec<Value> = items
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
                .or_else(|| {
                    ["anyOf", "oneOf"].iter().find_map(|k| {
                        items
                            .get(*k)
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(|c| c.get("const").cloned()).collect())
                    })
                })
                .unwrap_or_default();
            Value::Array(choices.into_iter().take(usize::try_from(n).unwrap_or(1)).collect())
        }
        _ => {
            let s = match prop.get("format").and_then(Value::as_str) {
                Some("email") => "user@example.com".to_owned(),
                Some("uri") => "https://example.com/".to_owned(),
                Some("date") => "2026-01-01".to_owned(),
                Some("date-time") => "2026-01-01T00:00:00Z".to_owned(),
                _ => {
                    let min = prop.get("minLength").and_then(Value::as_u64).unwrap_or(1).max(1);
                    "x".repeat(usize::try_from(min).unwrap_or(1))
                }
            };
            Value::String(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_first_then_the_first_valid_value_of_required_fields() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "email": {"type": "string", "format": "email"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 9},
            "color": {"type": "string", "oneOf": [{"const": "#f00", "title": "Red"}]},
            "tags": {"type": "array", "minItems": 2, "items": {"type": "string", "enum": ["a", "b", "c"]}},
            "code": {"type": "string", "minLength": 3},
            "optional": {"type": "string"}
        }, "required": ["email", "replicas", "color", "tags", "code"]});
        let c = form_content(&schema);
        assert_eq!(
            Value::Object(c),
            json!({"name": "John Doe", "age": 30, "email": "user@example.com",
            "replicas": 1, "color": "#f00", "tags": ["a", "b"], "code": "xxx"})
        );
    }

    #[test]
    fn tools_are_used_while_the_conversation_allows() {
        let cfg = Sampling::default();
        let text = sampling_result(&cfg, &json!({"messages": [], "maxTokens": 5}));
        assert_eq!(text["content"]["type"], "text");
        let offered = json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
            "maxTokens": 5, "tools": [{"name": "weather", "inputSchema": {"type": "object"}}]});
        let call = sampling_result(&cfg, &offered);
        assert_eq!(
            (call["content"][0]["name"].as_str(), call["stopReason"].as_str()),
            (Some("weather"), Some("toolUse"))
        );
        let mut none = offered.clone();
        none["toolChoice"] = json!({"mode": "none"});
        assert_eq!(sampling_result(&cfg, &none)["stopReason"], "endTurn");
        let mut followup = offered;
        followup["messages"] =
            json!([{"role": "user", "content": [{"type": "tool_result", "toolUseId": "c", "content": []}]}]);
        assert_eq!(sampling_result(&cfg, &followup)["stopReason"], "endTurn");
    }
}
