//! Which API an exchange speaks, from its path and the shape of its bodies
//! (never the host alone, so OpenAI-compatible servers, gateways and MCP
//! servers anywhere are recognised), and who is serving it.

use serde_json::Value;

use crate::exchange::{Exchange, header, is_event_stream};

use super::body::{Format, Input, sse_json};
use super::model::Kind;
use super::value::str_at;

/// True when `ex` cannot be LLM or MCP traffic, decided from its head alone:
/// without a request body no API call is recognised ([`kind`] needs one
/// for every path and shape) except a WebSocket session, an MCP session
/// header, or an MCP server's event stream answering a GET.
pub(crate) fn plainly_other(ex: &Exchange) -> bool {
    // Cheapest first: each later test reads memory of its own.
    let event_stream = || {
        ex.response
            .as_ref()
            .is_some_and(|r| is_event_stream(header(&r.headers, "content-type")))
    };
    ex.request.body.bytes.is_empty()
        && !ex.is_websocket()
        && header(&ex.request.headers, "mcp-session-id").is_none()
        && !(event_stream() && ex.request.method == "GET")
}

/// Recognise the API of an already-decoded exchange.
pub(crate) fn kind(input: &Input) -> Kind {
    if super::realtime::looks_like(input.ex) {
        return Kind::OpenAiRealtime;
    }
    if crate::mcp::looks_like_mcp(input.ex, input.request.as_ref()) {
        return Kind::Mcp;
    }
    if let Some(kind) = by_path(input) {
        return kind;
    }
    by_shape(input).unwrap_or(Kind::Other)
}

/// A path an API is served at, confirmed by a POST body of the right
/// shape. A body that did not parse (cut at the cap, say) is given the
/// benefit of the doubt; no body at all is not an API call.
fn by_path(input: &Input) -> Option<Kind> {
    let path = input.path.as_str();
    let candidate = path_kind(path)?;
    if input.method() != "POST" || input.ex.request.body.bytes.is_empty() {
        return None;
    }
    let body = input.request.as_ref();
    let has = |key: &str| body.is_none_or(|b| b.get(key).is_some());
    // Azure names the model in the path, Vertex and Bedrock Claude too.
    let model_in_path = path.contains("/deployments/") || path.contains("/publishers/");
    let named = has("model") || has("anthropic_version") || model_in_path;
    let confirmed = match candidate {
        Kind::Anthropic => chat_shaped(body) && named,
        // llama.cpp and other local servers accept requests without a model.
        Kind::OpenAiChat => chat_shaped(body),
        Kind::OpenAiResponses => has("input") || has("model"),
        Kind::Gemini => has("contents"),
        Kind::Ollama => has("model") && (has("messages") || has("prompt")),
        Kind::Converse => has("messages"),
        Kind::OpenAiRealtime | Kind::Mcp | Kind::Other => false,
    };
    confirmed.then_some(candidate)
}

/// `messages` is a list of role-tagged turns (or the body did not parse).
fn chat_shaped(body: Option<&Value>) -> bool {
    let Some(body) = body else {
        return true;
    };
    match body.get("messages") {
        Some(Value::Array(turns)) => turns.first().is_none_or(|t| t.get("role").is_some()),
        _ => false,
    }
}

fn path_kind(path: &str) -> Option<Kind> {
    let vertex_anthropic = path.contains("/publishers/anthropic/")
        && (path.ends_with(":rawpredict") || path.ends_with(":streamrawpredict"));
    let bedrock = path.starts_with("/model/")
        && (path.ends_with("/invoke") || path.ends_with("/invoke-with-response-stream"));
    let converse = path.starts_with("/model/")
        && (path.ends_with("/converse") || path.ends_with("/converse-stream"));
    if path.ends_with("/messages") || vertex_anthropic || bedrock {
        Some(Kind::Anthropic)
    } else if converse {
        Some(Kind::Converse)
    } else if path.ends_with("/chat/completions") {
        Some(Kind::OpenAiChat)
    } else if path.ends_with("/responses") {
        Some(Kind::OpenAiResponses)
    } else if path.contains(":generatecontent") || path.contains(":streamgeneratecontent") {
        Some(Kind::Gemini)
    } else if path.ends_with("/api/chat") || path.ends_with("/api/generate") {
        Some(Kind::Ollama)
    } else {
        None
    }
}

