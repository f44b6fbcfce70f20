//! The built-in catalogue of rules that checks cite. Each key names one rule — a
//! sentence of the MCP spec, of JSON-RPC 2.0, or of this kit's policy — with, for
//! MCP rules, where it is in *each* revision that has it and the level it states
//! there (some rules are SHOULD in early revisions and MUST later). A case cites the
//! rule as its own revision states it. Line numbers refer to the spec pages of the
//! MCP specification repository (`docs/specification/<revision>/`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::model::{Revision, SpecLevel, SpecRefDef};

/// A resolved spec reference, shown in verdicts and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SpecRef {
    /// The catalogue key.
    pub key: String,
    /// `MCP 2025-11-25`, `JSON-RPC 2.0`, or `backchannel policy`.
    #[schemars(with = "String")]
    pub source: Source,
    /// File and line, or section.
    pub section: String,
    /// The level the source states.
    pub level: SpecLevel,
    /// The sentence.
    pub text: String,
}

impl SpecRef {
    /// `MCP 2025-11-25 client/roots.mdx:142-144 (SHOULD)`.
    pub fn short(&self) -> String {
        let level = match self.level {
            SpecLevel::Must => "MUST",
            SpecLevel::Should => "SHOULD",
            SpecLevel::Policy => "policy",
        };
        format!("{} {} ({level})", self.source, self.section)
    }
}

/// Where a rule is stated. Written (in reports, in `backchannel list`) as
/// `MCP 2025-11-25`, `JSON-RPC 2.0`, `backchannel policy`, or a scenario file's own
/// words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A revision of the MCP specification.
    Mcp(Revision),
    /// JSON-RPC 2.0.
    JsonRpc,
    /// This kit's policy.
    Kit,
    /// What a scenario file's `specs:` names that is none of the above.
    Other(String),
}

impl Source {
    /// Read a source as written: `MCP <revision>` or a bare revision date,
    /// `JSON-RPC 2.0`, `backchannel policy`; anything else is [`Source::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "JSON-RPC 2.0" => Self::JsonRpc,
            "backchannel policy" => Self::Kit,
            _ => match Revision::from_wire(s.strip_prefix("MCP ").unwrap_or(s)) {
                Some(rev) => Self::Mcp(rev),
                None => Self::Other(s.to_owned()),
            },
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mcp(rev) => write!(f, "MCP {rev}"),
            Self::JsonRpc => f.write_str("JSON-RPC 2.0"),
            Self::Kit => f.write_str("backchannel policy"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self::parse(&s))
    }
}

use Revision::{V2024_11_05 as R1, V2025_03_26 as R2, V2025_06_18 as R3, V2025_11_25 as R4, V2026_07_28 as R5};
use SpecLevel::{Must, Policy, Should};

/// Where a rule is stated.
enum Cite {
    /// JSON-RPC 2.0, any revision.
    Jsonrpc(&'static str, SpecLevel),
    /// This kit's policy, any revision.
    Kit(&'static str),
    /// An MCP revision: from this revision on (until the next cite), at this place and level.
    Mcp(&'static [(Revision, &'static str, SpecLevel)]),
}

