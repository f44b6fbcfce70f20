//! The SSE streams of one Streamable HTTP session: each POST's response stream and
//! the standalone GET stream, and — for a script that closes one
//! ([`Script::is_resumable`](crate::script::Script::is_resumable)) — what makes them
//! resumable (2025-11-25 `basic/transports.mdx`, :105-117 and :164-186):
//!
//! - every event carries an id `s<stream>e<n>`, unique in the session and naming its
//!   stream ("Event IDs SHOULD encode sufficient information to identify the
//!   originating stream"); a stream opens with a priming event (`id` and an empty
//!   `data`, :106-108);
//! - a stream's connection can be closed without ending the stream — gracefully,
//!   after a `retry` field, or by an abort — and what is sent to it then is held;
//! - a GET with `Last-Event-ID` resumes the stream that id names: the events after it
//!   are replayed on the new connection, never another stream's (:180-181), and the
//!   stream goes on there.
//!
//! Without resumability a stream is what it always was: plain `message` events, and
//! a message for a connection that is gone is not delivered ([`Sent::Gone`]).

use std::collections::BTreeMap;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::http_common::sse_event;
use crate::trace::HttpStream;

/// A stream's number in its session (the `s<n>` of its event ids).
pub(super) type StreamNo = u32;

/// Sent on a connection's channel to abort it (an SSE event is never empty).
pub(super) const ABORT: Bytes = Bytes::new();

/// One HTTP response carrying a stream.
#[derive(Debug)]
pub(super) struct Conn {
    /// Its exchange.
    pub exchange: u64,
    /// What it is (a POST's SSE response, a GET).
    pub http: HttpStream,
    /// Its body.
    pub tx: mpsc::UnboundedSender<Bytes>,
}

#[derive(Debug)]
struct Logged {
    seq: u64,
    bytes: Vec<u8>,
    step: Option<String>,
    written: bool,
}

#[derive(Debug)]
struct Stream {
    conn: Option<Conn>,
    /// Every message sent to the stream (resumable streams only), in order.
    log: Vec<Logged>,
    /// The next event's number (0 is the priming event).
    next_seq: u64,
    /// The id of the last event written to a connection.
    last_written: u64,
    /// Its last message was sent (a POST's response): once that is written the
    /// stream ends.
    ended: bool,
}

/// What became of a message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// Written on this connection (exchange, stream kind).
    Written(u64, HttpStream),
    /// Kept for a resumption, under this event id.
    Held(String),
    /// Not delivered: the connection is gone and the stream is not resumable.
    Gone,
}

/// A GET's `Last-Event-ID` that resumes nothing.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NoResume {
    /// It names no stream of this session.
    Unknown,
    /// The stream it names has a live connection already.
    Connected,
}

/// A stream resumed: the replayed messages (bytes, step), and whether the stream
/// ended with them.
pub(super) struct Resumed {
    pub stream: StreamNo,
    pub replayed: Vec<(Vec<u8>, Option<String>)>,
}

/// The streams of a session.
#[derive(Debug, Default)]
pub(super) struct Streams {
    resumable: bool,
    all: BTreeMap<StreamNo, Stream>,
}

/// The event id of event `seq` of stream `no`.
pub(super) fn event_id(no: StreamNo, seq: u64) -> String {
    format!("s{no}e{seq}")
}

/// The stream and event an id names.
fn parse_event_id(id: &str) -> Option<(StreamNo, u64)> {
    let (no, seq) = id.strip_prefix('s')?.split_once('e')?;
    Some((no.parse().ok()?, seq.parse().ok()?))
}

/// An SSE `message` event, with its id when it has one.
fn message(id: Option<&str>, bytes: &[u8]) -> Bytes {
    let event = sse_event("message", bytes);
    match id {
        Some(id) => {
            let mut out = format!("id: {id}\n").into_bytes();
            out.extend_from_slice(&event);
            Bytes::from(out)
        }
        None => event,
    }
}

impl Streams {
    /// The streams of a session whose script is (not) resumable.
    pub(super) fn new(resumable: bool) -> Self {
        Self { resumable, all: BTreeMap::new() }
    }

    /// Whether streams carry event ids and can be resumed.
    pub(super) fn resumable(&self) -> bool {
        self.resumable
    }

