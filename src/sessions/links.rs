//! Which MCP calls a turn caused: each `tool_use` of an MCP tool in a
//! turn's reply (`mcp__SERVER__TOOL` in Claude Code, or the bare tool
//! name) is matched to the first unclaimed `tools/call` of that tool that
//! started after the turn and before the lane's next turn.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::exchange::ExchangeId;

/// An LLM turn, as far as linking goes.
#[derive(Debug, Clone)]
pub struct TurnCalls {
    pub id: ExchangeId,
    pub started_at: DateTime<Utc>,
    /// When the lane's next turn started, if there is one.
    pub next_at: Option<DateTime<Utc>>,
    /// Tool names the reply called, in order.
    pub tool_uses: Vec<String>,
}

/// An MCP `tools/call`.
#[derive(Debug, Clone)]
pub struct McpToolCall {
    pub id: ExchangeId,
    pub started_at: DateTime<Utc>,
    pub tool: String,
}

/// Turn id → the MCP calls it caused, in time order.
pub fn link(turns: &[TurnCalls], calls: &[McpToolCall]) -> HashMap<ExchangeId, Vec<ExchangeId>> {
    let mut calls: Vec<&McpToolCall> = calls.iter().collect();
    calls.sort_by_key(|c| (c.started_at, c.id));
    let mut turns: Vec<&TurnCalls> = turns.iter().collect();
    turns.sort_by_key(|t| (t.started_at, t.id));
    let mut claimed = vec![false; calls.len()];
    let mut out: HashMap<ExchangeId, Vec<ExchangeId>> = HashMap::new();
    for turn in turns {
        for name in &turn.tool_uses {
            let tool = mcp_tool_name(name);
            let found = calls.iter().enumerate().position(|(i, c)| {
                !claimed[i]
                    && c.tool == tool
                    && c.started_at >= turn.started_at
                    && turn.next_at.is_none_or(|next| c.started_at <= next)
            });
            if let Some(i) = found {
                claimed[i] = true;
                out.entry(turn.id).or_default().push(calls[i].id);
            }
        }
    }
    for ids in out.values_mut() {
        ids.sort_unstable();
    }
    out
}

/// `mcp__SERVER__TOOL` → `TOOL`; other names as they are.
pub fn mcp_tool_name(name: &str) -> &str {
    name.strip_prefix("mcp__")
        .and_then(|rest| rest.split_once("__"))
        .map_or(name, |(_, tool)| tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn calls_join_the_turn_that_asked_for_them() {
        let turns = [
            TurnCalls {
                id: 1,
                started_at: at(0),
                next_at: Some(at(10)),
                tool_uses: vec!["mcp__calc__add".into()],
            },
            TurnCalls {
                id: 5,
                started_at: at(10),
                next_at: None,
                tool_uses: vec!["mcp__calc__add".into(), "Bash".into()],
            },
        ];
        let calls = [
            McpToolCall {
                id: 3,
                started_at: at(2),
                tool: "add".into(),
            },
            McpToolCall {
                id: 7,
                started_at: at(12),
                tool: "add".into(),
            },
            McpToolCall {
                id: 8,
                started_at: at(13),
                tool: "add".into(),
            },
            McpToolCall {
                id: 9,
                started_at: at(1),
                tool: "other".into(),
            },
        ];
        let links = link(&turns, &calls);
        assert_eq!(links[&1], vec![3]);
        assert_eq!(links[&5], vec![7], "one call per tool_use");
        assert_eq!(mcp_tool_name("mcp__my__server__t"), "server__t");
        assert_eq!(mcp_tool_name("plain"), "plain");
    }

    #[test]
    fn a_call_before_the_turn_or_after_the_next_is_not_its() {
        let turns = [TurnCalls {
            id: 2,
            started_at: at(5),
            next_at: Some(at(6)),
            tool_uses: vec!["add".into()],
        }];
        let calls = [
            McpToolCall {
                id: 1,
                started_at: at(4),
                tool: "add".into(),
            },
            McpToolCall {
                id: 3,
                started_at: at(7),
                tool: "add".into(),
            },
        ];
        assert!(link(&turns, &calls).is_empty());
    }
}