/// For unusual paths (gateways, proxies): a JSON request naming a model
/// or carrying Gemini `contents`, answered in a recognisable shape.
fn by_shape(input: &Input) -> Option<Kind> {
    let req = input.request.as_ref()?;
    if req.get("model").is_none() && req.get("contents").is_none() {
        return None;
    }
    let resp = input.response.as_ref()?;
    let first = match resp.format() {
        Format::Sse => sse_json(&resp.body, &mut Vec::new()).into_iter().next()?.1,
        Format::Json | Format::Ndjson | Format::JsonArray => first_json(&resp.body)?,
        Format::Empty => return None,
    };
    reply_kind(&first)
}

fn first_json(body: &[u8]) -> Option<Value> {
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    match stream.next()?.ok()? {
        Value::Array(items) => items.into_iter().next(),
        v => Some(v),
    }
}

/// The kind whose replies (or first stream events) look like `v`.
fn reply_kind(v: &Value) -> Option<Kind> {
    let kind = str_at(v, "type").unwrap_or_default();
    let object = str_at(v, "object").unwrap_or_default();
    if kind == "message_start" || (kind == "message" && v.get("content").is_some()) {
        Some(Kind::Anthropic)
    } else if object.starts_with("chat.completion") {
        Some(Kind::OpenAiChat)
    } else if object == "response" || kind.starts_with("response.") {
        Some(Kind::OpenAiResponses)
    } else if v.get("candidates").is_some() {
        Some(Kind::Gemini)
    } else if v.get("done").is_some() && v.get("created_at").is_some() {
        Some(Kind::Ollama)
    } else {
        None
    }
}

/// Who serves the exchange, from the host, port and path; failing that,
/// the API family.
pub(crate) fn provider(input: &Input, kind: Kind) -> &'static str {
    let host = input.ex.request.host.to_ascii_lowercase();
    let path = input.path.as_str();
    const HOSTS: &[(&str, &str)] = &[
        ("anthropic.com", "anthropic"),
        ("openai.azure.com", "azure"),
        ("azure", "azure"),
        ("openai.com", "openai"),
        ("openrouter.ai", "openrouter"),
        ("aiplatform.googleapis.com", "vertex"),
        ("generativelanguage.googleapis.com", "google"),
        ("bedrock", "bedrock"),
        ("ollama", "ollama"),
        ("groq.com", "groq"),
        ("together", "together"),
        ("deepseek.com", "deepseek"),
        ("mistral.ai", "mistral"),
        ("x.ai", "xai"),
        ("fireworks.ai", "fireworks"),
        ("litellm", "litellm"),
        ("vllm", "vllm"),
    ];
    if let Some((_, name)) = HOSTS.iter().find(|(part, _)| host.contains(part)) {
        return name;
    }
    if path.starts_with("/openai/deployments/") {
        return "azure";
    }
    if path.contains("/publishers/") {
        return "vertex";
    }
    // Bedrock runtime paths, also behind a custom endpoint URL.
    if path.starts_with("/model/") {
        return "bedrock";
    }
    if input.ex.request.port == 11434 || kind == Kind::Ollama {
        return "ollama";
    }
    family(kind)
}

/// Unknown hosts are named after the API family they speak.
fn family(kind: Kind) -> &'static str {
    match kind {
        Kind::Anthropic => "anthropic-compatible",
        Kind::OpenAiChat | Kind::OpenAiResponses | Kind::OpenAiRealtime => "openai-compatible",
        Kind::Gemini => "google",
        Kind::Ollama => "ollama",
        Kind::Converse => "bedrock",
        Kind::Mcp => "mcp",
        Kind::Other => "other",
    }
}

