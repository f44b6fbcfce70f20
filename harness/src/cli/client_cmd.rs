//! `backchannel client`: the reference intercepting client.

use std::io::IsTerminal;
use std::time::Duration;

use backchannel_reference_client::{
    ClientError, Config, Elicitation, ElicitationAction, Lifecycle, Recorder, RootEntry, RootsChange, Sampling,
    ServerLabel, SessionEnd, SessionOptions, Signal, run_stdio, run_url, socket_address,
};
use clap::Args;
use tracing_subscriber::EnvFilter;

use super::{EXIT_FAIL, EXIT_OK, EXIT_USAGE};

#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// Launch the server as a child process speaking stdio: `-- CMD ARGS...`.
    #[arg(long, conflicts_with = "url", required_unless_present = "url")]
    stdio: bool,
    /// Connect to a server over HTTP: Streamable HTTP, falling back to HTTP+SSE.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Call this tool once initialized.
    #[arg(long, value_name = "NAME")]
    call_tool: Option<String>,
    /// Get this prompt once connected (instead of --call-tool; 2026-07-28 input rounds
    /// on `prompts/get` are answered like those of a tool call).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["call_tool", "read_resource"])]
    get_prompt: Option<String>,
    /// Read this resource once connected (likewise, `resources/read`).
    #[arg(long, value_name = "URI", conflicts_with = "call_tool")]
    read_resource: Option<String>,
    /// The arguments of --call-tool, a JSON object (mirrored into `Mcp-Param-*`
    /// headers where the tool's schema says so, over 2026-07-28 HTTP).
    #[arg(long, value_name = "JSON", requires = "call_tool", value_parser = parse_arguments)]
    call_tool_arguments: Option<serde_json::Map<String, serde_json::Value>>,
    /// With --url: ping the server this often and end the session when a ping fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 15.0)]
    ping_interval: f64,
    /// Expose a root (`file:///path`, optionally `=Name`); repeatable. Declares `roots`.
    #[arg(long = "root", value_name = "URI[=NAME]")]
    roots: Vec<String>,
    /// Support elicitation: `form`, `url`, `form,url`, or `empty` (declare `{}`: form
    /// only). "The user" answers with --elicitation-action after --elicitation-delay.
    #[arg(long, value_name = "MODES")]
    elicitation: Option<String>,
    /// What "the user" answers a supported elicitation with: `decline`, `cancel`, or
    /// `accept` (a form with its defaults and the first valid value of each required
    /// field without one; a URL consented to).
    #[arg(long, value_name = "ACTION", default_value = "decline", value_parser = ["accept", "decline", "cancel"])]
    elicitation_action: String,
    /// How long "the user" takes to answer an elicitation, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    elicitation_delay: u64,
    /// Support sampling and answer every request with --sampling-reply: `basic`, or
    /// `tools`, `context`, `tools,context` to declare `sampling.tools` (answer offered
    /// tools with a `tool_use` of the first one) and `sampling.context`.
    #[arg(long, value_name = "FEATURES")]
    sampling: Option<String>,
    /// The text of every sampling reply.
    #[arg(long, value_name = "TEXT", default_value = "backchannel reference reply")]
    sampling_reply: String,
    /// Change the roots this many milliseconds after initialization, to those of
    /// --root-after (declares roots.listChanged and sends notifications/roots/list_changed).
    #[arg(long, value_name = "MS")]
    roots_change_after: Option<u64>,
    /// A root from the change on (repeatable).
    #[arg(long = "root-after", value_name = "URI[=NAME]")]
    roots_after: Vec<String>,
    /// Append this link to refusal messages.
    #[arg(long, value_name = "URL")]
    docs_url: Option<String>,
    /// Log level (`RUST_LOG` overrides). rmcp's own logs are capped at ERROR.
    #[arg(long, default_value = "info", value_parser = ["trace", "debug", "info", "warn", "error"])]
    log_level: String,
    /// Start every session with `initialize` (a legacy-only client: no
    /// `server/discover` probe, no 2026-07-28).
    #[arg(long)]
    initialize_only: bool,
    /// Write every server→client request received and the answer given to FILE, one
    /// JSON object per line (the harness's gateway mode reads it).
    #[arg(long, value_name = "FILE")]
    record: Option<std::path::PathBuf>,
    /// With --url: once this session is up, open a second one to the same URL (a
    /// bystander: the same capabilities, it asks for nothing) and record what reaches
    /// it to FILE as --record does; this session asks for its tool once the bystander
    /// is up. If the bystander cannot connect, FILE holds one line
    /// `{"unavailable": REASON}` and this session goes on alone. For judging a
    /// gateway's isolation of its downstream sessions.
    #[arg(long, value_name = "FILE", requires = "url")]
    bystander_record: Option<std::path::PathBuf>,
    /// With --url (Streamable HTTP): open no standalone GET stream; the server can
    /// reach this client only on the response streams of its requests.
    #[arg(long, requires = "url")]
    no_get_stream: bool,
    /// Write this client's own logs to FILE instead of stderr (a spawned server's
    /// stderr still goes to stderr).
    #[arg(long, value_name = "FILE")]
    log_file: Option<std::path::PathBuf>,
    /// With --url: first start `-- CMD ARGS...` (a gateway, say), wait until the
    /// URL's port accepts connections, then connect; CMD is killed when the client ends.
    #[arg(long, requires = "url")]
    spawn: bool,
    /// With --spawn: how long CMD may take to accept connections.
    #[arg(long, value_name = "SECONDS", requires = "spawn", default_value_t = 60.0)]
    spawn_timeout: f64,
    /// Close the session after this many seconds even if the server has not ended it.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<f64>,
    /// The server command and its arguments (with --stdio), or the command to start
    /// first (with --spawn).
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

