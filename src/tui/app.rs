//! The UI's model and its one `update`: every change of state goes through
//! [`App::update`]; [`App::prepare`] then brings the caches (shown list,
//! detail document, sessions) up to date for the next frame, and the views
//! only read.

use std::time::Instant;

use ratatui::crossterm::event::{KeyEvent, KeyEventKind};
use ratatui::layout::Rect;

use crate::capture::{StoreEvent, StoreReader};
use crate::exchange::ExchangeId;
use crate::filter::Filter;

use super::UiInfo;
use super::clipboard::Clipboard;
use super::detail::{Detail, Tab};
use super::input::Field;
use super::keymap::{self, Key, Scope};
use super::layout::{Areas, Inputs, Screen, WIDE};
use super::library::Library;
use super::list::TrafficList;
use super::msg::Msg;
use super::rows::{Kind, RowCache};
use super::sessions::Sessions;

mod ticks;

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The screen's main pane (list, lanes, form).
    #[default]
    Main,
    /// The detail pane (beside the list when wide, full screen otherwise).
    Detail,
}

/// Something drawn over the screen that takes the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help { scroll: usize },
    CopyMenu,
}

/// A short message in the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    /// When it was first shown (stamped by the next tick).
    pub since: Option<Instant>,
}

pub struct App {
    pub(super) reader: StoreReader,
    pub info: UiInfo,
    pub screen: Screen,
    pub focus: Focus,
    pub list: TrafficList,
    pub rows: RowCache,
    pub detail: Detail,
    pub filter: Filter,
    pub field: Option<Field>,
    pub overlay: Option<Overlay>,
    pub flash: Option<Flash>,
    pub sessions: Sessions,
    pub library: Library,
    /// The terminal's size.
    pub size: Rect,
    /// Where things were put by the last prepare (for drawing and the mouse).
    pub areas: Areas,
    pub quit: bool,
    pub(super) clipboard: Box<dyn Clipboard>,
    /// Bumped on every store change; caches compare against it.
    pub(super) generation: u64,
    /// When the Library last redrew the expectations (see `wake_in`).
    expectations_polled: Option<Instant>,
    /// The sinks' status bar words when last drawn, and when they were
    /// read: the history and the exporter change with no store event.
    sinks_seen: (String, Option<Instant>),
    /// Browsing an earlier run from the history: its id, and the live
    /// store to go back to.
    pub(super) viewing: Option<(i64, StoreReader)>,
}

impl App {
    pub fn new(reader: StoreReader, info: UiInfo, clipboard: Box<dyn Clipboard>) -> Self {
        let live = info.listen.is_some();
        let scripts = super::detail::Scripts(info.expectations.clone());
        App {
            reader,
            info,
            screen: Screen::Traffic,
            focus: Focus::Main,
            list: TrafficList::new(live),
            rows: RowCache::new(!live),
            detail: Detail::with_scripts(scripts),
            filter: Filter::all(),
            field: None,
            overlay: None,
            flash: None,
            sessions: Sessions::default(),
            library: Library::default(),
            size: Rect::new(0, 0, 80, 24),
            areas: Areas::default(),
            quit: false,
            clipboard,
            generation: 0,
            expectations_polled: None,
            sinks_seen: (String::new(), None),
            viewing: None,
        }
    }

