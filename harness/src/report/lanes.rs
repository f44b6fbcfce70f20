//! A gateway case as it happened, for the reports: three lanes — the downstream
//! client, the gateway, the upstream server (the mock) — built from the upstream
//! trace and the downstream client's record, and the bystander's. The upstream
//! frames are the trace's, in time order; each server→client request the downstream
//! client received (and its answer) is drawn right after the upstream frame that
//! carried it, matched by method and params (a gateway may add `_meta`), so a request
//! that reached the gateway and never left it, or left it twice, shows at a glance.
//! The downstream record has no clock: its rows carry no time.

use backchannel_mock::trace::{Direction, Frame, Trace};
use backchannel_protocol::record::{Answer, Received};
use serde_json::Value;

use crate::check::gateway::{Bystander, Delivered};

/// A party of a gateway case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// The downstream client (the reference client, recording what reached it).
    Client,
    /// A second downstream session, up beside the client's, asking for nothing.
    Bystander,
    /// The gateway under test.
    Gateway,
    /// The upstream server: the mock.
    Server,
}

/// One arrow.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    /// Who sent it.
    pub from: Lane,
    /// Who received it.
    pub to: Lane,
    /// The upstream frame, when it is one (its seq and time).
    pub frame: Option<&'a Frame>,
    /// What the arrow says (`#3 sampling/createMessage (1)`, `sampling/createMessage ("7")`).
    pub label: String,
    /// The message, as JSON text.
    pub body: String,
    /// What is wrong with it, when something is: never left the gateway, left twice,
    /// reached the bystander.
    pub note: Option<String>,
}

/// The `method` and `id` of a frame that is a request.
fn request(f: &Frame) -> Option<(&str, &Value)> {
    let j = f.json.as_ref()?;
    Some((j.get("method")?.as_str()?, j.get("id")?))
}

/// A server→client request's method and params (without `_meta`).
fn asked(f: &Frame) -> Option<(&str, Value)> {
    let (method, _) = request(f).filter(|_| f.dir == Direction::ServerToClient)?;
    Some((method, bare(f.json.as_ref().and_then(|j| j.get("params")))))
}

/// `v` without a top-level `_meta`.
fn bare(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(m)) => {
            Value::Object(m.iter().filter(|(k, _)| *k != "_meta").map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// Whether `r` is the delivery of the upstream request `(method, params)`.
fn carries(r: &Received, method: &str, params: &Value) -> bool {
    r.method == method && bare(r.params.as_ref()) == *params
}

fn answer_label(a: &Answer) -> (String, String) {
    let (label, body) = match a {
        Answer::Result(v) => ("result".to_owned(), serde_json::json!({"result": v})),
        Answer::Error(e) => (
            e.get("code").map_or_else(|| "error".to_owned(), |c| format!("error {c}")),
            serde_json::json!({"error": e}),
        ),
    };
    (label, serde_json::to_string_pretty(&body).unwrap_or_default())
}

/// The two rows of one delivery: the request as the downstream read it, its answer.
fn delivery<'a>(r: &Received, to: Lane, note: Option<String>) -> [Row<'a>; 2] {
    let request = serde_json::json!({"method": r.method, "id": r.id, "params": r.params});
    let (label, body) = answer_label(&r.answer);
    [
        Row {
            from: Lane::Gateway,
            to,
            frame: None,
            label: format!("{} (id {})", r.method, r.id),
            body: serde_json::to_string_pretty(&request).unwrap_or_default(),
            note,
        },
        Row { from: to, to: Lane::Gateway, frame: None, label, body, note: None },
    ]
}

/// The rows of a gateway case, in order.
pub fn rows<'a>(trace: &'a Trace, delivered: &Delivered) -> Vec<Row<'a>> {
    let mut used = vec![false; delivered.received.len()];
    let mut out = Vec::new();
    let frames: Vec<&Frame> = trace.frames().collect();
    for f in &frames {
        let (from, to) = match f.dir {
            Direction::ServerToClient => (Lane::Server, Lane::Gateway),
            Direction::ClientToServer => (Lane::Gateway, Lane::Server),
        };
        let body =
            f.json.as_ref().map_or_else(|| f.raw.clone(), |v| serde_json::to_string_pretty(v).unwrap_or_default());
        let mut row = Row { from, to, frame: Some(f), label: super::html::label(f), body, note: None };
        let Some((method, params)) = asked(f) else {
            out.push(row);
            continue;
        };
        match (0..used.len()).find(|&i| !used[i] && carries(&delivered.received[i], method, &params)) {
            None => {
                row.note = Some("did not reach the downstream client".to_owned());
                out.push(row);
            }
            Some(i) => {
                used[i] = true;
                out.push(row);
                out.extend(delivery(&delivered.received[i], Lane::Client, None));
            }
        }
    }
    // What reached the client and no upstream request accounts for: a request the
    // gateway delivered twice (after its first delivery), or made up.
    let upstream: Vec<(&str, Value)> = frames.iter().filter_map(|f| asked(f)).collect();
    for (r, _) in delivered.received.iter().zip(&used).filter(|(_, used)| !**used) {
        let twice = upstream.iter().any(|(m, params)| carries(r, m, params));
        let note = if twice {
            "delivered again: one upstream request reached the downstream client more than once"
        } else {
            "no upstream request carried it"
        };
        out.extend(delivery(r, Lane::Client, Some(note.to_owned())));
    }
    if let Some(Bystander::Up(received)) = &delivered.bystander {
        for r in received {
            out.extend(delivery(
                r,
                Lane::Bystander,
                Some("reached the bystander session, which did not cause it".to_owned()),
            ));
        }
    }
    out
}

