//! JSON-RPC request ids.
//!
//! MCP: "Requests MUST include a string or integer ID", "the ID MUST NOT be
//! `null`" (2025-11-25 `basic/index.mdx:46-49`; 2024-11-05 `basic/messages.mdx:26-29`).
//! Ids are kept as `serde_json::Value` so that an echo can be compared exactly:
//! `7` and `"7"` are different ids.

use serde_json::Value;

/// Whether `id` is a valid MCP request id: a string or an integer.
pub fn is_valid_id(id: &Value) -> bool {
    match id {
        Value::String(_) => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

/// Whether two ids denote the same request under a lenient reading (`7` vs `"7"`).
///
/// Used only to *attribute* a wrongly echoed answer to the request it was meant
/// for, so the id-echo check can report it; exact equality is what the spec asks.
pub fn id_loosely_equal(a: &Value, b: &Value) -> bool {
    a == b || loose_form(a).is_some_and(|x| Some(x) == loose_form(b))
}

fn loose_form(id: &Value) -> Option<String> {
    match id {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A key under which ids that are [`id_loosely_equal`] meet: `7` and `"7"` share one,
/// anything that is neither a string nor a number is keyed by its JSON text.
pub fn loose_key(id: &Value) -> String {
    loose_form(id).unwrap_or_else(|| format!("\u{0}{id}"))
}

/// A short human rendering of an id: `7`, `"abc"`.
pub fn render_id(id: &Value) -> String {
    match id {
        Value::String(s) if s.len() > 64 => format!("\"{}…\"", truncate(s, 64)),
        other => other.to_string(),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_ids_are_strings_and_integers() {
        assert!(is_valid_id(&json!(0)));
        assert!(is_valid_id(&json!(u64::MAX)));
        assert!(is_valid_id(&json!(-3)));
        assert!(is_valid_id(&json!("x")));
        assert!(!is_valid_id(&json!(1.5)));
        assert!(!is_valid_id(&Value::Null));
        assert!(!is_valid_id(&json!([1])));
    }

    #[test]
    fn loose_equality_bridges_number_and_string() {
        assert!(id_loosely_equal(&json!(7), &json!("7")));
        assert!(id_loosely_equal(&json!("a"), &json!("a")));
        assert!(!id_loosely_equal(&json!(7), &json!(8)));
        assert!(!id_loosely_equal(&json!(1), &json!("01")));
    }

    #[test]
    fn render_truncates_on_char_boundaries() {
        let long = "é".repeat(100);
        let r = render_id(&Value::String(long));
        assert!(r.ends_with("…\""));
    }
}
