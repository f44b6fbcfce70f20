//! The shapes a client's answers must have, per revision: the official MCP
//! `schema.json` definitions of the results a client returns (`CreateMessageResult`,
//! `ElicitResult`, `ListRootsResult`, `EmptyResult`), of a JSON-RPC error response,
//! and (2026-07-28) of `InputResponses`, each with every definition it reaches.
//!
//! The extracts live in `harness/schemas/mcp/<revision>.json`, cut from the
//! specification's `schema.json` by [`extract`] (a test proves they are what
//! [`extract`] makes of the official files) and compiled into the binary, so the
//! oracle needs no network, no checkout of the spec, and nothing from rmcp. They
//! are validated with `jsonschema`: required members, member types, enum values and
//! the content variants each revision allows (an audio block is fine at 2025-03-26
//! and not at 2024-11-05; `tool_use` only from 2025-11-25). Unknown members stay
//! allowed, as the schemas allow them; `format` is an annotation, not asserted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};

use backchannel_protocol::Revision;
use serde_json::{Map, Value};

/// The definitions an extract starts from; each revision keeps those it has.
pub const ROOTS: &[&str] = &[
    "CreateMessageResult",
    "ElicitResult",
    "ListRootsResult",
    "EmptyResult",
    "JSONRPCError",
    "JSONRPCErrorResponse",
    "InputResponses",
];

/// The vendored extract of a revision's schema.
pub fn vendored(rev: Revision) -> &'static str {
    match rev {
        Revision::V2024_11_05 => include_str!("../../schemas/mcp/2024-11-05.json"),
        Revision::V2025_03_26 => include_str!("../../schemas/mcp/2025-03-26.json"),
        Revision::V2025_06_18 => include_str!("../../schemas/mcp/2025-06-18.json"),
        Revision::V2025_11_25 => include_str!("../../schemas/mcp/2025-11-25.json"),
        Revision::V2026_07_28 => include_str!("../../schemas/mcp/2026-07-28.json"),
    }
}

/// The key a schema keeps its definitions under (`definitions` in draft-07,
/// `$defs` in 2020-12).
fn defs_key(schema: &Value) -> Option<&'static str> {
    ["definitions", "$defs"].into_iter().find(|k| schema.get(*k).is_some_and(Value::is_object))
}

/// Cut from a full `schema.json` the definitions in [`ROOTS`] and everything they
/// reference, keeping `$schema`. Deterministic (keys sorted), so the vendored file
/// can be compared byte for byte.
pub fn extract(full: &Value) -> Value {
    let Some(key) = defs_key(full) else { return Value::Null };
    let defs = &full[key];
    let prefix = format!("#/{key}/");
    let mut keep = BTreeSet::new();
    let mut todo: Vec<String> = ROOTS.iter().filter(|r| defs.get(**r).is_some()).map(|r| (*r).to_owned()).collect();
    while let Some(name) = todo.pop() {
        if !keep.insert(name.clone()) {
            continue;
        }
        let mut refs = Vec::new();
        collect_refs(&defs[&name], &prefix, &mut refs);
        todo.extend(refs.into_iter().filter(|r| !keep.contains(r)));
    }
    let kept: BTreeMap<String, Value> = keep.into_iter().map(|k| (k.clone(), defs[&k].clone())).collect();
    let mut out = Map::new();
    if let Some(s) = full.get("$schema") {
        out.insert("$schema".to_owned(), s.clone());
    }
    out.insert(key.to_owned(), Value::Object(kept.into_iter().collect()));
    Value::Object(out)
}

fn collect_refs(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix(prefix) {
                            out.push(name.to_owned());
                        }
                    }
                    _ => collect_refs(x, prefix, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, prefix, out)),
        _ => {}
    }
}

/// What a client answer is, for the shape it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `sampling/createMessage` → `CreateMessageResult`.
    CreateMessage,
    /// `elicitation/create` → `ElicitResult`.
    Elicit,
    /// `roots/list` → `ListRootsResult`.
    ListRoots,
    /// `ping` → `EmptyResult`.
    Empty,
    /// Any error response → `JSONRPCError` (`JSONRPCErrorResponse` from 2025-11-25).
    ErrorResponse,
}

