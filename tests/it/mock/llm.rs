//! `httpLlmResponse` through the proxy: each provider's SDK-facing wire
//! format, streamed and not, read back from the captured exchange by
//! llmspy's own parsers.

use llmspy::llm::{self, Kind};
use llmspy::mock::Expectations;
use serde_json::{Value, json};

use super::proxy_with;
use crate::support::client::reqwest;

fn call(kind: Kind, stream: bool) -> (&'static str, Value) {
    let messages = json!([{"role": "user", "content": "What is the answer?"}]);
    match kind {
        Kind::Anthropic => (
            "/v1/messages",
            json!({"model": "claude-t", "max_tokens": 9, "stream": stream, "messages": messages}),
        ),
        Kind::OpenAiResponses => (
            "/v1/responses",
            json!({"model": "gpt-t", "stream": stream, "input": "What is the answer?"}),
        ),
        Kind::Gemini if stream => (
            "/v1beta/models/gemini-t:streamGenerateContent?alt=sse",
            json!({"contents": [{"role": "user", "parts": [{"text": "What is the answer?"}]}]}),
        ),
        Kind::Gemini => (
            "/v1beta/models/gemini-t:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": "What is the answer?"}]}]}),
        ),
        Kind::Ollama => (
            "/api/chat",
            json!({"model": "llama-t", "stream": stream, "messages": messages}),
        ),
        _ => (
            "/v1/chat/completions",
            json!({"model": "gpt-t", "stream": stream, "messages": messages}),
        ),
    }
}

#[tokio::test]
async fn llm_responses_render_for_every_provider_streamed_and_not() {
    let mock = Expectations::new();
    mock.upsert_json(
        &json!({"id": "llm", "httpRequest": {"method": "POST"}, "httpLlmResponse": {
        "completion": {"text": "It is forty two, said the computer.",
            "toolCalls": [{"id": "call_9", "name": "verify", "arguments": "{\"n\":42}"}],
            "usage": {"inputTokens": 30, "outputTokens": 12}}}}),
    )
    .expect("expectation");
    let mut proxy = proxy_with(&mock, None).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let kinds = [
        Kind::Anthropic,
        Kind::OpenAiChat,
        Kind::OpenAiResponses,
        Kind::Gemini,
        Kind::Ollama,
    ];
    let mut n = 0;
    for kind in kinds {
        for stream in [false, true] {
            let (path, body) = call(kind, stream);
            let resp = client
                .post(format!("https://127.0.0.1:9{path}"))
                .json(&body)
                .send()
                .await
                .expect("send");
            assert_eq!(resp.status(), 200, "{kind:?} {stream}");
            resp.bytes().await.expect("body");
            n += 1;
            let ex = proxy.finished(n).await.pop().expect("exchange");
            let a = llm::analyse(&ex).unwrap_or_else(|| panic!("{kind:?} {stream}"));
            assert_eq!((a.kind, a.stream), (kind, stream));
            let reply = a.reply.expect("reply");
            assert_eq!(
                reply.text(),
                "It is forty two, said the computer.",
                "{kind:?} {stream}"
            );
            let calls: Vec<_> = reply
                .tool_calls()
                .map(|c| (c.name.clone(), c.arguments.clone()))
                .collect();
            assert_eq!(
                calls,
                [("verify".to_string(), json!({"n": 42}))],
                "{kind:?} {stream}"
            );
            let usage = a.usage.expect("usage");
            assert_eq!(
                (usage.input_tokens, usage.output_tokens),
                (30, 12),
                "{kind:?} {stream}"
            );
            if stream {
                assert!(ex.chunks.len() > 2, "{kind:?} streams in several chunks");
            }
        }
    }
}
