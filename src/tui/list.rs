//! The traffic list's model: which exchanges are shown (filter, marks, clear),
//! in what order, which one is selected, and the totals of what is shown.
//!
//! The shown list is cached and patched from store events: a changed exchange
//! is re-checked alone and the totals are adjusted by its difference, so a
//! frame never walks the whole store; only a filter or sort change, a clear,
//! an eviction or a resync rebuilds it.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::capture::Records;
use crate::exchange::{Exchange, ExchangeId, State};
use crate::filter::{AnalysisView, Filter};

use super::rows::{Kind, RowCache, RowInfo};
use super::sort::{SortKey, SortValue};

/// Counts and sums for the status bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub shown: usize,
    pub total: usize,
    pub evicted: u64,
    pub failed: usize,
    pub tokens: u64,
    pub cost: f64,
    /// LLM exchanges shown whose cost is unknown (the sum is then a floor).
    pub cost_unknown: usize,
}

/// What decides whether an exchange is shown, besides the filter.
#[derive(Debug, Default)]
pub struct Scope {
    pub marked: HashSet<ExchangeId>,
    pub marked_only: bool,
    /// `z` hides everything up to this id.
    pub cleared_through: ExchangeId,
}

/// A shown exchange: where it sorts and what it adds to the totals.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    key: SortValue,
    tokens: u64,
    cost: Option<f64>,
    llm: bool,
}

impl Member {
    /// Sorted by id alone, adding nothing to the totals: most traffic.
    const PLAIN: Member = Member {
        key: SortValue::Missing,
        tokens: 0,
        cost: None,
        llm: false,
    };

    fn of(key: SortValue, info: &RowInfo) -> Member {
        Member {
            key,
            tokens: info.tokens_in.unwrap_or(0) + info.tokens_out.unwrap_or(0),
            cost: info.cost,
            llm: info.kind == Kind::Llm,
        }
    }
}

#[derive(Debug, Default)]
pub struct TrafficList {
    /// Shown exchanges in ascending (key, id) order; display may reverse it.
    entries: Vec<(SortValue, ExchangeId)>,
    /// Shown exchanges other than [`Member::PLAIN`] ones, which `entries`
    /// alone holds (found there by id), so a list of 100 000 plain
    /// exchanges keeps no map of them.
    members: HashMap<ExchangeId, Member>,
    /// Failed exchanges in the store (for the status bar).
    failed: HashSet<ExchangeId>,
    pub sort: SortKey,
    pub reverse: bool,
    selected: Option<ExchangeId>,
    /// Display index of the selection, valid after [`TrafficList::sync`].
    index: usize,
    /// First display row in view.
    pub offset: usize,
    pub follow: bool,
    pub scope: Scope,
    /// Ordered, so exchanges are analysed (and threaded) in arrival order.
    pending: BTreeSet<ExchangeId>,
    rebuild: bool,
    pub totals: Totals,
}

