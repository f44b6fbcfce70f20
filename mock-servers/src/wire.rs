//! The JSON-RPC 2.0 envelope as MCP uses it: classification of untrusted frames,
//! request ids and error codes. No I/O.
//!
//! Classification never fails: a frame that breaks the rules still gets the best
//! reading we can make of it, plus one [`Finding`] per rule it breaks. Checks turn
//! findings into verdicts; nothing here panics on hostile input.

mod codes;
mod envelope;
pub mod headers;
mod id;

pub use codes::ErrorCode;
pub use envelope::{Classified, Envelope, Finding, classify, classify_line};
pub use id::{id_loosely_equal, is_valid_id, loose_key, render_id};
