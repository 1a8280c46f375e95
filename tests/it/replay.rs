//! Record → fixture → replay: traffic captured through llmspy becomes a
//! fixture with no secrets in it, and a fresh llmspy holding only that
//! fixture, with no upstream to reach, answers the same requests the same
//! way — event by event, in recorded order, turn by turn.

use std::sync::Arc;

use llmspy::capture::CaptureMsg;
use llmspy::exchange::{Exchange, Via};
use llmspy::mock::fixtures::{self, RecordOptions};
use llmspy::mock::{Expectations, loader};
use serde_json::{Value, json};

use crate::mock::proxy_with;
use crate::support::client::reqwest;
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

const SECRETS: [&str; 5] = [
    "sk-ant-secret-1",
    "Bearer-tok-2",
    "goog-key-3",
    "cookie-val-4",
    "pw-field-5",
];

async fn send_all(client: &reqwest::Client, up: &Upstream) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    let requests = [
        client.get(up.https("/sse?n=4&size=20")),
        client.get(up.https("/ndjson")),
        client
            .post(up.https(&format!("/echo?key={}", SECRETS[2])))
            .header("x-api-key", SECRETS[0])
            .header("authorization", format!("Bearer {}", SECRETS[1]))
            .header("cookie", format!("session={}", SECRETS[3]))
            .header("content-type", "application/json")
            .body(json!({"password": SECRETS[4], "q": 1}).to_string()),
        // A query with a space written both ways, an `&` and a non-ASCII
        // letter: the fixture holds the values decoded, and the replay
        // must match them against the query as sent.
        client.get(up.https("/hello?q=llm+spy&name=Jos%C3%A9+%26+co&sp=a%20b")),
    ];
    for r in requests {
        let resp = r.send().await.expect("send");
        out.push((resp.status().as_u16(), resp.text().await.expect("text")));
    }
    out
}

#[tokio::test]
async fn recorded_traffic_replays_without_the_upstream_and_without_secrets() {
    let up = Upstream::start().await;
    let mut recording = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&recording.url(), &recording.ca_file);
    let original = send_all(&client, &up).await;
    let captured = recording.finished(4).await;
    let fixture = fixtures::record(&captured, &RecordOptions::default());
    let text = serde_json::to_string_pretty(&fixture.doc).expect("json");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} leaked into the fixture");
    }
    assert!(
        fixture.redacted.iter().any(|r| r.contains("x-api-key")),
        "{:?}",
        fixture.redacted
    );
    assert_eq!(fixture.doc["llmspy"]["redacted"], json!(fixture.redacted));
    let sse = fixture.doc["expectations"][0]["httpSseResponse"]["events"]
        .as_array()
        .expect("sse events");
    assert_eq!(sse.len(), 4);
    assert_eq!(
        sse[1]["delay"]["value"], 50,
        "replayed 50 ms apart by default"
    );
    assert!(
        fixture.doc["expectations"][1]["httpResponse"]["lineDelay"].is_object(),
        "NDJSON line by line"
    );

    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("fixture.json");
    std::fs::write(&file, &text).expect("write");
    let mock = Expectations::new();
    mock.set_strict(true);
    mock.upsert(loader::load(&file).expect("fixture loads"));
    let seen_before = up.seen().len();
    // Only llmspy's own CA: the fresh proxy trusts no upstream at all.
    let mut replay = TestProxy::with(Options {
        responder: Some(Arc::new(mock)),
        ..Options::default()
    })
    .await;
    let replay_client = reqwest(&replay.url(), &replay.ca_file);
    let again = send_all(&replay_client, &up).await;
    assert_eq!(
        again[..2],
        original[..2],
        "the replay answers as the upstream did"
    );
    // The echo carried a secret back; the fixture holds it masked.
    assert_eq!(again[2].0, 200, "{:?}", again[2]);
    assert_eq!(
        again[2].1,
        original[2].1.replace(SECRETS[4], "***REDACTED***")
    );
    assert_eq!(again[3], original[3], "a decoded query matches as sent");
    assert_eq!(up.seen().len(), seen_before, "nothing reached the upstream");
    let replayed = replay.finished(4).await;
    assert!(
        replayed[0].chunks.len() >= 4,
        "SSE replayed event by event: {:?}",
        replayed[0].chunks
    );
    assert!(
        replayed[1].chunks.len() >= 3,
        "NDJSON replayed line by line"
    );
}