    /// Apply one message. Returns true when the screen may have changed.
    pub fn update(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(ev) => self.on_mouse(ev),
            Msg::Paste(text) => self.on_paste(&text),
            Msg::Resize(w, h) => self.on_resize(w, h),
            Msg::Store(ev) => self.on_store(ev),
            Msg::Resync => self.on_resync(),
            Msg::Tick(now) => self.on_tick(now),
            Msg::Stop => {
                self.quit = true;
                false
            }
        }
    }

    fn on_key(&mut self, ev: KeyEvent) -> bool {
        if ev.kind == KeyEventKind::Release {
            return false;
        }
        // Keys act on what is on screen: settle selection and tabs first.
        self.prepare();
        if self.field.is_some() {
            return self.field_key(ev);
        }
        let Some(key) = Key::from_event(&ev) else {
            return false;
        };
        match keymap::resolve(&self.scopes(), key) {
            Some(action) => {
                self.act(action);
                true
            }
            None => false,
        }
    }

    fn on_paste(&mut self, text: &str) -> bool {
        match self.field.as_mut() {
            Some(field) => {
                let changed = field.paste(text);
                if changed {
                    self.field_changed();
                }
                changed
            }
            None => false,
        }
    }

    fn on_resize(&mut self, w: u16, h: u16) -> bool {
        self.size = Rect::new(0, 0, w, h);
        true
    }

    fn on_store(&mut self, ev: StoreEvent) -> bool {
        if let StoreEvent::Refused(reason) = &ev {
            self.complain(reason.clone());
            return true;
        }
        // While an earlier run is on screen, live changes wait for the way back.
        if self.viewing.is_some() {
            return false;
        }
        self.generation += 1;
        match ev {
            StoreEvent::Started(id) | StoreEvent::Updated(id) | StoreEvent::Finished(id) => {
                self.list.touch(id)
            }
            StoreEvent::Cleared | StoreEvent::Evicted { .. } => self.list.invalidate(),
            // A web page or another user tried to drive llmspy: said above.
            StoreEvent::Refused(_) => {}
        }
        true
    }

    fn on_resync(&mut self) -> bool {
        self.generation += 1;
        self.list.invalidate();
        true
    }

    pub(super) fn say(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: false,
            since: None,
        });
    }

    pub(super) fn complain(&mut self, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            error: true,
            since: None,
        });
    }

    /// True when the terminal is wide enough for list and detail side by side.
    pub fn wide(&self) -> bool {
        self.size.width >= WIDE
    }

    /// The detail pane fills the body.
    pub fn detail_full(&self) -> bool {
        self.focus == Focus::Detail
            && match self.screen {
                Screen::Traffic => !self.wide(),
                Screen::Sessions => true,
                Screen::Library => false,
            }
    }

    /// The detail pane is on screen.
    pub fn detail_visible(&self) -> bool {
        self.detail_full() || (self.screen == Screen::Traffic && self.wide())
    }

    /// The exchange the detail pane shows (and copy, mark act on).
    pub fn current_id(&self) -> Option<ExchangeId> {
        match self.screen {
            Screen::Sessions if self.focus == Focus::Detail => self.sessions.selected(),
            _ => self.list.selected(),
        }
    }

    /// Key scopes in force, most specific first.
    pub fn scopes(&self) -> Vec<Scope> {
        if self.field.is_some() {
            return vec![Scope::Input];
        }
        match self.overlay {
            Some(Overlay::Help { .. }) => return vec![Scope::Help, Scope::Global],
            Some(Overlay::CopyMenu) => return vec![Scope::CopyMenu],
            None => {}
        }
        if self.focus == Focus::Detail && self.detail_visible() {
            let mut scopes = vec![Scope::Detail, Scope::Global];
            if self.detail.tab == Some(Tab::Conversation) {
                scopes.insert(0, Scope::Conversation);
            }
            return scopes;
        }
        match self.screen {
            Screen::Traffic => vec![Scope::List, Scope::Global],
            Screen::Sessions => vec![Scope::Sessions, Scope::Global],
            Screen::Library => vec![Scope::Library, Scope::Global],
        }
    }

    /// Bring caches up to date with the store and the terminal size.
    pub fn prepare(&mut self) {
        let reader = self.reader.clone();
        let store = reader.read();
        self.list.sync(&store, &mut self.rows, &self.filter);
        if self.screen == Screen::Sessions {
            let cleared = self.list.scope.cleared_through;
            self.sessions
                .refresh(&store, &mut self.rows, self.generation, cleared);
            self.sessions.prepare_diff(&store);
        }
        let id = self.detail_visible().then(|| self.current_id()).flatten();
        self.detail.show(id);
        let info = id
            .and_then(|id| store.get(id))
            .map(|r| self.rows.refresh(r).clone());
        self.areas = Areas::compute(
            self.size,
            Inputs {
                screen: self.screen,
                detail_full: self.detail_full(),
                usage: info.as_ref().is_some_and(|i| i.kind == Kind::Llm),
                input_error: self.field.as_ref().is_some_and(|f| f.error.is_some()),
            },
        );
        self.list.keep_in_view(self.areas.list_rows());
        if let Some(d) = self.areas.detail {
            self.detail
                .prepare(&store, info.as_ref(), d.doc.width, d.doc.height);
        }
        let body = self.areas.body.height;
        // The "what changed" panel takes the lower half.
        let body = if self.sessions.diff.shown {
            body - body / 2
        } else {
            body
        };
        let lanes = body.saturating_sub(1) / super::views::sessions::LANE_ROWS;
        self.sessions.keep_in_view(usize::from(lanes));
        if self.screen == Screen::Library && self.library.needs_default_path() {
            let stamp = (self.info.clock)().with_timezone(&self.info.utc_offset);
            let stamp = stamp.format("%Y%m%d-%H%M%S").to_string();
            self.library.default_path(&self.info.export_dir, &stamp);
        }
    }

    /// Show another store (a run from the history, or live traffic again):
    /// the list and its caches start afresh.
    pub(super) fn swap_store(&mut self, reader: StoreReader, live: bool) {
        self.reader = reader;
        self.list = TrafficList::new(live);
        self.rows = RowCache::new(!live);
        self.detail = Detail::with_scripts(super::detail::Scripts(self.info.expectations.clone()));
        self.sessions = Sessions::default();
        self.generation += 1;
    }

    /// The store, for reading.
    pub fn reader(&self) -> &StoreReader {
        &self.reader
    }
}
