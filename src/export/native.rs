//! llmspy's own JSON form of an exchange: what the retrieve API returns,
//! what `--save` writes one per line, and what `llmspy open` loads back.
//!
//! Bodies are readable: text when the (decoded) body is UTF-8, base64
//! otherwise. When a content-encoding was applied the wire bytes are kept as
//! `wireBase64` too, so a loaded capture is byte-identical to the original.

use std::borrow::Cow;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::content;
use crate::exchange::{
    Body, Chunk, Exchange, ExchangeId, Failure, Headers, Request, Response, Source, State, Timings,
    Via,
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeJson {
    pub id: ExchangeId,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// `in_flight`, `streaming`, `complete` or `failed`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failure: Option<Failure>,
    #[serde(default)]
    pub source: Source,
    pub via: Via,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_addr: Option<String>,
    /// The program that sent it, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub client_app: Option<String>,
    pub url: String,
    pub timings: TimingsJson,
    pub request: RequestJson,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response: Option<ResponseJson>,
    #[serde(default)]
    pub chunks: Vec<ChunkJson>,
    /// The messages after a WebSocket upgrade.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub websocket: Option<super::websocket_json::WebSocketJson>,
}

/// Milliseconds since the exchange started (fractional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TimingsJson {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_done_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response_head_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_byte_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_ms: Option<f64>,
    /// When the request went out again on a new connection, the kept one
    /// having closed unanswered as it went out.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resent_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HeaderJson {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestJson {
    pub method: String,
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path: String,
    pub http_version: String,
    pub headers: Vec<HeaderJson>,
    pub body: BodyJson,
    /// Fields sent after the body (gRPC's status, for one).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub trailers: Vec<HeaderJson>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResponseJson {
    pub status: u16,
    pub http_version: String,
    pub headers: Vec<HeaderJson>,
    pub body: BodyJson,
    /// Fields sent after the body (gRPC's status, for one).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub trailers: Vec<HeaderJson>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BodyJson {
    /// Bytes that crossed the wire.
    pub size: u64,
    /// True when the capture cap cut the recorded copy.
    #[serde(default)]
    pub truncated: bool,
    /// The content-encoding removed to produce `text`/`base64`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub decoded_from: Option<String>,
    /// The (decoded) body when it is UTF-8 text.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    /// The (decoded) body when it is not text.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub base64: Option<String>,
    /// The body as received, when a content-encoding was removed above.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub wire_base64: Option<String>,
    /// A stream cut at the cap: its last bytes, as received.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tail_base64: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChunkJson {
    pub at_ms: f64,
    pub offset: u64,
    pub size: u64,
}

fn ms(us: Option<u64>) -> Option<f64> {
    us.map(|u| u as f64 / 1000.0)
}

fn us(ms: Option<f64>) -> Option<u64> {
    ms.map(|m| (m * 1000.0).round().max(0.0) as u64)
}

fn headers_json(h: &Headers) -> Vec<HeaderJson> {
    h.iter()
        .map(|(name, value)| HeaderJson {
            name: name.to_owned(),
            value: value.to_owned(),
        })
        .collect()
}

fn headers_from(h: Vec<HeaderJson>) -> Headers {
    h.into_iter().map(|h| (h.name, h.value)).collect()
}

/// What a body's JSON form holds besides its size, borrowed from the body
/// where it can be: shared by [`to_json`] and [`super::native_write`], so
/// both decide alike between text and base64.
pub(super) struct BodyParts<'a> {
    /// The content-encoding removed.
    pub(super) decoded_from: Option<String>,
    /// The (decoded) body; `None` when the body is empty.
    pub(super) content: Option<BodyContent<'a>>,
    /// The bytes as received, when an encoding was removed.
    pub(super) wire: Option<&'a [u8]>,
}

pub(super) enum BodyContent<'a> {
    Text(Cow<'a, str>),
    Binary(Cow<'a, [u8]>),
}

/// The parts of `body`'s JSON form, decoding any content-encoding.
pub(super) fn body_parts<'a>(headers: &Headers, body: &'a Body) -> BodyParts<'a> {
    let encoding = crate::exchange::header(headers, "content-encoding");
    let decoded = content::decode(encoding, &body.bytes);
    let mut parts = BodyParts {
        decoded_from: decoded.applied.clone(),
        content: None,
        wire: None,
    };
    if body.bytes.is_empty() {
        return parts;
    }
    // A body whose decoding failed is kept as received.
    let bytes = if decoded.applied.is_some() {
        parts.wire = Some(&body.bytes);
        decoded.bytes
    } else {
        Cow::Borrowed(&body.bytes[..])
    };
    parts.content = Some(match bytes {
        Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => BodyContent::Text(Cow::Borrowed(text)),
            Err(_) => BodyContent::Binary(Cow::Borrowed(bytes)),
        },
        Cow::Owned(bytes) => match String::from_utf8(bytes) {
            Ok(text) => BodyContent::Text(Cow::Owned(text)),
            Err(e) => BodyContent::Binary(Cow::Owned(e.into_bytes())),
        },
    });
    parts
}

