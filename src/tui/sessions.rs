//! The Sessions screen's model: conversations as swim-lanes of turns, plus
//! the requests that belong to none. Rebuilt from the store only while the
//! screen is shown and the store has changed.

use crate::capture::Store;
use crate::exchange::ExchangeId;

use super::analysis;
use super::rows::RowCache;

/// One turn of a conversation (one exchange).
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub id: ExchangeId,
    pub tokens: u64,
    pub cost: Option<f64>,
    /// What changed since the previous turn ("+2 messages", "tools changed").
    pub changes: Vec<String>,
}

/// One conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// `scenario / isolation` for scripted expectations, else the thread's
    /// label (model and first user words).
    pub label: String,
    pub turns: Vec<Turn>,
}

impl Lane {
    pub fn tokens(&self) -> u64 {
        self.turns.iter().map(|t| t.tokens).sum()
    }

    /// Total cost; `None` if any turn's cost is unknown.
    pub fn cost(&self) -> Option<f64> {
        self.turns.iter().map(|t| t.cost).sum()
    }
}

#[derive(Debug, Default)]
pub struct Sessions {
    pub lanes: Vec<Lane>,
    pub unscoped: Vec<ExchangeId>,
    /// Selected lane; `lanes.len()` means the unscoped strip.
    pub lane: usize,
    pub turn: usize,
    /// First lane in view.
    pub offset: usize,
    built_at: Option<u64>,
}

impl Sessions {
    /// Rebuild if the store changed since `generation`.
    pub fn refresh(&mut self, store: &Store, rows: &mut RowCache, generation: u64) {
        if self.built_at == Some(generation) {
            return;
        }
        self.built_at = Some(generation);
        let (lanes, unscoped) = analysis::threads(store, rows);
        self.lanes = lanes;
        self.unscoped = unscoped;
        self.clamp();
    }

    fn lane_count(&self) -> usize {
        self.lanes.len() + usize::from(!self.unscoped.is_empty())
    }

    fn turn_count(&self) -> usize {
        match self.lanes.get(self.lane) {
            Some(l) => l.turns.len(),
            None => self.unscoped.len(),
        }
    }

    fn clamp(&mut self) {
        self.lane = self.lane.min(self.lane_count().saturating_sub(1));
        self.turn = self.turn.min(self.turn_count().saturating_sub(1));
    }

    pub fn move_lane(&mut self, delta: isize) {
        self.lane = self.lane.saturating_add_signed(delta);
        self.clamp();
    }

    pub fn move_turn(&mut self, delta: isize) {
        self.turn = self.turn.saturating_add_signed(delta);
        self.clamp();
    }

    pub fn first_lane(&mut self) {
        self.lane = 0;
        self.clamp();
    }

    pub fn last_lane(&mut self) {
        self.lane = usize::MAX;
        self.clamp();
    }

    /// The exchange of the selected chip.
    pub fn selected(&self) -> Option<ExchangeId> {
        match self.lanes.get(self.lane) {
            Some(l) => l.turns.get(self.turn).map(|t| t.id),
            None => self.unscoped.get(self.turn).copied(),
        }
    }

    /// Keep the selected lane inside a window of `rows` lanes.
    pub fn keep_in_view(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.lane < self.offset {
            self.offset = self.lane;
        } else if self.lane >= self.offset + rows {
            self.offset = self.lane + 1 - rows;
        }
    }
}
