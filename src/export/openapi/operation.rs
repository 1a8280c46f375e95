//! One OpenAPI operation from the samples of a (path template, method):
//! parameters, request body, responses, security, a unique operationId.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::paths::Template;
use super::schema;
use crate::exchange::{self, Exchange};
use crate::export::view::{self, BodyView};
use crate::redact;

mod content;

pub(super) use content::Bodies;

/// Request headers worth documenting as parameters: the provider's API
/// version and feature flags, MCP's session headers. Generic headers
/// (user-agent, SDK telemetry) would drown them.
const HEADER_PREFIXES: [&str; 4] = ["anthropic-", "openai-", "mcp-", "x-goog-"];

/// What the whole document shares across operations.
#[derive(Default)]
pub(super) struct Registry {
    ids: HashSet<String>,
    schemes: Map<String, Value>,
}

impl Registry {
    /// `post` + `/v1beta/models/{model}:generateContent` →
    /// `postV1betaModelsModelGenerateContent`, numbered when taken.
    fn operation_id(&mut self, method: &str, path: &str) -> String {
        let mut id = method.to_string();
        for word in path.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                id.push(first.to_ascii_uppercase());
                id.push_str(chars.as_str());
            }
        }
        let mut candidate = id.clone();
        let mut n = 2;
        while self.ids.contains(&candidate) {
            candidate = format!("{id}{n}");
            n += 1;
        }
        self.ids.insert(candidate.clone());
        candidate
    }

    pub(super) fn security_schemes(&self) -> Option<Value> {
        (!self.schemes.is_empty()).then(|| Value::Object(self.schemes.clone()))
    }
}

/// The operation object for `samples` (all of one method at one template,
/// their bodies already folded into `bodies`: samples may have none left).
pub(super) fn build(
    template: &Template,
    method: &str,
    samples: &[&Exchange],
    bodies: &Bodies,
    registry: &mut Registry,
) -> Value {
    let mut op = Map::new();
    let mut tags: Vec<String> = samples.iter().map(|ex| view::authority(ex)).collect();
    tags.dedup();
    op.insert("tags".into(), json!(tags));
    op.insert(
        "summary".into(),
        json!(format!("{} {}", method.to_ascii_uppercase(), template.path)),
    );
    op.insert(
        "description".into(),
        json!(format!("Observed {} time(s).", samples.len())),
    );
    op.insert(
        "operationId".into(),
        json!(registry.operation_id(method, &template.path)),
    );
    let mut params = path_params(template);
    params.extend(query_params(samples));
    params.extend(header_params(samples));
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = bodies.request_body() {
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), bodies.responses());
    let security = security(samples, registry);
    if !security.is_empty() {
        op.insert("security".into(), Value::Array(security));
    }
    Value::Object(op)
}

fn path_params(template: &Template) -> Vec<Value> {
    template
        .params
        .iter()
        .map(|p| {
            let ty = if p.integer { "integer" } else { "string" };
            let example = match p.example.parse::<i64>() {
                Ok(n) if p.integer => json!(n),
                _ => json!(p.example),
            };
            json!({
                "name": p.name, "in": "path", "required": true,
                "schema": { "type": ty }, "example": example,
            })
        })
        .collect()
}

/// Query parameters seen in any sample; required when in every one.
/// Credentials in the query are described as security instead.
fn query_params(samples: &[&Exchange]) -> Vec<Value> {
    let queries: Vec<Vec<(String, String)>> =
        samples.iter().map(|ex| view::request_query(ex)).collect();
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in queries.iter().flatten() {
        if !names.contains(&name.as_str()) && !redact::is_secret_query(name) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let values: Vec<&str> = queries
                .iter()
                .flatten()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect();
            let required = queries.iter().all(|q| q.iter().any(|(n, _)| n == name));
            parameter(name, "query", required, &values)
        })
        .collect()
}

fn header_params(samples: &[&Exchange]) -> Vec<Value> {
    let mut names: Vec<String> = Vec::new();
    for ex in samples {
        for (name, _) in &ex.request.headers {
            let lower = name.to_ascii_lowercase();
            let wanted = HEADER_PREFIXES.iter().any(|p| lower.starts_with(p))
                && !redact::is_secret_header(&lower);
            if wanted && !names.contains(&lower) {
                names.push(lower);
            }
        }
    }
    names
        .iter()
        .map(|name| {
            let values: Vec<&str> = samples
                .iter()
                .filter_map(|ex| exchange::header(&ex.request.headers, name))
                .collect();
            let required = values.len() == samples.len();
            parameter(name, "header", required, &values)
        })
        .collect()
}

fn parameter(name: &str, location: &str, required: bool, values: &[&str]) -> Value {
    let schema = schema::scalar_schema(values.iter().copied());
    let example = match schema["type"].as_str() {
        Some("integer" | "number" | "boolean") => values
            .first()
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or(json!(values.first())),
        _ => json!(values.first()),
    };
    json!({
        "name": name, "in": location, "required": required,
        "schema": schema, "example": example,
    })
}

/// Security requirements (alternatives) for the credentials the samples
/// carried, registering each scheme in the document's components.
fn security(samples: &[&Exchange], registry: &mut Registry) -> Vec<Value> {
    let mut used: Vec<String> = Vec::new();
    for ex in samples {
        for (name, scheme) in schemes_of(ex) {
            registry.schemes.entry(name.clone()).or_insert(scheme);
            if !used.contains(&name) {
                used.push(name);
            }
        }
    }
    used.into_iter().map(|name| json!({ name: [] })).collect()
}

fn schemes_of(ex: &Exchange) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (name, value) in &ex.request.headers {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "authorization" => {
                let scheme = value.split(' ').next().unwrap_or("").to_ascii_lowercase();
                if scheme == "bearer" || scheme == "basic" {
                    out.push((
                        format!("{scheme}Auth"),
                        json!({ "type": "http", "scheme": scheme }),
                    ));
                }
            }
            "x-api-key" | "api-key" | "x-goog-api-key" => out.push((
                lower.clone(),
                json!({ "type": "apiKey", "in": "header", "name": name }),
            )),
            _ => {}
        }
    }
    if view::request_query(ex).iter().any(|(n, _)| n == "key") {
        out.push((
            "queryKey".into(),
            json!({ "type": "apiKey", "in": "query", "name": "key" }),
        ));
    }
    out
}

/// Used by `content` to label a body's media type.
pub(super) fn media_of(headers: &exchange::Headers, body: &BodyView) -> String {
    view::media_type(headers).unwrap_or_else(|| {
        if body.text.is_some() {
            "text/plain".to_string()
        } else {
            "application/octet-stream".to_string()
        }
    })
}
