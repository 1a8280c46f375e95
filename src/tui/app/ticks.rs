//! What the UI does when no key is pressed: a status message expires, and
//! what changes with no store event (the Library's expectations, the
//! history's and the exporter's counts) is read again every so often.

use std::time::{Duration, Instant};

use super::App;
use crate::tui::layout::Screen;
use crate::tui::library::LibraryTab;

/// How often the Library redraws the active expectations, and the status
/// bar reads the sinks' counts.
const EXPECTATIONS_POLL: Duration = Duration::from_secs(1);
/// How long a status message stays.
const FLASH_FOR: Duration = Duration::from_secs(4);

impl App {
    pub(super) fn on_tick(&mut self, now: Instant) -> bool {
        let sinks_changed = self.sinks_changed(now);
        if self.polls_expectations()
            && self
                .expectations_polled
                .is_none_or(|at| now.duration_since(at) >= EXPECTATIONS_POLL)
        {
            self.expectations_polled = Some(now);
            self.expire_flash(now);
            return true;
        }
        self.expire_flash(now) | sinks_changed
    }

    /// Whether the sinks' status words changed since last read (read at
    /// most every [`EXPECTATIONS_POLL`]): "history 29 saved" must not stay
    /// on screen once 32 are.
    fn sinks_changed(&mut self, now: Instant) -> bool {
        if self.info.sink_status.is_empty()
            || self
                .sinks_seen
                .1
                .is_some_and(|at| now.duration_since(at) < EXPECTATIONS_POLL)
        {
            return false;
        }
        let words: String = self.info.sink_status.iter().map(|s| s()).collect();
        self.sinks_seen.1 = Some(now);
        if words == self.sinks_seen.0 {
            return false;
        }
        self.sinks_seen.0 = words;
        true
    }

    fn expire_flash(&mut self, now: Instant) -> bool {
        let Some(flash) = self.flash.as_mut() else {
            return false;
        };
        match flash.since {
            None => {
                flash.since = Some(now);
                false
            }
            Some(since) if now.duration_since(since) >= FLASH_FOR => {
                self.flash = None;
                true
            }
            Some(_) => false,
        }
    }

    /// How long the loop may sleep before a tick is due (None: until input).
    pub fn wake_in(&self, now: Instant) -> Option<Duration> {
        let flash = self
            .flash
            .as_ref()
            .and_then(|f| f.since)
            .map(|since| FLASH_FOR.saturating_sub(now.duration_since(since)));
        let poll = self.polls_expectations().then(|| {
            self.expectations_polled.map_or(Duration::ZERO, |at| {
                EXPECTATIONS_POLL.saturating_sub(now.duration_since(at))
            })
        });
        let sinks = (!self.info.sink_status.is_empty()).then(|| {
            self.sinks_seen.1.map_or(Duration::ZERO, |at| {
                EXPECTATIONS_POLL.saturating_sub(now.duration_since(at))
            })
        });
        flash.into_iter().chain(poll).chain(sinks).min()
    }

    /// The Library's expectations change through the API, which sends the
    /// UI no event: while they are on screen, redraw them every so often.
    fn polls_expectations(&self) -> bool {
        self.screen == Screen::Library
            && self.library.tab == LibraryTab::Expectations
            && self.info.expectations.is_some()
    }
}
