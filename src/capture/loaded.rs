//! A store built from saved exchanges (`llmspy open`, `retrieve --from`,
//! a run from the history), analysed as the capture task would have done
//! it live: summaries for the filter, threads for SESSIONS.

use super::store::{Limits, Store};
use super::writer::analysis_of;
use crate::exchange::Exchange;

/// What [`loaded`] says about ids that repeat across appended runs.
pub const RENUMBERED_NOTE: &str =
    "exchange ids repeat in this capture (several runs in one file?); numbering them 1..";

/// A loaded capture, and whether its ids had to be renumbered.
#[derive(Debug)]
pub struct Loaded {
    pub store: Store,
    /// The ids repeated or went backwards and were renumbered 1.. in file order.
    pub renumbered: bool,
}

/// A store holding these exchanges, analysed; nothing writes to it afterwards.
///
/// `--save` appends across runs and each run counts from 1 again, so ids
/// that do not increase are renumbered in file order: the store finds
/// exchanges by id. (A history database numbers across runs already.)
pub fn loaded(mut exchanges: Vec<Exchange>) -> Loaded {
    let renumbered = !exchanges.windows(2).all(|w| w[0].id < w[1].id);
    if renumbered {
        for (i, ex) in exchanges.iter_mut().enumerate() {
            ex.id = i as u64 + 1;
        }
    }
    let mut store = Store::new(Limits {
        max_exchanges: usize::MAX,
        max_total_bytes: usize::MAX,
        ..Limits::default()
    });
    let mut threads = crate::llm::ThreadTracker::new();
    for ex in exchanges {
        let analysed = analysis_of(&ex, &mut threads);
        let id = ex.id;
        store.insert(ex);
        if let (Some(r), Some((summary, thread))) = (store.get_mut(id), analysed) {
            r.summary = Some(summary);
            r.thread = thread;
        }
    }
    Loaded { store, renumbered }
}

/// [`loaded`], for callers with nowhere to say that ids were renumbered.
pub fn loaded_store(exchanges: Vec<Exchange>) -> Store {
    loaded(exchanges).store
}

#[cfg(test)]
mod tests {
    use super::super::store::tests_support::sample;
    use super::*;

    #[test]
    fn repeated_ids_from_appended_runs_are_renumbered_in_file_order() {
        let l = loaded(vec![sample(1), sample(2), sample(1), sample(2)]);
        assert!(l.renumbered);
        let ids: Vec<_> = l.store.iter().map(|r| r.exchange.id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
    }

    #[test]
    fn increasing_ids_are_kept() {
        let l = loaded(vec![sample(3), sample(7)]);
        assert!(!l.renumbered);
        assert!(l.store.get(7).is_some());
    }
}
