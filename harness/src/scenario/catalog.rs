//! The built-in catalogue of rules that checks cite: each key names one sentence
//! of a spec (or of this kit's policy), with where it is and what level it states.
//! Line numbers refer to the spec pages in `shared/mcp-spec/<revision>/`.

use serde::Serialize;

use super::model::SpecLevel;

/// A resolved spec reference, shown in verdicts and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecRef {
    /// The catalogue key.
    pub key: String,
    /// `MCP 2025-11-25`, `JSON-RPC 2.0`, or `backchannel policy`.
    pub source: String,
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

const MCP: &str = "MCP 2025-11-25";
const JSONRPC: &str = "JSON-RPC 2.0";
const POLICY: &str = "backchannel policy";

/// `(key, source, section, level, text)`.
const CATALOG: &[(&str, &str, &str, SpecLevel, &str)] = &[
    (
        "jsonrpc/response-required",
        JSONRPC,
        "§5 Response object",
        SpecLevel::Must,
        "When a rpc call is made, the Server MUST reply with a Response, except for in the case of Notifications.",
    ),
    (
        "jsonrpc/one-response",
        JSONRPC,
        "§5 Response object",
        SpecLevel::Must,
        "When a rpc call is made, the Server MUST reply with a Response (one Response per Request; a second answer to the same id is not a Response to anything).",
    ),
    (
        "jsonrpc/method-not-found",
        JSONRPC,
        "§5.1 Error object",
        SpecLevel::Should,
        "-32601 Method not found: The method does not exist / is not available. (The MCP spec names no code for a client without the capability; -32601 is the standard one, and the one roots names.)",
    ),
    (
        "mcp/messages-follow-jsonrpc",
        MCP,
        "basic/index.mdx:27; basic/transports.mdx:7,28",
        SpecLevel::Must,
        "All messages between MCP clients and servers MUST follow the JSON-RPC 2.0 specification. JSON-RPC messages MUST be UTF-8 encoded. Messages are delimited by newlines, and MUST NOT contain embedded newlines.",
    ),
    (
        "mcp/response-same-id",
        MCP,
        "basic/index.mdx:69,89",
        SpecLevel::Must,
        "Result responses MUST include the same ID as the request they correspond to. Error responses MUST include the same ID as the request they correspond to.",
    ),
    (
        "mcp/error-response-shape",
        MCP,
        "basic/index.mdx:90-91",
        SpecLevel::Must,
        "Error responses MUST include an error field with a code and message. Error codes MUST be integers.",
    ),
    (
        "lifecycle/initialize-first",
        MCP,
        "basic/lifecycle.mdx:40,47",
        SpecLevel::Must,
        "The initialization phase MUST be the first interaction between client and server. The client MUST initiate this phase by sending an initialize request.",
    ),
    (
        "lifecycle/initialized",
        MCP,
        "basic/lifecycle.mdx:147",
        SpecLevel::Must,
        "After successful initialization, the client MUST send an initialized notification to indicate it is ready to begin normal operations.",
    ),
    (
        "lifecycle/negotiated-capabilities",
        MCP,
        "basic/lifecycle.mdx:217-220",
        SpecLevel::Must,
        "Both parties MUST: Respect the negotiated protocol version; Only use capabilities that were successfully negotiated.",
    ),
    (
        "ping/empty-result",
        MCP,
        "basic/utilities/ping.mdx:29",
        SpecLevel::Must,
        "The receiver MUST respond promptly with an empty response.",
    ),
    (
        "roots/declare",
        MCP,
        "client/roots.mdx:27",
        SpecLevel::Must,
        "Clients that support roots MUST declare the roots capability during initialization.",
    ),
    (
        "roots/file-uri",
        MCP,
        "client/roots.mdx:110",
        SpecLevel::Must,
        "uri: Unique identifier for the root. This MUST be a file:// URI in the current specification.",
    ),
    (
        "roots/unsupported-method-not-found",
        MCP,
        "client/roots.mdx:142-144",
        SpecLevel::Should,
        "Clients SHOULD return standard JSON-RPC errors for common failure cases: Client does not support roots: -32601 (Method not found).",
    ),
    (
        "sampling/declare",
        MCP,
        "client/sampling.mdx:44",
        SpecLevel::Must,
        "Clients that support sampling MUST declare the sampling capability during initialization.",
    ),
    (
        "elicitation/declare",
        MCP,
        "client/elicitation.mdx:51",
        SpecLevel::Must,
        "Clients that support elicitation MUST declare the elicitation capability during initialization.",
    ),
    (
        "policy/client-ends-with-session",
        POLICY,
        "README: verdicts (cf. MCP 2025-11-25 basic/lifecycle.mdx:237-238)",
        SpecLevel::Policy,
        "The server MAY initiate shutdown by closing its output stream and exiting; a client notices the end of the session and does not hang.",
    ),
    (
        "policy/declare-only-handled",
        POLICY,
        "README: the intercepting client",
        SpecLevel::Policy,
        "An intercepting client declares no capability it does not handle: no sampling, no elicitation, and roots only when it has roots.",
    ),
    (
        "policy/refusal-names-peer-and-method",
        POLICY,
        "README: the intercepting client",
        SpecLevel::Policy,
        "The error message of a refusal names the responding client and the refused method, so whoever reads the server's logs knows who said no to what.",
    ),
    (
        "policy/warn-per-refusal",
        POLICY,
        "README: log hygiene",
        SpecLevel::Policy,
        "Each refused server-to-client request is logged exactly once at WARNING, naming the server (stdio:<command> or its URL) and the method.",
    ),
    (
        "policy/no-params-at-warning",
        POLICY,
        "README: log hygiene",
        SpecLevel::Policy,
        "Request params (prompts, system prompts, schemas, metadata) never appear in a log line at WARNING or above.",
    ),
    (
        "policy/params-at-debug",
        POLICY,
        "README: log hygiene",
        SpecLevel::Policy,
        "The params of a refused request are logged at DEBUG, for diagnosis when DEBUG is on.",
    ),
];

