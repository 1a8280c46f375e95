//! Read a HAR 1.2 document back into exchanges, so `llmspy open` can show
//! captures from browsers, mitmproxy or llmspy's own HAR export.

use base64::Engine;
use serde_json::Value;

use crate::exchange::{
    Body, Exchange, Failure, FailureKind, Headers, Request, Response, Source, State, Timings, Via,
};

/// True when a JSON document looks like HAR (`{"log": {"entries": …}}`).
pub fn is_har(v: &Value) -> bool {
    v.get("log")
        .and_then(|l| l.get("entries"))
        .is_some_and(Value::is_array)
}

/// Every entry as an exchange; an entry that can't be read names its index.
pub fn exchanges(har: &Value) -> Result<Vec<Exchange>, String> {
    let entries = har
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .ok_or("not a HAR document: no log.entries array")?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| entry(i, e).map_err(|why| format!("log.entries[{i}]: {why}")))
        .collect()
}

fn entry(index: usize, e: &Value) -> Result<Exchange, String> {
    let request = request(e.get("request").ok_or("no request")?)?;
    let started_at = e
        .get("startedDateTime")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(chrono::DateTime::UNIX_EPOCH, |d| {
            d.with_timezone(&chrono::Utc)
        });
    let id = e
        .pointer("/_llmspy/id")
        .and_then(Value::as_u64)
        .unwrap_or(index as u64 + 1);
    let response = e
        .get("response")
        .filter(|r| r.get("status").and_then(Value::as_u64).unwrap_or(0) > 0)
        .map(response);
    let total_ms = e
        .get("time")
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
        .max(0.0);
    let state = match &response {
        Some(_) => State::Complete,
        None => State::Failed(Failure::new(
            FailureKind::UpstreamReset,
            "no response in the HAR entry",
        )),
    };
    // What llmspy's own HAR adds under `_llmspy`, read back.
    let ours = |key: &str| e.pointer(&format!("/_llmspy/{key}"));
    let text = |key: &str| ours(key).and_then(Value::as_str).map(str::to_string);
    Ok(Exchange {
        id,
        started_at,
        client_addr: text("clientAddr"),
        client_app: text("clientApp"),
        via: Via::Other,
        request,
        response,
        chunks: Vec::new(),
        timings: Timings {
            end_us: Some((total_ms * 1000.0) as u64),
            resent_us: ours("resentMs")
                .and_then(Value::as_f64)
                .map(|ms| (ms.max(0.0) * 1000.0).round() as u64),
            ..Timings::default()
        },
        state,
        source: match text("mockedBy") {
            Some(expectation_id) => Source::Mock { expectation_id },
            None => Source::Upstream,
        },
        websocket: super::har_ws::from_entry(e, started_at).map(Box::new),
    })
}

fn request(req: &Value) -> Result<Request, String> {
    let url = req
        .get("url")
        .and_then(Value::as_str)
        .ok_or("request.url missing")?;
    let uri: http::Uri = url
        .parse()
        .map_err(|err| format!("request.url {url:?}: {err}"))?;
    let scheme = uri.scheme_str().unwrap_or("http").to_string();
    let default_port = if scheme == "https" { 443 } else { 80 };
    Ok(Request {
        method: str_of(req, "method").unwrap_or("GET").to_owned().into(),
        host: uri
            .host()
            .unwrap_or("")
            .trim_matches(['[', ']'])
            .to_string(),
        port: uri.port_u16().unwrap_or(default_port),
        path: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
        scheme: scheme.into(),
        version: str_of(req, "httpVersion")
            .unwrap_or("HTTP/1.1")
            .to_owned()
            .into(),
        headers: headers(req),
        // A binary request body is base64 under `_encoding` (HAR 1.2 has
        // no field for it; the export writes that extension).
        body: Body::from_bytes(text_bytes(req.get("postData"), "_encoding")),
    })
}

/// The bytes of a HAR `content` or `postData`: its `text`, decoded from
/// base64 when its `encoding_field` says so.
fn text_bytes(content: Option<&Value>, encoding_field: &str) -> Vec<u8> {
    let text = content
        .and_then(|c| c.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let base64 = content
        .and_then(|c| c.get(encoding_field))
        .and_then(Value::as_str)
        == Some("base64");
    if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec())
    } else {
        text.as_bytes().to_vec()
    }
}

