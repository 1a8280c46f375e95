//! Writes to an HTTP/2 connection gathered while its task runs and sent
//! when the task yields: a user-space `TCP_CORK` that never delays a byte
//! past the poll that wrote it.
//!
//! Why: the h2 crate flushes after every DATA frame it writes (a frame's
//! payload is written from the body's own buffer, and it flushes before
//! taking the next), and tokio-rustls seals and sends whatever it is given
//! at once. Relaying a download whose upstream sends 8 KiB frames therefore
//! cost one TLS record and one `writev` per 8 KiB, seven times the system
//! calls of the same download over HTTP/1.1, where hyper gathers the body's
//! chunks before it writes (docs/benchmarks.md, "HTTP/2 writes gathered").
//!
//! How: [`Corked`] sits between hyper and the TLS stream. While a
//! [`Scoped`] future polls the connection, writes are copied into the
//! cork's buffer and flushes return at once; when that poll returns, the
//! scope sends everything gathered in one go (full TLS records, a few
//! system calls). Outside a scope (the task of an upgraded connection) and
//! in a cork made with `gather: false`, every call passes straight through.
//! Nothing waits for more data: what a poll wrote leaves before the task
//! sleeps, as it would have without the cork.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use pin_project_lite::pin_project;

/// Bytes gathered before a write waits for the socket (backpressure).
const GATHER_AT_MOST: usize = 256 * 1024;
/// Room a cork keeps between sends once traffic is light again: a
/// connection that carried a download keeps no quarter-MiB buffer while it
/// idles (a send of under `LIGHT` lets a larger buffer go).
const KEEP_ROOM: usize = 64 * 1024;
const LIGHT: usize = 16 * 1024;

thread_local! {
    /// How many [`Scoped`] polls this thread is inside of.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The corks written to during those polls, each scope's after the
    /// ones of the scopes it is inside of. Touched only when a cork
    /// gathers, so a poll that writes nothing costs two counter updates.
    static OWED: RefCell<Vec<Arc<dyn Owed>>> = const { RefCell::new(Vec::new()) };
}

/// A cork with gathered bytes that its scope must send.
trait Owed: Send + Sync {
    /// Send what is gathered, then flush. `Ready(false)`: that failed, and
    /// the failure waits for the connection's next call.
    fn send(&self, cx: &mut Context<'_>) -> Poll<bool>;
}

/// The stream under a gathering cork and what has been gathered for it.
struct Cork<S> {
    io: S,
    gathered: Vec<u8>,
    /// How much of `gathered` the socket has taken.
    sent: usize,
    /// Registered with a scope that has not sent it yet.
    owed: bool,
    /// A failure of a send done at the end of a scope, for the next call.
    failed: Option<io::Error>,
}

/// A stream whose writes are gathered within a [`Scoped`] poll.
pub struct Corked<S>(Mode<S>);

enum Mode<S> {
    /// Every call passes straight through (HTTP/1.1, where hyper already
    /// gathers a response's chunks): no lock, no copy.
    Through(S),
    /// Shared with the scope that sends what it gathers.
    Gathering(Arc<Mutex<Cork<S>>>),
}

impl<S> Corked<S> {
    /// Wrap `io`; with `gather: false` the cork passes every call through.
    pub fn new(io: S, gather: bool) -> Self {
        if !gather {
            return Corked(Mode::Through(io));
        }
        Corked(Mode::Gathering(Arc::new(Mutex::new(Cork {
            io,
            gathered: Vec::new(),
            sent: 0,
            owed: false,
            failed: None,
        }))))
    }
}

fn lock<S>(cork: &Mutex<Cork<S>>) -> MutexGuard<'_, Cork<S>> {
    cork.lock().unwrap_or_else(PoisonError::into_inner)
}

fn in_scope() -> bool {
    DEPTH.get() > 0
}

impl<S: Write + Unpin> Cork<S> {
    /// Write out what is gathered.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.gathered.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.gathered[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.gathered.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Before a call that passes through: an earlier failure, then what is
    /// still gathered, so bytes keep their order.
    fn settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.failed.take() {
            return Poll::Ready(Err(e));
        }
        self.drain(cx)
    }
}

