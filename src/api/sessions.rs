//! `retrieve?type=SESSIONS`: the captured conversations (threads found by
//! the capture task), each with its turns, tokens, cost and what changed
//! from turn to turn, plus totals and the requests that belong to none.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::capture::Record;
use crate::llm::{Kind, Part, ThreadId};

/// Longest label taken from a conversation's first user words.
const LABEL_CHARS: usize = 60;

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

/// The SESSIONS document.
pub fn json(records: &[Record]) -> Value {
    let grouped = group(records);
    let mut all = Totals::default();
    let sessions: Vec<Value> = grouped
        .sessions
        .iter()
        .map(|(thread, turns)| {
            let mut totals = Totals::default();
            turns.iter().for_each(|r| totals.add(r));
            all.merge(&totals);
            session(*thread, turns, &totals)
        })
        .collect();
    let unscoped: Vec<Value> = grouped.unscoped.iter().map(|r| unscoped_json(r)).collect();
    json!({
        "sessions": sessions,
        "unscoped": unscoped,
        "totals": all.json(Some(grouped.sessions.len())),
    })
}

fn session(thread: ThreadId, turns: &[&Record], totals: &Totals) -> Value {
    let first = turns.first().map(|r| &r.exchange);
    let summary = turns.iter().find_map(|r| r.summary.as_ref());
    json!({
        "thread": thread,
        "provider": summary.map(|s| s.provider),
        "model": summary.and_then(|s| s.model.as_deref()),
        "label": first.and_then(label),
        "startedAt": first.map(|e| e.started_at),
        "turns": turns.iter().map(|r| turn(r)).collect::<Vec<_>>(),
        "totals": totals.json(None),
    })
}

fn turn(record: &Record) -> Value {
    let ex = &record.exchange;
    let s = record.summary.as_ref();
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
        "stop_reason": s.and_then(|s| s.stop_reason.as_deref()),
        "changes": record.thread.as_ref().map(|t| &t.changes),
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

/// The conversation's first user words, shortened: what a person would
/// call it. Costs one analysis per session.
fn label(ex: &crate::exchange::Exchange) -> Option<String> {
    let analysis = crate::llm::analyse(ex)?;
    let first = analysis
        .request
        .messages
        .iter()
        .find(|m| m.role == "user")?;
    let text = first.parts.iter().find_map(|p| match p {
        Part::Text { text } => Some(text.as_str()),
        _ => None,
    })?;
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = words.chars().take(LABEL_CHARS).collect();
    if words.chars().count() > LABEL_CHARS {
        out.push('…');
    }
    Some(out)
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
