//! Mouse: a click selects (a row, a tab, a screen), the wheel scrolls the
//! pane under the pointer.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::app::{App, Focus, Overlay};
use super::layout::Screen;
use super::views;

/// Rows moved per wheel notch.
const WHEEL: isize = 3;

impl App {
    pub(super) fn on_mouse(&mut self, ev: MouseEvent) -> bool {
        if self.field.is_some() {
            return false;
        }
        self.prepare();
        let at = Position::new(ev.column, ev.row);
        match ev.kind {
            MouseEventKind::Down(MouseButton::Left) => self.click(at),
            MouseEventKind::ScrollDown => self.wheel(at, WHEEL),
            MouseEventKind::ScrollUp => self.wheel(at, -WHEEL),
            _ => false,
        }
    }

    fn click(&mut self, at: Position) -> bool {
        if self.overlay.is_some() {
            self.overlay = None;
            return true;
        }
        if self.areas.title.contains(at) {
            return self.click_title(at.x);
        }
        if let Some(list) = self.areas.list.filter(|r| r.contains(at)) {
            return self.click_list(list, at);
        }
        if let Some(d) = self.areas.detail {
            if d.tabs.contains(at) {
                return self.click_tab(d.tabs, at.x);
            }
            if d.doc.contains(at) || d.head.contains(at) {
                self.focus = Focus::Detail;
                return true;
            }
        }
        false
    }

    fn click_title(&mut self, x: u16) -> bool {
        match views::title::screen_at(x) {
            Some(screen) => {
                self.screen = screen;
                self.focus = Focus::Main;
                true
            }
            None => false,
        }
    }

    fn click_list(&mut self, list: Rect, at: Position) -> bool {
        let Some(row) = at.y.checked_sub(list.y + 1) else {
            return false; // the header row
        };
        self.focus = Focus::Main;
        self.list.follow = false;
        self.list.select_row(self.list.offset + usize::from(row));
        true
    }

    fn click_tab(&mut self, tabs: Rect, x: u16) -> bool {
        let hit = views::detail::tab_at(&self.detail.tabs, x.saturating_sub(tabs.x));
        match hit {
            Some(tab) => {
                self.focus = Focus::Detail;
                self.detail.set_tab(tab);
                true
            }
            None => false,
        }
    }

    fn wheel(&mut self, at: Position, delta: isize) -> bool {
        if let Some(Overlay::Help { scroll }) = &mut self.overlay {
            *scroll = scroll
                .saturating_add_signed(delta)
                .min(views::help::max_scroll(self.size));
            return true;
        }
        if self.areas.list.is_some_and(|r| r.contains(at)) {
            if delta < 0 {
                self.list.follow = false;
            }
            self.list.move_by(delta);
            return true;
        }
        if self.areas.detail.is_some_and(|d| d.doc.contains(at)) {
            self.detail.scroll_by(delta);
            return true;
        }
        if self.screen == Screen::Sessions {
            self.sessions.move_lane(delta.signum());
            return true;
        }
        false
    }
}
