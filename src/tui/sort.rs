//! Sort columns of the traffic list and the comparable value of each.

use crate::exchange::Exchange;

use super::rows::RowInfo;

/// The column the list is sorted by (`o` cycles, `O` reverses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Arrival order (the id).
    #[default]
    Arrival,
    Method,
    Host,
    Path,
    Status,
    Model,
    TokensIn,
    TokensOut,
    Cost,
    Duration,
}

const ORDER: [SortKey; 10] = [
    SortKey::Arrival,
    SortKey::Method,
    SortKey::Host,
    SortKey::Path,
    SortKey::Status,
    SortKey::Model,
    SortKey::TokensIn,
    SortKey::TokensOut,
    SortKey::Cost,
    SortKey::Duration,
];

/// A sort value; missing values sort first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortValue {
    Missing,
    Num(u64),
    Text(String),
}

impl SortKey {
    pub fn next(self) -> SortKey {
        let i = ORDER.iter().position(|k| *k == self).unwrap_or(0);
        ORDER[(i + 1) % ORDER.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Arrival => "arrival",
            SortKey::Method => "method",
            SortKey::Host => "host",
            SortKey::Path => "path",
            SortKey::Status => "status",
            SortKey::Model => "model",
            SortKey::TokensIn => "tokens in",
            SortKey::TokensOut => "tokens out",
            SortKey::Cost => "cost",
            SortKey::Duration => "duration",
        }
    }

    /// The value `ex` sorts by. Arrival order needs no value: ties break on id.
    pub fn value(self, ex: &Exchange, info: &RowInfo) -> SortValue {
        let num = |n: Option<u64>| n.map_or(SortValue::Missing, SortValue::Num);
        match self {
            SortKey::Arrival => SortValue::Missing,
            SortKey::Method => SortValue::Text(ex.request.method.to_string()),
            SortKey::Host => SortValue::Text(ex.request.host.to_ascii_lowercase()),
            SortKey::Path => SortValue::Text(ex.request.path.clone()),
            SortKey::Status => num(ex.response.as_ref().map(|r| u64::from(r.status))),
            SortKey::Model => SortValue::Text(info.model_label().to_string()),
            SortKey::TokensIn => num(info.tokens_in),
            SortKey::TokensOut => num(info.tokens_out),
            // Micro-dollars keep the order exact without float comparisons.
            SortKey::Cost => num(info.cost.map(|c| (c * 1e6).round() as u64)),
            SortKey::Duration => num(ex.duration_us()),
        }
    }
}
