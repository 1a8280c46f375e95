//! The exchange pipeline: record the request, forward it upstream, record
//! the response head, and hand the (teed) response body straight back.
//!
//! What the pipeline leans on lives beside it, one job each: `heads`
//! (hop-by-hop stripping and heads written down for capture), `mocked`
//! (the responder's decision, mocks played, forward overrides), `send`
//! (the request on its way upstream, pinned or pooled) and `reply`
//! (llmspy's own answers when a request cannot be relayed).

mod aim;
mod heads;
mod mocked;
mod reply;
mod send;
mod unsent;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use super::Shared;
use super::clients::Peer;
use super::guard::Pending;
use super::pinned::Pinned;
use super::tee::{Side, Tee};
use super::upstream::UpstreamBody;
use crate::capture::CaptureMsg;
use crate::exchange::{Body, Exchange, Failure, Request as ReqHead, State, Timings, Via};
use crate::respond::{Decision, Responder};
use aim::aim;
pub use heads::{addr_text, headers_of};
use heads::{
    is_upgrade, method_text, record_response_head, strip_hop_by_hop, version_label, websocket_of,
};
use mocked::{apply_override, decide, play};
use reply::fail;
pub use reply::{bodiless, empty, error_response, full};
use send::send;

/// Where a request goes: what the client asked llmspy to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: &'static str,
    pub host: String,
    pub port: u16,
    /// `host:port` parsed once, for the URI of every request relayed to
    /// this target (a tunnel's requests share one target); None when the
    /// host cannot be a URI authority, which each request then reports.
    uri_authority: Option<http::uri::Authority>,
    /// The `Host` an HTTP/1.1 upstream is sent, as hyper's client would
    /// write it from the URI (the port only when not the scheme's default),
    /// made once here rather than formatted per request.
    host_header: Option<http::HeaderValue>,
}

impl Target {
    pub fn new(scheme: &'static str, host: String, port: u16) -> Target {
        let uri_authority = http::uri::Authority::from_maybe_shared(authority(&host, port)).ok();
        let host_header = uri_authority.as_ref().and_then(|a| {
            let default_port = matches!((scheme, port), ("https", 443) | ("http", 80));
            http::HeaderValue::from_str(if default_port { a.host() } else { a.as_str() }).ok()
        });
        Target {
            scheme,
            host,
            port,
            uri_authority,
            host_header,
        }
    }

