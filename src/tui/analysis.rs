//! The UI's one door to the parsers: everything the views know about LLM and
//! MCP traffic comes through here, so a parser change touches one file.

use crate::exchange::{Exchange, header, is_event_stream};
use crate::filter::Facts;

use super::rows::RowInfo;

/// Summarise one exchange for the list, the filter and the totals.
pub fn row_info(ex: &Exchange) -> RowInfo {
    RowInfo {
        facts: Facts {
            stream: streamed(ex),
            ..Facts::default()
        },
        ..RowInfo::default()
    }
}

fn streamed(ex: &Exchange) -> bool {
    ex.response
        .as_ref()
        .is_some_and(|r| is_event_stream(header(&r.headers, "content-type")))
}

/// True when scripted conversation expectations cover this exchange (the
/// mock issue fills this in; until then no exchange has them).
pub fn has_scripted_turns(_ex: &Exchange) -> bool {
    false
}

/// Group LLM exchanges into conversations; the rest are unscoped.
pub fn threads(
    store: &crate::capture::Store,
    rows: &mut super::rows::RowCache,
) -> (Vec<super::sessions::Lane>, Vec<crate::exchange::ExchangeId>) {
    let unscoped = store
        .iter()
        .map(|r| {
            rows.refresh(&r.exchange);
            r.exchange.id
        })
        .collect();
    (Vec::new(), unscoped)
}

/// The assistant's reply as plain text, for copying.
pub fn assistant_text(_ex: &Exchange) -> Option<String> {
    None
}
