//! Which trace a span belongs to: one trace per conversation (turns are
//! spans in it), and an MCP tool call inside the trace of the turn whose
//! `tool_use` asked for it, as that turn's child.
//!
//! Trace ids mix a random per-process salt with llmspy's thread id, so two
//! llmspy instances sending to one collector never share a trace.

use std::collections::HashMap;

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

use super::span::Placement;
use crate::llm::ThreadId;

/// How many tool names are remembered for matching MCP calls to turns.
const TOOLS_REMEMBERED: usize = 1024;

#[derive(Debug)]
pub struct Traces {
    salt: u64,
    ids: RandomIdGenerator,
    /// Tool name as the model called it → the turn that called it.
    tools: HashMap<String, (Placement, u64)>,
    /// Sequence number, to forget the oldest tool names first.
    seq: u64,
}

impl Default for Traces {
    fn default() -> Self {
        Self::new()
    }
}

impl Traces {
    pub fn new() -> Self {
        let ids = RandomIdGenerator::default();
        let salt = u64::from_be_bytes(ids.new_span_id().to_bytes());
        Traces {
            salt,
            ids,
            tools: HashMap::new(),
            seq: 0,
        }
    }

    /// `gen_ai.conversation.id` of a thread: stable for this process.
    pub fn conversation_id(&self, thread: ThreadId) -> String {
        format!("{:016x}-{thread}", self.salt)
    }

    /// A turn of conversation `thread` (or a lone exchange): its own trace
    /// for a lone one, the conversation's otherwise.
    pub fn turn(&mut self, thread: Option<ThreadId>, tools_called: &[String]) -> Placement {
        let trace_id = match thread {
            Some(t) => self.trace_of(t),
            None => self.ids.new_trace_id(),
        };
        let place = Placement {
            trace_id,
            span_id: self.ids.new_span_id(),
            parent: None,
        };
        for name in tools_called {
            self.seq += 1;
            self.tools.insert(name.clone(), (place, self.seq));
        }
        self.forget_oldest();
        place
    }

    /// An MCP call: inside the trace of the latest turn that called `tool`
    /// (`mcp__server__tool` as Claude Code names it, or the bare name).
    pub fn mcp(&mut self, tool: Option<&str>) -> Placement {
        let turn = tool.and_then(|t| self.caller_of(t));
        Placement {
            trace_id: turn.map_or_else(|| self.ids.new_trace_id(), |p| p.trace_id),
            span_id: self.ids.new_span_id(),
            parent: turn.map(|p| p.span_id),
        }
    }

    fn caller_of(&self, tool: &str) -> Option<Placement> {
        self.tools
            .iter()
            .filter(|(name, _)| {
                name.as_str() == tool
                    || name
                        .strip_suffix(tool)
                        .is_some_and(|prefix| prefix.starts_with("mcp__") && prefix.ends_with("__"))
            })
            .max_by_key(|(_, (_, seq))| *seq)
            .map(|(_, (place, _))| *place)
    }

    fn trace_of(&self, thread: ThreadId) -> TraceId {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.salt.to_be_bytes());
        bytes[8..].copy_from_slice(&thread.to_be_bytes());
        TraceId::from_bytes(bytes)
    }

    fn forget_oldest(&mut self) {
        if self.tools.len() <= TOOLS_REMEMBERED {
            return;
        }
        let cutoff = self.seq.saturating_sub(TOOLS_REMEMBERED as u64 / 2);
        self.tools.retain(|_, (_, seq)| *seq > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_of_a_conversation_share_a_trace_and_others_do_not() {
        let mut t = Traces::new();
        let a = t.turn(Some(1), &[]);
        let b = t.turn(Some(1), &[]);
        let c = t.turn(Some(2), &[]);
        let lone = t.turn(None, &[]);
        assert_eq!(a.trace_id, b.trace_id);
        assert_ne!(a.span_id, b.span_id);
        assert_ne!(a.trace_id, c.trace_id);
        assert_ne!(lone.trace_id, a.trace_id);
        assert_ne!(
            Traces::new().trace_of(1),
            t.trace_of(1),
            "salted per process"
        );
    }

    #[test]
    fn an_mcp_call_joins_the_turn_that_asked_for_it() {
        let mut t = Traces::new();
        let first = t.turn(Some(1), &["mcp__weather__forecast".into()]);
        let later = t.turn(Some(1), &["mcp__weather__forecast".into(), "Bash".into()]);
        let call = t.mcp(Some("forecast"));
        assert_eq!(
            (call.trace_id, call.parent),
            (later.trace_id, Some(later.span_id))
        );
        assert_ne!(call.parent, Some(first.span_id), "the latest caller wins");
        let stray = t.mcp(Some("unknown_tool"));
        assert_eq!(stray.parent, None);
        assert_ne!(stray.trace_id, later.trace_id);
        assert_eq!(t.mcp(Some("Bash")).parent, Some(later.span_id));
        assert_eq!(t.mcp(Some("cast")).parent, None, "a suffix is not a name");
    }
}
