//! The traffic list's model: which exchanges are shown (filter, marks, clear),
//! in what order, which one is selected, and the totals of what is shown.
//!
//! The shown list is cached and patched from store events: a changed exchange
//! is re-checked alone, so a frame never walks the whole store; only a filter
//! or sort change, a clear or a resync rebuilds it.

use std::collections::{HashMap, HashSet};

use crate::capture::Store;
use crate::exchange::{ExchangeId, State};
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

#[derive(Debug, Default)]
pub struct TrafficList {
    /// Shown exchanges in ascending (key, id) order; display may reverse it.
    entries: Vec<(SortValue, ExchangeId)>,
    members: HashMap<ExchangeId, SortValue>,
    pub sort: SortKey,
    pub reverse: bool,
    selected: Option<ExchangeId>,
    /// Display index of the selection, valid after [`TrafficList::sync`].
    index: usize,
    /// First display row in view.
    pub offset: usize,
    pub follow: bool,
    pub scope: Scope,
    pending: HashSet<ExchangeId>,
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
        let i = if self.reverse {
            self.entries.len().checked_sub(row + 1)?
        } else {
            row
        };
        self.entries.get(i).map(|(_, id)| *id)
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
    pub fn sync(&mut self, store: &Store, rows: &mut RowCache, filter: &Filter) -> bool {
        let before_len = self.entries.len();
        let changed = if self.rebuild {
            self.rebuild_from(store, rows, filter);
            true
        } else if !self.pending.is_empty() {
            self.apply_pending(store, rows, filter);
            true
        } else {
            false
        };
        if changed {
            self.totals = totals(self, store, rows);
            let grew = self.entries.len() > before_len;
            self.fix_selection(grew);
        }
        changed
    }

    fn rebuild_from(&mut self, store: &Store, rows: &mut RowCache, filter: &Filter) {
        self.rebuild = false;
        self.pending.clear();
        rows.retain(|id| store.get(id).is_some());
        self.members.clear();
        self.entries.clear();
        for record in store.iter() {
            let ex = &record.exchange;
            let info = rows.refresh(ex);
            if self.shows(ex.id, info, filter, ex) {
                let key = self.sort.value(ex, info);
                self.members.insert(ex.id, key.clone());
                self.entries.push((key, ex.id));
            }
        }
        self.entries.sort();
    }

    fn shows(
        &self,
        id: ExchangeId,
        info: &RowInfo,
        filter: &Filter,
        ex: &crate::exchange::Exchange,
    ) -> bool {
        id > self.scope.cleared_through
            && (!self.scope.marked_only || self.scope.marked.contains(&id))
            && filter.matches(ex, Some(&info.facts as &dyn AnalysisView))
    }

    fn apply_pending(&mut self, store: &Store, rows: &mut RowCache, filter: &Filter) {
        let pending: Vec<ExchangeId> = self.pending.drain().collect();
        let mut removed = HashSet::new();
        let mut added = Vec::new();
        for id in pending {
            let wanted = store.get(id).and_then(|r| {
                let info = rows.refresh(&r.exchange);
                self.shows(id, info, filter, &r.exchange)
                    .then(|| self.sort.value(&r.exchange, info))
            });
            let current = self.members.get(&id);
            if current == wanted.as_ref() {
                continue;
            }
            if current.is_some() {
                removed.insert(id);
                self.members.remove(&id);
            }
            if let Some(key) = wanted {
                self.members.insert(id, key.clone());
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
        let found = self
            .selected
            .and_then(|id| (0..self.len()).find(|&row| self.id_at(row) == Some(id)));
        match found {
            Some(row) => self.index = row,
            None => {
                self.index = self.index.min(self.len().saturating_sub(1));
                self.selected = self.id_at(self.index);
            }
        }
    }

    fn newest(&self) -> Option<ExchangeId> {
        self.members.keys().max().copied()
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
        match (0..self.len()).find(|&row| self.id_at(row) == Some(id)) {
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

fn totals(list: &TrafficList, store: &Store, rows: &RowCache) -> Totals {
    let mut t = Totals {
        shown: list.len(),
        total: store.len(),
        evicted: store.evicted(),
        failed: store
            .iter()
            .filter(|r| matches!(r.exchange.state, State::Failed(_)))
            .count(),
        ..Totals::default()
    };
    for (_, id) in &list.entries {
        let Some(info) = rows.get(*id) else { continue };
        t.tokens += info.tokens_in.unwrap_or(0) + info.tokens_out.unwrap_or(0);
        match info.cost {
            Some(c) => t.cost += c,
            None if info.kind == Kind::Llm => t.cost_unknown += 1,
            None => {}
        }
    }
    t
}
