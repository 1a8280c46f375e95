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
//! connection to the same origin finds it, and is closed once idle for
//! `upstream_idle_timeout`, as the pool's were. nginx keeps its upstream
//! connections the same way, per worker, with no lock.
//!
//! Upgrades (WebSocket), `CONNECT` and requests an expectation sends
//! elsewhere still go through the pooled client (relay.rs).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;

use super::BoxError;
use super::relay::Target;
use super::upstream::{Connector, UpstreamBody};

type Sender = SendRequest<UpstreamBody>;

/// Where a connection leads: the scheme and `host:port`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Origin {
    https: bool,
    authority: String,
}

struct Parked {
    sender: Sender,
    since: Instant,
}

#[derive(Default)]
struct Parking {
    by_origin: HashMap<Origin, Vec<Parked>>,
    /// A sweeper task is running (it stops when the list empties).
    sweeping: bool,
}

/// A worker's idle upstream HTTP/1.1 connections, and how it opens more.
pub struct Idle {
    connector: Connector,
    limit: Duration,
    parking: Mutex<Parking>,
}

impl Idle {
    pub fn new(connector: Connector, limit: Duration) -> Arc<Idle> {
        Arc::new(Idle {
            connector,
            limit,
            parking: Mutex::new(Parking::default()),
        })
    }

    /// A parked connection to `origin` still open, the latest first.
    fn take(&self, origin: &Origin) -> Option<Sender> {
        let mut parking = self.parking.lock().unwrap_or_else(|e| e.into_inner());
        let parked = parking.by_origin.get_mut(origin)?;
        while let Some(p) = parked.pop() {
            if p.sender.is_ready() {
                return Some(p.sender);
            }
        }
        None
    }

    /// Park `sender` for the next client connection to `origin`; a sweeper
    /// closes it once idle past the limit. Outside a runtime (a worker
    /// shutting down) there is no sweeper, so nothing is parked.
    fn park(self: &Arc<Idle>, origin: Origin, sender: Sender) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut parking = self.parking.lock().unwrap_or_else(|e| e.into_inner());
        parking.by_origin.entry(origin).or_default().push(Parked {
            sender,
            since: Instant::now(),
        });
        if !parking.sweeping {
            parking.sweeping = true;
            runtime.spawn(self.clone().sweep());
        }
    }

    /// Close what has been idle past the limit (or the upstream closed),
    /// every half limit, until nothing is parked.
    async fn sweep(self: Arc<Idle>) {
        let every = (self.limit / 2).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let mut parking = self.parking.lock().unwrap_or_else(|e| e.into_inner());
            let limit = self.limit;
            parking.by_origin.retain(|_, parked| {
                parked.retain(|p| !p.sender.is_closed() && p.since.elapsed() < limit);
                !parked.is_empty()
            });
            if parking.by_origin.is_empty() {
                parking.sweeping = false;
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
    kept: Mutex<Option<Sender>>,
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
        let (mut sender, reused) = match self.reuse().await {
            Some(sender) => (sender, true),
            None => match self.idle.take(&self.origin) {
                Some(sender) => (sender, true),
                None => (self.open().await?, false),
            },
        };
        let resp = match sender.try_send_request(req).await {
            Ok(resp) => resp,
            Err(mut e) => match e.take_message() {
                // The upstream closed a kept connection before the request
                // was written: nothing was sent, so it goes on a new one
                // (as hyper-util's pool retries).
                Some(req) if reused => {
                    sender = self.open().await?;
                    sender.send_request(req).await?
                }
                _ => return Err(e.into_error().into()),
            },
        };
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender);
        Ok(resp)
    }

    /// A new connection, its future boxed: connecting and the handshake are
    /// kilobytes of state, which every request's future would otherwise
    /// carry (and copy) for the rare request that opens one.
    fn open(&self) -> Pin<Box<dyn Future<Output = Result<Sender, BoxError>> + Send + '_>> {
        Box::pin(self.idle.open(&self.origin))
    }

    /// The connection kept from the last request, once it is ready again.
    async fn reuse(&self) -> Option<Sender> {
        let mut sender = self.kept.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        sender.ready().await.ok()?;
        Some(sender)
    }
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
        if let Some(sender) = kept.filter(SendRequest::is_ready) {
            self.idle.park(self.origin.clone(), sender);
        }
    }
}
