//! `PUT /llmspy/fixtures/record`: write the captured traffic as a fixture
//! file of expectations (redacted), or return it. Options come from the
//! query or a JSON body: `requestPath`, `host`, `path` (the output file,
//! inside the files root; without it the fixture is returned), `overwrite`,
//! `keepTiming`.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::call::Call;
use super::context::ApiContext;
use super::reply::{error, json_response};
use crate::engine::UpstreamBody;
use crate::exchange::Exchange;
use crate::mock::fixtures::{self, Fixture, RecordOptions};
use crate::urlcodec::query_pairs;

/// What to record and where to put it.
#[derive(Debug, Clone, Default)]
pub struct RecordRequest {
    pub options: RecordOptions,
    /// Where to write, as asked (resolved inside the files root).
    pub output: Option<String>,
    /// Replace an existing file (else 409).
    pub overwrite: bool,
}

/// Why a fixture was not recorded, and the status that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub status: StatusCode,
    pub message: String,
}

impl RecordRequest {
    /// From `requestPath`, `host`, `path`, `overwrite`, `keepTiming` in a
    /// JSON object (booleans as JSON or as the strings of a query).
    pub fn from_json(v: &Value) -> Self {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        let flag = |k: &str| {
            v.get(k).and_then(Value::as_bool).unwrap_or(false) || text(k).as_deref() == Some("true")
        };
        RecordRequest {
            options: RecordOptions {
                path: text("requestPath"),
                host: text("host"),
                keep_timing: flag("keepTiming"),
            },
            output: text("path"),
            overwrite: flag("overwrite"),
        }
    }
}

pub fn record(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    let mut args = query_object(&call.query);
    if !call.body.iter().all(u8::is_ascii_whitespace) {
        match serde_json::from_slice::<Value>(&call.body) {
            Ok(Value::Object(body)) => args.extend(body),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "the record options must be a JSON object",
                );
            }
        }
    }
    // A misspelt option would record everything, or answer inline instead
    // of writing the file asked for.
    let known = ["requestPath", "host", "path", "overwrite", "keepTiming"];
    if let Some(key) = args.keys().find(|k| !known.contains(&k.as_str())) {
        let hint = crate::similar::closest(key, known, 3)
            .map_or_else(String::new, |m| format!(" (did you mean {m}?)"));
        return error(
            StatusCode::BAD_REQUEST,
            &format!(
                "unknown record option {key:?}{hint}; the options are {}",
                known.join(", ")
            ),
        );
    }
    match record_fixture(ctx, &RecordRequest::from_json(&Value::Object(args))) {
        Ok(summary) => json_response(StatusCode::OK, &summary),
        Err(e) => error(e.status, &e.message),
    }
}

/// Record, write the file when asked, and summarise (with the fixture
/// itself when no file was written). Shared with the MCP tool.
pub fn record_fixture(ctx: &ApiContext, req: &RecordRequest) -> Result<Value, RecordError> {
    let exchanges: Vec<Exchange> = ctx.store.read().all().map(|r| r.exchange.clone()).collect();
    let fixture = fixtures::record(&exchanges, &req.options);
    let mut summary = summary(&fixture);
    if fixture.count == 0
        && let Some(warnings) = summary["warnings"].as_array_mut()
    {
        let why = match (&req.options.path, &req.options.host) {
            (None, None) => {
                "nothing recorded: no finished exchange has been captured yet".to_string()
            }
            (path, host) => format!(
                "nothing recorded: no finished exchange matches{}{}",
                path.as_ref()
                    .map(|p| format!(" requestPath {p}"))
                    .unwrap_or_default(),
                host.as_ref()
                    .map(|h| format!(" host {h}"))
                    .unwrap_or_default()
            ),
        };
        warnings.push(json!(why));
    }
    match &req.output {
        Some(path) => {
            let mut text = serde_json::to_vec_pretty(&fixture.doc).unwrap_or_default();
            text.push(b'\n');
            let written = ctx
                .write_file(path, &text, req.overwrite)
                .map_err(|e| RecordError {
                    status: e.status(),
                    message: e.to_string(),
                })?;
            summary["path"] = json!(written.display().to_string());
        }
        None => summary["fixture"] = fixture.doc,
    }
    Ok(summary)
}

fn summary(f: &Fixture) -> Value {
    json!({
        "expectations": f.count,
        "redacted": f.redacted,
        "warnings": f.warnings,
    })
}

/// `a=1&b=x%20y` as a JSON object of strings.
fn query_object(query: &str) -> serde_json::Map<String, Value> {
    query_pairs(query)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}
