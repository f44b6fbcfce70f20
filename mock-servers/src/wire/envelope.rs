//! Classifying a JSON value as a JSON-RPC 2.0 message (step one of the two-step parse).
//!
//! Rules (2025-11-25 `basic/index.mdx`, "Messages"): requests carry `jsonrpc: "2.0"`,
//! a string or integer `id` (not `null`), a string `method` and optional object
//! `params`; notifications carry no `id`; a response carries the id of its request
//! and exactly one of `result` or `error`; an error has an integer `code` and a
//! string `message`. Batches (arrays) exist in 2025-03-26 only.

use serde_json::{Map, Value};

use super::id::is_valid_id;

/// What a frame is, read as leniently as possible.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// A request: has a `method` and an `id`.
    Request {
        /// The id exactly as sent (may be invalid: see findings).
        id: Value,
        /// The method name.
        method: String,
        /// `params`, when present.
        params: Option<Value>,
    },
    /// A notification: a `method` and no `id`.
    Notification {
        /// The method name.
        method: String,
        /// `params`, when present.
        params: Option<Value>,
    },
    /// A success response.
    Result {
        /// The id exactly as sent.
        id: Value,
        /// The `result` member.
        result: Value,
    },
    /// An error response.
    Error {
        /// The id exactly as sent; `None` when absent.
        id: Option<Value>,
        /// `error.code`, when it is an integer.
        code: Option<i64>,
        /// `error.message`, when it is a string.
        message: Option<String>,
        /// `error.data`, when present.
        data: Option<Value>,
    },
    /// A JSON-RPC batch (an array of messages).
    Batch(Vec<Classified>),
    /// Not recognisable as any JSON-RPC message.
    Invalid,
}

/// A classified frame: the best reading plus every rule it breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The best reading of the frame.
    pub envelope: Envelope,
    /// Each JSON-RPC rule the frame breaks; empty for a well-formed message.
    pub findings: Vec<Finding>,
}

/// A violation of the JSON-RPC 2.0 envelope rules.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The line is not valid JSON (carries the parser's message).
    NotJson(String),
    /// The value is neither an object nor an array.
    NotAnObject,
    /// `jsonrpc` is missing.
    MissingJsonrpc,
    /// `jsonrpc` is present but not `"2.0"`.
    WrongJsonrpc(String),
    /// `method` is present but not a string.
    MethodNotString,
    /// A request `id` that is `null`.
    NullId,
    /// An `id` that is neither a string nor an integer (rendered).
    InvalidId(String),
    /// `params` is present but neither an object nor an array.
    ParamsNotStructured,
    /// A response with both `result` and `error`.
    ResultAndError,
    /// A response with neither `result` nor `error` (and no `method`).
    NeitherResultNorError,
    /// A response without an `id` member.
    ResponseWithoutId,
    /// `error` is not an object.
    ErrorNotObject,
    /// `error.code` is missing or not an integer.
    ErrorCodeNotInteger,
    /// `error.message` is missing or not a string.
    ErrorMessageNotString,
    /// An empty array.
    EmptyBatch,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotJson(e) => write!(f, "not valid JSON: {e}"),
            Self::NotAnObject => f.write_str("not a JSON object"),
            Self::MissingJsonrpc => f.write_str("missing \"jsonrpc\": \"2.0\""),
            Self::WrongJsonrpc(v) => write!(f, "\"jsonrpc\" is {v}, not \"2.0\""),
            Self::MethodNotString => f.write_str("\"method\" is not a string"),
            Self::NullId => f.write_str("request id is null"),
            Self::InvalidId(v) => write!(f, "id {v} is neither a string nor an integer"),
            Self::ParamsNotStructured => f.write_str("\"params\" is neither an object nor an array"),
            Self::ResultAndError => f.write_str("response has both \"result\" and \"error\""),
            Self::NeitherResultNorError => f.write_str("response has neither \"result\" nor \"error\""),
            Self::ResponseWithoutId => f.write_str("response has no \"id\""),
            Self::ErrorNotObject => f.write_str("\"error\" is not an object"),
            Self::ErrorCodeNotInteger => f.write_str("\"error.code\" is missing or not an integer"),
            Self::ErrorMessageNotString => f.write_str("\"error.message\" is missing or not a string"),
            Self::EmptyBatch => f.write_str("empty batch"),
        }
    }
}

