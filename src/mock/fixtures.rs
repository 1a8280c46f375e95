//! Captured traffic → a fixture file of expectations that replays it
//! offline: secrets redacted, LLM calls matched on model, stream flag and
//! conversation (ids ignored), SSE replayed event by event, NDJSON line by
//! line, repeated identical requests answered in recorded order.
//!
//! Builds on `export::expectations` (the MockServer shapes) and `redact`.
//! The file is `{"llmspy": {"fixture": 1, "redacted": […], "warnings": […]},
//! "expectations": […]}`, which `--init` and the loaders read back.

use serde_json::{Map, Value, json};

use super::facts::RequestFacts;
use super::matcher::{StringMatcher, path_only};
use crate::exchange::{self, Exchange, Source};
use crate::export::expectations::{
    self as recorded, DEFAULT_EVENT_DELAY_MS, TRUNCATED_WARNING_HEADER,
};
use crate::redact;

/// Which exchanges to record, and how to pace the replay.
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    /// Only requests whose path matches (exact or regex).
    pub path: Option<String>,
    /// Only requests to this host (exact or regex).
    pub host: Option<String>,
    /// Replay events with their recorded gaps instead of 50 ms apart.
    pub keep_timing: bool,
}

/// A fixture ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub doc: Value,
    /// How many expectations it holds.
    pub count: usize,
    /// `request header x-api-key`, … — also listed in the file.
    pub redacted: Vec<String>,
    /// What could not be kept as recorded (truncated streams…).
    pub warnings: Vec<String>,
}

/// Record `exchanges` (finished, upstream-answered HTTP ones that pass the
/// filters) as a fixture.
pub fn record(exchanges: &[Exchange], opts: &RecordOptions) -> Fixture {
    let path = opts.path.as_deref().map(StringMatcher::new);
    let host = opts.host.as_deref().map(StringMatcher::new);
    let mut warnings = Vec::new();
    let picked: Vec<Exchange> = exchanges
        .iter()
        .filter(|e| e.state.is_finished() && e.response.is_some())
        .filter(|e| matches!(e.source, Source::Upstream))
        // Traffic `llmspy mcp-stdio` reported never crossed HTTP: nothing
        // an HTTP expectation could replay.
        .filter(|e| matches!(e.request.scheme.as_ref(), "http" | "https"))
        .filter(|e| {
            path.as_ref()
                .is_none_or(|m| m.matches(path_only(&e.request.path)))
        })
        .filter(|e| host.as_ref().is_none_or(|m| m.matches(&e.request.host)))
        // A failed exchange holds llmspy's own error answer, or a cut one:
        // replayed, it would pass for what the upstream said.
        .filter(|e| match e.state.failure() {
            Some(f) => {
                warnings.push(format!(
                    "exchange {} ({} {}): not recorded: it failed ({}: {})",
                    e.id,
                    e.request.method,
                    path_only(&e.request.path),
                    f.kind.label(),
                    f.message
                ));
                false
            }
            None => true,
        })
        .cloned()
        .collect();
    let (clean, redactions) = redact::redact_all(&picked);
    let mut list: Vec<Value> = clean
        .iter()
        .filter_map(|ex| fixture_expectation(ex, opts, &mut warnings))
        .collect();
    sequence_repeats(&mut list);
    let labels = redact::labels(&redactions);
    Fixture {
        count: list.len(),
        doc: json!({
            "llmspy": {"fixture": 1, "redacted": labels, "warnings": warnings},
            "expectations": list,
        }),
        redacted: labels,
        warnings,
    }
}

fn fixture_expectation(
    ex: &Exchange,
    opts: &RecordOptions,
    warnings: &mut Vec<String>,
) -> Option<Value> {
    let mut exp = recorded::expectation(ex)?;
    // The host name alone: a port-less `:authority` must still match.
    exp["httpRequest"]["headers"] = json!({"Host": [ex.request.host]});
    if let Some(body) = llm_body(ex) {
        exp["httpRequest"]["body"] = body;
    }
    if let Some(events) = exp
        .get_mut("httpSseResponse")
        .and_then(|r| r.get_mut("events"))
        .and_then(Value::as_array_mut)
        .filter(|_| !opts.keep_timing)
    {
        pace(events);
    }
    if let Some(resp) = exp.get_mut("httpResponse") {
        mark_static(ex, resp, warnings);
    }
    Some(exp)
}

