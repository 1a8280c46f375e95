//! Per-exchange row summaries (kind, model, tokens, cost) cached by id, so the
//! list, the sort, the filter and the status-bar totals never re-analyse an
//! exchange that has not changed.

use std::collections::HashMap;

use crate::capture::Record;
use crate::exchange::ExchangeId;
use crate::filter::Facts;
use crate::llm::{Analysis, ThreadInfo, ThreadTracker};

use super::analysis;

pub use crate::analyses::Rev;

/// Bytes a streaming response may grow before its row is analysed again: a
/// row needs the model and rough token counts, not every delta (the detail
/// pane analyses the exchange it shows at full rate).
const ROW_REANALYSE_BYTES: u64 = 16 * 1024;

/// True when `new` is the same live stream as `old`, only a little longer.
fn only_streamed_a_little(old: &Rev, new: &Rev) -> bool {
    let live = old.state == 1 && new.state == 1;
    let grown = match (old.response_bytes, new.response_bytes) {
        (Some(a), Some(b)) => b.saturating_sub(a) < ROW_REANALYSE_BYTES,
        _ => false,
    };
    live && grown && old.request_bytes == new.request_bytes
}

/// What kind of traffic an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    Llm,
    Mcp,
    #[default]
    Other,
}

/// The analysed summary of one exchange, as the list shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowInfo {
    pub kind: Kind,
    /// Provider, model, tools, MCP, stream: also what the filter reads.
    pub facts: Facts,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    /// Estimated USD; `None` when unknown (not zero).
    pub cost: Option<f64>,
    /// The MCP method or tool, shown where an LLM row shows its model.
    pub mcp_method: Option<String>,
    /// Where the exchange sits among conversations, once it finished.
    pub thread: Option<ThreadInfo>,
}

/// What the usage strip shows beyond the list's columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageExtras {
    pub cache_read: Option<u64>,
    pub cache_write: Option<u64>,
    pub reasoning: Option<u64>,
    /// Why the cost is not a plain estimate (`reported by the gateway`).
    pub cost_note: Option<&'static str>,
    pub stop_reason: Option<String>,
    /// Time to first token, microseconds.
    pub ttft_us: Option<u64>,
    pub tokens_per_sec: Option<f64>,
    /// An error the provider reported (HTTP error body or mid-stream event).
    pub error: Option<String>,
}

impl RowInfo {
    /// The summary of traffic that is neither LLM nor MCP.
    const fn plain(stream: bool) -> RowInfo {
        RowInfo {
            kind: Kind::Other,
            facts: Facts {
                provider: None,
                model: None,
                tools: Vec::new(),
                mcp: false,
                stream,
            },
            tokens_in: None,
            tokens_out: None,
            cost: None,
            mcp_method: None,
            thread: None,
        }
    }

    /// The label in the list's kind column.
    pub fn kind_label(&self) -> &str {
        match self.kind {
            Kind::Llm => self.facts.provider.as_deref().unwrap_or("llm"),
            Kind::Mcp => "mcp",
            Kind::Other => "",
        }
    }

    /// The model, or for MCP the method.
    pub fn model_label(&self) -> &str {
        match self.kind {
            Kind::Mcp => self.mcp_method.as_deref().unwrap_or(""),
            _ => self.facts.model.as_deref().unwrap_or(""),
        }
    }
}

/// The summary of traffic that is neither LLM nor MCP, streamed or not:
/// most rows, kept without an allocation each.
static PLAIN: [RowInfo; 2] = [RowInfo::plain(false), RowInfo::plain(true)];

/// The summary of a record that is plainly neither LLM nor MCP traffic.
fn plain(record: &Record) -> Option<&'static RowInfo> {
    let ex = &record.exchange;
    let plain = record.summary.is_none() && crate::llm::plainly_other(ex);
    plain.then(|| &PLAIN[usize::from(analysis::streamed(ex))])
}

/// A cached summary: most rows are plain traffic and share [`PLAIN`].
#[derive(Debug)]
enum Row {
    Plain { stream: bool },
    Analysed(Box<RowInfo>),
}

impl Row {
    fn new(info: RowInfo) -> Row {
        if info == PLAIN[usize::from(info.facts.stream)] {
            Row::Plain {
                stream: info.facts.stream,
            }
        } else {
            Row::Analysed(Box::new(info))
        }
    }

    fn info(&self) -> &RowInfo {
        match self {
            Row::Plain { stream } => &PLAIN[usize::from(*stream)],
            Row::Analysed(info) => info,
        }
    }
}

