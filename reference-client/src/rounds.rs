//! 2026-07-28 requests that may be answered with input rounds (MRTR,
//! `basic/patterns/mrtr.mdx`): `tools/call`, `prompts/get`, `resources/read`.
//!
//! The client drives the rounds itself rather than through rmcp's
//! `RunningService::call_tool`: each ask goes to the handler (the same policy as a
//! legacy server→client request), the retry carries the answers and the exact
//! `requestState` under a new id (rmcp numbers every request afresh) — and when the
//! response stream of an attempt breaks before its result, the client re-issues
//! *that* attempt, inputs and state included, as a new request with a new id:
//! 2026-07-28 streams are not resumable, and "a broken response stream loses the
//! in-flight request; clients MUST re-issue it as a new request with a new request
//! ID" (2026-07-28 `changelog.mdx`, SEP-2575). rmcp reports such a loss as
//! `ServiceError::TransportClosed` while the session itself stays open.

use std::future::Future;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientResult, GetPromptRequestParams, GetPromptResponse, InputRequest,
    InputRequiredResult, InputResponses, ReadResourceRequestParams, ReadResourceResponse, RequestId, ServerRequest,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{RoleClient, ServiceError};

/// At most this many rounds per request (a server that keeps asking is not followed forever).
const MAX_ROUNDS: usize = 16;

/// At most this many re-issues of one request after broken streams.
const MAX_REISSUES: usize = 3;

/// One attempt's answer.
pub(crate) enum Attempt<T> {
    /// The final result.
    Complete(T),
    /// An input round.
    InputRequired(InputRequiredResult),
}

/// A request that input rounds may answer.
pub(crate) trait RoundRequest: Clone + Send + Sync + 'static {
    /// Its final result.
    type Done: Send;
    /// Carry a round's answers and state into the retry.
    fn set_round(&mut self, responses: Option<InputResponses>, state: Option<String>);
    /// Send it once.
    fn once(self, peer: Peer<RoleClient>) -> impl Future<Output = Result<Attempt<Self::Done>, ServiceError>> + Send;
}

