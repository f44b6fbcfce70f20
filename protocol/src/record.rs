//! The record a client keeps of what reached it: one JSON object per line, each
//! written (and flushed) before the answer it holds is sent, so a reader that has
//! seen the answer arrive upstream finds it here.
//!
//! The reference client writes it (`backchannel client --record FILE`, and
//! `--bystander-record FILE` for a second session); the harness's gateway mode reads
//! it to judge a gateway between a server and that client. Both go through [`Line`]:
//! the format is written and read by the same code.
//!
//! The lines:
//! - a request and its answer: `{"method": M, "id": ID, "params": P|null, "result": R}`
//!   or `… "error": E}` ([`Received`]; `id` as text — `7`, `"a"` —, `params` as the
//!   client read them, `result`/`error` exactly as answered);
//! - a session that came up: `{"bystander": "up"}`;
//! - a session that could not be opened: `{"unavailable": WHY}`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One server→client request as the client received it, with its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The method.
    pub method: String,
    /// The request's id as the client read it, as text (`7`, `"a"`).
    pub id: String,
    /// The params as the client read them (`null` in the record: none).
    #[serde(default)]
    pub params: Option<Value>,
    /// What the client answered.
    #[serde(flatten)]
    pub answer: Answer,
}

/// What a client answered: a result, or an error object (`{code, message, data?}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    /// `"result": R`.
    Result(Value),
    /// `"error": E`.
    Error(Value),
}

/// One line of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A request received and the answer given.
    Request(Received),
    /// The session is up (a bystander session: `{"bystander": "up"}`).
    Up,
    /// The session could not be opened, and why (`{"unavailable": WHY}`).
    Unavailable(String),
}

impl Line {
    /// The line as written, without its newline.
    pub fn to_json(&self) -> String {
        match self {
            Self::Request(r) => serde_json::to_string(r).unwrap_or_default(),
            Self::Up => serde_json::json!({ "bystander": "up" }).to_string(),
            Self::Unavailable(why) => serde_json::json!({ "unavailable": why }).to_string(),
        }
    }

    /// Read one line; `None` when it is none of the above.
    pub fn parse(line: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(line).ok()?;
        if v.get("method").is_some() {
            return serde_json::from_value(v).ok().map(Self::Request);
        }
        if let Some(why) = v.get("unavailable") {
            return Some(Self::Unavailable(why.as_str().map_or_else(|| why.to_string(), str::to_owned)));
        }
        (v.get("bystander").and_then(Value::as_str) == Some("up")).then_some(Self::Up)
    }
}

/// A whole record, read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// Every request, in the order answered.
    pub received: Vec<Received>,
    /// Whether a line said the session was up.
    pub up: bool,
    /// Why the session could not be opened, if a line said so.
    pub unavailable: Option<String>,
    /// Lines that are none of the [`Line`]s.
    pub unreadable: usize,
}

impl Record {
    /// Read a record's text.
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match Line::parse(line) {
                Some(Line::Request(r)) => out.received.push(r),
                Some(Line::Up) => out.up = true,
                Some(Line::Unavailable(why)) => out.unavailable = Some(why),
                None => out.unreadable += 1,
            }
        }
        out
    }

    /// Read a record file.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        std::fs::read_to_string(path).map(|t| Self::parse(&t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_read_back_as_written() {
        let lines = [
            Line::Request(Received {
                method: "ping".into(),
                id: "1".into(),
                params: None,
                answer: Answer::Result(json!({})),
            }),
            Line::Request(Received {
                method: "roots/list".into(),
                id: "\"a\"".into(),
                params: Some(json!({})),
                answer: Answer::Error(json!({"code": -32601, "message": "no"})),
            }),
            Line::Up,
            Line::Unavailable("HTTP 400".into()),
        ];
        for line in &lines {
            assert_eq!(Line::parse(&line.to_json()).as_ref(), Some(line), "{}", line.to_json());
        }
        let v: Value = serde_json::from_str(&lines[0].to_json()).unwrap();
        assert_eq!(v, json!({"method": "ping", "id": "1", "params": null, "result": {}}));
        assert_eq!(lines[2].to_json(), r#"{"bystander":"up"}"#);
        assert_eq!(lines[3].to_json(), r#"{"unavailable":"HTTP 400"}"#);
    }

    #[test]
    fn a_record_reads_back_and_bad_lines_are_counted() {
        let r = Record::parse(
            "{\"method\":\"ping\",\"id\":\"1\",\"params\":null,\"result\":{}}\nnot json\n{\"method\":\"x\",\"id\":\"2\"}\n\n",
        );
        assert_eq!(r.received.len(), 1);
        assert_eq!(r.received[0].answer, Answer::Result(json!({})));
        assert_eq!(r.received[0].params, None);
        assert_eq!(r.unreadable, 2);
        assert!(!r.up && r.unavailable.is_none());
        let b = Record::parse("{\"bystander\":\"up\"}\n{\"unavailable\":{\"status\":400}}\n");
        assert!(b.up);
        assert_eq!(b.unavailable.as_deref(), Some(r#"{"status":400}"#));
    }
}
