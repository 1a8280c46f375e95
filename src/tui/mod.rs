//! The terminal UI, a consumer of the capture store.
//!
//! Elm-style: one [`Msg`] channel fed by an input thread and a store-event
//! thread; the main thread drains it, runs [`App::update`] per message, and
//! redraws only when something changed, at most [`MAX_FPS`] times a second.
//! It blocks on the channel when idle, so an idle UI costs no CPU, and it
//! never holds up the proxy: store events arrive on a broadcast channel
//! whose overflow (`Lagged`) only makes the UI resync from the store.
//!
//! Entry points: [`run`] for a live proxy, [`open`] for a saved capture.

mod actions;
pub(crate) mod analysis;
pub mod app;
mod block;
pub mod clipboard;
mod commands;
mod copy;
pub mod detail;
pub mod doc;
mod editing;
mod export;
mod grpc_body;
pub mod input;
mod json_text;
pub mod keymap;
pub mod layout;
pub mod library;
pub mod list;
mod mouse;
pub mod msg;
mod pretty;
pub mod rows;
mod runs;
mod secrets;
pub mod sessions;
pub mod sort;
pub mod strings;
pub mod theme;
mod turn_diff;
pub mod views;

use std::io::{self, stdout};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::{DefaultTerminal, Frame};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::capture::{StoreEvent, StoreReader};

pub use app::App;
pub use msg::Msg;

/// Most redraws per second; bursts of store events are coalesced into one.
pub const MAX_FPS: u32 = 30;
/// Messages applied before a redraw is considered, so a flood of store
/// events can't starve the screen.
const MAX_BATCH: usize = 4096;

/// What the UI needs to know about its surroundings.
pub struct UiInfo {
    /// The proxy's listen address for the status bar (`None` when viewing a file).
    pub listen: Option<String>,
    /// The capture file being viewed (`llmspy open FILE`).
    pub source: Option<PathBuf>,
    /// Offset for displayed times: the local zone when the UI started.
    pub utc_offset: FixedOffset,
    /// Where exports are written by default.
    pub export_dir: PathBuf,
    /// The wall clock (names default export files); fixed in tests.
    pub clock: fn() -> DateTime<Utc>,
    /// Lines shown while nothing has been captured yet: typically the
    /// `export HTTPS_PROXY=…` lines the agent's shell needs.
    pub setup: Vec<String>,
    /// Called by `z` to clear the capture store itself (e.g. send
    /// `CaptureMsg::Clear(None)` to the recorder). Without it `z` only hides
    /// the current exchanges from this UI.
    pub on_clear: Option<Box<dyn Fn() + Send>>,
    /// The active mock expectations, in MockServer's JSON shape, for the
    /// Library and the Scripted Turns tab. `None` when there are none to
    /// show (a saved capture).
    pub expectations: Option<ExpectationSource>,
    /// A few words on each sink's state for the status bar (`history 120
    /// saved`, `otlp 12 sent`), read at each frame.
    pub sink_status: Vec<StatusSource>,
    /// Earlier runs kept in the history database, for the Library's Runs
    /// tab. `None` without a history.
    pub history: Option<HistorySource>,
}

/// A run of the history: its id and a line describing it.
pub type RunLine = (i64, String);

/// The history as the UI sees it: a list of runs, and a run's exchanges as
/// a store to browse (the UI never opens the database itself).
#[derive(Clone)]
pub struct HistorySource {
    /// `(run id, one line describing it)`, oldest first.
    pub runs: std::sync::Arc<dyn Fn() -> Result<Vec<RunLine>, String> + Send + Sync>,
    /// Every exchange of a run, loaded from the database.
    pub open: std::sync::Arc<dyn Fn(i64) -> Result<StoreReader, String> + Send + Sync>,
}

/// Words for the status bar, read when it is drawn.
pub type StatusSource = std::sync::Arc<dyn Fn() -> String + Send + Sync>;

/// Lists the active mock expectations when asked.
pub type ExpectationSource = std::sync::Arc<dyn Fn() -> Vec<serde_json::Value> + Send + Sync>;

impl UiInfo {
    /// For a live proxy listening on `listen` (e.g. `127.0.0.1:1080`).
    pub fn live(listen: impl Into<String>) -> Self {
        UiInfo {
            listen: Some(listen.into()),
            ..UiInfo::base()
        }
    }

    /// For a saved capture opened with `llmspy open`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        UiInfo {
            source: Some(path.into()),
            ..UiInfo::base()
        }
    }

    fn base() -> Self {
        UiInfo {
            listen: None,
            source: None,
            utc_offset: *chrono::Local::now().offset(),
            export_dir: std::env::current_dir().unwrap_or_default(),
            clock: Utc::now,
            setup: Vec::new(),
            on_clear: None,
            expectations: None,
            sink_status: Vec::new(),
            history: None,
        }
    }
}

