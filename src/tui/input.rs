//! One-line text fields (filter, search, export path) on ratatui-textarea.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use crate::filter::FilterError;

/// What a field is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Filter,
    Search,
    ExportPath,
}

/// An open text field.
#[derive(Debug)]
pub struct Field {
    pub kind: FieldKind,
    pub text: TextArea<'static>,
    /// The value when editing began, restored on cancel.
    pub before: String,
    /// Why the current filter text does not parse (the applied filter stays).
    pub error: Option<FilterError>,
}

impl Field {
    pub fn new(kind: FieldKind, initial: &str) -> Self {
        let mut text = TextArea::new(vec![initial.to_string()]);
        text.move_cursor(ratatui_textarea::CursorMove::End);
        text.set_cursor_line_style(ratatui::style::Style::new());
        Field {
            kind,
            text,
            before: initial.to_string(),
            error: None,
        }
    }

    /// Select the whole text, shown reversed: the first key typed replaces
    /// it, Enter keeps it, an arrow key edits it (a find bar's way with
    /// the last query).
    pub fn select_all(&mut self) {
        self.text.set_selection_style(
            ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED),
        );
        self.text.select_all();
    }

    /// The field's text (one line).
    pub fn value(&self) -> String {
        self.text.lines().join("")
    }

    /// Feed a key to the field; true when the text changed.
    pub fn key(&mut self, key: KeyEvent) -> bool {
        let before = self.value();
        match (key.code, key.modifiers.contains(KeyModifiers::CONTROL)) {
            // One line, no tabs: a tab would only confuse filter and path.
            (KeyCode::Tab | KeyCode::BackTab, _) => return false,
            // The shell's "kill to start of line", which people reach for.
            (KeyCode::Char('u'), true) => {
                self.text.delete_line_by_head();
            }
            // Moving the cursor edits a selected query, not selects more.
            (KeyCode::Left | KeyCode::Right | KeyCode::Home | KeyCode::End, _) => {
                self.text.cancel_selection();
                self.text.input(key);
            }
            _ => {
                self.text.input(key);
            }
        }
        // A field is one line: fold anything that split it back together.
        if self.text.lines().len() > 1 {
            let joined = self.value();
            self.replace(&joined);
        }
        self.value() != before
    }

    /// Insert pasted text (newlines become spaces).
    pub fn paste(&mut self, text: &str) -> bool {
        let clean: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        self.text.insert_str(clean)
    }

    fn replace(&mut self, value: &str) {
        self.text = TextArea::new(vec![value.to_string()]);
        self.text.move_cursor(ratatui_textarea::CursorMove::End);
        self.text
            .set_cursor_line_style(ratatui::style::Style::new());
    }
}
