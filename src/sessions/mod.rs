//! Sessions as the user lived them, from captured records: conversations
//! (the capture task's threads) as lanes labelled with the user's first
//! prompt; the lanes of one agent session (Claude Code's sub-agents and
//! side requests) placed under the turn of its main conversation that was
//! running when they started; each turn's context (cache read, cache
//! write, fresh input, output) and running cost; and the MCP calls each
//! turn caused. Pure: records in, a model out; the API serialises it and
//! the Sessions screen draws it.

pub mod diff;
pub mod label;
pub mod links;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::capture::Record;
use crate::exchange::ExchangeId;
use crate::llm::{Analysis, Kind, Part, ThreadId, ThreadInfo, Usage};
use links::{McpToolCall, TurnCalls};

/// What one LLM turn's analysis says, kept small so a screen can cache it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub usage: Option<Usage>,
    pub cost: Option<f64>,
    /// Tools the reply called, in order.
    pub tool_uses: Vec<String>,
    /// The user's first prompt (see [`label::first_prompt`]).
    pub label: Option<String>,
}

impl Facts {
    pub fn of(a: &Analysis) -> Facts {
        let tool_uses = a
            .reply
            .iter()
            .flat_map(|r| r.parts.iter())
            .filter_map(|p| match p {
                Part::ToolCall(c) => Some(c.name.clone()),
                _ => None,
            })
            .collect();
        Facts {
            usage: a.usage,
            cost: a.cost,
            tool_uses,
            label: label::first_prompt(&a.request),
        }
    }
}

/// One turn: an exchange of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub id: ExchangeId,
    pub started_at: DateTime<Utc>,
    pub facts: Option<std::sync::Arc<Facts>>,
    /// The lane's cost up to and including this turn (known prices only).
    pub running_cost: f64,
    /// MCP calls this turn's tool uses caused.
    pub mcp: Vec<ExchangeId>,
}

/// Where a child lane (a sub-agent, a side request) hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    pub thread: ThreadId,
    /// The parent's turn that was running when the child started.
    pub turn: ExchangeId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub thread: ThreadId,
    pub session: Option<String>,
    pub parent: Option<Parent>,
    /// MCP traffic (a server session), not an LLM conversation.
    pub mcp: bool,
    pub label: Option<String>,
    pub turns: Vec<Turn>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Story {
    /// Parents before their children, each child right after its parent's
    /// other children; otherwise in order of first turn.
    pub lanes: Vec<Lane>,
    /// Exchanges in no conversation and caused by no turn.
    pub unscoped: Vec<ExchangeId>,
}

/// Build the story of `records` (oldest first). `facts` gives an LLM
/// turn's facts (analysing it, or from a cache); `thread_of` its thread
/// (the capture task's, or one a viewer found itself).
pub fn build(
    records: &[&Record],
    thread_of: &dyn Fn(&Record) -> Option<ThreadInfo>,
    facts: &mut dyn FnMut(&Record) -> Option<std::sync::Arc<Facts>>,
) -> Story {
    let mut lanes: BTreeMap<ThreadId, Lane> = BTreeMap::new();
    let mut unthreaded = Vec::new();
    for record in records {
        let Some(thread) = &thread_of(record) else {
            unthreaded.push(*record);
            continue;
        };
        let mcp = is_mcp(record);
        let lane = lanes.entry(thread.thread_id).or_insert_with(|| Lane {
            thread: thread.thread_id,
            session: thread.session.clone(),
            parent: None,
            mcp,
            label: None,
            turns: Vec::new(),
        });
        let f = if mcp { None } else { facts(record) };
        let running = lane.turns.last().map_or(0.0, |t| t.running_cost)
            + f.as_ref().and_then(|f| f.cost).unwrap_or(0.0);
        if lane.turns.is_empty() {
            lane.label = f.as_ref().and_then(|f| f.label.clone());
        }
        lane.turns.push(Turn {
            id: record.exchange.id,
            started_at: record.exchange.started_at,
            facts: f,
            running_cost: running,
            mcp: Vec::new(),
        });
    }
    let mut lanes: Vec<Lane> = lanes.into_values().collect();
    place_children(&mut lanes);
    let linked = attach_mcp(&mut lanes, records);
    let unscoped = unthreaded
        .iter()
        .map(|r| r.exchange.id)
        .filter(|id| !linked.contains(id))
        .collect();
    Story {
        lanes: order(lanes),
        unscoped,
    }
}