struct Rule {
    key: &'static str,
    cite: Cite,
    text: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        key: "jsonrpc/response-required",
        cite: Cite::Jsonrpc("§5 Response object", Must),
        text: "When a rpc call is made, the Server MUST reply with a Response, except for in the case of Notifications.",
    },
    Rule {
        key: "jsonrpc/one-response",
        cite: Cite::Jsonrpc("§5 Response object", Must),
        text: "When a rpc call is made, the Server MUST reply with a Response (one Response per Request; a second answer to the same id is not a Response to anything).",
    },
    Rule {
        key: "jsonrpc/no-response-to-notification",
        cite: Cite::Jsonrpc("§4.1 Notification", Must),
        text: "The Server MUST NOT reply to a Notification.",
    },
    Rule {
        key: "jsonrpc/method-not-found",
        cite: Cite::Jsonrpc("§5.1 Error object", Should),
        text: "-32601 Method not found: The method does not exist / is not available. (The MCP spec names no code for a client without the capability; -32601 is the standard one, and the one roots names.)",
    },
    Rule {
        key: "jsonrpc/invalid-params",
        cite: Cite::Jsonrpc("§5.1 Error object", Should),
        text: "-32602 Invalid params: Invalid method parameter(s).",
    },
    Rule {
        key: "jsonrpc/parse-error",
        cite: Cite::Jsonrpc("§5.1 Error object", Should),
        text: "-32700 Parse error: Invalid JSON was received by the server. (If a peer answers a line that is not JSON at all, this is the code, with a null id.)",
    },
    Rule {
        key: "jsonrpc/invalid-request",
        cite: Cite::Jsonrpc("§5.1 Error object", Should),
        text: "-32600 Invalid Request: The JSON sent is not a valid Request object. (Answered with a null id when the id cannot be read.)",
    },
    Rule {
        key: "mcp/messages-follow-jsonrpc",
        cite: Cite::Mcp(&[
            (R1, "basic/index.mdx:5", Must),
            (R2, "basic/index.mdx:24; basic/transports.mdx:5", Must),
            (R3, "basic/index.mdx:27; basic/transports.mdx:7", Must),
            (R4, "basic/index.mdx:27; basic/transports.mdx:7,28", Must),
        ]),
        text: "All messages between MCP clients and servers MUST follow the JSON-RPC 2.0 specification. JSON-RPC messages MUST be UTF-8 encoded. Messages are delimited by newlines, and MUST NOT contain embedded newlines.",
    },
    Rule {
        key: "mcp/response-same-id",
        cite: Cite::Mcp(&[
            (R1, "basic/index.mdx:12", Must),
            (R2, "basic/index.mdx:67", Must),
            (R3, "basic/index.mdx:70", Must),
            (R4, "basic/index.mdx:69,89", Must),
        ]),
        text: "Responses MUST include the same ID as the request they correspond to.",
    },
    Rule {
        key: "mcp/batch-receive",
        cite: Cite::Mcp(&[(R2, "basic/index.mdx:94-97", Must)]),
        text: "MCP implementations MAY support sending JSON-RPC batches, but MUST support receiving JSON-RPC batches.",
    },
    Rule {
        key: "mcp/no-batches",
        cite: Cite::Mcp(&[
            (R3, "basic/transports.mdx:32-33,27,90; changelog.mdx:12", Must),
            (R4, "basic/transports.mdx:34-35,27,94", Must),
            (R5, "basic/transports/stdio.mdx:20-21; basic/transports/streamable-http.mdx:80-81", Must),
        ]),
        text: "Messages are individual JSON-RPC requests, notifications, or responses; the client MUST NOT write anything to the server's stdin that is not a valid MCP message, and the body of an HTTP POST MUST be a single JSON-RPC message. (JSON-RPC batching was removed in 2025-06-18.)",
    },
    Rule {
        key: "policy/client-honours-knobs",
        cite: Cite::Kit("README: testing your client (the client contract's knobs)"),
        text: "A client that claims to honour a knob of the client contract (its profile's honours:, --honours, or the reference client) takes it up when a scenario turns it: it declares the roots or elicitation it is given, logs at DEBUG when asked, calls the scenario's tool, speaks 2026-07-28 when that is the revision.",
    },
    Rule {
        key: "lifecycle/initialize-first",
        cite: Cite::Mcp(&[
            (R1, "basic/lifecycle.mdx:40", Must),
            (R2, "basic/lifecycle.mdx:38", Must),
            (R3, "basic/lifecycle.mdx:40", Must),
            (R4, "basic/lifecycle.mdx:40,47", Must),
        ]),
        text: "The initialization phase MUST be the first interaction between client and server. (A dual-era client's server/discover probe, answered with an error, precedes it: 2026-07-28 basic/versioning.mdx, Backward Compatibility.)",
    },
    Rule {
        key: "lifecycle/initialized",
        cite: Cite::Mcp(&[
            (R1, "basic/lifecycle.mdx:103", Must),
            (R2, "basic/lifecycle.mdx:108", Must),
            (R3, "basic/lifecycle.mdx:107", Must),
            (R4, "basic/lifecycle.mdx:147", Must),
        ]),
        text: "After successful initialization, the client MUST send an initialized notification to indicate it is ready to begin normal operations.",
    },
    Rule {
        key: "lifecycle/negotiated-capabilities",
        cite: Cite::Mcp(&[
            (R1, "basic/lifecycle.mdx:162-165", Should),
            (R2, "basic/lifecycle.mdx:168-171", Should),
            (R3, "basic/lifecycle.mdx:175-178", Must),
            (R4, "basic/lifecycle.mdx:217-220", Must),
        ]),
        text: "Both parties MUST (SHOULD before 2025-06-18): Respect the negotiated protocol version; Only use capabilities that were successfully negotiated.",
    },
    Rule {
        key: "lifecycle/server-waits-for-initialized",
        cite: Cite::Mcp(&[
            (R1, "basic/lifecycle.mdx:116", Should),
            (R2, "basic/lifecycle.mdx:121", Should),
            (R3, "basic/lifecycle.mdx:120", Should),
            (R4, "basic/lifecycle.mdx:160", Should),
        ]),
        text: "The server SHOULD NOT send requests other than pings and logging before receiving the initialized notification. (A scenario that breaks this on purpose grades the client leniently: the server broke a SHOULD first.)",
    },
    Rule {
        key: "ping/empty-result",
        cite: Cite::Mcp(&[
            (R1, "basic/utilities/ping.mdx:28", Must),
            (R2, "basic/utilities/ping.mdx:27", Must),
            (R3, "basic/utilities/ping.mdx:29", Must),
            (R4, "basic/utilities/ping.mdx:29", Must),
        ]),
        text: "The receiver MUST respond promptly with an empty response.",
    },
    Rule {
        key: "cancellation/no-response",
        cite: Cite::Mcp(&[
            (R1, "basic/utilities/cancellation.mdx:38", Should),
            (R2, "basic/utilities/cancellation.mdx:37", Should),
            (R3, "basic/utilities/cancellation.mdx:39", Should),
            (R4, "basic/utilities/cancellation.mdx:40", Should),
        ]),
        text: "Receivers of cancellation notifications SHOULD: Stop processing the cancelled request; Free associated resources; Not send a response for the cancelled request.",
    },
    Rule {
        key: "cancellation/race-graceful",
        cite: Cite::Mcp(&[
            (R1, "basic/utilities/cancellation.mdx:51,39-42", Must),
            (R2, "basic/utilities/cancellation.mdx:50,38-41", Must),
            (R3, "basic/utilities/cancellation.mdx:52,40-43", Must),
            (R4, "basic/utilities/cancellation.mdx:53,41-44", Must),
        ]),
        text: "Receivers MAY ignore cancellation notifications if the referenced request is unknown or processing has already completed. Both parties MUST handle these race conditions gracefully.",
    },
    Rule {
        key: "roots/declare",
        cite: Cite::Mcp(&[
            (R1, "client/roots.mdx:27", Must),
            (R2, "client/roots.mdx:25", Must),
            (R3, "client/roots.mdx:27", Must),
            (R4, "client/roots.mdx:27", Must),
        ]),
        text: "Clients that support roots MUST declare the roots capability during initialization.",
    },
    Rule {
        key: "roots/file-uri",
        cite: Cite::Mcp(&[
            (R1, "client/roots.mdx:110", Must),
            (R2, "client/roots.mdx:108", Must),
            (R3, "client/roots.mdx:110", Must),
            (R4, "client/roots.mdx:110", Must),
        ]),
        text: "uri: Unique identifier for the root. This MUST be a file:// URI in the current specification.",
    },
    Rule {
        key: "roots/unsupported-method-not-found",
        cite: Cite::Mcp(&[
            (R1, "client/roots.mdx:142-144", Should),
            (R2, "client/roots.mdx:140-142", Should),
            (R3, "client/roots.mdx:142-144", Should),
            (R4, "client/roots.mdx:142-144", Should),
        ]),
        text: "Clients SHOULD return standard JSON-RPC errors for common failure cases: Client does not support roots: -32601 (Method not found).",
    },
    Rule {
        key: "tasks/undeclared-processed-normally",
        cite: Cite::Mcp(&[(R4, "basic/utilities/tasks.mdx:392", Must)]),
        text: "Receivers that do not declare the task capability for a request type MUST process requests of that type normally, ignoring any task-augmentation metadata if present.",
    },
    Rule {
        key: "roots/list-changed",
        cite: Cite::Mcp(&[
            (R1, "client/roots.mdx:78", Must),
            (R2, "client/roots.mdx:76", Must),
            (R3, "client/roots.mdx:78", Must),
            (R4, "client/roots.mdx:78", Must),
        ]),
        text: "When roots change, clients that support listChanged MUST send a notification: notifications/roots/list_changed.",
    },
    Rule {
        key: "sampling/declare",
        cite: Cite::Mcp(&[
            (R1, "client/sampling.mdx:38", Must),
            (R2, "client/sampling.mdx:36", Must),
            (R3, "client/sampling.mdx:38", Must),
            (R4, "client/sampling.mdx:44", Must),
        ]),
        text: "Clients that support sampling MUST declare the sampling capability during initialization.",
    },
    Rule {
        key: "sampling/tools-capability",
        cite: Cite::Mcp(&[(R4, "client/sampling.mdx:40; schema.ts CreateMessageRequestParams.tools", Must)]),
        text: "Clients MUST declare support for tool use via the sampling.tools capability to receive tool-enabled sampling requests. The client MUST return an error if tools is provided but ClientCapabilities.sampling.tools is not declared.",
    },
    Rule {
        key: "sampling/tool-use-result",
        cite: Cite::Mcp(&[(
            R4,
            "client/sampling.mdx:240-260; schema.ts CreateMessageResult.stopReason, ToolChoice.mode",
            Must,
        )]),
        text: "A sampling result uses tools only as the request offers them: stopReason \"toolUse\" means the model wants to use tools (tool_use blocks in the content); a tool_use names an offered tool; toolChoice \"none\": the model MUST NOT use any tools; \"required\": it MUST use at least one.",
    },
    Rule {
        key: "schema/answer-shape",
        cite: Cite::Mcp(&[
            (R1, "schema.json (CreateMessageResult, ListRootsResult, EmptyResult, JSONRPCError)", Must),
            (R3, "schema.json (+ ElicitResult)", Must),
            (R4, "schema.json (JSONRPCErrorResponse, tool_use/tool_result content)", Must),
            (R5, "schema.json (InputResponses)", Must),
        ]),
        text: "A client's answer to a server request is the result type the schema defines for it (required members, member types, enum values, the content variants of the revision), or a JSON-RPC error response whose error has an integer code and a string message.",
    },
    Rule {
        key: "elicitation/content-matches-schema",
        cite: Cite::Mcp(&[(R3, "client/elicitation.mdx:302", Must), (R4, "client/elicitation.mdx:551", Must)]),
        text: "When the user accepts a form-mode elicitation, the content field contains the submitted data matching the requested schema.",
    },
    Rule {
        key: "elicitation/defaults",
        cite: Cite::Mcp(&[(R4, "client/elicitation.mdx:233", Should)]),
        text: "All primitive types support optional default values to provide sensible starting points. Clients that support defaults SHOULD pre-populate form fields with these values.",
    },
    Rule {
        key: "elicitation/declare",
        cite: Cite::Mcp(&[(R3, "client/elicitation.mdx:44", Must), (R4, "client/elicitation.mdx:51", Must)]),
        text: "Clients that support elicitation MUST declare the elicitation capability during initialization.",
    },
    Rule {
        key: "elicitation/undeclared-mode",
        cite: Cite::Mcp(&[(R4, "client/elicitation.mdx:65,698-700", Must)]),
        text: "An empty elicitation capability object is equivalent to declaring form mode only. Clients MUST return standard JSON-RPC errors: an elicitation/create request with a mode not declared in client capabilities gets -32602 (Invalid params).",
    },
    Rule {
        key: "elicitation/url-result-without-content",
        cite: Cite::Mcp(&[(R4, "client/elicitation.mdx:392-394; schema.ts ElicitResult.content", Must)]),
        text: "For URL mode the result's content is omitted: accept means consent to the out-of-band interaction, not its data.",
    },
    Rule {
        key: "elicitation/ignore-unknown-complete",
        cite: Cite::Mcp(&[(R4, "client/elicitation.mdx:408", Must)]),
        text: "Clients MUST ignore notifications referencing unknown or already-completed IDs (notifications/elicitation/complete).",
    },
    Rule {
        key: "elicitation/no-mode-is-form",
        cite: Cite::Mcp(&[(R4, "client/elicitation.mdx:97", Must)]),
        text: "For backwards compatibility, servers MAY omit the mode field for form mode elicitation requests. Clients MUST treat requests without a mode field as form mode.",
    },
    Rule {
        key: "elicitation/result-action",
        cite: Cite::Mcp(&[
            (R3, "client/elicitation.mdx:283; schema.ts ElicitResult.action", Must),
            (R4, "client/elicitation.mdx:532; schema.ts ElicitResult.action", Must),
        ]),
        text: "Elicitation responses use a three-action model: the result's action (required by the schema) is accept, decline or cancel.",
    },
    Rule {
        key: "http/session-id",
        cite: Cite::Mcp(&[
            (R2, "basic/transports.mdx:194-200", Must),
            (R3, "basic/transports.mdx:184-190", Must),
            (R4, "basic/transports.mdx:206-210", Must),
        ]),
        text: "If an MCP-Session-Id is returned by the server during initialization, clients using the Streamable HTTP transport MUST include it in the MCP-Session-Id header on all of their subsequent HTTP requests.",
    },
    Rule {
        key: "http/protocol-version-header",
        cite: Cite::Mcp(&[(R3, "basic/transports.mdx:242-243", Must), (R4, "basic/transports.mdx:265-266", Must)]),
        text: "If using HTTP, the client MUST include the MCP-Protocol-Version: <protocol-version> HTTP header on all subsequent requests to the MCP server.",
    },
    Rule {
        key: "http/request-headers",
        cite: Cite::Mcp(&[(
            R5,
            "basic/transports/streamable-http.mdx:76-79; basic/transports/streamable-http.mdx:252-258; basic/transports/streamable-http.mdx:286-297",
            Must,
        )]),
        text: "Each POST MUST carry an Accept header listing application/json and text/event-stream, and the request metadata headers: MCP-Protocol-Version matching the body's _meta version, Mcp-Method, and Mcp-Name on tools/call, resources/read and prompts/get — Base64-encoded (=?base64?…?=) when the value is not plain ASCII.",
    },
    Rule {
        key: "http/param-headers",
        cite: Cite::Mcp(&[(
            R5,
            "basic/transports/streamable-http.mdx:364-367; basic/transports/streamable-http.mdx:479-485",
            Must,
        )]),
        text: "When a tool's inputSchema marks parameters with x-mcp-header, conforming clients MUST mirror the designated parameter values into Mcp-Param-{Name} headers, encoded by the Value Encoding rules (omitted when the value is absent or null).",
    },
    Rule {
        key: "http/modern-no-session",
        cite: Cite::Mcp(&[(
            R5,
            "basic/transports/streamable-http.mdx:671-677; basic/transports/streamable-http.mdx:157",
            Should,
        )]),
        text: "2026-07-28 Streamable HTTP has no sessions (Mcp-Session-Id), no standalone GET stream, no DELETE and no resumption (Last-Event-ID): a client speaking it uses none of them.",
    },
    Rule {
        key: "http/reissue-broken-stream",
        cite: Cite::Mcp(&[(R5, "changelog.mdx:28; basic/transports/streamable-http.mdx:157", Must)]),
        text: "Streams are not resumable: a broken response stream loses the in-flight request, and clients MUST re-issue it as a new request with a new request ID (SEP-2575).",
    },
    Rule {
        key: "http/poll-after-close",
        cite: Cite::Mcp(&[(R4, "basic/transports.mdx:110-112", Should)]),
        text: "After the server has sent an SSE event with an event ID, it MAY close the connection without terminating the SSE stream. The client SHOULD then \"poll\" the SSE stream by attempting to reconnect.",
    },
    Rule {
        key: "http/respect-retry",
        cite: Cite::Mcp(&[(R4, "basic/transports.mdx:113-116", Must)]),
        text: "If the server closes the connection prior to terminating the SSE stream, it SHOULD send an SSE event with a retry field first. The client MUST respect the retry field, waiting the given number of milliseconds before attempting to reconnect.",
    },
    Rule {
        key: "http/resume-last-event-id",
        cite: Cite::Mcp(&[
            (R2, "basic/transports.mdx:167-169", Should),
            (R3, "basic/transports.mdx:157-159", Should),
            (R4, "basic/transports.mdx:176-180", Should),
        ]),
        text: "If the client wishes to resume after a disconnection (a broken connection, or at 2025-11-25 a server-initiated closure), it SHOULD issue an HTTP GET to the MCP endpoint and include the Last-Event-ID header to indicate the last event ID it received. The server replays what followed on that stream only.",
    },
    Rule {
        key: "http/disconnect-not-cancel",
        cite: Cite::Mcp(&[
            (R2, "basic/transports.mdx:122", Should),
            (R3, "basic/transports.mdx:114", Should),
            (R4, "basic/transports.mdx:128", Should),
        ]),
        text: "Disconnection SHOULD NOT be interpreted as the client cancelling its request. To cancel, the client SHOULD explicitly send an MCP CancelledNotification.",
    },
    Rule {
        key: "http/close-not-session-end",
        cite: Cite::Mcp(&[
            (R2, "basic/transports.mdx:120; basic/transports.mdx:198-199", Should),
            (R3, "basic/transports.mdx:112; basic/transports.mdx:188-189", Should),
            (R4, "basic/transports.mdx:126; basic/transports.mdx:211-212", Should),
        ]),
        text: "Disconnection MAY occur at any time; a session ends when the server terminates it, after which it answers requests in that session with HTTP 404. A closed connection is not the end of the session: the client keeps it (no DELETE, no new initialize) and reconnects.",
    },
    Rule {
        key: "sse/post-to-endpoint",
        cite: Cite::Mcp(&[(R1, "basic/transports.mdx:67-69", Must)]),
        text: "When a client connects, the server MUST send an endpoint event containing a URI for the client to use for sending messages. All subsequent client messages MUST be sent as HTTP POST requests to this endpoint.",
    },
    Rule {
        key: "mrtr/retry-with-inputs",
        cite: Cite::Mcp(&[(R5, "basic/patterns/mrtr.mdx:251-255", Must)]),
        text: "If a client receives an InputRequiredResult that contains inputRequests, the client MUST construct the requested inputs before retrying the original request. It MUST echo back the exact requestState, and MUST NOT include one if none was given.",
    },
    Rule {
        key: "mrtr/new-id",
        cite: Cite::Mcp(&[(R5, "basic/patterns/mrtr.mdx:256", Must)]),
        text: "The JSON-RPC id MUST be different between the initial request and the retry, as they are independent requests.",
    },
    Rule {
        key: "mrtr/request-meta",
        cite: Cite::Mcp(&[(R5, "basic/index.mdx:367-380; basic/patterns/mrtr.mdx:18-22", Must)]),
        text: "Every request MUST include the required _meta fields: io.modelcontextprotocol/protocolVersion, and the client's capabilities (io.modelcontextprotocol/clientCapabilities).",
    },
    Rule {
        key: "mrtr/negotiated-capabilities",
        cite: Cite::Mcp(&[(R5, "basic/patterns/mrtr.mdx:246; basic/index.mdx:387-392", Must)]),
        text: "Servers MUST NOT send an inputRequests entry the client has not declared support for; a client that fulfils one anyway claims a capability it never declared.",
    },
    Rule {
        key: "policy/mrtr-retry",
        cite: Cite::Kit("README: the intercepting client (cf. MCP 2026-07-28 basic/patterns/mrtr.mdx, Basic Workflow)"),
        text: "A client that declared every capability an InputRequiredResult asks for fulfils the asks and retries the original request: that is the basic workflow the pattern exists for.",
    },
    Rule {
        key: "gateway/relay-intact",
        cite: Cite::Kit(
            "README: testing your gateway (the specification says nothing of intermediaries: a gateway is a client upstream and a server downstream)",
        ),
        text: "A gateway that relays a server's request to the downstream client that declared the capability delivers it with its params intact, and returns that client's answer to the server unchanged.",
    },
    Rule {
        key: "gateway/isolate-sessions",
        cite: Cite::Kit(
            "README: testing your gateway (cf. MCP 2025-11-25 basic/transports.mdx:119-121, a request on a POST's stream relates to that request; :158-160, no message broadcast across streams)",
        ),
        text: "A gateway delivers a server's request to the downstream session whose operation caused it, and to no other: a session that asked for nothing receives nothing of it.",
    },
    Rule {
        key: "gateway/declare-what-it-serves",
        cite: Cite::Kit(
            "README: testing your gateway (cf. MCP 2025-11-25 basic/lifecycle.mdx:217-220: only capabilities that were successfully negotiated are used)",
        ),
        text: "A gateway declares upstream only the capabilities it relays to a downstream client that declared them, or handles itself: a server that was told it may ask must get an answer, not an error.",
    },
    Rule {
        key: "policy/client-ends-with-session",
        cite: Cite::Kit("README: verdicts (cf. MCP 2025-11-25 basic/lifecycle.mdx:237-238)"),
        text: "The server MAY initiate shutdown by closing its output stream and exiting; a client notices the end of the session and does not hang.",
    },
    Rule {
        key: "policy/declare-only-handled",
        cite: Cite::Kit("README: the intercepting client"),
        text: "An intercepting client declares no capability it does not handle: no sampling, no elicitation, and roots only when it has roots.",
    },
    Rule {
        key: "policy/refusal-names-peer-and-method",
        cite: Cite::Kit("README: the intercepting client"),
        text: "The error message of a refusal names the responding client and the refused method, so whoever reads the server's logs knows who said no to what.",
    },
    Rule {
        key: "policy/warn-per-refusal",
        cite: Cite::Kit("README: log hygiene"),
        text: "Each refused server-to-client request is logged exactly once at WARNING, naming the server (stdio:<command> or its URL) and the method.",
    },
    Rule {
        key: "policy/no-params-at-warning",
        cite: Cite::Kit("README: log hygiene"),
        text: "Request params (prompts, system prompts, schemas, metadata) never appear in a log line at WARNING or above.",
    },
    Rule {
        key: "policy/params-at-debug",
        cite: Cite::Kit("README: log hygiene"),
        text: "Advice: the params of a refused request are logged at DEBUG, for diagnosis when DEBUG is on. (A client that never logs them is more private, not wrong: this is shown as a NOTE, never a failure.)",
    },
    Rule {
        key: "policy/roots-current",
        cite: Cite::Kit("README: the intercepting client (cf. MCP client/roots.mdx, Root List Changes)"),
        text: "After its roots change, the client's roots/list answers with the new roots: the list_changed notification announces exactly that.",
    },
    Rule {
        key: "policy/survive-garbage",
        cite: Cite::Kit("README: robustness"),
        text: "A line that is not JSON-RPC does not end the session: the client goes on answering the requests that follow.",
    },
];