impl TrafficList {
    pub fn new(follow: bool) -> Self {
        TrafficList {
            follow,
            rebuild: true,
            ..TrafficList::default()
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The exchange at display row `row`.
    pub fn id_at(&self, row: usize) -> Option<ExchangeId> {
        self.entries.get(self.entry_index(row)?).map(|(_, id)| *id)
    }

    fn entry_index(&self, row: usize) -> Option<usize> {
        if self.reverse {
            self.entries.len().checked_sub(row + 1)
        } else {
            Some(row)
        }
    }

    /// The display row of a shown exchange (binary search on its key).
    fn row_of(&self, id: ExchangeId) -> Option<usize> {
        let key = self
            .members
            .get(&id)
            .map_or(&SortValue::Missing, |m| &m.key);
        let i = self
            .entries
            .binary_search_by(|(k, i)| (k, *i).cmp(&(key, id)))
            .ok()?;
        Some(if self.reverse {
            self.entries.len() - 1 - i
        } else {
            i
        })
    }

    pub fn selected(&self) -> Option<ExchangeId> {
        self.selected
    }

    pub fn selected_row(&self) -> usize {
        self.index
    }

    /// An exchange changed; it is re-checked at the next sync.
    pub fn touch(&mut self, id: ExchangeId) {
        self.pending.insert(id);
    }

    /// Rebuild from the whole store at the next sync.
    pub fn invalidate(&mut self) {
        self.rebuild = true;
    }

    /// Bring the list up to date with the store; true when anything changed.
    pub fn sync(&mut self, store: &dyn Records, rows: &mut RowCache, filter: &Filter) -> bool {
        let before_len = self.entries.len();
        if self.rebuild {
            self.rebuild_from(store, rows, filter);
        } else if !self.pending.is_empty() {
            self.apply_pending(store, rows, filter);
        } else {
            return false;
        }
        self.totals.shown = self.entries.len();
        self.totals.total = store.count();
        self.totals.evicted = store.evicted();
        self.totals.failed = self.failed.len();
        self.fix_selection(self.entries.len() > before_len);
        true
    }

    fn rebuild_from(&mut self, store: &dyn Records, rows: &mut RowCache, filter: &Filter) {
        self.rebuild = false;
        self.pending.clear();
        rows.retain(|id| store.get(id).is_some());
        self.members.clear();
        self.entries.clear();
        self.failed.clear();
        self.totals = Totals::default();
        let n = store.count();
        rows.reserve(n);
        self.entries.reserve(n);
        for record in store.all() {
            let ex = &record.exchange;
            let info = rows.refresh(record);
            if matches!(ex.state, State::Failed(_)) {
                self.failed.insert(ex.id);
            }
            if let Some(member) = self.wanted(ex, info, filter) {
                self.entries.push((member.key.clone(), ex.id));
                self.add(ex.id, member);
            }
        }
        self.entries.sort();
    }

    /// The exchange's membership if it is to be shown.
    fn wanted(&self, ex: &Exchange, info: &RowInfo, filter: &Filter) -> Option<Member> {
        let id = ex.id;
        let shown = id > self.scope.cleared_through
            && (!self.scope.marked_only || self.scope.marked.contains(&id))
            && filter.matches(ex, Some(&info.facts as &dyn AnalysisView));
        shown.then(|| Member::of(self.sort.value(ex, info), info))
    }

    fn add(&mut self, id: ExchangeId, m: Member) {
        let t = &mut self.totals;
        t.tokens += m.tokens;
        match m.cost {
            Some(c) => t.cost += c,
            None if m.llm => t.cost_unknown += 1,
            None => {}
        }
        if m != Member::PLAIN {
            self.members.insert(id, m);
        }
    }

    fn remove(&mut self, id: ExchangeId) -> Option<Member> {
        let Some(m) = self.members.remove(&id) else {
            return self.row_of(id).map(|_| Member::PLAIN);
        };
        let t = &mut self.totals;
        t.tokens = t.tokens.saturating_sub(m.tokens);
        match m.cost {
            Some(c) => t.cost -= c,
            None if m.llm => t.cost_unknown = t.cost_unknown.saturating_sub(1),
            None => {}
        }
        Some(m)
    }

    fn apply_pending(&mut self, store: &dyn Records, rows: &mut RowCache, filter: &Filter) {
        let mut removed = HashSet::new();
        let mut added = Vec::new();
        for id in std::mem::take(&mut self.pending) {
            let record = store.get(id);
            let failed = record.is_some_and(|r| matches!(r.exchange.state, State::Failed(_)));
            if failed {
                self.failed.insert(id);
            } else {
                self.failed.remove(&id);
            }
            let wanted = record.and_then(|r| {
                let info = rows.refresh(r);
                self.wanted(&r.exchange, info, filter)
            });
            let old_key = self.remove(id).map(|m| m.key);
            let new_key = wanted.as_ref().map(|m| m.key.clone());
            if let Some(m) = wanted {
                self.add(id, m);
            }
            if old_key == new_key {
                continue;
            }
            if old_key.is_some() {
                removed.insert(id);
            }
            if let Some(key) = new_key {
                added.push((key, id));
            }
        }
        self.merge(&removed, added);
    }

    /// Remove and insert entries, keeping order; appending is the fast path.
    fn merge(&mut self, removed: &HashSet<ExchangeId>, mut added: Vec<(SortValue, ExchangeId)>) {
        if !removed.is_empty() {
            self.entries.retain(|(_, id)| !removed.contains(id));
        }
        added.sort();
        let appends = match (self.entries.last(), added.first()) {
            (Some(last), Some(first)) => first > last,
            _ => true,
        };
        if appends {
            self.entries.extend(added);
            return;
        }
        let old = std::mem::take(&mut self.entries);
        self.entries.reserve(old.len() + added.len());
        let (mut a, mut b) = (old.into_iter().peekable(), added.into_iter().peekable());
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            let next = if x <= y { a.next() } else { b.next() };
            self.entries.extend(next);
        }
        self.entries.extend(a);
        self.entries.extend(b);
    }

    /// Keep the selection on the same exchange; follow the newest when asked.
    fn fix_selection(&mut self, grew: bool) {
        if self.follow && (grew || self.selected.is_none()) {
            self.selected = self.newest();
        }
        match self.selected.and_then(|id| self.row_of(id)) {
            Some(row) => self.index = row,
            None => {
                self.index = self.index.min(self.len().saturating_sub(1));
                self.selected = self.id_at(self.index);
            }
        }
    }

    /// The shown exchange with the highest id (the last one in arrival order).
    fn newest(&self) -> Option<ExchangeId> {
        if self.sort == SortKey::Arrival {
            return self.entries.last().map(|(_, id)| *id);
        }
        self.entries.iter().map(|(_, id)| *id).max()
    }

    /// Select display row `row` (clamped).
    pub fn select_row(&mut self, row: usize) {
        if self.is_empty() {
            return;
        }
        self.index = row.min(self.len() - 1);
        self.selected = self.id_at(self.index);
    }

    /// Move the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        let row = self.index.saturating_add_signed(delta);
        self.select_row(row);
    }

