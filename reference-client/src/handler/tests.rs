//! In-process tests of the handler: a raw JSON peer (not rmcp) plays the server
//! over an in-memory pipe, and a capture layer records every tracing event.
//!
//! Why a capture layer and not only `tracing-test`: tracing-test misses events
//! from spawned tasks and other threads, so an *absence* assertion ("no params at
//! WARNING") can pass when it should fail. The capture layer is installed as the
//! thread default around a current-thread runtime, so rmcp's spawned handler tasks
//! run on this thread and are seen; [`leaky_handler_is_caught`] proves the
//! assertion fails on a handler that does leak.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use rmcp::ServiceExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tracing_subscriber::layer::SubscriberExt;

use super::*;
use crate::config::{RootEntry, ServerLabel};

const CANARY: &str = "bc-canary-0123456789abcdef";

#[derive(Debug, Clone)]
struct Captured {
    level: tracing::Level,
    target: String,
    text: String,
}

#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: tracing_subscriber::layer::Context<'_, S>) {
        struct Visitor<'a>(&'a mut String);
        impl tracing::field::Visit for Visitor<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                let _ = write!(self.0, " {}={:?}", field.name(), value);
            }
        }
        let mut text = String::new();
        event.record(&mut Visitor(&mut text));
        let meta = event.metadata();
        self.0.lock().unwrap().push(Captured { level: *meta.level(), target: meta.target().to_owned(), text });
    }
}

/// Events at WARNING or above that contain `needle`.
fn leaks_at_warning<'a>(events: &'a [Captured], needle: &str) -> Vec<&'a Captured> {
    events.iter().filter(|e| e.level <= tracing::Level::WARN && e.text.contains(needle)).collect()
}

/// Our own WARNING events.
fn our_warnings(events: &[Captured]) -> Vec<&Captured> {
    events
        .iter()
        .filter(|e| e.level == tracing::Level::WARN && e.target.starts_with("backchannel_reference_client"))
        .collect()
}

struct Outcome {
    initialize: Value,
    answers: Vec<Value>,
    events: Vec<Captured>,
}

/// Run one session: the raw peer answers `initialize`, sends `requests`, reads
/// one answer per request, then closes the pipe.
fn session<H: rmcp::ClientHandler>(handler: H, requests: &[Value]) -> Outcome {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let (initialize, answers) = tracing::subscriber::with_default(subscriber, || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (client_io, server_io) = tokio::io::duplex(1 << 22);
            let task = tokio::spawn(async move {
                let running = handler.serve(tokio::io::split(client_io)).await.expect("handshake");
                running.waiting().await.expect("session task")
            });
            let (server_r, mut server_w) = tokio::io::split(server_io);
            let mut lines = BufReader::new(server_r).lines();
            let mut next = async || -> Value {
                let line =
                    tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await.expect("answer in time");
                serde_json::from_str(&line.unwrap().expect("a line")).unwrap()
            };
            let initialize = next().await;
            let reply = json!({"jsonrpc":"2.0","id":initialize["id"],"result":{
                "protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"raw-peer","version":"0"}}});
            server_w.write_all(format!("{reply}\n").as_bytes()).await.unwrap();
            assert_eq!(next().await["method"], "notifications/initialized");
            for r in requests {
                server_w.write_all(format!("{r}\n").as_bytes()).await.unwrap();
            }
            let mut answers = Vec::new();
            for _ in requests {
                answers.push(next().await);
            }
            // Closing our write side is EOF for the client, which then ends the session.
            server_w.shutdown().await.unwrap();
            tokio::time::timeout(Duration::from_secs(5), task).await.expect("client ends on EOF").unwrap();
            (initialize, answers)
        })
    });
    let events = capture.0.lock().unwrap().clone();
    Outcome { initialize, answers, events }
}

fn client(roots: &[&str]) -> InterceptingClient {
    let mut config = Config::new(ServerLabel::stdio("/opt/mock-server"));
    config.roots = roots.iter().map(|u| RootEntry { uri: (*u).to_owned(), name: None }).collect();
    InterceptingClient::new(config)
}

fn request(id: Value, method: &str, params: Value) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params})
}