    /// `host:port`, bracketing IPv6 literals.
    pub fn authority(&self) -> String {
        authority(&self.host, self.port)
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Relay one request to `target` and return the response to send back;
/// `pinned` is the upstream connection the client's connection keeps, if
/// it keeps one.
pub async fn relay(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    target: Arc<Target>,
    via: Via,
    client: Option<Arc<Peer>>,
    pinned: Option<Arc<Pinned>>,
) -> Response<UpstreamBody> {
    let started = Instant::now();
    let id = shared.recorder.next_id();
    let mut exchange = new_exchange(id, &req, &target, via, client.as_ref().map(|p| p.addr));
    exchange.client_app = match super::clients::announced(req.headers()) {
        Some(name) if shared.proxy_auth.is_none() => Some(name.to_string()),
        _ => match client {
            Some(peer) => peer.name(&shared.clients).await,
            None => None,
        },
    };
    // The request head is copied a second time only for the responder,
    // which needs it with the body; decided once, so a request either waits
    // for its body and a decision or streams straight through.
    let mocking = shared
        .responder
        .as_ref()
        .filter(|r| r.active())
        .map(|r| (r.clone(), exchange.request.clone()));
    shared.recorder.send(CaptureMsg::Start(Box::new(exchange)));
    // If this future is dropped (the client went away) or panics before a
    // response is handed back, the guard finalises the exchange.
    let pending = Pending::new(id, started, shared.recorder.clone());
    let resp = forward(shared, req, target, mocking, pinned, (id, started)).await;
    pending.handed_over();
    resp
}

async fn forward(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    mut target: Arc<Target>,
    mocking: Option<(Arc<dyn Responder>, ReqHead)>,
    pinned: Option<Arc<Pinned>>,
    (id, started): (u64, Instant),
) -> Response<UpstreamBody> {
    let recorder = &shared.recorder;

    let upgrade = is_upgrade(&req).then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let (request_sent, sent) = tokio::sync::oneshot::channel();
    let (body, unsent) = unsent::wrap(body);
    let idle = shared.settings.client_idle_timeout;
    let body =
        unsent::request_tee(body, id, recorder.clone(), started, idle).signal_end(request_sent);
    let (mut body, decision) = match mocking {
        Some((r, head)) => match decide(r.as_ref(), body, head).await {
            Ok(v) => v,
            Err(failure) => return fail(&shared, id, started, StatusCode::BAD_REQUEST, failure),
        },
        None => (body.boxed(), Decision::Forward),
    };
    // The path as the client sent it, unless an expectation rewrites it.
    let mut path = None;
    match decision {
        Decision::Forward => {}
        Decision::Respond(mock) => return play(&shared, id, started, mock, parts.method == "HEAD"),
        Decision::ForwardTo(o) => {
            recorder.send(CaptureMsg::Mocked {
                id,
                expectation_id: o.expectation_id.clone(),
            });
            let mut rewritten = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            let aimed = Arc::make_mut(&mut target);
            apply_override(&o, aimed, &mut rewritten, &mut parts.headers, &mut body);
            path = Some(rewritten);
        }
    }
    // Speak to the upstream as the client spoke to llmspy, as mitmproxy
    // does: an HTTP/1.1 client's requests each get a pooled connection of
    // their own, so a thousand agents streaming at once never queue behind
    // one HTTP/2 connection's stream limit.
    let http1 = upgrade.is_some() || parts.version != Version::HTTP_2;
    // The connection's own upstream connection, unless the request is an
    // upgrade or a CONNECT (hyper-util's client handles both) or an
    // expectation aimed it elsewhere.
    let pinned = pinned.filter(|p| {
        http1 && upgrade.is_none() && parts.method != http::Method::CONNECT && p.serves(&target)
    });
    let aimed = aim(
        &mut parts,
        &target,
        path.as_deref(),
        (upgrade.is_some(), http1),
        pinned.is_none(),
    );
    if let Err(failure) = aimed {
        return fail(&shared, id, started, StatusCode::BAD_REQUEST, failure);
    }
    let req = Request::from_parts(parts, body);
    let sending = send(&shared, req, sent, &target, (http1, pinned), (id, started)).await;
    answer(shared, id, started, sending, unsent, upgrade).await
}

/// Relay the upstream's answer, or say why there is none.
async fn answer(
    shared: Arc<Shared>,
    id: u64,
    started: Instant,
    sending: Result<Response<Incoming>, (StatusCode, Failure)>,
    unsent: Option<tokio::sync::oneshot::Receiver<Incoming>>,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Response<UpstreamBody> {
    match sending {
        Ok(resp) => respond(shared, id, started, resp, upgrade).await,
        Err((status, failure)) => {
            // Not sent (the upstream was never reached): what the client
            // sent is still the record of the call.
            unsent::capture(unsent, id, &shared.recorder, started).await;
            fail(&shared, id, started, status, failure)
        }
    }
}

async fn respond(
    shared: Arc<Shared>,
    id: u64,
    started: Instant,
    mut resp: Response<Incoming>,
    client_upgrade: Option<hyper::upgrade::OnUpgrade>,
) -> Response<UpstreamBody> {
    let recorder = &shared.recorder;
    let cap = record_response_head(
        recorder,
        id,
        started,
        resp.status().as_u16(),
        version_label(resp.version()),
        headers_of(resp.headers()),
    );

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
    let mut tee = Tee::new(
        body,
        Side::Response,
        id,
        recorder.clone(),
        started,
        cap,
        shared.settings.idle_timeout,
    );
    // Asked only of a body that may pass the cap (most answers declare a
    // length under it).
    if tee.may_pass_cap() {
        let content_type = parts.headers.get(http::header::CONTENT_TYPE);
        if !crate::exchange::is_event_stream(content_type.and_then(|v| v.to_str().ok())) {
            tee = tee.lengths_in_runs_past_cap();
        }
    }
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
        client_addr: client.map(addr_text),
        client_app: None,
        via,
        request: ReqHead {
            method: method_text(req.method()),
            scheme: target.scheme.into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_brackets_ipv6() {
        let t = Target::new("https", "::1".into(), 8443);
        assert_eq!(t.authority(), "[::1]:8443");
    }

    #[test]
    fn the_host_header_is_what_hypers_client_would_write() {
        let host = |scheme, host: &str, port| {
            let t = Target::new(scheme, host.into(), port);
            t.host_header.map(|h| h.to_str().unwrap().to_string())
        };
        assert_eq!(host("https", "api.test", 443).as_deref(), Some("api.test"));
        assert_eq!(
            host("https", "api.test", 80).as_deref(),
            Some("api.test:80")
        );
        assert_eq!(host("http", "api.test", 80).as_deref(), Some("api.test"));
        assert_eq!(
            host("http", "127.0.0.1", 8080).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(host("https", "::1", 443).as_deref(), Some("[::1]"));
        assert_eq!(host("https", "::1", 8443).as_deref(), Some("[::1]:8443"));
        assert_eq!(host("https", "bad host", 443), None);
    }
}