    /// Open a stream on `conn` (priming it when resumable).
    pub(super) fn open(&mut self, conn: Conn) -> StreamNo {
        let no = self.all.keys().next_back().map_or(1, |n| n + 1);
        if self.resumable {
            let _ = conn.tx.send(Bytes::from(format!("id: {}\ndata: \n\n", event_id(no, 0))));
        }
        self.all.insert(no, Stream { conn: Some(conn), log: Vec::new(), next_seq: 1, last_written: 0, ended: false });
        no
    }

    /// Whether the stream has a live connection.
    pub(super) fn is_live(&self, no: StreamNo) -> bool {
        self.all.get(&no).and_then(|s| s.conn.as_ref()).is_some_and(|c| !c.tx.is_closed())
    }

    /// Send a message on stream `no`: written when its connection is live, held when
    /// it is not and the stream is resumable, else gone.
    pub(super) fn send(&mut self, no: StreamNo, bytes: &[u8], step: Option<&str>) -> Sent {
        let resumable = self.resumable;
        let Some(s) = self.all.get_mut(&no).filter(|s| !s.ended) else { return Sent::Gone };
        let seq = s.next_seq;
        let id = resumable.then(|| event_id(no, seq));
        let written = match &s.conn {
            Some(c) if c.tx.send(message(id.as_deref(), bytes)).is_ok() => Some((c.exchange, c.http)),
            _ => {
                s.conn = None;
                None
            }
        };
        let Some(id) = id else {
            return written.map_or(Sent::Gone, |(x, h)| Sent::Written(x, h));
        };
        s.next_seq += 1;
        s.log.push(Logged { seq, bytes: bytes.to_vec(), step: step.map(str::to_owned), written: written.is_some() });
        match written {
            Some((x, h)) => {
                s.last_written = seq;
                Sent::Written(x, h)
            }
            None => Sent::Held(id),
        }
    }

    /// The stream's last message was sent: end it once that is written (at once when
    /// it was; on the resumption that replays it otherwise).
    pub(super) fn end(&mut self, no: StreamNo) {
        if let Some(s) = self.all.get_mut(&no) {
            s.ended = true;
            if s.log.iter().all(|l| l.written) {
                s.conn = None;
            }
        }
    }

    /// Close stream `no`'s connection without ending the stream: gracefully (after a
    /// `retry` field, when given) or by an abort. The exchange closed and the id of
    /// the last event written on it; `None` when no connection is live.
    pub(super) fn close(&mut self, no: StreamNo, retry_ms: Option<u64>, abort: bool) -> Option<(u64, String)> {
        let s = self.all.get_mut(&no)?;
        let conn = s.conn.take().filter(|c| !c.tx.is_closed())?;
        if abort {
            let _ = conn.tx.send(ABORT);
        } else if let Some(ms) = retry_ms {
            let _ = conn.tx.send(Bytes::from(format!("retry: {ms}\n\n")));
        }
        Some((conn.exchange, event_id(no, s.last_written)))
    }

    /// Abort stream `no` for good (a 2026-07-28 broken response stream: never resumed).
    pub(super) fn abort(&mut self, no: StreamNo) -> bool {
        let Some(s) = self.all.get_mut(&no) else { return false };
        s.ended = true;
        match s.conn.take() {
            Some(c) if !c.tx.is_closed() => c.tx.send(ABORT).is_ok(),
            _ => false,
        }
    }

    /// Resume the stream `last_event_id` names on `conn`: replay what followed that
    /// event, then carry the stream on (or end it, when its last message was among
    /// the replayed).
    pub(super) fn resume(&mut self, last_event_id: &str, conn: Conn) -> Result<Resumed, NoResume> {
        if !self.resumable {
            return Err(NoResume::Unknown);
        }
        let (no, after) = parse_event_id(last_event_id).ok_or(NoResume::Unknown)?;
        let s = self.all.get_mut(&no).ok_or(NoResume::Unknown)?;
        if s.conn.as_ref().is_some_and(|c| !c.tx.is_closed()) {
            return Err(NoResume::Connected);
        }
        let mut replayed = Vec::new();
        for l in s.log.iter_mut().filter(|l| l.seq > after) {
            if conn.tx.send(message(Some(&event_id(no, l.seq)), &l.bytes)).is_err() {
                break;
            }
            l.written = true;
            s.last_written = l.seq;
            replayed.push((l.bytes.clone(), l.step.clone()));
        }
        s.conn = (!s.ended).then_some(conn);
        Ok(Resumed { stream: no, replayed })
    }

