//! `backchannel mock`: a scripted MCP server on stdin/stdout (or HTTP).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use backchannel_mock::canary::Canary;
use backchannel_mock::script::Script;
use backchannel_mock::trace::TraceWriter;
use backchannel_mock::transport::http::{self, HttpOptions, ResponseMode, Sessions};
use backchannel_mock::transport::{ClientExit, DEFAULT_MAX_FRAME, sse, stdio};
use backchannel_protocol::Revision;
use clap::Args;
use tokio::net::TcpListener;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["scenario", "script"])))]
pub(crate) struct MockArgs {
    /// The scenario to play.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// A compiled script to play (JSON, as the harness writes it for a stdio case:
    /// the scenario compiled once, its revision pinned).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["revision", "http_response"])]
    script: Option<PathBuf>,
    /// Write the JSON Lines trace of every frame here.
    #[arg(long, value_name = "PATH")]
    trace: Option<PathBuf>,
    /// When the trace exists already, write `<stem>.2.jsonl`, `.3`… instead of
    /// overwriting it: for a gateway that starts the server more than once per case.
    /// With --http, every session a client opens is served, each traced on its own
    /// (a gateway may probe first, or open one per downstream client).
    #[arg(long, requires = "trace")]
    trace_per_process: bool,
    /// Frames longer than this many bytes are discarded (and recorded as an event).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FRAME)]
    max_frame: usize,
    /// Serve Streamable HTTP on this address instead of stdio (alone: `127.0.0.1:0`, an
    /// ephemeral loopback port). Prints `{"event":"listening","url":…}` on stdout.
    #[arg(long, value_name = "ADDR", conflicts_with = "sse", num_args = 0..=1, default_missing_value = "127.0.0.1:0")]
    http: Option<SocketAddr>,
    /// Serve the legacy HTTP+SSE transport (2024-11-05) on this address instead of
    /// stdio (alone: `127.0.0.1:0`).
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:0")]
    sse: Option<SocketAddr>,
    /// The protocol revision to answer `initialize` with (default: the scenario's, when it
    /// lists exactly one; otherwise echo what the client asks for when known).
    #[arg(long, value_name = "REVISION", value_parser = parse_revision)]
    revision: Option<Revision>,
    /// Answer POSTed requests over Streamable HTTP with SSE instead of JSON
    /// (default: what the scenario says).
    #[arg(long, value_name = "MODE", value_parser = ["json", "sse"])]
    http_response: Option<String>,
}

pub(crate) fn run(args: MockArgs) -> u8 {
    // The mock's own logs go to stderr only (stdout is MCP), errors only: the
    // client under test may forward them into its own log, which is being judged.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::ERROR)
        .with_ansi(false)
        .try_init();
    let (script, mut response_mode) = match (&args.scenario, &args.script) {
        (_, Some(path)) => match std::fs::read_to_string(path).map(|t| Script::from_json(&t)) {
            Ok(Ok(script)) => (script, ResponseMode::Json),
            Ok(Err(e)) => {
                eprintln!("backchannel mock: error: {}: not a compiled script: {e}", path.display());
                return EXIT_USAGE;
            }
            Err(e) => {
                eprintln!("backchannel mock: error: cannot read {}: {e}", path.display());
                return EXIT_USAGE;
            }
        },
        (Some(path), None) => match crate::scenario::compile_file(path) {
            Ok(c) => {
                let pin = args.revision.or(match c.revisions.as_slice() {
                    [only] => Some(*only),
                    _ => None,
                });
                (c.script(pin), c.http_response)
            }
            Err(e) => {
                eprintln!("backchannel mock: error: {e}");
                return EXIT_USAGE;
            }
        },
        (None, None) => unreachable!("clap requires --scenario or --script"),
    };
    if let Some(mode) = &args.http_response {
        response_mode = if mode == "sse" { ResponseMode::Sse } else { ResponseMode::Json };
    }
    let trace = match &args.trace {
        Some(path) => {
            match if args.trace_per_process { TraceWriter::create_next(path) } else { TraceWriter::create(path) } {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("backchannel mock: error: cannot write the trace {}: {e}", path.display());
                    return EXIT_USAGE;
                }
            }
        }
        None => TraceWriter::discard(),
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("backchannel mock: error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let canary = Canary::generate();
    let result = match (args.http, args.sse) {
        (None, None) => rt.block_on(stdio::serve_stdio(script, &canary, trace, args.max_frame)),
        (Some(addr), _) => {
            // One trace per process is, over Streamable HTTP, one per session.
            let sessions = match &args.trace {
                Some(path) if args.trace_per_process => Sessions::Many(path.clone()),
                _ => Sessions::One,
            };
            let options = HttpOptions { max_body: args.max_frame, response_mode, sessions };
            rt.block_on(async {
                let listener = listen(addr, http::PATH).await?;
                http::serve(script, &canary, trace, listener, options, ClientExit::never()).await
            })
        }
        (None, Some(addr)) => rt.block_on(async {
            let listener = listen(addr, sse::PATH).await?;
            sse::serve(script, &canary, trace, listener, args.max_frame, ClientExit::never()).await
        }),
    };
    if let Err(e) = result {
        eprintln!("backchannel mock: error: {e}");
        std::process::exit(i32::from(EXIT_USAGE));
    }
    // tokio's stdin reader is a blocking thread that only returns when the client
    // closes its end; exit now instead of waiting for it.
    std::process::exit(i32::from(EXIT_OK));
}

/// Bind, then announce the URL on stdout as one JSON line (the only thing an HTTP
/// mock ever writes to stdout).
async fn listen(addr: SocketAddr, path: &str) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let url = format!("http://{local}{path}");
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::json!({ "event": "listening", "url": url }))?;
    out.flush()?;
    Ok(listener)
}

/// Parse a revision date (`2025-06-18`).
pub(crate) fn parse_revision(s: &str) -> Result<Revision, String> {
    s.parse().map_err(|e: backchannel_protocol::UnknownRevision| e.to_string())
}
