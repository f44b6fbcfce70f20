//! The request metadata headers of 2026-07-28 Streamable HTTP
//! (`basic/transports/streamable-http.mdx`, Request Metadata): `MCP-Protocol-Version`,
//! `Mcp-Method` on every request, `Mcp-Name` on `tools/call`, `resources/read` and
//! `prompts/get`, and `Mcp-Param-{Name}` for the tool parameters a tool's
//! `inputSchema` marks with `x-mcp-header`, with the Base64 sentinel encoding
//! (`=?base64?…?=`) for values that are not plain ASCII.
//!
//! One reading of those rules, used twice: the mock rejects a request that breaks
//! them (400, `-32020`), and the harness's checks report every problem. It compares
//! headers with the body as sent, never trusting either side's SDK.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use backchannel_protocol::RoundMethod;

/// The `_meta` key that carries the protocol version of a 2026-07-28 request.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

/// The prefix of a Base64-encoded header value.
const SENTINEL_START: &str = "=?base64?";
/// The suffix of a Base64-encoded header value.
const SENTINEL_END: &str = "?=";

/// Which rule a problem breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HeaderRule {
    /// `MCP-Protocol-Version` present and equal to the body's `_meta` version.
    ProtocolVersion,
    /// `Mcp-Method` present and equal to the body's `method`.
    Method,
    /// `Mcp-Name` present (where required) and equal to `params.name` / `params.uri`.
    Name,
    /// `Mcp-Param-{Name}` present for each annotated argument that has a value, and equal to it.
    Param,
}

/// One broken header rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderProblem {
    /// The rule.
    pub rule: HeaderRule,
    /// The header concerned, as the spec spells it.
    pub header: String,
    /// What is wrong, with the values (header values are not request params: they
    /// are what intermediaries see anyway).
    pub detail: String,
}

/// The MCP headers of one request: `mcp-method`, `mcp-name`, `mcp-param-*`, names
/// lowercased, values as received (lossy UTF-8).
pub type McpHeaders = BTreeMap<String, String>;

/// Whether a header name is one of the MCP request metadata headers recorded in
/// [`McpHeaders`] (`MCP-Protocol-Version` and the session header are recorded apart).
pub fn is_mcp_metadata_header(lowercase_name: &str) -> bool {
    lowercase_name == "mcp-method" || lowercase_name == "mcp-name" || lowercase_name.starts_with("mcp-param-")
}

/// Every header rule a 2026-07-28 request breaks (empty: all good). `tools` are the
/// server's tool definitions, for the `x-mcp-header` annotations of a `tools/call`.
pub fn problems(
    protocol_version: Option<&str>,
    mcp: &McpHeaders,
    method: &str,
    params: Option<&Value>,
    tools: &[Value],
) -> Vec<HeaderProblem> {
    let mut out = Vec::new();
    let mut problem = |rule, header: &str, detail: String| {
        out.push(HeaderProblem { rule, header: header.to_owned(), detail });
    };
    let meta_version = params.and_then(|p| p.get("_meta")).and_then(|m| m.get(META_PROTOCOL_VERSION));
    match (protocol_version, meta_version.and_then(Value::as_str)) {
        (None, _) => problem(HeaderRule::ProtocolVersion, "MCP-Protocol-Version", "missing".to_owned()),
        (Some(h), Some(b)) if h != b => problem(
            HeaderRule::ProtocolVersion,
            "MCP-Protocol-Version",
            format!("`{h}` but the body's _meta says `{b}`"),
        ),
        _ => {}
    }
    match mcp.get("mcp-method") {
        None => problem(HeaderRule::Method, "Mcp-Method", "missing".to_owned()),
        Some(h) if h != method => {
            problem(HeaderRule::Method, "Mcp-Method", format!("`{h}` but the body's method is `{method}`"))
        }
        Some(_) => {}
    }
    let name_source = RoundMethod::from_method(method).map(RoundMethod::name_field);
    if let Some(field) = name_source {
        let body = params.and_then(|p| p.get(field)).and_then(Value::as_str);
        match (mcp.get("mcp-name"), body) {
            (None, _) => problem(HeaderRule::Name, "Mcp-Name", format!("missing on {method}")),
            (Some(h), Some(b)) => {
                if let Err(why) = agrees(h, b) {
                    problem(HeaderRule::Name, "Mcp-Name", format!("{why} (body params.{field})"));
                }
            }
            (Some(_), None) => {}
        }
    }
    for Mirrored { annotation: a, value, text } in mirrored(method, params, tools) {
        let header = format!("Mcp-Param-{}", a.header);
        match mcp.get(&header.to_ascii_lowercase()) {
            None => {
                problem(
                    HeaderRule::Param,
                    &header,
                    format!("missing, while arguments.{} has a value", a.path.join(".")),
                );
            }
            Some(h) => {
                let numeric = value.is_i64() || value.is_u64();
                let same = if numeric { numerically_equal(h, &text) } else { agrees(h, &text) };
                if let Err(why) = same {
                    problem(HeaderRule::Param, &header, format!("{why} (arguments.{})", a.path.join(".")));
                }
            }
        }
    }
    out
}

