//! `retrieve?type=SESSIONS`: the captured conversations (threads found by
//! the capture task, told by `crate::sessions`), each with its turns,
//! tokens, cost, what changed from turn to turn and the MCP calls each turn
//! caused, plus totals and the requests that belong to none.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::capture::Record;
use crate::llm::{Analysis, Kind, ThreadId};
use crate::sessions::diff::TurnDiff;
use crate::sessions::{Facts, Lane, Turn};

/// Records grouped by conversation, in thread order, then the rest.
pub struct Grouped<'a> {
    pub sessions: BTreeMap<ThreadId, Vec<&'a Record>>,
    pub unscoped: Vec<&'a Record>,
}

pub fn group(records: &[Record]) -> Grouped<'_> {
    let mut sessions: BTreeMap<ThreadId, Vec<&Record>> = BTreeMap::new();
    let mut unscoped = Vec::new();
    for record in records {
        match &record.thread {
            Some(t) => sessions.entry(t.thread_id).or_default().push(record),
            None => unscoped.push(record),
        }
    }
    Grouped { sessions, unscoped }
}

/// The SESSIONS document: each conversation with its turns, what changed
/// at each turn (as unified diffs and the new messages), the context and
/// running cost per turn, the MCP calls each turn caused, and where a
/// sub-agent's conversation hangs in its parent.
pub fn json(records: &[Record]) -> Value {
    let refs: Vec<&Record> = records.iter().collect();
    let by_id: HashMap<u64, &Record> = refs.iter().map(|r| (r.exchange.id, *r)).collect();
    let mut analyses: HashMap<u64, Arc<Analysis>> = HashMap::new();
    let story = crate::sessions::build(&refs, &|r| r.thread.clone(), &mut |r| {
        let a = crate::analyses::analyse(&r.exchange)?;
        let facts = Arc::new(Facts::of(&a));
        analyses.insert(r.exchange.id, a);
        Some(facts)
    });
    let mut all = Totals::default();
    let sessions: Vec<Value> = story
        .lanes
        .iter()
        .map(|lane| {
            let records: Vec<&Record> = lane
                .turns
                .iter()
                .filter_map(|t| by_id.get(&t.id).copied())
                .collect();
            let mut totals = Totals::default();
            records.iter().for_each(|r| totals.add(r));
            all.merge(&totals);
            session(
                lane,
                &records,
                &totals,
                &Context {
                    by_id: &by_id,
                    analyses: &analyses,
                },
            )
        })
        .collect();
    let unscoped: Vec<Value> = story
        .unscoped
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(|r| unscoped_json(r))
        .collect();
    json!({
        "sessions": sessions,
        "unscoped": unscoped,
        "totals": all.json(Some(story.lanes.len())),
    })
}

/// What turns are looked up in.
struct Context<'a> {
    by_id: &'a HashMap<u64, &'a Record>,
    analyses: &'a HashMap<u64, Arc<Analysis>>,
}

fn session(lane: &Lane, records: &[&Record], totals: &Totals, cx: &Context<'_>) -> Value {
    let first = records.first().map(|r| &r.exchange);
    let summary = records.iter().find_map(|r| r.summary.as_ref());
    let mut prev: Option<&Analysis> = None;
    let turns: Vec<Value> = lane
        .turns
        .iter()
        .zip(records)
        .map(|(t, r)| {
            let this = cx.analyses.get(&t.id);
            let diff = this.map(|a| crate::sessions::diff::between(prev, a));
            if this.is_some() {
                prev = this.map(|a| &**a);
            }
            turn(r, t, diff, cx)
        })
        .collect();
    json!({
        "thread": lane.thread,
        "session": lane.session,
        "parent": lane.parent.map(|p| json!({"thread": p.thread, "turn": p.turn})),
        "kind": if lane.mcp { "mcp" } else { "llm" },
        "provider": summary.map(|s| s.provider),
        "model": summary.and_then(|s| s.model.as_deref()),
        "label": lane.label.clone(),
        "app": first.and_then(|e| e.client_app.clone()),
        "startedAt": first.map(|e| e.started_at),
        "turns": turns,
        "totals": totals.json(None),
    })
}

