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

/// `media type → { schema, example }` for the non-empty bodies given.
fn content<'a>(bodies: impl Iterator<Item = (&'a Headers, BodyView)>) -> Map<String, Value> {
    let mut media: Vec<Media> = Vec::new();
    for (headers, body) in bodies {
        if body.is_empty() {
            continue;
        }
        let name = media_of(headers, &body);
        let index = match media.iter().position(|m| m.name == name) {
            Some(i) => i,
            None => {
                media.push(Media::new(name));
                media.len() - 1
            }
        };
        media[index].add(&body);
    }
    media
        .iter()
        .map(|m| (m.name.clone(), m.to_value()))
        .collect()
}

/// The `requestBody` object, when any sample had a body.
pub(super) fn request_body(samples: &[&Exchange]) -> Option<Value> {
    let bodies = samples.iter().map(|ex| {
        let r = &ex.request;
        (&r.headers, BodyView::of(&r.headers, &r.body))
    });
    let content = content(bodies);
    if content.is_empty() {
        return None;
    }
    let required = samples.iter().all(|ex| !ex.request.body.is_empty());
    Some(json!({ "required": required, "content": content }))
}

/// The `responses` object: one entry per status code seen.
pub(super) fn responses(samples: &[&Exchange], options: &Options) -> Value {
    let mut statuses: Vec<u16> = Vec::new();
    for ex in samples {
        if let Some(r) = ex
            .response
            .as_ref()
            .filter(|r| !statuses.contains(&r.status))
        {
            statuses.push(r.status);
        }
    }
    let mut out = Map::new();
    for status in statuses {
        let with: Vec<&Exchange> = samples
            .iter()
            .copied()
            .filter(|ex| ex.response.as_ref().is_some_and(|r| r.status == status))
            .collect();
        out.insert(status.to_string(), response(status, &with, options));
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

fn response(status: u16, samples: &[&Exchange], options: &Options) -> Value {
    let mut description = match view::status_text(status) {
        "" => format!("Status {status}"),
        text => text.to_string(),
    };
    if let Some(streamed) = samples.iter().find(|ex| view::is_streamed(ex)) {
        description.push_str(". Streamed: the example holds the raw events");
        if let Some(text) = options.assistant_text_of(streamed) {
            description.push_str(&format!(
                ".\n\nReassembled assistant text of exchange #{}:\n\n{text}",
                streamed.id
            ));
        }
    }
    let bodies = samples.iter().filter_map(|ex| {
        ex.response
            .as_ref()
            .map(|r| (&r.headers, BodyView::of(&r.headers, &r.body)))
    });
    let content = content(bodies);
    let mut out = json!({ "description": description });
    if !content.is_empty() {
        out["content"] = Value::Object(content);
    }
    out
}
