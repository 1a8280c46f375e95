//! Relay workers: single-threaded runtimes, one per core, that each serve
//! the client connections handed to them from start to end, as nginx's
//! worker processes do.
//!
//! Why not one work-stealing runtime: on a loaded machine its idle workers
//! are woken to steal every task another one's socket made ready, and those
//! wake-ups and the context switches behind them cost more than relaying a
//! small request (47 µs of CPU per request on two work-stealing threads,
//! 36 µs on one, `scripts/bench/relay-vs-nginx.sh`). A connection served
//! by one thread, with upstream connections pooled per thread, never hands
//! its work across threads; only finished exchanges cross, to the capture
//! task, and those are batched.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;

thread_local! {
    /// Which worker this thread is (1-based); 0 on any other thread.
    static WORKER: Cell<usize> = const { Cell::new(0) };
}

/// The worker the calling thread is: 1..=n on a relay worker, 0 elsewhere
/// (the main runtime, tests' runtimes).
pub fn current() -> usize {
    WORKER.with(Cell::get)
}

/// A set of running relay workers. Dropping it stops them (connections
/// still open on them are closed); it does not wait for their threads,
/// since the last holder may be a task on one of them.
pub struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl Workers {
    /// Start `n` workers (at least one), each a thread with a runtime of
    /// its own, named `name`.
    pub fn start(n: usize, name: &str) -> std::io::Result<Arc<Workers>> {
        let mut workers = Workers {
            handles: Vec::new(),
            next: AtomicUsize::new(0),
            stops: Vec::new(),
        };
        for index in 1..=n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            workers.handles.push(runtime.handle().clone());
            workers.stops.push(stop);
            std::thread::Builder::new()
                .name(name.to_string())
                .spawn(move || {
                    WORKER.with(|w| w.set(index));
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                })?;
        }
        Ok(Arc::new(workers))
    }

    /// How many workers there are.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Always false: there is at least one worker.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The next worker in turn, to take a new connection, and its index
    /// (1-based, what [`current`] says on it).
    pub fn next(&self) -> (usize, &Handle) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        (i + 1, &self.handles[i])
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_go_round_the_workers_and_each_knows_its_index() {
        let workers = Workers::start(2, "test-worker").unwrap();
        assert_eq!(workers.len(), 2);
        assert_eq!(current(), 0);
        let mut seen = Vec::new();
        for _ in 0..4 {
            let (tx, rx) = std::sync::mpsc::channel();
            let (index, worker) = workers.next();
            worker.spawn(async move {
                assert_eq!(index, current());
                tx.send((current(), std::thread::current().name().map(str::to_owned)))
                    .unwrap();
            });
            seen.push(rx.recv().unwrap());
        }
        let indexes: Vec<usize> = seen.iter().map(|s| s.0).collect();
        assert_eq!(indexes, [1, 2, 1, 2]);
        assert!(seen.iter().all(|s| s.1.as_deref() == Some("test-worker")));
    }
}