/// Classify one line of text (a stdio frame or an HTTP/SSE body).
pub fn classify_line(line: &str) -> Classified {
    match serde_json::from_str::<Value>(line) {
        Ok(v) => classify(&v),
        Err(e) => Classified { envelope: Envelope::Invalid, findings: vec![Finding::NotJson(e.to_string())] },
    }
}

/// Classify a parsed JSON value. Never fails, never panics.
pub fn classify(value: &Value) -> Classified {
    match value {
        Value::Object(obj) => classify_object(obj),
        Value::Array(items) if items.is_empty() => {
            Classified { envelope: Envelope::Batch(Vec::new()), findings: vec![Finding::EmptyBatch] }
        }
        Value::Array(items) => {
            // A nested array is not a message; classify_object handles the rest.
            let parts = items
                .iter()
                .map(|item| match item {
                    Value::Object(obj) => classify_object(obj),
                    _ => Classified { envelope: Envelope::Invalid, findings: vec![Finding::NotAnObject] },
                })
                .collect();
            Classified { envelope: Envelope::Batch(parts), findings: Vec::new() }
        }
        _ => Classified { envelope: Envelope::Invalid, findings: vec![Finding::NotAnObject] },
    }
}

fn classify_object(obj: &Map<String, Value>) -> Classified {
    let mut findings = Vec::new();
    match obj.get("jsonrpc") {
        None => findings.push(Finding::MissingJsonrpc),
        Some(Value::String(s)) if s == "2.0" => {}
        Some(other) => findings.push(Finding::WrongJsonrpc(other.to_string())),
    }

    if let Some(method) = obj.get("method") {
        let Value::String(method) = method else {
            findings.push(Finding::MethodNotString);
            return Classified { envelope: Envelope::Invalid, findings };
        };
        let params = obj.get("params").cloned();
        if params.as_ref().is_some_and(|p| !(p.is_object() || p.is_array())) {
            findings.push(Finding::ParamsNotStructured);
        }
        let method = method.clone();
        return match obj.get("id") {
            None => Classified { envelope: Envelope::Notification { method, params }, findings },
            Some(id) => {
                check_id(id, true, &mut findings);
                Classified { envelope: Envelope::Request { id: id.clone(), method, params }, findings }
            }
        };
    }

    let id = obj.get("id");
    let result = obj.get("result");
    let error = obj.get("error");
    match id {
        // 2025-11-25 allows an error response to omit the id it could not read
        // (`JSONRPCErrorResponse.id?`); an explicit null is the JSON-RPC 2.0 spelling.
        None | Some(Value::Null) if error.is_some() => {}
        None => findings.push(Finding::ResponseWithoutId),
        Some(id) => check_id(id, false, &mut findings),
    }
    match (result, error) {
        (Some(_), Some(_)) => findings.push(Finding::ResultAndError),
        (None, None) => {
            findings.push(Finding::NeitherResultNorError);
            return Classified { envelope: Envelope::Invalid, findings };
        }
        _ => {}
    }
    if let Some(error) = error {
        let (code, message, data) = match error {
            Value::Object(e) => {
                let code = e.get("code").and_then(Value::as_i64);
                if code.is_none() {
                    findings.push(Finding::ErrorCodeNotInteger);
                }
                let message = e.get("message").and_then(Value::as_str).map(str::to_owned);
                if message.is_none() {
                    findings.push(Finding::ErrorMessageNotString);
                }
                (code, message, e.get("data").cloned())
            }
            _ => {
                findings.push(Finding::ErrorNotObject);
                (None, None, None)
            }
        };
        let id = id.filter(|v| !v.is_null()).cloned();
        return Classified { envelope: Envelope::Error { id, code, message, data }, findings };
    }
    let result = result.cloned().unwrap_or(Value::Null);
    Classified { envelope: Envelope::Result { id: id.cloned().unwrap_or(Value::Null), result }, findings }
}

fn check_id(id: &Value, is_request: bool, findings: &mut Vec<Finding>) {
    if id.is_null() {
        findings.push(if is_request { Finding::NullId } else { Finding::InvalidId("null".into()) });
    } else if !is_valid_id(id) {
        findings.push(Finding::InvalidId(id.to_string()));
    }
}

