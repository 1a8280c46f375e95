//! The control API end to end: real traffic through llmspy to a real TLS
//! upstream, then retrieve, clear and events on llmspy's own port.

mod events;
mod retrieve;
mod verify;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use llmspy::capture::StoreEvent;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::support::client::reqwest;
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

/// The API key the first LLM turn sends; must never appear in an export.
pub const SECRET: &str = "sk-test-secret-42";

/// The expectation the API lists as active.
pub fn expectation() -> Value {
    json!({
        "id": "exp-1",
        "httpRequest": {
            "method": "POST",
            "path": "/v1/chat/completions",
            "headers": {"Host": ["api.example.test"]},
            "body": {"type": "JSON", "json": {"model": "gpt-x"}}
        },
        "httpResponse": {"statusCode": 200, "body": {"type": "JSON", "json": {"ok": true}}}
    })
}

pub struct Setup {
    pub up: Upstream,
    pub proxy: TestProxy,
    /// Through the proxy, trusting its CA.
    pub client: ::reqwest::Client,
    /// Straight to llmspy's API.
    pub api: ::reqwest::Client,
    pub expectations: Arc<RwLock<Vec<Value>>>,
}

/// Ids of the exchanges [`send_traffic`] made.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub get: u64,
    pub turn1: u64,
    pub turn2: u64,
}

pub async fn setup() -> Setup {
    let up = Upstream::start().await;
    let expectations = Arc::new(RwLock::new(vec![expectation()]));
    let source: Arc<dyn llmspy::api::ActiveExpectations> = expectations.clone();
    let proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        expectations: Some(source),
        ..Options::default()
    })
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let api = ::reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    Setup {
        up,
        proxy,
        client,
        api,
        expectations,
    }
}

/// A JSON body that is both an Anthropic request and, echoed back by the
/// upstream's `/echo`, an Anthropic reply: an LLM exchange with no fake
/// provider needed.
pub fn llm_turn(messages: Value, reply: &str) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": messages,
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": reply}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 11, "output_tokens": 7}
    })
}

/// A plain GET, then two turns of one conversation; waits until all three
/// are finished and analysed.
pub async fn send_traffic(s: &mut Setup) -> Ids {
    let get = s
        .client
        .get(s.up.https("/plain"))
        .send()
        .await
        .expect("GET");
    assert_eq!(get.text().await.expect("body"), "ok");
    let first = json!([{"role": "user", "content": "hello there"}]);
    post_turn(s, llm_turn(first, "Hi!"), Some(SECRET)).await;
    let second = json!([
        {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": "and more"}
    ]);
    post_turn(s, llm_turn(second, "More."), None).await;
    finished_events(&mut s.proxy, 3).await;
    let ids: Vec<u64> = s.proxy.store.read().ids().collect();
    assert_eq!(ids.len(), 3, "three exchanges captured: {ids:?}");
    Ids {
        get: ids[0],
        turn1: ids[1],
        turn2: ids[2],
    }
}

async fn post_turn(s: &Setup, body: Value, key: Option<&str>) {
    let mut req = s.client.post(s.up.https("/echo")).json(&body);
    if let Some(key) = key {
        req = req.header("x-api-key", key);
    }
    let resp = req.send().await.expect("POST");
    assert_eq!(resp.status(), 200);
    let _ = resp.bytes().await.expect("body");
}

/// Wait for `n` `Finished` events: they are sent after the capture task
/// analysed the exchange, so summaries and threads are in place.
pub async fn finished_events(proxy: &mut TestProxy, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut seen = 0;
    while seen < n {
        match tokio::time::timeout_at(deadline, proxy.events.recv()).await {
            Ok(Ok(StoreEvent::Finished(_))) => seen += 1,
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Lagged(k))) => panic!("lagged {k} events"),
            Ok(Err(e)) => panic!("event channel: {e}"),
            Err(_) => panic!("timed out waiting for {n} finished exchanges; saw {seen}"),
        }
    }
}

/// An API answer: status, content type, `x-llmspy-count`, body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub count: Option<usize>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `PUT /llmspy/{route}?{query}` with `body`.
pub async fn put(s: &Setup, route: &str, query: &str, body: &str) -> Answer {
    let url = format!("{}/llmspy/{route}?{query}", s.proxy.url());
    let resp = s
        .api
        .put(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("API answers");
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type").unwrap_or_default();
    let count = header("x-llmspy-count").and_then(|v| v.parse().ok());
    let body = resp.bytes().await.expect("body").to_vec();
    Answer {
        status,
        content_type,
        count,
        body,
    }
}

/// The exchanges of a REQUEST_RESPONSES answer, by id.
pub fn ids_of(answer: &Answer) -> Vec<u64> {
    answer
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["id"].as_u64().expect("id"))
        .collect()
}
