//! One cache of exchange analyses for every reader (the UI, the control
//! API, the MCP tools), keyed by exchange id and revision, so an exchange
//! that has not changed is parsed once however many views and requests
//! read it.
//!
//! It is one process-wide cache ([`shared`]) rather than a value handed to
//! each reader because the API's renderers are plain functions of records
//! and a parse costs the same whoever asks: sharing the results is the
//! point. It is bounded by count, least recently used first out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::exchange::{Exchange, State};
use crate::llm::{self, Analysis};

/// How many analyses the shared cache keeps.
const SHARED_CAPACITY: usize = 2048;

/// A cheap fingerprint of how far an exchange has got; a cached analysis
/// is stale when the exchange's revision differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rev {
    /// 0 in flight, 1 streaming, 2 complete, 3 failed.
    pub state: u8,
    pub request_bytes: u64,
    pub response_bytes: Option<u64>,
    /// WebSocket messages recorded (listed or counted).
    pub messages: u64,
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
            messages: ex.websocket.as_ref().map_or(0, |w| {
                let (sent, received) = w.counts();
                sent + received
            }),
        }
    }
}

/// Analyses by (exchange id, revision); `None` is kept too, so traffic
/// that is not LLM or MCP is not re-detected on every read.
pub struct Analyses {
    cache: quick_cache::sync::Cache<(u64, Rev), Option<Arc<Analysis>>>,
    parses: AtomicU64,
}

impl Analyses {
    pub fn new(capacity: usize) -> Self {
        Analyses {
            cache: quick_cache::sync::Cache::new(capacity.max(1)),
            parses: AtomicU64::new(0),
        }
    }

    /// The analysis of `ex` (`None` for traffic that is not LLM or MCP),
    /// parsed only when this revision of it was not seen.
    pub fn of(&self, ex: &Exchange) -> Option<Arc<Analysis>> {
        // Cheaper than a lookup, and keeps such traffic out of the cache.
        if llm::plainly_other(ex) {
            return None;
        }
        let key = (ex.id, Rev::of(ex));
        if let Some(hit) = self.cache.get(&key) {
            return hit;
        }
        // Parsed outside any lock: two readers racing on a new revision
        // both parse, which is cheaper than making either wait.
        self.parses.fetch_add(1, Ordering::Relaxed);
        let analysis = llm::analyse(ex).map(Arc::new);
        self.cache.insert(key, analysis.clone());
        analysis
    }

    /// How many exchanges this cache has parsed (misses).
    pub fn parses(&self) -> u64 {
        self.parses.load(Ordering::Relaxed)
    }
}

/// The cache every reader shares.
pub fn shared() -> &'static Analyses {
    static SHARED: OnceLock<Analyses> = OnceLock::new();
    SHARED.get_or_init(|| Analyses::new(SHARED_CAPACITY))
}

/// [`shared`]'s analysis of `ex`.
pub fn analyse(ex: &Exchange) -> Option<Arc<Analysis>> {
    shared().of(ex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{Body, Via};

    fn chat(id: u64, reply: &str) -> Exchange {
        Exchange::builder()
            .id(id)
            .via(Via::Other)
            .host("api.openai.com")
            .path("/v1/chat/completions")
            .header("content-type", "application/json")
            .body(r#"{"model":"gpt-t","messages":[{"role":"user","content":"hi"}]}"#)
            .response_header("content-type", "application/json")
            .response_body(format!(
                r#"{{"model":"gpt-t","choices":[{{"message":{{"role":"assistant","content":"{reply}"}}}}]}}"#
            ))
            .build()
    }

    #[test]
    fn a_second_read_of_the_same_revision_does_not_parse() {
        let cache = Analyses::new(8);
        let ex = chat(1, "hello");
        let first = cache.of(&ex).expect("an LLM exchange");
        let second = cache.of(&ex).expect("an LLM exchange");
        assert_eq!(cache.parses(), 1);
        assert!(Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn a_changed_exchange_is_parsed_again() {
        let cache = Analyses::new(8);
        cache.of(&chat(1, "hello"));
        cache.of(&chat(1, "hello, and more"));
        assert_eq!(cache.parses(), 2);
    }

    #[test]
    fn other_traffic_is_remembered_as_none() {
        let cache = Analyses::new(8);
        let mut ex = chat(2, "");
        ex.request.host = "example.com".into();
        ex.request.path = "/".into();
        ex.request.body = Body::from_bytes("plain".to_string());
        ex.response = None;
        assert!(cache.of(&ex).is_none());
        assert!(cache.of(&ex).is_none());
        assert_eq!(cache.parses(), 1);
    }
}
