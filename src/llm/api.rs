//! The outward forms of an [`Analysis`]: the retrieve API's `llm` object,
//! the full conversation document, and a cheap [`Summary`] for list rows
//! and log lines.

use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::Analysis;
use super::model::{Kind, Part, Usage};
use super::threads::{ThreadId, ThreadInfo};
use crate::mcp::McpCall;

/// Notes saying the body itself is cut (not the exchange's own state).
fn gaps_in_body(notes: &[super::Note]) -> bool {
    notes.iter().any(|n| n.kind == super::NoteKind::Truncated)
}

impl Analysis {
    /// A streamed reply whose provider sent its closing event (a stop
    /// reason, and nothing missing or cut). Clients such as the OpenAI SDK
    /// hang up as soon as they read `[DONE]`, sometimes before the
    /// upstream's final chunk: such an exchange is complete, not failed.
    /// An MCP exchange counts when every JSON-RPC request it carried got
    /// its response.
    pub fn stream_reached_end(&self) -> bool {
        let ended = self
            .reply
            .as_ref()
            .is_some_and(|r| r.stop_reason.is_some() || r.error.is_some());
        let gaps = self.notes.iter().any(|n| {
            matches!(
                n.kind,
                super::NoteKind::Incomplete | super::NoteKind::Truncated
            )
        });
        if let Some(m) = &self.mcp {
            // An MCP reply stream is done once every request in it has its
            // response (the SDK hangs up right after); a listening GET
            // stream answers no request and is closed by its client.
            let answered = m
                .pairs
                .iter()
                .all(|p| p.result.is_some() || p.error.is_some());
            return answered && !gaps_in_body(&self.notes);
        }
        self.stream && ended && !gaps
    }

    /// The `llm` object of the retrieve API. `thread` comes from a
    /// [`super::ThreadTracker`]; pass `None` when not tracked.
    pub fn api_json(&self, thread: Option<ThreadId>) -> Value {
        let reply = self.reply.as_ref();
        let tool_calls: Vec<Value> = reply
            .into_iter()
            .flat_map(|r| r.tool_calls())
            .map(|c| json!({"id": c.id, "name": c.name, "arguments": c.arguments}))
            .collect();
        let mut out = json!({
            "kind": self.kind.label(),
            "provider": self.provider,
            "model": self.model,
            "region": self.region,
            "stream": self.stream,
            "usage": self.usage.map(usage_json),
            "cost_usd": self.cost,
            "cost_source": self.cost_source,
            "stop_reason": reply.and_then(|r| r.stop_reason.clone()),
            "assistant_text": reply.map(|r| r.text()),
            "tool_calls": tool_calls,
            "error": reply.and_then(|r| r.error.as_ref()),
            "thread": thread,
        });
        if let (Some(mcp), Some(obj)) = (&self.mcp, out.as_object_mut()) {
            obj.insert("mcp".to_string(), mcp_json(mcp));
            obj.insert("error".to_string(), mcp_error_json(mcp));
        }
        out
    }

    /// The whole decoded exchange — conversation, reply, usage, cost,
    /// timeline, MCP messages, notes — plus its thread, for
    /// `retrieve?type=CONVERSATION`.
    pub fn conversation_json(&self, thread: Option<&ThreadInfo>) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("thread".to_string(), json!(thread));
        }
        v
    }

    /// A small copy for list rows and log lines.
    pub fn summary(&self) -> Summary {
        let reply = self.reply.as_ref();
        let mut tools: Vec<String> = self.request.tools.iter().map(|t| t.name.clone()).collect();
        for call in reply.into_iter().flat_map(|r| r.tool_calls()) {
            if !tools.contains(&call.name) {
                tools.push(call.name.clone());
            }
        }
        let mcp = self.mcp.as_ref();
        Summary {
            kind: self.kind,
            provider: self.provider,
            model: self.model.as_deref().map(Arc::from),
            stream: self.stream,
            tokens_in: self.usage.map(|u| u.input_tokens),
            tokens_out: self.usage.map(|u| u.output_tokens),
            cost_usd: self.cost,
            stop_reason: reply.and_then(|r| r.stop_reason.as_deref()).map(Arc::from),
            error: reply.is_some_and(|r| r.error.is_some()) || mcp.is_some_and(|m| m.is_error),
            tools: tools.into(),
            mcp_method: mcp.and_then(|m| m.method.as_deref()).map(Arc::from),
            mcp_tool: mcp.and_then(|m| m.tool.as_deref()).map(Arc::from),
            thinking: reply
                .is_some_and(|r| r.parts.iter().any(|p| matches!(p, Part::Thinking { .. }))),
        }
    }
}