/// The JSON form of a body.
fn body_json(headers: &Headers, body: &Body) -> BodyJson {
    let parts = body_parts(headers, body);
    let (text, base64) = match parts.content {
        Some(BodyContent::Text(t)) => (Some(t.into_owned()), None),
        Some(BodyContent::Binary(b)) => (None, Some(B64.encode(b))),
        None => (None, None),
    };
    BodyJson {
        size: body.wire_size,
        truncated: body.truncated,
        decoded_from: parts.decoded_from,
        text,
        base64,
        wire_base64: parts.wire.map(|w| B64.encode(w)),
        tail_base64: (!body.tail.is_empty()).then(|| B64.encode(&body.tail)),
    }
}

fn body_from(b: BodyJson, trailers: Vec<HeaderJson>) -> Result<Body, String> {
    let bytes = if let Some(w) = b.wire_base64 {
        B64.decode(w).map_err(|e| format!("wireBase64: {e}"))?
    } else if let Some(b64) = b.base64 {
        B64.decode(b64).map_err(|e| format!("base64: {e}"))?
    } else {
        b.text.unwrap_or_default().into_bytes()
    };
    let tail = match b.tail_base64 {
        Some(t) => B64.decode(t).map_err(|e| format!("tailBase64: {e}"))?,
        None => Vec::new(),
    };
    Ok(Body {
        wire_size: b.size.max((bytes.len() + tail.len()) as u64),
        bytes,
        truncated: b.truncated,
        trailers: headers_from(trailers),
        tail,
    })
}

/// The JSON form of an exchange.
pub fn to_json(ex: &Exchange) -> ExchangeJson {
    let r = &ex.request;
    ExchangeJson {
        id: ex.id,
        started_at: ex.started_at,
        state: ex.state.label().to_string(),
        failure: ex.state.failure().cloned(),
        source: ex.source.clone(),
        via: ex.via,
        client_addr: ex.client_addr.clone(),
        client_app: ex.client_app.clone(),
        url: ex.url(),
        timings: TimingsJson {
            request_done_ms: ms(ex.timings.request_done_us),
            response_head_ms: ms(ex.timings.response_head_us),
            first_byte_ms: ms(ex.timings.first_byte_us),
            duration_ms: ms(ex.timings.end_us),
            resent_ms: ms(ex.timings.resent_us),
        },
        request: RequestJson {
            method: r.method.to_string(),
            scheme: r.scheme.to_string(),
            host: r.host.clone(),
            port: r.port,
            path: r.path.clone(),
            http_version: r.version.to_string(),
            headers: headers_json(&r.headers),
            body: body_json(&r.headers, &r.body),
            trailers: headers_json(&r.body.trailers),
        },
        response: ex.response.as_ref().map(|resp| ResponseJson {
            status: resp.status,
            http_version: resp.version.to_string(),
            headers: headers_json(&resp.headers),
            body: body_json(&resp.headers, &resp.body),
            trailers: headers_json(&resp.body.trailers),
        }),
        chunks: ex
            .chunks
            .iter()
            .map(|c| ChunkJson {
                at_ms: c.at_us as f64 / 1000.0,
                offset: c.offset,
                size: c.len,
            })
            .collect(),
        websocket: ex.websocket.as_deref().map(super::websocket_json::to_json),
    }
}

/// Rebuild an exchange from its JSON form.
pub fn from_json(j: ExchangeJson) -> Result<Exchange, String> {
    let state = match (j.state.as_str(), j.failure) {
        (_, Some(f)) => State::Failed(f),
        ("in_flight", None) => State::InFlight,
        ("streaming", None) => State::Streaming,
        _ => State::Complete,
    };
    let response = match j.response {
        Some(r) => Some(Response {
            status: r.status,
            version: r.http_version.into(),
            headers: headers_from(r.headers),
            body: body_from(r.body, r.trailers).map_err(|e| format!("response body {e}"))?,
        }),
        None => None,
    };
    Ok(Exchange {
        id: j.id,
        started_at: j.started_at,
        client_addr: j.client_addr,
        client_app: j.client_app,
        via: j.via,
        request: Request {
            method: j.request.method.into(),
            scheme: j.request.scheme.into(),
            host: j.request.host,
            port: j.request.port,
            path: j.request.path,
            version: j.request.http_version.into(),
            headers: headers_from(j.request.headers),
            body: body_from(j.request.body, j.request.trailers)
                .map_err(|e| format!("request body {e}"))?,
        },
        response,
        chunks: j
            .chunks
            .into_iter()
            .map(|c| Chunk {
                at_us: (c.at_ms * 1000.0).round().max(0.0) as u64,
                offset: c.offset,
                len: c.size,
            })
            .collect(),
        timings: Timings {
            request_done_us: us(j.timings.request_done_ms),
            response_head_us: us(j.timings.response_head_ms),
            first_byte_us: us(j.timings.first_byte_ms),
            end_us: us(j.timings.duration_ms),
            resent_us: us(j.timings.resent_ms),
        },
        state,
        source: j.source,
        websocket: match j.websocket {
            Some(w) => Some(Box::new(super::websocket_json::from_json(w)?)),
            None => None,
        },
    })
}

/// Parse one saved line (or one element of a JSON array).
pub fn parse_exchange(value: serde_json::Value) -> Result<Exchange, String> {
    let j: ExchangeJson = serde_json::from_value(value).map_err(|e| e.to_string())?;
    from_json(j)
}
