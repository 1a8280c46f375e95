//! Which MCP calls a turn caused: each `tool_use` of an MCP tool in a
//! turn's reply (`mcp__SERVER__TOOL` in Claude Code, or the bare tool
//! name) is matched to a `tools/call` of that tool that started after the
//! turn and before the lane's next turn; a call goes to the latest such
//! turn.

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
///
/// Each call, oldest first, goes to the latest turn before it that asked
/// for its tool and has a `tool_use` of it left: a lane's last turn has no
/// end to its window, so an agent stopped on a tool call (a loop limit, an
/// interrupt) would otherwise claim every later call of that tool, made
/// by other agents, for the rest of the run.
pub fn link(turns: &[TurnCalls], calls: &[McpToolCall]) -> HashMap<ExchangeId, Vec<ExchangeId>> {
    let mut calls: Vec<&McpToolCall> = calls.iter().collect();
    calls.sort_by_key(|c| (c.started_at, c.id));
    // Per turn, how many calls of each tool it may still claim.
    let mut left: Vec<HashMap<&str, usize>> = turns
        .iter()
        .map(|t| {
            let mut counts = HashMap::new();
            for name in &t.tool_uses {
                *counts.entry(mcp_tool_name(name)).or_default() += 1;
            }
            counts
        })
        .collect();
    let mut out: HashMap<ExchangeId, Vec<ExchangeId>> = HashMap::new();
    for call in calls {
        let owner = turns
            .iter()
            .enumerate()
            .filter(|(i, t)| {
                t.started_at <= call.started_at
                    && t.next_at.is_none_or(|next| call.started_at <= next)
                    && left[*i].get(call.tool.as_str()).is_some_and(|n| *n > 0)
            })
            .max_by_key(|(_, t)| (t.started_at, t.id))
            .map(|(i, _)| i);
        if let Some(i) = owner {
            if let Some(n) = left[i].get_mut(call.tool.as_str()) {
                *n -= 1;
            }
            out.entry(turns[i].id).or_default().push(call.id);
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

    /// An agent that stopped on a tool call leaves its lane's last turn
    /// open: a later agent's call of the same tool is the later turn's.
    #[test]
    fn a_call_goes_to_the_latest_turn_that_asked_for_it() {
        let turns = [
            TurnCalls {
                id: 3,
                started_at: at(0),
                next_at: None,
                tool_uses: vec!["get_weather".into()],
            },
            TurnCalls {
                id: 7,
                started_at: at(20),
                next_at: Some(at(30)),
                tool_uses: vec!["mcp__w__get_weather".into()],
            },
        ];
        let calls = [
            McpToolCall {
                id: 8,
                started_at: at(21),
                tool: "get_weather".into(),
            },
            McpToolCall {
                id: 12,
                started_at: at(40),
                tool: "get_weather".into(),
            },
        ];
        let links = link(&turns, &calls);
        assert_eq!(links[&7], vec![8]);
        assert_eq!(links[&3], vec![12], "the open turn still takes a call");
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