fn build(rule: &Rule, source: Source, section: &str, level: SpecLevel) -> SpecRef {
    SpecRef { key: rule.key.to_owned(), source, section: section.to_owned(), level, text: rule.text.to_owned() }
}

/// The rule as revision `rev` states it (the latest citation at or before `rev`);
/// `None` when the key is unknown or the rule does not exist yet at `rev`.
pub fn builtin_at(key: &str, rev: Revision) -> Option<SpecRef> {
    let rule = RULES.iter().find(|r| r.key == key)?;
    match &rule.cite {
        Cite::Jsonrpc(section, level) => Some(build(rule, Source::JsonRpc, section, *level)),
        Cite::Kit(section) => Some(build(rule, Source::Kit, section, Policy)),
        Cite::Mcp(cites) => {
            let (r, section, level) = cites.iter().rfind(|(r, ..)| *r <= rev)?;
            Some(build(rule, Source::Mcp(*r), section, *level))
        }
    }
}

/// The rule `key` as revision `rev` states it: the built-in catalogue, else a
/// scenario file's own `specs:` (which apply to every revision).
pub fn resolve(key: &str, rev: Revision, own: &BTreeMap<String, SpecRefDef>) -> Option<SpecRef> {
    builtin_at(key, rev).or_else(|| {
        own.get(key).map(|d| SpecRef {
            key: key.to_owned(),
            source: Source::parse(&d.source),
            section: d.section.clone(),
            level: d.level,
            text: d.text.clone(),
        })
    })
}

