//! The store's read interface: what the UI, the API, the exporters and the
//! sinks may ask of the captured exchanges.
//!
//! Readers see [`Records`], never the container behind it, so a store kept
//! in a database can implement the same trait without touching them. The
//! in-memory [`Store`] implements it over its list; [`StoreView`] is what
//! [`super::StoreReader::read`] hands out.

use std::ops::{Deref, Range};
use std::sync::RwLockReadGuard;

use super::refusals::Refusals;
use super::store::{Counts, Limits, Record, Store};
use crate::exchange::ExchangeId;

/// Records in list order (oldest first), lazily.
pub type Page<'a> = Box<dyn DoubleEndedIterator<Item = &'a Record> + 'a>;

/// Read access to the captured exchanges, in list order (by id).
///
/// Borrowed answers live as long as the view: a backend that loads records
/// on demand keeps what it loaded for the view's lifetime.
pub trait Records {
    /// Exchanges kept.
    fn count(&self) -> usize;

    /// The exchange with this id, if kept.
    fn get(&self, id: ExchangeId) -> Option<&Record>;

    /// The records at list positions `range` (0 = oldest); clamped to what is kept.
    fn page(&self, range: Range<usize>) -> Page<'_>;

    /// How many were recorded, evicted, cleared, and how the kept ones stand.
    fn counts(&self) -> Counts;

    /// How many exchanges were dropped to honour the caps since start.
    fn evicted(&self) -> u64;

    /// Body bytes currently held.
    fn total_bytes(&self) -> usize;

    /// The caps the store keeps to.
    fn limits(&self) -> Limits;

    /// Requests refused since start, by rule.
    fn refusals(&self) -> &Refusals;

    fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Every kept record, oldest first.
    fn all(&self) -> Page<'_> {
        self.page(0..self.count())
    }

    /// Ids of every kept record, oldest first.
    fn ids(&self) -> Box<dyn DoubleEndedIterator<Item = ExchangeId> + '_> {
        Box::new(self.all().map(|r| r.exchange.id))
    }

    /// The most recently recorded exchange.
    fn newest(&self) -> Option<&Record> {
        self.all().next_back()
    }

    /// The records for which `keep` holds, oldest first.
    fn query<'a>(&'a self, keep: &'a dyn Fn(&Record) -> bool) -> Page<'a> {
        Box::new(self.all().filter(move |r| keep(r)))
    }
}

impl Records for Store {
    fn count(&self) -> usize {
        self.len()
    }

    fn get(&self, id: ExchangeId) -> Option<&Record> {
        Store::get(self, id)
    }

    fn page(&self, range: Range<usize>) -> Page<'_> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        Box::new(self.iter().skip(start).take(end - start))
    }

    fn counts(&self) -> Counts {
        Store::counts(self)
    }

    fn evicted(&self) -> u64 {
        Store::evicted(self)
    }

    fn total_bytes(&self) -> usize {
        Store::total_bytes(self)
    }

    fn limits(&self) -> Limits {
        Store::limits(self)
    }

    fn refusals(&self) -> &Refusals {
        Store::refusals(self)
    }
}

/// A read of the live store. Hold it briefly: the capture task waits for it.
pub struct StoreView<'a> {
    pub(super) guard: RwLockReadGuard<'a, Store>,
}

impl Deref for StoreView<'_> {
    type Target = dyn Records;

    fn deref(&self) -> &Self::Target {
        &*self.guard
    }
}

/// So `&view` passes wherever a `&dyn Records` is wanted.
impl Records for StoreView<'_> {
    fn count(&self) -> usize {
        self.guard.len()
    }

    fn get(&self, id: ExchangeId) -> Option<&Record> {
        self.guard.get(id)
    }

    fn page(&self, range: Range<usize>) -> Page<'_> {
        Records::page(&*self.guard, range)
    }

    fn counts(&self) -> Counts {
        self.guard.counts()
    }

    fn evicted(&self) -> u64 {
        self.guard.evicted()
    }

    fn total_bytes(&self) -> usize {
        self.guard.total_bytes()
    }

    fn limits(&self) -> Limits {
        self.guard.limits()
    }

    fn refusals(&self) -> &Refusals {
        self.guard.refusals()
    }
}

#[cfg(test)]
mod tests {
    use super::super::store::tests_support::sample;
    use super::*;

    fn store(ids: &[ExchangeId]) -> Store {
        let mut s = Store::new(Limits::default());
        for &id in ids {
            s.insert(sample(id));
        }
        s
    }

    fn ids(page: Page<'_>) -> Vec<ExchangeId> {
        page.map(|r| r.exchange.id).collect()
    }

    #[test]
    fn pages_are_clamped_and_in_list_order() {
        let s = store(&[3, 1, 2, 4]);
        let r: &dyn Records = &s;
        assert_eq!(ids(r.page(1..3)), vec![2, 3]);
        assert_eq!(ids(r.page(3..10)), vec![4]);
        assert_eq!(ids(r.page(7..9)), Vec::<ExchangeId>::new());
        assert_eq!(r.ids().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!(r.newest().map(|r| r.exchange.id), Some(4));
        assert_eq!(r.count(), 4);
    }

    #[test]
    fn a_query_keeps_what_matches() {
        let s = store(&[1, 2, 3, 4]);
        let r: &dyn Records = &s;
        assert_eq!(ids(r.query(&|r| r.exchange.id % 2 == 0)), vec![2, 4]);
        assert_eq!(r.get(3).map(|r| r.exchange.id), Some(3));
        assert!(r.get(9).is_none());
    }
}
