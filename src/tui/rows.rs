//! Per-exchange row summaries (kind, model, tokens, cost) cached by id, so the
//! list, the sort, the filter and the status-bar totals never re-analyse an
//! exchange that has not changed.

use std::collections::HashMap;

use crate::exchange::{Exchange, ExchangeId, State};
use crate::filter::Facts;

use super::analysis;

/// A cheap fingerprint of how far an exchange has got; a cached summary is
/// stale when the exchange's revision differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rev {
    state: u8,
    request_bytes: u64,
    response_bytes: Option<u64>,
}

impl Rev {
    pub fn of(ex: &Exchange) -> Rev {
        Rev {
            state: match ex.state {
                State::InFlight => 0,
                State::Streaming => 1,
                State::Complete => 2,
                State::Failed(_) => 3,
            },
            request_bytes: ex.request.body.wire_size,
            response_bytes: ex.response.as_ref().map(|r| r.body.wire_size),
        }
    }
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
    /// The usage strip's extras.
    pub usage: UsageExtras,
}

/// What the usage strip shows beyond the list's columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageExtras {
    pub cache_read: Option<u64>,
    pub cache_write: Option<u64>,
    pub reasoning: Option<u64>,
    pub stop_reason: Option<String>,
    /// Time to first token, microseconds.
    pub ttft_us: Option<u64>,
    pub tokens_per_sec: Option<f64>,
    /// An error the provider reported (HTTP error body or mid-stream event).
    pub error: Option<String>,
}

impl RowInfo {
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

/// Summaries by exchange id.
#[derive(Debug, Default)]
pub struct RowCache {
    rows: HashMap<ExchangeId, (Rev, RowInfo)>,
}

impl RowCache {
    /// The summary of `ex`, analysing it again only if it changed.
    pub fn refresh(&mut self, ex: &Exchange) -> &RowInfo {
        let rev = Rev::of(ex);
        let entry = self
            .rows
            .entry(ex.id)
            .or_insert_with(|| (rev, analysis::row_info(ex)));
        if entry.0 != rev {
            *entry = (rev, analysis::row_info(ex));
        }
        &entry.1
    }

    pub fn get(&self, id: ExchangeId) -> Option<&RowInfo> {
        self.rows.get(&id).map(|(_, info)| info)
    }

    /// Forget summaries of exchanges no longer in the store.
    pub fn retain(&mut self, keep: impl Fn(ExchangeId) -> bool) {
        self.rows.retain(|id, _| keep(*id));
    }

    pub fn clear(&mut self) {
        self.rows.clear();
    }
}
