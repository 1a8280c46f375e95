//! Keys while a text field is open: the filter applies live (a bad
//! expression shows where it is wrong and keeps the previous filter), the
//! search jumps as you type, the export path is taken on Enter.

use ratatui::crossterm::event::KeyEvent;

use crate::filter;

use super::app::App;
use super::input::FieldKind;
use super::keymap::{self, Action, Key, Scope};

impl App {
    pub(super) fn field_key(&mut self, ev: KeyEvent) -> bool {
        let key = Key::from_event(&ev);
        // Enter in disguise (ctrl-m) must not split the line.
        let key = match key {
            Some(Key::Ctrl('m')) => Some(Key::Enter),
            k => k,
        };
        if key == Some(Key::Ctrl('c')) {
            // The way out that works everywhere, a field included.
            self.quit = true;
            return true;
        }
        match key.and_then(|k| keymap::resolve(&[Scope::Input], k)) {
            Some(Action::Accept) => self.accept_field(),
            Some(Action::Cancel) => self.cancel_field(),
            _ => {
                let changed = self.field.as_mut().is_some_and(|f| f.key(ev));
                if changed {
                    self.field_changed();
                }
            }
        }
        true
    }

    /// The text changed: apply live where that makes sense.
    pub(super) fn field_changed(&mut self) {
        let Some(field) = self.field.as_mut() else {
            return;
        };
        let value = field.value();
        match field.kind {
            FieldKind::Filter => match filter::parse(&value) {
                Ok(f) => {
                    field.error = None;
                    self.set_filter(f);
                }
                Err(e) => field.error = Some(e),
            },
            FieldKind::Search => self.detail.search_for(&value),
            FieldKind::ExportPath => {}
        }
    }

    fn accept_field(&mut self) {
        // Enter on a broken filter keeps the field open: what was typed is
        // not lost, and the error under it says what to fix (Esc goes back
        // to the filter from before).
        if self
            .field
            .as_ref()
            .is_some_and(|f| f.kind == FieldKind::Filter && f.error.is_some())
        {
            return;
        }
        let Some(field) = self.field.take() else {
            return;
        };
        let value = field.value();
        match field.kind {
            FieldKind::Filter => {}
            FieldKind::Search => {
                self.detail.search_for(&value);
                if !value.is_empty() && self.detail.search.hits.is_empty() {
                    self.complain(super::strings::NO_MATCHES);
                }
            }
            FieldKind::ExportPath => {
                self.library.path = value;
                self.library.path_edited = true;
            }
        }
    }

    fn cancel_field(&mut self) {
        let Some(field) = self.field.take() else {
            return;
        };
        match field.kind {
            FieldKind::Filter => {
                if let Ok(f) = filter::parse(&field.before) {
                    self.set_filter(f);
                }
            }
            FieldKind::Search => self.detail.search_for(&field.before),
            FieldKind::ExportPath => {}
        }
    }

    pub(super) fn set_filter(&mut self, f: filter::Filter) {
        if f.source() != self.filter.source() {
            self.filter = f;
            self.list.invalidate();
        }
    }
}
