//! What the capture store tells its consumers.

use crate::exchange::ExchangeId;

/// A change in the store. Carries ids, not bodies: consumers read what they
/// need through a [`super::StoreReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// A new exchange (request head seen).
    Started(ExchangeId),
    /// Response head or more body arrived.
    Updated(ExchangeId),
    /// The exchange completed or failed; its analysis is ready.
    Finished(ExchangeId),
    /// Exchanges were removed by a clear (None = all).
    Cleared,
    /// The oldest exchanges were evicted to honour the caps.
    Evicted { count: u64 },
    /// A request was refused (a foreign Host or Origin, no token, …); the
    /// one-line reason, for the status bar and the log.
    Refused(String),
}
