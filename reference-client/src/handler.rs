//! The intercepting `ClientHandler`.
//!
//! Policy, per server→client request (legacy revisions, 2024-11-05 … 2025-11-25):
//!
//! | request | answer |
//! |---|---|
//! | `ping` | `{}` (`basic/utilities/ping.mdx`: "MUST respond promptly with an empty response") |
//! | `roots/list`, roots configured | the roots |
//! | `roots/list`, none configured | `-32601` (`client/roots.mdx:142-160`: SHOULD) |
//! | `sampling/createMessage` | `-32601`: never declared |
//! | `sampling/createMessage`, sampling configured | a canned reply ([`crate::answer::sampling_result`]); `tools` without `sampling.tools`: `-32602` |
//! | `elicitation/create` | `-32601`: never declared (rmcp's default would answer `decline`) |
//! | `elicitation/create`, elicitation configured | the configured action: decline (default), cancel, or accept with the form's defaults |
//! | `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel` | `-32601`: tasks never declared |
//! | anything else | `-32601` |
//!
//! A task-augmented request (`params.task`, 2025-11-25) is answered as the plain one:
//! this client declares no task support, and such a receiver "MUST process requests
//! of that type normally, ignoring any task-augmentation metadata"
//! (`basic/utilities/tasks.mdx:392`); rmcp's params types ignore the field.
//!
//! Every refusal logs exactly one WARNING naming the server and the method (and
//! the request id), and the params only at DEBUG. Refusal messages name this
//! client and the method, never the params.

// Sampling and roots are deprecated by SEP-2577 in 2026-07-28 (rmcp marks their
// types deprecated), but they are current in every legacy revision this client serves.
#![expect(deprecated, reason = "sampling and roots types are deprecated in 2026-07-28 only")]

use std::borrow::Cow;
use std::sync::Arc;

use rmcp::ClientHandler;
use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult, CustomRequest, CustomResult,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability, ErrorCode, ErrorData,
    FormElicitationCapability, Implementation, ListRootsResult, ProtocolVersion, RequestId, RootsCapabilities,
    UrlElicitationCapability,
};
use rmcp::service::{RequestContext, RoleClient};
use serde::Serialize;
use serde_json::{Value, json};

use backchannel_protocol::{Revision, capability_for};

