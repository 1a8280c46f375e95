//! Group exchanges into conversations with no help from the user.
//!
//! A chat client resends the whole history each turn, so a turn whose
//! messages *extend* an earlier turn's messages continues that
//! conversation. Hints make it surer: OpenAI Responses
//! `previous_response_id` and `conversation` name the thread outright;
//! Anthropic `metadata.user_id` (Claude Code puts its session there) must
//! match when both turns carry one, and so must the agent's session key
//! (Claude Code's `x-claude-code-session-id`), which also keeps a
//! compacted history in its thread. A sub-agent — a different system
//! prompt from the same process — starts its own history, so it never
//! extends the parent's and stays apart; a side request that replays the
//! parent's messages under an unrelated system prompt stays apart too.
//! MCP exchanges group by `Mcp-Session-Id`.
//!
//! [`ThreadTracker`] is incremental and pure: feed it exchanges in order.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;

use super::Analysis;
use super::model::{Kind, Message, ToolDef};
use crate::exchange::ExchangeId;

/// Identifies a conversation (1, 2, 3, … in order of first sight).
pub type ThreadId = u64;

/// Most conversations remembered; the least recently active go first.
const MAX_THREADS: usize = 4096;

/// What changed since the previous turn of the same conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Messages added since the previous turn's request (all, on turn 0).
    pub messages_added: usize,
    pub system_changed: bool,
    pub tools_changed: bool,
    pub model_changed: bool,
}

/// Where an exchange sits among conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadInfo {
    pub thread_id: ThreadId,
    /// 0 for the first turn.
    pub turn_index: u32,
    pub changes: Changes,
    /// The agent's own session key, shared by its main conversation, its
    /// sub-agents and side requests (which are threads of their own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// The last turn of a thread: what the next turn is compared with.
#[derive(Debug, Clone)]
struct Turn {
    kind: Kind,
    messages: Vec<u64>,
    system: Option<String>,
    tools: u64,
    model: Option<String>,
    user_id: Option<String>,
    session: Option<String>,
    client: Option<String>,
    /// It got a reply: the same request again is a new conversation (or
    /// a regeneration), not a retry of this one.
    answered: bool,
}

#[derive(Debug)]
struct Thread {
    turns: u32,
    last: Turn,
    seen: u64,
}

/// Assigns exchanges to conversations as they finish.
#[derive(Debug, Default)]
pub struct ThreadTracker {
    threads: HashMap<ThreadId, Thread>,
    /// Response ids and conversation/session ids → thread.
    named: HashMap<String, ThreadId>,
    /// Each agent session's main conversation: its first thread offering
    /// tools (side requests such as titles offer none).
    session_roots: HashMap<String, ThreadId>,
    next_id: ThreadId,
    clock: u64,
}

impl ThreadTracker {
    pub fn new() -> Self {
        ThreadTracker::default()
    }

    /// Place one analysed exchange. `client_addr` (the client's socket
    /// address) breaks ties between equally good matches.
    pub fn observe(
        &mut self,
        _id: ExchangeId,
        analysis: &Analysis,
        client_addr: Option<&str>,
    ) -> ThreadInfo {
        self.clock += 1;
        let turn = turn_of(analysis, client_addr);
        let found = self
            .named_thread(analysis)
            .or_else(|| self.best_match(&turn))
            .or_else(|| self.same_session(&turn));
        let info = match found {
            Some(thread_id) => self.continue_thread(thread_id, turn),
            None => self.start_thread(turn),
        };
        for name in names(analysis) {
            self.named.insert(name, info.thread_id);
        }
        self.evict();
        info
    }

    fn named_thread(&self, a: &Analysis) -> Option<ThreadId> {
        let hints = &a.request.hints;
        let keys = [
            hints
                .previous_response_id
                .as_ref()
                .map(|r| format!("response:{r}")),
            hints
                .conversation
                .as_ref()
                .map(|c| format!("conversation:{c}")),
            mcp_session(a).map(|s| format!("mcp:{s}")),
        ];
        keys.into_iter()
            .flatten()
            .find_map(|k| self.named.get(&k).copied())
            .filter(|id| self.threads.contains_key(id))
    }

    /// The thread whose last turn's messages this turn extends the most.
    fn best_match(&self, turn: &Turn) -> Option<ThreadId> {
        if turn.kind == Kind::Mcp {
            return None;
        }
        self.threads
            .iter()
            .filter(|(_, t)| extends(turn, &t.last))
            .max_by_key(|(_, t)| {
                let same_client = turn.client.is_some() && turn.client == t.last.client;
                (t.last.messages.len(), same_client, t.seen)
            })
            .map(|(id, _)| *id)
    }