fn sampling_params(text: &str) -> Value {
    json!({"messages":[{"role":"user","content":{"type":"text","text":text}}],"maxTokens":16,
           "systemPrompt": format!("system {text}"), "metadata": {"k": text}})
}

#[test]
fn declares_nothing_without_roots_and_roots_with_them() {
    let bare = session(client(&[]), &[]);
    assert_eq!(bare.initialize["params"]["capabilities"], json!({}));
    assert_eq!(bare.initialize["params"]["protocolVersion"], "2025-11-25");
    assert_eq!(bare.initialize["params"]["clientInfo"]["name"], "backchannel-reference-client");
    let rooted = session(client(&["file:///tmp/a"]), &[]);
    assert_eq!(rooted.initialize["params"]["capabilities"], json!({"roots": {}}));
}

#[test]
fn answers_each_method_per_policy() {
    let requests = [
        request(json!(1), "ping", json!({})),
        request(json!("s"), "sampling/createMessage", sampling_params(CANARY)),
        request(
            json!(3),
            "elicitation/create",
            json!({"message": CANARY, "requestedSchema": {"type":"object","properties":{}}}),
        ),
        request(json!(4), "roots/list", json!({})),
        request(json!(5), "no/such/method", json!({"x": CANARY})),
        // Malformed params on a known method arrive as a custom request in rmcp.
        request(json!(6), "sampling/createMessage", json!({"messages": CANARY})),
    ];
    let out = session(client(&[]), &requests);
    let by_id = |id: Value| out.answers.iter().find(|a| a["id"] == id).cloned().expect("answered");
    assert_eq!(by_id(json!(1))["result"], json!({}));
    for id in [json!("s"), json!(3), json!(4), json!(5), json!(6)] {
        let a = by_id(id.clone());
        assert_eq!(a["error"]["code"], -32601, "{a}");
        let msg = a["error"]["message"].as_str().unwrap();
        assert!(msg.contains("backchannel-reference-client"), "{msg}");
        assert!(!a.to_string().contains(CANARY), "the answer repeats params: {a}");
    }
    assert!(by_id(json!("s"))["error"]["message"].as_str().unwrap().contains("sampling/createMessage"));
    assert!(leaks_at_warning(&out.events, CANARY).is_empty());
    let warnings = our_warnings(&out.events);
    assert_eq!(warnings.len(), 5, "{warnings:#?}");
    for w in warnings {
        assert!(w.text.contains("stdio:/opt/mock-server"), "{w:?}");
    }
    // The params are at DEBUG.
    assert!(out.events.iter().any(|e| e.level == tracing::Level::DEBUG && e.text.contains(CANARY)));
}

#[test]
fn roots_are_listed_when_configured() {
    let mut c = client(&["file:///work/a", "file:///work/b"]).config().clone();
    c.roots[1].name = Some("Bee".into());
    let out = session(InterceptingClient::new(c), &[request(json!(9), "roots/list", json!({}))]);
    assert_eq!(
        out.answers[0]["result"]["roots"],
        json!([{"uri":"file:///work/a"},{"uri":"file:///work/b","name":"Bee"}])
    );
}

/// A handler that logs the params at WARNING: the negative control for the
/// absence assertions above.
struct Leaky(InterceptingClient);

impl rmcp::ClientHandler for Leaky {
    fn get_info(&self) -> ClientConfig {
        self.0.get_info()
    }
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        // In a spawned task, on purpose: the path tracing-test would miss.
        let text = serde_json::to_string(&params).unwrap();
        tokio::spawn(async move { tracing::warn!(params = %text, "leaking") }).await.unwrap();
        self.0.create_message(params, context).await
    }
}

#[test]
fn leaky_handler_is_caught() {
    let out = session(Leaky(client(&[])), &[request(json!(1), "sampling/createMessage", sampling_params(CANARY))]);
    assert_eq!(out.answers[0]["error"]["code"], -32601);
    assert!(!leaks_at_warning(&out.events, CANARY).is_empty(), "the capture layer missed a leak");
}