/// The rule as the latest revision that has it states it.
pub fn builtin(key: &str) -> Option<SpecRef> {
    builtin_at(key, Revision::V2026_07_28)
}

/// The first revision a rule exists in (`None` for JSON-RPC and policy rules, which always apply).
pub fn since(key: &str) -> Option<Revision> {
    match &RULES.iter().find(|r| r.key == key)?.cite {
        Cite::Mcp(cites) => cites.first().map(|(r, ..)| *r),
        _ => None,
    }
}

/// Where the test suite finds a copy of the MCP specification pages
/// (`<revision>/<page>.mdx` and `<revision>/schema.json`): `BACKCHANNEL_MCP_SPEC_DIR`,
/// else the team's copy beside the checkout. `None` (the tests that read it say they
/// are skipped) when there is none — unless `BACKCHANNEL_REQUIRE_SPEC=1` (what CI sets),
/// which makes a missing copy a panic: CI cannot skip the spec checks silently.
#[doc(hidden)]
pub fn spec_copy() -> Option<std::path::PathBuf> {
    let root = std::env::var_os("BACKCHANNEL_MCP_SPEC_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/mcp-spec"),
        std::path::PathBuf::from,
    );
    if root.join("2025-11-25").is_dir() {
        return Some(root);
    }
    let required = std::env::var_os("BACKCHANNEL_REQUIRE_SPEC").is_some_and(|v| v == "1");
    assert!(
        !required,
        "BACKCHANNEL_REQUIRE_SPEC=1 but there is no copy of the MCP spec at {} (set BACKCHANNEL_MCP_SPEC_DIR)",
        root.display()
    );
    eprintln!("skipped: no copy of the MCP spec pages at {} (set BACKCHANNEL_MCP_SPEC_DIR to one)", root.display());
    None
}