impl Shape {
    /// The result shape of a server→client method, if the kit knows it.
    pub fn of_result(method: &str) -> Option<Self> {
        match method {
            "sampling/createMessage" => Some(Self::CreateMessage),
            "elicitation/create" => Some(Self::Elicit),
            "roots/list" => Some(Self::ListRoots),
            "ping" => Some(Self::Empty),
            _ => None,
        }
    }

    /// The definition's name in `rev`'s schema, if it has one.
    pub fn definition(self, rev: Revision) -> Option<&'static str> {
        let name = match self {
            Self::CreateMessage => "CreateMessageResult",
            Self::Elicit => "ElicitResult",
            Self::ListRoots => "ListRootsResult",
            Self::Empty => "EmptyResult",
            Self::ErrorResponse if schema(rev)?.defs.contains_key("JSONRPCErrorResponse") => "JSONRPCErrorResponse",
            Self::ErrorResponse => "JSONRPCError",
        };
        schema(rev)?.defs.contains_key(name).then_some(name)
    }
}

/// A parsed vendored extract: the document, its definitions, and their key.
struct Parsed {
    doc: Value,
    defs: Map<String, Value>,
    key: &'static str,
}

/// The parsed vendored extract of `rev`.
fn schema(rev: Revision) -> Option<&'static Parsed> {
    static PARSED: LazyLock<HashMap<Revision, Parsed>> = LazyLock::new(|| {
        Revision::ALL
            .into_iter()
            .filter_map(|rev| {
                let doc: Value = serde_json::from_str(vendored(rev)).ok()?;
                let key = defs_key(&doc)?;
                let defs = doc[key].as_object()?.clone();
                Some((rev, Parsed { doc, defs, key }))
            })
            .collect()
    });
    PARSED.get(&rev)
}

type Compiled = std::sync::Arc<jsonschema::Validator>;
type Cache = HashMap<(Revision, &'static str), Option<Compiled>>;

/// The compiled validator of definition `name` at `rev` (compiled once per process).
fn validator(rev: Revision, name: &'static str) -> Option<Compiled> {
    static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry((rev, name))
        .or_insert_with(|| {
            let Parsed { doc, key, .. } = schema(rev)?;
            let mut root = doc.clone();
            errata(&mut root, key);
            root["$ref"] = Value::String(format!("#/{key}/{name}"));
            jsonschema::options().should_validate_formats(false).build(&root).ok().map(std::sync::Arc::new)
        })
        .clone()
}

/// Where the generated `schema.json` is narrower than `schema.ts`, the source of
/// truth it is generated from, the shapes follow `schema.ts`: the kit must not fail a
/// client for what the normative types allow.
///
/// - `ElicitResult.content` values: `schema.ts` says `string | number | boolean`
///   (and `string[]` from 2025-11-25); `schema.json` says `"integer"` where `number`
///   is meant, so a form's `number` field (`NumberSchema`, e.g. a default of 95.5)
///   could not be accepted with its own value. Widened to `"number"`.
pub fn errata(doc: &mut Value, defs_key: &str) {
    fn widen(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Array(types)) = o.get_mut("type") {
                    for t in types.iter_mut().filter(|t| *t == "integer") {
                        *t = Value::String("number".to_owned());
                    }
                }
                o.values_mut().for_each(widen);
            }
            Value::Array(a) => a.iter_mut().for_each(widen),
            _ => {}
        }
    }
    if let Some(content) = doc.pointer_mut(&format!("/{defs_key}/ElicitResult/properties/content/additionalProperties"))
    {
        widen(content);
    }
}

/// Why `value` does not have the shape of `name` at `rev` (at most three reasons,
/// each with its JSON pointer); empty when it does. `None`: the kit has no such
/// definition at that revision.
pub fn violations(rev: Revision, name: &'static str, value: &Value) -> Option<Vec<String>> {
    Some(reasons(validator(rev, name)?.as_ref(), value))
}

