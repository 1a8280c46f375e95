//! A connector with one deadline over TCP connect and the TLS handshake.
//!
//! hyper-util's `HttpConnector::set_connect_timeout` covers the TCP connect
//! only; a server that accepts and then never answers the ClientHello would
//! hold the request for ever. Wrapping the whole HTTPS connector covers both.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;

use super::BoxError;

/// The error a connect yields when the deadline passed first.
#[derive(Debug, thiserror::Error)]
#[error("no connection within {} (upstreamConnectTimeoutSeconds)", super::guard::seconds(*.0))]
pub struct ConnectTimeout(pub Duration);

/// `inner`, with each connect (TCP and TLS) bounded by `limit`.
#[derive(Debug, Clone)]
pub struct TimedConnector<C> {
    inner: C,
    limit: Option<Duration>,
}

impl<C> TimedConnector<C> {
    pub fn new(inner: C, limit: Option<Duration>) -> Self {
        TimedConnector { inner, limit }
    }
}

type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl<C> tower_service::Service<Uri> for TimedConnector<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Connecting<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        super::resend::connecting();
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            match limit {
                None => connecting.await.map_err(Into::into),
                Some(limit) => match tokio::time::timeout(limit, connecting).await {
                    Ok(done) => done.map_err(Into::into),
                    Err(_) => Err(Box::new(ConnectTimeout(limit)) as BoxError),
                },
            }
        })
    }
}