/// LLM calls match on what the conversation says, not on the exact JSON
/// (SDKs add ids, metadata and fields that change run to run).
fn llm_body(ex: &Exchange) -> Option<Value> {
    let facts = RequestFacts::new(&ex.request);
    let llm = facts.llm()?;
    Some(json!({
        "type": "LLM",
        "model": llm.model,
        "stream": llm.stream,
        "conversation": llm.conversation,
    }))
}

/// Events 50 ms apart, the first at once.
fn pace(events: &mut [Value]) {
    for (i, e) in events.iter_mut().enumerate() {
        let ms = if i == 0 { 0 } else { DEFAULT_EVENT_DELAY_MS };
        e["delay"] = json!({"timeUnit": "MILLISECONDS", "value": ms});
    }
}

/// NDJSON streams replay line by line and Bedrock event streams message
/// by message; a body cut at the capture cap is
/// replayed whole with a warning header, and the recorder says so.
fn mark_static(ex: &Exchange, resp: &mut Value, warnings: &mut Vec<String>) {
    let truncated = resp
        .get("headers")
        .and_then(|h| h.get(TRUNCATED_WARNING_HEADER))
        .is_some();
    let content_type = ex
        .response
        .as_ref()
        .and_then(|r| exchange::header(&r.headers, "content-type"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if truncated {
        warnings.push(format!(
            "exchange {} ({} {}): the stream was cut at the capture cap; it replays as one static response with an {TRUNCATED_WARNING_HEADER} header",
            ex.id, ex.request.method, ex.url()
        ));
    } else if content_type.contains("ndjson") || content_type.contains("jsonl") {
        resp["lineDelay"] = json!({"timeUnit": "MILLISECONDS", "value": DEFAULT_EVENT_DELAY_MS});
    } else if content_type.contains("amazon.eventstream") {
        // Bedrock's binary stream: replayed message by message.
        resp["frameDelay"] = json!({"timeUnit": "MILLISECONDS", "value": DEFAULT_EVENT_DELAY_MS});
    }
}

/// Identical requests answered differently replay in recorded order: each
/// but the last answers once; the last keeps answering.
fn sequence_repeats(list: &mut [Value]) {
    let keys: Vec<String> = list.iter().map(|e| e["httpRequest"].to_string()).collect();
    for i in 0..list.len() {
        if keys[i + 1..].contains(&keys[i])
            && let Some(obj) = list[i].as_object_mut()
        {
            obj.insert("times".into(), json!({"remainingTimes": 1}));
        }
    }
}

/// The fixture's own notes (`redacted`, `warnings`), if `doc` is one.
pub fn notes(doc: &Value) -> Option<&Map<String, Value>> {
    doc.get("llmspy").and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{Failure, FailureKind, State};

    fn call(id: u64, state: State) -> Exchange {
        Exchange::builder()
            .id(id)
            .method("POST")
            .url("https://api.anthropic.com/v1/messages")
            .body(&br#"{"model":"m"}"#[..])
            .status(if matches!(state, State::Failed(_)) {
                502
            } else {
                200
            })
            .state(state)
            .build()
    }

    /// llmspy's own 502 (or a cut answer) must not replay as the
    /// upstream's: a failed exchange is left out, and said so.
    #[test]
    fn failed_exchanges_are_left_out_with_a_warning() {
        let failed = State::Failed(Failure::new(
            FailureKind::UpstreamConnect,
            "cannot connect to api.anthropic.com:443",
        ));
        let fixture = record(
            &[call(1, State::Complete), call(2, failed)],
            &RecordOptions::default(),
        );
        assert_eq!(fixture.count, 1);
        assert_eq!(fixture.warnings.len(), 1, "{:?}", fixture.warnings);
        let warning = &fixture.warnings[0];
        assert!(
            warning.starts_with("exchange 2 (POST /v1/messages): not recorded: it failed")
                && warning.contains("cannot connect"),
            "{warning}"
        );
    }
}
