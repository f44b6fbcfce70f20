//! A record of what the client received from the server and what it answered: one
//! JSON object per line, written (and flushed) before the answer is sent, so a
//! reader that has seen the answer arrive upstream finds it here.
//!
//! The harness's gateway mode reads it to judge a gateway between a server and this
//! client: did the request the server sent reach the client, params intact, and did
//! the client's answer travel back unchanged. Each line is
//! `{"method": M, "id": ID, "params": P|null, "result": R}` or `… "error": E}`; `params`
//! are as rmcp parsed them (re-serialized), `result`/`error` exactly as answered.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// Where received requests and their answers are written. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    file: Arc<Mutex<std::fs::File>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

impl Recorder {
    /// Create (truncate) the record file.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self { file: Arc::new(Mutex::new(std::fs::File::create(path)?)) })
    }

    /// Record one server→client request and the answer about to be sent: `Ok` a
    /// result, `Err` an error object (`{code, message, data?}`).
    pub fn request(&self, method: &str, id: &str, params: Option<Value>, answer: Result<Value, Value>) {
        let mut line = json!({ "method": method, "id": id, "params": params.unwrap_or(Value::Null) });
        match answer {
            Ok(result) => line["result"] = result,
            Err(error) => line["error"] = error,
        }
        self.note(&line);
    }

    /// Write a line of the caller's own (a note about the session, say): any JSON
    /// object without `method`.
    pub fn note(&self, line: &Value) {
        let mut text = line.to_string();
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A record that cannot be written is missing, and the harness says so.
        let _ = file.write_all(text.as_bytes()).and_then(|()| file.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_request_with_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let r = Recorder::create(&path).unwrap();
        r.request("ping", "1", None, Ok(json!({})));
        r.request("roots/list", "\"a\"", Some(json!({})), Err(json!({"code": -32601, "message": "no"})));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0], json!({"method": "ping", "id": "1", "params": null, "result": {}}));
        assert_eq!(lines[1]["error"]["code"], -32601);
        assert_eq!(lines[1]["id"], "\"a\"");
        r.note(&json!({"bystander": "up"}));
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().nth(2), Some("{\"bystander\":\"up\"}"));
    }
}
