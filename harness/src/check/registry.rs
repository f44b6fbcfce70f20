//! Every kind of check the harness emits, once: how its names look, when it runs, and
//! what it judges. The rest is derived from this list or held to it:
//!
//! - the README's check tables are [`markdown`]'s output (`backchannel list --checks`
//!   prints them; a test compares the README with it);
//! - the fixture matrices require each kind to fail somewhere: a [`Fixture::Client`]
//!   kind in some mode of the broken client (`tests/integration/fixtures.rs`), a
//!   [`Fixture::Gateway`] kind in some mode of the broken gateway
//!   (`tests/integration/gateways.rs`);
//! - [`super::evaluate`] refuses (in debug builds — every test) a finding whose check
//!   is of no kind here.
//!
//! So a new check that is not listed, documented and given a failing fixture does
//! not pass the tests.

/// How the names of a kind's checks look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// Exactly this (`session.initialize`).
    Exact(&'static str),
    /// A scripted step's (or round's, break's, raw line's) name, then this suffix
    /// (`.answered`: `sampling/createMessage.answered`).
    Step(&'static str),
    /// This prefix, then a method (`notifications.`: `notifications.notifications/roots/list_changed`).
    Prefix(&'static str),
}

impl Name {
    /// Whether a check's name is of this kind.
    pub fn matches(self, check: &str) -> bool {
        match self {
            Self::Exact(name) => check == name,
            Self::Step(suffix) => check.len() > suffix.len() && check.ends_with(suffix),
            Self::Prefix(prefix) => check.len() > prefix.len() && check.starts_with(prefix),
        }
    }
}

/// When the checks of a kind run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// In every case, whatever the scenario says.
    Protocol,
    /// From the scenario file: its steps and expectations.
    Scenario,
    /// In gateway mode, over the upstream trace and the downstream client's record.
    Gateway,
}

/// Which broken fixture must be able to fail a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// A mode of the broken client (`tests/fixtures/broken_client/`).
    Client,
    /// A mode of the broken gateway (`tests/fixtures/broken_gateway/`).
    Gateway,
}

/// One kind of check.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// How its names look.
    pub name: Name,
    /// How the README writes it (`` `<step>.answered` ``).
    pub shown: &'static str,
    /// When it runs.
    pub family: Family,
    /// Which broken fixture fails it.
    pub fixture: Fixture,
    /// What it judges (a Markdown table cell).
    pub judges: &'static str,
}

const fn kind(name: Name, shown: &'static str, family: Family, judges: &'static str) -> Kind {
    Kind { name, shown, family, fixture: Fixture::Client, judges }
}

const fn gateway(name: Name, shown: &'static str, family: Family, judges: &'static str) -> Kind {
    Kind { name, shown, family, fixture: Fixture::Gateway, judges }
}

use Family::{Gateway as G, Protocol as P, Scenario as S};
use Name::{Exact, Prefix, Step};

