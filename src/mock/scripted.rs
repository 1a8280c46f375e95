//! Scripted multi-turn conversations (`httpLlmConversation`): one
//! expectation answers each turn of an agent's conversation with its own
//! completion, per isolated session.
//!
//! ```json
//! {"httpRequest": {"path": "/v1/messages"}, "scenarioName": "weather",
//!  "httpLlmConversation": {"provider": "ANTHROPIC",
//!    "isolateBy": {"header": "x-session-id"},
//!    "turns": [
//!      {"whenTurnIndex": 0, "completion": {"toolCalls": [{"name": "search"}]}},
//!      {"whenContainsToolResultFor": "search", "completion": {"text": "42"}},
//!      {"whenMessageContains": "thanks", "completion": {"text": "welcome"}}]}}
//! ```
//!
//! The isolation key comes from a header, query parameter or cookie; each
//! key's session counts its own turns. A turn without a condition answers
//! when the session is at its position. Each answered response carries
//! `x-llmspy-scenario`, `x-llmspy-isolation` and `x-llmspy-turn` headers,
//! which [`ScriptedTurn::of`] reads back from a captured exchange.

use serde::Serialize;
use serde_json::Value;

use super::MockError;
use super::completion::{self, Completion, LlmResponse};
use super::facts::LlmFacts;
use crate::exchange::{Exchange, Request, header};

pub const SCENARIO_HEADER: &str = "x-llmspy-scenario";
pub const ISOLATION_HEADER: &str = "x-llmspy-isolation";
pub const TURN_HEADER: &str = "x-llmspy-turn";

/// Key of requests that carry no isolation value.
pub const DEFAULT_SESSION: &str = "default";

/// A parsed `httpLlmConversation`.
#[derive(Debug, Clone)]
pub struct Script {
    /// Provider and model shared by every turn's completion.
    pub llm: LlmResponse,
    pub isolate_by: Option<Isolation>,
    pub turns: Vec<Turn>,
}

/// Where the per-session key is read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Isolation {
    Header(String),
    Query(String),
    Cookie(String),
}

/// One scripted turn.
#[derive(Debug, Clone)]
pub struct Turn {
    pub when: When,
    pub completion: Completion,
}

/// When a turn answers.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    TurnIndex(u64),
    ToolResultFor(String),
    MessageContains(String),
}

/// What the TUI shows for a scripted turn: the `scenario / isolation`
/// swim-lane and the turn's place in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptedTurn {
    pub scenario: String,
    pub isolation: String,
    /// 0-based index of the turn within its session.
    pub turn: u64,
}

impl ScriptedTurn {
    /// The scripted-turn facts of a captured exchange, if a scripted
    /// conversation answered it.
    pub fn of(ex: &Exchange) -> Option<ScriptedTurn> {
        let headers = &ex.response.as_ref()?.headers;
        Some(ScriptedTurn {
            scenario: header(headers, SCENARIO_HEADER)?.to_string(),
            isolation: header(headers, ISOLATION_HEADER)?.to_string(),
            turn: header(headers, TURN_HEADER)?.parse().ok()?,
        })
    }
}

impl Script {
    pub fn from_json(v: &Value, at: &str) -> Result<Self, MockError> {
        let obj = v
            .as_object()
            .ok_or_else(|| MockError::invalid(at, "an object"))?;
        super::fields::only(obj, &["provider", "model", "turns", "isolateBy"], at)?;
        // The shared provider/model parse like an httpLlmResponse's.
        let mut head = serde_json::Map::new();
        for key in ["provider", "model"] {
            if let Some(v) = obj.get(key) {
                head.insert(key.into(), v.clone());
            }
        }
        head.insert("completion".into(), serde_json::json!({}));
        let llm = LlmResponse::from_json(&Value::Object(head), at)?;
        let turns = obj
            .get("turns")
            .and_then(Value::as_array)
            .ok_or_else(|| MockError::invalid(&format!("{at}.turns"), "an array of turns"))?;
        Ok(Script {
            llm,
            isolate_by: isolation(obj.get("isolateBy"), &format!("{at}.isolateBy"))?,
            turns: turns
                .iter()
                .enumerate()
                .map(|(i, t)| turn(t, i, &format!("{at}.turns[{i}]")))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The session key of `req`.
    pub fn session(&self, req: &Request) -> String {
        let value = match &self.isolate_by {
            None => None,
            Some(Isolation::Header(name)) => header(&req.headers, name).map(String::from),
            Some(Isolation::Query(name)) => query_value(&req.path, name),
            Some(Isolation::Cookie(name)) => cookie_value(req, name),
        };
        value.unwrap_or_else(|| DEFAULT_SESSION.to_string())
    }

    /// The turn answering a request when its session is at `index`.
    pub fn pick(&self, facts: &LlmFacts, index: u64) -> Option<&Turn> {
        self.turns.iter().find(|t| match &t.when {
            When::TurnIndex(n) => *n == index,
            When::ToolResultFor(name) => facts.tool_results.iter().any(|r| r == name),
            When::MessageContains(text) => facts.last_user_text.contains(text.as_str()),
        })
    }
}

fn isolation(v: Option<&Value>, at: &str) -> Result<Option<Isolation>, MockError> {
    let Some(obj) = v.and_then(Value::as_object) else {
        return Ok(None);
    };
    let get = |k: &str| obj.get(k).and_then(Value::as_str).map(String::from);
    if let Some(h) = get("header") {
        return Ok(Some(Isolation::Header(h)));
    }
    if let Some(q) = get("queryParameter") {
        return Ok(Some(Isolation::Query(q)));
    }
    if let Some(c) = get("cookie") {
        return Ok(Some(Isolation::Cookie(c)));
    }
    Err(MockError::invalid(
        at,
        "{\"header\"|\"queryParameter\"|\"cookie\": name}",
    ))
}

fn turn(v: &Value, position: usize, at: &str) -> Result<Turn, MockError> {
    if let Some(obj) = v.as_object() {
        let known = [
            "whenTurnIndex",
            "whenContainsToolResultFor",
            "whenMessageContains",
            "completion",
        ];
        super::fields::only(obj, &known, at)?;
    }
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let when = if let Some(n) = v.get("whenTurnIndex").and_then(Value::as_u64) {
        When::TurnIndex(n)
    } else if let Some(name) = text("whenContainsToolResultFor") {
        When::ToolResultFor(name)
    } else if let Some(t) = text("whenMessageContains") {
        When::MessageContains(t)
    } else {
        When::TurnIndex(position as u64)
    };
    Ok(Turn {
        when,
        completion: completion::completion(v.get("completion"), &format!("{at}.completion"))?,
    })
}

fn query_value(path: &str, name: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn cookie_value(req: &Request, name: &str) -> Option<String> {
    req.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
