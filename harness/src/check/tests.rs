//! A small builder for hand-written cases (a scenario, a trace, the client's log
//! lines, how it ended), shared by the unit tests of every check module.

use std::time::Duration;

use backchannel_mock::trace::{
    Direction, End, EndReason, Event, EventKind, Frame, HttpExchange, HttpRef, HttpStream, Record, Start, Trace,
};
use backchannel_protocol::{Revision, Transport};
use serde_json::Value;

use super::{CaseInput, ClientEnd, Finding, Outcome, evaluate};
use crate::logs::{Level, LogLine, Stream};
use crate::scenario::compiled::{Knob, Knobs};
use crate::scenario::{Compiled, compile, parse};

/// The canary every hand-written trace uses.
pub(crate) const CANARY: &str = "bc-canary-0123456789abcdef";

/// A case under construction.
pub(crate) struct Case {
    pub(crate) compiled: Compiled,
    pub(crate) revision: Revision,
    pub(crate) records: Vec<Record>,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) client: ClientEnd,
    pub(crate) claims: Knobs,
    pub(crate) server_names: Vec<String>,
    /// In gateway mode: the downstream client's record.
    pub(crate) downstream: Option<super::gateway::Delivered>,
    /// Whether the client claims the case's transport.
    pub(crate) transport_claimed: bool,
    seq: u64,
    t_us: u64,
    exchange: u64,
}

impl Case {
    /// A case of this scenario (YAML) over `transport` at `revision`, claiming every knob
    /// (as the reference client does) until [`Case::claims`] says otherwise.
    pub(crate) fn new(yaml: &str, transport: Transport, revision: Revision) -> Self {
        let path = std::path::Path::new("scenarios/t/case.yaml");
        let compiled = compile(path, parse(path, yaml).expect("the test scenario loads"));
        let start = Record::Start(Start {
            format: backchannel_mock::trace::FORMAT,
            scenario: compiled.id.clone(),
            transport,
            revision: Some(revision),
            canary: CANARY.into(),
        });
        Self {
            compiled,
            revision,
            records: vec![start],
            logs: Vec::new(),
            client: ClientEnd {
                timed_out: false,
                hung: false,
                status: "exited 0".into(),
                after_end: Duration::from_secs(5),
                output_truncated: false,
            },
            claims: Knob::ALL.into_iter().collect(),
            server_names: vec!["stdio:/bin/mock".into()],
            downstream: None,
            transport_claimed: true,
            seq: 0,
            t_us: 0,
            exchange: 0,
        }
    }

    /// The knobs the client claims.
    pub(crate) fn claims(mut self, knobs: &[Knob]) -> Self {
        self.claims = knobs.iter().copied().collect();
        self
    }

    /// The client does not claim the case's transport (a bare `--client-cmd`).
    pub(crate) fn transport_unclaimed(mut self) -> Self {
        self.transport_claimed = false;
        self
    }

    fn frame(mut self, dir: Direction, json: Value, step: Option<&str>, http: Option<HttpRef>) -> Self {
        self.seq += 1;
        self.t_us += 1000;
        self.records.push(Record::Frame(Frame {
            seq: self.seq,
            t_us: self.t_us,
            dir,
            raw: json.to_string(),
            json: Some(json),
            parse_error: None,
            step: step.map(str::to_owned),
            lossy_utf8: false,
            http,
        }));
        self
    }

    /// The client sends this.
    pub(crate) fn c2s(self, json: Value) -> Self {
        self.frame(Direction::ClientToServer, json, None, None)
    }

    /// The client sends a line that is not JSON.
    pub(crate) fn c2s_raw(mut self, raw: &str) -> Self {
        self.seq += 1;
        self.t_us += 1000;
        self.records.push(Record::Frame(Frame {
            seq: self.seq,
            t_us: self.t_us,
            dir: Direction::ClientToServer,
            raw: raw.into(),
            json: None,
            parse_error: Some("expected value".into()),
            step: None,
            lossy_utf8: false,
            http: None,
        }));
        self
    }

    /// The mock sends this (for the scripted step `step`).
    pub(crate) fn s2c(self, json: Value, step: Option<&str>) -> Self {
        self.frame(Direction::ServerToClient, json, step, None)
    }

    /// Time passes.
    pub(crate) fn wait_ms(mut self, ms: u64) -> Self {
        self.t_us += ms * 1000;
        self
    }

    /// One HTTP exchange: the client's POST of `json` with these headers, answered `status`.
    pub(crate) fn post(
        mut self,
        json: Value,
        session: Option<&str>,
        version: Option<&str>,
        status: u16,
        issued: Option<&str>,
    ) -> Self {
        self.exchange += 1;
        let x = self.exchange;
        self.records.push(Record::Http(HttpExchange {
            exchange: x,
            t_us: self.t_us,
            method: "POST".into(),
            path: "/mcp".into(),
            status,
            session: session.map(str::to_owned),
            protocol_version: version.map(str::to_owned),
            issued_session: issued.map(str::to_owned),
            ..HttpExchange::default()
        }));
        self.frame(Direction::ClientToServer, json, None, Some(HttpRef { exchange: x, stream: HttpStream::PostBody }))
    }

