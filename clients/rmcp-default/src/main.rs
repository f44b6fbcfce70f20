//! backchannel driver for rmcp's default client: `().serve(transport)`, i.e. the
//! `ClientHandler` defaults a gateway gets when it implements nothing — no declared
//! capabilities, `elicitation/create` answered with `decline`, `roots/list` with `[]`.
//!
//! Usage: `rmcp-default-client (stdio|http) TARGET...` — stdio: the server's argv (the
//! driver launches it); http: the Streamable HTTP URL. rmcp 3.x has no HTTP+SSE
//! client. It initializes, lists tools, calls the mock's tool when it is offered, and
//! stays until the server ends the session (noticed by a failing ping).

use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientRequest};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};

const TRIGGER_TOOL: &str = "backchannel_run_scenario";

async fn drive(client: RunningService<RoleClient, ()>) {
    if let Ok(tools) = client.list_all_tools().await
        && tools.iter().any(|t| t.name == TRIGGER_TOOL)
    {
        let _ = client.call_tool(CallToolRequestParams::new(TRIGGER_TOOL)).await;
    }
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let ping = client.send_request(ClientRequest::PingRequest(Default::default()));
        if !matches!(tokio::time::timeout(Duration::from_secs(2), ping).await, Ok(Ok(_))) {
            break;
        }
    }
    let _ = client.cancel().await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, target) = args.split_first().expect("usage: rmcp-default-client (stdio|http) TARGET...");
    let served = match kind.as_str() {
        "stdio" => {
            let mut cmd = tokio::process::Command::new(&target[0]);
            cmd.args(&target[1..]);
            match TokioChildProcess::new(cmd) {
                Ok(t) => ().serve(t).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        _ => ().serve(StreamableHttpClientTransport::from_uri(target[0].clone())).await.map_err(|e| e.to_string()),
    };
    match served {
        Ok(client) => drive(client).await,
        Err(e) => eprintln!("ERROR:driver:failed to initialize: {e}"),
    }
}