use crate::config::Config;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The method needs a capability this client did not declare (`-32601`).
    CapabilityNotDeclared(&'static str),
    /// The method is unknown to this client (`-32601`).
    UnknownMethod,
    /// The method is supported but its params are malformed (`-32602`).
    InvalidParams,
    /// A sampling request offers `tools` but `sampling.tools` was not declared
    /// (`-32602`; 2025-11-25 schema.ts `CreateMessageRequestParams.tools`: the client
    /// MUST return an error).
    ToolsNotDeclared,
    /// An elicitation mode the client did not declare (`-32602`, 2025-11-25
    /// `client/elicitation.mdx:698-700`).
    ModeNotDeclared(&'static str),
}

/// An MCP client that declares no sampling or elicitation capability and
/// refuses such requests audibly. Embed it, or drive it with [`crate::run_stdio`].
#[derive(Debug, Clone)]
pub struct InterceptingClient {
    config: Arc<Config>,
    /// The roots served now (they change with [`Config::roots_change`]).
    roots: Arc<std::sync::Mutex<Vec<crate::config::RootEntry>>>,
}

impl InterceptingClient {
    /// A client with this configuration.
    pub fn new(config: Config) -> Self {
        let roots = Arc::new(std::sync::Mutex::new(config.roots.clone()));
        Self { config: Arc::new(config), roots }
    }

    /// Swap in new roots (the caller then sends `notifications/roots/list_changed`).
    pub fn set_roots(&self, roots: Vec<crate::config::RootEntry>) {
        *self.roots.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = roots;
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The capabilities declared in `initialize`: `roots` when roots are configured
    /// (with `listChanged` when they will change), `elicitation` and `sampling` only
    /// when configured.
    pub fn capabilities(&self) -> ClientCapabilities {
        let mut caps = ClientCapabilities::default();
        if !self.config.roots.is_empty() || self.config.roots_change.is_some() {
            let mut roots = RootsCapabilities::default();
            if self.config.roots_change.is_some() {
                roots.list_changed = Some(true);
            }
            caps.roots = Some(roots);
        }
        if let Some(e) = &self.config.elicitation {
            let mut cap = ElicitationCapability::default();
            if !e.declare_empty {
                cap.form = e.form.then(FormElicitationCapability::default);
                cap.url = e.url.then(UrlElicitationCapability::default);
            }
            caps.elicitation = Some(cap);
        }
        if let Some(sampling) = &self.config.sampling {
            let mut cap = serde_json::Map::new();
            if sampling.tools {
                cap.insert("tools".to_owned(), json!({}));
            }
            if sampling.context {
                cap.insert("context".to_owned(), json!({}));
            }
            caps.sampling = serde_json::from_value(Value::Object(cap)).ok();
        }
        caps
    }

    /// Refuse a server→client request: one WARNING (server, method, id), the params
    /// at DEBUG, and the JSON-RPC error to answer with.
    pub fn refuse(&self, method: &str, id: &RequestId, params: Option<&Value>, why: Refusal) -> ErrorData {
        let server = self.config.server.as_str();
        let method_l = loggable(method);
        let id_s = id.to_string();
        let id_l = loggable(&id_s);
        let (code, reason) = match why {
            Refusal::CapabilityNotDeclared(cap) => {
                (ErrorCode::METHOD_NOT_FOUND, format!("the {cap} capability was not declared"))
            }
            Refusal::UnknownMethod => (ErrorCode::METHOD_NOT_FOUND, "unknown method".to_owned()),
            Refusal::InvalidParams => (ErrorCode::INVALID_PARAMS, "malformed params".to_owned()),
            Refusal::ModeNotDeclared(mode) => {
                (ErrorCode::INVALID_PARAMS, format!("elicitation mode `{mode}` was not declared"))
            }
            Refusal::ToolsNotDeclared => {
                (ErrorCode::INVALID_PARAMS, "tools were offered but sampling.tools was not declared".to_owned())
            }
        };
        tracing::warn!(server = %loggable(server), method = %method_l, id = %id_l, "refused server-to-client request {method_l} from {}: {reason}", loggable(server));
        if tracing::enabled!(tracing::Level::DEBUG) {
            let params = params.map_or_else(|| "null".to_owned(), Value::to_string);
            tracing::debug!(server = %loggable(server), method = %method_l, id = %id_l, params = %params, "params of refused request");
        }
        let mut message = match why {
            Refusal::InvalidParams => format!("{} could not read the params of {method_l}", self.config.client_name),
            Refusal::ModeNotDeclared(_) | Refusal::ToolsNotDeclared => {
                format!("{} does not support {method_l} here: {reason}", self.config.client_name)
            }
            _ => format!("{} does not support {method_l}: {reason}", self.config.client_name),
        };
        let mut data = json!({ "method": method, "reason": reason });
        if let Some(url) = &self.config.docs_url {
            message.push_str(&format!(" (see {url})"));
            data["docs"] = Value::String(url.clone());
        }
        ErrorData::new(code, message, Some(data))
    }

    fn refuse_typed<P: Serialize>(&self, method: &str, id: &RequestId, params: &P, why: Refusal) -> ErrorData {
        let params = if tracing::enabled!(tracing::Level::DEBUG) { serde_json::to_value(params).ok() } else { None };
        self.refuse(method, id, params.as_ref(), why)
    }

    fn roots_result(&self) -> ListRootsResult {
        let current = self.roots.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let roots = current
            .iter()
            .map(|r| {
                let root = rmcp::model::Root::new(r.uri.clone());
                match &r.name {
                    Some(name) => root.with_name(name.clone()),
                    None => root,
                }
            })
            .collect();
        ListRootsResult::new(roots)
    }
}

fn protocol_version(v: &str) -> ProtocolVersion {
    // rmcp's ProtocolVersion only deserializes; any string is accepted.
    serde_json::from_value(Value::String(v.to_owned())).unwrap_or(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// Make a peer-controlled string safe for one log line: control characters
/// escaped (no forged lines), at most 128 characters.
pub fn loggable(s: &str) -> Cow<'_, str> {
    const MAX: usize = 128;
    if s.len() <= MAX && !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().take(MAX).flat_map(char::escape_default).collect();
    if s.chars().count() > MAX {
        out.push('…');
    }
    Cow::Owned(out)
}

/// The policy itself; the `ClientHandler` methods below record what they answer.
impl InterceptingClient {
    /// Write a request and its answer to the record, when one is kept.
    fn recorded<T: Serialize>(
        &self,
        method: &str,
        id: &RequestId,
        params: Option<Value>,
        answer: Result<T, ErrorData>,
    ) -> Result<T, ErrorData> {
        if let Some(record) = &self.config.record {
            let json = match &answer {
                Ok(result) => Ok(serde_json::to_value(result).unwrap_or(Value::Null)),
                Err(error) => Err(serde_json::to_value(error).unwrap_or(Value::Null)),
            };
            record.request(method, &id.to_string(), params, json);
        }
        answer
    }

    /// The params as JSON, when a record is kept.
    fn for_record<P: Serialize>(&self, params: &P) -> Option<Value> {
        self.config.record.as_ref().and_then(|_| serde_json::to_value(params).ok())
    }

    async fn sampling(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let method = "sampling/createMessage";
        let Some(support) = &self.config.sampling else {
            return Err(self.refuse_typed(method, &context.id, &params, Refusal::CapabilityNotDeclared("sampling")));
        };
        let json = serde_json::to_value(&params).unwrap_or(Value::Null);
        if json.get("tools").is_some() && !support.tools {
            return Err(self.refuse(method, &context.id, Some(&json), Refusal::ToolsNotDeclared));
        }
        let result = crate::answer::sampling_result(support, &json);
        tracing::info!(server = %loggable(self.config.server.as_str()), stop = %result["stopReason"], "answered sampling/createMessage");
        serde_json::from_value(result).map_err(|e| {
            ErrorData::new(
                ErrorCode::INTERNAL_ERROR,
                format!("{} could not build its sampling result: {e}", self.config.client_name),
                None,
            )
        })
    }

    async fn elicitation(
        &self,
        params: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let Some(support) = &self.config.elicitation else {
            return Err(self.refuse_typed(
                "elicitation/create",
                &context.id,
                &params,
                Refusal::CapabilityNotDeclared("elicitation"),
            ));
        };
        // Elicitation exists from 2025-06-18 on: in an older session it is an unknown method.
        let negotiated = context.peer.peer_info().and_then(|i| Revision::from_wire(&i.protocol_version.to_string()));
        if negotiated.is_some_and(|r| !r.has_elicitation()) {
            return Err(self.refuse_typed("elicitation/create", &context.id, &params, Refusal::UnknownMethod));
        }
        let (mode, supported) = match &params {
            ElicitRequestParams::UrlElicitationParams { .. } => ("url", support.url && !support.declare_empty),
            _ => ("form", support.form || support.declare_empty),
        };
        if !supported {
            return Err(self.refuse_typed("elicitation/create", &context.id, &params, Refusal::ModeNotDeclared(mode)));
        }
        // The user takes a moment, then says no. A cancellation in the meantime means
        // no answer at all (rmcp drops the response of a cancelled request).
        tokio::select! {
            () = tokio::time::sleep(support.answer_delay) => {}
            () = context.ct.cancelled() => {
                tracing::info!(server = %loggable(self.config.server.as_str()), id = %loggable(&context.id.to_string()), "elicitation/create cancelled by the server");
                return Err(ErrorData::new(ErrorCode::INTERNAL_ERROR, "cancelled", None));
            }
        }
        let server = loggable(self.config.server.as_str());
        Ok(match support.action {
            crate::config::ElicitationAction::Decline => {
                tracing::info!(server = %server, mode, "declined elicitation/create");
                ElicitResult::new(ElicitationAction::Decline)
            }
            crate::config::ElicitationAction::Cancel => {
                tracing::info!(server = %server, mode, "cancelled elicitation/create");
                ElicitResult::new(ElicitationAction::Cancel)
            }
            crate::config::ElicitationAction::Accept => {
                tracing::info!(server = %server, mode, "accepted elicitation/create");
                let mut result = ElicitResult::new(ElicitationAction::Accept);
                if mode == "form" {
                    let json = serde_json::to_value(&params).unwrap_or(Value::Null);
                    let requested = json.get("requestedSchema").cloned().unwrap_or(Value::Null);
                    result.content = Some(Value::Object(crate::answer::form_content(&requested)));
                }
                result
            }
        })
    }

    async fn roots(&self, context: RequestContext<RoleClient>) -> Result<ListRootsResult, ErrorData> {
        if self.config.roots.is_empty() && self.config.roots_change.is_none() {
            return Err(self.refuse("roots/list", &context.id, None, Refusal::CapabilityNotDeclared("roots")));
        }
        tracing::debug!(server = %loggable(self.config.server.as_str()), count = self.config.roots.len(), "answered roots/list");
        Ok(self.roots_result())
    }

    /// Unknown methods, and known methods whose params rmcp could not read (those
    /// arrive here as custom requests).
    async fn custom(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleClient>,
    ) -> Result<CustomResult, ErrorData> {
        let CustomRequest { method, params, .. } = request;
        let why = match capability_for(&method) {
            Some("roots") if !self.config.roots.is_empty() || self.config.roots_change.is_some() => {
                Refusal::InvalidParams
            }
            Some("elicitation") if self.config.elicitation.is_some() => Refusal::InvalidParams,
            Some(cap) => Refusal::CapabilityNotDeclared(cap),
            None if method == "ping" => Refusal::InvalidParams,
            None => Refusal::UnknownMethod,
        };
        Err(self.refuse(&method, &context.id, params.as_ref(), why))
    }
}

impl ClientHandler for InterceptingClient {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            self.capabilities(),
            Implementation::new(self.config.client_name.clone(), env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(protocol_version(&self.config.protocol_version))
    }

    async fn ping(&self, context: RequestContext<RoleClient>) -> Result<(), ErrorData> {
        if let Some(record) = &self.config.record {
            record.request("ping", &context.id.to_string(), None, Ok(json!({})));
        }
        Ok(())
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let (id, json) = (context.id.clone(), self.for_record(&params));
        let answer = self.sampling(params, context).await;
        self.recorded("sampling/createMessage", &id, json, answer)
    }

    async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let (id, json) = (context.id.clone(), self.for_record(&params));
        let answer = self.elicitation(params, context).await;
        self.recorded("elicitation/create", &id, json, answer)
    }

    async fn list_roots(&self, context: RequestContext<RoleClient>) -> Result<ListRootsResult, ErrorData> {
        let id = context.id.clone();
        let answer = self.roots(context).await;
        self.recorded("roots/list", &id, None, answer)
    }

    /// Unknown methods, and known methods whose params rmcp could not read.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleClient>,
    ) -> Result<CustomResult, ErrorData> {
        let (id, method, json) = (context.id.clone(), request.method.clone(), request.params.clone());
        let answer = self.custom(request, context).await;
        self.recorded(&method, &id, json, answer)
    }
}

#[cfg(test)]
mod tests;