/// Run the UI over a live store until the user quits. Call on the main
/// thread; the engine keeps running on its own runtime meanwhile.
/// Returns when the user quits or `stop` fires (or its sender is dropped).
pub fn run(
    reader: StoreReader,
    events: broadcast::Receiver<StoreEvent>,
    info: UiInfo,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> io::Result<()> {
    let (tx, rx) = mpsc::channel();
    forward_store_events(events, tx.clone())?;
    forward_stop(stop, tx.clone())?;
    run_with(reader, info, tx, rx)
}

/// Show a store nothing writes to (a capture file loaded for `llmspy open`);
/// `stop` ends it as `Q` does.
pub fn open(
    reader: StoreReader,
    info: UiInfo,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> io::Result<()> {
    let (tx, rx) = mpsc::channel();
    forward_stop(stop, tx.clone())?;
    run_with(reader, info, tx, rx)
}

fn run_with(
    reader: StoreReader,
    info: UiInfo,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let _guard = TerminalGuard::enter()?;
    let size = terminal.size()?;
    let clipboard = Box::new(clipboard::SystemClipboard::new());
    let mut app = App::new(reader, info, clipboard);
    app.update(Msg::Resize(size.width, size.height));
    read_input(tx)?;
    let ended = event_loop(&mut terminal, &mut app, &rx);
    // ratatui's `Terminal` reports a failed clean-up with `eprintln!`,
    // which panics when stderr is a terminal that hung up (SIGHUP): then
    // there is nothing left to clean up, and the terminal is let go as is,
    // so the shutdown that closes the run still happens.
    if terminal.show_cursor().is_err() {
        std::mem::forget(terminal);
    }
    ended
}

/// Draw one frame: bring caches up to date, then render. Public so tests and
/// benchmarks draw exactly what the terminal would show.
pub fn draw(frame: &mut Frame<'_>, app: &mut App) {
    let area = frame.area();
    if app.size != area {
        app.update(Msg::Resize(area.width, area.height));
    }
    app.prepare();
    let reader = app.reader().clone();
    let store = reader.read();
    views::draw(frame, app, &store);
}

fn event_loop(terminal: &mut DefaultTerminal, app: &mut App, rx: &Receiver<Msg>) -> io::Result<()> {
    let frame_time = Duration::from_secs(1) / MAX_FPS;
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let draw_in = last_draw.map_or(Duration::ZERO, |t| frame_time.saturating_sub(now - t));
        if dirty && draw_in.is_zero() {
            terminal.draw(|f| draw(f, app))?;
            last_draw = Some(Instant::now());
            dirty = false;
        }
        let wait = [dirty.then_some(draw_in), app.wake_in(now)]
            .into_iter()
            .flatten()
            .min();
        let first = match wait {
            Some(t) => match rx.recv_timeout(t) {
                Ok(msg) => Some(msg),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
            // Nothing to do until a message arrives: block, costing no CPU.
            None => match rx.recv() {
                Ok(msg) => Some(msg),
                Err(_) => return Ok(()),
            },
        };
        let batch = first.into_iter().chain(rx.try_iter().take(MAX_BATCH));
        for msg in batch {
            dirty |= app.update(msg);
        }
        dirty |= app.update(Msg::Tick(Instant::now()));
        if app.quit {
            return Ok(());
        }
    }
}

/// Forward terminal input to the channel from a thread of its own.
fn read_input(tx: Sender<Msg>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("llmspy-input".into())
        .spawn(move || {
            while let Ok(ev) = event::read() {
                let msg = match ev {
                    Event::Key(k) => Msg::Key(k),
                    // Pointer motion would wake the UI for nothing.
                    Event::Mouse(m) if m.kind == MouseEventKind::Moved => continue,
                    Event::Mouse(m) => Msg::Mouse(m),
                    Event::Resize(w, h) => Msg::Resize(w, h),
                    Event::Paste(s) => Msg::Paste(s),
                    _ => continue,
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        })?;
    Ok(())
}

/// Forward the request to stop. A dropped sender stops the UI as well: no
/// one is left to ask.
fn forward_stop(stop: tokio::sync::oneshot::Receiver<()>, tx: Sender<Msg>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("llmspy-ui-stop".into())
        .spawn(move || {
            let _ = stop.blocking_recv();
            let _ = tx.send(Msg::Stop);
        })?;
    Ok(())
}

/// Forward store events; a lagging receiver becomes a resync request.
fn forward_store_events(
    mut events: broadcast::Receiver<StoreEvent>,
    tx: Sender<Msg>,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("llmspy-ui-events".into())
        .spawn(move || {
            loop {
                let msg = match events.blocking_recv() {
                    Ok(ev) => Msg::Store(ev),
                    Err(RecvError::Lagged(_)) => Msg::Resync,
                    Err(RecvError::Closed) => break,
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        })?;
    Ok(())
}

/// Mouse capture and bracketed paste on; off again on drop and on panic
/// (`ratatui::try_init` already restores raw mode and the screen).
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The engine catches its own panics and carries on; the screen
            // must stay up. The log has it.
            if std::thread::current().name() == Some(crate::ENGINE_THREAD_NAME) {
                tracing::error!("{info}");
                return;
            }
            let _ = execute!(stdout(), DisableMouseCapture, DisableBracketedPaste);
            previous(info);
        }));
        execute!(stdout(), EnableMouseCapture, EnableBracketedPaste)?;
        Ok(TerminalGuard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(stdout(), DisableMouseCapture, DisableBracketedPaste);
        // Not `restore`, which prints its error (and a print to a terminal
        // that hung up panics).
        let _ = ratatui::try_restore();
    }
}
