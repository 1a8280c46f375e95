//! The Library's Runs tab: earlier runs from the history database, opened
//! in place of the live traffic, and the way back.

use super::app::App;
use super::strings;

impl App {
    /// The Runs tab's rows: the way back to live traffic, then each run,
    /// newest first.
    pub(super) fn run_rows(&self) -> Result<Vec<(Option<i64>, String)>, String> {
        let Some(history) = &self.info.history else {
            return Ok(Vec::new());
        };
        let mut rows = vec![(None, strings::LIVE_TRAFFIC.to_string())];
        let mut runs = (history.runs)()?;
        runs.reverse();
        rows.extend(runs.into_iter().map(|(id, line)| (Some(id), line)));
        Ok(rows)
    }

    pub(super) fn move_run_cursor(&mut self, delta: isize) {
        let n = self.run_rows().map(|r| r.len()).unwrap_or(1);
        self.library.run_cursor = self
            .library
            .run_cursor
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
    }

    /// Enter on the Runs tab: show that run (or live traffic again).
    pub(super) fn open_run(&mut self) {
        let Some(history) = self.info.history.clone() else {
            return;
        };
        let chosen = match self.run_rows() {
            Ok(rows) => rows.get(self.library.run_cursor).map(|(id, _)| *id),
            Err(e) => return self.complain(e),
        };
        match chosen.flatten() {
            None => self.back_to_live(),
            Some(id) => match (history.open)(id) {
                Ok(reader) => {
                    let live = match self.viewing.take() {
                        Some((_, live)) => live,
                        None => self.reader.clone(),
                    };
                    self.swap_store(reader, false);
                    self.viewing = Some((id, live));
                    self.screen = super::layout::Screen::Traffic;
                    self.say(format!(
                        "run {id} from the history (L › Runs › live to go back)"
                    ));
                }
                Err(e) => self.complain(format!("cannot open run {id}: {e}")),
            },
        }
    }

    fn back_to_live(&mut self) {
        if let Some((_, live)) = self.viewing.take() {
            self.swap_store(live, true);
            self.say(strings::BACK_TO_LIVE);
        }
        self.screen = super::layout::Screen::Traffic;
    }

    /// The run on screen instead of live traffic, if any.
    pub fn viewing_run(&self) -> Option<i64> {
        self.viewing.as_ref().map(|(id, _)| *id)
    }
}