/// An Anthropic exchange as if recorded from the upstream.
fn recorded(id: u64, messages: Value, reply: &str, tool: bool) -> Exchange {
    let body = json!({"model": "claude-r", "max_tokens": 50, "stream": true, "messages": messages,
        "metadata": {"user_id": format!("volatile-{id}")}});
    let mut completion = json!({"text": reply, "usage": {"inputTokens": 10, "outputTokens": 4}});
    if tool {
        completion["toolCalls"] =
            json!([{"id": "toolu_1", "name": "weather", "arguments": {"city": "Oslo"}}]);
    }
    let llm =
        llmspy::mock::completion::LlmResponse::from_json(&json!({"completion": completion}), "$")
            .expect("llm");
    let shape = llmspy::mock::render::Shape {
        kind: llmspy::llm::Kind::Anthropic,
        stream: true,
        gemini_sse: false,
        ollama_generate: false,
        bedrock: false,
    };
    let mock = llmspy::mock::action::play_llm("x", &llm, "claude-r", shape);
    let bytes: Vec<u8> = mock.chunks.iter().flat_map(|c| c.data.to_vec()).collect();
    Exchange::builder()
        .id(id)
        .via(Via::Other)
        .url("https://127.0.0.1:9/v1/messages")
        .headers([
            ("host", "127.0.0.1:9"),
            ("content-type", "application/json"),
        ])
        .body(body.to_string())
        .response_headers(&mock.headers)
        .response_body(bytes)
        .build()
}

#[tokio::test]
async fn an_agent_conversation_replays_turn_by_turn_and_repeats_in_order() {
    let turn1 = json!([{"role": "user", "content": "Weather in Oslo?"}]);
    let turn2 = json!([{"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]}]);
    let source = TestProxy::with(Options::default()).await;
    for ex in [
        recorded(1, turn1.clone(), "Let me check.", true),
        recorded(2, turn1.clone(), "Checking again.", true),
        recorded(3, turn2.clone(), "It is sunny in Oslo.", false),
    ] {
        source.recorder.send(CaptureMsg::Insert(Box::new(ex)));
    }
    let mut source = source;
    let captured = source.finished(3).await;
    let fixture = fixtures::record(&captured, &RecordOptions::default());
    let mock = Expectations::new();
    mock.set_strict(true);
    mock.upsert_json(&fixture.doc).expect("fixture");
    let mut replay = proxy_with(&mock, None).await;
    let client = reqwest(&replay.url(), &replay.ca_file);
    let ask = |messages: &Value| {
        // Different volatile metadata than when recorded.
        json!({"model": "claude-r", "max_tokens": 50, "stream": true, "messages": messages,
            "metadata": {"user_id": "another-run"}})
    };
    for messages in [&turn1, &turn1, &turn1, &turn2] {
        let resp = client
            .post("https://127.0.0.1:9/v1/messages")
            .json(&ask(messages))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200);
        resp.bytes().await.expect("body");
    }
    let done = replay.finished(4).await;
    let texts: Vec<String> = done
        .iter()
        .map(|ex| {
            llmspy::llm::analyse(ex)
                .and_then(|a| a.reply)
                .map(|r| r.text())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "Let me check.",
            "Checking again.",
            "Checking again.",
            "It is sunny in Oslo."
        ]
    );
}

/// An agent whose conversation quotes its own key (a tool result showing
/// a `.env`): the fixture holds the prompt with the key masked, and the
/// same request sent again still replays: a masked span matches the text
/// that was there, not only a whole masked value.
#[tokio::test]
async fn a_prompt_that_quoted_the_key_still_replays() {
    const KEY: &str = "sk-ant-api03-quoted-0123456789";
    let up = Upstream::start().await;
    let send = |client: reqwest::Client, url: String| async move {
        let resp = client
            .post(url)
            .header("x-api-key", KEY)
            .json(
                &json!({"model": "claude-q", "max_tokens": 5, "stream": true,
                "system": format!("deploy with {KEY} only"),
                "messages": [{"role": "user", "content": format!("why is {KEY} refused?")}]}),
            )
            .send()
            .await
            .expect("send");
        (resp.status().as_u16(), resp.text().await.expect("text"))
    };
    let url = up.https("/v1/messages?deltas=3&output=5");
    let mut recording = TestProxy::start(&up.ca_file).await;
    let original = send(reqwest(&recording.url(), &recording.ca_file), url.clone()).await;
    assert_eq!(original.0, 200);
    let captured = recording.finished(1).await;
    let fixture = fixtures::record(&captured, &RecordOptions::default());
    let text = serde_json::to_string(&fixture.doc).expect("json");
    assert!(
        !text.contains(KEY),
        "the key leaked into the fixture: {text}"
    );
    assert!(text.contains("why is ***REDACTED*** refused?"), "{text}");

    let mock = Expectations::new();
    mock.set_strict(true);
    mock.upsert_json(&fixture.doc).expect("the fixture loads");
    let mut replay = TestProxy::with(Options {
        responder: Some(Arc::new(mock)),
        ..Options::default()
    })
    .await;
    let again = send(reqwest(&replay.url(), &replay.ca_file), url).await;
    assert_eq!(
        again, original,
        "the same request replays the recorded answer"
    );
    replay.finished(1).await;
}
