//! A record of what the client received from the server and what it answered, in
//! the format of [`backchannel_protocol::record`] (one JSON object per line, written
//! and flushed before the answer is sent, so a reader that has seen the answer arrive
//! upstream finds it here). The harness's gateway mode reads it back with the same
//! types to judge a gateway between a server and this client.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use backchannel_protocol::record::{Answer, Line, Received};
use serde_json::Value;

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
        let answer = match answer {
            Ok(result) => Answer::Result(result),
            Err(error) => Answer::Error(error),
        };
        self.write(&Line::Request(Received { method: method.to_owned(), id: id.to_owned(), params, answer }));
    }

    /// Record that the session is up (a bystander session, once initialized).
    pub fn up(&self) {
        self.write(&Line::Up);
    }

    /// Record that the session could not be opened, and why.
    pub fn unavailable(&self, why: &str) {
        self.write(&Line::Unavailable(why.to_owned()));
    }

    fn write(&self, line: &Line) {
        let mut text = line.to_json();
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A record that cannot be written is missing, and the harness says so.
        let _ = file.write_all(text.as_bytes()).and_then(|()| file.flush());
    }
}

#[cfg(test)]
mod tests {
    use backchannel_protocol::record::Record;
    use serde_json::json;

    use super::*;

    #[test]
    fn one_line_per_request_with_the_answer_read_back_by_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let r = Recorder::create(&path).unwrap();
        r.request("ping", "1", None, Ok(json!({})));
        r.request("roots/list", "\"a\"", Some(json!({})), Err(json!({"code": -32601, "message": "no"})));
        r.up();
        let text = std::fs::read_to_string(&path).unwrap();
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first, json!({"method": "ping", "id": "1", "params": null, "result": {}}));
        assert_eq!(text.lines().nth(2), Some("{\"bystander\":\"up\"}"));
        let back = Record::read(&path).unwrap();
        assert_eq!(back.received.len(), 2);
        assert_eq!(back.received[1].id, "\"a\"");
        assert_eq!(back.received[1].answer, Answer::Error(json!({"code": -32601, "message": "no"})));
        assert!(back.up && back.unreadable == 0);
    }
}
