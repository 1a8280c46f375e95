//! Recording a WebSocket connection's messages on its exchange.

use super::store::Store;
use crate::exchange::{ExchangeId, WsMessage};

/// Add `message` to exchange `id`; returns the bytes the store now holds
/// for it (none for a message past the listing limit), or `None` when the
/// exchange is gone.
pub(super) fn message(store: &mut Store, id: ExchangeId, message: WsMessage) -> Option<usize> {
    let r = store.get_mut(id)?;
    let ws = r.exchange.websocket.get_or_insert_with(Default::default);
    let listed = ws.messages.len();
    let len = message.payload.len();
    ws.push(message);
    Some(if ws.messages.len() > listed { len } else { 0 })
}

/// Note why decoding stopped (the first reason stands).
pub(super) fn note(store: &mut Store, id: ExchangeId, note: String) {
    if let Some(r) = store.get_mut(id) {
        let ws = r.exchange.websocket.get_or_insert_with(Default::default);
        ws.note.get_or_insert(note);
    }
}