/// Every built-in key, in catalogue order.
pub fn keys() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.key)
}

/// Every built-in entry at its latest revision, in catalogue order.
pub fn all() -> impl Iterator<Item = SpecRef> {
    keys().filter_map(builtin)
}

/// Where each MCP rule is cited, revision by revision: `(key, revision, section, level)`.
pub fn citations() -> impl Iterator<Item = (&'static str, Revision, &'static str, SpecLevel)> {
    RULES.iter().flat_map(|r| match &r.cite {
        Cite::Mcp(cites) => cites.iter().map(|(rev, s, l)| (r.key, *rev, *s, *l)).collect::<Vec<_>>(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_resolvable() {
        let mut keys: Vec<_> = keys().collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate catalogue keys");
        assert_eq!(all().count(), n);
        assert_eq!(builtin("ping/empty-result").unwrap().short(), "MCP 2025-11-25 basic/utilities/ping.mdx:29 (MUST)");
    }

    #[test]
    fn a_rule_is_cited_as_the_case_revision_states_it() {
        let old = builtin_at("lifecycle/negotiated-capabilities", R1).unwrap();
        assert_eq!((old.source.to_string().as_str(), old.level), ("MCP 2024-11-05", Should));
        let new = builtin_at("lifecycle/negotiated-capabilities", R4).unwrap();
        assert_eq!((new.section.as_str(), new.level), ("basic/lifecycle.mdx:217-220", Must));
        assert!(builtin_at("elicitation/declare", R2).is_none(), "elicitation does not exist in 2025-03-26");
        assert_eq!(builtin_at("http/protocol-version-header", R5).unwrap().source, Source::Mcp(R4));
        assert_eq!(since("elicitation/undeclared-mode"), Some(R4));
    }

    #[test]
    fn cited_lines_hold_the_rule() {
        // Each MCP citation's first line must hold the rule's keyword in the spec copy,
        // so the catalogue cannot drift from the pages it cites.
        let Some(root) = crate::scenario::catalog::spec_copy() else { return };
        let probes: &[(&str, &str)] = &[
            ("mcp/messages-follow-jsonrpc", "follow"),
            ("mcp/response-same-id", "ame ID"),
            ("mcp/batch-receive", "batch"),
            ("mcp/no-batches", "write anything to the server"),
            ("lifecycle/initialize-first", "first interaction"),
            ("lifecycle/initialized", "initialized"),
            ("lifecycle/negotiated-capabilities", "Both parties"),
            ("lifecycle/server-waits-for-initialized", "SHOULD NOT"),
            ("ping/empty-result", "empty response"),
            ("cancellation/no-response", "Not send a response"),
            ("roots/declare", "declare"),
            ("roots/file-uri", "file://"),
            ("roots/unsupported-method-not-found", "SHOULD"),
            ("roots/list-changed", "listChanged"),
            ("sampling/declare", "declare"),
            ("sampling/tools-capability", "sampling.tools"),
            ("elicitation/declare", "declare"),
            ("elicitation/undeclared-mode", "form"),
            ("elicitation/ignore-unknown-complete", "unknown"),
            ("elicitation/no-mode-is-form", "mode"),
            ("elicitation/result-action", "three-action"),
            ("cancellation/race-graceful", "race conditions"),
            ("http/session-id", "ession-Id"),
            ("http/protocol-version-header", "MCP-Protocol-Version"),
            ("sse/post-to-endpoint", "endpoint"),
            ("http/request-headers", "Accept"),
            ("http/param-headers", "x-mcp-header"),
            ("http/modern-no-session", "Earlier Streamable HTTP"),
            ("http/reissue-broken-stream", "re-issue it as a new request"),
            ("http/poll-after-close", "close the _connection_"),
            ("http/respect-retry", "MUST** respect the `retry`"),
            ("http/resume-last-event-id", "wishes to resume"),
            ("http/disconnect-not-cancel", "SHOULD NOT** be interpreted as the client cancelling"),
            ("http/close-not-session-end", "Disconnection **MAY** occur"),
            ("mrtr/retry-with-inputs", "inputRequests"),
            ("mrtr/new-id", "different"),
            ("tasks/undeclared-processed-normally", "process requests of that type normally"),
        ];
        for (key, rev, section, _) in citations() {
            let Some((_, needle)) = probes.iter().find(|(k, _)| *k == key) else { continue };
            let first = section.split(';').next().unwrap().trim();
            let Some((file, lines)) = first.split_once(':') else { continue };
            let line: usize = lines.split([',', '-']).next().unwrap().parse().unwrap();
            let text = std::fs::read_to_string(root.join(rev.as_str()).join(file)).unwrap();
            let window: String = text.lines().skip(line.saturating_sub(2)).take(4).collect::<Vec<_>>().join("\n");
            assert!(
                window.contains(needle),
                "{key} @ {}: {file}:{line} does not say `{needle}`:\n{window}",
                rev.as_str()
            );
        }
    }
}
