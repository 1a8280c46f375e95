//! The Sessions screen's model: conversations as swim-lanes of turns, plus
//! the requests that belong to none. Rebuilt from the store only while the
//! screen is shown and the store has changed.

use std::collections::{BTreeMap, HashMap};

use crate::capture::Store;
use crate::exchange::{Exchange, ExchangeId};
use crate::llm::ThreadId;

use super::analysis;
use super::rows::{Kind, RowCache, RowInfo};

/// `anthropic claude-sonnet-4 · What's the weather in Paris?`
fn lane_label(info: &RowInfo, words: Option<String>) -> String {
    let who = format!("{} {}", info.kind_label(), info.model_label());
    match words {
        Some(words) => format!("{} · {words}", who.trim()),
        None => who.trim().to_string(),
    }
}

/// One turn of a conversation (one exchange).
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub id: ExchangeId,
    pub tokens: u64,
    pub cost: Option<f64>,
    /// What changed since the previous turn ("+2 messages", "tools changed").
    pub changes: Vec<String>,
    /// LLM traffic has a price; MCP calls do not.
    pub priced: bool,
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

    /// Total cost of the priced turns, and whether any of them is unknown
    /// (the total is then a floor). `None` when nothing here has a price.
    pub fn cost(&self) -> Option<(f64, bool)> {
        let priced: Vec<_> = self.turns.iter().filter(|t| t.priced).collect();
        if priced.is_empty() {
            return None;
        }
        let known = priced.iter().filter_map(|t| t.cost).sum::<f64>();
        Some((known, priced.iter().any(|t| t.cost.is_none())))
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
    /// First user words of each lane's first turn (analysed once).
    words: HashMap<ExchangeId, Option<String>>,
}

/// The first user words of `ex`'s conversation, analysing it only once.
fn first_words(cache: &mut HashMap<ExchangeId, Option<String>>, ex: &Exchange) -> Option<String> {
    cache
        .entry(ex.id)
        .or_insert_with(|| analysis::analyse(ex).as_ref().and_then(analysis::label))
        .clone()
}

impl Sessions {
    /// Rebuild if the store changed since `generation`; exchanges up to
    /// `cleared_through` were cleared from view and are left out.
    pub fn refresh(
        &mut self,
        store: &Store,
        rows: &mut RowCache,
        generation: u64,
        cleared_through: ExchangeId,
    ) {
        if self.built_at == Some(generation) {
            return;
        }
        self.built_at = Some(generation);
        // Scripted sessions first (by scenario and isolation key), then
        // the automatic threads, each in order of their first turn.
        let mut scripted: Vec<Lane> = Vec::new();
        let mut scripted_at: HashMap<(String, String), usize> = HashMap::new();
        let mut lanes: BTreeMap<ThreadId, Lane> = BTreeMap::new();
        self.unscoped.clear();
        for record in store.iter().filter(|r| r.exchange.id > cleared_through) {
            let ex = &record.exchange;
            let info = rows.refresh(record);
            let mut turn = Turn {
                id: ex.id,
                tokens: info.tokens_in.unwrap_or(0) + info.tokens_out.unwrap_or(0),
                cost: info.cost,
                changes: Vec::new(),
                priced: info.kind == Kind::Llm,
            };
            if let Some(s) = crate::mock::scripted::ScriptedTurn::of(ex) {
                turn.changes = info
                    .thread
                    .as_ref()
                    .map(|t| analysis::describe_changes(&t.changes, s.turn == 0))
                    .unwrap_or_default();
                let key = (s.scenario, s.isolation);
                let at = *scripted_at.entry(key.clone()).or_insert_with(|| {
                    scripted.push(Lane {
                        label: format!("{} / {}", key.0, key.1),
                        turns: Vec::new(),
                    });
                    scripted.len() - 1
                });
                scripted[at].turns.push(turn);
                continue;
            }
            let Some(thread) = &info.thread else {
                self.unscoped.push(ex.id);
                continue;
            };
            turn.changes = analysis::describe_changes(&thread.changes, thread.turn_index == 0);
            let lane = lanes.entry(thread.thread_id).or_insert_with(|| Lane {
                label: lane_label(info, first_words(&mut self.words, ex)),
                turns: Vec::new(),
            });
            lane.turns.push(turn);
        }
        scripted.extend(lanes.into_values());
        self.lanes = scripted;
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
