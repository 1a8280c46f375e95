//! The request and response an expectation describes, as an [`Exchange`],
//! so expectations export to HAR, OpenAPI, Postman and Bruno exactly like
//! captured traffic, and the `~` filter and request matchers apply to them.
//!
//! Matcher values are taken literally (a path regex stays as written);
//! negated values (`!…`) and actions other than `httpResponse` and
//! `httpSseResponse` describe no concrete message and are left out.
//! Without a `Host` header the request goes to `localhost`.

use base64::Engine;
use serde_json::{Map, Value};

use crate::exchange::{Body, Exchange, ExchangeId, Headers, Request, Response, Source, Via};

/// The exchange `expectation` describes, numbered `id`, dated `at`.
pub fn exchange(
    expectation: &Value,
    id: ExchangeId,
    at: chrono::DateTime<chrono::Utc>,
) -> Exchange {
    let empty = Value::Object(Map::new());
    let req = expectation.get("httpRequest").unwrap_or(&empty);
    let expectation_id = expectation
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| format!("expectation-{id}"), str::to_string);
    Exchange::builder()
        .id(id)
        .started_at(at)
        .via(Via::Other)
        .request(request(req))
        .response(response(expectation))
        .source(Source::Mock { expectation_id })
        .build()
}

fn request(req: &Value) -> Request {
    let mut headers = pairs(req.get("headers"));
    let secure = req.get("secure").and_then(Value::as_bool).unwrap_or(false);
    let socket = req.get("socketAddress");
    let scheme = socket
        .and_then(|s| s.get("scheme"))
        .and_then(Value::as_str)
        .map_or(if secure { "https" } else { "http" }, |s| {
            if s.eq_ignore_ascii_case("https") {
                "https"
            } else {
                "http"
            }
        });
    let default_port = if scheme == "https" { 443 } else { 80 };
    let authority = header_value(&headers, "host")
        .or_else(|| {
            socket
                .and_then(|s| s.get("host"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "localhost".into());
    let (host, port) = split_authority(&authority, default_port);
    let port = socket
        .and_then(|s| s.get("port"))
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(port);
    let (body, content_type) = body(req.get("body"));
    if let Some(ct) = content_type.filter(|_| header_value(&headers, "content-type").is_none()) {
        headers.push("content-type", ct);
    }
    Request {
        method: literal(req.get("method")).map_or("GET".into(), Into::into),
        scheme: scheme.into(),
        host,
        port,
        path: path_and_query(req),
        version: "HTTP/1.1".into(),
        headers,
        body: Body::from_bytes(body),
    }
}

fn path_and_query(req: &Value) -> String {
    let path = literal(req.get("path")).unwrap_or_else(|| "/".into());
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let query: Vec<String> = pairs(req.get("queryStringParameters"))
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                super::view::percent_encode(k),
                super::view::percent_encode(v)
            )
        })
        .collect();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn response(expectation: &Value) -> Option<Response> {
    if let Some(resp) = expectation.get("httpResponse") {
        let mut headers = pairs(resp.get("headers"));
        let (body, content_type) = body(resp.get("body"));
        if let Some(ct) = content_type.filter(|_| header_value(&headers, "content-type").is_none())
        {
            headers.push("content-type", ct);
        }
        return Some(message(status(resp), headers, body));
    }
    let sse = expectation.get("httpSseResponse")?;
    let mut headers = pairs(sse.get("headers"));
    if header_value(&headers, "content-type").is_none() {
        headers.push("content-type", "text/event-stream");
    }
    let events = sse.get("events").and_then(Value::as_array);
    let text: String = events.into_iter().flatten().map(sse_event).collect();
    Some(message(status(sse), headers, text.into_bytes()))
}

fn message(status: u16, headers: Headers, body: Vec<u8>) -> Response {
    Response {
        status,
        version: "HTTP/1.1".into(),
        headers,
        body: Body::from_bytes(body),
    }
}

fn status(action: &Value) -> u16 {
    action
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(200)
}

/// One event in the wire syntax; multi-line data becomes several `data:`.
fn sse_event(ev: &Value) -> String {
    let mut out = String::new();
    let field = |name: &str| ev.get(name).and_then(Value::as_str);
    if let Some(name) = field("event") {
        out.push_str(&format!("event: {name}\n"));
    }
    if let Some(id) = field("id") {
        out.push_str(&format!("id: {id}\n"));
    }
    if let Some(retry) = ev.get("retry").and_then(Value::as_u64) {
        out.push_str(&format!("retry: {retry}\n"));
    }
    let data = match ev.get("data") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    for line in data.split('\n') {
        out.push_str(&format!("data: {line}\n"));
    }
    out.push('\n');
    out
}

/// Body bytes and the content type they imply, from MockServer's forms.
fn body(v: Option<&Value>) -> (Vec<u8>, Option<&'static str>) {
    let Some(v) = v else {
        return (Vec::new(), None);
    };
    let Value::Object(o) = v else {
        return match v {
            Value::String(s) => (s.clone().into_bytes(), None),
            Value::Null => (Vec::new(), None),
            other => (other.to_string().into_bytes(), Some("application/json")),
        };
    };
    let text = |key: &str| o.get(key).and_then(Value::as_str).unwrap_or_default();
    match o.get("type").and_then(Value::as_str) {
        Some("JSON") => {
            let doc = match o.get("json") {
                Some(Value::String(s)) => s.clone(),
                Some(doc) => doc.to_string(),
                None => String::new(),
            };
            (doc.into_bytes(), Some("application/json"))
        }
        Some("BINARY") => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text("base64Bytes"))
                .unwrap_or_default();
            (bytes, Some("application/octet-stream"))
        }
        Some("STRING") => (text("string").as_bytes().to_vec(), None),
        Some("REGEX") => (text("regex").as_bytes().to_vec(), None),
        Some(_) => (Vec::new(), None),
        // A bare JSON object is a JSON body in MockServer's shorthand.
        None => (v.to_string().into_bytes(), Some("application/json")),
    }
}

