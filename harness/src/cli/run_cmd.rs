//! `backchannel run`: argv → a [`Selection`], a client and options; the pipeline
//! does the rest; its outcome → the exit code.

use std::path::PathBuf;

use backchannel_protocol::Transport;
use clap::Args;

use super::{EXIT_USAGE, load_cases};
use crate::pipeline::{self, Jobs, Plan, RevisionFilter, RunOptions, Selection, parse_shard};
use crate::report::ReportFile;
use crate::report::event::Reporter;
use crate::report::terminal::TerminalReporter;
use crate::runner::{ClientSpec, RunConfig};
use crate::scenario::compiled::{Knob, Knobs};

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario files or directories (default: the built-in suite, compiled into the binary).
    paths: Vec<PathBuf>,
    /// Grade SHOULD violations as FAIL instead of WARN.
    #[arg(long)]
    strict: bool,
    /// Keep each case's trace and client logs under this directory.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Test this client instead of the reference client: a command line (shell
    /// quoting). Over stdio the mock server's argv is appended (the client launches
    /// it); over HTTP the server's URL is appended.
    #[arg(long, value_name = "'CMD ARGS'", conflicts_with = "client")]
    client_cmd: Option<String>,
    /// Test a profiled client: `clients/<NAME>.yaml`, or a path to a profile.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["gateway", "gateway_cmd"])]
    client: Option<String>,
    /// Test a gateway: `gateways/<NAME>.yaml`, or a path to a gateway profile. The mock
    /// is its upstream server, the reference client its downstream client. Without
    /// scenario paths or --filter: the built-in `gateway/*` scenarios.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["client_cmd", "gateway_cmd"])]
    gateway: Option<String>,
    /// Test a gateway given as a command line (shell quoting) with placeholders:
    /// `{server_argv}` (the upstream mock's argv, spliced; stdio), `{server_cmd}` (the
    /// same as one string), `{upstream_url}` (HTTP), `{port}` (where it must listen
    /// downstream); see --downstream.
    #[arg(long, value_name = "'CMD ARGS'", conflicts_with = "client_cmd")]
    gateway_cmd: Option<String>,
    /// With --gateway-cmd: how downstream clients reach it — `stdio` (the downstream
    /// launches the command), `http[:PATH]` or `sse[:PATH]` on 127.0.0.1:{port}
    /// (default path `/mcp`).
    #[arg(long, value_name = "T[:PATH]", requires = "gateway_cmd", default_value = "http:/mcp", value_parser = parse_downstream)]
    downstream: crate::profile::Downstream,
    /// With --client-cmd: the knobs of the client contract the client honours
    /// (`roots`, `roots-change`, `elicitation`, `log-level`, `call-tool`, `2026-07-28`,
    /// comma-separated, or `all`). A check that depends on a knob the client does not
    /// take up is N/A — unless the knob is listed here: then it is judged. With
    /// --gateway-cmd: what the gateway relays from its downstream client.
    #[arg(long, value_name = "KNOBS", value_parser = parse_knobs)]
    honours: Option<Knobs>,
    /// With --client-cmd: how long the mock waits, after the closing barrier (a ping
    /// whose answer follows what the client wrote before it), for what the barrier
    /// cannot prove — answers sent concurrently, late log lines.
    #[arg(long, value_name = "MS", requires = "client_cmd", default_value_t = 300)]
    settle_ms: u64,
    /// Which transports to run each scenario on (those it lists; default: all).
    #[arg(long, value_name = "T", default_value = "all", value_parser = ["stdio", "http", "sse", "all"])]
    transport: String,
    /// Which protocol revisions to run each scenario at (those it lists): a date,
    /// `latest` (the newest each scenario lists) or `all` (default).
    #[arg(long, value_name = "R", default_value = "all")]
    revision: String,
    /// Cases run at once (default: 8 per core, at most 64, for the reference client,
    /// whose cases wait on the wire rather than the CPU; for any other client as many
    /// as the CPU allows — one per core, and one more while 0.3 of a core is idle, up
    /// to 32 per core; see README "How many cases run at once").
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run only the scenarios whose id matches this glob (`*` matches anything,
    /// `sampling/*`, `*/undeclared`; `@back-channel`: the scenarios where a client's own
    /// handlers decide what goes back); repeatable: any match keeps a scenario.
    #[arg(long, value_name = "GLOB")]
    filter: Vec<String>,
    /// Run only shard K of N (1-based, `2/4`): the planned cases are dealt round-robin,
    /// so N CI jobs with K = 1..N run every case exactly once.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Known failures, each with its reason, added to the profile's: a YAML list of
    /// `{check, reason}` (or a file with a `baseline:` list, such as a profile). A
    /// listed FAIL or WARN is XFAIL; an entry the client now passes fails the run.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Also write a report: `json=PATH`, `junit=PATH` or `html=PATH` (repeatable).
    #[arg(long, value_name = "KIND=PATH")]
    report: Vec<ReportFile>,
}