/// Gather `bufs` into `shared` (backpressure past [`GATHER_AT_MOST`]),
/// registering it with the scope on its first gathered write.
fn gather<S: Write + Unpin + Send + 'static>(
    shared: &Arc<Mutex<Cork<S>>>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let mut cork = lock(shared);
    if let Some(e) = cork.failed.take() {
        return Poll::Ready(Err(e));
    }
    if cork.gathered.len() - cork.sent >= GATHER_AT_MOST {
        ready!(cork.drain(cx))?;
    }
    let mut n = 0;
    for buf in bufs {
        cork.gathered.extend_from_slice(buf);
        n += buf.len();
    }
    if !cork.owed && n > 0 {
        cork.owed = true;
        let owed: Arc<dyn Owed> = shared.clone();
        OWED.with_borrow_mut(|list| list.push(owed));
    }
    Poll::Ready(Ok(n))
}

impl<S: Write + Unpin + Send + 'static> Owed for Mutex<Cork<S>> {
    fn send(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut cork = lock(self);
        let batch = cork.gathered.len() - cork.sent;
        let sent = match cork.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut cork.io).poll_flush(cx),
            other => other,
        };
        let Poll::Ready(sent) = sent else {
            return Poll::Pending;
        };
        cork.owed = false;
        if batch < LIGHT && cork.gathered.capacity() > KEEP_ROOM {
            cork.gathered = Vec::new();
        }
        Poll::Ready(match sent {
            Ok(()) => true,
            Err(e) => {
                cork.failed = Some(e);
                false
            }
        })
    }
}

impl<S: Connection> Connection for Corked<S> {
    fn connected(&self) -> Connected {
        match &self.0 {
            Mode::Through(io) => io.connected(),
            Mode::Gathering(shared) => lock(shared).io.connected(),
        }
    }
}

impl<S: Read + Unpin> Read for Corked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Mode::Through(io) => Pin::new(io).poll_read(cx, buf),
            Mode::Gathering(shared) => Pin::new(&mut lock(shared).io).poll_read(cx, buf),
        }
    }
}

impl<S: Write + Unpin + Send + 'static> Write for Corked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            Mode::Through(io) => Pin::new(io).poll_write(cx, buf),
            Mode::Gathering(shared) if in_scope() => gather(shared, cx, &[IoSlice::new(buf)]),
            Mode::Gathering(shared) => {
                let mut cork = lock(shared);
                ready!(cork.settle(cx))?;
                Pin::new(&mut cork.io).poll_write(cx, buf)
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            Mode::Through(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Mode::Gathering(shared) if in_scope() => gather(shared, cx, bufs),
            Mode::Gathering(shared) => {
                let mut cork = lock(shared);
                ready!(cork.settle(cx))?;
                Pin::new(&mut cork.io).poll_write_vectored(cx, bufs)
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.0 {
            Mode::Through(io) => io.is_write_vectored(),
            Mode::Gathering(_) => true,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Mode::Through(io) => Pin::new(io).poll_flush(cx),
            // The scope flushes when the poll returns.
            Mode::Gathering(shared) if in_scope() => match lock(shared).failed.take() {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Ready(Ok(())),
            },
            Mode::Gathering(shared) => {
                let mut cork = lock(shared);
                ready!(cork.settle(cx))?;
                Pin::new(&mut cork.io).poll_flush(cx)
            }
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Mode::Through(io) => Pin::new(io).poll_shutdown(cx),
            Mode::Gathering(shared) => {
                let mut cork = lock(shared);
                ready!(cork.settle(cx))?;
                Pin::new(&mut cork.io).poll_shutdown(cx)
            }
        }
    }
}

/// A scope entered: left by [`Entered::leave`], or dropped if the poll
/// unwinds (a panic), forgetting what it owed.
struct Entered {
    /// Where this scope's corks start in `OWED`.
    start: usize,
}

impl Entered {
    fn enter() -> Self {
        DEPTH.set(DEPTH.get() + 1);
        Entered {
            start: OWED.with_borrow(Vec::len),
        }
    }

    /// Leave, moving the corks written to during the poll into `owed`.
    fn leave(self, owed: &mut Vec<Arc<dyn Owed>>) {
        DEPTH.set(DEPTH.get() - 1);
        OWED.with_borrow_mut(|list| owed.extend(list.drain(self.start..)));
        // Left already: the drop is only for a poll that unwinds.
        std::mem::forget(self);
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get() - 1);
        OWED.with_borrow_mut(|list| list.truncate(self.start));
    }
}

