//! The stdio transport: the server as a child process, one JSON-RPC message per
//! line — and a line holding a JSON-RPC batch (an array, 2025-03-26) split into its
//! messages, which rmcp's own codec rejects. Each message of a batch is answered on
//! its own (JSON-RPC 2.0 §6 says a batch SHOULD be answered with an array; answering
//! each member is what every client we measured does, and the checks accept it).
//!
//! A line that is not JSON is answered with JSON-RPC `-32700` and one that is JSON
//! but not a JSON-RPC message with `-32600` (JSON-RPC 2.0 §5.1, id `null`); both are
//! logged at WARNING without their content, which can hold params.

use std::process::Stdio;

use futures::{SinkExt, StreamExt};
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The two halves rmcp's `(Sink, Stream)` transport adapter takes.
pub type StdioTransport = (
    futures::channel::mpsc::Sender<TxJsonRpcMessage<RoleClient>>,
    futures::channel::mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
);

/// The largest line accepted from the server; a longer one is skipped whole.
const MAX_LINE: usize = 64 * 1024 * 1024;

/// Spawn `program args…` and speak line-delimited JSON-RPC with it. The server's
/// stderr is inherited; the child is killed if the transport is dropped. `server`
/// names the server in log lines (`stdio:<command>`).
pub fn spawn(program: &str, args: &[String], server: String) -> std::io::Result<StdioTransport> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let (mut to_rmcp, from_server) = futures::channel::mpsc::channel::<RxJsonRpcMessage<RoleClient>>(64);
    let (to_server, mut from_rmcp) = futures::channel::mpsc::channel::<TxJsonRpcMessage<RoleClient>>(64);
    // Everything written to the server goes through one queue of whole lines: rmcp's
    // messages and the transport's own error answers.
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let errors_tx = lines_tx.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            match read_line(&mut reader, &mut line).await {
                Ok(LineRead::Eof) | Err(_) => break,
                Ok(LineRead::TooLong) => {
                    tracing::warn!(server = %server, limit = MAX_LINE, "skipped a line from the server longer than the limit");
                    continue;
                }
                Ok(LineRead::Line) => {}
            }
            let parsed = parse_line(&line);
            for reply in &parsed.replies {
                tracing::warn!(server = %server, code = reply.0, "the server sent {}; answered with JSON-RPC {}", reply.1, reply.0);
                let _ = errors_tx.send(error_line(reply.0, reply.1));
            }
            for msg in parsed.messages {
                if to_rmcp.send(msg).await.is_err() {
                    return;
                }
            }
        }
        // EOF: dropping the sender ends the stream, and rmcp ends the session.
    });
    tokio::spawn(async move {
        while let Some(msg) = from_rmcp.next().await {
            let Ok(mut line) = serde_json::to_vec(&msg) else { continue };
            line.push(b'\n');
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(line) = lines_rx.recv().await {
            if stdin.write_all(&line).await.is_err() || stdin.flush().await.is_err() {
                break;
            }
        }
        // The session is over: closing stdin tells the server (lifecycle: shutdown),
        // and the child is reaped here.
        drop(stdin);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), child.wait()).await;
        let _ = child.kill().await;
    });
    Ok((to_server, from_server))
}

enum LineRead {
    Line,
    TooLong,
    Eof,
}

/// Read one `\n`-terminated line into `line` (cleared first), holding at most
/// [`MAX_LINE`] bytes: a longer line is consumed to its end and reported.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<LineRead> {
    line.clear();
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if line.is_empty() && !too_long {
                LineRead::Eof
            } else if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
        let (chunk, done) = match memchr(buf) {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let n = chunk.len();
        if !too_long && line.len() + n <= MAX_LINE {
            line.extend_from_slice(chunk);
        } else {
            too_long = true;
            line.clear();
        }
        reader.consume(n);
        if done {
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Line });
        }
    }
}

fn memchr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// What one line from the server holds: messages for rmcp, and error answers owed
/// for what is not JSON-RPC (`(code, description)`).
#[derive(Default)]
struct ParsedLine {
    messages: Vec<RxJsonRpcMessage<RoleClient>>,
    replies: Vec<(i64, &'static str)>,
}

/// Split one line: one message, the members of a batch, or nothing for a blank line.
fn parse_line(line: &[u8]) -> ParsedLine {
    let mut out = ParsedLine::default();
    let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    if trimmed.iter().all(u8::is_ascii_whitespace) {
        return out;
    }
    let values = match serde_json::from_slice::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::Array(items)) if items.is_empty() => {
            out.replies.push((-32600, "an empty batch"));
            return out;
        }
        Ok(serde_json::Value::Array(items)) => items,
        Ok(v) => vec![v],
        Err(e) => {
            tracing::debug!(error = %e, "a line that is not JSON");
            out.replies.push((-32700, "a line that is not JSON"));
            return out;
        }
    };
    for v in values {
        match serde_json::from_value(v) {
            Ok(m) => out.messages.push(m),
            Err(e) => {
                tracing::debug!(error = %e, "a message that is not JSON-RPC");
                out.replies.push((-32600, "a message that is not JSON-RPC"));
            }
        }
    }
    out
}

/// A JSON-RPC error answer with id `null` (JSON-RPC 2.0 §5: the id could not be
/// determined), as one line.
fn error_line(code: i64, what: &str) -> Vec<u8> {
    let message = match code {
        -32700 => format!("Parse error: backchannel reference client received {what}"),
        _ => format!("Invalid Request: backchannel reference client received {what}"),
    };
    let mut line = serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": code, "message": message},
    }))
    .expect("a JSON value serializes");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_line_splits_into_its_members() {
        let p = parse_line(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]"#);
        assert_eq!(p.messages.len(), 2);
        assert!(p.replies.is_empty());
    }

    #[test]
    fn garbage_owes_a_parse_error_and_an_invalid_member_an_invalid_request() {
        assert_eq!(parse_line(b"not json\n").replies, vec![(-32700, "a line that is not JSON")]);
        let p = parse_line(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"hello":1}]"#);
        assert_eq!(p.messages.len(), 1);
        assert_eq!(p.replies.iter().map(|r| r.0).collect::<Vec<_>>(), vec![-32600]);
        assert_eq!(parse_line(b"[]").replies.len(), 1);
        assert!(parse_line(b"  \r\n").replies.is_empty());
    }

    #[tokio::test]
    async fn an_overlong_line_is_skipped_whole_and_the_next_one_read() {
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.extend_from_slice(b"\n{\"a\":1}\n");
        let mut reader = BufReader::new(&data[..]);
        let mut line = Vec::new();
        assert!(matches!(read_line(&mut reader, &mut line).await.unwrap(), LineRead::TooLong));
        assert!(matches!(read_line(&mut reader, &mut line).await.unwrap(), LineRead::Line));
        assert_eq!(line, b"{\"a\":1}\n");
        assert!(matches!(read_line(&mut reader, &mut line).await.unwrap(), LineRead::Eof));
    }
}
