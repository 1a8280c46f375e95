//! The exchange pipeline: record the request, forward it upstream, record
//! the response head, and hand the (teed) response body straight back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::body::Incoming;

use super::guard::Pending;
use super::tee::{Side, Tee, elapsed_us};
use super::upstream::UpstreamBody;
use super::{BoxError, Shared, deadline, failure};
use crate::capture::CaptureMsg;
use crate::exchange::{
    self, Body, Exchange, Failure, Headers, Request as ReqHead, Response as RespHead, State,
    Timings, Via,
};
use crate::respond::{Decision, ForwardOverride, MockResponse, Responder};

/// Where a request goes: what the client asked llmspy to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: &'static str,
    pub host: String,
    pub port: u16,
}

impl Target {
    /// `host:port`, bracketing IPv6 literals.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy must not forward.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Relay one request to `target` and return the response to send back.
pub async fn relay(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    target: Target,
    via: Via,
    client: Option<SocketAddr>,
) -> Response<UpstreamBody> {
    let started = Instant::now();
    let id = shared.recorder.next_id();
    let mut exchange = new_exchange(id, &req, &target, via, client);
    exchange.client_app = super::clients::announced(req.headers())
        .filter(|_| shared.proxy_auth.is_none())
        .map(|n| n.to_string())
        .or_else(|| client.and_then(|peer| shared.clients.name(peer)));
    // The request head is copied a second time only for the responder,
    // which needs it with the body; decided once, so a request either waits
    // for its body and a decision or streams straight through.
    let mocking = shared
        .responder
        .clone()
        .filter(|r| r.active())
        .map(|r| (r, exchange.request.clone()));
    shared.recorder.send(CaptureMsg::Start(Box::new(exchange)));
    // If this future is dropped (the client went away) or panics before a
    // response is handed back, the guard finalises the exchange.
    let pending = Pending::new(id, started, shared.recorder.clone());
    let resp = forward(shared, req, target, mocking, id, started).await;
    pending.handed_over();
    resp
}

async fn forward(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    mut target: Target,
    mocking: Option<(Arc<dyn Responder>, ReqHead)>,
    id: u64,
    started: Instant,
) -> Response<UpstreamBody> {
    let recorder = &shared.recorder;

    let upgrade = is_upgrade(&req).then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let cap = recorder.limits().max_body_capture_bytes;
    let (request_sent, sent) = tokio::sync::oneshot::channel();
    let body = Tee::new(
        body,
        Side::Request,
        id,
        recorder.clone(),
        started,
        cap,
        shared.settings.client_idle_timeout,
    )
    .signal_end(request_sent);
    let (body, decision) = match mocking {
        Some((r, head)) => match decide(r.as_ref(), body, head).await {
            Ok(v) => v,
            Err(failure) => return fail(&shared, id, started, StatusCode::BAD_REQUEST, failure),
        },
        None => (body.boxed(), Decision::Forward),
    };
    let mut body = body;
    let mut path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    match decision {
        Decision::Forward => {}
        Decision::Respond(mock) => return play(&shared, id, started, mock),
        Decision::ForwardTo(o) => {
            recorder.send(CaptureMsg::Mocked {
                id,
                expectation_id: o.expectation_id.clone(),
            });
            apply_override(&o, &mut target, &mut path, &mut parts.headers, &mut body);
        }
    }
    let uri = format!("{}://{}{}", target.scheme, target.authority(), path);
    let Ok(uri) = uri.parse::<http::Uri>() else {
        let failure = Failure::new(
            exchange::FailureKind::MalformedRequest,
            format!("invalid target URL {uri}"),
        );
        return fail(&shared, id, started, StatusCode::BAD_REQUEST, failure);
    };
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers, upgrade.is_some());
    parts.headers.remove(header::HOST);
    let upstream_req = Request::from_parts(parts, body);

    let limit = shared.settings.upstream_response_timeout;
    let client = if upgrade.is_some() {
        &shared.upgrade_client
    } else {
        &shared.client
    };
    let sending = client.request(upstream_req);
    let resp = match deadline::response_head(sending, sent, limit).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => {
            let failure = failure::upstream(&target.authority(), &e);
            let status = failure::status(&failure);
            return fail(&shared, id, started, status, failure);
        }
        Err(limit) => {
            let failure = failure::no_response(&target.host, limit);
            return fail(&shared, id, started, StatusCode::GATEWAY_TIMEOUT, failure);
        }
    };
    respond(shared, id, started, resp, upgrade).await
}

