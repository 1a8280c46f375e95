//! The bounded, in-memory list of exchanges, ordered by id.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

use super::records::StoreView;
use crate::exchange::{Exchange, ExchangeId};
use crate::llm::{Summary, ThreadInfo};

/// Caps on what the store and each exchange keep.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most exchanges kept; the oldest are evicted beyond it.
    pub max_exchanges: usize,
    /// Most body bytes kept across all exchanges.
    pub max_total_bytes: usize,
    /// Per-exchange cap for streamed (SSE / NDJSON) response bodies.
    pub max_streaming_capture_bytes: usize,
    /// Per-exchange cap for other bodies, request and response.
    pub max_body_capture_bytes: usize,
}

impl Limits {
    /// The capture cap for a response with these headers: streamed
    /// responses (SSE, NDJSON) get the streaming cap, others the body cap.
    pub fn response_cap(&self, headers: &crate::exchange::Headers) -> usize {
        let content_type = crate::exchange::header(headers, "content-type");
        self.cap_for(crate::exchange::is_event_stream(content_type))
    }

    /// The cap for a stream of events (SSE, NDJSON), or another body.
    pub fn cap_for(&self, stream: bool) -> usize {
        if stream {
            self.max_streaming_capture_bytes
        } else {
            self.max_body_capture_bytes
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_exchanges: 50_000,
            max_total_bytes: 512 * 1024 * 1024,
            max_streaming_capture_bytes: 262_144,
            max_body_capture_bytes: 8 * 1024 * 1024,
        }
    }
}

/// One stored exchange plus what the analysers derived from it.
///
/// Only the small [`Summary`] and thread placement are kept; readers that
/// need the whole conversation call [`crate::llm::analyse`] on demand, so
/// the store holds about one copy of the captured bytes.
#[derive(Debug, Clone)]
pub struct Record {
    pub exchange: Exchange,
    /// Provider, model, tokens, cost… once the exchange finished (LLM/MCP only).
    pub summary: Option<Summary>,
    /// Which conversation this turn belongs to, and what changed.
    pub thread: Option<ThreadInfo>,
}

/// The exchanges, oldest first. Written only by the capture task.
///
/// Records are shared: a finished exchange goes to every sink as the same
/// `Arc` the store holds (no copy per finished exchange), and a change to a
/// record a sink still holds copies it then ([`Arc::make_mut`]).
#[derive(Debug, Default)]
pub struct Store {
    records: VecDeque<Arc<Record>>,
    total_bytes: usize,
    evicted: u64,
    recorded: u64,
    cleared: u64,
    limits: Limits,
    refusals: super::Refusals,
}

/// Where every exchange recorded since start went, and what the kept ones
/// are doing: `recorded = kept + evicted + cleared` and
/// `kept = complete + failed + open`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub recorded: u64,
    pub kept: u64,
    pub evicted: u64,
    pub cleared: u64,
    pub complete: u64,
    pub failed: u64,
    /// In flight or streaming.
    pub open: u64,
}

impl Store {
    pub fn new(limits: Limits) -> Self {
        Store {
            limits,
            ..Store::default()
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// How many exchanges were dropped to honour the caps since start.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Requests refused since start, by rule.
    pub fn refusals(&self) -> &super::Refusals {
        &self.refusals
    }

    pub fn refusals_mut(&mut self) -> &mut super::Refusals {
        &mut self.refusals
    }

    /// The exchanges recorded since start, by where they went and how the
    /// kept ones stand.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            recorded: self.recorded,
            kept: self.records.len() as u64,
            evicted: self.evicted,
            cleared: self.cleared,
            complete: 0,
            failed: 0,
            open: 0,
        };
        for r in &self.records {
            match r.exchange.state {
                crate::exchange::State::Complete => counts.complete += 1,
                crate::exchange::State::Failed(_) => counts.failed += 1,
                _ => counts.open += 1,
            }
        }
        counts
    }

    /// Account for exchanges a clear removed.
    pub fn count_cleared(&mut self, removed: usize) {
        self.cleared += removed as u64;
    }

