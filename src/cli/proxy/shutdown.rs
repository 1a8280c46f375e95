//! Stopping: wait for SIGINT, SIGTERM or SIGHUP, give in-flight exchanges
//! a grace period, mark the rest as cut short by the shutdown, and flush
//! the sinks so nothing captured is lost.

use std::time::Duration;

use crate::capture::{CaptureMsg, Recorder, StoreReader};
use crate::exchange::{Failure, FailureKind};

/// How long in-flight exchanges get to finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// For a UI running on a thread of its own: the receiver gets `()` at the
/// first of `signals`, so the UI ends as `Q` ends it and its terminal is
/// restored. The listener runs on `runtime`; abort it once the UI is gone.
pub fn stop_ui_on_signal(
    runtime: &tokio::runtime::Handle,
    mut signals: StopSignals,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::oneshot::Receiver<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let listener = runtime.spawn(async move {
        signals.next().await;
        let _ = stop.send(());
    });
    (listener, stopped)
}

/// SIGINT, SIGTERM and SIGHUP, listened for from the moment this is made,
/// so one that arrives before anything awaits them is not missed: made
/// before the banner, a stop sent the moment it appears (as scripts do)
/// still closes the run instead of killing llmspy. SIGHUP is a stop like
/// the others: it is what a closed terminal window or an ended SSH
/// session sends, and the run must still be closed and flushed.
pub struct StopSignals {
    #[cfg(unix)]
    listening: [Option<tokio::signal::unix::Signal>; 3],
}

impl StopSignals {
    /// Start listening; must be called inside a tokio runtime.
    pub fn listen() -> StopSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            // Under `nohup` (SIGHUP ignored) llmspy is meant to outlive the
            // terminal: listening would undo that.
            let hangup = (!hangup_ignored())
                .then(|| signal(SignalKind::hangup()).ok())
                .flatten();
            StopSignals {
                listening: [
                    signal(SignalKind::interrupt()).ok(),
                    signal(SignalKind::terminate()).ok(),
                    hangup,
                ],
            }
        }
        #[cfg(not(unix))]
        StopSignals {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        {
            let [interrupt, term, hangup] = &mut self.listening;
            tokio::select! {
                _ = delivered(interrupt.as_mut()) => {}
                _ = delivered(term.as_mut()) => {}
                _ = delivered(hangup.as_mut()) => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// True when this process was started with SIGHUP ignored (`nohup`).
#[cfg(unix)]
fn hangup_ignored() -> bool {
    let mut current = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `current`,
    // which is zeroed, valid storage of the right type.
    let read = unsafe { libc::sigaction(libc::SIGHUP, std::ptr::null(), current.as_mut_ptr()) };
    // SAFETY: zero-initialised and, on success, filled in by the kernel.
    read == 0 && unsafe { current.assume_init() }.sa_sigaction == libc::SIG_IGN
}

/// The next delivery of a signal llmspy could listen for; never, if it could not.
#[cfg(unix)]
async fn delivered(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Headless: wait for the first of `signals`, then say that llmspy stops
/// and that a second one stops it at once.
pub async fn until_stopped(mut signals: StopSignals) {
    signals.next().await;
    second_signal_exits();
    crate::note!("llmspy: stopping; letting in-flight exchanges finish (stop again to end now)…");
}

/// Once llmspy is stopping, a second stop signal ends it at once, with
/// status 130, as a user pressing Ctrl-C twice expects: no waiting out the
/// grace period for in-flight exchanges, and what was not yet written is
/// not written.
pub fn second_signal_exits() {
    let mut signals = StopSignals::listen();
    tokio::spawn(async move {
        signals.next().await;
        crate::note!("llmspy: second stop signal; stopping now, in-flight exchanges are not kept");
        std::process::exit(130);
    });
}

/// Give in-flight exchanges a grace period, finalise the rest, flush `--save`.
pub async fn drain(store: &StoreReader, recorder: &Recorder) {
    drain_within(store, recorder, SHUTDOWN_GRACE).await;
}

/// [`drain`] with a chosen grace period.
pub async fn drain_within(store: &StoreReader, recorder: &Recorder, grace: Duration) {
    let deadline = tokio::time::Instant::now() + grace;
    // Polling the store is fine here: this runs once, at exit.
    while any_open(store) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failure = Failure::new(
        FailureKind::Shutdown,
        "llmspy stopped before this exchange finished",
    );
    recorder.send(CaptureMsg::FinishOpen { failure });
    let (done, flushed) = tokio::sync::oneshot::channel();
    recorder.send(CaptureMsg::Flush(done));
    let _ = tokio::time::timeout(Duration::from_secs(5), flushed).await;
}

fn any_open(store: &StoreReader) -> bool {
    store.read().all().any(|r| !r.exchange.state.is_finished())
}
