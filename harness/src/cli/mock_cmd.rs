//! `backchannel mock`: a scripted MCP server on stdin/stdout.

use std::path::PathBuf;

use backchannel_mock::canary::Canary;
use backchannel_mock::trace::TraceWriter;
use backchannel_mock::transport::{DEFAULT_MAX_FRAME, stdio};
use clap::Args;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Debug, Args)]
pub(crate) struct MockArgs {
    /// The scenario to play.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,
    /// Write the JSON Lines trace of every frame here.
    #[arg(long, value_name = "PATH")]
    trace: Option<PathBuf>,
    /// Frames longer than this many bytes are discarded (and recorded as an event).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FRAME)]
    max_frame: usize,
}

pub(crate) fn run(args: MockArgs) -> u8 {
    // The mock's own logs go to stderr only (stdout is MCP), errors only: the
    // client under test may forward them into its own log, which is being judged.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::ERROR)
        .with_ansi(false)
        .try_init();
    let compiled = match crate::scenario::compile_file(&args.scenario) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("backchannel mock: error: {e}");
            return EXIT_USAGE;
        }
    };
    let trace = match &args.trace {
        Some(path) => match TraceWriter::create(path) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("backchannel mock: error: cannot write the trace {}: {e}", path.display());
                return EXIT_USAGE;
            }
        },
        None => TraceWriter::discard(),
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("backchannel mock: error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let result = rt.block_on(stdio::serve_stdio(compiled.script(), &Canary::generate(), trace, args.max_frame));
    if let Err(e) = result {
        eprintln!("backchannel mock: error: {e}");
    }
    // tokio's stdin reader is a blocking thread that only returns when the client
    // closes its end; exit now instead of waiting for it.
    std::process::exit(i32::from(EXIT_OK));
}