#[tracing_test::traced_test]
#[test]
fn refusal_warning_names_server_and_method() {
    let c = client(&[]);
    let err = c.refuse(
        "elicitation/create",
        &RequestId::Number(7),
        Some(&json!({"m": CANARY})),
        Refusal::CapabilityNotDeclared("elicitation"),
    );
    assert_eq!(err.code, ErrorCode::METHOD_NOT_FOUND);
    assert!(logs_contain("refused server-to-client request elicitation/create from stdio:/opt/mock-server"));
}

#[test]
fn docs_link_and_hostile_methods() {
    let mut config = Config::new(ServerLabel::stdio("srv"));
    config.docs_url = Some("https://example.org/no-sampling".into());
    let c = InterceptingClient::new(config);
    let err =
        c.refuse("sampling/createMessage", &RequestId::Number(1), None, Refusal::CapabilityNotDeclared("sampling"));
    assert!(err.message.contains("(see https://example.org/no-sampling)"));
    assert_eq!(err.data.unwrap()["docs"], "https://example.org/no-sampling");
    assert_eq!(loggable("a\nWARN forged"), "a\\nWARN forged");
    assert_eq!(loggable(&"x".repeat(300)).chars().count(), 129);
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z ]{0,6}", "[a-z]{0,3}".prop_map(|s| format!("{s}{CANARY}")), Just(CANARY.to_owned())]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        arb_text().prop_map(Value::String)
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Params for a capability-gated method: well-shaped (the typed path) or arbitrary
/// (the custom-request path), always with the canary somewhere.
fn arb_params() -> impl Strategy<Value = (&'static str, Value)> {
    let shaped = arb_text().prop_map(|t| ("sampling/createMessage", sampling_params(&t)));
    let form = (arb_text(), arb_text()).prop_map(|(m, d)| {
        ("elicitation/create", json!({"message": m, "requestedSchema": {"type":"object","properties":{"a":{"type":"string","description": d}}}}))
    });
    let any_shape = (prop_oneof![Just("sampling/createMessage"), Just("elicitation/create")], arb_json())
        .prop_map(|(m, v)| (m, json!({"payload": v})));
    prop_oneof![shaped, form, any_shape].prop_map(|(m, mut p)| {
        p["canary"] = json!(CANARY);
        (m, p)
    })
}

fn arb_id() -> impl Strategy<Value = Value> {
    prop_oneof![(0i64..i64::MAX).prop_map(|n| json!(n)), "[ -~]{0,24}".prop_map(Value::String)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// For arbitrary params with the canary in them: the answer is -32601 with the
    /// same id, exactly one WARNING is ours, and no WARNING holds the canary.
    #[test]
    fn refusals_are_audible_and_discreet((method, params) in arb_params(), id in arb_id()) {
        let out = session(client(&[]), &[request(id.clone(), method, params)]);
        let answer = &out.answers[0];
        prop_assert_eq!(&answer["id"], &id);
        prop_assert_eq!(&answer["error"]["code"], &json!(-32601));
        prop_assert!(leaks_at_warning(&out.events, CANARY).is_empty());
        prop_assert_eq!(our_warnings(&out.events).len(), 1);
        prop_assert!(out.initialize["params"]["capabilities"].get("sampling").is_none());
        prop_assert!(out.initialize["params"]["capabilities"].get("elicitation").is_none());
    }

    /// Arbitrary string and integer ids are echoed exactly on `ping`.
    #[test]
    fn ids_are_echoed(id in arb_id()) {
        let out = session(client(&[]), &[request(id.clone(), "ping", json!({}))]);
        prop_assert_eq!(&out.answers[0]["id"], &id);
        prop_assert_eq!(&out.answers[0]["result"], &json!({}));
    }

    /// Whatever the roots, sampling and elicitation are never declared.
    #[test]
    fn never_declares_sampling_or_elicitation(roots in prop::collection::vec("file:///[a-z]{1,8}", 0..3)) {
        let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
        let caps = serde_json::to_value(client(&roots).capabilities()).unwrap();
        prop_assert!(caps.get("sampling").is_none() && caps.get("elicitation").is_none());
        prop_assert_eq!(caps.get("roots").is_some(), !roots.is_empty());
    }
}