impl RoundRequest for CallToolRequestParams {
    type Done = rmcp::model::CallToolResult;
    fn set_round(&mut self, responses: Option<InputResponses>, state: Option<String>) {
        self.input_responses = responses;
        self.request_state = state;
    }
    async fn once(self, peer: Peer<RoleClient>) -> Result<Attempt<Self::Done>, ServiceError> {
        match peer.call_tool_once(self).await? {
            CallToolResponse::Complete(r) => Ok(Attempt::Complete(r)),
            CallToolResponse::InputRequired(r) => Ok(Attempt::InputRequired(r)),
            // The tasks extension is not declared: a task is not an answer to us.
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
}

impl RoundRequest for GetPromptRequestParams {
    type Done = rmcp::model::GetPromptResult;
    fn set_round(&mut self, responses: Option<InputResponses>, state: Option<String>) {
        self.input_responses = responses;
        self.request_state = state;
    }
    async fn once(self, peer: Peer<RoleClient>) -> Result<Attempt<Self::Done>, ServiceError> {
        match peer.get_prompt_once(self).await? {
            GetPromptResponse::Complete(r) => Ok(Attempt::Complete(r)),
            GetPromptResponse::InputRequired(r) => Ok(Attempt::InputRequired(r)),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
}

impl RoundRequest for ReadResourceRequestParams {
    type Done = rmcp::model::ReadResourceResult;
    fn set_round(&mut self, responses: Option<InputResponses>, state: Option<String>) {
        self.input_responses = responses;
        self.request_state = state;
    }
    async fn once(self, peer: Peer<RoleClient>) -> Result<Attempt<Self::Done>, ServiceError> {
        match peer.read_resource_once(self).await? {
            ReadResourceResponse::Complete(r) => Ok(Attempt::Complete(r)),
            ReadResourceResponse::InputRequired(r) => Ok(Attempt::InputRequired(r)),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
}

/// Make `request`, fulfilling its input rounds through `handler` and re-issuing an
/// attempt whose response stream broke (only in a 2026-07-28 session: before it,
/// streams are resumable and the transport resumes them). A refused ask fails the
/// request with the handler's error (already logged at WARNING): a retry without
/// the requested inputs would not be one (`mrtr.mdx`: "the client MUST construct
/// the requested inputs before retrying").
pub(crate) async fn drive<S, R>(
    handler: &S,
    peer: &Peer<RoleClient>,
    server: &str,
    mut request: R,
    modern: bool,
) -> Result<R::Done, ServiceError>
where
    S: rmcp::Service<RoleClient>,
    R: RoundRequest,
{
    let mut reissues = 0;
    let mut rounds = 0;
    loop {
        match request.clone().once(peer.clone()).await {
            Ok(Attempt::Complete(done)) => return Ok(done),
            Ok(Attempt::InputRequired(round)) => {
                rounds += 1;
                if rounds > MAX_ROUNDS {
                    return Err(ServiceError::InputRequiredRoundsExceeded { max_rounds: MAX_ROUNDS });
                }
                let asked = round.input_requests.as_ref().is_some_and(|r| !r.is_empty());
                if !asked && round.request_state.is_none() {
                    return Err(ServiceError::UnexpectedResponse);
                }
                let responses = fulfil(handler, peer, round.input_requests.unwrap_or_default()).await?;
                request.set_round((!responses.is_empty()).then_some(responses), round.request_state);
            }
            Err(ServiceError::TransportClosed) if modern && !peer.is_transport_closed() && reissues < MAX_REISSUES => {
                reissues += 1;
                tracing::info!(
                    server = %server,
                    attempt = reissues,
                    "the response stream broke before the result; re-issuing the request with a new id (2026-07-28 streams are not resumable)"
                );
            }
            Err(e) => return Err(e),
        }
    }
}

/// Answer every ask of a round through the handler, as rmcp would for a
/// server→client request (the ask's key is the context's request id).
async fn fulfil<S: rmcp::Service<RoleClient>>(
    handler: &S,
    peer: &Peer<RoleClient>,
    asks: rmcp::model::InputRequests,
) -> Result<InputResponses, ServiceError> {
    let mut responses = InputResponses::new();
    for (key, ask) in asks {
        let request = match ask {
            InputRequest::CreateMessage(r) => ServerRequest::CreateMessageRequest(r),
            InputRequest::Elicitation(r) => ServerRequest::ElicitRequest(r),
            InputRequest::ListRoots(r) => ServerRequest::ListRootsRequest(r),
            // An ask a later rmcp knows and this client does not: the handler refuses
            // it as an unknown server→client method (one WARNING, no params).
            other => {
                let v = serde_json::to_value(&other).unwrap_or_default();
                let method = v.get("method").and_then(serde_json::Value::as_str).unwrap_or("(unknown)").to_owned();
                ServerRequest::CustomRequest(rmcp::model::CustomRequest::new(method, v.get("params").cloned()))
            }
        };
        let context = RequestContext::new(RequestId::String(key.clone().into()), peer.clone());
        let answer = match handler.handle_request(request, context).await.map_err(ServiceError::McpError)? {
            ClientResult::CreateMessageResult(r) => serde_json::to_value(r),
            ClientResult::ElicitResult(r) => serde_json::to_value(r),
            ClientResult::ListRootsResult(r) => serde_json::to_value(r),
            _ => return Err(ServiceError::UnexpectedResponse),
        };
        let answer = answer.map_err(|e| {
            ServiceError::McpError(rmcp::ErrorData::internal_error(
                format!("cannot encode an input response: {e}"),
                None,
            ))
        })?;
        responses.insert(key, answer);
    }
    Ok(responses)
}