/// An annotated argument a `tools/call` carries with a value: it must travel as a header.
#[derive(Debug, Clone, PartialEq)]
pub struct Mirrored<'a> {
    /// The annotation.
    pub annotation: Annotation,
    /// The argument's value.
    pub value: &'a Value,
    /// Its header text, before encoding.
    pub text: String,
}

/// The arguments of a `tools/call` that its tool marks with `x-mcp-header` and that
/// have a value (an absent or null one is omitted, and not expected); none for any
/// other method, or a tool `tools` does not define.
pub fn mirrored<'a>(method: &str, params: Option<&'a Value>, tools: &[Value]) -> Vec<Mirrored<'a>> {
    if method != "tools/call" {
        return Vec::new();
    }
    let name = params.and_then(|p| p.get("name")).and_then(Value::as_str);
    let Some(tool) = tools.iter().find(|t| t.get("name").and_then(Value::as_str) == name) else {
        return Vec::new();
    };
    let arguments = params.and_then(|p| p.get("arguments"));
    annotations(tool)
        .into_iter()
        .filter_map(|annotation| {
            let value = annotation.value_in(arguments)?;
            let text = header_text(value)?;
            Some(Mirrored { annotation, value, text })
        })
        .collect()
}

/// An `x-mcp-header` annotation: the header's name part and the property path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The `{Name}` of `Mcp-Param-{Name}`.
    pub header: String,
    /// The chain of `properties` keys leading to the annotated property.
    pub path: Vec<String>,
}

impl Annotation {
    /// The value at this annotation's path in a call's `arguments`, if any.
    pub fn value_in<'a>(&self, arguments: Option<&'a Value>) -> Option<&'a Value> {
        self.path.iter().try_fold(arguments, |v, k| Some(v?.get(k))).flatten()
    }
}