fn response(r: &Value) -> Response {
    let bytes = text_bytes(r.get("content"), "encoding");
    // HAR holds the decoded body: drop the encoding header so it isn't decoded twice.
    let headers = headers(r)
        .into_iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-encoding"))
        .collect();
    Response {
        status: r.get("status").and_then(Value::as_u64).unwrap_or(0) as u16,
        version: str_of(r, "httpVersion")
            .unwrap_or("HTTP/1.1")
            .to_owned()
            .into(),
        headers,
        body: Body::from_bytes(bytes),
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn headers(v: &Value) -> Headers {
    v.get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| {
            Some((
                str_of(h, "name")?.to_string(),
                h.get("value")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_entry() {
        let har = json!({"log": {"entries": [{
            "startedDateTime": "2026-11-25T10:00:00.000Z", "time": 12.5,
            "request": {"method": "POST", "url": "https://api.anthropic.com/v1/messages?x=1", "httpVersion": "HTTP/2",
                        "headers": [{"name": "x-api-key", "value": "k"}], "postData": {"mimeType": "application/json", "text": "{}"}},
            "response": {"status": 200, "httpVersion": "HTTP/2", "headers": [{"name": "content-encoding", "value": "gzip"}],
                         "content": {"mimeType": "text/plain", "text": "aGk=", "encoding": "base64"}}
        }]}});
        assert!(is_har(&har));
        let ex = &exchanges(&har).unwrap()[0];
        assert_eq!(
            (
                ex.request.host.as_str(),
                ex.request.port,
                ex.request.path.as_str()
            ),
            ("api.anthropic.com", 443, "/v1/messages?x=1")
        );
        let r = ex.response.as_ref().unwrap();
        assert_eq!(r.body.bytes, b"hi");
        assert!(r.headers.is_empty());
        assert_eq!(ex.timings.end_us, Some(12_500));
        assert!(
            exchanges(&json!({"log": {"entries": [{"request": {}}]}}))
                .unwrap_err()
                .contains("entries[0]")
        );
    }

    /// `ex` exported as HAR and read back.
    fn through_har(ex: crate::exchange::Exchange) -> Vec<Exchange> {
        let har = crate::export::render(
            crate::export::Format::Har,
            &[ex],
            &crate::export::Options::default(),
        )
        .unwrap();
        exchanges(&serde_json::from_slice(&har).unwrap()).unwrap()
    }

    /// A binary request body leaves as base64 under `_encoding` and comes
    /// back as the same bytes, as a binary response body does.
    #[test]
    fn binary_bodies_survive_a_round_trip() {
        let bytes: Vec<u8> = (0..=255u8).rev().collect();
        let ex = crate::exchange::Exchange::builder()
            .url("https://example.test/upload")
            .method("POST")
            .headers([("content-type", "application/octet-stream")])
            .body(bytes.clone())
            .response_headers([("content-type", "application/octet-stream")])
            .response_body(bytes.clone())
            .build();
        let back = through_har(ex);
        assert_eq!(back[0].request.body.bytes, bytes);
        assert_eq!(back[0].response.as_ref().unwrap().body.bytes, bytes);
    }

    /// What llmspy's HAR keeps under `_llmspy` (the client, a mock, a
    /// request sent twice) comes back with the exchange.
    #[test]
    fn llmspy_fields_come_back() {
        let ex = crate::exchange::Exchange::builder()
            .url("https://example.test/v1/models")
            .client_addr("127.0.0.1:5000")
            .client_app("claude")
            .status(200)
            .timings(crate::exchange::Timings {
                end_us: Some(9_000),
                resent_us: Some(1_250),
                ..Default::default()
            })
            .build();
        let back = &through_har(ex)[0];
        assert_eq!(back.client_addr.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(back.client_app.as_deref(), Some("claude"));
        assert_eq!(back.timings.resent_us, Some(1_250));
        assert_eq!(back.source, Source::Upstream);
    }
}