    /// Select an exchange by id if it is shown.
    pub fn select_id(&mut self, id: ExchangeId) -> bool {
        match self.row_of(id) {
            Some(row) => {
                self.select_row(row);
                true
            }
            None => false,
        }
    }

    /// Scroll so the selection is inside a window of `height` rows.
    pub fn keep_in_view(&mut self, height: usize) {
        let height = height.max(1);
        if self.index < self.offset {
            self.offset = self.index;
        } else if self.index >= self.offset + height {
            self.offset = self.index + 1 - height;
        }
        self.offset = self.offset.min(self.len().saturating_sub(height));
    }

    /// Change the sort column or direction (rebuilds at the next sync).
    pub fn set_sort(&mut self, key: SortKey, reverse: bool) {
        self.sort = key;
        self.reverse = reverse;
        self.rebuild = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{Limits, Store};

    fn shown(list: &TrafficList) -> Vec<ExchangeId> {
        (0..list.len()).filter_map(|row| list.id_at(row)).collect()
    }

    #[test]
    fn plain_rows_are_found_dropped_and_taken_back_without_members() {
        let mut store = Store::new(Limits::default());
        let ids: Vec<ExchangeId> = vec![1, 2, 3];
        for &id in &ids {
            store.insert(Exchange::builder().id(id).method("GET").path("/x1").build());
        }
        let filter = crate::filter::parse("x1").expect("filter");
        let (mut list, mut rows) = (TrafficList::new(true), RowCache::new(false));
        list.sync(&store, &mut rows, &filter);
        assert_eq!(shown(&list), ids);
        assert!(list.members.is_empty());
        assert!(list.select_id(ids[1]));
        let path = |store: &mut Store, p: &str| {
            store.get_mut(ids[1]).expect("kept").exchange.request.path = p.into();
        };
        path(&mut store, "/y2");
        list.touch(ids[1]);
        list.touch(ids[2]);
        list.sync(&store, &mut rows, &filter);
        assert_eq!(shown(&list), [ids[0], ids[2]]);
        assert!(!list.select_id(ids[1]));
        path(&mut store, "/x1");
        list.touch(ids[1]);
        list.sync(&store, &mut rows, &filter);
        assert_eq!(shown(&list), ids);
        assert!(list.select_id(ids[1]));
        assert_eq!(list.selected_row(), 1);
    }
}
