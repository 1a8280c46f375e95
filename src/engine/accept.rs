//! What the accept loop does when accepting fails: out of file descriptors,
//! close the longest-idle client connection to free one; either way pause,
//! longer each time, rather than spin.

use std::time::Duration;

use super::conns::Registry;

/// Doubling pauses after failed accepts, from 5 ms up to one second.
#[derive(Debug, Default)]
pub struct Backoff(u32);

impl Backoff {
    /// Handle one failed accept: make room if descriptors ran out, then pause.
    pub async fn failed(&mut self, e: &std::io::Error, conns: &Registry) {
        if is_out_of_descriptors(e) && conns.shed_idle(1) > 0 {
            tracing::info!("accept: {e}; closed an idle connection to make room");
        } else {
            tracing::warn!("accept failed: {e}");
        }
        tokio::time::sleep(self.next()).await;
    }

    fn next(&mut self) -> Duration {
        let pause = Duration::from_millis(5) * 2u32.pow(self.0.min(8));
        self.0 += 1;
        pause.min(Duration::from_secs(1))
    }

    /// An accept succeeded: start again from the shortest pause.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

fn is_out_of_descriptors(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_second_and_reset() {
        let mut b = Backoff::default();
        let pauses: Vec<u128> = (0..10).map(|_| b.next().as_millis()).collect();
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(5));
    }
}