/// Look a key up in the built-in catalogue.
pub fn builtin(key: &str) -> Option<SpecRef> {
    CATALOG.iter().find(|(k, ..)| *k == key).map(|&(key, source, section, level, text)| SpecRef {
        key: key.to_owned(),
        source: source.to_owned(),
        section: section.to_owned(),
        level,
        text: text.to_owned(),
    })
}

/// Every built-in entry, in catalogue order.
pub fn all() -> impl Iterator<Item = SpecRef> {
    CATALOG.iter().filter_map(|(k, ..)| builtin(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_resolvable() {
        let mut keys: Vec<_> = CATALOG.iter().map(|(k, ..)| *k).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate catalogue keys");
        assert_eq!(all().count(), n);
        assert_eq!(builtin("ping/empty-result").unwrap().short(), "MCP 2025-11-25 basic/utilities/ping.mdx:29 (MUST)");
    }

    #[test]
    fn cited_sentences_are_in_the_spec_pages() {
        // Each MCP entry's key phrase must appear in the cited page of the spec copy,
        // so the catalogue cannot drift from the text it quotes.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/mcp-spec/2025-11-25");
        if !root.exists() {
            eprintln!("skipped: the spec copy is not at {}", root.display());
            return;
        }
        let probes = [
            ("basic/index.mdx", "All messages between MCP clients and servers **MUST** follow the"),
            ("basic/index.mdx", "Result responses **MUST** include the same ID as the request they correspond to."),
            (
                "basic/lifecycle.mdx",
                "After successful initialization, the client **MUST** send an `initialized` notification",
            ),
            ("basic/lifecycle.mdx", "Only use capabilities that were successfully negotiated"),
            ("basic/utilities/ping.mdx", "The receiver **MUST** respond promptly with an empty response"),
            ("client/roots.mdx", "Client does not support roots: `-32601` (Method not found)"),
            ("client/sampling.mdx", "Clients that support sampling **MUST** declare the `sampling` capability"),
            (
                "client/elicitation.mdx",
                "Clients that support elicitation **MUST** declare the `elicitation` capability",
            ),
        ];
        for (page, phrase) in probes {
            let text = std::fs::read_to_string(root.join(page)).unwrap();
            assert!(text.contains(phrase), "{page} no longer says: {phrase}");
        }
    }
}
