//! What an LLM or MCP exchange says, in one provider-neutral shape.
//!
//! [`detect`] recognises the API (Anthropic Messages, OpenAI Chat
//! Completions and Responses, Gemini, Ollama, MCP JSON-RPC) from the path
//! and the bodies' shape. [`analyse`] decodes content-encoding, parses the
//! request and the reply — plain or streamed — and returns the
//! [`Conversation`], the reassembled [`Reply`], the [`Usage`], its cost,
//! the stream [`Timeline`] and notes on anything partial or malformed.
//! [`threads::ThreadTracker`] groups exchanges into conversations.
//!
//! Pure functions of a captured exchange: no IO, no async, never a panic
//! on bad input, and never a failed exchange — only partial results with
//! notes saying what is missing.

mod anthropic;
mod anthropic_stream;
mod api;
mod bedrock;
mod body;
mod converse;
mod converse_stream;
mod cost;
mod detect;
mod gemini;
mod model;
mod ollama;
mod openai_chat;
mod openai_responses;
#[cfg(test)]
mod proptests;
mod realtime;
mod responses_items;
mod responses_stream;
mod session_key;
mod stitch;
pub mod threads;
mod timeline;
mod value;

use serde::Serialize;

pub use api::Summary;
pub use cost::CostSource;
pub use model::{
    ApiError, Conversation, Kind, Message, Note, NoteKind, Params, Part, Reply, ServerTools,
    ThreadHints, Timeline, TimelineEvent, ToolCall, ToolDef, ToolResult, Usage,
};
pub use threads::{Changes, ThreadId, ThreadInfo, ThreadTracker};

use crate::exchange::Exchange;
use crate::mcp::McpCall;
use crate::pricing::{Cost, PriceTable};
use body::{Format, Input, http_error};
use timeline::StreamEvent;

/// Everything llmspy understood about one LLM or MCP exchange.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub kind: Kind,
    /// `anthropic`, `openai`, `azure`, `openrouter`, `google`, `vertex`,
    /// `ollama`, `mcp`, … or `<family>-compatible` for unknown hosts.
    pub provider: &'static str,
    /// The model that answered, else the one asked for.
    pub model: Option<String>,
    /// The cloud region serving it (Bedrock, Vertex AI), from the host or path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The reply was (or was asked to be) streamed.
    pub stream: bool,
    pub request: Conversation,
    pub reply: Option<Reply>,
    pub usage: Option<Usage>,
    /// USD: the provider's own figure when it reports one (OpenRouter,
    /// LiteLLM), else estimated from the price list. `None` when the model
    /// or usage is unknown — never 0 for unknown; 0 for local servers.
    pub cost: Option<f64>,
    /// Where `cost` came from.
    pub cost_source: Option<CostSource>,
    pub cost_breakdown: Option<Cost>,
    /// For streamed replies: when each event arrived.
    pub timeline: Option<Timeline>,
    pub mcp: Option<McpCall>,
    pub notes: Vec<Note>,
}

/// What a provider parser produced.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub request: Conversation,
    pub model: Option<String>,
    pub reply: Option<Reply>,
    pub usage: Option<Usage>,
    pub events: Vec<StreamEvent>,
    pub notes: Vec<Note>,
    /// Cost the provider itself reported (OpenRouter's `usage.cost`).
    pub reported_cost: Option<f64>,
}

/// Which API `ex` speaks. Told from the head alone when it plainly is
/// none (most requests without a body), before decoding anything.
pub fn detect(ex: &Exchange) -> Kind {
    if plainly_other(ex) {
        return Kind::Other;
    }
    detect::kind(&Input::new(ex))
}

/// True when `ex` is surely neither LLM nor MCP traffic, known without
/// decoding or parsing anything (most requests without a body).
pub fn plainly_other(ex: &Exchange) -> bool {
    detect::plainly_other(ex)
}

/// Analyse `ex` with the active price list; `None` for other traffic.
pub fn analyse(ex: &Exchange) -> Option<Analysis> {
    analyse_with(ex, &crate::pricing::active())
}

/// Analyse `ex`, costing it with `prices`.
pub fn analyse_with(ex: &Exchange, prices: &PriceTable) -> Option<Analysis> {
    if plainly_other(ex) {
        return None;
    }
    let input = Input::new(ex);
    match detect::kind(&input) {
        Kind::Other => None,
        Kind::Mcp => Some(mcp_analysis(input)),
        kind => Some(llm_analysis(input, kind, prices)),
    }
}

