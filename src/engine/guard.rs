//! An exchange is never left in flight: [`Pending`] finalises it if the
//! code relaying it stops before handing over a response — the client went
//! away (hyper drops the request's future when the connection closes, which
//! also cancels the upstream request) or that code panicked.

use std::time::{Duration, Instant};

use crate::capture::{CaptureMsg, Recorder};
use crate::exchange::{ExchangeId, Failure, FailureKind};

/// Finalises its exchange on drop unless [`Pending::handed_over`] was called.
pub struct Pending {
    id: ExchangeId,
    started: Instant,
    recorder: Recorder,
    armed: bool,
}

impl Pending {
    pub fn new(id: ExchangeId, started: Instant, recorder: Recorder) -> Self {
        Pending {
            id,
            started,
            recorder,
            armed: true,
        }
    }

    /// The exchange is in other hands now (finished, or its response body
    /// will finish it).
    pub fn handed_over(mut self) {
        self.armed = false;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let failure = if std::thread::panicking() {
            internal_error()
        } else {
            client_gone(self.started.elapsed(), "before the response")
        };
        self.recorder.send(CaptureMsg::Finish {
            id: self.id,
            at_us: self.started.elapsed().as_micros() as u64,
            failure: Some(failure),
        });
    }
}

/// "client went away after 1.0 s, before the response".
pub fn client_gone(after: Duration, when: &str) -> Failure {
    Failure::new(
        FailureKind::ClientGone,
        format!("client went away after {}, {when}", seconds(after)),
    )
}

/// A bug met while handling the exchange; the log has the panic.
pub fn internal_error() -> Failure {
    Failure::new(
        FailureKind::Internal,
        "llmspy hit an internal error handling this exchange (see its log); other traffic is unaffected",
    )
}

/// A duration as people read a limit: "600 s", "1.0 s", "0.3 s".
pub fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_like_limits() {
        assert_eq!(seconds(Duration::from_secs(600)), "600 s");
        assert_eq!(seconds(Duration::from_millis(1004)), "1.0 s");
        assert_eq!(seconds(Duration::from_millis(300)), "0.3 s");
    }
}
