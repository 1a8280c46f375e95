//! The responder's part in the relay: while expectations exist a request
//! waits for its body and a decision, then is answered by a mock (played
//! with its delays) or forwarded with an `httpForward` override applied.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::Target;
use super::heads::{record_response_head, strip_hop_by_hop};
use super::reply::{empty, full};
use crate::capture::CaptureMsg;
use crate::engine::tee::{Side, Tee, elapsed_us};
use crate::engine::upstream::UpstreamBody;
use crate::engine::{BoxError, Shared, failure};
use crate::exchange::{Body, Failure, FailureKind, Request as ReqHead};
use crate::respond::{Decision, ForwardOverride, MockResponse, Responder};

/// Read the whole request body (teed into capture as it arrives) and ask the
/// responder what to do. Only runs while expectations exist.
pub async fn decide(
    responder: &dyn Responder,
    body: Tee<super::unsent::Unsent>,
    mut head: ReqHead,
) -> Result<(UpstreamBody, Decision), Failure> {
    let bytes = body.collect().await.map(|b| b.to_bytes()).map_err(|e| {
        Failure::new(
            FailureKind::ClientGone,
            format!("the request body broke off: {}", failure::chain(&*e)),
        )
    })?;
    head.body = Body::from_bytes(bytes.to_vec());
    let decision = responder.decide(&head);
    Ok((full(bytes), decision))
}

/// Send a mocked response, chunk by chunk with its delays, through the same
/// tee as upstream responses so it is captured and timed alike.
pub fn play(
    shared: &Arc<Shared>,
    id: u64,
    started: Instant,
    mut mock: MockResponse,
    head_only: bool,
) -> Response<UpstreamBody> {
    let recorder = &shared.recorder;
    recorder.send(CaptureMsg::Mocked {
        id,
        expectation_id: mock.expectation_id.clone(),
    });
    let cap = record_response_head(
        recorder,
        id,
        started,
        mock.status,
        "HTTP/1.1".into(),
        mock.headers.clone(),
    );
    // Nothing to send after the head, and nothing to wait for: it goes
    // out as the whole answer (over HTTP/2, a HEADERS frame that ends the
    // stream, which is how a gRPC error without a message is sent; an empty
    // DATA frame after it would turn it into a call with no status).
    let head_is_all = mock.trailers.is_empty()
        && mock
            .chunks
            .iter()
            .all(|c| c.data.is_empty() && c.delay.is_zero());
    if head_only || head_is_all || super::bodiless(status_of(&mock)) {
        // The answer to a HEAD, a 204, a 304: the head alone, and the
        // exchange is done.
        recorder.send(CaptureMsg::Finish {
            id,
            at_us: elapsed_us(started),
            failure: None,
        });
        return mocked_head(Response::new(empty()), &mock);
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(4);
    let chunks = std::mem::take(&mut mock.chunks);
    let trailers = (!mock.trailers.is_empty()).then(|| header_map(&mock.trailers));
    tokio::spawn(async move {
        for chunk in chunks {
            if !chunk.delay.is_zero() {
                tokio::time::sleep(chunk.delay).await;
            }
            if tx.send(Ok(Frame::data(chunk.data))).await.is_err() {
                return; // the client went away; the tee records it
            }
        }
        if let Some(trailers) = trailers {
            let _ = tx.send(Ok(Frame::trailers(trailers))).await;
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
    mocked_head(Response::new(tee.boxed()), &mock)
}

fn status_of(mock: &MockResponse) -> StatusCode {
    StatusCode::from_u16(mock.status).unwrap_or(StatusCode::OK)
}

/// `resp` with the mock's status and headers.
fn mocked_head(mut resp: Response<UpstreamBody>, mock: &MockResponse) -> Response<UpstreamBody> {
    *resp.status_mut() = status_of(mock);
    resp.headers_mut().extend(header_map(&mock.headers));
    strip_hop_by_hop(resp.headers_mut(), false);
    resp
}

/// A mock's fields as hyper sends them; a name or value HTTP cannot carry
/// is left out (the expectation was checked when it was loaded).
fn header_map(fields: &crate::exchange::Headers) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(fields.len());
    for (name, value) in fields {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            out.append(n, v);
        }
    }
    out
}

/// Apply an `httpForward` override to where and what the request carries.
pub fn apply_override(
    o: &ForwardOverride,
    target: &mut Target,
    path: &mut String,
    headers: &mut HeaderMap,
    body: &mut UpstreamBody,
) {
    if o.scheme.is_some() || o.host.is_some() || o.port.is_some() {
        let scheme = match &o.scheme {
            Some(s) if s.eq_ignore_ascii_case("https") => "https",
            Some(_) => "http",
            None => target.scheme,
        };
        let host = o.host.clone().unwrap_or_else(|| target.host.clone());
        // Made anew, so its parsed authority follows the new host and port.
        *target = Target::new(scheme, host, o.port.unwrap_or(target.port));
    }
    if let Some(p) = &o.path {
        path.clone_from(p);
    }
    for (name, value) in &o.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
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