    /// One 2026-07-28 HTTP exchange: the client's POST of `json` with `Accept` for JSON
    /// and SSE, `MCP-Protocol-Version: 2026-07-28` and these MCP headers, answered with
    /// `answer` as JSON (200) — or, for a non-POST `method`, no body and `status`.
    pub(crate) fn modern_http(
        mut self,
        method: &str,
        json: Value,
        mcp: &[(&str, &str)],
        answer: Option<Value>,
    ) -> Self {
        self.exchange += 1;
        let x = self.exchange;
        let post = method == "POST";
        self.records.push(Record::Http(HttpExchange {
            exchange: x,
            t_us: self.t_us,
            method: method.into(),
            path: "/mcp".into(),
            status: if post { 200 } else { 405 },
            protocol_version: Some("2026-07-28".into()),
            accept: Some("application/json, text/event-stream".into()),
            mcp: mcp.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..HttpExchange::default()
        }));
        if !post {
            return self;
        }
        let me = self.frame(
            Direction::ClientToServer,
            json,
            None,
            Some(HttpRef { exchange: x, stream: HttpStream::PostBody }),
        );
        match answer {
            Some(a) => me.frame(
                Direction::ServerToClient,
                a,
                None,
                Some(HttpRef { exchange: x, stream: HttpStream::PostJson }),
            ),
            None => me,
        }
    }

    /// A bodiless HTTP exchange (a GET stream, a DELETE) answered 200, with the
    /// `Last-Event-ID` it carried.
    pub(crate) fn exchange(mut self, method: &str, last_event_id: Option<&str>) -> Self {
        self.exchange += 1;
        self.records.push(Record::Http(HttpExchange {
            exchange: self.exchange,
            t_us: self.t_us,
            method: method.into(),
            path: "/mcp".into(),
            status: 200,
            last_event_id: last_event_id.map(str::to_owned),
            ..HttpExchange::default()
        }));
        self
    }

    /// A trace event.
    pub(crate) fn event(mut self, kind: EventKind) -> Self {
        self.records.push(Record::Event(Event { t_us: self.t_us, kind }));
        self
    }

    /// The mock's `end` record.
    pub(crate) fn end(self) -> Self {
        self.end_by(EndReason::ScriptDone)
    }

    /// The session ends for this reason.
    pub(crate) fn end_by(mut self, reason: EndReason) -> Self {
        self.records.push(Record::End(End { t_us: self.t_us, reason }));
        self
    }

    /// A line of the client's stderr, at a level (`None`: no level).
    pub(crate) fn log(mut self, level: Option<Level>, text: &str) -> Self {
        let number = self.logs.len() + 1;
        self.logs.push(LogLine { stream: Stream::Stderr, number, text: text.into(), level, inherited: None });
        self
    }

    /// The usual legacy handshake: `initialize` (with these capabilities), its result at
    /// the case's revision, `notifications/initialized`.
    pub(crate) fn handshake(self, capabilities: Value) -> Self {
        let rev = self.revision.as_str();
        self.c2s(serde_json::json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
                "protocolVersion": rev, "capabilities": capabilities, "clientInfo": {"name": "c", "version": "1"}}}))
            .s2c(serde_json::json!({"jsonrpc":"2.0","id":0,"result":{"protocolVersion": rev, "capabilities":{}}}), None)
            .c2s(serde_json::json!({"jsonrpc":"2.0","method":"notifications/initialized"}))
    }

    /// Evaluate every check.
    pub(crate) fn eval(&self) -> Vec<Finding> {
        let trace = Trace { records: self.records.clone(), unreadable_lines: 0 };
        evaluate(&CaseInput {
            compiled: &self.compiled,
            trace: Some(&trace),
            logs: &self.logs,
            server_names: &self.server_names,
            client: &self.client,
            revision: self.revision,
            claims: &self.claims,
            downstream: self.downstream.as_ref(),
            transport_claimed: self.transport_claimed,
        })
    }
}

/// The finding of `check`, which must exist.
pub(crate) fn finding<'a>(findings: &'a [Finding], check: &str) -> &'a Finding {
    findings.iter().find(|f| f.check == check).unwrap_or_else(|| {
        let all: Vec<&str> = findings.iter().map(|f| f.check.as_str()).collect();
        panic!("no `{check}` among {all:?}")
    })
}

/// The outcome of `check`.
pub(crate) fn outcome(findings: &[Finding], check: &str) -> Outcome {
    finding(findings, check).outcome
}

/// A minimal scenario that sends one request.
pub(crate) fn one_request(method: &str) -> String {
    format!("title: t\nsteps:\n  - request: {{method: {method}}}\n")
}