    /// Body bytes currently held.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &Record> + ExactSizeIterator {
        self.records.iter().map(|r| &**r)
    }

    pub fn get(&self, id: ExchangeId) -> Option<&Record> {
        self.index_of(id).map(|i| &*self.records[i])
    }

    /// The record itself, shared (for the sinks).
    pub(super) fn shared(&self, id: ExchangeId) -> Option<Arc<Record>> {
        self.index_of(id).map(|i| self.records[i].clone())
    }

    pub fn get_mut(&mut self, id: ExchangeId) -> Option<&mut Record> {
        self.index_of(id)
            .map(move |i| Arc::make_mut(&mut self.records[i]))
    }

    fn index_of(&self, id: ExchangeId) -> Option<usize> {
        // Ids are handed out consecutively, so while nothing was cleared out
        // of the middle an id sits at its distance from the oldest one: one
        // look instead of a search through cold records on every frame.
        let first = self.records.front()?.exchange.id;
        let guess = usize::try_from(id.checked_sub(first)?).ok()?;
        if self.records.get(guess).is_some_and(|r| r.exchange.id == id) {
            return Some(guess);
        }
        // Ids only grow and eviction removes from the front, so the list is
        // sorted by id; loaded captures keep their ids in order too.
        self.records
            .binary_search_by_key(&id, |r| r.exchange.id)
            .ok()
    }

    /// Insert an exchange, keeping id order. The caps are enforced by
    /// [`Store::evict_over_caps`].
    pub fn insert(&mut self, exchange: Exchange) {
        self.recorded += 1;
        self.total_bytes += exchange.captured_bytes();
        let record = Arc::new(Record {
            exchange,
            summary: None,
            thread: None,
        });
        match self.records.back() {
            Some(last) if last.exchange.id > record.exchange.id => {
                let pos = self
                    .records
                    .partition_point(|r| r.exchange.id < record.exchange.id);
                self.records.insert(pos, record);
            }
            _ => self.records.push_back(record),
        }
    }

    /// Account for body bytes added to an exchange after insertion.
    pub fn grew(&mut self, bytes: usize) {
        self.total_bytes += bytes;
    }

    /// Account for an exchange whose captured bytes went from `before` to
    /// `after` (a response head carrying llmspy's own error body).
    pub fn resized(&mut self, before: usize, after: usize) {
        self.total_bytes = (self.total_bytes + after).saturating_sub(before);
    }

    /// Push out the oldest finished exchanges while over a cap; how many
    /// went. One still in flight stays (there are as many as open requests,
    /// each under the per-exchange caps): pushed out, it would never finish,
    /// and so never reach the log, `--save` or the history. The capture
    /// task calls this once a batch is applied, analysed and handed to the
    /// sinks, so an exchange that finishes and is pushed out by newer ones
    /// in the same batch still reaches them (with `--max-exchanges 5`, a
    /// burst had reached them a few exchanges in thirty).
    pub fn evict_over_caps(&mut self) -> u64 {
        let mut evicted = 0;
        let mut at = 0;
        while self.records.len() > 1
            && (self.records.len() > self.limits.max_exchanges
                || self.total_bytes > self.limits.max_total_bytes)
            && at < self.records.len()
        {
            if !self.records[at].exchange.state.is_finished() {
                at += 1;
                continue;
            }
            if let Some(old) = self.records.remove(at) {
                // Saturating: a miscount must never take the capture task down.
                self.total_bytes = self
                    .total_bytes
                    .saturating_sub(old.exchange.captured_bytes());
                evicted += 1;
            }
        }
        self.evicted += evicted;
        evicted
    }

    /// Remove every exchange for which `keep` is false; returns how many went.
    pub fn retain(&mut self, mut keep: impl FnMut(&Record) -> bool) -> usize {
        let before = self.records.len();
        self.records.retain(|r| keep(r));
        self.total_bytes = self
            .records
            .iter()
            .map(|r| r.exchange.captured_bytes())
            .sum();
        before - self.records.len()
    }
}

/// Shared read access to the store for the UI, the API and the exporters.
#[derive(Debug, Clone)]
pub struct StoreReader {
    pub(super) inner: Arc<RwLock<Store>>,
}

impl StoreReader {
    /// A reader over a store that nothing writes (e.g. a file opened for viewing).
    pub fn detached(store: Store) -> Self {
        StoreReader {
            inner: Arc::new(RwLock::new(store)),
        }
    }