/// The `x-mcp-header` annotations of a tool definition, reachable through
/// `properties` chains only (the only place the spec allows them).
pub fn annotations(tool: &Value) -> Vec<Annotation> {
    fn walk(schema: &Value, path: &mut Vec<String>, out: &mut Vec<Annotation>) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
        for (key, prop) in props {
            path.push(key.clone());
            if let Some(h) = prop.get("x-mcp-header").and_then(Value::as_str) {
                out.push(Annotation { header: h.to_owned(), path: path.clone() });
            }
            walk(prop, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    if let Some(schema) = tool.get("inputSchema") {
        walk(schema, &mut Vec::new(), &mut out);
    }
    out
}

/// The header text of an argument value (type conversion of Value Encoding): a
/// string as is, an integer in decimal, a boolean as `true`/`false`; `None` for
/// null and for types a header cannot carry.
pub fn header_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Whether a value must travel Base64-encoded: it is not plain visible ASCII with
/// inner spaces — a control character, a tab included, needs it ("contains non-ASCII
/// characters, control characters, or has leading/trailing whitespace") —, has
/// leading or trailing whitespace, or looks like the sentinel.
pub fn needs_encoding(value: &str) -> bool {
    let plain = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let padded = value.starts_with(' ') || value.ends_with(' ');
    !plain || padded || is_sentinel(value)
}

/// The header form of a value: as is, or `=?base64?…?=` when it [`needs_encoding`].
pub fn encode(value: &str) -> String {
    if needs_encoding(value) {
        format!("{SENTINEL_START}{}{SENTINEL_END}", base64::engine::general_purpose::STANDARD.encode(value))
    } else {
        value.to_owned()
    }
}

fn is_sentinel(raw: &str) -> bool {
    raw.len() >= SENTINEL_START.len() + SENTINEL_END.len()
        && raw.starts_with(SENTINEL_START)
        && raw.ends_with(SENTINEL_END)
}

/// Decode a header value: Base64 inside the sentinel, else the plain value — which
/// must be visible ASCII and spaces.
pub fn decode(raw: &str) -> Result<String, String> {
    if is_sentinel(raw) {
        let inner = &raw[SENTINEL_START.len()..raw.len() - SENTINEL_END.len()];
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(inner)
            .map_err(|e| format!("`{raw}` is not valid Base64 ({e})"))?;
        return String::from_utf8(bytes).map_err(|_| format!("`{raw}` does not decode to UTF-8"));
    }
    if raw.chars().all(|c| (' '..='~').contains(&c)) {
        Ok(raw.to_owned())
    } else {
        Err(format!("`{}` carries characters a header value may not, unencoded", raw.escape_debug()))
    }
}

/// Whether a header value carries `body` as the encoding rules say.
fn agrees(raw: &str, body: &str) -> Result<(), String> {
    let decoded = decode(raw)?;
    if decoded != body {
        return Err(format!("`{raw}` does not match the body's `{}`", body.escape_debug()));
    }
    if needs_encoding(body) && !is_sentinel(raw) {
        return Err(format!("`{}` must be Base64-encoded (=?base64?…?=)", body.escape_debug()));
    }
    Ok(())
}

/// Integer parameters compare numerically (`42.0` = `42`; Server Validation note).
fn numerically_equal(raw: &str, body: &str) -> Result<(), String> {
    let decoded = decode(raw)?;
    match (decoded.trim().parse::<f64>(), body.parse::<f64>()) {
        (Ok(h), Ok(b)) if (h - b).abs() < f64::EPSILON => Ok(()),
        _ => Err(format!("`{raw}` does not match the body's {body}")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> McpHeaders {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn call(name: &str, arguments: Value) -> Value {
        json!({"name": name, "arguments": arguments, "_meta": {META_PROTOCOL_VERSION: "2026-07-28"}})
    }

    fn tool() -> Value {
        json!({"name": "go", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "count": {"type": "integer", "x-mcp-header": "Count"},
            "nested": {"type": "object", "properties": {"flag": {"type": "boolean", "x-mcp-header": "Flag"}}},
            "free": {"type": "string"}
        }}})
    }

    #[test]
    fn the_spec_examples_encode_as_the_table_says() {
        assert_eq!(encode("us-west1"), "us-west1");
        assert_eq!(encode("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
        assert_eq!(encode(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(encode("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(encode("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
        for v in ["us-west1", "Hello, 世界", " padded ", "line1\nline2", "=?base64?literal?="] {
            assert_eq!(decode(&encode(v)).as_deref(), Ok(v));
        }
        assert!(decode("=?base64?***?=").is_err());
        assert!(decode("Hello, 世界").is_err());
        // A tab is a control character: Base64, never raw.
        assert_eq!(encode("a\tb"), "=?base64?YQli?=");
        assert!(decode("a\tb").is_err());
    }

    #[test]
    fn a_good_request_has_no_problem() {
        let mcp = headers(&[
            ("mcp-method", "tools/call"),
            ("mcp-name", "go"),
            ("mcp-param-region", "=?base64?SGVsbG8sIOS4lueVjA==?="),
            ("mcp-param-count", "42"),
            ("mcp-param-flag", "true"),
        ]);
        let params = call("go", json!({"region": "Hello, 世界", "count": 42, "nested": {"flag": true}}));
        assert_eq!(problems(Some("2026-07-28"), &mcp, "tools/call", Some(&params), &[tool()]), vec![]);
        // Absent and null values: no header expected.
        let mcp = headers(&[("mcp-method", "tools/call"), ("mcp-name", "go")]);
        let params = call("go", json!({"region": null}));
        assert_eq!(problems(Some("2026-07-28"), &mcp, "tools/call", Some(&params), &[tool()]), vec![]);
    }

    #[test]
    fn each_rule_finds_its_problem() {
        let rules = |pv: Option<&str>, mcp: &[(&str, &str)], args: Value| -> Vec<HeaderRule> {
            let params = call("go", args);
            problems(pv, &headers(mcp), "tools/call", Some(&params), &[tool()]).into_iter().map(|p| p.rule).collect()
        };
        let ok = [("mcp-method", "tools/call"), ("mcp-name", "go")];
        assert_eq!(rules(None, &ok, json!({})), vec![HeaderRule::ProtocolVersion]);
        assert_eq!(rules(Some("2025-11-25"), &ok, json!({})), vec![HeaderRule::ProtocolVersion]);
        assert_eq!(rules(Some("2026-07-28"), &[("mcp-name", "go")], json!({})), vec![HeaderRule::Method]);
        assert_eq!(
            rules(Some("2026-07-28"), &[("mcp-method", "tools/list"), ("mcp-name", "go")], json!({})),
            vec![HeaderRule::Method]
        );
        assert_eq!(rules(Some("2026-07-28"), &[("mcp-method", "tools/call")], json!({})), vec![HeaderRule::Name]);
        assert_eq!(
            rules(Some("2026-07-28"), &[("mcp-method", "tools/call"), ("mcp-name", "other")], json!({})),
            vec![HeaderRule::Name]
        );
        assert_eq!(rules(Some("2026-07-28"), &ok, json!({"region": "eu"})), vec![HeaderRule::Param]);
        let mut with = ok.to_vec();
        with.push(("mcp-param-region", "us"));
        assert_eq!(rules(Some("2026-07-28"), &with, json!({"region": "eu"})), vec![HeaderRule::Param]);
        // Raw non-ASCII where Base64 is required.
        let mut raw = ok.to_vec();
        raw.push(("mcp-param-region", "Hello, 世界"));
        assert_eq!(rules(Some("2026-07-28"), &raw, json!({"region": "Hello, 世界"})), vec![HeaderRule::Param]);
        // Integers compare numerically.
        let mut n = ok.to_vec();
        n.push(("mcp-param-count", "42.0"));
        assert_eq!(rules(Some("2026-07-28"), &n, json!({"count": 42})), vec![]);
    }

    #[test]
    fn names_come_from_the_uri_for_resources() {
        let params = json!({"uri": "file:///a b", "_meta": {META_PROTOCOL_VERSION: "2026-07-28"}});
        let mcp = headers(&[("mcp-method", "resources/read"), ("mcp-name", "file:///a b")]);
        assert_eq!(problems(Some("2026-07-28"), &mcp, "resources/read", Some(&params), &[]), vec![]);
        let mcp = headers(&[("mcp-method", "resources/read"), ("mcp-name", "file:///a")]);
        assert_eq!(problems(Some("2026-07-28"), &mcp, "resources/read", Some(&params), &[]).len(), 1);
        // Methods without a name need no Mcp-Name.
        let mcp = headers(&[("mcp-method", "tools/list")]);
        assert_eq!(problems(Some("2026-07-28"), &mcp, "tools/list", None, &[]), vec![]);
    }
}