/// At most three reasons `value` fails `v`, each with its JSON pointer.
fn reasons(v: &jsonschema::Validator, value: &Value) -> Vec<String> {
    v.iter_errors(value)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {e}")
        })
        .collect()
}

/// Validate `value` against an arbitrary JSON Schema (an elicitation's
/// `requestedSchema`): the reasons it fails, or `None` when the schema itself
/// cannot be compiled.
pub fn against(schema: &Value, value: &Value) -> Option<Vec<String>> {
    let v = jsonschema::options().should_validate_formats(true).build(schema).ok()?;
    Some(reasons(&v, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_revision_has_its_shapes() {
        for rev in Revision::ALL {
            for shape in [Shape::CreateMessage, Shape::ListRoots, Shape::Empty, Shape::ErrorResponse] {
                assert!(shape.definition(rev).is_some(), "{shape:?} at {rev}");
            }
            assert_eq!(Shape::Elicit.definition(rev).is_some(), rev >= Revision::V2025_06_18, "{rev}");
        }
    }

    #[test]
    fn a_result_without_model_is_not_a_create_message_result() {
        let ok = json!({"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m", "extra": 1});
        assert_eq!(violations(Revision::V2025_11_25, "CreateMessageResult", &ok), Some(vec![]));
        let bad = json!({"role": "assistant", "content": {"type": "text", "text": "hi"}});
        let why = violations(Revision::V2025_11_25, "CreateMessageResult", &bad).unwrap();
        assert!(why.iter().any(|w| w.contains("model")), "{why:?}");
    }

    #[test]
    fn content_variants_follow_the_revision() {
        let audio = json!({"role": "assistant", "content": {"type": "audio", "data": "AA==", "mimeType": "audio/wav"}, "model": "m"});
        assert!(!violations(Revision::V2024_11_05, "CreateMessageResult", &audio).unwrap().is_empty());
        assert!(violations(Revision::V2025_03_26, "CreateMessageResult", &audio).unwrap().is_empty());
        let tool_use = json!({"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "t", "input": {}}], "model": "m", "stopReason": "toolUse"});
        assert!(!violations(Revision::V2025_06_18, "CreateMessageResult", &tool_use).unwrap().is_empty());
        assert!(violations(Revision::V2025_11_25, "CreateMessageResult", &tool_use).unwrap().is_empty());
    }

    #[test]
    fn elicit_actions_and_error_objects() {
        let rev = Revision::V2025_11_25;
        assert!(
            violations(rev, "ElicitResult", &json!({"action": "accept", "content": {"a": "x"}})).unwrap().is_empty()
        );
        assert!(!violations(rev, "ElicitResult", &json!({"action": "maybe"})).unwrap().is_empty());
        let e = Shape::ErrorResponse.definition(rev).unwrap();
        let good = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no"}});
        assert!(violations(rev, e, &good).unwrap().is_empty());
        let bad = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "no"}});
        assert!(!violations(rev, e, &bad).unwrap().is_empty());
    }

    #[test]
    fn a_number_field_can_be_accepted_with_its_own_value() {
        // schema.json says integer; schema.ts says number (see `errata`).
        let ok = json!({"action": "accept", "content": {"score": 95.5}});
        assert!(violations(Revision::V2025_11_25, "ElicitResult", &ok).unwrap().is_empty());
        let bad = json!({"action": "accept", "content": {"score": {"x": 1}}});
        assert!(!violations(Revision::V2025_11_25, "ElicitResult", &bad).unwrap().is_empty());
    }

    #[test]
    fn requested_schemas_validate_content() {
        let schema = json!({"type": "object", "properties": {"email": {"type": "string", "format": "email"}}, "required": ["email"]});
        assert!(against(&schema, &json!({"email": "a@example.com"})).unwrap().is_empty());
        assert!(!against(&schema, &json!({"email": "nope"})).unwrap().is_empty());
        assert!(!against(&schema, &json!({})).unwrap().is_empty());
    }
}