fn is_mcp(r: &Record) -> bool {
    r.summary.as_ref().is_some_and(|s| s.kind == Kind::Mcp)
}

/// In each agent session, the lane with the most turns is the main
/// conversation; the others hang under its turn running when they began:
/// the latest one that started before them. A sub-agent runs while its
/// parent waits for the `Agent` (formerly `Task`) tool's result, so that is
/// the turn that called it.
fn place_children(lanes: &mut [Lane]) {
    let mut by_session: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, lane) in lanes.iter().enumerate() {
        if let (Some(s), false) = (&lane.session, lane.mcp) {
            by_session.entry(s.clone()).or_default().push(i);
        }
    }
    for members in by_session.values() {
        let Some(&main) = members
            .iter()
            .max_by_key(|&&i| (lanes[i].turns.len(), std::cmp::Reverse(lanes[i].thread)))
        else {
            continue;
        };
        let main_thread = lanes[main].thread;
        let main_turns: Vec<(ExchangeId, DateTime<Utc>)> = lanes[main]
            .turns
            .iter()
            .map(|t| (t.id, t.started_at))
            .collect();
        for &i in members.iter().filter(|&&i| i != main) {
            let Some(start) = lanes[i].turns.first().map(|t| t.started_at) else {
                continue;
            };
            let turn = main_turns
                .iter()
                .rev()
                .find(|(_, at)| *at <= start)
                .or(main_turns.first())
                .map(|(id, _)| *id);
            lanes[i].parent = turn.map(|turn| Parent {
                thread: main_thread,
                turn,
            });
        }
    }
}

/// Link MCP `tools/call`s to the turns whose tool uses caused them;
/// returns the linked exchanges.
fn attach_mcp(lanes: &mut [Lane], records: &[&Record]) -> HashSet<ExchangeId> {
    let calls: Vec<McpToolCall> = records
        .iter()
        .filter_map(|r| {
            let s = r.summary.as_ref()?;
            (s.kind == Kind::Mcp && s.mcp_method.as_deref() == Some("tools/call")).then_some(())?;
            Some(McpToolCall {
                id: r.exchange.id,
                started_at: r.exchange.started_at,
                tool: s.mcp_tool.as_deref()?.to_string(),
            })
        })
        .collect();
    let turns: Vec<TurnCalls> = lanes
        .iter()
        .filter(|l| !l.mcp)
        .flat_map(|l| {
            l.turns.iter().enumerate().map(|(i, t)| TurnCalls {
                id: t.id,
                started_at: t.started_at,
                next_at: l.turns.get(i + 1).map(|n| n.started_at),
                tool_uses: t
                    .facts
                    .as_ref()
                    .map(|f| f.tool_uses.clone())
                    .unwrap_or_default(),
            })
        })
        .collect();
    let links = links::link(&turns, &calls);
    let mut linked = HashSet::new();
    for lane in lanes.iter_mut() {
        for turn in &mut lane.turns {
            if let Some(ids) = links.get(&turn.id) {
                turn.mcp.clone_from(ids);
                linked.extend(ids.iter().copied());
            }
        }
    }
    linked
}

/// Top-level lanes in order of first turn, each followed by its children.
fn order(lanes: Vec<Lane>) -> Vec<Lane> {
    let (children, top): (Vec<Lane>, Vec<Lane>) =
        lanes.into_iter().partition(|l| l.parent.is_some());
    let mut children_of: BTreeMap<ThreadId, Vec<Lane>> = BTreeMap::new();
    for child in children {
        let parent = child.parent.map_or(0, |p| p.thread);
        children_of.entry(parent).or_default().push(child);
    }
    let mut top = top;
    top.sort_by_key(|l| l.turns.first().map(|t| (t.started_at, t.id)));
    let mut out = Vec::new();
    for lane in top {
        let thread = lane.thread;
        out.push(lane);
        if let Some(mut kids) = children_of.remove(&thread) {
            kids.sort_by_key(|l| l.turns.first().map(|t| (t.started_at, t.id)));
            out.extend(kids);
        }
    }
    out.extend(children_of.into_values().flatten());
    out
}

/// Context of one turn for a chart: (cache read, cache write, fresh
/// input, output) tokens.
pub fn context(u: &Usage) -> (u64, u64, u64, u64) {
    (
        u.cache_read_tokens,
        u.cache_write_tokens,
        u.uncached_input(),
        u.output_tokens,
    )
}

#[cfg(test)]
mod tests;
