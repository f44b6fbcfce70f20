//! Canary tokens: `{{canary}}` in a scenario expands to a fresh random token per
//! run, so a log line that repeats request params is detectable by a substring search.

use serde_json::Value;

/// The placeholder scenarios write.
pub const PLACEHOLDER: &str = "{{canary}}";

/// The largest `{{fill:N}}` expands to this many bytes.
pub const MAX_FILL: usize = 16 * 1024 * 1024;

/// A per-run random token, e.g. `bc-canary-9f2c4e1a7b3d5f60`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary(String);

impl Canary {
    /// A fresh token from the operating system's CSPRNG.
    ///
    /// # Panics
    /// Only if the OS has no randomness source at all (then nothing else works either).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
        Self(format!("bc-canary-{}", hex(&bytes)))
    }

    /// A fixed token (tests).
    pub fn fixed(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Replace every placeholder in `s`: `{{canary}}`, and `{{fill:N}}` (N `x`s, at
    /// most [`MAX_FILL`] — for params the size of a real prompt).
    pub fn expand_str(&self, s: &str) -> String {
        let mut out = s.replace(PLACEHOLDER, &self.0);
        while let Some(start) = out.find("{{fill:") {
            let Some(len) = out[start..].find("}}") else { break };
            let n = out[start + 7..start + len].parse::<usize>().unwrap_or(0).min(MAX_FILL);
            out.replace_range(start..start + len + 2, &"x".repeat(n));
        }
        out
    }

    /// Replace every placeholder in every string (and object key) of `value`.
    pub fn expand_value(&self, value: &mut Value) {
        match value {
            Value::String(s) if s.contains("{{") => *s = self.expand_str(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.expand_value(v)),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains(PLACEHOLDER)) {
                    let old = std::mem::take(map);
                    *map = old.into_iter().map(|(k, v)| (self.expand_str(&k), v)).collect();
                }
                map.values_mut().for_each(|v| self.expand_value(v));
            }
            _ => {}
        }
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_fresh_and_shaped() {
        let a = Canary::generate();
        let b = Canary::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("bc-canary-"));
        assert_eq!(a.as_str().len(), "bc-canary-".len() + 16);
    }

    #[test]
    fn expands_everywhere() {
        let c = Canary::fixed("TOK");
        let mut v = json!({"a": "x {{canary}} y", "b": [{"{{canary}}": "{{canary}}{{canary}}"}], "n": 1});
        c.expand_value(&mut v);
        assert_eq!(v, json!({"a": "x TOK y", "b": [{"TOK": "TOKTOK"}], "n": 1}));
        assert_eq!(c.expand_str("a{{fill:3}}b{{fill:0}}"), "axxxb");
        assert_eq!(c.expand_str("{{fill:99999999999}}").len(), MAX_FILL);
    }
}
