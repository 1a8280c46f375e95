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
//! A request lost to a server closing an idle connection is sent again as
//! resend.rs says, on a connection idle half a second or more: its head is
//! copied only then, so a busy connection's requests pay nothing for it.
//!
//! Upgrades (WebSocket), `CONNECT` and requests an expectation sends
//! elsewhere still go through the pooled client (relay.rs).

mod idle;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response};
use hyper::body::Incoming;

use super::BoxError;
use super::relay::Target;
use super::resend::{Record, Resend};
use super::upstream::UpstreamBody;
pub use idle::Idle;
use idle::{Kept, Origin, Sender};

/// Idle this long, a connection may be closing under its server's
/// keep-alive timeout as a request goes out on it. Keep-alive timeouts are
/// whole seconds (one at the least), but the server counts from when it
/// finished the response, a little before llmspy has it: a request sent
/// 999 ms after a 1 s server's last answer was lost with a 1 s threshold.
const MAY_BE_CLOSING: Duration = Duration::from_millis(500);

/// The upstream connection one client connection keeps.
pub struct Pinned {
    target: Arc<Target>,
    origin: Origin,
    idle: Arc<Idle>,
    kept: Mutex<Option<Kept>>,
    /// The idle list's sweeper watches this connection's age (from its
    /// first kept connection on).
    watched: AtomicBool,
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
            watched: AtomicBool::new(false),
        })
    }

    /// Whether a request aimed at `target` may use this connection: only
    /// the tunnel's own target (an expectation's override is another).
    pub fn serves(&self, target: &Arc<Target>) -> bool {
        Arc::ptr_eq(&self.target, target)
    }

    /// Send `req` (its URI in origin form) and wait for the response head.
    pub async fn send(
        self: &Arc<Self>,
        req: Request<UpstreamBody>,
        record: Record<'_>,
    ) -> Result<Response<Incoming>, BoxError> {
        let (mut sender, idle) = match self.reuse().await {
            Some((sender, idle)) => (sender, Some(idle)),
            None => match self.idle.take(&self.origin) {
                Some(kept) => (kept.sender, Some(kept.since.elapsed())),
                None => (self.open().await?, None),
            },
        };
        let again = idle
            .filter(|idle| *idle >= MAY_BE_CLOSING)
            .and_then(|_| Resend::of(&req));
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
                (None, Some(again)) => {
                    match again.after(e.error(), &self.origin.authority, &record) {
                        Some(req) => {
                            sender = self.open().await?;
                            sender.send_request(req).await?
                        }
                        None => return Err(e.into_error().into()),
                    }
                }
                _ => return Err(e.into_error().into()),
            },
        };
        let kept = Kept {
            sender,
            since: Instant::now(),
        };
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(kept);
        if !self.watched.swap(true, Ordering::Relaxed) {
            self.idle.hold(self);
        }
        Ok(resp)
    }

    /// For the sweeper: close the kept connection if idle past `limit`;
    /// otherwise when it went idle, if one is kept.
    fn expire_kept(&self, limit: Duration) -> Option<Instant> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let since = kept.as_ref()?.since;
        if since.elapsed() < limit {
            return Some(since);
        }
        // Dropping the sender closes the connection (once a body still
        // being read is done).
        *kept = None;
        None
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
