//! The open client connections and when each last had a request in
//! progress: a connection with none for `clientIdleTimeoutSeconds` is
//! closed (a stalled handshake, half a request head, an idle keep-alive),
//! and near the open-file limit the longest-idle ones are shed so new
//! clients and the control API are still served.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Why a connection was closed from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// No request in progress for the client idle deadline.
    Idle(Duration),
    /// Shed to make room near the open-file limit.
    Shed,
}

/// Every open client connection.
#[derive(Debug)]
pub struct Registry {
    conns: Mutex<HashMap<u64, Weak<Conn>>>,
    /// Connections registered and not asked to close.
    staying: AtomicUsize,
    next: AtomicU64,
    limit: usize,
    epoch: Instant,
}

/// One client connection's activity.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    registry: Weak<Registry>,
    active: AtomicUsize,
    /// Milliseconds since the registry's epoch when the last request ended
    /// (or the connection opened).
    idle_since_ms: AtomicU64,
    shedding: AtomicBool,
    shed: Notify,
    /// The client's socket, once accepted: HTTP/2 streams' deadline reads
    /// its send queue (stream_deadline.rs); -1 until set.
    socket: std::sync::atomic::AtomicI32,
}

/// A request in progress on a connection; dropping it marks the end.
#[derive(Debug)]
pub struct Active(Arc<Conn>);

