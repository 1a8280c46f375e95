//! The local wall-clock time of an instant, for the log's lines.
//!
//! chrono's `Local` conversion asks the time-zone database for every
//! instant, and its `format` parses the pattern each time: together more
//! than the rest of a log line under load. A zone's offset from UTC only
//! changes on a minute boundary (daylight saving, a new rule), so it is
//! looked up once per minute of UTC and the clock worked out from it.

use std::cell::Cell;

use chrono::{DateTime, Offset, TimeZone, Utc};

thread_local! {
    /// The last minute of UTC looked up (minutes since the epoch) and its
    /// offset in seconds.
    static OFFSET: Cell<Option<(i64, i64)>> = const { Cell::new(None) };
}

/// `(hour, minute, second, millisecond)` of `at` in the local zone.
pub fn local(at: DateTime<Utc>) -> (u32, u32, u32, u32) {
    let secs = at.timestamp();
    let minute = secs.div_euclid(60);
    let offset = OFFSET.with(|cached| match cached.get() {
        Some((m, offset)) if m == minute => offset,
        _ => {
            let offset = chrono::Local
                .offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc() as i64;
            cached.set(Some((minute, offset)));
            offset
        }
    });
    let of_day = (secs + offset).rem_euclid(86_400) as u32;
    // A leap second's nanoseconds run past 999 ms: shown as its last one.
    let ms = at.timestamp_subsec_millis().min(999);
    (of_day / 3600, of_day / 60 % 60, of_day % 60, ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock worked out here reads as chrono's own formatting of the
    /// same instant in the local zone, across minutes, days and years,
    /// each instant twice (looked up, then from the cache).
    #[test]
    fn reads_as_chronos_local_time() {
        let base = DateTime::parse_from_rfc3339("2026-03-29T00:59:58.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let steps_ms = [
            0i64,
            1,
            999,
            1_000,
            61_877,
            3_600_000,
            86_399_999,
            15_552_000_000,
        ];
        for step in steps_ms {
            let at = base + chrono::Duration::milliseconds(step);
            let want = at
                .with_timezone(&chrono::Local)
                .format("%H:%M:%S%.3f")
                .to_string();
            for _ in 0..2 {
                let (h, m, s, ms) = local(at);
                assert_eq!(format!("{h:02}:{m:02}:{s:02}.{ms:03}"), want, "at {at}");
            }
        }
    }
}
