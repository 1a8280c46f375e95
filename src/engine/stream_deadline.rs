//! An HTTP/2 stream whose client takes nothing of it is ended (nginx's
//! `send_timeout`, per stream).
//!
//! write_deadline.rs closes a client connection whose socket takes nothing
//! for the client idle limit. Over HTTP/2 a client can go on reading its
//! socket and still take nothing of one stream: it leaves that stream's
//! flow-control window at 0, and hyper waits for window without asking the
//! response body for more. The stream then holds its upstream request, and
//! its share of a shared upstream HTTP/2 connection's window, for as long as
//! the client connection lasts.
//!
//! Each HTTP/2 stream's task is spawned through [`Executor`], inside a
//! [`Watch`] its response body reports to (serve.rs). The body has handed a
//! frame to hyper and not been asked for the next one: the stream waits for
//! its client. Past the limit the task ends, which drops the stream (hyper
//! resets it, and the upstream request with it), and the exchange is
//! recorded as the client's timeout. A body waiting for its upstream (an
//! SSE stream between events, an agent thinking) is left alone.
//!
//! A stream also waits when the connection's socket is full: a slow reader
//! drains it for seconds before Linux reports it writable (write_deadline.rs
//! says why), and hyper hands no window out meanwhile. So when the limit
//! passes, the socket's send queue is read, as the write deadline does: data
//! queued and less of it than at the last look, the client is reading and
//! the wait starts again (at the first look, with data queued, once more).
//! Only a stream whose client takes nothing at all is cut.

use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tokio::time::{Instant, Sleep};

use crate::exchange::{Failure, FailureKind};

tokio::task_local! {
    /// The watch of the HTTP/2 stream whose task is running.
    static STREAM: Arc<Watch>;
}

/// What a stream's response body last did, as its task's deadline reads
/// it. No clock is read per frame: the deadline times a wait from when it
/// first sees it, which is right after the body handed its frame over
/// (hyper returns from the task's poll to wait for window).
#[derive(Debug)]
pub struct Watch {
    /// Frames handed over so far: a new one is progress.
    handed: AtomicU64,
    /// The body handed a frame over and has not been asked for the next.
    waiting: AtomicBool,
    /// The deadline passed: the stream's task is ending.
    timed_out: AtomicBool,
    limit: Duration,
}

impl Watch {
    fn new(limit: Duration) -> Watch {
        Watch {
            handed: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            limit,
        }
    }

    /// The running HTTP/2 stream's watch; None over HTTP/1.x (whose
    /// requests run in their connection's task) or with no limit.
    pub fn current() -> Option<Arc<Watch>> {
        STREAM.try_with(Arc::clone).ok()
    }

    /// The body handed hyper a frame: until it is asked for the next, the
    /// stream waits for its client's window.
    pub fn handed(&self) {
        self.handed.fetch_add(1, Ordering::Relaxed);
        self.waiting.store(true, Ordering::Relaxed);
    }

    /// The body was asked for more: not waiting for the client.
    pub fn asked(&self) {
        self.waiting.store(false, Ordering::Relaxed);
    }

    /// Which frame the stream waits for its client after, if it does.
    fn waiting_after(&self) -> Option<u64> {
        self.waiting
            .load(Ordering::Relaxed)
            .then(|| self.handed.load(Ordering::Relaxed))
    }
}

/// Why a response body is dropped unfinished, when it is this deadline:
/// read by the tee as it records the exchange's end (tokio drops a task's
/// future inside its task-local scope).
pub fn timed_out() -> Option<Failure> {
    let limit = STREAM
        .try_with(|w| w.timed_out.load(Ordering::Relaxed).then_some(w.limit))
        .ok()??;
    Some(Failure::new(
        FailureKind::ClientTimeout,
        format!(
            "the client took nothing of this HTTP/2 stream for {} (its flow-control window stayed closed; clientIdleTimeoutSeconds); the stream was reset",
            super::guard::seconds(limit)
        ),
    ))
}

/// Spawns each HTTP/2 stream of a client connection with its deadline.
#[derive(Debug, Clone, Copy)]
pub struct Executor {
    pub limit: Option<Duration>,
    /// The client's socket, whose send queue says whether it reads.
    pub socket: Option<RawFd>,
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, task: F) {
        let Some(limit) = self.limit else {
            tokio::spawn(task);
            return;
        };
        let watch = Arc::new(Watch::new(limit));
        tokio::spawn(Deadline {
            task: STREAM.scope(watch.clone(), task),
            watch,
            wait: None,
            socket: self.socket,
            queued: None,
        });
    }
}

pin_project! {
    /// A stream's task, ended once its body has waited for the client past
    /// its watch's limit.
    struct Deadline<F> {
        #[pin]
        task: TaskLocalFuture<Arc<Watch>, F>,
        watch: Arc<Watch>,
        // The wait timed: after which frame, and its timer (made the first
        // time the stream waits for its client, then reset).
        wait: Option<(u64, Pin<Box<Sleep>>)>,
        socket: Option<RawFd>,
        // The socket's send queue at the last look.
        queued: Option<u64>,
    }
}

impl<F: Future<Output = ()>> Future for Deadline<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.task.poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let Some(after) = this.watch.waiting_after() else {
            return Poll::Pending;
        };
        let limit = this.watch.limit;
        let (timed, sleep) = this
            .wait
            .get_or_insert_with(|| (after, Box::pin(tokio::time::sleep(limit))));
        // A frame handed over since the wait was timed: progress, a new wait.
        if *timed != after {
            *timed = after;
            sleep.as_mut().reset(Instant::now() + limit);
        }
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Data queued for a client that took some since the last look (or a
        // first look): it reads, the connection is merely full.
        let queued = this.socket.and_then(super::write_deadline::send_queue);
        let reading = match (queued, *this.queued) {
            (Some(now), Some(before)) => now > 0 && now < before,
            (Some(now), None) => now > 0,
            _ => false,
        };
        *this.queued = queued;
        if reading {
            sleep.as_mut().reset(Instant::now() + limit);
            // Registers the reset timer.
            let _ = sleep.as_mut().poll(cx);
            return Poll::Pending;
        }
        // Ended here: tokio drops the stream's future inside its scope, so
        // the body's tee reads why.
        this.watch.timed_out.store(true, Ordering::Relaxed);
        Poll::Ready(())
    }
}