/// Every kind, in the order the README shows them.
pub const KINDS: &[Kind] = &[
    kind(
        Exact("session.initialize"),
        "`session.initialize`",
        P,
        "`initialize` is the client's first message (lifecycle MUST)",
    ),
    kind(
        Exact("session.initialized"),
        "`session.initialized`",
        P,
        "the client sends `notifications/initialized` (lifecycle MUST)",
    ),
    kind(
        Exact("wire.json-rpc"),
        "`wire.json-rpc`",
        P,
        "every client frame is valid JSON and a well-formed JSON-RPC 2.0 message",
    ),
    kind(
        Exact("wire.no-batch"),
        "`wire.no-batch`",
        P,
        "(2025-06-18+) every client message is a single JSON-RPC message — no batch, over stdio or HTTP (at 2024-11-05 and 2025-03-26 batches are legal and their members are judged as answers)",
    ),
    kind(
        Exact("wire.id-echo"),
        "`wire.id-echo`",
        P,
        "every answer carries the exact id of its request (`7` ≠ `\"7\"`)",
    ),
    kind(Exact("wire.one-answer"), "`wire.one-answer`", P, "no request is answered twice"),
    kind(
        Exact("capabilities.honest"),
        "`capabilities.honest`",
        P,
        "an undeclared capability is never answered with a success result, and a declared one never with `-32601`",
    ),
    kind(
        Exact("client.exits"),
        "`client.exits`",
        P,
        "the client notices that the server ended the session and does not hang (idle 5 s after the end; still busy or starting at the case's time limit is INCONCLUSIVE, not a hang; not in gateway mode: a gateway outlives a session by design)",
    ),
    kind(
        Exact("client.configured"),
        "`client.configured`",
        P,
        "(a client that claims knobs) every knob the scenario turns that the client claims is taken up",
    ),
    kind(
        Exact("http.session"),
        "`http.session`",
        P,
        "(HTTP) every request after initialization carries the issued session (`MCP-Session-Id`, or the HTTP+SSE endpoint's `sessionId`)",
    ),
    kind(
        Exact("http.protocol-version"),
        "`http.protocol-version`",
        P,
        "(Streamable HTTP, 2025-06-18+) every request after initialization carries `MCP-Protocol-Version: <negotiated>`",
    ),
    kind(
        Exact("answers.schema"),
        "`answers.schema`",
        P,
        "every result and error the client returns to a server request (2026-07-28: every value of a retry's `inputResponses`) has the shape the negotiated revision's `schema.json` defines: `CreateMessageResult`, `ElicitResult`, `ListRootsResult`, `EmptyResult`, the JSON-RPC error response — required members, types, enum values, the content variants the revision has (audio from 2025-03-26, `tool_use` from 2025-11-25); unknown members allowed",
    ),
    kind(
        Exact("answers.elicitation-content"),
        "`answers.elicitation-content`",
        P,
        "an accepted form's `content` satisfies the request's `requestedSchema` (types, `required`, enums, formats, bounds)",
    ),
    kind(
        Exact("answers.sampling-tool-use"),
        "`answers.sampling-tool-use`",
        P,
        "a sampling result uses tools only as offered: `stopReason: toolUse` has `tool_use` blocks, each names an offered tool, none under `toolChoice: none`, at least one under `required`; a tool-enabled request to a client without `sampling.tools` gets an error, not a result",
    ),
    kind(
        Exact("answers.roots-file-uri"),
        "`answers.roots-file-uri`",
        P,
        "every root a `roots/list` result lists has a `file://` uri — the scenario's roots or the client's own",
    ),
    kind(
        Exact("session.modern"),
        "`session.modern`",
        P,
        "(2026-07-28) the client never sends `initialize` — the revision has no handshake, and the mock answers it with `-32022` — but 2026-07-28 requests from the start (`server/discover` or any other); N/A for a client that never asks for the revision",
    ),
    kind(
        Exact("mrtr.request-meta"),
        "`mrtr.request-meta`",
        P,
        "(2026-07-28) every request carries the per-request `_meta`: protocol version, client info, client capabilities",
    ),
    kind(
        Step(".new-id"),
        "`<round>.new-id`, `<break>.new-id`",
        P,
        "(2026-07-28) a retry of an `InputRequiredResult`, or the re-issue of a request whose response stream the mock broke (Streamable HTTP), has a fresh request id",
    ),
    kind(
        Step(".request-state"),
        "`<round>.request-state`",
        P,
        "(2026-07-28, when the client retries an `InputRequiredResult`) the retry carries the exact `requestState`",
    ),
    kind(
        Step(".retry-inputs"),
        "`<round>.retry-inputs`",
        P,
        "(2026-07-28, when the client retries an `InputRequiredResult`) the retry's `inputResponses` answer every ask of the round",
    ),
    kind(
        Step(".same-request"),
        "`<break>.same-request`",
        P,
        "(2026-07-28, Streamable HTTP, when the client re-issues a request whose response stream the mock broke) the lost request's params again, `_meta` aside (a lost retry keeps its `inputResponses` and `requestState`)",
    ),
    kind(
        Step(".reconnected"),
        "`<close>.reconnected`",
        P,
        "(Streamable HTTP, 2025-03-26 … 2025-11-25, a `close_stream` step) the client came back for the stream whose connection the mock closed — a GET (for a response stream, one with its `Last-Event-ID`); N/A when it did not and nothing was sent to the stream meanwhile, FAIL when what was sent was lost",
    ),
    kind(
        Step(".retry-respected"),
        "`<close>.retry-respected`",
        P,
        "(2025-11-25, a graceful close after a `retry` field) the client waited at least `retry` milliseconds before it reconnected",
    ),
    kind(
        Step(".last-event-id"),
        "`<close>.last-event-id`",
        P,
        "(a `close_stream` step, when the client reconnected) the GET carries `Last-Event-ID` with the id of the last event the mock wrote on that stream — not none, not an older one, not another stream's",
    ),
    kind(
        Step(".answered-once"),
        "`<close>.answered-once`",
        P,
        "(a `close_stream` step, when the stream was resumed) no request is answered twice — one answered before the close and replayed after it (a stale `Last-Event-ID`) is not answered again",
    ),
    kind(
        Step(".not-cancelled"),
        "`<close>.not-cancelled`",
        P,
        "(a `close_stream` step on the trigger call's response stream) the client does not take the closed connection for a cancellation: no `notifications/cancelled` for its call",
    ),
    kind(
        Step(".session-kept"),
        "`<close>.session-kept`",
        P,
        "(a `close_stream` step) the client does not take the closed connection for the end of the session: no DELETE, no new `initialize` while the steps run",
    ),
    kind(
        Exact("http.request-headers"),
        "`http.request-headers`",
        P,
        "(2026-07-28, Streamable HTTP) every POSTed request carries `Accept` listing JSON and SSE, `MCP-Protocol-Version` equal to its `_meta` version, `Mcp-Method` equal to its method, and `Mcp-Name` on `tools/call`, `resources/read`, `prompts/get` — Base64-encoded (`=?base64?…?=`) when the value is not plain ASCII. The mock also refuses such a request as a server MUST (400, `-32020`)",
    ),
    kind(
        Exact("http.param-headers"),
        "`http.param-headers`",
        P,
        "(2026-07-28, Streamable HTTP, a tool whose `inputSchema` marks parameters with `x-mcp-header`) every annotated argument with a value is mirrored into `Mcp-Param-{Name}` (integers in decimal, booleans `true`/`false`, Base64 where the value needs it); N/A when no call carried one",
    ),
    kind(
        Exact("http.modern-no-session"),
        "`http.modern-no-session`",
        P,
        "(2026-07-28, Streamable HTTP; SHOULD) once `server/discover` succeeded: no GET stream, no DELETE, no `Mcp-Session-Id`, no `Last-Event-ID` (the mock answers GET and DELETE with 405)",
    ),
    kind(
        Step(".answered"),
        "`<step>.answered`",
        S,
        "(every scripted request) an answer with the request's id within the step's `within_ms`",
    ),
    kind(Step(".error"), "`<step>.error`", S, "the answer is an error, not a result"),
    kind(
        Step(".error-code"),
        "`<step>.error-code`",
        S,
        "the error's code is one the scenario allows (`-32601` for a refusal)",
    ),
    kind(
        Step(".error-message"),
        "`<step>.error-message`",
        S,
        "the error's message contains (or matches) what the scenario says — the client's name and the method, never the params",
    ),
    kind(
        Step(".result"),
        "`<step>.result`, `<round>.<key>.result`",
        S,
        "the result (2026-07-28: the retry's response to that ask) has the members and values the scenario expects",
    ),
    kind(
        Step(".alike"),
        "`<step>.alike`",
        S,
        "the answer is of the same kind as the named earlier step's — an error with the same code, or a result with the same members: a request the client must process as it processed another (a task-augmented ask to a client that declared no task support, as the plain ask)",
    ),
    kind(
        Step(".not-answered"),
        "`<step>.not-answered`, `<round>.<key>.not-answered`",
        S,
        "a request that must stay unanswered (cancelled, or an ask the client must not answer) is not answered within its window",
    ),
    kind(
        Step(".error-code-if-answered"),
        "`<raw>.error-code-if-answered`",
        S,
        "an id-less error the client sends after a raw line carries one of the expected codes; no answer at all passes",
    ),
    kind(
        Step(".retried"),
        "`<round>.retried`",
        S,
        "(2026-07-28) the client retried the round's request with its inputs",
    ),
    kind(
        Step(".reissued"),
        "`<break>.reissued`",
        S,
        "(2026-07-28, Streamable HTTP) the client re-issued the request whose response stream the mock broke",
    ),
    kind(
        Prefix("notifications."),
        "`notifications.<method>`",
        S,
        "the client sent the notification the scenario expects",
    ),
    kind(
        Exact("capabilities.absent"),
        "`capabilities.absent`",
        S,
        "the client does not declare the capabilities the scenario lists (N/A for a capability it declares *and* handles, where the rule is the intercepting policy)",
    ),
    kind(
        Exact("capabilities.present"),
        "`capabilities.present`",
        S,
        "the client declares the capabilities the scenario lists",
    ),
    kind(
        Exact("logs.warning-per-request"),
        "`logs.warning-per-request`",
        S,
        "exactly one WARNING-or-above line per request of the method, naming the server",
    ),
    kind(
        Exact("logs.no-canary-at-warning"),
        "`logs.no-canary-at-warning`",
        S,
        "no line at WARNING or above — or without any level — contains the run's canary (the request's params)",
    ),
    kind(
        Exact("logs.canary-at-debug"),
        "`logs.canary-at-debug`",
        S,
        "(advice) the params are logged at DEBUG, for diagnosis",
    ),
    gateway(
        Step(".relayed"),
        "`<step>.relayed`",
        G,
        "the downstream client that declared the capability received the request, every member of the params intact (`_meta` aside; numbers to single precision, as the client reads them)",
    ),
    gateway(
        Step(".answer-intact"),
        "`<step>.answer-intact`",
        G,
        "the server got the downstream client's answer unchanged — the same `model`, the same `stopReason`, the same error code (also judged for a request relayed to a client that did not declare the capability)",
    ),
    gateway(
        Step(".isolated"),
        "`<step>.isolated`",
        G,
        "(`gateway: {bystander: true}`, an HTTP downstream) a second downstream session — a bystander with the same capabilities, opened once the client's is up, asking for nothing — receives none of the requests the client's call caused; N/A over a stdio downstream (one session), or when the gateway will not open a second session (the reason is shown)",
    ),
    gateway(
        Exact("gateway.capabilities"),
        "`gateway.capabilities`",
        G,
        "a capability the gateway declared upstream beyond its downstream client's is one it handles itself, not one it answers with an error",
    ),
];