/// Where the upstream request in frame `seq` went, in one line, for a terminal's
/// evidence: `server → gateway → client (id "7") → gateway: result`, or
/// `server → gateway, and no further: …`. `None` when the frame is no such request.
pub fn journey(rows: &[Row<'_>], seq: u64) -> Option<String> {
    let at = rows.iter().position(|r| r.frame.is_some_and(|f| f.seq == seq) && r.from == Lane::Server)?;
    request(rows[at].frame?)?;
    if let Some(note) = &rows[at].note {
        return Some(format!("server → gateway, and no further: it {note}"));
    }
    let (down, back) = (rows.get(at + 1)?, rows.get(at + 2)?);
    let id = down.label.rsplit_once("(id ").map_or("", |(_, id)| id.trim_end_matches(')'));
    Some(format!("server → gateway → client (id {id}) → gateway: {}", back.label))
}

#[cfg(test)]
mod tests {
    use backchannel_mock::trace::{Direction, FORMAT, Frame, Record, Start, Trace};
    use backchannel_protocol::Transport;
    use backchannel_protocol::record::Record as DownRecord;
    use serde_json::json;

    use super::*;

    fn trace(frames: &[(Direction, Value)]) -> Trace {
        let start = Record::Start(Start {
            format: FORMAT,
            scenario: "gateway/t".into(),
            transport: Transport::Stdio,
            revision: None,
            canary: "bc-canary-1".into(),
        });
        let mut records = vec![start];
        for (i, (dir, json)) in frames.iter().enumerate() {
            let seq = u64::try_from(i).unwrap() + 1;
            records.push(Record::Frame(Frame {
                seq,
                t_us: seq * 1000,
                dir: *dir,
                raw: json.to_string(),
                json: Some(json.clone()),
                parse_error: None,
                step: None,
                lossy_utf8: false,
                http: None,
            }));
        }
        Trace { records, unreadable_lines: 0 }
    }

    fn received(lines: &[Value]) -> Vec<Received> {
        DownRecord::parse(&lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")).received
    }

    #[test]
    fn a_relayed_request_is_drawn_through_the_gateway_and_a_lost_one_stops_there() {
        use Direction::{ClientToServer as Up, ServerToClient as Down};
        let sampling = json!({"maxTokens": 5});
        let t = trace(&[
            (Down, json!({"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":sampling})),
            (Up, json!({"jsonrpc":"2.0","id":1,"result":{"model":"m"}})),
            (Down, json!({"jsonrpc":"2.0","id":2,"method":"roots/list"})),
            (Up, json!({"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no"}})),
        ]);
        let mut meta = sampling.clone();
        meta["_meta"] = json!({"gw": 1});
        let delivered = Delivered {
            received: received(&[
                json!({"method":"sampling/createMessage","id":"7","params":meta,"result":{"model":"m"}}),
                json!({"method":"sampling/createMessage","id":"8","params":sampling,"result":{"model":"m"}}),
            ]),
            bystander: Some(Bystander::Up(received(&[json!({"method":"ping","id":"1","result":{}})]))),
        };
        let rows = rows(&t, &delivered);
        let lanes: Vec<(Lane, Lane, Option<&str>)> = rows.iter().map(|r| (r.from, r.to, r.note.as_deref())).collect();
        assert_eq!(
            lanes[0..3],
            [
                (Lane::Server, Lane::Gateway, None),
                (Lane::Gateway, Lane::Client, None),
                (Lane::Client, Lane::Gateway, None)
            ]
        );
        assert_eq!(lanes[3], (Lane::Gateway, Lane::Server, None));
        assert_eq!(lanes[4], (Lane::Server, Lane::Gateway, Some("did not reach the downstream client")));
        assert!(lanes[6].2.is_some_and(|n| n.starts_with("delivered again")), "{lanes:?}");
        assert_eq!(lanes[8].1, Lane::Bystander);
        assert_eq!(journey(&rows, 1).as_deref(), Some("server → gateway → client (id 7) → gateway: result"));
        assert!(journey(&rows, 3).is_some_and(|j| j.contains("no further")), "{:?}", journey(&rows, 3));
        assert_eq!(journey(&rows, 2), None, "an answer is no request");
    }
}
