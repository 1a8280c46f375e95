//! Warnings about misbehaving peers, throttled: a peer opening thousands of
//! bad connections (SOCKS5 greetings cut short, TLS sent to the proxy port,
//! unreadable heads) would otherwise write a line each and bury everything
//! else in the log. Each kind of warning is written at most [`PER_WINDOW`]
//! times per [`WINDOW`]; the next one written says how many were left out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many warnings of one kind are written per window.
const PER_WINDOW: u32 = 5;
/// The window they are counted in.
const WINDOW: Duration = Duration::from_secs(10);

struct Window {
    began: Instant,
    written: u32,
    left_out: u64,
}

static WINDOWS: Mutex<Option<HashMap<&'static str, Window>>> = Mutex::new(None);

/// Whether a warning of `kind` may be written now, and how many of that
/// kind were left out since the last one written.
fn admit(kind: &'static str, now: Instant) -> Option<u64> {
    let mut guard = WINDOWS.lock().unwrap_or_else(|e| e.into_inner());
    let windows = guard.get_or_insert_with(HashMap::new);
    let w = windows.entry(kind).or_insert(Window {
        began: now,
        written: 0,
        left_out: 0,
    });
    if now.duration_since(w.began) >= WINDOW {
        w.began = now;
        w.written = 0;
    }
    if w.written >= PER_WINDOW {
        w.left_out += 1;
        return None;
    }
    w.written += 1;
    Some(std::mem::take(&mut w.left_out))
}

/// Write a warning of `kind` (`message` is made only when it is written),
/// unless too many of its kind were written lately.
pub fn warn(kind: &'static str, message: impl FnOnce() -> String) {
    match admit(kind, Instant::now()) {
        Some(0) => tracing::warn!("{}", message()),
        Some(left_out) => tracing::warn!("{} ({left_out} more like it were not logged)", message()),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_to_a_few_lines_a_window_and_says_how_many_were_left_out() {
        let start = Instant::now();
        let kind = "test-flood";
        let written: Vec<Option<u64>> = (0..1000).map(|_| admit(kind, start)).collect();
        assert_eq!(written.iter().flatten().count(), PER_WINDOW as usize);
        assert_eq!(written[0], Some(0));
        let later = start + WINDOW;
        assert_eq!(admit(kind, later), Some(1000 - u64::from(PER_WINDOW)));
        assert_eq!(admit(kind, later), Some(0));
        // Another kind is counted apart.
        assert_eq!(admit("test-other", start), Some(0));
    }
}
