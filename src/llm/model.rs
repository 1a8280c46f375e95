//! The provider-neutral picture of one LLM exchange: what was asked
//! ([`Conversation`]), what came back ([`Reply`]), what it used ([`Usage`])
//! and how the stream arrived ([`Timeline`]). Every provider parser fills
//! these same types, so views, exports and the API read one shape.

use serde::Serialize;
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
    #[serde(rename = "gemini")]
    Gemini,
    #[serde(rename = "ollama")]
    Ollama,
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
            Kind::Gemini => "gemini",
            Kind::Ollama => "ollama",
            Kind::Mcp => "mcp",
            Kind::Other => "other",
        }
    }

    /// True for the LLM APIs (not MCP, not other traffic).
    pub fn is_llm(self) -> bool {
        !matches!(self, Kind::Mcp | Kind::Other)
    }
}

/// Token counts, normalised across providers.
///
/// The top-level counts are totals and the others are parts of them:
/// `input_tokens` is every prompt token the model read, *including*
/// `cache_read_tokens` and `cache_write_tokens`; `output_tokens` is every
/// generated token, *including* `reasoning_tokens`. Providers differ on the
/// wire — Anthropic reports `input_tokens` *without* the cached ones
/// (`cache_read_input_tokens` and `cache_creation_input_tokens` come on
/// top), OpenAI reports `prompt_tokens` *with* `cached_tokens` inside,
/// Gemini reports `thoughtsTokenCount` *beside* `candidatesTokenCount` —
/// and each parser converts to this one convention. Pricing then charges
/// `input_tokens - cache_read_tokens - cache_write_tokens` at the input
/// price and each part at its own price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// The part of `cache_write_tokens` written with a one-hour TTL
    /// (Anthropic), priced higher than the default five minutes.
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_1h_tokens: u64,
    pub reasoning_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Usage {
    /// Prompt tokens neither read from nor written to a cache.
    pub fn uncached_input(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
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
    /// All text parts joined.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text.as_str()),
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

/// Why a result is partial or approximate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// The capture cap cut the body.
    Truncated,
    /// The body ended before the stream or document was complete.
    Incomplete,
    /// Something did not parse (JSON, an event).
    Malformed,
    /// An event or block type this version does not know; skipped.
    Unknown,
    /// Content-encoding could not be removed, or times are estimates.
    Approximate,
}

/// A remark about how complete or exact an analysis is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub kind: NoteKind,
    pub message: String,
}

impl Note {
    pub fn new(kind: NoteKind, message: impl Into<String>) -> Self {
        Note {
            kind,
            message: message.into(),
        }
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