/// `--client` / `--client-cmd`, or the reference client.
pub(crate) fn client_spec(
    client: Option<&str>,
    client_cmd: Option<&str>,
    honours: Option<Knobs>,
    settle: std::time::Duration,
) -> Result<ClientSpec, String> {
    match (client, client_cmd) {
        (_, Some(line)) => ClientSpec::command_line(line, honours.unwrap_or_default(), settle)
            .map_err(|e| format!("--client-cmd: {e}")),
        (Some(name), None) => ClientSpec::profile(name),
        (None, None) => Ok(ClientSpec::Reference),
    }
}

/// `--downstream`: `stdio`, `http[:PATH]`, `sse[:PATH]`.
fn parse_downstream(s: &str) -> Result<crate::profile::Downstream, String> {
    let (t, path) = s.split_once(':').unwrap_or((s, "/mcp"));
    let transport: Transport = t.parse().map_err(|e: backchannel_protocol::UnknownTransport| e.to_string())?;
    if !path.starts_with('/') {
        return Err(format!("the path `{path}` must start with `/`"));
    }
    Ok(crate::profile::Downstream::new(transport, path))
}

/// `--gateway` / `--gateway-cmd`: the gateway under test, if any.
fn gateway_spec(args: &RunArgs) -> Result<Option<ClientSpec>, String> {
    match (&args.gateway, &args.gateway_cmd) {
        (Some(name), _) => ClientSpec::gateway(name).map(Some),
        (None, Some(line)) => {
            let honours = args.honours.clone().unwrap_or_default().into_iter().collect();
            crate::profile::LoadedProfile::gateway_command(line, args.downstream.clone(), honours)
                .map(|p| Some(ClientSpec::Gateway(std::sync::Arc::new(p))))
                .map_err(|e| format!("--gateway-cmd: {e}"))
        }
        (None, None) if args.honours.is_some() && args.client_cmd.is_none() => {
            Err("--honours goes with --client-cmd or --gateway-cmd".to_owned())
        }
        (None, None) => Ok(None),
    }
}

/// `--honours`: comma-separated knobs, or `all`.
pub(crate) fn parse_knobs(s: &str) -> Result<Knobs, String> {
    if s == "all" {
        return Ok(Knob::ALL.into_iter().collect());
    }
    s.split(',').map(|k| k.trim().parse()).collect()
}

/// `--transport`: `all` or one transport.
pub(crate) fn transport_filter(s: &str) -> Result<Option<Transport>, String> {
    if s == "all" {
        Ok(None)
    } else {
        s.parse().map(Some).map_err(|e: backchannel_protocol::UnknownTransport| e.to_string())
    }
}

pub(crate) fn run(args: RunArgs) -> u8 {
    let Some(cases) = load_cases(&args.paths) else { return EXIT_USAGE };
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return super::usage(format!("cannot locate the backchannel executable: {e}")),
    };
    let settle = std::time::Duration::from_millis(args.settle_ms);
    let client = match gateway_spec(&args) {
        Ok(Some(gateway)) => gateway,
        Ok(None) => match client_spec(args.client.as_deref(), args.client_cmd.as_deref(), args.honours.clone(), settle)
        {
            Ok(c) => c,
            Err(e) => return super::usage(e),
        },
        Err(e) => return super::usage(e),
    };
    let mut filters = args.filter.clone();
    if matches!(client, ClientSpec::Gateway(_)) && args.paths.is_empty() && filters.is_empty() {
        filters.push(crate::scenario::GATEWAY_SUITE.to_owned());
    }
    let selection = match (RevisionFilter::parse(&args.revision), transport_filter(&args.transport)) {
        (Ok(revisions), Ok(transport)) => {
            Selection { transports: transport.map(|t| vec![t]), revisions, filters, shard: args.shard }
        }
        (Err(e), _) => return super::usage(format!("--revision: {e}")),
        (_, Err(e)) => return super::usage(format!("--transport: {e}")),
    };
    let plan = match Plan::new(&cases, &selection, &client) {
        Ok(p) => p,
        Err(e) => return super::usage(e.to_string()),
    };
    let options = RunOptions {
        jobs: args.jobs.map_or_else(|| pipeline::default_jobs(&client), Jobs::Fixed),
        strict: args.strict,
        label: client.describe(),
        handle_signals: true,
    };
    let baseline = match args.baseline.as_deref().map(crate::baseline::load_file).transpose() {
        Ok(b) => b.unwrap_or_default(),
        Err(e) => return super::usage(format!("--baseline {e}")),
    };
    let cfg = RunConfig { keep: args.keep, client, baseline, ..RunConfig::reference(exe) };
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(TerminalReporter::stdio())];
    reporters.extend(args.report.iter().map(|f| Box::new(f.clone()) as Box<dyn Reporter>));
    match pipeline::run(&plan, cfg, &options, &mut reporters) {
        Ok(summary) => summary.outcome().exit_code(),
        Err(e) => super::usage(super::chain(&e)),
    }
}
