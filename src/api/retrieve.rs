//! `PUT /llmspy/retrieve`: captured traffic as JSON, optionally filtered by a
//! MockServer request matcher in the body.

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{ApiContext, error, json_response, parse_matcher};
use crate::engine::UpstreamBody;
use crate::export::native;
use crate::mock::matcher::RequestMatcher;

const TYPES: &str = "REQUESTS, REQUEST_RESPONSES, CONVERSATION";
const FORMATS: &str = "JSON";

pub fn retrieve(ctx: &ApiContext, query: &str, body: &Bytes) -> Response<UpstreamBody> {
    let params = parse_query(query);
    let kind = param(&params, "type")
        .unwrap_or_else(|| "REQUEST_RESPONSES".into())
        .to_ascii_uppercase();
    let format = param(&params, "format")
        .unwrap_or_else(|| "JSON".into())
        .to_ascii_uppercase();
    if format != "JSON" {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("format={format} is not supported; accepted values: {FORMATS}"),
        );
    }
    if kind == "CONVERSATION" {
        return conversation(ctx, &params);
    }
    let matcher = match parse_matcher(body) {
        Ok(m) => m,
        Err(resp) => return resp,
    };
    let store = ctx.store.read();
    let selected = store.iter().filter(|r| {
        matcher
            .as_ref()
            .is_none_or(|m| m.matches(&r.exchange.request, &decoded_request_body(&r.exchange)))
    });
    let items: Vec<Value> = match kind.as_str() {
        "REQUEST_RESPONSES" => selected.map(exchange_json).collect(),
        "REQUESTS" => selected
            .map(|r| &r.exchange)
            .map(|ex| {
                let j = native::to_json(ex);
                json!({ "id": j.id, "startedAt": j.started_at, "url": j.url, "request": j.request })
            })
            .collect(),
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("type={other} is not supported; accepted values: {TYPES}"),
            );
        }
    };
    json_response(StatusCode::OK, &Value::Array(items))
}

/// The native JSON of an exchange plus, for LLM and MCP traffic, its `llm` object.
pub fn exchange_json(record: &crate::capture::Record) -> Value {
    let mut v = json!(native::to_json(&record.exchange));
    if record.summary.is_some() {
        if let Some(a) = crate::llm::analyse(&record.exchange) {
            let thread = record.thread.as_ref().map(|t| t.thread_id);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("llm".into(), a.api_json(thread));
            }
        }
    }
    v
}

/// `type=CONVERSATION&id=N`: the whole decoded conversation and timeline.
fn conversation(ctx: &ApiContext, params: &[(String, String)]) -> Response<UpstreamBody> {
    let Some(id) = param(params, "id").and_then(|v| v.parse::<u64>().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "type=CONVERSATION needs id=N (an exchange id)",
        );
    };
    let Some(record) = ctx.store.read().get(id).cloned() else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("no exchange with id {id} (it may have been evicted or cleared)"),
        );
    };
    match crate::llm::analyse(&record.exchange) {
        Some(a) => json_response(StatusCode::OK, &a.conversation_json(record.thread.as_ref())),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("exchange {id} is not LLM or MCP traffic"),
        ),
    }
}

/// Ids of the exchanges a matcher selects.
pub fn matching_ids(ctx: &ApiContext, m: &RequestMatcher) -> Vec<u64> {
    ctx.store
        .read()
        .iter()
        .map(|r| &r.exchange)
        .filter(|ex| m.matches(&ex.request, &decoded_request_body(ex)))
        .map(|ex| ex.id)
        .collect()
}

fn decoded_request_body(ex: &crate::exchange::Exchange) -> Vec<u8> {
    let enc = crate::exchange::header(&ex.request.headers, "content-encoding");
    crate::content::decode(enc, &ex.request.body.bytes)
        .bytes
        .into_owned()
}

pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(())
                {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_decodes_percent_and_plus() {
        let p = parse_query("type=request_responses&filter=~p%20anthropic+x&x");
        assert_eq!(param(&p, "TYPE").as_deref(), Some("request_responses"));
        assert_eq!(param(&p, "filter").as_deref(), Some("~p anthropic x"));
        assert_eq!(param(&p, "x").as_deref(), Some(""));
        assert_eq!(parse_query("a=%zz")[0].1, "%zz");
        assert_eq!(parse_query("a=%4")[0].1, "%4");
        assert_eq!(parse_query("a=%é1")[0].1, "%é1");
    }
}