async fn respond(
    shared: Arc<Shared>,
    id: u64,
    started: Instant,
    mut resp: Response<Incoming>,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Response<UpstreamBody> {
    let recorder = &shared.recorder;
    let head = RespHead {
        status: resp.status().as_u16(),
        version: version_label(resp.version()),
        headers: headers_of(resp.headers()),
        body: Body::default(),
    };
    let cap = recorder.limits().response_cap(&head.headers);
    recorder.send(CaptureMsg::ResponseHead {
        id,
        response: Box::new(head),
        at_us: elapsed_us(started),
    });

    if resp.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_upgrade) = client_upgrade
    {
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        let websocket = websocket_of(resp.headers());
        super::tunnel::spawn_upgrade(
            shared.clone(),
            id,
            started,
            client_upgrade,
            upstream_upgrade,
            websocket,
        );
        let (mut parts, _) = resp.into_parts();
        parts.version = Version::HTTP_11;
        return Response::from_parts(parts, empty());
    }

    let (mut parts, body) = resp.into_parts();
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers, false);
    let tee = Tee::new(
        body,
        Side::Response,
        id,
        recorder.clone(),
        started,
        cap,
        shared.settings.idle_timeout,
    );
    if shared.settings.streaming_enabled {
        return Response::from_parts(parts, tee.boxed());
    }
    // Streaming switched off: deliver the response in one piece.
    match tee.collect().await {
        Ok(all) => Response::from_parts(
            parts,
            Full::new(all.to_bytes()).map_err(|e| match e {}).boxed(),
        ),
        Err(e) => {
            let body = format!("llmspy: the upstream response broke: {e}\n");
            error_response(StatusCode::BAD_GATEWAY, "upstream_reset", body)
        }
    }
}

/// Read the whole request body (teed into capture as it arrives) and ask the
/// responder what to do. Only runs while expectations exist.
async fn decide(
    responder: &dyn Responder,
    body: Tee<Incoming>,
    mut head: ReqHead,
) -> Result<(UpstreamBody, Decision), Failure> {
    let bytes = body.collect().await.map(|b| b.to_bytes()).map_err(|e| {
        Failure::new(
            exchange::FailureKind::ClientGone,
            format!("the request body broke off: {}", failure::chain(&*e)),
        )
    })?;
    head.body = Body::from_bytes(bytes.to_vec());
    let decision = responder.decide(&head);
    Ok((full(bytes), decision))
}

/// Send a mocked response, chunk by chunk with its delays, through the same
/// tee as upstream responses so it is captured and timed alike.
fn play(
    shared: &Arc<Shared>,
    id: u64,
    started: Instant,
    mock: MockResponse,
) -> Response<UpstreamBody> {
    let recorder = &shared.recorder;
    recorder.send(CaptureMsg::Mocked {
        id,
        expectation_id: mock.expectation_id.clone(),
    });
    let head = RespHead {
        status: mock.status,
        version: "HTTP/1.1".into(),
        headers: mock.headers.clone(),
        body: Body::default(),
    };
    let cap = recorder.limits().response_cap(&head.headers);
    recorder.send(CaptureMsg::ResponseHead {
        id,
        response: Box::new(head),
        at_us: elapsed_us(started),
    });
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(4);
    let chunks = mock.chunks;
    tokio::spawn(async move {
        for chunk in chunks {
            if !chunk.delay.is_zero() {
                tokio::time::sleep(chunk.delay).await;
            }
            if tx.send(Ok(Frame::data(chunk.data))).await.is_err() {
                return; // the client went away; the tee records it
            }
        }
    });
    let body = StreamBody::new(ReceiverStream(rx));
    let tee = Tee::new(
        body,
        Side::Response,
        id,
        recorder.clone(),
        started,
        cap,
        None,
    );
    let mut resp = Response::new(tee.boxed());
    *resp.status_mut() = StatusCode::from_u16(mock.status).unwrap_or(StatusCode::OK);
    for (name, value) in &mock.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    strip_hop_by_hop(resp.headers_mut(), false);
    resp
}

