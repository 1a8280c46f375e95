//! The Sessions screen's model: conversations as swim-lanes of turns, a
//! sub-agent's lane right under its parent's, the MCP calls each turn
//! caused inside the lane, plus the requests that belong to none. Rebuilt
//! from the store only while the screen is shown and the store has
//! changed; each exchange is analysed once (its [`Facts`] are cached).

use std::collections::HashMap;
use std::sync::Arc;

use crate::capture::{Record, Records};
use crate::exchange::ExchangeId;
use crate::llm::ThreadInfo;
use crate::sessions::Facts;

use super::analysis;
use super::rows::{Kind, RowCache, RowInfo};

fn plain_turn(id: ExchangeId, info: &RowInfo) -> Turn {
    Turn {
        id,
        tokens: info.tokens_in.unwrap_or(0) + info.tokens_out.unwrap_or(0),
        cost: info.cost,
        changes: Vec::new(),
        priced: info.kind == Kind::Llm,
        mcp: Vec::new(),
        context: None,
        running_cost: 0.0,
    }
}

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
    /// MCP calls this turn's tool uses caused: (exchange, tool).
    pub mcp: Vec<(ExchangeId, String)>,
    /// Input context: cache read, cache write, fresh; and output tokens.
    pub context: Option<(u64, u64, u64, u64)>,
    /// The lane's known cost up to this turn.
    pub running_cost: f64,
}

/// One conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// `scenario / isolation` for scripted expectations, else the thread's
    /// label (model and the user's first prompt).
    pub label: String,
    pub turns: Vec<Turn>,
    /// A sub-agent's (or side request's) lane: the parent turn it began in.
    pub parent_turn: Option<ExchangeId>,
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
    /// What changed at the selected turn, as diffs (`d`).
    pub diff: super::turn_diff::TurnDiffPanel,
    /// What each finished LLM exchange's analysis says (analysed once).
    facts: HashMap<ExchangeId, Option<Arc<Facts>>>,
}

/// `ex`'s facts, analysing it only once it finished.
fn facts_of(cache: &mut HashMap<ExchangeId, Option<Arc<Facts>>>, r: &Record) -> Option<Arc<Facts>> {
    if !r.exchange.state.is_finished() {
        return analysis::analyse(&r.exchange).map(|a| Arc::new(Facts::of(&a)));
    }
    cache
        .entry(r.exchange.id)
        .or_insert_with(|| analysis::analyse(&r.exchange).map(|a| Arc::new(Facts::of(&a))))
        .clone()
}

impl Sessions {
    /// Rebuild if the store changed since `generation`; exchanges up to
    /// `cleared_through` were cleared from view and are left out.
    pub fn refresh(
        &mut self,
        store: &dyn Records,
        rows: &mut RowCache,
        generation: u64,
        cleared_through: ExchangeId,
    ) {
        if self.built_at == Some(generation) {
            return;
        }
        self.built_at = Some(generation);
        // Scripted sessions first (by scenario and isolation key), then
        // the automatic threads as the story orders them.
        let mut scripted: Vec<Lane> = Vec::new();
        let mut scripted_at: HashMap<(String, String), usize> = HashMap::new();
        let mut threaded: Vec<&Record> = Vec::new();
        for record in store.all().filter(|r| r.exchange.id > cleared_through) {
            let ex = &record.exchange;
            let info = rows.refresh(record);
            let Some(s) = crate::mock::scripted::ScriptedTurn::of(ex) else {
                threaded.push(record);
                continue;
            };
            let mut turn = plain_turn(ex.id, info);
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
                    parent_turn: None,
                });
                scripted.len() - 1
            });
            scripted[at].turns.push(turn);
        }
        // A file opened for viewing has its threads found by the row cache.
        let threads: HashMap<ExchangeId, ThreadInfo> = threaded
            .iter()
            .filter_map(|r| Some((r.exchange.id, rows.get(r)?.thread.clone()?)))
            .collect();
        let cache = &mut self.facts;
        let story = crate::sessions::build(
            &threaded,
            &|r| threads.get(&r.exchange.id).cloned(),
            &mut |r| facts_of(cache, r),
        );
        let by_id: HashMap<ExchangeId, &Record> =
            threaded.iter().map(|r| (r.exchange.id, *r)).collect();
        for lane in &story.lanes {
            scripted.push(self.lane_of(lane, &by_id, rows));
        }
        self.unscoped = story.unscoped;
        self.lanes = scripted;
        self.clamp();
    }

    fn lane_of(
        &self,
        lane: &crate::sessions::Lane,
        by_id: &HashMap<ExchangeId, &Record>,
        rows: &mut RowCache,
    ) -> Lane {
        let mut turns = Vec::new();
        let mut label = None;
        for t in &lane.turns {
            let Some(record) = by_id.get(&t.id) else {
                continue;
            };
            let info = rows.refresh(record);
            if label.is_none() {
                label = Some(lane_label(info, lane.label.clone()));
            }
            let mut turn = plain_turn(t.id, info);
            if let Some(thread) = &info.thread {
                turn.changes = analysis::describe_changes(&thread.changes, thread.turn_index == 0);
            }
            turn.mcp = t
                .mcp
                .iter()
                .map(|id| {
                    let tool = by_id
                        .get(id)
                        .and_then(|r| r.summary.as_ref())
                        .and_then(|s| s.mcp_tool.as_deref())
                        .unwrap_or("?");
                    (*id, tool.to_string())
                })
                .collect();
            turn.context = t
                .facts
                .as_ref()
                .and_then(|f| f.usage)
                .map(|u| crate::sessions::context(&u));
            turn.running_cost = t.running_cost;
            turns.push(turn);
        }
        Lane {
            label: label.unwrap_or_default(),
            turns,
            parent_turn: lane.parent.map(|p| p.turn),
        }
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

    /// Bring the "what changed" panel up to date with the selection.
    pub fn prepare_diff(&mut self, store: &dyn Records) {
        let (turn, prev) = match self.lanes.get(self.lane) {
            Some(l) => (
                l.turns.get(self.turn).map(|t| t.id),
                self.turn
                    .checked_sub(1)
                    .and_then(|i| l.turns.get(i))
                    .map(|t| t.id),
            ),
            None => (None, None),
        };
        self.diff.prepare(store, turn, prev);
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