/// The reference client's subscriber: stderr, level from `--log-level` or
/// `RUST_LOG`, and rmcp capped at ERROR (it logs whole messages, params
/// included, at WARN in some paths) unless `RUST_LOG` names rmcp explicitly.
fn init_logging(level: &str, file: Option<&std::path::Path>) -> Result<(), std::io::Error> {
    let directives = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() && v.contains("rmcp") => v,
        Ok(v) if !v.trim().is_empty() => format!("{v},rmcp=error"),
        _ => format!("{level},rmcp=error"),
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info,rmcp=error"));
    if let Some(path) = file {
        let file = std::fs::File::create(path)?;
        let _ = tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_env_filter(filter)
            .with_ansi(false)
            .try_init();
        return Ok(());
    }
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).with_ansi(ansi).try_init();
    Ok(())
}

/// A comma-separated flag value whose words must be among `allowed`; `None` (after
/// saying which word is wrong) otherwise.
fn words<'a>(flag: &str, value: &'a str, allowed: &[&str]) -> Option<Vec<&'a str>> {
    let words: Vec<&str> = value.split(',').map(str::trim).collect();
    if let Some(bad) = words.iter().find(|w| !allowed.contains(w)) {
        eprintln!("error: {flag}: unknown value `{bad}` ({})", allowed.join(", "));
        return None;
    }
    Some(words)
}