/// Apply an `httpForward` override to where and what the request carries.
fn apply_override(
    o: &ForwardOverride,
    target: &mut Target,
    path: &mut String,
    headers: &mut HeaderMap,
    body: &mut UpstreamBody,
) {
    if let Some(s) = &o.scheme {
        target.scheme = if s.eq_ignore_ascii_case("https") {
            "https"
        } else {
            "http"
        };
    }
    if let Some(h) = &o.host {
        target.host = h.clone();
    }
    if let Some(p) = o.port {
        target.port = p;
    }
    if let Some(p) = &o.path {
        path.clone_from(p);
    }
    for (name, value) in &o.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if let Some(b) = &o.body {
        headers.remove(header::CONTENT_LENGTH);
        *body = full(b.clone());
    }
}

/// A `Stream` over an mpsc receiver, for mocked bodies.
struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);

impl<T> futures_core::Stream for ReceiverStream<T> {
    type Item = T;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// Record the failure and answer the client with a body naming it.
fn fail(
    shared: &Shared,
    id: u64,
    started: Instant,
    status: StatusCode,
    failure: Failure,
) -> Response<UpstreamBody> {
    let body = format!("llmspy: {}: {}\n", failure.kind.label(), failure.message);
    let kind = serde_json::to_value(failure.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let resp = error_response(status, &kind, body.clone());
    let head = RespHead {
        status: status.as_u16(),
        version: "HTTP/1.1".into(),
        headers: headers_of(resp.headers()),
        body: Body::from_bytes(body.into_bytes()),
    };
    let at_us = elapsed_us(started);
    shared.recorder.send(CaptureMsg::ResponseHead {
        id,
        response: Box::new(head),
        at_us,
    });
    shared.recorder.send(CaptureMsg::Finish {
        id,
        at_us,
        failure: Some(failure),
    });
    resp
}

/// A plain-text error response from llmspy itself.
pub fn error_response(status: StatusCode, kind: &str, body: String) -> Response<UpstreamBody> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(kind) {
        h.insert(HeaderName::from_static("x-llmspy-error"), v);
    }
    resp
}

pub fn full(body: impl Into<Bytes>) -> UpstreamBody {
    Full::new(body.into()).map_err(|e| match e {}).boxed()
}

pub fn empty() -> UpstreamBody {
    full(Bytes::new())
}

fn new_exchange(
    id: u64,
    req: &Request<Incoming>,
    target: &Target,
    via: Via,
    client: Option<SocketAddr>,
) -> Exchange {
    Exchange {
        id,
        started_at: chrono::Utc::now(),
        client_addr: client.map(|a| a.to_string()),
        client_app: None,
        via,
        request: ReqHead {
            method: req.method().to_string(),
            scheme: target.scheme.to_string(),
            host: target.host.clone(),
            port: target.port,
            path: req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string(),
            version: version_label(req.version()),
            headers: headers_of(req.headers()),
            body: Body::default(),
        },
        response: None,
        chunks: Vec::new(),
        timings: Timings::default(),
        state: State::InFlight,
        source: Default::default(),
        websocket: None,
    }
}

pub fn headers_of(map: &HeaderMap) -> Headers {
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub fn version_label(v: Version) -> String {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
    .to_string()
}

/// What a `101` agreed to, when it switched to WebSocket.
fn websocket_of(headers: &HeaderMap) -> Option<crate::websocket::Negotiated> {
    let upgrade = headers.get(header::UPGRADE)?.to_str().ok()?;
    upgrade.trim().eq_ignore_ascii_case("websocket").then(|| {
        let extensions = headers
            .get(header::SEC_WEBSOCKET_EXTENSIONS)
            .and_then(|v| v.to_str().ok());
        crate::websocket::Negotiated::from_header(extensions)
    })
}

fn is_upgrade<B>(req: &Request<B>) -> bool {
    req.version() <= Version::HTTP_11 && req.headers().contains_key(header::UPGRADE)
}

/// Remove hop-by-hop headers, and any named in `Connection`. For an upgrade
/// the `Connection: upgrade` / `Upgrade` pair must reach the upstream.
fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Runs twice per exchange: allocate only for names a `Connection`
    // header lists, which most requests do not have.
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let kept = |name: &str| keep_upgrade && (name == "connection" || name == "upgrade");
    for name in HOP_BY_HOP.iter().copied() {
        if !kept(name) {
            headers.remove(name);
        }
    }
    for name in &named {
        if !kept(name) {
            headers.remove(name.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("x-api-key", HeaderValue::from_static("k"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-api-key"));
    }

    #[test]
    fn authority_brackets_ipv6() {
        let t = Target {
            scheme: "https",
            host: "::1".into(),
            port: 8443,
        };
        assert_eq!(t.authority(), "[::1]:8443");
    }
}
