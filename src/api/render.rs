//! Turn a retrieve request into bytes: pick the records (or expectations)
//! under the store lock, then render them without it, in any of the five
//! formats. Shared by the HTTP route and `llmspy export --from FILE`, so
//! both give the same answer for the same capture.

use serde_json::{Value, json};

use super::params::{ParamError, RetrieveParams, RetrieveType};
use super::select::Selection;
use super::sessions;
use crate::capture::{Record, Records};
use crate::exchange::Exchange;
use crate::export::described;
use crate::export::{self, ExportError, Format, Options, native};

/// Why a retrieve could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum RetrieveError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("no exchange with id {0} (it may have been evicted or cleared)")]
    NoExchange(u64),
    #[error("exchange {0} is not LLM or MCP traffic, so it has no conversation")]
    NotConversation(u64),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// What a retrieve is about, copied out of the store.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub records: Vec<Record>,
    pub expectations: Vec<Value>,
}

/// A rendered answer.
#[derive(Debug)]
pub struct Rendered {
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// How many exchanges or expectations it holds (0: nothing matched).
    pub count: usize,
}

/// Copy what `params` and `selection` pick. Cheap next to rendering, so
/// the caller can hold the store lock for this part only.
pub fn snapshot(
    store: &dyn Records,
    active: Vec<Value>,
    params: &RetrieveParams,
    selection: &Selection,
) -> Result<Snapshot, RetrieveError> {
    let records = match params.kind {
        RetrieveType::ActiveExpectations => {
            let at = chrono::Utc::now();
            let expectations = active
                .into_iter()
                .enumerate()
                .filter(|(i, e)| {
                    selection.is_everything()
                        || selection.matches_exchange(&described::exchange(e, *i as u64 + 1, at))
                })
                .map(|(_, e)| e)
                .collect();
            return Ok(Snapshot {
                records: Vec::new(),
                expectations,
            });
        }
        RetrieveType::Conversation => conversation_records(store, params)?,
        _ => store
            .query(&|r| selection.matches_record(r))
            .cloned()
            .collect(),
    };
    Ok(Snapshot {
        records,
        expectations: Vec::new(),
    })
}

/// The exchange asked for; for export formats, every turn of its thread.
fn conversation_records(
    store: &dyn Records,
    params: &RetrieveParams,
) -> Result<Vec<Record>, RetrieveError> {
    let id = params.id.unwrap_or_default();
    let record = store.get(id).ok_or(RetrieveError::NoExchange(id))?;
    let thread = record.thread.as_ref().map(|t| t.thread_id);
    if params.format == Format::Json || thread.is_none() {
        return Ok(vec![record.clone()]);
    }
    Ok(store
        .query(&|r| r.thread.as_ref().map(|t| t.thread_id) == thread)
        .cloned()
        .collect())
}

/// Render a snapshot as `params` asks.
pub fn render(snapshot: Snapshot, params: &RetrieveParams) -> Result<Rendered, RetrieveError> {
    let redact = params.redacts();
    let Snapshot {
        mut records,
        expectations,
    } = snapshot;
    if params.format != Format::Json {
        let exchanges = export_exchanges(params.kind, &records, &expectations);
        let count = exchanges.len();
        let bytes = export_bytes(params.format, &exchanges, redact)?;
        return Ok(rendered(params.format, bytes, count));
    }
    if redact {
        for r in &mut records {
            crate::redact::mask(&mut r.exchange);
        }
    }
    let (doc, count) = match params.kind {
        RetrieveType::Requests => (
            json!(records.iter().map(request_json).collect::<Vec<_>>()),
            records.len(),
        ),
        RetrieveType::RequestResponses => (
            json!(records.iter().map(exchange_json).collect::<Vec<_>>()),
            records.len(),
        ),
        RetrieveType::RecordedExpectations => {
            let exchanges: Vec<Exchange> = records.into_iter().map(|r| r.exchange).collect();
            let doc = export::expectations::recorded(&exchanges);
            let n = doc.as_array().map_or(0, Vec::len);
            (doc, n)
        }
        RetrieveType::ActiveExpectations => {
            let n = expectations.len();
            (Value::Array(expectations), n)
        }
        RetrieveType::Conversation => (conversation_json(&records, params)?, 1),
        RetrieveType::Sessions => (sessions::json(&records), records.len()),
    };
    let mut body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    body.push(b'\n');
    Ok(rendered(Format::Json, body, count))
}

fn rendered(format: Format, body: Vec<u8>, count: usize) -> Rendered {
    Rendered {
        content_type: format.content_type(),
        body,
        count,
    }
}

/// The exchanges an export format shows for each type.
fn export_exchanges(
    kind: RetrieveType,
    records: &[Record],
    expectations: &[Value],
) -> Vec<Exchange> {
    let plain = || records.iter().map(|r| r.exchange.clone());
    match kind {
        // A request log has no answers to show.
        RetrieveType::Requests => plain()
            .map(|mut ex| {
                ex.response = None;
                ex.chunks.clear();
                ex
            })
            .collect(),
        // Only answered exchanges make expectations.
        RetrieveType::RecordedExpectations => plain().filter(|ex| ex.response.is_some()).collect(),
        RetrieveType::ActiveExpectations => {
            let at = chrono::Utc::now();
            expectations
                .iter()
                .enumerate()
                .map(|(i, e)| described::exchange(e, i as u64 + 1, at))
                .collect()
        }
        // Conversation by conversation, turn by turn.
        RetrieveType::Sessions => sessions::group(records)
            .sessions
            .into_values()
            .flatten()
            .map(|r| r.exchange.clone())
            .collect(),
        RetrieveType::RequestResponses | RetrieveType::Conversation => plain().collect(),
    }
}

/// Render exchanges in an export format, redacted unless `redact` is off.
pub fn export_bytes(
    format: Format,
    exchanges: &[Exchange],
    redact: bool,
) -> Result<Vec<u8>, ExportError> {
    let options = Options {
        redact,
        assistant_text: Some(&assistant_text),
        ..Options::default()
    };
    export::render(format, exchanges, &options)
}

/// The reassembled reply of an LLM exchange, for every export format.
pub(super) fn assistant_text(ex: &Exchange) -> Option<String> {
    let reply = crate::analyses::analyse(ex)?.reply.clone()?;
    Some(reply.text()).filter(|t| !t.is_empty())
}

fn conversation_json(records: &[Record], params: &RetrieveParams) -> Result<Value, RetrieveError> {
    let id = params.id.unwrap_or_default();
    let record = records.first().ok_or(RetrieveError::NoExchange(id))?;
    let analysis =
        crate::analyses::analyse(&record.exchange).ok_or(RetrieveError::NotConversation(id))?;
    Ok(analysis.conversation_json(record.thread.as_ref()))
}

/// `REQUESTS` as JSON: what was asked, without the answers.
pub(super) fn request_json(record: &Record) -> Value {
    let j = native::to_json(&record.exchange);
    json!({ "id": j.id, "startedAt": j.started_at, "url": j.url, "request": j.request })
}

/// The native JSON of an exchange plus, for LLM and MCP traffic, its `llm` object.
pub fn exchange_json(record: &Record) -> Value {
    let mut v = json!(native::to_json(&record.exchange));
    if record.summary.is_some()
        && let Some(a) = crate::analyses::analyse(&record.exchange)
        && let Some(obj) = v.as_object_mut()
    {
        let thread = record.thread.as_ref().map(|t| t.thread_id);
        obj.insert("llm".into(), a.api_json(thread));
    }
    v
}
