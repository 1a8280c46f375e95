//! Keeping the writer's turns on a core short. Under load the writer has
//! milliseconds of work at a time (packing what arrived, inserting a batch
//! of rows), and on a machine whose cores the relay already fills the
//! scheduler let it run that long while relay threads waited behind it:
//! with history on, their scheduling delay at the 99.9th percentile went
//! from 0.47 to 1.6 ms (`perf sched timehist`), and the relay's p99 from
//! about 1.3 to 3 ms. The writer now offers its core back every
//! [`TURN`] of work. The CPU it uses is the same; what changes is who waits.

use std::time::{Duration, Instant};

/// The longest the writer works before offering its core.
const TURN: Duration = Duration::from_micros(200);

/// Counts the writer's time on a core since it last offered it.
pub(super) struct Pace {
    since: Instant,
}

impl Pace {
    pub(super) fn new() -> Pace {
        Pace {
            since: Instant::now(),
        }
    }

    /// Called between two pieces of work: offers the core (a
    /// `sched_yield`, which returns at once when no one else wants it)
    /// once this turn is over.
    pub(super) fn breathe(&mut self) {
        if self.since.elapsed() >= TURN {
            std::thread::yield_now();
            self.since = Instant::now();
        }
    }

    /// The writer slept: a new turn starts.
    pub(super) fn restart(&mut self) {
        self.since = Instant::now();
    }
}
