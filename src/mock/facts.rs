//! What an LLM request says, reduced to what replay matching compares:
//! the API, the model, whether it streams, and the conversation with the
//! volatile parts (ids) taken out. Computed once per request, on demand.

use std::cell::OnceCell;

use serde_json::Value;

use crate::exchange::{Exchange, Request, State, Via};
use crate::llm::{self, Kind, Part};

/// The comparable picture of one LLM request.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmFacts {
    pub kind: Kind,
    pub model: Option<String>,
    pub stream: bool,
    /// `{"system": …, "messages": […]}` without ids.
    pub conversation: Value,
    /// Names of the tools whose results the last message carries.
    pub tool_results: Vec<String>,
    /// Text of the last user message.
    pub last_user_text: String,
    pub message_count: usize,
}

/// Lazily analysed request, shared by every expectation tested against it.
#[derive(Debug)]
pub struct RequestFacts<'a> {
    pub request: &'a Request,
    llm: OnceCell<Option<LlmFacts>>,
}

impl<'a> RequestFacts<'a> {
    pub fn new(request: &'a Request) -> Self {
        RequestFacts {
            request,
            llm: OnceCell::new(),
        }
    }

    /// The LLM facts, or `None` when the request is not an LLM call.
    pub fn llm(&self) -> Option<&LlmFacts> {
        self.llm.get_or_init(|| of_request(self.request)).as_ref()
    }
}

/// A request on its own, as the analysers expect an exchange.
pub fn synthetic_exchange(request: &Request) -> Exchange {
    Exchange::builder()
        .id(0)
        .via(Via::Other)
        .request(request.clone())
        .state(State::InFlight)
        .build()
}

fn of_request(request: &Request) -> Option<LlmFacts> {
    let analysis = llm::analyse(&synthetic_exchange(request))?;
    if !analysis.kind.is_llm() {
        return None;
    }
    let conv = &analysis.request;
    let stream = match (analysis.kind, conv.params.stream) {
        // Ollama streams unless told not to.
        (Kind::Ollama, None) => true,
        (_, s) => s.unwrap_or(false) || analysis.stream,
    };
    let mut conversation = serde_json::json!({
        "system": conv.system,
        "messages": serde_json::to_value(&conv.messages).unwrap_or(Value::Null),
    });
    strip_ids(&mut conversation);
    Some(LlmFacts {
        kind: analysis.kind,
        model: analysis.model.clone(),
        stream,
        conversation,
        tool_results: tool_results(conv),
        last_user_text: last_user_text(conv),
        message_count: conv.messages.len(),
    })
}

/// Tool-call ids are minted per run; a replayed conversation must not
/// depend on them.
fn strip_ids(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("id");
            map.values_mut().for_each(strip_ids);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        _ => {}
    }
}

/// Tool names of the results in the last message; Anthropic and OpenAI
/// results carry only the call id, so the name comes from the call.
fn tool_results(conv: &llm::Conversation) -> Vec<String> {
    let Some(last) = conv.messages.last() else {
        return Vec::new();
    };
    let name_of = |id: &str| {
        conv.messages
            .iter()
            .flat_map(|m| &m.parts)
            .find_map(|p| match p {
                Part::ToolCall(c) if c.id == id => Some(c.name.clone()),
                _ => None,
            })
    };
    last.parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult(r) => r.name.clone().or_else(|| name_of(&r.id)),
            _ => None,
        })
        .collect()
}

fn last_user_text(conv: &llm::Conversation) -> String {
    conv.messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| {
            m.parts
                .iter()
                .filter_map(|p| match p {
                    Part::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}
