//! A [`Completion`] in each provider's wire format, whole or streamed.
//!
//! Pure: each renderer turns the neutral completion into the JSON body or
//! the event list the provider's own SDKs parse. The shapes follow the
//! providers' published API references; ids are deterministic so a
//! replay is reproducible.

mod anthropic;
mod bedrock;
mod gemini;
mod ollama;
mod openai_chat;
mod openai_responses;

use serde_json::Value;

use super::completion::Completion;
use crate::llm::Kind;

/// What a renderer produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Wire {
    /// One JSON document (`application/json`).
    Json(Value),
    /// Server-sent events (`text/event-stream`).
    Sse(Vec<SseOut>),
    /// Newline-delimited JSON (`application/x-ndjson`), one line per chunk.
    Ndjson(Vec<Value>),
    /// Gemini's streamed JSON array without `alt=sse`: one element per chunk.
    JsonArray(Vec<Value>),
    /// AWS event-stream messages (`application/vnd.amazon.eventstream`),
    /// Bedrock's binary streaming framing.
    EventStream(Vec<Vec<u8>>),
}

/// One server-sent event to write.
#[derive(Debug, Clone, PartialEq)]
pub struct SseOut {
    pub event: Option<String>,
    pub data: String,
}

impl SseOut {
    pub fn named(event: &str, data: &Value) -> Self {
        SseOut {
            event: Some(event.to_string()),
            data: data.to_string(),
        }
    }
    pub fn data(data: &Value) -> Self {
        SseOut {
            event: None,
            data: data.to_string(),
        }
    }
}

/// How the request wants the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub kind: Kind,
    pub stream: bool,
    /// Gemini streams as SSE only with `alt=sse`; otherwise as a JSON array.
    pub gemini_sse: bool,
    /// Ollama's `/api/generate` answers in `response`, not `message`.
    pub ollama_generate: bool,
    /// A Bedrock runtime path: streams are event-stream messages.
    pub bedrock: bool,
}

/// Render `c` as `shape.kind` speaks it.
pub fn render(c: &Completion, model: &str, shape: Shape) -> Wire {
    match (shape.kind, shape.stream) {
        (Kind::Anthropic, false) => Wire::Json(anthropic::whole(c, model)),
        (Kind::Anthropic, true) if shape.bedrock => {
            Wire::EventStream(bedrock::chunk_frames(&anthropic::events(c, model)))
        }
        (Kind::Anthropic, true) => Wire::Sse(anthropic::events(c, model)),
        (Kind::Converse, false) => Wire::Json(bedrock::whole(c)),
        (Kind::Converse, true) => Wire::EventStream(bedrock::converse_frames(c)),
        (Kind::OpenAiResponses, false) => Wire::Json(openai_responses::whole(c, model)),
        (Kind::OpenAiResponses, true) => Wire::Sse(openai_responses::events(c, model)),
        (Kind::Gemini, false) => Wire::Json(gemini::whole(c, model)),
        (Kind::Gemini, true) if shape.gemini_sse => {
            Wire::Sse(gemini::chunks(c, model).iter().map(SseOut::data).collect())
        }
        (Kind::Gemini, true) => Wire::JsonArray(gemini::chunks(c, model)),
        (Kind::Ollama, false) => Wire::Json(ollama::whole(c, model, shape.ollama_generate)),
        (Kind::Ollama, true) => Wire::Ndjson(ollama::lines(c, model, shape.ollama_generate)),
        (_, false) => Wire::Json(openai_chat::whole(c, model)),
        (_, true) => Wire::Sse(openai_chat::events(c, model)),
    }
}

/// Split text into a few streamed pieces at word boundaries, so a client
/// sees more than one delta (as from a real model) without hundreds.
pub(crate) fn pieces(text: &str) -> Vec<String> {
    const WORDS_PER_PIECE: usize = 4;
    let mut out = Vec::new();
    let mut current = String::new();
    let mut words = 0;
    for (i, ch) in text.char_indices() {
        current.push(ch);
        let next_is_word = text[i + ch.len_utf8()..]
            .chars()
            .next()
            .is_some_and(|n| !n.is_whitespace());
        if ch.is_whitespace() && next_is_word {
            words += 1;
            if words == WORDS_PER_PIECE {
                out.push(std::mem::take(&mut current));
                words = 0;
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The stop reason, or the provider's usual one for what was produced.
pub(crate) fn stop_reason(c: &Completion, tool: &str, done: &str) -> String {
    match &c.stop_reason {
        Some(s) => s.clone(),
        None if !c.tool_calls.is_empty() => tool.to_string(),
        None => done.to_string(),
    }
}

#[cfg(test)]
mod tests;
