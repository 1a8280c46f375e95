//! The human note attached to each request in collection formats (Postman
//! descriptions, Bruno docs): which exchange it was, how it ended, and the
//! reassembled assistant text of a streamed answer, so a reader sees what
//! the model said without decoding events by hand.

use chrono::SecondsFormat;

use super::Options;
use super::view;
use crate::exchange::Exchange;

/// A short Markdown note about `ex`.
pub fn note(ex: &Exchange, options: &Options) -> String {
    let mut lines = vec![format!(
        "Captured by llmspy: exchange #{}, {}, started {}.",
        ex.id,
        ex.state.label(),
        ex.started_at.to_rfc3339_opts(SecondsFormat::Millis, true)
    )];
    if let Some(f) = ex.state.failure() {
        lines.push(format!("Failed ({}): {}", f.kind.label(), f.message));
    }
    if let crate::exchange::Source::Mock { expectation_id } = &ex.source {
        lines.push(format!("Answered by mock expectation {expectation_id}."));
    }
    if let Some(us) = ex.timings.resent_us {
        lines.push(format!(
            "Sent twice: the server closed a kept connection as the request went out, and it went again on another one {:.1} ms in.",
            us as f64 / 1000.0
        ));
    }
    if ex.request.body.truncated || ex.response.as_ref().is_some_and(|r| r.body.truncated) {
        lines.push("A body was cut at llmspy's capture cap.".to_string());
    }
    let request_body = view::BodyView::of(&ex.request.headers, &ex.request.body);
    if request_body.text.is_none() && !request_body.is_empty() {
        lines.push(format!(
            "The request body ({} bytes) is binary and not included.",
            request_body.bytes.len()
        ));
    }
    if view::is_streamed(ex) {
        lines.push(format!(
            "Streamed response: {} chunks; the saved body holds the raw events.",
            ex.chunks.len()
        ));
    }
    if let Some(text) = options.assistant_text_of(ex) {
        lines.push(String::new());
        lines.push("Assistant text:".to_string());
        lines.push(String::new());
        lines.extend(text.lines().map(|l| format!("> {l}")));
    }
    lines.join("\n")
}
