//! The text a stream of events spells out, for body filters: a phrase of
//! a streamed reply arrives split across deltas (`"said: hel"`, `"lo"`),
//! and non-ASCII letters JSON-escaped (`\u6771`), so the raw bytes of an
//! SSE or NDJSON body never hold it. Provider-agnostic: every event's
//! JSON string fields that carry generated text, in order, joined.

use serde_json::Value;

use crate::content;
use crate::exchange::{Headers, header, is_event_stream};

/// Fields whose string values are text a model generated (or a tool
/// call's arguments): Anthropic's `text`/`thinking`/`partial_json`,
/// OpenAI's `content`/`arguments` and the Responses API's `delta`,
/// Gemini's `text`, Ollama's `content`/`response`.
const TEXT_FIELDS: [&str; 8] = [
    "text",
    "thinking",
    "partial_json",
    "content",
    "arguments",
    "delta",
    "response",
    "refusal",
];

/// The text of an SSE or NDJSON body (`None` for other bodies, or one
/// without a JSON event).
pub(super) fn stream_text(headers: &Headers, body: &[u8]) -> Option<String> {
    let kind = header(headers, "content-type").filter(|k| is_event_stream(Some(k)))?;
    let decoded = content::decode(header(headers, "content-encoding"), body);
    let sse = kind
        .get(..17)
        .is_some_and(|k| k.eq_ignore_ascii_case("text/event-stream"));
    let events: Vec<String> = if sse {
        crate::sse::parse_sse(&decoded.bytes)
            .into_iter()
            .map(|e| e.data)
            .collect()
    } else {
        crate::sse::parse_ndjson(&decoded.bytes)
            .into_iter()
            .map(|l| l.text)
            .collect()
    };
    let mut out = String::new();
    let mut any = false;
    for event in events {
        if let Ok(doc) = serde_json::from_str::<Value>(&event) {
            any = true;
            collect(&doc, None, &mut out);
        }
    }
    any.then_some(out)
}

/// Append the text fields' strings under `v`, depth first.
fn collect(v: &Value, key: Option<&str>, out: &mut String) {
    match v {
        Value::String(s) if key.is_some_and(|k| TEXT_FIELDS.contains(&k)) => out.push_str(s),
        Value::Object(map) => {
            for (k, v) in map {
                collect(v, Some(k), out);
            }
        }
        // Elements of a list keep the list's name (`parts`, `choices`
        // hold objects; a `content` list of strings is text).
        Value::Array(items) => {
            for item in items {
                collect(item, key, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(events: &[&str]) -> Vec<u8> {
        events
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn deltas_are_joined_and_escapes_decoded() {
        let headers = Headers::from([("content-type", "text/event-stream")]);
        let body = sse(&[
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"said: hel"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo world \u6771\u4eac"}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#,
        ]);
        let text = stream_text(&headers, &body).unwrap();
        assert!(text.contains("said: hello world 東京"), "{text}");
    }

    #[test]
    fn openai_gemini_and_ollama_shapes() {
        let headers = Headers::from([("content-type", "text/event-stream")]);
        let openai = sse(&[
            r#"{"choices":[{"delta":{"role":"assistant","content":"caf"}}]}"#,
            r#"{"choices":[{"delta":{"content":"é au lait"}}]}"#,
            "[DONE]",
        ]);
        assert_eq!(stream_text(&headers, &openai).unwrap(), "café au lait");
        let gemini = sse(&[
            r#"{"candidates":[{"content":{"parts":[{"text":"in Par"}],"role":"model"}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"is"}]}}]}"#,
        ]);
        assert_eq!(stream_text(&headers, &gemini).unwrap(), "in Paris");
        let nd = Headers::from([("content-type", "application/x-ndjson")]);
        let ollama = b"{\"message\":{\"role\":\"assistant\",\"content\":\"sun\"}}\n{\"message\":{\"content\":\"ny\"},\"done\":true}\n";
        assert_eq!(stream_text(&nd, ollama).unwrap(), "sunny");
        let plain = Headers::from([("content-type", "application/json")]);
        assert_eq!(stream_text(&plain, b"{\"text\":\"x\"}"), None);
    }
}