impl Envelope {
    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Request { method, .. } | Self::Notification { method, .. } => Some(method),
            _ => None,
        }
    }

    /// The id of a response (result or error), when it has one.
    pub fn response_id(&self) -> Option<&Value> {
        match self {
            Self::Result { id, .. } => Some(id),
            Self::Error { id, .. } => id.as_ref(),
            _ => None,
        }
    }

    /// Whether this is a response (result or error).
    pub fn is_response(&self) -> bool {
        matches!(self, Self::Result { .. } | Self::Error { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn well_formed_request() {
        let c = classify(&json!({"jsonrpc":"2.0","id":1,"method":"ping"}));
        assert_eq!(c.findings, vec![]);
        assert_eq!(c.envelope, Envelope::Request { id: json!(1), method: "ping".into(), params: None });
    }

    #[test]
    fn error_response_with_all_parts() {
        let c = classify(&json!({"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"nope","data":{"x":1}}}));
        assert_eq!(c.findings, vec![]);
        assert_eq!(
            c.envelope,
            Envelope::Error {
                id: Some(json!("a")),
                code: Some(-32601),
                message: Some("nope".into()),
                data: Some(json!({"x":1}))
            }
        );
    }

    #[test]
    fn findings_for_broken_frames() {
        let cases = [
            (json!({"id":1,"result":{}}), vec![Finding::MissingJsonrpc]),
            (json!({"jsonrpc":"1.0","id":1,"result":{}}), vec![Finding::WrongJsonrpc("\"1.0\"".into())]),
            (json!({"jsonrpc":"2.0","id":null,"method":"x"}), vec![Finding::NullId]),
            (json!({"jsonrpc":"2.0","id":1.5,"result":{}}), vec![Finding::InvalidId("1.5".into())]),
            (
                json!({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":""}}),
                vec![Finding::ResultAndError],
            ),
            (json!({"jsonrpc":"2.0","id":1}), vec![Finding::NeitherResultNorError]),
            (json!({"jsonrpc":"2.0","result":{}}), vec![Finding::ResponseWithoutId]),
            (json!({"jsonrpc":"2.0","error":{"code":-32600,"message":"m"}}), vec![]),
            (json!({"jsonrpc":"2.0","id":1,"error":"bad"}), vec![Finding::ErrorNotObject]),
            (
                json!({"jsonrpc":"2.0","id":1,"error":{"code":"x","message":1}}),
                vec![Finding::ErrorCodeNotInteger, Finding::ErrorMessageNotString],
            ),
            (json!({"jsonrpc":"2.0","method":"x","params":3}), vec![Finding::ParamsNotStructured]),
            (json!({"jsonrpc":"2.0","method":7}), vec![Finding::MethodNotString]),
            (json!([]), vec![Finding::EmptyBatch]),
            (json!(42), vec![Finding::NotAnObject]),
        ];
        for (value, expected) in cases {
            assert_eq!(classify(&value).findings, expected, "for {value}");
        }
    }

    #[test]
    fn error_with_null_id_is_allowed() {
        let c = classify(&json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}));
        assert_eq!(c.findings, vec![]);
        assert_eq!(c.envelope.response_id(), None);
    }

    #[test]
    fn not_json_is_a_finding() {
        let c = classify_line("{nope");
        assert_eq!(c.envelope, Envelope::Invalid);
        assert!(matches!(c.findings.as_slice(), [Finding::NotJson(_)]));
    }

    #[test]
    fn batches_classify_each_member() {
        let c = classify(&json!([{"jsonrpc":"2.0","id":1,"result":{}}, 3]));
        let Envelope::Batch(parts) = c.envelope else { panic!("not a batch") };
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].findings, vec![Finding::NotAnObject]);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
            ".{0,8}".prop_map(Value::String),
            prop_oneof![Just("jsonrpc"), Just("id"), Just("method"), Just("result"), Just("error"), Just("code")]
                .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("jsonrpc".to_string()),
                        Just("id".to_string()),
                        Just("method".to_string()),
                        Just("params".to_string()),
                        Just("result".to_string()),
                        Just("error".to_string()),
                        Just("code".to_string()),
                        Just("message".to_string()),
                        ".{0,4}",
                    ],
                    inner,
                    0..6,
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The classifier is total: any JSON value, or any string, yields a reading.
        #[test]
        fn classify_never_panics(v in arb_json()) {
            let c = classify(&v);
            // A frame classified as a clean request/response has no findings iff it obeys the id rule.
            if let Envelope::Request { id, .. } = &c.envelope {
                prop_assert_eq!(is_valid_id(id), !c.findings.iter().any(|f| matches!(f, Finding::NullId | Finding::InvalidId(_))));
            }
        }

        #[test]
        fn classify_line_never_panics(s in ".{0,64}") {
            let _ = classify_line(&s);
        }
    }
}
