//! Every provider's rendering, whole and streamed, read back by llmspy's
//! own parsers: the text, tool calls and usage survive the round trip.

use serde_json::{Value, json};

use super::Shape;
use crate::exchange::{Body, Exchange, Request, Via};
use crate::llm::{self, Kind};
use crate::mock::action;
use crate::mock::completion::{Completion, LlmResponse, ToolUse};
use crate::respond::MockResponse;

fn completion() -> Completion {
    Completion {
        text: "The answer is forty two, as computed.".into(),
        tool_calls: vec![ToolUse {
            id: "call_1".into(),
            name: "lookup".into(),
            arguments: json!({"q": "life"}),
        }],
        stop_reason: None,
        input_tokens: 21,
        output_tokens: 9,
        event_delay_ms: 0,
    }
}

fn request(kind: Kind, stream: bool) -> Request {
    let (path, body): (&str, Value) = match kind {
        Kind::Anthropic => (
            "/v1/messages",
            json!({"model": "claude-x", "max_tokens": 10,
            "stream": stream, "messages": [{"role": "user", "content": "hi"}]}),
        ),
        Kind::OpenAiResponses => (
            "/v1/responses",
            json!({"model": "gpt-x", "stream": stream,
            "input": "hi"}),
        ),
        Kind::Gemini if stream => (
            "/v1beta/models/gemini-x:streamGenerateContent?alt=sse",
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
        ),
        Kind::Gemini => (
            "/v1beta/models/gemini-x:generateContent",
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
        ),
        Kind::Converse if stream => (
            "/model/amazon.nova-pro-v1%3A0/converse-stream",
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}),
        ),
        Kind::Converse => (
            "/model/amazon.nova-pro-v1%3A0/converse",
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}),
        ),
        Kind::Ollama => (
            "/api/chat",
            json!({"model": "llama-x", "stream": stream,
            "messages": [{"role": "user", "content": "hi"}]}),
        ),
        _ => (
            "/v1/chat/completions",
            json!({"model": "gpt-x", "stream": stream,
            "messages": [{"role": "user", "content": "hi"}]}),
        ),
    };
    Request {
        method: "POST".into(),
        scheme: "https".into(),
        host: "api.example.com".into(),
        port: 443,
        path: path.into(),
        version: "HTTP/1.1".into(),
        headers: crate::exchange::Headers::from([("content-type", "application/json")]),
        body: Body::from_bytes(body.to_string()),
    }
}

/// `req` answered by the rendered mock, as llmspy would have captured it.
fn answered(req: Request, mock: &MockResponse) -> Exchange {
    let bytes: Vec<u8> = mock.chunks.iter().flat_map(|c| c.data.to_vec()).collect();
    Exchange::builder()
        .id(0)
        .via(Via::Other)
        .request(req)
        .status(mock.status)
        .response_headers(&mock.headers)
        .response_body(bytes)
        .build()
}

fn replayed(kind: Kind, stream: bool) -> Exchange {
    let req = request(kind, stream);
    let llm = LlmResponse {
        provider: Some(kind),
        model: None,
        completion: completion(),
    };
    let shape = Shape {
        kind,
        stream,
        gemini_sse: req.path.contains("alt=sse"),
        ollama_generate: false,
        bedrock: req.path.starts_with("/model/"),
    };
    let mock = action::play_llm("e", &llm, "model-x", shape);
    answered(req, &mock)
}

#[test]
fn every_provider_round_trips_whole_and_streamed() {
    let kinds = [
        Kind::Anthropic,
        Kind::OpenAiChat,
        Kind::OpenAiResponses,
        Kind::Gemini,
        Kind::Ollama,
        Kind::Converse,
    ];
    for kind in kinds {
        for stream in [false, true] {
            let ex = replayed(kind, stream);
            let a = llm::analyse(&ex).unwrap_or_else(|| panic!("{kind:?} {stream}: not analysed"));
            assert_eq!(a.kind, kind, "{kind:?} {stream}");
            let reply = a
                .reply
                .as_ref()
                .unwrap_or_else(|| panic!("{kind:?} {stream}: no reply {:?}", a.notes));
            assert_eq!(reply.text(), completion().text, "{kind:?} {stream}");
            let calls: Vec<_> = reply.tool_calls().collect();
            assert_eq!(calls.len(), 1, "{kind:?} {stream}");
            assert_eq!(calls[0].name, "lookup");
            assert_eq!(
                calls[0].arguments,
                json!({"q": "life"}),
                "{kind:?} {stream}"
            );
            let usage = a
                .usage
                .unwrap_or_else(|| panic!("{kind:?} {stream}: no usage"));
            assert_eq!(
                (usage.input_tokens, usage.output_tokens),
                (21, 9),
                "{kind:?} {stream}"
            );
            assert_eq!(a.stream, stream, "{kind:?}");
        }
    }
}

#[test]
fn text_streams_in_several_pieces() {
    let p = super::pieces("one two three four five six seven eight nine");
    assert!(p.len() >= 2, "{p:?}");
    assert_eq!(p.concat(), "one two three four five six seven eight nine");
}

#[test]
fn bedrock_invoke_streams_anthropic_events_in_event_stream_frames() {
    let mut req = request(Kind::Anthropic, true);
    req.path =
        "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke-with-response-stream".into();
    req.body = Body::from_bytes(
        json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}]})
        .to_string(),
    );
    let llm = LlmResponse {
        provider: None,
        model: None,
        completion: completion(),
    };
    let shape = Shape {
        kind: Kind::Anthropic,
        stream: true,
        gemini_sse: false,
        ollama_generate: false,
        bedrock: true,
    };
    let mock = action::play_llm("e", &llm, "claude-haiku-4-5", shape);
    assert!(
        mock.chunks
            .iter()
            .all(|c| crate::eventstream::decode(&c.data).0.len() == 1),
        "one message per chunk"
    );
    let ex = answered(req, &mock);
    let a = llm::analyse(&ex).expect("analysed");
    assert_eq!(a.provider, "bedrock");
    assert!(a.stream && a.notes.is_empty(), "{:?}", a.notes);
    assert_eq!(a.reply.expect("reply").text(), completion().text);
}
