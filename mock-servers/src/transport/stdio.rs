//! stdio: the mock is the child process a client spawns. Frames are lines on
//! stdin/stdout (2025-11-25 `basic/transports.mdx:27-28`: newline-delimited, no
//! embedded newlines); nothing but MCP is written to stdout.

use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::FileTypeExt;

use tokio::io::{AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{ReadFrame, read_frame};
use crate::canary::Canary;
use crate::engine::{Engine, Inbound, Origin, Outgoing, Sink, Tap, tap, with_tap};
use crate::script::Script;
use crate::trace::{Direction, EndReason, TraceWriter};
use backchannel_protocol::Transport;

/// Writes each frame as one line, flushes it, and records it.
#[derive(Debug)]
pub struct LineSink<W> {
    writer: W,
    tap: Tap,
}

impl<W: AsyncWrite + Unpin + Send> Sink for LineSink<W> {
    async fn send(&mut self, msg: Outgoing) -> io::Result<()> {
        with_tap(&self.tap, |t| {
            t.frame(Direction::ServerToClient, &msg.bytes, msg.step.as_deref(), std::time::Instant::now())
        });
        let mut line = msg.bytes;
        line.push(b'\n');
        self.writer.write_all(&line).await?;
        self.writer.flush().await
    }
}

/// Run one session over any reader/writer pair (stdio, or a duplex in tests).
///
/// Returns when the session ends; the writer is shut down first, so the client sees EOF.
pub async fn serve<R, W>(
    script: Script,
    canary: &Canary,
    trace: TraceWriter,
    reader: R,
    writer: W,
    max_frame: usize,
) -> io::Result<EndReason>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send,
{
    serve_until(script, canary, trace, reader, writer, max_frame, std::future::pending()).await
}

/// [`serve`], the client counting as gone once `gone` resolves too (a SIGTERM: a
/// gateway that stops its server process ends the session the way closing stdin
/// does, and the trace says so).
async fn serve_until<R, W>(
    script: Script,
    canary: &Canary,
    trace: TraceWriter,
    reader: R,
    writer: W,
    max_frame: usize,
    gone: impl Future<Output = ()> + Send + 'static,
) -> io::Result<EndReason>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send,
{
    let tap = tap(trace);
    let (tx, rx) = mpsc::channel(64);
    let reader_tap = tap.clone();
    let reader_task = tokio::spawn(async move {
        let mut reader = BufReader::new(reader);
        tokio::pin!(gone);
        loop {
            let read = tokio::select! {
                read = read_frame(&mut reader, max_frame) => read,
                () = &mut gone => Ok(ReadFrame::Eof),
            };
            let item = match read {
                Ok(ReadFrame::Frame(bytes)) => {
                    let at = Instant::now();
                    with_tap(&reader_tap, |t| t.frame(Direction::ClientToServer, &bytes, None, at.into_std()));
                    Inbound::Frame { bytes, at, origin: Origin::default() }
                }
                Ok(ReadFrame::Oversized(len)) => Inbound::Oversized { len, at: Instant::now() },
                Ok(ReadFrame::Eof) | Err(_) => Inbound::Closed,
            };
            let closed = matches!(item, Inbound::Closed);
            if tx.send(item).await.is_err() || closed {
                break;
            }
        }
    });
    let mut sink = LineSink { writer, tap: tap.clone() };
    let engine = Engine::new(script, canary, Transport::Stdio, tap, &mut sink)?;
    let reason = engine.run(rx).await;
    let _ = sink.writer.shutdown().await;
    reader_task.abort();
    Ok(reason)
}

/// Run one session on this process's stdin and stdout.
///
/// When they are pipes (as when a client launches the mock) they are read and
/// written without blocking, on the runtime's own thread; otherwise (a terminal, a
/// file) through tokio's blocking stdio, and the caller should exit the process
/// soon after: tokio's stdin reader is a blocking thread that cannot be
/// interrupted, so waiting for the runtime to shut down could hang until the
/// client closes its end.
pub async fn serve_stdio(
    script: Script,
    canary: &Canary,
    trace: TraceWriter,
    max_frame: usize,
) -> io::Result<EndReason> {
    match (pipe_end(&io::stdin()).map(pipe::Receiver::from_file), pipe_end(&io::stdout()).map(pipe::Sender::from_file))
    {
        (Some(Ok(reader)), Some(Ok(writer))) => {
            serve_until(script, canary, trace, reader, writer, max_frame, terminated()).await
        }
        _ => serve_until(script, canary, trace, tokio::io::stdin(), tokio::io::stdout(), max_frame, terminated()).await,
    }
}

/// Resolves on SIGTERM (never, if the handler cannot be installed).
async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

/// A duplicate of `fd` as a file, if it is a pipe.
fn pipe_end(fd: &impl AsFd) -> Option<std::fs::File> {
    let file = std::fs::File::from(fd.as_fd().try_clone_to_owned().ok()?);
    file.metadata().ok()?.file_type().is_fifo().then_some(file)
}