fn turn(record: &Record, t: &Turn, diff: Option<TurnDiff>, cx: &Context<'_>) -> Value {
    let ex = &record.exchange;
    let s = record.summary.as_ref();
    let facts = t.facts.as_deref();
    let context = facts.and_then(|f| f.usage).map(|u| {
        let (read, write, fresh, out) = crate::sessions::context(&u);
        json!({"cache_read": read, "cache_write": write, "fresh": fresh, "output": out})
    });
    let mcp: Vec<Value> = t
        .mcp
        .iter()
        .filter_map(|id| cx.by_id.get(id))
        .map(|r| mcp_json(r))
        .collect();
    json!({
        "id": ex.id,
        "turn": record.thread.as_ref().map(|t| t.turn_index),
        "startedAt": ex.started_at,
        "status": ex.response.as_ref().map(|r| r.status),
        "state": ex.state.label(),
        "model": s.and_then(|s| s.model.as_deref()),
        "tokens_in": s.and_then(|s| s.tokens_in),
        "tokens_out": s.and_then(|s| s.tokens_out),
        "cost_usd": s.and_then(|s| s.cost_usd),
        "running_cost_usd": facts.map(|_| t.running_cost),
        "context": context,
        "stop_reason": s.and_then(|s| s.stop_reason.as_deref()),
        "changes": record.thread.as_ref().map(|t| &t.changes),
        "diff": diff,
        "tool_uses": facts.map(|f| f.tool_uses.clone()).unwrap_or_default(),
        "mcp": mcp,
    })
}

fn mcp_json(record: &Record) -> Value {
    let ex = &record.exchange;
    let s = record.summary.as_ref();
    json!({
        "id": ex.id,
        "url": ex.url(),
        "startedAt": ex.started_at,
        "method": s.and_then(|s| s.mcp_method.as_deref()),
        "tool": s.and_then(|s| s.mcp_tool.as_deref()),
        "error": s.is_some_and(|s| s.error),
        "state": ex.state.label(),
    })
}

fn unscoped_json(record: &Record) -> Value {
    let ex = &record.exchange;
    let s = record.summary.as_ref();
    json!({
        "id": ex.id,
        "method": ex.request.method,
        "url": ex.url(),
        "status": ex.response.as_ref().map(|r| r.status),
        "state": ex.state.label(),
        "kind": s.map(|s| s.kind.label()),
        "tokens_in": s.and_then(|s| s.tokens_in),
        "tokens_out": s.and_then(|s| s.tokens_out),
        "cost_usd": s.and_then(|s| s.cost_usd),
    })
}

/// Sums over turns. The cost is a floor when some priced turn has no
/// known price (`cost_complete` says which).
#[derive(Debug, Default)]
struct Totals {
    turns: usize,
    tokens_in: u64,
    tokens_out: u64,
    cost_usd: f64,
    priced: usize,
    unpriced: usize,
}

impl Totals {
    fn add(&mut self, r: &Record) {
        self.turns += 1;
        let Some(s) = &r.summary else { return };
        self.tokens_in += s.tokens_in.unwrap_or(0);
        self.tokens_out += s.tokens_out.unwrap_or(0);
        match (s.kind == Kind::Mcp, s.cost_usd) {
            (true, _) => {}
            (false, Some(c)) => {
                self.cost_usd += c;
                self.priced += 1;
            }
            (false, None) => self.unpriced += 1,
        }
    }

    fn merge(&mut self, o: &Totals) {
        self.turns += o.turns;
        self.tokens_in += o.tokens_in;
        self.tokens_out += o.tokens_out;
        self.cost_usd += o.cost_usd;
        self.priced += o.priced;
        self.unpriced += o.unpriced;
    }

    fn json(&self, sessions: Option<usize>) -> Value {
        let mut v = json!({
            "turns": self.turns,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": (self.priced > 0).then_some(self.cost_usd),
            "cost_complete": self.unpriced == 0,
        });
        if let (Some(n), Some(obj)) = (sessions, v.as_object_mut()) {
            obj.insert("sessions".into(), json!(n));
        }
        v
    }
}