    /// The steps of the messages held and never replayed.
    pub(super) fn held(&self) -> Vec<Option<String>> {
        self.all.values().flat_map(|s| s.log.iter().filter(|l| !l.written).map(|l| l.step.clone())).collect()
    }

    /// End every connection (the session is over).
    pub(super) fn close_all(&mut self) {
        for s in self.all.values_mut() {
            s.conn = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(exchange: u64) -> (Conn, mpsc::UnboundedReceiver<Bytes>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Conn { exchange, http: HttpStream::GetSse, tx }, rx)
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<Bytes>) -> String {
        let mut out = String::new();
        while let Ok(b) = rx.try_recv() {
            out.push_str(&String::from_utf8_lossy(&b));
        }
        out
    }

    #[test]
    fn plain_streams_have_no_ids_and_lose_what_a_closed_connection_cannot_take() {
        let mut s = Streams::new(false);
        let (c, mut rx) = conn(1);
        let no = s.open(c);
        assert_eq!(s.send(no, b"{}", None), Sent::Written(1, HttpStream::GetSse));
        assert_eq!(drain(&mut rx), "event: message\ndata: {}\n\n");
        drop(rx);
        assert_eq!(s.send(no, b"{}", None), Sent::Gone);
        assert!(s.resume("s1e0", conn(2).0).is_err());
    }

    #[test]
    fn a_closed_stream_holds_and_replays_only_what_followed_the_last_event_id() {
        let mut s = Streams::new(true);
        let (c, mut rx) = conn(1);
        let one = s.open(c);
        let (c2, _rx2) = conn(2);
        let two = s.open(c2);
        assert_eq!(s.send(one, b"{\"a\":1}", Some("a")), Sent::Written(1, HttpStream::GetSse));
        assert_eq!(s.send(two, b"{\"other\":1}", Some("other")), Sent::Written(2, HttpStream::GetSse));
        assert_eq!(s.close(one, Some(300), false), Some((1, "s1e1".to_owned())));
        assert_eq!(drain(&mut rx), "id: s1e0\ndata: \n\nid: s1e1\nevent: message\ndata: {\"a\":1}\n\nretry: 300\n\n");
        assert_eq!(s.send(one, b"{\"b\":2}", Some("b")), Sent::Held("s1e2".into()));
        assert_eq!(s.held(), vec![Some("b".to_owned())]);
        // The other stream's messages are never replayed here.
        let (c3, mut rx3) = conn(3);
        let r = s.resume("s1e1", c3).unwrap_or_else(|_| unreachable!());
        assert_eq!((r.stream, r.replayed.len()), (1, 1));
        assert_eq!(drain(&mut rx3), "id: s1e2\nevent: message\ndata: {\"b\":2}\n\n");
        assert!(s.held().is_empty());
        // A stale id replays what the client had already.
        s.close(one, None, true);
        let (c4, mut rx4) = conn(4);
        assert_eq!(s.resume("s1e0", c4).map(|r| r.replayed.len()).ok(), Some(2));
        assert!(drain(&mut rx4).contains("id: s1e1\n"));
        assert_eq!(s.resume("s9e0", conn(5).0).err(), Some(NoResume::Unknown));
        assert_eq!(s.resume("s1e0", conn(6).0).err(), Some(NoResume::Connected));
    }

    #[test]
    fn an_ended_stream_ends_after_replaying_its_last_message() {
        let mut s = Streams::new(true);
        let (c, _rx) = conn(1);
        let no = s.open(c);
        s.close(no, None, false);
        assert_eq!(s.send(no, b"{\"result\":{}}", None), Sent::Held("s1e1".into()));
        s.end(no);
        let (c2, mut rx2) = conn(2);
        assert_eq!(s.resume("s1e0", c2).map(|r| r.replayed.len()).ok(), Some(1));
        assert!(!s.is_live(no), "the stream ended with its response");
        assert!(drain(&mut rx2).contains("result"));
        assert_eq!(s.send(no, b"{}", None), Sent::Gone);
    }
}
