//! `GET /llmspy/events`: finished exchanges arrive as server-sent events.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{llm_turn, setup};

#[tokio::test]
async fn events_deliver_each_finished_exchange_the_filter_selects() {
    let s = setup().await;
    let url = format!("{}/llmspy/events?filter=~m+POST", s.proxy.url());
    // The response head arrives once llmspy has subscribed: from then on
    // every finished exchange is in the stream.
    let resp = tokio::time::timeout(Duration::from_secs(10), s.api.get(url).send())
        .await
        .expect("events answers in time")
        .expect("events");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut stream = resp.bytes_stream();

    // Filtered out: a GET. Then a POST the filter selects.
    let get = s
        .client
        .get(s.up.https("/plain"))
        .send()
        .await
        .expect("GET");
    let _ = get.bytes().await.expect("body");
    let turn = llm_turn(json!([{"role": "user", "content": "stream me"}]), "ok");
    let post = s
        .client
        .post(s.up.https("/echo"))
        .json(&turn)
        .send()
        .await
        .expect("POST");
    let _ = post.bytes().await.expect("body");

    let mut text = String::new();
    let event = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(event) = first_exchange_event(&text) {
                return event;
            }
            let chunk = stream.next().await.expect("stream open").expect("chunk");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no exchange event; got {text:?}"));
    assert!(text.starts_with(": llmspy events"), "{text}");
    assert_eq!(
        event["request"]["method"], "POST",
        "the GET was filtered out"
    );
    assert!(event["url"].as_str().expect("url").ends_with("/echo"));
    assert_eq!(event["state"], "complete");
    assert_eq!(event["llm"]["model"], "claude-sonnet-4-5", "{event:#}");
    assert_eq!(event["llm"]["usage"]["output_tokens"], 7);
}

/// The data of the first complete `event: exchange` in an SSE text.
fn first_exchange_event(text: &str) -> Option<Value> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l == "event: exchange"))
        .find_map(|block| {
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            serde_json::from_str(data).ok()
        })
}