/// Summaries by exchange id, and, for a store no capture task analyses,
/// the conversations they form.
#[derive(Debug, Default)]
pub struct RowCache {
    /// Summary with the revision and "analysed by capture" flag it is for.
    rows: HashMap<ExchangeId, (Rev, bool, Row)>,
    /// Threads found here, for a capture file opened for viewing. A live
    /// store's records carry the capture task's own placement, which the API
    /// shares, so a live UI never invents thread ids of its own.
    own_threads: Option<ThreadTracker>,
}

impl RowCache {
    /// `offline`: nothing analyses the store, so thread it here.
    pub fn new(offline: bool) -> Self {
        RowCache {
            rows: HashMap::new(),
            own_threads: offline.then(ThreadTracker::new),
        }
    }

    /// The summary of a record, recomputed only if it changed. Traffic
    /// that is plainly not LLM or MCP is told from its head each time,
    /// cheaper than a lookup, and never stored.
    pub fn refresh(&mut self, record: &Record) -> &RowInfo {
        let ex = &record.exchange;
        if let Some(plain) = plain(record) {
            return plain;
        }
        let rev = Rev::of(ex);
        let analysed = record.summary.is_some();
        let stale = self.rows.get(&ex.id).is_none_or(|(r, a, _)| {
            *a != analysed || (*r != rev && !only_streamed_a_little(r, &rev))
        });
        if stale {
            let info = Row::new(self.summarise(record));
            let entry = self.rows.entry(ex.id).insert_entry((rev, analysed, info));
            return entry.into_mut().2.info();
        }
        self.stored(ex.id).unwrap_or(&PLAIN[0])
    }

    fn stored(&self, id: ExchangeId) -> Option<&RowInfo> {
        self.rows.get(&id).map(|(_, _, row)| row.info())
    }

    /// From the capture task's summary when there is one (no parsing);
    /// otherwise analyse here (live exchanges, opened files).
    fn summarise(&mut self, record: &Record) -> RowInfo {
        let ex = &record.exchange;
        if let Some(summary) = &record.summary {
            let mut info = analysis::from_summary(ex, summary);
            info.thread = record.thread.clone();
            return info;
        }
        let analysis = analysis::analyse(ex);
        let mut info = analysis::row_info(ex, analysis.as_deref());
        info.thread = match analysis {
            Some(a) => self.place(record, &a),
            None => None,
        };
        info
    }

    /// A thread for a finished LLM exchange of an offline store (once).
    fn place(&mut self, record: &Record, a: &Analysis) -> Option<ThreadInfo> {
        let ex = &record.exchange;
        if let Some(t) = record.thread.clone() {
            return Some(t);
        }
        if let Some(t) = self.stored(ex.id).and_then(|i| i.thread.clone()) {
            return Some(t);
        }
        let tracker = self.own_threads.as_mut()?;
        // MCP is left unthreaded, as the capture task does.
        let eligible = ex.state.is_finished() && a.kind.is_llm();
        eligible.then(|| tracker.observe(ex.id, a, ex.client_addr.as_deref()))
    }

    /// Room for `n` more summaries without rehashing.
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
    }

    /// The summary of a record once refreshed (at once for plain traffic).
    pub fn get(&self, record: &Record) -> Option<&RowInfo> {
        plain(record).or_else(|| self.stored(record.exchange.id))
    }

    /// Forget summaries of exchanges no longer in the store.
    pub fn retain(&mut self, keep: impl Fn(ExchangeId) -> bool) {
        self.rows.retain(|id, _| keep(*id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Exchange;

    fn record(exchange: Exchange) -> Record {
        Record {
            exchange,
            summary: None,
            thread: None,
        }
    }

    #[test]
    fn plain_traffic_is_summarised_without_being_stored() {
        let mut rows = RowCache::new(true);
        let events = record(
            Exchange::builder()
                .id(1)
                .response_header("content-type", "text/event-stream")
                .build(),
        );
        let chat = record(
            Exchange::builder()
                .id(2)
                .path("/v1/chat/completions")
                .body(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
                .build(),
        );
        assert_eq!(rows.refresh(&events), &RowInfo::plain(true));
        assert_eq!(rows.refresh(&chat).kind, Kind::Llm);
        assert_eq!(rows.rows.len(), 1);
        assert_eq!(rows.get(&events), Some(&RowInfo::plain(true)));
        assert_eq!(rows.get(&chat).map(|i| i.kind), Some(Kind::Llm));
    }
}