/// A model named in the path: Gemini and Vertex `models/<m>:…`, Azure
/// `deployments/<m>/…`, Bedrock `model/<m>/invoke`.
pub(crate) fn path_model(raw_path: &str) -> Option<String> {
    let path = raw_path.split(['?', '#']).next().unwrap_or_default();
    let after = |marker: &str| path.find(marker).map(|i| &path[i + marker.len()..]);
    let model = if let Some(rest) = after("/models/") {
        rest.split([':', '/']).next()
    } else if let Some(rest) = after("/deployments/") {
        rest.split('/').next()
    } else if let Some(rest) = path.strip_prefix("/model/") {
        rest.split('/').next()
    } else {
        None
    };
    // Bedrock model ids and ARNs come URL-encoded (`%3A`, and `%2F` inside
    // an inference-profile ARN, so the split above kept them whole).
    model
        .filter(|m| !m.is_empty())
        .map(crate::export::view::percent_decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_kinds() {
        let cases = [
            ("/v1/messages", Some(Kind::Anthropic)),
            ("/anthropic/v1/messages", Some(Kind::Anthropic)),
            (
                "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5:streamrawpredict",
                Some(Kind::Anthropic),
            ),
            ("/model/anthropic.claude-v2/invoke", Some(Kind::Anthropic)),
            ("/v1/chat/completions", Some(Kind::OpenAiChat)),
            (
                "/openai/deployments/gpt4o/chat/completions",
                Some(Kind::OpenAiChat),
            ),
            ("/api/v1/chat/completions", Some(Kind::OpenAiChat)),
            ("/v1/responses", Some(Kind::OpenAiResponses)),
            (
                "/v1beta/models/gemini-2.5-flash:generatecontent",
                Some(Kind::Gemini),
            ),
            (
                "/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:streamgeneratecontent",
                Some(Kind::Gemini),
            ),
            ("/api/chat", Some(Kind::Ollama)),
            ("/api/generate", Some(Kind::Ollama)),
            (
                "/model/amazon.nova-pro-v1%3A0/converse",
                Some(Kind::Converse),
            ),
            (
                "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream",
                Some(Kind::Converse),
            ),
            (
                "/model/anthropic.claude-v2/invoke-with-response-stream",
                Some(Kind::Anthropic),
            ),
            ("/v1/models", None),
            ("/messages/count_tokens", None),
        ];
        for (path, want) in cases {
            assert_eq!(path_kind(path), want, "{path}");
        }
    }

    fn exchange(method: &str, path: &str, body: &str) -> crate::exchange::Exchange {
        crate::exchange::Exchange::builder()
            .method(method)
            .host("example.com")
            .path(path)
            .body(body)
            .build()
    }

    #[test]
    fn path_and_body_together() {
        let chat = r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;
        let cases = [
            ("POST", "/v1/messages", chat, Kind::Anthropic),
            ("POST", "/v1/chat/completions", chat, Kind::OpenAiChat),
            (
                "POST",
                "/v1/chat/completions",
                r#"{"messages":[{"role":"user","content":"hi"}]}"#,
                Kind::OpenAiChat,
            ),
            (
                "POST",
                "/v1/messages",
                r#"{"model":"m","messages":[{"role":"user""#,
                Kind::Anthropic,
            ),
            ("GET", "/api/users/1/messages", "", Kind::Other),
            ("POST", "/rooms/4/messages", r#"{"text":"hi"}"#, Kind::Other),
            (
                "POST",
                "/rooms/4/messages",
                r#"{"messages":["hi"]}"#,
                Kind::Other,
            ),
            (
                "POST",
                "/v1/responses",
                r#"{"model":"gpt-5","input":"hi"}"#,
                Kind::OpenAiResponses,
            ),
            ("GET", "/v1/responses", "", Kind::Other),
            (
                "POST",
                "/api/chat",
                r#"{"model":"qwen3","messages":[]}"#,
                Kind::Ollama,
            ),
            (
                "POST",
                "/mcp",
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                Kind::Mcp,
            ),
            (
                "POST",
                "/v1/messages",
                r#"{"jsonrpc":"2.0","method":"notifications/x"}"#,
                Kind::Mcp,
            ),
        ];
        for (method, path, body, want) in cases {
            let ex = exchange(method, path, body);
            assert_eq!(kind(&Input::new(&ex)), want, "{method} {path} {body}");
            assert!(!plainly_other(&ex) || want == Kind::Other);
        }
    }

    #[test]
    fn plainly_other_is_only_said_of_what_cannot_be_an_api_call() {
        let get = exchange("GET", "/v1/messages", "");
        assert!(plainly_other(&get));
        assert!(!plainly_other(&exchange("POST", "/x", "{}")));
        let mut session = get.clone();
        session.request.headers.push("Mcp-Session-Id", "s1");
        assert!(!plainly_other(&session));
        let sse = crate::exchange::Exchange::builder()
            .method("GET")
            .path("/sse")
            .response_header("Content-Type", "text/event-stream")
            .response_body("event: endpoint\ndata: /messages?s=1\n\n")
            .build();
        assert!(!plainly_other(&sse));
        assert_eq!(kind(&Input::new(&sse)), Kind::Mcp);
    }

    #[test]
    fn models_in_paths() {
        let cases = [
            (
                "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                Some("gemini-2.5-flash"),
            ),
            (
                "/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21",
                Some("my-gpt4o"),
            ),
            (
                "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke",
                Some("anthropic.claude-3-5-sonnet-20240620-v1:0"),
            ),
            (
                "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke",
                Some(
                    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                ),
            ),
            ("/v1/messages", None),
        ];
        for (path, want) in cases {
            assert_eq!(path_model(path).as_deref(), want, "{path}");
        }
    }
}