    /// Read the store. Hold the view briefly: the capture task waits for it.
    pub fn read(&self) -> StoreView<'_> {
        // A poisoned lock only means a reader panicked mid-read; the data is
        // still consistent because only the capture task writes.
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        StoreView { guard }
    }

    /// Clone one exchange out of the store.
    pub fn exchange(&self, id: ExchangeId) -> Option<Exchange> {
        self.read().get(id).map(|r| r.exchange.clone())
    }

    /// Clone one record (the exchange and what was derived from it).
    pub fn record(&self, id: ExchangeId) -> Option<Record> {
        self.read().get(id).cloned()
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::exchange::*;

    /// A minimal finished-looking GET for store tests.
    pub(crate) fn sample(id: ExchangeId) -> Exchange {
        sized(id, 0)
    }

    pub(crate) fn sized(id: ExchangeId, body: usize) -> Exchange {
        Exchange::builder()
            .id(id)
            .via(Via::HttpProxy)
            .method("GET")
            .url("http://example.test/")
            .body(vec![b'x'; body])
            .state(State::InFlight)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::sized as sample;
    use super::*;
    use crate::exchange::{Body, Response};

    /// A finished exchange: only those are evicted.
    fn done(id: ExchangeId, body: usize) -> Exchange {
        Exchange {
            state: crate::exchange::State::Complete,
            ..sample(id, body)
        }
    }

    #[test]
    fn only_finished_exchanges_are_evicted_and_only_when_asked() {
        let mut s = Store::new(Limits {
            max_exchanges: 2,
            ..Limits::default()
        });
        s.insert(sample(1, 0));
        s.insert(done(2, 0));
        s.insert(done(3, 0));
        assert_eq!(s.evict_over_caps(), 1, "the oldest finished one goes");
        assert!(s.get(1).is_some() && s.get(2).is_none());
        s.insert(sample(4, 0));
        assert_eq!(s.evict_over_caps(), 1);
        s.insert(sample(5, 0));
        assert_eq!(s.evict_over_caps(), 0, "in flight: over the cap, kept");
        assert_eq!((s.len(), s.get(4).map(|r| r.exchange.id)), (3, Some(4)));
        s.get_mut(4).unwrap().exchange.state = crate::exchange::State::Complete;
        s.insert(done(6, 0));
        assert_eq!(s.len(), 4, "nothing goes until asked");
        assert_eq!(s.evict_over_caps(), 2, "4 and 6 go; 1 and 5 are in flight");
        assert_eq!(s.iter().map(|r| r.exchange.id).collect::<Vec<_>>(), [1, 5]);
        assert_eq!(
            s.get(5).map(|r| r.exchange.id),
            Some(5),
            "found past the gaps"
        );
    }

    #[test]
    fn sinks_share_the_stored_record_and_a_later_change_copies_it() {
        let mut s = Store::new(Limits::default());
        s.insert(sample(1, 4));
        let handed = s.shared(1).expect("stored");
        assert!(Arc::ptr_eq(&handed, &s.shared(1).unwrap()), "no copy");
        s.get_mut(1).unwrap().exchange.request.method = "POST".into();
        assert_eq!(
            handed.exchange.request.method, "GET",
            "the sink's is unchanged"
        );
        assert_eq!(s.get(1).unwrap().exchange.request.method, "POST");
        drop(handed);
        let before = Arc::as_ptr(&s.shared(1).unwrap());
        s.get_mut(1).unwrap().exchange.request.method = "PUT".into();
        assert_eq!(
            before,
            Arc::as_ptr(&s.shared(1).unwrap()),
            "unshared: changed in place"
        );
    }

    #[test]
    fn evicts_oldest_by_count_and_bytes() {
        let mut s = Store::new(Limits {
            max_exchanges: 3,
            max_total_bytes: 100,
            ..Limits::default()
        });
        for id in 1..=4 {
            s.insert(done(id, 10));
            s.evict_over_caps();
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.evicted(), 1);
        assert!(s.get(1).is_none());
        s.insert(done(5, 90));
        assert_eq!(s.evict_over_caps(), 2);
        assert_eq!(s.total_bytes(), 100);
        assert_eq!(s.get(5).map(|r| r.exchange.id), Some(5));
    }

    #[test]
    fn a_response_head_with_a_body_is_counted_and_evicts_cleanly() {
        let mut s = Store::new(Limits {
            max_exchanges: 1,
            ..Limits::default()
        });
        s.insert(done(1, 10));
        let before = s.get(1).map_or(0, |r| r.exchange.captured_bytes());
        if let Some(r) = s.get_mut(1) {
            r.exchange.response = Some(Response {
                status: 502,
                version: "HTTP/1.1".into(),
                headers: Default::default(),
                body: Body::from_bytes(vec![b'e'; 40]),
            });
        }
        s.resized(before, 50);
        assert_eq!(s.evict_over_caps(), 0);
        assert_eq!(s.total_bytes(), 50);
        s.insert(done(2, 5));
        assert_eq!(s.evict_over_caps(), 1);
        assert_eq!(s.total_bytes(), 5);
        assert_eq!(s.counts().recorded, 2);
        assert_eq!(s.counts().evicted, 1);
    }

    #[test]
    fn lookup_finds_ids_after_gaps_and_misses_absent_ones() {
        let mut s = Store::new(Limits::default());
        for id in 1..=10 {
            s.insert(sample(id, 0));
        }
        s.retain(|r| r.exchange.id % 3 != 0);
        for id in 1..=10 {
            assert_eq!(s.get(id).is_some(), id % 3 != 0, "id {id}");
        }
        assert!(s.get(0).is_none());
        assert!(s.get(11).is_none());
    }

    #[test]
    fn out_of_order_insert_keeps_lookup_working() {
        let mut s = Store::new(Limits::default());
        s.insert(sample(2, 0));
        s.insert(sample(1, 0));
        s.insert(sample(3, 0));
        let ids: Vec<_> = s.iter().map(|r| r.exchange.id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert!(s.get(1).is_some());
    }
}