pin_project! {
    /// Polls a connection with its corks gathering, and sends what they
    /// gathered each time the poll returns. Ends once the connection has
    /// ended and everything it wrote is sent (an upgraded connection's last
    /// answer included).
    ///
    /// The output is a parameter of its own rather than `F::Output`: a
    /// projection there makes the compiler fail to prove the serving task
    /// `Send`.
    pub struct Scoped<F, T> {
        #[pin]
        inner: F,
        // The connection's output, once it has ended.
        output: Option<T>,
        owed: Vec<Arc<dyn Owed>>,
    }
}

impl<F: Future<Output = T>, T> Scoped<F, T> {
    pub fn new(inner: F) -> Self {
        Scoped {
            inner,
            output: None,
            owed: Vec::new(),
        }
    }
}

impl<F: Future<Output = T>, T> Future for Scoped<F, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.project();
        // Once the connection has ended, only what it wrote is left to send.
        if this.output.is_none() {
            let entered = Entered::enter();
            let polled = this.inner.poll(cx);
            entered.leave(this.owed);
            if let Poll::Ready(output) = polled {
                *this.output = Some(output);
            }
        }
        this.owed.retain(|cork| match cork.send(cx) {
            Poll::Pending => true,
            Poll::Ready(true) => false,
            Poll::Ready(false) => {
                // The connection hears of it on its next call: poll again
                // so that the call comes.
                if this.output.is_none() {
                    cx.waker().wake_by_ref();
                }
                false
            }
        });
        if this.owed.is_empty()
            && let Some(output) = this.output.take()
        {
            return Poll::Ready(output);
        }
        Poll::Pending
    }
}

/// hyper's executor for the upstream client: every task it spawns (an
/// HTTP/2 connection among them) is polled in a scope, so that a corked
/// upstream stream gathers as a client's does.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScopedExecutor;

