//! HAR 1.2 (HTTP Archive): one entry per exchange, with the real timings
//! llmspy measured, decoded bodies, and llmspy's own details (id, state,
//! failure, stream chunks, reassembled assistant text) under `_llmspy`.
//!
//! HAR `content.text` is the decoded body by definition; the headers stay
//! as they crossed the wire, and `content.compression` says how many bytes
//! the encoding saved.

use chrono::SecondsFormat;
use serde_json::{Map, Value, json};

use super::Options;
use super::view::{self, BodyView};
use crate::exchange::{self, Exchange, Headers, Response};

/// The HAR document for `exchanges`.
pub fn to_har(exchanges: &[Exchange], options: &Options) -> Value {
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "llmspy", "version": env!("CARGO_PKG_VERSION") },
            "pages": [],
            "entries": exchanges.iter().map(|ex| entry(ex, options)).collect::<Vec<_>>(),
            "comment": options.title,
        }
    })
}

/// One HAR entry (what [`super::stream`] writes one at a time).
pub(super) fn entry(ex: &Exchange, options: &Options) -> Value {
    let timings = Timings::of(ex);
    let mut entry = json!({
        "startedDateTime": ex.started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "time": timings.total(),
        "request": request(ex),
        "response": response(ex.response.as_ref()),
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "ssl": -1,
            "send": timings.send,
            "wait": timings.wait,
            "receive": timings.receive,
        },
        "_llmspy": llmspy_fields(ex, options),
    });
    if let Some((kind, messages)) = super::har_ws::fields(ex) {
        entry["_resourceType"] = kind;
        entry["_webSocketMessages"] = messages;
    }
    entry
}

/// HAR's phases in milliseconds: send (until the request body was done),
/// wait (until the response head), receive (until the end). Missing
/// milestones count as zero: HAR forbids -1 for these three.
struct Timings {
    send: f64,
    wait: f64,
    receive: f64,
}

impl Timings {
    fn of(ex: &Exchange) -> Timings {
        let t = &ex.timings;
        let sent = t.request_done_us.unwrap_or(0);
        let head = t.response_head_us.unwrap_or(sent).max(sent);
        let end = t.end_us.unwrap_or(head).max(head);
        Timings {
            send: ms(sent),
            wait: ms(head - sent),
            receive: ms(end - head),
        }
    }

    fn total(&self) -> f64 {
        round3(self.send + self.wait + self.receive)
    }
}

fn ms(us: u64) -> f64 {
    round3(us as f64 / 1000.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn request(ex: &Exchange) -> Value {
    let r = &ex.request;
    let body = BodyView::of(&r.headers, &r.body);
    let mut out = json!({
        "method": r.method,
        "url": ex.url(),
        "httpVersion": r.version,
        "cookies": cookies(&r.headers, "cookie"),
        "headers": headers(&r.headers),
        "queryString": view::request_query(ex)
            .into_iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect::<Vec<_>>(),
        "headersSize": -1,
        "bodySize": r.body.wire_size,
    });
    if !body.is_empty() {
        out["postData"] = post_data(&r.headers, &body);
    }
    out
}

fn post_data(headers: &Headers, body: &BodyView) -> Value {
    let mime = exchange::header(headers, "content-type").unwrap_or("");
    let mut out = json!({ "mimeType": mime, "params": [] });
    match &body.text {
        Some(text) => out["text"] = json!(text),
        // HAR 1.2 has no encoding for request bodies; `_encoding` is the
        // extension other tools read for the same thing.
        None => {
            out["text"] = json!(body.base64());
            out["_encoding"] = json!("base64");
        }
    }
    out
}

fn response(resp: Option<&Response>) -> Value {
    let Some(resp) = resp else {
        // No response (the exchange failed first): HAR still needs one;
        // status 0 is how browsers record it.
        return json!({
            "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
            "content": { "size": 0, "mimeType": "" },
            "redirectURL": "", "headersSize": -1, "bodySize": -1,
        });
    };
    json!({
        "status": resp.status,
        "statusText": view::status_text(resp.status),
        "httpVersion": resp.version,
        "cookies": cookies(&resp.headers, "set-cookie"),
        "headers": headers(&resp.headers),
        "content": content(resp),
        "redirectURL": exchange::header(&resp.headers, "location").unwrap_or(""),
        "headersSize": -1,
        "bodySize": resp.body.wire_size,
    })
}

fn content(resp: &Response) -> Value {
    let body = BodyView::of(&resp.headers, &resp.body);
    let mime = exchange::header(&resp.headers, "content-type").unwrap_or("");
    let mut out = json!({ "size": body.bytes.len(), "mimeType": mime });
    if body.decoded_from.is_some() {
        let saved = body.bytes.len() as i64 - resp.body.bytes.len() as i64;
        out["compression"] = json!(saved);
    }
    if body.is_empty() {
        return out;
    }
    match &body.text {
        Some(text) => out["text"] = json!(text),
        None => {
            out["text"] = json!(body.base64());
            out["encoding"] = json!("base64");
        }
    }
    if body.truncated {
        out["comment"] = json!("body cut at llmspy's capture cap");
    }
    out
}

fn headers(h: &Headers) -> Vec<Value> {
    h.iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}

/// Cookies from `Cookie` (request) or `Set-Cookie` (response) headers.
fn cookies(h: &Headers, header: &str) -> Vec<Value> {
    let values = h.iter().filter(|(n, _)| n.eq_ignore_ascii_case(header));
    if header == "cookie" {
        return values
            .flat_map(|(_, v)| view::cookie_pairs(v))
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect();
    }
    values.filter_map(|(_, v)| set_cookie(v)).collect()
}

fn set_cookie(value: &str) -> Option<Value> {
    let mut parts = value.split(';');
    let (name, val) = parts.next()?.split_once('=')?;
    let mut out = json!({ "name": name.trim(), "value": val.trim() });
    for attr in parts {
        let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "path" => out["path"] = json!(v.trim()),
            "domain" => out["domain"] = json!(v.trim()),
            "httponly" => out["httpOnly"] = json!(true),
            "secure" => out["secure"] = json!(true),
            _ => {}
        }
    }
    Some(out)
}

fn llmspy_fields(ex: &Exchange, options: &Options) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(ex.id));
    out.insert("state".into(), json!(ex.state.label()));
    if let Some(addr) = &ex.client_addr {
        out.insert("clientAddr".into(), json!(addr));
    }
    if let Some(app) = &ex.client_app {
        out.insert("clientApp".into(), json!(app));
    }
    if let Some(f) = ex.state.failure() {
        out.insert(
            "failure".into(),
            json!({ "kind": f.kind, "message": f.message }),
        );
    }
    if let crate::exchange::Source::Mock { expectation_id } = &ex.source {
        out.insert("mockedBy".into(), json!(expectation_id));
    }
    if let Some(us) = ex.timings.resent_us {
        out.insert("resentMs".into(), json!(us as f64 / 1000.0));
    }
    if ex.request.body.truncated {
        out.insert("requestTruncated".into(), json!(true));
    }
    if ex.response.as_ref().is_some_and(|r| r.body.truncated) {
        out.insert("responseTruncated".into(), json!(true));
    }
    if let Some(text) = options.assistant_text_of(ex) {
        out.insert("assistantText".into(), json!(text));
    }
    if view::is_streamed(ex) {
        let chunks: Vec<Value> = ex
            .chunks
            .iter()
            .map(|c| json!({ "atMs": ms(c.at_us), "offset": c.offset, "size": c.len }))
            .collect();
        out.insert("chunks".into(), Value::Array(chunks));
    }
    Value::Object(out)
}