pub(crate) fn run(args: ClientArgs) -> u8 {
    if let Err(e) = init_logging(&args.log_level, args.log_file.as_deref()) {
        eprintln!("error: --log-file: {e}");
        return EXIT_USAGE;
    }
    if args.spawn && args.command.is_empty() {
        eprintln!("error: --spawn needs the command to start after --");
        return EXIT_USAGE;
    }
    let label = match (&args.url, args.command.first()) {
        (Some(url), _) => ServerLabel::url(url),
        (None, Some(program)) => ServerLabel::stdio(program),
        (None, None) => {
            eprintln!("error: --stdio needs the server command after --");
            return EXIT_USAGE;
        }
    };
    let mut config = Config::new(label);
    config.docs_url = args.docs_url;
    if let Some(path) = &args.record {
        match Recorder::create(path) {
            Ok(r) => config.record = Some(r),
            Err(e) => {
                eprintln!("error: --record {}: {e}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    let parse_roots = |list: &[String]| -> Vec<RootEntry> {
        list.iter()
            .map(|r| match r.split_once('=') {
                Some((uri, name)) => RootEntry { uri: uri.to_owned(), name: Some(name.to_owned()) },
                None => RootEntry { uri: r.clone(), name: None },
            })
            .collect()
    };
    config.roots = parse_roots(&args.roots);
    config.roots_change = args
        .roots_change_after
        .map(|ms| RootsChange { after: Duration::from_millis(ms), roots: parse_roots(&args.roots_after) });
    if let Some(modes) = &args.elicitation {
        let Some(modes) = words("--elicitation", modes, &["form", "url", "empty"]) else { return EXIT_USAGE };
        config.elicitation = Some(Elicitation {
            form: modes.contains(&"form"),
            url: modes.contains(&"url"),
            declare_empty: modes.contains(&"empty"),
            answer_delay: Duration::from_millis(args.elicitation_delay),
            action: args.elicitation_action.parse::<ElicitationAction>().unwrap_or_default(),
        });
    }
    if let Some(features) = &args.sampling {
        let Some(features) = words("--sampling", features, &["basic", "tools", "context"]) else { return EXIT_USAGE };
        config.sampling = Some(Sampling {
            tools: features.contains(&"tools"),
            context: features.contains(&"context"),
            reply: args.sampling_reply.clone(),
            ..Sampling::default()
        });
    }
    let wait = match args.wait.map(Duration::try_from_secs_f64).transpose() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: --wait: {e}");
            return EXIT_USAGE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let ping = match Duration::try_from_secs_f64(args.ping_interval) {
        Ok(d) if !d.is_zero() => Some(d),
        Ok(_) => None,
        Err(e) => {
            eprintln!("error: --ping-interval: {e}");
            return EXIT_USAGE;
        }
    };
    let options = SessionOptions::new()
        .wait(wait)
        .call_tool(args.call_tool)
        .call_arguments(args.call_tool_arguments)
        .get_prompt(args.get_prompt)
        .read_resource(args.read_resource)
        .ping_interval(args.url.is_some().then_some(ping).flatten())
        .lifecycle(if args.initialize_only { Lifecycle::Initialize } else { Lifecycle::DualEra })
        .no_get_stream(args.no_get_stream);
    // The bystander: the same client, its own record, asking for nothing.
    let bystander = args.bystander_record.map(|path| {
        let options = SessionOptions::new().lifecycle(options.lifecycle).no_get_stream(args.no_get_stream);
        (config.clone(), options, path)
    });
    let result = match &args.url {
        Some(url) if args.spawn => rt.block_on(async {
            let _started =
                match spawn_and_wait(&args.command, url, Duration::from_secs_f64(args.spawn_timeout.max(0.0))).await {
                    Ok(child) => child,
                    Err(e) => {
                        // On stderr too: with --log-file the reason would be hidden in the file.
                        eprintln!("backchannel client: error: {e}");
                        tracing::error!("{e}");
                        return Err(None);
                    }
                };
            with_bystander(config, url, options, bystander).await.map_err(Some)
        }),
        Some(url) => rt.block_on(with_bystander(config, url, options, bystander)).map_err(Some),
        None => rt.block_on(run_stdio(config, &args.command[0], &args.command[1..], &options)).map_err(Some),
    };
    rt.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(_) => EXIT_OK,
        Err(None) => EXIT_FAIL,
        Err(Some(e)) => {
            tracing::error!("{}", error_chain(&e));
            EXIT_FAIL
        }
    }
}

/// Run the session at `url`; with a bystander, open it once this session is up and
/// hold this session's asks until the bystander is up too (or could not connect:
/// then this session goes on alone). The bystander lives as long as this session.
/// Its record says which: a line `{"bystander": "up"}`, or `{"unavailable": WHY}`.
async fn with_bystander(
    config: Config,
    url: &str,
    options: SessionOptions,
    bystander: Option<(Config, SessionOptions, std::path::PathBuf)>,
) -> Result<SessionEnd, ClientError> {
    let Some((mut by_config, by_options, by_path)) = bystander else { return run_url(config, url, &options).await };
    let (up, go, by_up) = (Signal::new(), Signal::new(), Signal::new());
    let options = options.up(Some(up.clone())).hold(Some(go.clone()));
    let open = async {
        up.wait().await;
        let record = match Recorder::create(&by_path) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, path = %by_path.display(), "cannot write the bystander's record");
                return go.notify();
            }
        };
        by_config.record = Some(record.clone());
        let by_options = by_options.up(Some(by_up.clone()));
        let session = run_url(by_config, url, &by_options);
        tokio::pin!(session);
        let why = tokio::select! {
            () = by_up.wait() => {
                tracing::info!("the bystander session is up");
                record.up();
                go.notify();
                // Served as long as the main session lives.
                match session.await {
                    Ok(_) => tracing::info!("the bystander session ended"),
                    Err(e) => tracing::info!(error = %error_chain(&e), "the bystander session ended"),
                }
                return;
            }
            end = &mut session => match end {
                Ok(_) => "its session ended before it was initialized".to_owned(),
                Err(e) => error_chain(&e),
            },
        };
        tracing::info!(reason = %why, "the bystander session could not be opened; going on alone");
        record.unavailable(&why);
        go.notify();
    };
    tokio::select! {
        end = run_url(config, url, &options) => end,
        () = async { open.await; std::future::pending().await } => unreachable!("pending"),
    }
}

/// An error and its sources, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
}

/// `--spawn`: start `command` (stdout and stderr inherited, killed when dropped) and
/// wait up to `ready` until the URL's host and port accept a TCP connection (an
/// address that already accepts one before it starts is an error).
async fn spawn_and_wait(command: &[String], url: &str, ready: Duration) -> Result<tokio::process::Child, String> {
    let parsed = socket_address(url).await.ok_or_else(|| format!("--spawn: cannot read a host and port in `{url}`"))?;
    // Whatever accepts connections there now is not the command about to start: talking
    // to it would judge a stranger.
    if tokio::net::TcpStream::connect(parsed).await.is_ok() {
        return Err(format!(
            "--spawn: something already accepts connections on {parsed} before `{}` starts",
            command[0]
        ));
    }
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("--spawn: cannot start `{}`: {e}", command[0]))?;
    let deadline = tokio::time::Instant::now() + ready;
    loop {
        if tokio::net::TcpStream::connect(parsed).await.is_ok() {
            tracing::info!(command = %command[0], address = %parsed, "the spawned command accepts connections");
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "--spawn: `{}` exited ({status}) before accepting connections on {parsed}",
                command[0]
            ));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("--spawn: nothing accepted connections on {parsed} within {}s", ready.as_secs_f64()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `--call-tool-arguments`: a JSON object.
fn parse_arguments(s: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err("must be a JSON object".to_owned()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}
