//! An intercepted HTTP/1.x client connection's own upstream connection.
//!
//! hyper-util's pooled client pays for every request: a checkout and a
//! return under the pool's lock, the pool key hashed each time, the
//! connector cloned, and a task spawned per response only to hand the
//! connection back once the response is read. An HTTP/1.1 client sends one
//! request at a time on a connection, so the upstream connection it used
//! last is the one to use next: each intercepted connection keeps it and
//! waits for it to be ready (at once, unless a pipelined request arrives
//! while the last body is still read). When the client connection ends, its
//! upstream connection goes to the worker's idle list, where the next client
//! connection to the same origin finds it. None is used again, nor left
//! open, once idle for `upstream_idle_timeout`, as the pool's were; idle
//! counts from its last response head, so a connection is never older than
//! it looks. nginx keeps its upstream connections the same way, per worker,
//! with no lock.
//!
//! A server closes an idle connection when its keep-alive timeout passes,
//! and a request sent at that moment is lost with it. On a connection idle
//! a second or more, a request that is safe to send twice and has no body
//! is sent again on a new connection when the old one closes before
//! answering, as nginx and Go's client do; its head is copied only then, so
//! a busy connection's requests pay nothing for it.
//!
//! Upgrades (WebSocket), `CONNECT` and requests an expectation sends
//! elsewhere still go through the pooled client (relay.rs).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response, Uri};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use tokio::sync::Notify;

use super::BoxError;
use super::relay::Target;
use super::upstream::{Connector, UpstreamBody};

type Sender = SendRequest<UpstreamBody>;

/// Idle this long, a connection may be closing under its server's
/// keep-alive timeout (whole seconds, one at the least) as a request goes
/// out on it.
const MAY_BE_CLOSING: Duration = Duration::from_secs(1);

/// Where a connection leads: the scheme and `host:port`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Origin {
    https: bool,
    authority: String,
}

/// A connection between requests, and when its last response head came.
struct Kept {
    sender: Sender,
    since: Instant,
}

#[derive(Default)]
struct Parking {
    by_origin: HashMap<Origin, Vec<Kept>>,
    /// When the sweeper wakes next; None while no sweeper runs (it stops
    /// when nothing is parked).
    sweep_at: Option<Instant>,
}

/// A worker's idle upstream HTTP/1.1 connections, and how it opens more.
pub struct Idle {
    connector: Connector,
    limit: Duration,
    parking: Mutex<Parking>,
    /// Wakes the sweeper early for a connection that expires first.
    sooner: Notify,
}

impl Idle {
    pub fn new(connector: Connector, limit: Duration) -> Arc<Idle> {
        Arc::new(Idle {
            connector,
            limit,
            parking: Mutex::new(Parking::default()),
            sooner: Notify::new(),
        })
    }

    fn parking(&self) -> std::sync::MutexGuard<'_, Parking> {
        self.parking.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A parked connection to `origin` still open and young enough, the
    /// latest first.
    fn take(&self, origin: &Origin) -> Option<Kept> {
        let mut parking = self.parking();
        let parked = parking.by_origin.get_mut(origin)?;
        while let Some(kept) = parked.pop() {
            if kept.sender.is_ready() && kept.since.elapsed() < self.limit {
                return Some(kept);
            }
        }
        None
    }

    /// Park `kept` for the next client connection to `origin`; the sweeper
    /// closes it when its idle time is up. Outside a runtime (a worker
    /// shutting down) there is no sweeper, so nothing is parked.
    fn park(self: &Arc<Idle>, origin: Origin, kept: Kept) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let expires = kept.since + self.limit;
        let mut parking = self.parking();
        parking.by_origin.entry(origin).or_default().push(kept);
        match parking.sweep_at {
            None => {
                parking.sweep_at = Some(expires);
                runtime.spawn(self.clone().sweep());
            }
            Some(at) if expires < at => {
                parking.sweep_at = Some(expires);
                self.sooner.notify_one();
            }
            Some(_) => {}
        }
    }

    /// Close each parked connection when its idle time is up (or once its
    /// server closed it), waking for the first to expire, until none is
    /// left.
    async fn sweep(self: Arc<Idle>) {
        loop {
            let Some(at) = self.parking().sweep_at else {
                return;
            };
            tokio::select! {
                () = tokio::time::sleep_until(at.into()) => {}
                () = self.sooner.notified() => continue,
            }
            let mut parking = self.parking();
            let limit = self.limit;
            parking.by_origin.retain(|_, parked| {
                parked.retain(|k| !k.sender.is_closed() && k.since.elapsed() < limit);
                !parked.is_empty()
            });
            let first = parking.by_origin.values().flatten().map(|k| k.since).min();
            parking.sweep_at = first.map(|since| since + limit);
            // Decided under the lock: a connection parked after this starts
            // a sweeper of its own.
            if parking.sweep_at.is_none() {
                return;
            }
        }
    }

    /// A new connection to `origin`, its task spawned beside the worker's
    /// others (in a cork scope, as the pooled client spawns them).
    async fn open(&self, origin: &Origin) -> Result<Sender, BoxError> {
        let scheme = if origin.https { "https" } else { "http" };
        let uri = Uri::builder()
            .scheme(scheme)
            .authority(origin.authority.as_str())
            .path_and_query("/")
            .build()?;
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| tower_service::Service::poll_ready(&mut connector, cx)).await?;
        let io = tower_service::Service::call(&mut connector, uri).await?;
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(io)
            .await?;
        tokio::spawn(super::cork::Scoped::new(async move {
            if let Err(e) = conn.await {
                tracing::debug!("upstream connection ended: {e}");
            }
        }));
        Ok(sender)
    }
}

