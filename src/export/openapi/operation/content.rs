//! Request bodies and responses of an operation: per media type, a schema
//! inferred from every JSON sample and the first sample as the example.
//! Event streams (SSE, NDJSON) are documented as text with the raw events
//! as the example, and the reassembled assistant text in the description.

use serde_json::{Map, Value, json};

use super::media_of;
use crate::exchange::{self, Exchange, Headers};
use crate::export::Options;
use crate::export::openapi::schema::Shape;
use crate::export::view::{self, BodyView};

/// The bodies of one media type, folded together.
struct Media {
    name: String,
    shape: Shape,
    samples: usize,
    json_samples: usize,
    json_example: Option<Value>,
    text_example: Option<String>,
}

impl Media {
    fn new(name: String) -> Media {
        Media {
            name,
            shape: Shape::default(),
            samples: 0,
            json_samples: 0,
            json_example: None,
            text_example: None,
        }
    }

    fn add(&mut self, body: &BodyView) {
        self.samples += 1;
        let streamed = exchange::is_event_stream(Some(&self.name));
        if let Some(doc) = body.json().filter(|_| !streamed) {
            self.shape.add(&doc);
            self.json_samples += 1;
            self.json_example.get_or_insert(doc);
        }
        if self.text_example.is_none() {
            self.text_example = body.text.clone();
        }
    }

    fn to_value(&self) -> Value {
        if self.json_samples > 0 && self.json_samples == self.samples {
            return json!({ "schema": self.shape.to_schema(), "example": self.json_example });
        }
        match &self.text_example {
            Some(text) => json!({ "schema": { "type": "string" }, "example": text }),
            None => json!({ "schema": { "type": "string", "format": "binary" } }),
        }
    }
}

/// The bodies of one media type each, in order of first appearance.
#[derive(Default)]
struct Content(Vec<Media>);

impl Content {
    /// Fold a body in, unless it is empty.
    fn add(&mut self, headers: &Headers, body: &BodyView) {
        if body.is_empty() {
            return;
        }
        let name = media_of(headers, body);
        let index = match self.0.iter().position(|m| m.name == name) {
            Some(i) => i,
            None => {
                self.0.push(Media::new(name));
                self.0.len() - 1
            }
        };
        self.0[index].add(body);
    }

    /// `media type → { schema, example }`.
    fn to_map(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|m| (m.name.clone(), m.to_value()))
            .collect()
    }
}

/// One status code's responses, folded.
struct Status {
    code: u16,
    content: Content,
    /// From the first streamed response: the description's addition.
    streamed: Option<String>,
}

/// Everything an operation shows of its samples' bodies, folded one
/// exchange at a time, so the bodies need not be kept.
pub(in crate::export::openapi) struct Bodies {
    request: Content,
    /// Every sample so far had a request body.
    request_required: bool,
    statuses: Vec<Status>,
}

impl Default for Bodies {
    fn default() -> Self {
        Bodies {
            request: Content::default(),
            request_required: true,
            statuses: Vec::new(),
        }
    }
}

impl Bodies {
    pub(in crate::export::openapi) fn add(&mut self, ex: &Exchange, options: &Options) {
        let r = &ex.request;
        self.request
            .add(&r.headers, &BodyView::of(&r.headers, &r.body));
        self.request_required &= !r.body.is_empty();
        let Some(resp) = &ex.response else { return };
        let index = match self.statuses.iter().position(|s| s.code == resp.status) {
            Some(i) => i,
            None => {
                self.statuses.push(Status {
                    code: resp.status,
                    content: Content::default(),
                    streamed: None,
                });
                self.statuses.len() - 1
            }
        };
        let status = &mut self.statuses[index];
        if status.streamed.is_none() && view::is_streamed(ex) {
            status.streamed = Some(streamed_note(ex, options));
        }
        status
            .content
            .add(&resp.headers, &BodyView::of(&resp.headers, &resp.body));
    }

    /// The `requestBody` object, when any sample had a body.
    pub(super) fn request_body(&self) -> Option<Value> {
        let content = self.request.to_map();
        if content.is_empty() {
            return None;
        }
        Some(json!({ "required": self.request_required, "content": content }))
    }

    /// The `responses` object: one entry per status code seen.
    pub(super) fn responses(&self) -> Value {
        let mut out = Map::new();
        for status in &self.statuses {
            out.insert(status.code.to_string(), response(status));
        }
        if out.is_empty() {
            // OpenAPI needs at least one response; say why there is none.
            out.insert(
                "default".into(),
                json!({ "description": "No response was captured (the exchanges failed or are in flight)." }),
            );
        }
        Value::Object(out)
    }
}

fn streamed_note(ex: &Exchange, options: &Options) -> String {
    let mut note = String::from(". Streamed: the example holds the raw events");
    if let Some(text) = options.assistant_text_of(ex) {
        note.push_str(&format!(
            ".\n\nReassembled assistant text of exchange #{}:\n\n{text}",
            ex.id
        ));
    }
    note
}

fn response(status: &Status) -> Value {
    let mut description = match view::status_text(status.code) {
        "" => format!("Status {}", status.code),
        text => text.to_string(),
    };
    if let Some(note) = &status.streamed {
        description.push_str(note);
    }
    let content = status.content.to_map();
    let mut out = json!({ "description": description });
    if !content.is_empty() {
        out["content"] = Value::Object(content);
    }
    out
}
