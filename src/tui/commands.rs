//! Actions with effects outside the UI: copying to the clipboard and writing
//! an export file.

use crate::exchange::Exchange;

use super::app::App;
use super::keymap::Action;
use super::library::What;
use super::{analysis, copy, export, strings};

impl App {
    pub(super) fn copy(&mut self, action: Action) {
        self.overlay = None;
        let Some(ex) = self.current_id().and_then(|id| self.reader.exchange(id)) else {
            self.complain(strings::NOTHING_TO_COPY);
            return;
        };
        // What leaves for the clipboard is masked as the screen shows it,
        // until `R` reveals it.
        let reveal = self.detail.reveal;
        let shown = super::secrets::shown_exchange(&ex, reveal);
        let (what, text) = match action {
            Action::CopyRequestBody => ("the request body", copy::request_body(&shown)),
            Action::CopyCurl => ("the curl command", Some(copy::curl(&ex, reveal))),
            Action::CopyAssistant => ("the assistant's text", analysis::assistant_text(&ex)),
            Action::CopyUrl => ("the URL", Some(super::secrets::shown_url(&ex, reveal))),
            _ => ("the response body", copy::response_body(&shown)),
        };
        match text {
            Some(text) => self.put_on_clipboard(what, &text),
            None if action == Action::CopyAssistant => self.complain(strings::NO_ASSISTANT_TEXT),
            None => self.complain(strings::NOTHING_TO_COPY),
        }
    }

    fn put_on_clipboard(&mut self, what: &str, text: &str) {
        match self.clipboard.copy(text) {
            Ok(how) => self.say(strings::copied(what, text.len(), how)),
            Err(e) => self.complain(strings::copy_failed(&e)),
        }
    }

    /// Write the Export form's choice to its path.
    pub(super) fn write_export(&mut self) {
        let exchanges = self.export_selection();
        let path = self.library.path_buf();
        let result = export::write(self.library.format, self.library.redact, &exchanges, &path);
        self.library.result = Some(result.clone());
        match result {
            Ok(msg) => {
                self.library.written();
                self.say(msg)
            }
            Err(msg) => self.complain(msg),
        }
    }

    fn export_selection(&self) -> Vec<Exchange> {
        let store = self.reader.read();
        match self.library.what {
            What::All => store.all().map(|r| r.exchange.clone()).collect(),
            What::Filtered => (0..self.list.len())
                .filter_map(|row| self.list.id_at(row))
                .filter_map(|id| store.get(id).map(|r| r.exchange.clone()))
                .collect(),
            What::Marked => store
                .query(&|r| self.list.scope.marked.contains(&r.exchange.id))
                .map(|r| r.exchange.clone())
                .collect(),
            What::Expectations => {
                let at = (self.info.clock)();
                self.active_expectations()
                    .iter()
                    .enumerate()
                    .map(|(i, e)| crate::export::described::exchange(e, i as u64 + 1, at))
                    .collect()
            }
        }
    }

    /// The active mock expectations (none when nothing supplies them).
    pub(super) fn active_expectations(&self) -> Vec<serde_json::Value> {
        self.info
            .expectations
            .as_ref()
            .map(|list| list())
            .unwrap_or_default()
    }

    /// `R` in the Library: write a replay fixture (secrets redacted) for
    /// `llmspy --init FILE`. Captured traffic is recorded from the form's
    /// What choice; with "active expectations" they are written as they are.
    pub(super) fn record_fixture(&mut self) {
        let stamp = (self.info.clock)()
            .with_timezone(&self.info.utc_offset)
            .format("%Y%m%d-%H%M%S")
            .to_string();
        let path = super::library::Library::fixture_path(&self.info.export_dir, &stamp);
        let result = if self.library.what == What::Expectations {
            let list = self.active_expectations();
            export::write_fixture(
                &serde_json::Value::Array(list.clone()),
                list.len(),
                &[],
                &path,
                strings::NO_EXPECTATIONS,
            )
        } else {
            let fixture =
                crate::mock::fixtures::record(&self.export_selection(), &Default::default());
            export::write_fixture(
                &fixture.doc,
                fixture.count,
                &fixture.warnings,
                &path,
                strings::NOTHING_TO_RECORD,
            )
        };
        self.library.result = Some(result.clone());
        match result {
            Ok(msg) => {
                self.library.written();
                self.say(msg)
            }
            Err(msg) => self.complain(msg),
        }
    }
}