    /// A history that no longer extends (compacted, or rewritten by the
    /// agent) still continues its session's main conversation when the
    /// system prompt and tools are the same. Only the main one: several
    /// sub-agents of one kind share a prompt but are separate lanes.
    fn same_session(&self, turn: &Turn) -> Option<ThreadId> {
        let key = turn.session.as_ref()?;
        let root = *self.session_roots.get(key)?;
        let last = &self.threads.get(&root)?.last;
        (last.kind == turn.kind
            && last.system.is_some()
            && last.system == turn.system
            && last.tools == turn.tools)
            .then_some(root)
    }

    fn continue_thread(&mut self, thread_id: ThreadId, turn: Turn) -> ThreadInfo {
        let clock = self.clock;
        let Some(thread) = self.threads.get_mut(&thread_id) else {
            return self.start_thread(turn);
        };
        let prev = &thread.last;
        let changes = Changes {
            messages_added: turn.messages.len().saturating_sub(prev.messages.len()),
            system_changed: turn.system != prev.system,
            tools_changed: turn.tools != prev.tools,
            model_changed: turn.model != prev.model,
        };
        thread.turns += 1;
        let session = turn.session.clone();
        thread.last = turn;
        thread.seen = clock;
        ThreadInfo {
            thread_id,
            turn_index: thread.turns - 1,
            changes,
            session,
        }
    }

    fn start_thread(&mut self, turn: Turn) -> ThreadInfo {
        self.next_id += 1;
        let changes = Changes {
            messages_added: turn.messages.len(),
            ..Changes::default()
        };
        let session = turn.session.clone();
        if let Some(key) = &session
            && turn.tools != *NO_TOOLS
        {
            self.session_roots
                .entry(key.clone())
                .or_insert(self.next_id);
        }
        let thread = Thread {
            turns: 1,
            last: turn,
            seen: self.clock,
        };
        self.threads.insert(self.next_id, thread);
        ThreadInfo {
            thread_id: self.next_id,
            turn_index: 0,
            changes,
            session,
        }
    }

    fn evict(&mut self) {
        if self.threads.len() <= MAX_THREADS {
            return;
        }
        let oldest = self
            .threads
            .iter()
            .min_by_key(|(_, t)| t.seen)
            .map(|(id, _)| *id);
        if let Some(id) = oldest {
            self.threads.remove(&id);
            self.named.retain(|_, t| *t != id);
            self.session_roots.retain(|_, t| *t != id);
        }
    }
}

fn mcp_session(a: &Analysis) -> Option<&str> {
    a.mcp.as_ref().and_then(|m| m.session_id.as_deref())
}

/// Names later turns may use to find this thread.
fn names(a: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    if a.kind == Kind::OpenAiResponses
        && let Some(id) = a.reply.as_ref().and_then(|r| r.id.as_ref())
    {
        out.push(format!("response:{id}"));
    }
    if let Some(c) = &a.request.hints.conversation {
        out.push(format!("conversation:{c}"));
    }
    if let Some(s) = mcp_session(a) {
        out.push(format!("mcp:{s}"));
    }
    out
}

fn turn_of(a: &Analysis, client_addr: Option<&str>) -> Turn {
    Turn {
        kind: a.kind,
        messages: a.request.messages.iter().map(message_hash).collect(),
        system: a.request.system.clone(),
        tools: hash_of(&a.request.tools),
        model: a.model.clone(),
        user_id: a.request.hints.user_id.clone(),
        session: a.request.hints.session.clone(),
        client: client_addr.map(str::to_string),
        answered: a
            .reply
            .as_ref()
            .is_some_and(|r| r.error.is_none() && (r.stop_reason.is_some() || !r.parts.is_empty())),
    }
}

/// The tools hash of a request offering none.
static NO_TOOLS: std::sync::LazyLock<u64> =
    std::sync::LazyLock::new(|| hash_of(&Vec::<ToolDef>::new()));

fn message_hash(m: &Message) -> u64 {
    hash_of(m)
}

/// A stable-within-the-process hash of a serialisable value.
fn hash_of<T: Serialize>(v: &T) -> u64 {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// True when `new` continues `prev`: same API, no conflicting user id, a
/// related system prompt, and `prev`'s messages are a prefix of `new`'s,
/// with more after them unless `prev` went unanswered (a retry). The same
/// request as an answered turn is the same conversation begun again: the
/// agent run a second time, whose next turn would otherwise join the
/// first run's thread.
fn extends(new: &Turn, prev: &Turn) -> bool {
    let agree = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    new.kind == prev.kind
        && agree(&new.user_id, &prev.user_id)
        && agree(&new.session, &prev.session)
        && !prev.messages.is_empty()
        && new.messages.starts_with(&prev.messages)
        && (new.messages.len() > prev.messages.len() || !prev.answered)
        && related(new.system.as_deref(), prev.system.as_deref())
}

/// Same system prompt, or the same one edited (e.g. a date or directory
/// listing updated): at least half of the longer one is a shared prefix.
fn related(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) => {
            let shared = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            shared * 2 >= a.len().max(b.len())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
