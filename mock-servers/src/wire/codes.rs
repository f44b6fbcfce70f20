//! JSON-RPC and MCP error codes.

use std::fmt;

/// A JSON-RPC error code.
///
/// Sources: JSON-RPC 2.0 §5.1; MCP `schema.ts` of every revision
/// (`PARSE_ERROR` … `INTERNAL_ERROR`); `client/sampling.mdx` (`-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub i64);

impl ErrorCode {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// The JSON sent is not a valid Request object.
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// The method does not exist / is not available.
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// Invalid method parameter(s).
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// Internal JSON-RPC error.
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// MCP sampling: "User rejected sampling request" (an application code).
    pub const USER_REJECTED: Self = Self(-1);
    /// 2026-07-28: the requested protocol version is not supported
    /// (`basic/index.mdx`, Error codes; `data.supported` lists the ones that are).
    pub const UNSUPPORTED_PROTOCOL_VERSION: Self = Self(-32022);
    /// 2026-07-28 Streamable HTTP: a required header is missing, malformed, or
    /// disagrees with the body (`basic/transports/streamable-http.mdx`, Server Validation).
    pub const HEADER_MISMATCH: Self = Self(-32020);

    /// The conventional name of a code, when it has one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::PARSE_ERROR => "Parse error",
            Self::INVALID_REQUEST => "Invalid Request",
            Self::METHOD_NOT_FOUND => "Method not found",
            Self::INVALID_PARAMS => "Invalid params",
            Self::INTERNAL_ERROR => "Internal error",
            Self::USER_REJECTED => "User rejected",
            Self::UNSUPPORTED_PROTOCOL_VERSION => "Unsupported protocol version",
            Self::HEADER_MISMATCH => "Header mismatch",
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_known_codes() {
        assert_eq!(ErrorCode::METHOD_NOT_FOUND.to_string(), "-32601 (Method not found)");
        assert_eq!(ErrorCode(-32000).to_string(), "-32000");
    }
}
