//! The provider-neutral picture of one LLM exchange: what was asked
//! ([`Conversation`]), what came back ([`Reply`]), what it used ([`Usage`])
//! and how the stream arrived ([`Timeline`]). Every provider parser fills
//! these same types, so views, exports and the API read one shape.

use serde::Serialize;

pub use crate::note::{Note, NoteKind};
pub use crate::usage::{ServerTools, Usage};
use serde_json::Value;

/// Which API an exchange speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Kind {
    #[serde(rename = "anthropic")]
    Anthropic,
    #[serde(rename = "openai_chat")]
    OpenAiChat,
    #[serde(rename = "openai_responses")]
    OpenAiResponses,
    /// The Realtime API: JSON events over a WebSocket.
    #[serde(rename = "openai_realtime")]
    OpenAiRealtime,
    #[serde(rename = "gemini")]
    Gemini,
    #[serde(rename = "ollama")]
    Ollama,
    /// Amazon Bedrock's Converse API (`/model/{id}/converse[-stream]`).
    #[serde(rename = "bedrock_converse")]
    Converse,
    #[serde(rename = "mcp")]
    Mcp,
    #[serde(rename = "other")]
    Other,
}

impl Kind {
    /// The name used in JSON and filters (`openai_chat`, `mcp`, …).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Anthropic => "anthropic",
            Kind::OpenAiChat => "openai_chat",
            Kind::OpenAiResponses => "openai_responses",
            Kind::OpenAiRealtime => "openai_realtime",
            Kind::Gemini => "gemini",
            Kind::Ollama => "ollama",
            Kind::Converse => "bedrock_converse",
            Kind::Mcp => "mcp",
            Kind::Other => "other",
        }
    }

    /// True for the LLM APIs (not MCP, not other traffic).
    pub fn is_llm(self) -> bool {
        !matches!(self, Kind::Mcp | Kind::Other)
    }
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
    },
    /// An image, shown as a placeholder: its type and size or address.
    Image {
        media_type: Option<String>,
        /// Size of inline (base64) data once decoded, approximately.
        bytes: Option<u64>,
        url: Option<String>,
    },
    /// Model reasoning. `redacted` when only an encrypted form was sent.
    Thinking {
        text: String,
        redacted: bool,
    },
    ToolCall(ToolCall),
    ToolResult(ToolResult),
    /// The model declined: its words, kept apart from ordinary text so
    /// views can mark them (OpenAI `refusal`).
    Refusal {
        text: String,
    },
    /// A part this version does not decode (documents, audio, …), by name.
    Other {
        kind: String,
    },
}

/// A request from the model to run a tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as JSON; a string holding the raw text when they were
    /// not valid JSON (e.g. a stream cut mid-way).
    pub arguments: Value,
}

/// The outcome of a tool call, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolResult {
    pub id: String,
    /// Tool name, where the wire format carries it (Gemini, Ollama).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The result flattened to text (non-text parts become placeholders).
    pub content: String,
    pub is_error: bool,
}

/// One turn of the conversation as sent in the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    pub parts: Vec<Part>,
}

impl Message {
    pub fn new(role: impl Into<String>, parts: Vec<Part>) -> Self {
        Message {
            role: role.into(),
            parts,
        }
    }
}

/// A tool the request offered the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolDef {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments, when given.
    pub schema: Option<Value>,
    /// Provider tool type when not a plain function (e.g. `web_search_20250305`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Generation parameters worth showing.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Params {
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    /// The request asked for a streamed reply.
    pub stream: Option<bool>,
    /// Reasoning settings in words (`budget 2048 tokens`, `effort high`).
    pub reasoning: Option<String>,
}

/// Identifiers a client sends that tie turns of one conversation together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ThreadHints {
    /// Anthropic `metadata.user_id` (Claude Code puts a session in it).
    pub user_id: Option<String>,
    /// OpenAI Responses `previous_response_id`.
    pub previous_response_id: Option<String>,
    /// OpenAI Responses `conversation` id, or a session header.
    pub conversation: Option<String>,
    /// The agent's own session key (Claude Code's session id), shared by
    /// its main conversation, sub-agents and side requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// What the request asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Conversation {
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDef>,
    pub params: Params,
    pub hints: ThreadHints,
}

/// An error the API reported, in the HTTP status or inside the stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    pub status: Option<u16>,
    /// Provider error type (`overloaded_error`, `RESOURCE_EXHAUSTED`, …).
    pub kind: Option<String>,
    pub message: String,
    /// True when it arrived inside a stream that had started fine.
    pub mid_stream: bool,
}

/// What came back: the reassembled assistant message and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Reply {
    /// Provider's id for the response (`msg_…`, `chatcmpl-…`, `resp_…`).
    pub id: Option<String>,
    pub parts: Vec<Part>,
    /// As the provider says it (`end_turn`, `tool_calls`, `STOP`, …).
    pub stop_reason: Option<String>,
    pub error: Option<ApiError>,
}

impl Reply {
    /// All text parts joined, refusals included: they are what the
    /// assistant said.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } | Part::Refusal { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// All thinking parts joined.
    pub fn thinking(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Thinking { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.parts.iter().filter_map(|p| match p {
            Part::ToolCall(call) => Some(call),
            _ => None,
        })
    }
}

/// One SSE event or NDJSON line of a streamed reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEvent {
    /// Offset of the event in the (decoded) response body.
    pub offset: u64,
    /// Milliseconds since the first response chunk arrived.
    pub elapsed_ms: Option<f64>,
    /// Event type (`content_block_delta`, `response.output_text.delta`, …).
    pub kind: String,
    /// One line saying what it carried.
    pub summary: String,
}

/// How a streamed reply arrived.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timeline {
    pub events: Vec<TimelineEvent>,
    /// From the end of the request to the first output token, in ms.
    pub ttft_ms: Option<f64>,
    /// Output tokens per second between the first and last output token.
    pub output_tokens_per_s: Option<f64>,
    /// Longest pause between two response chunks, in ms.
    pub largest_gap_ms: Option<f64>,
    /// When that pause ended, ms since the first chunk.
    pub largest_gap_at_ms: Option<f64>,
    /// True when times are estimates (e.g. a compressed stream).
    pub approximate: bool,
}
