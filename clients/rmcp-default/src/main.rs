//! backchannel driver for rmcp's default client: `().serve(transport)`, i.e. the
//! `ClientHandler` defaults a gateway gets when it implements nothing — no declared
//! capabilities, `elicitation/create` answered with `decline`, `roots/list` with `[]`.
//!
//! When the harness asks for sampling (`BACKCHANNEL_CLIENT_SAMPLING`: basic, tools,
//! context) or elicitation (`BACKCHANNEL_CLIENT_ELICITATION`, answered with
//! `BACKCHANNEL_CLIENT_ELICITATION_ACTION`), the driver serves a [`Handling`]
//! `ClientHandler` instead, overriding exactly what an application would: the
//! declared capabilities, `create_message` and `create_elicitation`. Everything else
//! stays rmcp's default.
//!
//! Usage: `rmcp-default-client (stdio|http) TARGET...` — stdio: the server's argv (the
//! driver launches it); http: the Streamable HTTP URL. rmcp 3.x has no HTTP+SSE
//! client. It initializes, lists tools, calls the mock's tool when it is offered, and
//! stays until the server ends the session (noticed by a failing ping).

// Sampling is deprecated by SEP-2577 in 2026-07-28 (rmcp marks its types so), but
// current in every legacy revision this driver serves.
#![expect(deprecated, reason = "sampling types are deprecated in 2026-07-28 only")]

use std::time::Duration;

use backchannel_reference_client::answer::{form_content, sampling_result};
use backchannel_reference_client::{ElicitationAction as Action, Sampling};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest, CreateMessageRequestParams,
    CreateMessageResult, ElicitRequestParams, ElicitResult, ElicitationAction, ErrorCode, ErrorData,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::{Value, json};

const TRIGGER_TOOL: &str = "backchannel_run_scenario";

/// A client that handles sampling and/or elicitation the way the harness asked.
#[derive(Debug, Clone)]
struct Handling {
    sampling: Option<Sampling>,
    elicitation: Option<(Vec<String>, Action)>,
    /// How long "the user" takes to answer (`BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS`).
    delay: Duration,
}

impl Handling {
    /// From the `BACKCHANNEL_CLIENT_*` variables; `None` when neither is asked for.
    fn from_env() -> Option<Self> {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        let list = |v: String| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect::<Vec<_>>();
        let features = list(var("BACKCHANNEL_CLIENT_SAMPLING"));
        let modes = list(var("BACKCHANNEL_CLIENT_ELICITATION"));
        let sampling = (!features.is_empty()).then(|| Sampling {
            tools: features.iter().any(|f| f == "tools"),
            context: features.iter().any(|f| f == "context"),
            reply: "rmcp driver reply".to_owned(),
            model: "rmcp-driver".to_owned(),
        });
        let action = var("BACKCHANNEL_CLIENT_ELICITATION_ACTION").parse().unwrap_or_default();
        let elicitation = (!modes.is_empty()).then_some((modes, action));
        let delay = Duration::from_millis(var("BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS").parse().unwrap_or(0));
        (sampling.is_some() || elicitation.is_some()).then_some(Self { sampling, elicitation, delay })
    }
}

impl ClientHandler for Handling {
    fn get_info(&self) -> ClientConfig {
        let mut caps = json!({});
        if let Some(s) = &self.sampling {
            caps["sampling"] = json!({});
            if s.tools {
                caps["sampling"]["tools"] = json!({});
            }
            if s.context {
                caps["sampling"]["context"] = json!({});
            }
        }
        if let Some((modes, _)) = &self.elicitation {
            caps["elicitation"] = json!({});
            for m in modes.iter().filter(|m| *m != "empty") {
                caps["elicitation"][m.as_str()] = json!({});
            }
        }
        let mut info = ClientConfig::default();
        info.capabilities = serde_json::from_value::<ClientCapabilities>(caps).unwrap_or_default();
        info
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let Some(cfg) = &self.sampling else {
            return Err(ErrorData::new(ErrorCode::METHOD_NOT_FOUND, "sampling/createMessage", None));
        };
        let json = serde_json::to_value(&params).unwrap_or(Value::Null);
        if json.get("tools").is_some() && !cfg.tools {
            return Err(ErrorData::new(ErrorCode::INVALID_PARAMS, "tools offered without sampling.tools", None));
        }
        serde_json::from_value(sampling_result(cfg, &json))
            .map_err(|e| ErrorData::new(ErrorCode::INTERNAL_ERROR, e.to_string(), None))
    }

    async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        // "The user" takes a while; a cancellation in the meantime ends it (rmcp then
        // sends no response).
        tokio::select! {
            () = tokio::time::sleep(self.delay) => {}
            () = context.ct.cancelled() => {
                return Err(ErrorData::new(ErrorCode::INTERNAL_ERROR, "cancelled", None));
            }
        }
        let action = self.elicitation.as_ref().map_or(Action::Decline, |(_, a)| *a);
        Ok(match action {
            Action::Decline => ElicitResult::new(ElicitationAction::Decline),
            Action::Cancel => ElicitResult::new(ElicitationAction::Cancel),
            Action::Accept => {
                let mut result = ElicitResult::new(ElicitationAction::Accept);
                if let ElicitRequestParams::FormElicitationParams { .. } = &params {
                    let json = serde_json::to_value(&params).unwrap_or(Value::Null);
                    let schema = json.get("requestedSchema").cloned().unwrap_or(Value::Null);
                    result.content = Some(Value::Object(form_content(&schema)));
                }
                result
            }
        })
    }
}

async fn drive<H: ClientHandler>(client: RunningService<RoleClient, H>) {
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

async fn serve_and_drive<H: ClientHandler>(handler: H, kind: &str, target: &[String]) {
    let served = match kind {
        "stdio" => {
            let mut cmd = tokio::process::Command::new(&target[0]);
            cmd.args(&target[1..]);
            match TokioChildProcess::new(cmd) {
                Ok(t) => handler.serve(t).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        _ => handler.serve(StreamableHttpClientTransport::from_uri(target[0].clone())).await.map_err(|e| e.to_string()),
    };
    match served {
        Ok(client) => drive(client).await,
        Err(e) => eprintln!("ERROR:driver:failed to initialize: {e}"),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, target) = args.split_first().expect("usage: rmcp-default-client (stdio|http) TARGET...");
    match Handling::from_env() {
        Some(h) => serve_and_drive(h, kind, target).await,
        None => serve_and_drive((), kind, target).await,
    }
}
