//! What each key action does, by context. `App::act` is the only entry; each
//! arm calls a named method.

use super::app::{App, Focus, Overlay};
use super::detail::Tab;
use super::input::{Field, FieldKind};
use super::keymap::Action;
use super::layout::Screen;
use super::library::{ExportField, LibraryTab};
use super::strings;

/// Where the keyboard is, for actions whose meaning depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Help,
    List,
    Detail,
    Sessions,
    Library,
}

impl App {
    fn ctx(&self) -> Ctx {
        if matches!(self.overlay, Some(Overlay::Help { .. })) {
            return Ctx::Help;
        }
        if self.focus == Focus::Detail && self.detail_visible() {
            return Ctx::Detail;
        }
        match self.screen {
            Screen::Traffic => Ctx::List,
            Screen::Sessions => Ctx::Sessions,
            Screen::Library => Ctx::Library,
        }
    }

    pub(super) fn act(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::Back => self.back(),
            Action::Help => self.toggle_help(),
            Action::ShowTraffic => self.show(Screen::Traffic),
            Action::ShowSessions => self.show(Screen::Sessions),
            Action::ShowLibrary => self.show(Screen::Library),
            Action::Up => self.vertical(-1),
            Action::Down => self.vertical(1),
            Action::PageUp => self.vertical(-self.page()),
            Action::PageDown => self.vertical(self.page()),
            Action::Top => self.vertical(isize::MIN / 2),
            Action::Bottom => self.vertical(isize::MAX / 2),
            Action::Left => self.horizontal(false),
            Action::Right => self.horizontal(true),
            Action::Open => self.open(),
            Action::NextPane => self.pane(true),
            Action::PrevPane => self.pane(false),
            Action::SelectTab(n) => self.select_tab(n),
            Action::PrevExchange => self.step_exchange(-1),
            Action::NextExchange => self.step_exchange(1),
            Action::Filter => self.open_field(FieldKind::Filter),
            Action::Search => self.open_field(FieldKind::Search),
            Action::SearchNext => self.step_hit(true),
            Action::SearchPrev => self.step_hit(false),
            Action::Follow => self.toggle_follow(),
            Action::Mark => self.toggle_mark(),
            Action::MarkedOnly => self.toggle_marked_only(),
            Action::Clear => self.clear(),
            Action::Sort => self.sort(false),
            Action::Reverse => self.sort(true),
            Action::Export => self.open_export(),
            Action::Copy => self.open_copy_menu(),
            Action::Reveal => self.detail.reveal = !self.detail.reveal,
            Action::Thinking => self.detail.thinking = !self.detail.thinking,
            Action::CopyResponseBody
            | Action::CopyRequestBody
            | Action::CopyCurl
            | Action::CopyAssistant
            | Action::CopyUrl => self.copy(action),
            Action::Accept => self.accept(),
            Action::Cancel => self.overlay = None,
            Action::RecordFixture => self.record_fixture(),
            Action::TurnDiff => self.sessions.diff.toggle(),
        }
    }

    fn back(&mut self) {
        match self.ctx() {
            Ctx::Help => self.overlay = None,
            Ctx::Detail => self.focus = Focus::Main,
            Ctx::Sessions | Ctx::Library => self.show(Screen::Traffic),
            Ctx::List => self.say(strings::QUIT_HINT),
        }
    }

    fn toggle_help(&mut self) {
        self.overlay = match self.overlay {
            Some(Overlay::Help { .. }) => None,
            _ => Some(Overlay::Help { scroll: 0 }),
        };
    }

    fn show(&mut self, screen: Screen) {
        self.screen = screen;
        self.focus = Focus::Main;
        self.overlay = None;
    }

    fn page(&self) -> isize {
        let rows = match self.ctx() {
            Ctx::Detail => self.detail.height,
            Ctx::Help => usize::from(self.size.height.saturating_sub(4)),
            _ => self.areas.list_rows(),
        };
        isize::try_from(rows.saturating_sub(1).max(1)).unwrap_or(1)
    }

    fn vertical(&mut self, delta: isize) {
        match self.ctx() {
            Ctx::Help => self.scroll_help(delta),
            Ctx::List => self.move_list(delta),
            Ctx::Detail => self.detail.scroll_by(delta),
            Ctx::Sessions => self.sessions.move_lane(delta),
            Ctx::Library if self.library.tab == LibraryTab::Expectations => {
                self.library.scroll = self.library.scroll.saturating_add_signed(delta)
            }
            Ctx::Library if self.library.tab == LibraryTab::Runs => self.move_run_cursor(delta),
            Ctx::Library => self.library.step_field(delta > 0),
        }
    }

    fn scroll_help(&mut self, delta: isize) {
        if let Some(Overlay::Help { scroll }) = &mut self.overlay {
            *scroll = scroll
                .saturating_add_signed(delta)
                .min(super::views::help::max_scroll(self.size));
        }
    }

    fn move_list(&mut self, delta: isize) {
        // Looking back through the list stops following the newest.
        if delta < 0 {
            self.list.follow = false;
        }
        self.list.move_by(delta);
    }

    fn horizontal(&mut self, forward: bool) {
        match self.ctx() {
            Ctx::Sessions => self.sessions.move_turn(if forward { 1 } else { -1 }),
            Ctx::Library => self.library.step_choice(forward),
            _ => {}
        }
    }

    fn open(&mut self) {
        match self.ctx() {
            Ctx::List if self.list.selected().is_some() => self.focus = Focus::Detail,
            Ctx::Sessions if self.sessions.selected().is_some() => {
                self.focus = Focus::Detail;
                self.detail.set_tab(Tab::Conversation);
            }
            _ => {}
        }
    }

    /// Tab / Shift-Tab: list → tabs → list (wide); around the tabs (narrow).
    fn pane(&mut self, forward: bool) {
        match self.ctx() {
            Ctx::List if self.detail_visible() || self.list.selected().is_some() => {
                self.focus_detail();
            }
            Ctx::Detail if !self.detail.step_tab(forward) => self.wrap_tabs(forward),
            Ctx::Library => self.switch_library_tab(),
            _ => {}
        }
    }

    /// Into the detail pane from the list: onto the tab it shows (picked
    /// with a digit, say), not back to the first.
    fn focus_detail(&mut self) {
        if !self.wide() {
            return;
        }
        self.focus = Focus::Detail;
    }

    fn wrap_tabs(&mut self, forward: bool) {
        if self.screen == Screen::Traffic && self.wide() {
            self.focus = Focus::Main;
            return;
        }
        let edge = if forward {
            self.detail.tabs.first()
        } else {
            self.detail.tabs.last()
        };
        if let Some(tab) = edge.copied() {
            self.detail.set_tab(tab);
        }
    }

    fn switch_library_tab(&mut self) {
        let runs = self.info.history.is_some();
        self.library.tab = match self.library.tab {
            LibraryTab::Expectations => LibraryTab::Export,
            LibraryTab::Export if runs => LibraryTab::Runs,
            LibraryTab::Export | LibraryTab::Runs => LibraryTab::Expectations,
        };
    }

    fn select_tab(&mut self, n: u8) {
        let tab = usize::from(n)
            .checked_sub(1)
            .and_then(|i| self.detail.tabs.get(i));
        if let Some(tab) = tab.copied() {
            self.detail.set_tab(tab);
        }
    }

    fn step_exchange(&mut self, delta: isize) {
        match self.screen {
            Screen::Sessions => self.sessions.move_turn(delta),
            _ => self.move_list(delta),
        }
    }

    fn open_field(&mut self, kind: FieldKind) {
        let initial = match kind {
            FieldKind::Filter => self.filter.source().to_string(),
            FieldKind::Search => self.detail.search.query.clone(),
            FieldKind::ExportPath => self.library.path.clone(),
        };
        self.overlay = None;
        let mut field = Field::new(kind, &initial);
        // A new search usually looks for something else: the last query
        // stays (Enter repeats it) but typing replaces it.
        if kind == FieldKind::Search {
            field.select_all();
        }
        self.field = Some(field);
    }

    fn step_hit(&mut self, forward: bool) {
        if !self.detail.step_hit(forward) {
            self.complain(strings::NO_MATCHES);
        }
    }

    fn toggle_follow(&mut self) {
        self.list.follow = !self.list.follow;
        if self.list.follow {
            self.list.select_row(usize::MAX);
            self.say(strings::FOLLOW_ON);
        } else {
            self.say(strings::FOLLOW_OFF);
        }
    }

    fn toggle_mark(&mut self) {
        let Some(id) = self.current_id() else { return };
        let marked = &mut self.list.scope.marked;
        if !marked.remove(&id) {
            marked.insert(id);
        }
        if self.list.scope.marked_only {
            self.list.touch(id);
        }
    }

    fn toggle_marked_only(&mut self) {
        self.list.scope.marked_only = !self.list.scope.marked_only;
        self.list.invalidate();
    }

    fn clear(&mut self) {
        let newest = self.reader.read().newest().map(|r| r.exchange.id);
        self.list.scope.cleared_through = newest.unwrap_or(0);
        self.generation += 1;
        self.list.scope.marked.clear();
        self.list.invalidate();
        let said = match &self.info.on_clear {
            Some(clear) => {
                clear();
                if self.info.history.is_some() {
                    strings::CLEARED_HISTORY_KEEPS
                } else {
                    strings::CLEARED
                }
            }
            None => strings::LIST_CLEARED,
        };
        self.say(said);
    }

    fn sort(&mut self, reverse: bool) {
        let (key, rev) = if reverse {
            (self.list.sort, !self.list.reverse)
        } else {
            (self.list.sort.next(), self.list.reverse)
        };
        self.list.set_sort(key, rev);
        self.say(strings::sorted_by(key.label(), rev));
    }

    fn open_export(&mut self) {
        self.show(Screen::Library);
        self.library.tab = LibraryTab::Export;
    }

    fn open_copy_menu(&mut self) {
        if self.current_id().is_some() {
            self.overlay = Some(Overlay::CopyMenu);
        } else {
            self.complain(strings::NOTHING_TO_COPY);
        }
    }

    fn accept(&mut self) {
        if self.ctx() == Ctx::Library && self.library.tab == LibraryTab::Runs {
            return self.open_run();
        }
        if self.ctx() != Ctx::Library || self.library.tab != LibraryTab::Export {
            return;
        }
        match self.library.field {
            ExportField::What | ExportField::Format | ExportField::Secrets => {
                self.library.step_choice(true)
            }
            ExportField::Path => self.open_field(FieldKind::ExportPath),
            ExportField::Write => self.write_export(),
        }
    }
}
