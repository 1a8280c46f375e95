//! Postman Collection v2.1: one folder per host, one item per exchange,
//! each with its captured response saved as an example (`response` with
//! `originalRequest`), so the collection both replays the traffic and
//! shows what came back.

use serde_json::{Value, json};

use super::Options;
use super::notes;
use super::view::{self, BodyView};
use crate::exchange::{self, Exchange};

const SCHEMA: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

/// The Postman collection for `exchanges`.
pub fn to_collection(exchanges: &[Exchange], options: &Options) -> Value {
    let folders: Vec<Value> = by_host(exchanges)
        .into_iter()
        .map(|(host, group)| {
            json!({
                "name": host,
                "item": group.iter().map(|ex| item(ex, options)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let stamps = exchanges
        .iter()
        .map(|ex| (ex.id, ex.started_at.timestamp_micros()));
    json!({
        "info": info(exchanges.len(), stable_uuid(stamps), options),
        "item": folders,
    })
}

/// The collection's `info`, for `count` exchanges.
pub(super) fn info(count: usize, id: String, options: &Options) -> Value {
    json!({
        "_postman_id": id,
        "name": options.title,
        "description": format!("{count} exchanges captured by llmspy."),
        "schema": SCHEMA,
    })
}

/// Exchanges grouped by `host[:port]`, hosts in order of first appearance.
pub(super) fn by_host(exchanges: &[Exchange]) -> Vec<(String, Vec<&Exchange>)> {
    let mut groups: Vec<(String, Vec<&Exchange>)> = Vec::new();
    for ex in exchanges {
        let host = view::authority(ex);
        match groups.iter_mut().find(|(h, _)| *h == host) {
            Some((_, list)) => list.push(ex),
            None => groups.push((host, vec![ex])),
        }
    }
    groups
}

/// `POST /v1/messages`: what a person scanning the collection looks for.
pub(super) fn request_name(ex: &Exchange) -> String {
    let (path, _) = view::split_path(&ex.request.path);
    format!("{} {}", ex.request.method, path)
}

/// One request with its response as an example.
pub(super) fn item(ex: &Exchange, options: &Options) -> Value {
    let mut req = request(ex);
    let responses: Vec<Value> = response(ex, &req).into_iter().collect();
    req["description"] = json!(notes::note(ex, options));
    json!({
        "name": request_name(ex),
        "request": req,
        "response": responses,
    })
}

fn request(ex: &Exchange) -> Value {
    let r = &ex.request;
    let mut out = json!({
        "method": r.method,
        "header": header_list(&r.headers),
        "url": url(ex),
    });
    let body = BodyView::of(&r.headers, &r.body);
    if let Some(text) = body.text.as_deref().filter(|t| !t.is_empty()) {
        let language = if body.json().is_some() {
            "json"
        } else {
            "text"
        };
        out["body"] = json!({
            "mode": "raw",
            "raw": text,
            "options": { "raw": { "language": language } },
        });
    }
    out
}

fn header_list(headers: &exchange::Headers) -> Vec<Value> {
    view::replay_headers(headers)
        .into_iter()
        // Postman sets Host from the URL; a copied one would be stale.
        .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
        .map(|(key, value)| json!({ "key": key, "value": value }))
        .collect()
}

fn url(ex: &Exchange) -> Value {
    let r = &ex.request;
    let (path, query) = view::split_path(&r.path);
    let mut out = json!({
        "raw": ex.url(),
        "protocol": r.scheme,
        "host": r.host.split('.').collect::<Vec<_>>(),
        "path": path.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
    });
    if !matches!((r.scheme.as_ref(), r.port), ("https", 443) | ("http", 80)) {
        out["port"] = json!(r.port.to_string());
    }
    if let Some(q) = query {
        // Raw (still percent-encoded) values: Postman does not encode a
        // `%XX` sequence again, so the request goes out byte for byte.
        let pairs: Vec<Value> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                json!({ "key": k, "value": v })
            })
            .collect();
        out["query"] = Value::Array(pairs);
    }
    out
}

fn response(ex: &Exchange, original: &Value) -> Option<Value> {
    let resp = ex.response.as_ref()?;
    let body = BodyView::of(&resp.headers, &resp.body);
    let language = match () {
        _ if body.json().is_some() => "json",
        _ if view::media_type(&resp.headers).is_some_and(|m| m.contains("html")) => "html",
        _ => "text",
    };
    let cookies: Vec<Value> = Vec::new();
    Some(json!({
        "name": format!("{} {}", resp.status, view::status_text(resp.status)).trim_end().to_string(),
        "originalRequest": original,
        "status": view::status_text(resp.status),
        "code": resp.status,
        "_postman_previewlanguage": language,
        "header": header_list(&resp.headers),
        "cookie": cookies,
        "responseTime": ex.duration_us().map(|us| us / 1000),
        "body": body.text.clone().unwrap_or_else(|| body.base64()),
    }))
}

/// A UUID-shaped id derived from the exchanges, so exporting the same
/// capture twice gives the same collection id (and stable snapshots).
/// Takes each exchange's id and start time (µs), the only parts it hashes.
pub(super) fn stable_uuid(stamps: impl Iterator<Item = (u64, i64)>) -> String {
    let mut seed = String::new();
    for (id, started_us) in stamps {
        seed.push_str(&format!("{id}@{started_us};"));
    }
    let a = fnv1a(seed.as_bytes(), 0xcbf2_9ce4_8422_2325);
    let b = fnv1a(seed.as_bytes(), 0x8422_2325_cbf2_9ce4);
    let hex = format!("{a:016x}{b:016x}");
    // Version 4 / RFC 4122 variant bits, as Postman ids look.
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn fnv1a(bytes: &[u8], basis: u64) -> u64 {
    bytes.iter().fold(basis, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