/// The upstream connection one client connection keeps.
pub struct Pinned {
    target: Arc<Target>,
    origin: Origin,
    idle: Arc<Idle>,
    kept: Mutex<Option<Kept>>,
}

impl Pinned {
    pub fn new(target: Arc<Target>, idle: Arc<Idle>) -> Arc<Pinned> {
        let origin = Origin {
            https: target.scheme == "https",
            authority: target.authority(),
        };
        Arc::new(Pinned {
            target,
            origin,
            idle,
            kept: Mutex::new(None),
        })
    }

    /// Whether a request aimed at `target` may use this connection: only
    /// the tunnel's own target (an expectation's override is another).
    pub fn serves(&self, target: &Arc<Target>) -> bool {
        Arc::ptr_eq(&self.target, target)
    }

    /// Send `req` (its URI in origin form) and wait for the response head.
    pub async fn send(&self, req: Request<UpstreamBody>) -> Result<Response<Incoming>, BoxError> {
        let (mut sender, idle) = match self.reuse().await {
            Some((sender, idle)) => (sender, Some(idle)),
            None => match self.idle.take(&self.origin) {
                Some(kept) => (kept.sender, Some(kept.since.elapsed())),
                None => (self.open().await?, None),
            },
        };
        let again = idle
            .filter(|idle| *idle >= MAY_BE_CLOSING)
            .and_then(|_| head_to_send_again(&req));
        let resp = match sender.try_send_request(req).await {
            Ok(resp) => resp,
            Err(mut e) => match (e.take_message(), again) {
                // The upstream closed a kept connection before the request
                // was written: nothing was sent, so it goes on a new one
                // (as hyper-util's pool retries).
                (Some(req), _) if idle.is_some() => {
                    sender = self.open().await?;
                    sender.send_request(req).await?
                }
                // Written as the server closed the idle connection.
                (None, Some(req)) if closed_unanswered(e.error()) => {
                    tracing::debug!(
                        "{}: an idle upstream connection closed as a request went out; sent again on a new one",
                        self.origin.authority
                    );
                    sender = self.open().await?;
                    sender.send_request(req).await?
                }
                _ => return Err(e.into_error().into()),
            },
        };
        let kept = Kept {
            sender,
            since: Instant::now(),
        };
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(kept);
        Ok(resp)
    }

    /// A new connection, its future boxed: connecting and the handshake are
    /// kilobytes of state, which every request's future would otherwise
    /// carry (and copy) for the rare request that opens one.
    fn open(&self) -> Pin<Box<dyn Future<Output = Result<Sender, BoxError>> + Send + '_>> {
        Box::pin(self.idle.open(&self.origin))
    }

    /// The connection kept from the last request, once it is ready again,
    /// and how long it has been idle; none once idle past the limit.
    async fn reuse(&self) -> Option<(Sender, Duration)> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        let idle = kept.since.elapsed();
        if idle >= self.idle.limit {
            return None;
        }
        let mut sender = kept.sender;
        sender.ready().await.ok()?;
        Some((sender, idle))
    }
}

/// A copy of `req` to send again if its connection closes unanswered: for
/// a method safe to repeat (RFC 9110 §9.2.2) with no body.
fn head_to_send_again(req: &Request<UpstreamBody>) -> Option<Request<UpstreamBody>> {
    if !req.method().is_idempotent() || !req.body().is_end_stream() {
        return None;
    }
    let empty = http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed();
    let mut copy = Request::new(empty);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    Some(copy)
}

/// Whether `e` is a connection that closed (or was reset) before the
/// response came.
fn closed_unanswered(e: &hyper::Error) -> bool {
    if e.is_incomplete_message() {
        return true;
    }
    let io = super::failure::find::<std::io::Error>(e);
    io.is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        )
    })
}

impl Drop for Pinned {
    /// The client connection ended: its upstream connection is parked if
    /// it is between responses (one still being read is dropped, which
    /// closes it once done).
    fn drop(&mut self) {
        let kept = self
            .kept
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(kept) = kept.filter(|k| k.sender.is_ready()) {
            self.idle.park(self.origin.clone(), kept);
        }
    }
}
