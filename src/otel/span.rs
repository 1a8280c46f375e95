//! One finished exchange as one OpenTelemetry span, in the GenAI and MCP
//! semantic conventions' vocabulary. Pure: ids and the parent come in, a
//! `SpanData` goes out; nothing here sends anything.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_semantic_conventions::attribute as semconv;

use super::content;
use crate::exchange::{Exchange, State};
use crate::llm::{Analysis, Kind};

/// Where a span sits: its ids and, for an MCP call made for an LLM turn,
/// that turn's span as parent.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent: Option<SpanId>,
}

/// `gen_ai.operation.name` for the API an exchange speaks.
pub fn operation(kind: Kind, path: &str) -> &'static str {
    match kind {
        Kind::Gemini => "generate_content",
        Kind::Ollama if path.starts_with("/api/generate") => "text_completion",
        Kind::OpenAiChat if path.contains("/completions") && !path.contains("/chat/") => {
            "text_completion"
        }
        _ => "chat",
    }
}

/// `gen_ai.provider.name`: the API's provider in the conventions' names,
/// whoever serves it (`anthropic` for the Messages API on any host; the
/// host itself is `server.address`).
pub fn provider_name(kind: Kind, provider: &str) -> &'static str {
    match (kind, provider) {
        (_, "bedrock") => "aws.bedrock",
        (_, "vertex") => "gcp.vertex_ai",
        (_, "azure") => "azure.ai.openai",
        (Kind::Anthropic, _) => "anthropic",
        (Kind::OpenAiChat | Kind::OpenAiResponses | Kind::OpenAiRealtime, _) => "openai",
        (Kind::Gemini, _) => "gcp.gemini",
        (Kind::Ollama, _) => "ollama",
        _ => "unknown",
    }
}

fn at(ex: &Exchange, us: Option<u64>) -> SystemTime {
    let start: SystemTime = ex.started_at.into();
    start + Duration::from_micros(us.unwrap_or(0))
}

/// The error type of a failed exchange or an error reply, if any.
fn error_type(ex: &Exchange, analysis: &Analysis) -> Option<String> {
    if let State::Failed(f) = &ex.state {
        return serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
    }
    let status = ex.response.as_ref().map(|r| r.status).unwrap_or(0);
    if status >= 400 {
        return Some(status.to_string());
    }
    let api_error = analysis.reply.as_ref().and_then(|r| r.error.as_ref());
    api_error.map(|e| e.kind.clone().unwrap_or_else(|| "api_error".into()))
}

fn status_of(ex: &Exchange, error: &Option<String>) -> Status {
    match (error, &ex.state) {
        (None, _) => Status::Unset,
        (Some(_), State::Failed(f)) => Status::error(f.message.clone()),
        (Some(kind), _) => Status::error(kind.clone()),
    }
}

/// `server.address`, `server.port`, the exchange's id, and where it came from.
fn common(ex: &Exchange) -> Vec<KeyValue> {
    let mut attrs = vec![
        KeyValue::new(semconv::SERVER_ADDRESS, ex.request.host.clone()),
        KeyValue::new(semconv::SERVER_PORT, i64::from(ex.request.port)),
        KeyValue::new("llmspy.exchange.id", ex.id as i64),
    ];
    // The program that sent it (`llmspy run`'s name, or the socket's owner).
    if let Some(app) = &ex.client_app {
        attrs.push(KeyValue::new("llmspy.client", app.clone()));
    }
    if let Some(addr) = &ex.client_addr {
        let ip = addr.rsplit_once(':').map_or(addr.as_str(), |(ip, _)| ip);
        attrs.push(KeyValue::new(
            semconv::CLIENT_ADDRESS,
            ip.trim_matches(['[', ']']).to_string(),
        ));
    }
    attrs
}

