//! Transports: how frames reach the engine and leave it.

pub mod http;
mod http_common;
pub mod sse;
pub mod stdio;
mod streams;

pub use http_common::origin_allowed;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::watch;

/// Tells an HTTP mock that its client's process has exited. Whoever supervises the
/// client knows (the harness does); a mock run by hand is never told
/// ([`ClientExit::never`]).
///
/// Told, the mock ends every stream it holds open, reads every connection to its
/// end — so whatever the client wrote before it died is recorded — and then ends
/// the session (`client_closed`) without waiting out its timers: nothing can come
/// any more. Over stdio no signal is needed: the client's exit closes the mock's
/// stdin.
#[derive(Debug, Clone)]
pub struct ClientExit(watch::Receiver<bool>);

/// The sending side of [`ClientExit`].
#[derive(Debug)]
pub struct ClientExited(watch::Sender<bool>);

impl ClientExited {
    /// The client's process has exited.
    pub fn notify(&self) {
        let _ = self.0.send(true);
    }
}

impl ClientExit {
    /// A pair: tell the sender, the mock holding the receiver learns it.
    pub fn channel() -> (ClientExited, Self) {
        let (tx, rx) = watch::channel(false);
        (ClientExited(tx), Self(rx))
    }

    /// A mock that is never told (run by hand: its client is not ours to watch).
    pub fn never() -> Self {
        Self::channel().1
    }

    /// Resolves once the client has exited; never, if it cannot be told.
    pub(crate) async fn exited(mut self) {
        if self.0.wait_for(|exited| *exited).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The default maximum frame size in bytes (16 MiB). Larger frames are discarded
/// (and recorded as an event), so a hostile client cannot exhaust memory.
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// One result of [`read_frame`].
#[derive(Debug, PartialEq, Eq)]
pub enum ReadFrame {
    /// A frame without its `\n` (and without a trailing `\r`).
    Frame(Vec<u8>),
    /// A frame longer than the limit was skipped; carries its length.
    Oversized(usize),
    /// End of input (a partial last line without `\n` is returned as a frame first).
    Eof,
}

/// Read one newline-delimited frame, never buffering more than `max` bytes of it.
pub async fn read_frame<R: AsyncBufRead + Unpin>(reader: &mut R, max: usize) -> std::io::Result<ReadFrame> {
    let mut line = Vec::new();
    let mut skipped = 0usize;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(match (skipped, line.is_empty()) {
                (0, true) => ReadFrame::Eof,
                (0, false) => ReadFrame::Frame(trim_cr(line)),
                (n, _) => ReadFrame::Oversized(n + line.len()),
            });
        }
        let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if skipped > 0 || line.len() + chunk.len() > max {
            skipped += line.len() + chunk.len();
            line.clear();
        } else {
            line.extend_from_slice(chunk);
        }
        let consumed = found.unwrap_or(buf.len());
        reader.consume(consumed);
        if found.is_some() {
            return Ok(if skipped > 0 { ReadFrame::Oversized(skipped) } else { ReadFrame::Frame(trim_cr(line)) });
        }
    }
}

fn trim_cr(mut line: Vec<u8>) -> Vec<u8> {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn splits_lines_and_bounds_them() {
        let input: &[u8] = b"one\r\ntwo\nthis-is-too-long\nend";
        let mut r = tokio::io::BufReader::with_capacity(4, input);
        assert_eq!(read_frame(&mut r, 8).await.unwrap(), ReadFrame::Frame(b"one".to_vec()));
        assert_eq!(read_frame(&mut r, 8).await.unwrap(), ReadFrame::Frame(b"two".to_vec()));
        assert_eq!(read_frame(&mut r, 8).await.unwrap(), ReadFrame::Oversized(16));
        assert_eq!(read_frame(&mut r, 8).await.unwrap(), ReadFrame::Frame(b"end".to_vec()));
        assert_eq!(read_frame(&mut r, 8).await.unwrap(), ReadFrame::Eof);
    }
}