fn usage_json(u: Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_tokens": u.cache_read_tokens,
        "cache_write_tokens": u.cache_write_tokens,
        "reasoning_tokens": u.reasoning_tokens,
    })
}

fn mcp_json(mcp: &McpCall) -> Value {
    json!({
        "method": mcp.method,
        "id": mcp.id,
        "tool": mcp.tool,
        "is_error": mcp.is_error,
        "session_id": mcp.session_id,
        "server": mcp.server,
    })
}

/// The same shape as an LLM error, with the JSON-RPC code as `kind`.
fn mcp_error_json(mcp: &McpCall) -> Value {
    let error = mcp.error.as_ref().map(|e| {
        json!({
            "status": mcp.http_status,
            "kind": e.code.to_string(),
            "message": e.message,
            "mid_stream": false,
        })
    });
    json!(error)
}

/// What a list row or a log line shows of an analysed exchange. Cloning
/// copies a few pointers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub kind: Kind,
    pub provider: &'static str,
    #[serde(serialize_with = "opt_str")]
    pub model: Option<Arc<str>>,
    pub stream: bool,
    pub tokens_in: Option<u64>,
    pub tokens_out: Option<u64>,
    /// `None` when unknown (never 0 for unknown).
    pub cost_usd: Option<f64>,
    #[serde(serialize_with = "opt_str")]
    pub stop_reason: Option<Arc<str>>,
    /// The API or MCP server reported an error.
    pub error: bool,
    /// Tools the request offered or the reply called.
    #[serde(serialize_with = "strs")]
    pub tools: Arc<[String]>,
    #[serde(serialize_with = "opt_str")]
    pub mcp_method: Option<Arc<str>>,
    #[serde(serialize_with = "opt_str")]
    pub mcp_tool: Option<Arc<str>>,
    /// The reply included reasoning.
    pub thinking: bool,
}

fn opt_str<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
    v.as_deref().serialize(s)
}

fn strs<S: Serializer>(v: &Arc<[String]>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().serialize(s)
}

impl Summary {
    /// One line for the headless log, e.g.
    /// `anthropic claude-sonnet-4-5 1.2k→345 tok $0.0123 end_turn`.
    pub fn log_line(&self) -> String {
        if self.kind == Kind::Mcp {
            let method = self.mcp_method.as_deref().unwrap_or("mcp");
            let tool = self
                .mcp_tool
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default();
            let error = if self.error { " error" } else { "" };
            return format!("mcp {method}{tool}{error}");
        }
        let mut out = format!("{} {}", self.provider, self.model.as_deref().unwrap_or("?"));
        if let (Some(i), Some(o)) = (self.tokens_in, self.tokens_out) {
            out.push_str(&format!(" {}→{} tok", tokens(i), tokens(o)));
        }
        out.push_str(&match self.cost_usd {
            Some(c) => format!(" ${c:.4}"),
            None => " $?".to_string(),
        });
        if let Some(reason) = &self.stop_reason {
            out.push(' ');
            out.push_str(reason);
        }
        if self.error {
            out.push_str(" error");
        }
        out
    }
}

/// `950`, `1.2k`, `12k`, `1.3M`.
fn tokens(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..10_000 => format!("{:.1}k", n as f64 / 1_000.0),
        10_000..1_000_000 => format!("{}k", n / 1_000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts_read_short() {
        let cases = [
            (950, "950"),
            (1_234, "1.2k"),
            (45_678, "45k"),
            (1_250_000, "1.2M"),
        ];
        for (n, want) in cases {
            assert_eq!(tokens(n), want);
        }
    }
}
