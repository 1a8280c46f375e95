//! The one message type: everything that can change the UI's state arrives
//! as a [`Msg`] on a single channel (input thread, store-event forwarder, the
//! loop's own timer) and goes through `App::update`.

use std::time::Instant;

use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use crate::capture::StoreEvent;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Bracketed paste into the active text field.
    Paste(String),
    /// The terminal was resized (columns, rows).
    Resize(u16, u16),
    /// A change in the capture store.
    Store(StoreEvent),
    /// The store-event channel overflowed: rebuild everything from the store.
    Resync,
    /// Time passed (expires status messages); carries the loop's clock.
    Tick(Instant),
    /// llmspy was told to stop (SIGTERM, SIGHUP when the terminal closed):
    /// leave without drawing again.
    Stop,
}