impl Registry {
    /// A registry holding at most `limit` client connections before it
    /// sheds idle ones.
    pub fn new(limit: usize) -> Arc<Registry> {
        Arc::new(Registry {
            conns: Mutex::new(HashMap::new()),
            staying: AtomicUsize::new(0),
            next: AtomicU64::new(1),
            limit: limit.max(1),
            epoch: Instant::now(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Weak<Conn>>> {
        // A panic while holding this lock leaves a consistent map.
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a new connection; past the limit, shed the longest-idle
    /// others to make room.
    pub fn open(self: &Arc<Self>) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            registry: Arc::downgrade(self),
            active: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            shedding: AtomicBool::new(false),
            shed: Notify::new(),
            socket: std::sync::atomic::AtomicI32::new(-1),
        });
        // A counter, not a walk over the map: this runs on every accept.
        // Counted before it is in the map, where a shed may find it and
        // uncount it.
        let staying = self.staying.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(conn.id, Arc::downgrade(&conn));
        if staying > self.limit {
            let shed = self.shed_idle(staying - self.limit);
            if shed == 0 {
                tracing::warn!(
                    "{staying} client connections open (limit {}), none idle to close",
                    self.limit
                );
            }
        }
        conn
    }

    /// Client connections open now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Ask up to `n` connections with no request in progress to close,
    /// longest idle first. Returns how many were asked.
    pub fn shed_idle(&self, n: usize) -> usize {
        // Upgraded under the lock but judged and dropped after it: the last
        // handle to a connection closing meanwhile may be one of these, and
        // dropping it runs `Conn::drop`, which takes the lock.
        let open: Vec<Arc<Conn>> = self.lock().values().filter_map(Weak::upgrade).collect();
        let mut idle: Vec<&Arc<Conn>> = open
            .iter()
            .filter(|c| c.active.load(Ordering::Relaxed) == 0)
            .filter(|c| !c.shedding.load(Ordering::Relaxed))
            .collect();
        idle.sort_by_key(|c| (c.idle_since_ms.load(Ordering::Relaxed), c.id));
        let mut asked = 0;
        for conn in idle {
            if asked == n {
                break;
            }
            // Another shed may have picked it since the filter.
            if conn.shedding.swap(true, Ordering::Relaxed) {
                continue;
            }
            self.staying.fetch_sub(1, Ordering::Relaxed);
            // notify_one keeps a permit if the task is not waiting yet.
            conn.shed.notify_one();
            asked += 1;
        }
        if asked > 0 {
            tracing::info!(
                "closed {asked} idle client connection(s) to stay under the open-file limit"
            );
        }
        asked
    }
}

impl Conn {
    /// Mark a request in progress until the returned guard is dropped.
    /// Note the client's socket (`fd`).
    pub fn set_socket(&self, fd: std::os::fd::RawFd) {
        self.socket.store(fd, Ordering::Relaxed);
    }

    /// The client's socket, when noted.
    pub fn socket(&self) -> Option<std::os::fd::RawFd> {
        Some(self.socket.load(Ordering::Relaxed)).filter(|fd| *fd >= 0)
    }

    pub fn request(self: &Arc<Self>) -> Active {
        self.active.fetch_add(1, Ordering::Relaxed);
        Active(self.clone())
    }

    /// Resolves when the connection should close: no request in progress
    /// for `idle_limit` (never, when None), or shed to make room.
    pub async fn closed(&self, idle_limit: Option<Duration>) -> Closed {
        tokio::select! {
            biased;
            _ = self.shed.notified() => Closed::Shed,
            limit = self.idle(idle_limit) => Closed::Idle(limit),
        }
    }

    async fn idle(&self, limit: Option<Duration>) -> Duration {
        let Some(limit) = limit else {
            return std::future::pending().await;
        };
        let Some(registry) = self.registry.upgrade() else {
            return std::future::pending().await;
        };
        loop {
            // While a request runs, look again one limit later; once none
            // does, sleep exactly until the deadline of the last one's end.
            let wake = if self.active.load(Ordering::Relaxed) > 0 {
                Instant::now() + limit
            } else {
                let since = self.idle_since_ms.load(Ordering::Relaxed);
                let since = registry.epoch + Duration::from_millis(since);
                if since.elapsed() >= limit {
                    return limit;
                }
                since + limit
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        let conn = &self.0;
        if let Some(registry) = conn.registry.upgrade() {
            conn.idle_since_ms
                .store(registry.now_ms(), Ordering::Relaxed);
        }
        conn.active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.lock().remove(&self.id);
            if !self.shedding.load(Ordering::Relaxed) {
                registry.staying.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_deadline_counts_from_the_last_request() {
        let reg = Registry::new(10);
        let conn = reg.open();
        let limit = Duration::from_secs(60);
        let started = Instant::now();
        let active = conn.request();
        let watch = tokio::spawn({
            let conn = conn.clone();
            async move { conn.closed(Some(limit)).await }
        });
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert!(!watch.is_finished(), "a request in progress is not idle");
        drop(active);
        let closed = watch.await.unwrap();
        assert_eq!(closed, Closed::Idle(limit));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(160) && took < Duration::from_secs(221),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn the_longest_idle_connections_are_shed_past_the_limit() {
        let reg = Registry::new(2);
        let first = reg.open();
        let busy = reg.open();
        let _active = busy.request();
        let _third = reg.open();
        assert_eq!(first.closed(None).await, Closed::Shed);
        assert!(!busy.shedding.load(Ordering::Relaxed));
        assert_eq!(
            reg.staying.load(Ordering::Relaxed),
            2,
            "the shed one is not counted"
        );
        assert_eq!(
            reg.shed_idle(5),
            1,
            "only the third is idle and not already asked"
        );
        drop(first);
        assert_eq!(reg.len(), 2);
    }

    /// Connections close on their own threads while others open and shed:
    /// a registry that dropped the last handle to a closing connection while
    /// holding its own lock would deadlock here, one that counted a
    /// connection after a shed could find it would count below zero.
    #[test]
    fn connections_closing_on_other_threads_while_others_open_stay_counted() {
        let reg = Registry::new(4);
        let (done, finished) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let reg = reg.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let open: Vec<_> = (0..32).map(|_| reg.open()).collect();
                    reg.shed_idle(1);
                    drop(open);
                }
                let _ = done.send(());
            });
        }
        for _ in 0..4 {
            finished
                .recv_timeout(Duration::from_secs(60))
                .expect("every thread finishes: no deadlock in the registry");
        }
        assert_eq!(reg.len(), 0);
        assert_eq!(reg.staying.load(Ordering::Relaxed), 0);
    }
}
