//! RFC 3339 timestamps written straight into a buffer, as chrono's
//! `to_rfc3339_opts(SecondsFormat::AutoSi, …)` writes them: the history
//! writes two per exchange (its row's and its document's), and chrono's
//! general formatter, with a `Display` call per field, was 4% of the
//! writer's CPU. Years chrono writes in another shape (before 0 or after
//! 9999) and leap seconds are left to chrono.

use crate::digits::fill;
use chrono::{DateTime, SecondsFormat, Utc};

/// How the offset is written: `Z`, or `+00:00` (what `to_rfc3339` gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    Z,
    Numeric,
}

/// Append `at` to `out`, byte for byte as chrono's `AutoSi` writes it.
pub fn write(at: &DateTime<Utc>, offset: Offset, out: &mut Vec<u8>) {
    let secs = at.timestamp();
    let nanos = at.timestamp_subsec_nanos();
    let Some(whole) = whole_seconds(secs).filter(|_| nanos < 1_000_000_000) else {
        // Years chrono writes in another shape, and leap seconds.
        let text = at.to_rfc3339_opts(SecondsFormat::AutoSi, offset == Offset::Z);
        out.extend_from_slice(text.as_bytes());
        return;
    };
    out.extend_from_slice(&whole);
    // AutoSi: as few of 0, 3, 6 or 9 fractional digits as hold the value.
    let fraction = match nanos {
        0 => 0,
        n if n % 1_000_000 == 0 => 3,
        n if n % 1_000 == 0 => 6,
        _ => 9,
    };
    if fraction > 0 {
        let mut text = *b".000000000";
        fill(&mut text[1..], u64::from(nanos));
        out.extend_from_slice(&text[..1 + fraction]);
    }
    out.extend_from_slice(match offset {
        Offset::Z => b"Z",
        Offset::Numeric => b"+00:00",
    });
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time, for years 0 to 9999. Exchanges
/// written one after another mostly started within the same second: the
/// last second's text is kept per thread and written again.
fn whole_seconds(secs: i64) -> Option<[u8; 19]> {
    thread_local! {
        static LAST: std::cell::Cell<Option<(i64, [u8; 19])>> = const { std::cell::Cell::new(None) };
    }
    if let Some((last, text)) = LAST.get()
        && last == secs
    {
        return Some(text);
    }
    // From the Unix time, not through chrono's calendar accessors: each of
    // those converts the whole date again.
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&year) {
        return None;
    }
    let of_day = secs.rem_euclid(86_400) as u32;
    let mut text = *b"0000-00-00T00:00:00";
    fill(&mut text[0..4], year as u64);
    fill(&mut text[5..7], u64::from(month));
    fill(&mut text[8..10], u64::from(day));
    fill(&mut text[11..13], u64::from(of_day / 3600));
    fill(&mut text[14..16], u64::from(of_day / 60 % 60));
    fill(&mut text[17..19], u64::from(of_day % 60));
    LAST.set(Some((secs, text)));
    Some(text)
}

/// The proleptic Gregorian (year, month, day) of a count of days since
/// 1970-01-01: the calendar counted in 400-year eras of 146,097 days,
/// each year starting on 1 March so that the leap day comes last.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn both(at: DateTime<Utc>) {
        for (offset, z) in [(Offset::Z, true), (Offset::Numeric, false)] {
            let mut out = Vec::new();
            write(&at, offset, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                at.to_rfc3339_opts(SecondsFormat::AutoSi, z),
                "{at:?}"
            );
        }
    }

    #[test]
    fn each_precision_and_the_edges_are_written_as_chrono_writes_them() {
        for (secs, nanos) in [
            (0, 0),
            (1_764_985_848, 0),
            (1_764_985_848, 120_000_000),
            (1_764_985_848, 123_400),
            (1_764_985_848, 1),
            (1_764_985_848, 999_999_999),
            (253_402_300_799, 999_999_999), // 9999-12-31T23:59:59
            (253_402_300_800, 0),           // 10000-01-01: chrono's shape
            (-1, 0),                        // 1969
            (-62_167_219_200, 0),           // 0000-01-01
            (-62_167_219_201, 0),           // -0001: chrono's shape
        ] {
            both(DateTime::from_timestamp(secs, nanos).unwrap());
        }
        // A leap second (nanoseconds past a whole second): chrono's.
        both(DateTime::from_timestamp(1_483_228_799, 1_500_000_000).unwrap());
    }

    proptest! {
        #[test]
        fn any_time_is_written_as_chrono_writes_it(
            secs in -62_167_219_200i64..253_402_300_800,
            nanos in prop_oneof![Just(0u32), (0u32..1000).prop_map(|m| m * 1_000_000), (0u32..1_000_000).prop_map(|u| u * 1000), 0u32..1_000_000_000],
        ) {
            both(DateTime::from_timestamp(secs, nanos).unwrap());
        }
    }
}