impl<F> hyper::rt::Executor<F> for ScopedExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        tokio::spawn(Scoped::new(fut));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A socket that records each write it takes, and can refuse to take
    /// any (as a full socket does) until let go.
    #[derive(Default)]
    struct Socket {
        writes: Mutex<Vec<Vec<u8>>>,
        full: AtomicBool,
        broken: AtomicBool,
        waiting: Mutex<Option<std::task::Waker>>,
    }

    impl Socket {
        fn writes(&self) -> Vec<Vec<u8>> {
            self.writes.lock().unwrap().clone()
        }

        fn let_go(&self) {
            self.full.store(false, Ordering::SeqCst);
            if let Some(w) = self.waiting.lock().unwrap().take() {
                w.wake();
            }
        }
    }

    struct End(Arc<Socket>);

    impl Read for End {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    impl Write for End {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            if self.0.broken.load(Ordering::SeqCst) {
                return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
            }
            if self.0.full.load(Ordering::SeqCst) {
                *self.0.waiting.lock().unwrap() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            self.0.writes.lock().unwrap().push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Write each frame and flush after it, as the h2 crate does.
    async fn frames(io: &mut Corked<End>, frames: &[&[u8]]) {
        use std::future::poll_fn;
        for frame in frames {
            let mut at = 0;
            while at < frame.len() {
                at += poll_fn(|cx| Pin::new(&mut *io).poll_write(cx, &frame[at..]))
                    .await
                    .unwrap();
            }
            poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx))
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn frames_written_in_one_poll_leave_in_one_write_when_it_returns() {
        let socket = Arc::new(Socket::default());
        let mut io = Corked::new(End(socket.clone()), true);
        Scoped::new(frames(&mut io, &[b"head", b"one", b"two"])).await;
        assert_eq!(socket.writes(), vec![b"headonetwo".to_vec()]);
        // Outside a scope, each write passes straight through.
        frames(&mut io, &[b"three", b"four"]).await;
        assert_eq!(socket.writes().len(), 3);
    }

    #[tokio::test]
    async fn a_cork_that_does_not_gather_passes_every_write_through() {
        let socket = Arc::new(Socket::default());
        let mut io = Corked::new(End(socket.clone()), false);
        Scoped::new(frames(&mut io, &[b"a", b"b"])).await;
        assert_eq!(socket.writes(), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    /// Each poll's writes go before the task sleeps: a frame written before
    /// the connection waits for more is not held back by the wait.
    #[tokio::test]
    async fn what_a_poll_wrote_is_sent_before_the_task_waits() {
        let socket = Arc::new(Socket::default());
        let mut io = Corked::new(End(socket.clone()), true);
        let (more, next) = tokio::sync::oneshot::channel::<()>();
        let seen = socket.clone();
        let connection = tokio::spawn(Scoped::new(async move {
            frames(&mut io, &[b"first"]).await;
            next.await.unwrap();
            frames(&mut io, &[b"second"]).await;
        }));
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while seen.writes().is_empty() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the first frame left while the connection waits");
        assert_eq!(seen.writes(), vec![b"first".to_vec()]);
        more.send(()).unwrap();
        connection.await.unwrap();
        assert_eq!(seen.writes().len(), 2);
    }

    /// A connection that ends (an upgrade handing its stream on) ends only
    /// once what it wrote has been sent, however long the socket is full.
    #[tokio::test]
    async fn a_connection_ends_after_its_last_bytes_are_sent() {
        let socket = Arc::new(Socket::default());
        socket.full.store(true, Ordering::SeqCst);
        let mut io = Corked::new(End(socket.clone()), true);
        let mut ending = Box::pin(Scoped::new(async move {
            frames(&mut io, &[b"HTTP/1.1 101"]).await;
            "ended"
        }));
        let polled = std::future::poll_fn(|cx| Poll::Ready(ending.as_mut().poll(cx))).await;
        assert!(polled.is_pending(), "the socket is full: not ended yet");
        socket.let_go();
        assert_eq!(ending.await, "ended");
        assert_eq!(socket.writes(), vec![b"HTTP/1.1 101".to_vec()]);
    }

    /// A connection that carried a download keeps no big buffer once its
    /// traffic is light again.
    #[tokio::test]
    async fn a_big_buffer_goes_once_traffic_is_light() {
        let socket = Arc::new(Socket::default());
        let mut io = Corked::new(End(socket.clone()), true);
        let big = vec![1u8; 200 * 1024];
        let room = |io: &Corked<End>| match &io.0 {
            Mode::Gathering(shared) => lock(shared).gathered.capacity(),
            Mode::Through(_) => 0,
        };
        Scoped::new(frames(&mut io, &[&big])).await;
        assert!(room(&io) >= big.len(), "kept while traffic is heavy");
        Scoped::new(frames(&mut io, &[b"ping"])).await;
        assert_eq!(room(&io), 0);
        assert_eq!(socket.writes().concat().len(), big.len() + 4);
    }

    /// A send that fails when the poll returns is the connection's error on
    /// its next call, as the write itself would have been.
    #[tokio::test]
    async fn a_failed_send_is_heard_on_the_next_call() {
        use std::future::poll_fn;
        let socket = Arc::new(Socket::default());
        socket.broken.store(true, Ordering::SeqCst);
        let mut io = Corked::new(End(socket.clone()), true);
        let next = Scoped::new(async move {
            frames(&mut io, &[b"lost"]).await;
            tokio::task::yield_now().await;
            poll_fn(|cx| Pin::new(&mut io).poll_write(cx, b"more")).await
        })
        .await;
        assert_eq!(
            next.expect_err("the send failed").kind(),
            io::ErrorKind::BrokenPipe
        );
    }

    #[tokio::test]
    async fn gathering_stops_at_its_bound_until_the_socket_takes_more() {
        let socket = Arc::new(Socket::default());
        socket.full.store(true, Ordering::SeqCst);
        let mut io = Corked::new(End(socket.clone()), true);
        let frame = vec![7u8; GATHER_AT_MOST];
        let mut writing = Box::pin(Scoped::new(async move {
            frames(&mut io, &[&frame, b"after"]).await;
        }));
        let polled = std::future::poll_fn(|cx| Poll::Ready(writing.as_mut().poll(cx))).await;
        assert!(polled.is_pending());
        assert!(socket.writes().is_empty(), "nothing taken while full");
        socket.let_go();
        writing.await;
        let sent: Vec<u8> = socket.writes().concat();
        assert_eq!(sent.len(), GATHER_AT_MOST + 5);
        assert_eq!(&sent[GATHER_AT_MOST..], b"after");
    }
}