fn span(
    ex: &Exchange,
    place: Placement,
    name: String,
    attributes: Vec<KeyValue>,
    events: Vec<opentelemetry::trace::Event>,
    status: Status,
) -> SpanData {
    let mut span_events = SpanEvents::default();
    span_events.events = events;
    SpanData {
        span_context: SpanContext::new(
            place.trace_id,
            place.span_id,
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: place.parent.unwrap_or(SpanId::INVALID),
        parent_span_is_remote: false,
        span_kind: SpanKind::Client,
        name: Cow::Owned(name),
        start_time: at(ex, Some(0)),
        end_time: at(ex, ex.timings.end_us),
        attributes,
        dropped_attributes_count: 0,
        events: span_events,
        links: SpanLinks::default(),
        status,
        instrumentation_scope: scope(),
    }
}

pub fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("llmspy")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// An LLM call: `chat claude-sonnet-4-5`, kind CLIENT.
pub fn llm_span(
    ex: &Exchange,
    analysis: &Analysis,
    request_model: Option<&str>,
    conversation: Option<&str>,
    place: Placement,
    content: Option<&Analysis>,
) -> SpanData {
    let op = operation(analysis.kind, &ex.request.path);
    let mut attrs = vec![
        KeyValue::new(semconv::GEN_AI_OPERATION_NAME, op),
        KeyValue::new(
            semconv::GEN_AI_PROVIDER_NAME,
            provider_name(analysis.kind, analysis.provider),
        ),
        KeyValue::new("llmspy.api", analysis.provider),
        KeyValue::new("llmspy.stream", analysis.stream),
    ];
    let request_model = request_model.or(analysis.model.as_deref());
    if let Some(m) = request_model {
        attrs.push(KeyValue::new(semconv::GEN_AI_REQUEST_MODEL, m.to_string()));
    }
    if let Some(m) = &analysis.model {
        attrs.push(KeyValue::new(semconv::GEN_AI_RESPONSE_MODEL, m.clone()));
    }
    if let Some(c) = conversation {
        attrs.push(KeyValue::new(
            semconv::GEN_AI_CONVERSATION_ID,
            c.to_string(),
        ));
    }
    attrs.extend(request_params(analysis));
    attrs.extend(reply_attrs(analysis));
    attrs.extend(usage_attrs(analysis));
    attrs.extend(common(ex));
    let error = error_type(ex, analysis);
    if let Some(e) = &error {
        attrs.push(KeyValue::new(semconv::ERROR_TYPE, e.clone()));
    }
    if let Some(a) = content {
        attrs.extend(content::attributes(a));
    }
    let mut events = Vec::new();
    if let Some(first) = ex.timings.first_byte_us.filter(|_| analysis.stream) {
        attrs.push(KeyValue::new(
            "llmspy.time_to_first_chunk_ms",
            first as f64 / 1000.0,
        ));
        events.push(opentelemetry::trace::Event::new(
            "llmspy.first_chunk",
            at(ex, Some(first)),
            vec![],
            0,
        ));
    }
    let name = match request_model {
        Some(m) => format!("{op} {m}"),
        None => op.to_string(),
    };
    let status = status_of(ex, &error);
    span(ex, place, name, attrs, events, status)
}

fn request_params(analysis: &Analysis) -> Vec<KeyValue> {
    let p = &analysis.request.params;
    let mut out = Vec::new();
    if let Some(v) = p.max_tokens {
        out.push(KeyValue::new(semconv::GEN_AI_REQUEST_MAX_TOKENS, v as i64));
    }
    if let Some(v) = p.temperature {
        out.push(KeyValue::new(semconv::GEN_AI_REQUEST_TEMPERATURE, v));
    }
    if let Some(v) = p.top_p {
        out.push(KeyValue::new(semconv::GEN_AI_REQUEST_TOP_P, v));
    }
    out
}

fn reply_attrs(analysis: &Analysis) -> Vec<KeyValue> {
    let Some(reply) = &analysis.reply else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(id) = &reply.id {
        out.push(KeyValue::new(semconv::GEN_AI_RESPONSE_ID, id.clone()));
    }
    if let Some(stop) = &reply.stop_reason {
        out.push(KeyValue::new(
            semconv::GEN_AI_RESPONSE_FINISH_REASONS,
            opentelemetry::Value::Array(opentelemetry::Array::String(vec![stop.clone().into()])),
        ));
    }
    out
}

fn usage_attrs(analysis: &Analysis) -> Vec<KeyValue> {
    let mut out = Vec::new();
    if let Some(u) = &analysis.usage {
        out.push(KeyValue::new(
            semconv::GEN_AI_USAGE_INPUT_TOKENS,
            u.input_tokens as i64,
        ));
        out.push(KeyValue::new(
            semconv::GEN_AI_USAGE_OUTPUT_TOKENS,
            u.output_tokens as i64,
        ));
        for (key, value) in [
            (
                semconv::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                u.cache_read_tokens,
            ),
            (
                semconv::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                u.cache_write_tokens,
            ),
            (
                semconv::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
                u.reasoning_tokens,
            ),
        ] {
            if value > 0 {
                out.push(KeyValue::new(key, value as i64));
            }
        }
    }
    if let Some(cost) = analysis.cost {
        out.push(KeyValue::new("llmspy.cost_usd", cost));
    }
    out
}

/// An MCP call: `tools/call get_weather`, kind CLIENT.
pub fn mcp_span(ex: &Exchange, analysis: &Analysis, place: Placement) -> SpanData {
    let call = analysis.mcp.as_ref();
    let method = call
        .and_then(|c| c.method.clone())
        .unwrap_or_else(|| "mcp".into());
    let mut attrs = vec![KeyValue::new(semconv::MCP_METHOD_NAME, method.clone())];
    let tool = call.and_then(|c| c.tool.clone());
    if let Some(t) = &tool {
        attrs.push(KeyValue::new(semconv::GEN_AI_TOOL_NAME, t.clone()));
        attrs.push(KeyValue::new(
            semconv::GEN_AI_OPERATION_NAME,
            "execute_tool",
        ));
    }
    if let Some(c) = call {
        if let Some(s) = &c.session_id {
            attrs.push(KeyValue::new(semconv::MCP_SESSION_ID, s.clone()));
        }
        if let Some(v) = &c.protocol_version {
            attrs.push(KeyValue::new(semconv::MCP_PROTOCOL_VERSION, v.clone()));
        }
        if let Some(id) = &c.id {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_string);
            attrs.push(KeyValue::new(semconv::JSONRPC_REQUEST_ID, id));
        }
        if let Some(e) = &c.error {
            attrs.push(KeyValue::new(
                semconv::RPC_RESPONSE_STATUS_CODE,
                e.code.to_string(),
            ));
        }
    }
    attrs.extend(common(ex));
    let error = match (&ex.state, call) {
        (State::Failed(_), _) => error_type(ex, analysis),
        (_, Some(c)) if c.error.is_some() => Some(
            c.error
                .as_ref()
                .map_or_else(|| "error".into(), |e| e.code.to_string()),
        ),
        (_, Some(c)) if c.is_error => Some("tool_error".into()),
        _ => error_type(ex, analysis),
    };
    if let Some(e) = &error {
        attrs.push(KeyValue::new(semconv::ERROR_TYPE, e.clone()));
    }
    let name = match &tool {
        Some(t) => format!("{method} {t}"),
        None => method,
    };
    let status = status_of(ex, &error);
    span(ex, place, name, attrs, Vec::new(), status)
}