/// `{"name": ["v"]}`, `{"name": "v"}` or `[{"name", "values"}]` → pairs,
/// keeping literal values only.
fn pairs(v: Option<&Value>) -> Headers {
    let mut out = Headers::new();
    let mut push = |name: &str, values: &Value| {
        let list = match values {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for value in list.into_iter().filter_map(|v| literal(Some(v))) {
            out.push(name, &value);
        }
    };
    match v {
        Some(Value::Object(o)) => o.iter().for_each(|(k, vals)| push(k, vals)),
        Some(Value::Array(items)) => {
            for item in items {
                if let Some(name) = item.get("name").and_then(Value::as_str) {
                    push(name, item.get("values").unwrap_or(&Value::Null));
                }
            }
        }
        _ => {}
    }
    out
}

/// A matcher value as a concrete string: `"v"` or `{"value": "v"}`;
/// `None` for negated values, which name what a request is *not*.
fn literal(v: Option<&Value>) -> Option<String> {
    let (text, negated) = match v? {
        Value::String(s) => (s.as_str(), false),
        Value::Object(o) => (
            o.get("value").and_then(Value::as_str)?,
            o.get("not").and_then(Value::as_bool).unwrap_or(false),
        ),
        _ => return None,
    };
    (!negated && !text.starts_with('!')).then(|| text.to_string())
}

fn header_value(headers: &Headers, name: &str) -> Option<String> {
    crate::exchange::header(headers, name).map(str::to_string)
}

/// `host[:port]` (IPv6 in brackets) → host and port.
fn split_authority(authority: &str, default_port: u16) -> (String, u16) {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && p.parse::<u16>().is_ok() => {
            (h, p.parse().unwrap_or(default_port))
        }
        _ => (authority, default_port),
    };
    (host.trim_matches(['[', ']']).to_string(), port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH
    }

    #[test]
    fn a_response_expectation_becomes_a_complete_exchange() {
        let e = json!({
            "id": "e1",
            "httpRequest": {
                "method": "POST", "path": "/v1/messages",
                "queryStringParameters": {"beta": ["true"]},
                "headers": {"Host": ["api.anthropic.com"], "x-skip": ["!never"]},
                "secure": true,
                "body": {"type": "JSON", "json": {"model": "claude"}}
            },
            "httpResponse": {"statusCode": 201, "body": {"type": "JSON", "json": {"ok": true}}}
        });
        let ex = exchange(&e, 7, at());
        assert_eq!(ex.url(), "https://api.anthropic.com/v1/messages?beta=true");
        assert_eq!(ex.request.method, "POST");
        assert_eq!(ex.request.body.bytes, br#"{"model":"claude"}"#);
        assert!(ex.request.headers.iter().all(|(n, _)| n != "x-skip"));
        let resp = ex.response.expect("response");
        assert_eq!(resp.status, 201);
        assert_eq!(resp.body.bytes, br#"{"ok":true}"#);
        assert_eq!(
            crate::exchange::header(&resp.headers, "content-type"),
            Some("application/json")
        );
        assert_eq!(
            ex.source,
            Source::Mock {
                expectation_id: "e1".into()
            }
        );
    }

    #[test]
    fn sse_events_are_written_out_and_other_actions_have_no_response() {
        let e = json!({
            "httpRequest": {"path": "/s", "headers": [{"name": "host", "values": ["h:8080"]}]},
            "httpSseResponse": {"events": [
                {"event": "a", "data": "x\ny", "id": "1"},
                {"data": "{\"n\":2}"}
            ]}
        });
        let ex = exchange(&e, 1, at());
        assert_eq!((ex.request.host.as_str(), ex.request.port), ("h", 8080));
        let body = ex.response.expect("response").body.bytes;
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "event: a\nid: 1\ndata: x\ndata: y\n\ndata: {\"n\":2}\n\n"
        );
        let forward = json!({"httpRequest": {"path": "/f"}, "httpForward": {"host": "x"}});
        let ex = exchange(&forward, 2, at());
        assert!(ex.response.is_none());
        assert_eq!(ex.url(), "http://localhost/f");
    }
}