fn llm_analysis(input: Input, kind: Kind, prices: &PriceTable) -> Analysis {
    let mut parsed = parse(&input, kind);
    let hints = &mut parsed.request.hints;
    hints.session = session_key::session_key(&input.ex.request.headers, hints.user_id.as_deref());
    let provider = detect::provider(&input, kind);
    let model = parsed
        .model
        .clone()
        .or_else(|| detect::path_model(&input.ex.request.path));
    let cost_breakdown = parsed
        .usage
        .zip(model.as_deref())
        .and_then(|(u, m)| prices.cost(m, &u));
    let (cost, cost_source) = cost::choose(
        &input,
        provider,
        parsed.reported_cost,
        cost_breakdown.as_ref(),
        parsed.usage.is_some(),
    );
    let stream = is_stream(&input, &parsed);
    let timeline = stream_timeline(&input, &parsed);
    let mut notes = input.notes;
    notes.extend(parsed.notes);
    Analysis {
        kind,
        provider,
        model,
        region: bedrock::region(&input.ex.request.host, &input.path),
        stream,
        request: parsed.request,
        reply: parsed.reply,
        usage: parsed.usage,
        cost,
        cost_source,
        cost_breakdown,
        timeline,
        mcp: None,
        notes,
    }
}

/// Run the provider parser for `kind` over request and response.
fn parse(input: &Input, kind: Kind) -> Parsed {
    if kind == Kind::OpenAiRealtime {
        return realtime::parse(input.ex);
    }
    let mut out = Parsed::default();
    if let Some(req) = &input.request {
        out.request = match kind {
            Kind::Anthropic => anthropic::request(req),
            Kind::OpenAiChat => openai_chat::request(req),
            Kind::OpenAiResponses => openai_responses::request(req),
            Kind::Gemini => gemini::request(req, &input.path),
            Kind::Ollama => ollama::request(req, &input.path),
            Kind::Converse => converse::request(req, &input.path),
            Kind::OpenAiRealtime | Kind::Mcp | Kind::Other => Default::default(),
        };
        out.model = value::string_at(req, "model");
    }
    let Some(resp) = &input.response else {
        return out;
    };
    if resp.is_error() {
        out.reply = Some(Reply {
            error: Some(http_error(resp)),
            ..Reply::default()
        });
        return out;
    }
    let eventstream = resp.content_type.contains("amazon.eventstream");
    match kind {
        Kind::Anthropic if eventstream => bedrock::invoke_stream(&resp.body, &mut out),
        Kind::Anthropic => anthropic::reply(resp, &mut out),
        Kind::Converse => converse::reply(resp, &mut out),
        Kind::OpenAiChat => openai_chat::reply(resp, &mut out),
        Kind::OpenAiResponses => openai_responses::reply(resp, &mut out),
        Kind::Gemini => gemini::reply(resp, &mut out),
        Kind::Ollama => ollama::reply(resp, &mut out),
        Kind::OpenAiRealtime | Kind::Mcp | Kind::Other => {}
    }
    if eventstream && !matches!(kind, Kind::Anthropic | Kind::Converse) {
        let note = "an event stream for this API is not decoded: only the request is shown";
        out.notes.push(Note::new(NoteKind::Unknown, note));
    }
    out
}

fn is_stream(input: &Input, parsed: &Parsed) -> bool {
    let framed = input.response.as_ref().is_some_and(|r| {
        matches!(r.format(), Format::Sse | Format::Ndjson)
            || r.content_type.contains("amazon.eventstream")
    });
    framed
        || input.ex.is_websocket()
        || parsed.request.params.stream == Some(true)
        || input.path.contains(":streamgeneratecontent")
        || input.path.ends_with("/invoke-with-response-stream")
}

fn stream_timeline(input: &Input, parsed: &Parsed) -> Option<Timeline> {
    let resp = input.response.as_ref()?;
    if parsed.events.is_empty() {
        return None;
    }
    let output = parsed.usage.map(|u| u.output_tokens);
    Some(timeline::build(
        input.ex,
        resp.arrivals(input.ex),
        &parsed.events,
        output,
    ))
}

fn mcp_analysis(input: Input) -> Analysis {
    let decoded = crate::mcp::decode_parts(
        input.ex,
        input.request.as_ref(),
        input.response.as_ref().map(|r| crate::mcp::Reply {
            status: r.status,
            content_type: &r.content_type,
            body: &r.body,
        }),
    );
    let events: Vec<StreamEvent> = decoded
        .events
        .iter()
        .map(|e| StreamEvent::new(e.offset, e.end, e.kind.clone(), e.summary.clone()))
        .collect();
    let timeline = input
        .response
        .as_ref()
        .filter(|_| !events.is_empty())
        .map(|r| timeline::build(input.ex, r.arrivals(input.ex), &events, None));
    let stream = input
        .response
        .as_ref()
        .is_some_and(|r| r.format() == Format::Sse);
    let mut notes = input.notes;
    notes.extend(decoded.notes);
    Analysis {
        kind: Kind::Mcp,
        provider: "mcp",
        model: None,
        region: None,
        stream,
        request: Conversation::default(),
        reply: None,
        usage: None,
        cost: None,
        cost_source: None,
        cost_breakdown: None,
        timeline,
        mcp: Some(decoded.call),
        notes,
    }
}
