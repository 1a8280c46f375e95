//! What turns a fuzz case into a finding besides a panic: allocating past a
//! cap and running past a time limit. A counting global allocator tracks
//! live bytes and the peak within the current case; a watchdog thread
//! watches how long the current case has run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Live heap bytes, and the most seen since the last [`begin_case`].
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Past this many live bytes an allocation fails, which aborts the
/// process: the last line of defence when one case asks for the moon
/// before the per-case check can see it.
static HARD_CAP: AtomicUsize = AtomicUsize::new(usize::MAX);

pub struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !grow(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        if new > layout.size() && !grow(new - layout.size()) {
            return std::ptr::null_mut();
        }
        let out = unsafe { System.realloc(ptr, layout, new) };
        if new < layout.size() {
            LIVE.fetch_sub(layout.size() - new, Ordering::Relaxed);
        }
        out
    }
}

/// Count `bytes` more, unless that passes the hard cap.
fn grow(bytes: usize) -> bool {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    if live > HARD_CAP.load(Ordering::Relaxed) {
        LIVE.fetch_sub(bytes, Ordering::Relaxed);
        return false;
    }
    PEAK.fetch_max(live, Ordering::Relaxed);
    true
}

pub fn set_hard_cap(bytes: usize) {
    HARD_CAP.store(bytes, Ordering::Relaxed);
}

pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The input of the case in progress, for the watchdog to save, and when
/// that case started.
struct Current {
    input: Vec<u8>,
    started: Option<Instant>,
    target: String,
}

static CURRENT: Mutex<Current> = Mutex::new(Current {
    input: Vec::new(),
    started: None,
    target: String::new(),
});
static WATCHING: AtomicBool = AtomicBool::new(false);

/// Note the case about to run; returns the live bytes before it.
pub fn begin_case(target: &str, input: &[u8]) -> usize {
    if let Ok(mut c) = CURRENT.lock() {
        c.input.clear();
        c.input.extend_from_slice(input);
        c.started = Some(Instant::now());
        if c.target != target {
            c.target = target.to_string();
        }
    }
    let live = live_bytes();
    PEAK.store(live, Ordering::Relaxed);
    live
}

/// The case is over; returns the most bytes it had live at once.
pub fn end_case() -> usize {
    if let Ok(mut c) = CURRENT.lock() {
        c.started = None;
    }
    PEAK.load(Ordering::Relaxed)
}

/// Start the watchdog (once): a case running past `limit` is a hang; its
/// input is saved and the process exits with status 3.
pub fn watch(limit: Duration) {
    if WATCHING.swap(true, Ordering::Relaxed) {
        return;
    }
    std::thread::spawn(move || {
        loop {
            // Polling is the point here: the watched thread is the one that
            // cannot signal, because it is stuck.
            std::thread::sleep(Duration::from_millis(250));
            let Ok(c) = CURRENT.lock() else { continue };
            if c.started.is_some_and(|t| t.elapsed() > limit) {
                let path = crate::save_finding(&c.target, "hang", &c.input);
                eprintln!(
                    "HANG: a {} case ran past {limit:?}; input saved to {path}",
                    c.target
                );
                std::process::exit(3);
            }
        }
    });
}
