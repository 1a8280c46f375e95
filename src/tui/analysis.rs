//! The UI's one door to the parsers: everything the views know about LLM and
//! MCP traffic comes through here, so a parser change touches one file.

use std::sync::Arc;

use crate::exchange::{Exchange, header, is_event_stream};
use crate::filter::Facts;
use crate::llm::{self, Analysis, Changes, Summary};

use super::rows::{Kind, RowInfo, UsageExtras};

/// Analyse one exchange (`None` for traffic that is not LLM or MCP),
/// through the cache the API shares.
pub fn analyse(ex: &Exchange) -> Option<Arc<Analysis>> {
    crate::analyses::analyse(ex)
}

/// Summarise one exchange for the list, the filter and the totals, from
/// its analysis when there is one.
pub fn row_info(ex: &Exchange, analysis: Option<&Analysis>) -> RowInfo {
    match analysis {
        Some(a) => from_summary(ex, &a.summary()),
        None => RowInfo {
            facts: Facts {
                stream: streamed(ex),
                ..Facts::default()
            },
            ..RowInfo::default()
        },
    }
}

/// The row of an exchange the capture task already analysed.
pub fn from_summary(ex: &Exchange, s: &Summary) -> RowInfo {
    let mut tools: Vec<String> = s.tools.to_vec();
    tools.extend(s.mcp_tool.as_deref().map(str::to_string));
    RowInfo {
        kind: if s.kind.is_llm() {
            Kind::Llm
        } else {
            Kind::Mcp
        },
        facts: Facts {
            provider: Some(s.provider.to_string()),
            model: s.model.as_deref().map(str::to_string),
            tools,
            mcp: s.kind == llm::Kind::Mcp,
            stream: s.stream || streamed(ex),
        },
        tokens_in: s.tokens_in,
        tokens_out: s.tokens_out,
        cost: s.cost_usd,
        mcp_method: mcp_label(s),
        thread: None,
    }
}

/// The response is an event stream.
pub(super) fn streamed(ex: &Exchange) -> bool {
    ex.response
        .as_ref()
        .is_some_and(|r| is_event_stream(header(&r.headers, "content-type")))
}

/// `tools/call get_weather`, `initialize`, …
fn mcp_label(s: &Summary) -> Option<String> {
    if s.kind != llm::Kind::Mcp {
        return None;
    }
    let method = s.mcp_method.as_deref().unwrap_or("(reply)");
    Some(match &s.mcp_tool {
        Some(tool) => format!("{method} {tool}"),
        None => method.to_string(),
    })
}

/// What the usage strip shows beyond the list's columns.
pub fn extras(a: &Analysis) -> UsageExtras {
    let u = a.usage;
    let cached = u.is_some_and(|u| u.cache_read_tokens + u.cache_write_tokens > 0);
    let timeline = a.timeline.as_ref();
    let reply = a.reply.as_ref();
    UsageExtras {
        cache_read: u.filter(|_| cached).map(|u| u.cache_read_tokens),
        cache_write: u.filter(|_| cached).map(|u| u.cache_write_tokens),
        reasoning: u.map(|u| u.reasoning_tokens).filter(|r| *r > 0),
        cost_note: a.cost_source.and_then(llm::CostSource::label),
        stop_reason: reply.and_then(|r| r.stop_reason.clone()),
        ttft_us: timeline
            .and_then(|t| t.ttft_ms)
            .map(|ms| (ms * 1000.0).round() as u64),
        tokens_per_sec: timeline.and_then(|t| t.output_tokens_per_s),
        error: reply.and_then(|r| r.error.as_ref()).map(|e| match &e.kind {
            Some(kind) => format!("{kind}: {}", e.message),
            None => e.message.clone(),
        }),
    }
}

/// What changed since the previous turn, in words.
pub fn describe_changes(c: &Changes, first_turn: bool) -> Vec<String> {
    let mut out = Vec::new();
    if first_turn {
        out.push(format!("{} message(s)", c.messages_added));
        return out;
    }
    if c.messages_added > 0 {
        out.push(format!("+{} message(s)", c.messages_added));
    }
    if c.system_changed {
        out.push("system prompt changed".into());
    }
    if c.tools_changed {
        out.push("tools changed".into());
    }
    if c.model_changed {
        out.push("model changed".into());
    }
    if out.is_empty() {
        out.push("no change".into());
    }
    out
}

/// True when a scripted conversation expectation answered this exchange
/// (its response carries the scenario, session and turn headers).
pub fn has_scripted_turns(ex: &Exchange) -> bool {
    crate::mock::scripted::ScriptedTurn::of(ex).is_some()
}

/// The active `httpLlmConversation` expectation of `ex`'s scenario.
pub fn script_of<'a>(
    ex: &Exchange,
    expectations: &'a [serde_json::Value],
) -> Option<&'a serde_json::Value> {
    let turn = crate::mock::scripted::ScriptedTurn::of(ex)?;
    expectations.iter().find(|e| {
        e.get("httpLlmConversation").is_some()
            && e.get("scenarioName").and_then(serde_json::Value::as_str)
                == Some(turn.scenario.as_str())
    })
}

/// The assistant's reply as plain text, for copying.
pub fn assistant_text(ex: &Exchange) -> Option<String> {
    let text = analyse(ex)?.reply.as_ref()?.text();
    (!text.is_empty()).then_some(text)
}