/// The kind of a check, by its name: an exact name first, then a prefix, then the
/// longest suffix (`.error-code` before `.error`).
pub fn kind_of(check: &str) -> Option<&'static Kind> {
    let exact = KINDS.iter().find(|k| matches!(k.name, Exact(n) if n == check));
    let prefixed = || KINDS.iter().find(|k| matches!(k.name, Prefix(_)) && k.name.matches(check));
    let suffixed = || {
        KINDS
            .iter()
            .filter(|k| matches!(k.name, Step(_)) && k.name.matches(check))
            .max_by_key(|k| if let Step(s) = k.name { s.len() } else { 0 })
    };
    exact.or_else(prefixed).or_else(suffixed)
}

/// The README's check tables: one per family.
pub fn markdown() -> String {
    let mut out = String::new();
    for (family, heading) in [
        (P, "Protocol checks run in every case:"),
        (S, "Scenario checks come from the scenario file, one per expectation:"),
        (G, "Gateway checks, in gateway mode:"),
    ] {
        out.push_str(&format!("{heading}\n\n| check | what it judges |\n|---|---|\n"));
        for k in KINDS.iter().filter(|k| k.family == family) {
            out.push_str(&format!("| {} | {} |\n", k.shown, k.judges));
        }
        out.push('\n');
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_finds_its_own_kind() {
        let cases = [
            ("session.initialize", "`session.initialize`"),
            ("sampling/createMessage.answered", "`<step>.answered`"),
            ("sampling/createMessage.error-code", "`<step>.error-code`"),
            ("sampling/createMessage.error", "`<step>.error`"),
            ("raw.error-code-if-answered", "`<raw>.error-code-if-answered`"),
            ("round.k.not-answered", "`<step>.not-answered`, `<round>.<key>.not-answered`"),
            ("notifications.notifications/roots/list_changed", "`notifications.<method>`"),
            ("capabilities.present", "`capabilities.present`"),
            ("sampling/createMessage.isolated", "`<step>.isolated`"),
            ("augmented.alike", "`<step>.alike`"),
        ];
        for (check, shown) in cases {
            assert_eq!(kind_of(check).map(|k| k.shown), Some(shown), "{check}");
        }
        assert!(kind_of("sampling/createMessage.made-up").is_none());
        assert!(kind_of(".answered").is_none(), "a suffix needs a step before it");
    }

    #[test]
    fn kinds_are_listed_once() {
        for (i, a) in KINDS.iter().enumerate() {
            assert!(KINDS[i + 1..].iter().all(|b| b.name != a.name), "{} twice", a.shown);
        }
    }
}
