//! The request on its way upstream: on the client connection's own
//! upstream connection when it keeps one (pinned.rs), else through the
//! pooled client, within the response deadline; a request lost to a
//! closing kept connection goes once more (resend.rs).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

use super::Target;
use crate::engine::pinned::Pinned;
use crate::engine::resend::{Record, Resend, Watched};
use crate::engine::upstream::{UpstreamBody, UpstreamClient};
use crate::engine::{BoxError, Shared, deadline, failure};
use crate::exchange::Failure;

/// Send the request upstream and wait for its response head; the deadline
/// counts from `sent` (the request body gone in full). A pinned connection
/// takes it if there is one; otherwise `http1` picks the HTTP/1.1-only
/// pooled client.
pub async fn send(
    shared: &Shared,
    req: Request<UpstreamBody>,
    sent: tokio::sync::oneshot::Receiver<()>,
    target: &Target,
    (http1, pinned): (bool, Option<Arc<Pinned>>),
    (id, started): (u64, Instant),
) -> Result<Response<Incoming>, (StatusCode, Failure)> {
    let limit = shared.settings.upstream_response_timeout;
    // Where a resend is written down.
    let record = Record {
        recorder: &shared.recorder,
        id,
        started,
    };
    let answered = match pinned {
        // Boxed, as the pooled client's future is: kept inline, its states
        // (a reused connection's wait, the send, a resend) made every
        // request's future kilobytes larger, copied when `serve` boxes it.
        Some(pinned) => {
            deadline::response_head(Box::pin(pinned.send(req, record)), sent, limit).await
        }
        None => {
            let pools = shared.upstream_pools();
            let client = if http1 { &pools.http1 } else { &pools.any };
            let sending = pooled(client, req, target, record);
            deadline::response_head(sending, sent, limit).await
        }
    };
    match answered {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(e)) => {
            let failure = failure::upstream(&target.authority(), e.as_ref());
            Err((failure::status(&failure), failure))
        }
        Err(limit) => Err((
            StatusCode::GATEWAY_TIMEOUT,
            failure::no_response(&target.authority(), limit),
        )),
    }
}

/// Send through the pooled client, once more if a connection the pool kept
/// closed as the request went out (resend.rs); boxed, as the client's own
/// future is.
fn pooled<'a>(
    client: &'a UpstreamClient,
    req: Request<UpstreamBody>,
    target: &'a Target,
    record: Record<'a>,
) -> std::pin::Pin<Box<dyn Future<Output = Result<Response<Incoming>, BoxError>> + Send + 'a>> {
    Box::pin(async move {
        let again = Resend::of(&req);
        let mut sending = Watched::new(client.request(req));
        match (&mut sending).await {
            Ok(resp) => Ok(resp),
            Err(e) => match again
                .filter(|_| sending.on_kept_connection())
                .and_then(|a| a.after(&e, &target.authority(), &record))
            {
                Some(req) => Ok(client.request(req).await?),
                None => Err(e.into()),
            },
        }
    })
}
