//! A worker's idle upstream HTTP/1.1 connections: parked ones, between two
//! client connections, and the ones client connections keep between two
//! requests. A sweeper task closes each when its idle time is up, waking
//! for the first to expire, and stops when there is nothing to watch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use http::Uri;
use hyper::client::conn::http1::SendRequest;
use tokio::sync::Notify;

use super::super::BoxError;
use super::super::upstream::{Connector, UpstreamBody};
use super::Pinned;

pub(super) type Sender = SendRequest<UpstreamBody>;

/// Where a connection leads: the scheme and `host:port`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Origin {
    pub https: bool,
    pub authority: String,
}

/// A connection between requests, and when its last response head came
/// (its idle time counts from there: the end of the body is not known
/// where the connection is kept, so it looks older than it is, never
/// younger).
pub(super) struct Kept {
    pub sender: Sender,
    pub since: Instant,
}

#[derive(Default)]
struct Parking {
    by_origin: HashMap<Origin, Vec<Kept>>,
    /// Client connections that keep a connection, watched for its age.
    held: Vec<Weak<Pinned>>,
    /// When the sweeper wakes next; None while no sweeper runs.
    sweep_at: Option<Instant>,
}

/// A worker's idle upstream HTTP/1.1 connections, and how it opens more.
pub struct Idle {
    connector: Connector,
    pub(super) limit: Duration,
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

    fn parking(&self) -> MutexGuard<'_, Parking> {
        self.parking.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A parked connection to `origin` still open and young enough, the
    /// latest first.
    pub(super) fn take(&self, origin: &Origin) -> Option<Kept> {
        let mut parking = self.parking();
        let parked = parking.by_origin.get_mut(origin)?;
        while let Some(kept) = parked.pop() {
            if kept.sender.is_ready() && kept.since.elapsed() < self.limit {
                return Some(kept);
            }
        }
        None
    }

    /// Park `kept` for the next client connection to `origin`.
    pub(super) fn park(self: &Arc<Idle>, origin: Origin, kept: Kept) {
        let expires = kept.since + self.limit;
        let mut parking = self.parking();
        parking.by_origin.entry(origin).or_default().push(kept);
        self.watch(&mut parking, expires);
    }

    /// Watch the connection `pinned` keeps from now on (called once per
    /// client connection, when it first keeps one).
    pub(super) fn hold(self: &Arc<Idle>, pinned: &Arc<Pinned>) {
        let mut parking = self.parking();
        parking.held.push(Arc::downgrade(pinned));
        self.watch(&mut parking, Instant::now() + self.limit);
    }

    /// Have the sweeper wake by `expires`, starting one if none runs.
    /// Outside a runtime (a worker shutting down) nothing is started; what
    /// is parked then closes as the worker's tasks are dropped.
    fn watch(self: &Arc<Idle>, parking: &mut Parking, expires: Instant) {
        match parking.sweep_at {
            None => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    parking.sweep_at = Some(expires);
                    runtime.spawn(self.clone().sweep());
                }
            }
            Some(at) if expires < at => {
                parking.sweep_at = Some(expires);
                self.sooner.notify_one();
            }
            Some(_) => {}
        }
    }

    /// Close each connection when its idle time is up (or once its server
    /// closed it), until none is left to watch.
    async fn sweep(self: Arc<Idle>) {
        loop {
            let Some(at) = self.parking().sweep_at else {
                return;
            };
            tokio::select! {
                () = tokio::time::sleep_until(at.into()) => {}
                () = self.sooner.notified() => continue,
            }
            // Kept connections first, each client connection's lock alone.
            let held: Vec<Arc<Pinned>> = {
                let mut parking = self.parking();
                parking.held.retain(|w| w.strong_count() > 0);
                parking.held.iter().filter_map(Weak::upgrade).collect()
            };
            let now = Instant::now();
            // One whose slot is empty (a request in flight) keeps a
            // connection from now at the earliest.
            let mut first = held
                .iter()
                .map(|p| p.expire_kept(self.limit).unwrap_or(now) + self.limit)
                .min();
            drop(held);
            let mut parking = self.parking();
            let limit = self.limit;
            parking.by_origin.retain(|_, parked| {
                parked.retain(|k| !k.sender.is_closed() && k.since.elapsed() < limit);
                !parked.is_empty()
            });
            let parked = parking
                .by_origin
                .values()
                .flatten()
                .map(|k| k.since + limit);
            first = first.into_iter().chain(parked).min();
            parking.sweep_at = first;
            // Decided under the lock: whatever comes to be watched after
            // this starts a sweeper of its own.
            if first.is_none() && parking.held.is_empty() {
                return;
            }
            if first.is_none() {
                parking.sweep_at = Some(now + limit);
            }
        }
    }

    /// A new connection to `origin`, its task spawned beside the worker's
    /// others (in a cork scope, as the pooled client spawns them).
    pub(super) async fn open(&self, origin: &Origin) -> Result<Sender, BoxError> {
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
        tokio::spawn(super::super::cork::Scoped::new(async move {
            if let Err(e) = conn.await {
                tracing::debug!("upstream connection ended: {e}");
            }
        }));
        Ok(sender)
    }
}
