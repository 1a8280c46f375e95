//! The tools llmspy's MCP server offers, each with a JSON schema for its
//! arguments. A failing tool answers `isError: true` with a sentence
//! saying what went wrong and what to pass instead.

use serde_json::{Value, json};

use super::context::ApiContext;
use super::fixtures::{RecordRequest, record_fixture};
use super::mcp_args::{check_args, text_arg};
use super::reply::error_chain;
use crate::capture::{CaptureMsg, Record};
use crate::exchange::{Body, Request};
use crate::filter::{self, Facts};

type ToolResult = Result<Value, String>;

/// `tools/list`.
pub fn list() -> Vec<Value> {
    let mut tools = file_and_traffic_tools();
    tools.extend(mock_and_export_tools());
    tools
}

/// A JSON schema object with these properties.
fn schema(props: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": props, "required": required })
}

fn text(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn file_and_traffic_tools() -> Vec<Value> {
    let s = schema;
    vec![
        tool(
            "record_llm_fixtures",
            "Write the captured traffic as a fixture file of mock expectations (secrets redacted) that replays it offline.",
            s(
                json!({"path": text("Output file, inside llmspy's files root (relative paths are resolved there)"), "requestPath": text("Only requests whose path matches (exact or regex)"),
                "host": text("Only requests to this host"), "keepTiming": {"type": "boolean", "description": "Replay events with their recorded gaps"},
                "overwrite": {"type": "boolean", "description": "Replace the file if it exists (default: refuse)"}}),
                &["path"],
            ),
        ),
        tool(
            "load_expectations_from_file",
            "Load mock expectations from a JSON file or a directory of them.",
            s(
                json!({"path": text("File or directory, inside llmspy's files root")}),
                &["path"],
            ),
        ),
        tool(
            "list_traffic",
            "List captured exchanges, newest last, optionally filtered with llmspy's ~ filter language (e.g. '~p anthropic & ~c 200').",
            s(
                json!({"filter": text("Filter expression"), "limit": {"type": "integer", "minimum": 1}}),
                &[],
            ),
        ),
        tool(
            "get_exchange",
            "One exchange decoded: request, response status, LLM conversation, reply, usage, stream timeline or MCP call; for other traffic its headers and body text (secrets masked).",
            s(json!({"id": {"type": "integer"}}), &["id"]),
        ),
    ]
}

fn mock_and_export_tools() -> Vec<Value> {
    let s = schema;
    vec![
        tool(
            "create_expectation",
            "Create or update mock expectations (MockServer JSON: httpRequest plus httpResponse, httpSseResponse, httpLlmResponse, …).",
            s(
                json!({"expectation": {"type": ["object", "array"]}}),
                &["expectation"],
            ),
        ),
        tool(
            "clear",
            "Remove captured traffic and/or expectations.",
            s(
                json!({"type": {"type": "string", "enum": ["all", "log", "expectations"]}}),
                &[],
            ),
        ),
        tool(
            "export",
            "Export captured traffic as json, har, openapi, postman or bruno (bruno needs a path).",
            s(
                json!({"format": text("json, har, openapi, postman or bruno"), "path": text("Write here (inside llmspy's files root) instead of returning the text"),
                "overwrite": {"type": "boolean", "description": "Replace the file if it exists (default: refuse)"}}),
                &["format"],
            ),
        ),
        tool(
            "debug_request_mismatch",
            "Explain why a request matches no expectation: the closest expectation and the fields that differed.",
            s(
                json!({"exchangeId": {"type": "integer", "description": "A captured exchange"},
                "request": {"type": "object", "description": "Or a request: method, path, headers, body"}}),
                &[],
            ),
        ),
    ]
}

fn tool(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "description": description, "inputSchema": schema })
}

/// `tools/call`: the tool's result as MCP content.
pub fn call(ctx: &ApiContext, params: &Value) -> Value {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let args = params
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let checked = list()
        .into_iter()
        .find(|t| t["name"] == name)
        .map_or(Ok(()), |t| check_args(name, &t["inputSchema"], &args));
    let outcome = checked.and_then(|()| match name {
        "record_llm_fixtures" => record(ctx, &args),
        "load_expectations_from_file" => load(ctx, &args),
        "list_traffic" => list_traffic(ctx, &args),
        "get_exchange" => get_exchange(ctx, &args),
        "create_expectation" => create(ctx, &args),
        "clear" => clear(ctx, &args),
        "export" => export(ctx, &args),
        "debug_request_mismatch" => mismatch(ctx, &args),
        other => Err(format!(
            "unknown tool {other:?}; call tools/list for the tools llmspy offers"
        )),
    });
    match outcome {
        Ok(v) => json!({
            "content": [{ "type": "text", "text": serde_json::to_string_pretty(&v).unwrap_or_default() }],
            "structuredContent": v,
            "isError": false,
        }),
        Err(message) => {
            json!({ "content": [{ "type": "text", "text": message }], "isError": true })
        }
    }
}

fn record(ctx: &ApiContext, args: &Value) -> ToolResult {
    text_arg(args, "path")?;
    record_fixture(ctx, &RecordRequest::from_json(args)).map_err(|e| e.message)
}

fn load(ctx: &ApiContext, args: &Value) -> ToolResult {
    let asked = text_arg(args, "path")?;
    let path = ctx.resolve_file(&asked).map_err(|e| e.to_string())?;
    // Every file of a directory goes through the files root too: a link
    // inside it may lead out.
    let read = |p: &std::path::Path| {
        ctx.read_file(p)
            .map_err(|e| crate::mock::loader::LoadError::Refused(e.to_string()))
    };
    let list = crate::mock::loader::load_with(&path, &read).map_err(|e| error_chain(&e))?;
    let stored = mock(ctx)?
        .upsert_within(list, crate::mock::MAX_EXPECTATIONS)
        .map_err(|e| e.to_string())?;
    Ok(json!({ "loaded": stored.len(), "path": path.display().to_string() }))
}

/// The expectations the mock tools work on (the MCP server is served only
/// with them, so their absence is an answer, not a crash).
fn mock(ctx: &ApiContext) -> Result<&crate::mock::Expectations, String> {
    ctx.mock
        .as_ref()
        .ok_or_else(|| "this llmspy serves no mock expectations".to_string())
}

fn facts(r: &Record) -> Option<Facts> {
    r.summary.as_ref().map(|s| Facts {
        provider: Some(s.provider.to_string()),
        model: s.model.as_deref().map(String::from),
        tools: s.tools.to_vec(),
        mcp: s.kind == crate::llm::Kind::Mcp,
        stream: s.stream,
    })
}

fn list_traffic(ctx: &ApiContext, args: &Value) -> ToolResult {
    let expr = args.get("filter").and_then(Value::as_str).unwrap_or("");
    let f = filter::parse(expr).map_err(|e| format!("bad filter {expr:?}: {e}"))?;
    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(200) as usize;
    let store = ctx.store.read();
    let rows: Vec<Value> = store
        .all()
        .filter(|r| {
            let facts = facts(r);
            f.matches(
                &r.exchange,
                facts.as_ref().map(|x| x as &dyn filter::AnalysisView),
            )
        })
        .map(row)
        .collect();
    let skip = rows.len().saturating_sub(limit);
    Ok(json!({ "count": rows.len(), "exchanges": rows[skip..] }))
}

fn row(r: &Record) -> Value {
    let ex = &r.exchange;
    json!({
        "id": ex.id, "method": ex.request.method, "url": crate::redact::masked_url(ex, crate::redact::MASK),
        "status": ex.response.as_ref().map(|r| r.status), "state": ex.state.label(),
        "provider": r.summary.as_ref().map(|s| s.provider),
        "model": r.summary.as_ref().and_then(|s| s.model.as_deref()),
        "mocked": matches!(ex.source, crate::exchange::Source::Mock { .. }),
    })
}

fn get_exchange(ctx: &ApiContext, args: &Value) -> ToolResult {
    let id = args
        .get("id")
        .and_then(Value::as_u64)
        .ok_or("missing argument \"id\" (an integer)")?;
    let ex = ctx
        .store
        .exchange(id)
        .ok_or_else(|| format!("no exchange {id}; list_traffic shows the ids"))?;
    // Masked as exports are, echoes of a key in the prompt included: the
    // result goes into an agent's context, and on to its provider.
    let ex = crate::redact::masked(&ex);
    let analysis = crate::analyses::analyse(&ex);
    let analysis = analysis.as_deref();
    let mut out = json!({
        "id": ex.id, "method": ex.request.method, "url": ex.url(), "state": ex.state.label(),
        "status": ex.response.as_ref().map(|r| r.status),
        "failure": ex.state.failure().map(|f| f.message.clone()),
        "source": ex.source,
        "analysis": analysis,
    });
    // Not an LLM or MCP call: no analysis to read, so the messages
    // themselves (an agent looking into a failing API wants its answer).
    if analysis.is_none() {
        out["request"] = message(&ex.request.headers, &ex.request.body);
        if let Some(r) = &ex.response {
            out["response"] = message(&r.headers, &r.body);
        }
    }
    Ok(out)
}

/// How much of a body `get_exchange` quotes: enough for an error answer
/// or a small document, little enough for an agent's context.
const BODY_QUOTED: usize = 16 * 1024;

/// Headers as `name: value` lines and the body's text, decoded, up to
/// [`BODY_QUOTED`] bytes (a binary body by its size only).
fn message(headers: &crate::exchange::Headers, body: &crate::exchange::Body) -> Value {
    let view = crate::export::view::BodyView::of(headers, body);
    let lines: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    let body = match &view.text {
        Some(text) => {
            let cut = text.floor_char_boundary(BODY_QUOTED);
            json!({ "text": &text[..cut], "bytes": view.bytes.len(),
                "cut": cut < text.len() || view.truncated })
        }
        None => json!({ "binary": true, "bytes": view.bytes.len() }),
    };
    json!({ "headers": lines, "body": body })
}

fn create(ctx: &ApiContext, args: &Value) -> ToolResult {
    let doc = args
        .get("expectation")
        .ok_or("missing argument \"expectation\"")?;
    let stored = mock(ctx)?
        .upsert_json(doc)
        .map_err(|e| format!("incorrect expectation: {e}"))?;
    Ok(json!({ "created": stored }))
}

fn clear(ctx: &ApiContext, args: &Value) -> ToolResult {
    let kind = args
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("all")
        .to_ascii_lowercase();
    let (log, exps) = match kind.as_str() {
        "all" => (true, true),
        "log" => (true, false),
        "expectations" => (false, true),
        other => return Err(format!("type {other:?}: expected all, log or expectations")),
    };
    let exchanges = if log { ctx.store.read().count() } else { 0 };
    if log {
        ctx.recorder.send(CaptureMsg::Clear(None));
    }
    let expectations = match &ctx.mock {
        Some(mock) if exps => mock.clear(),
        _ => 0,
    };
    Ok(json!({ "cleared": exchanges, "expectationsCleared": expectations }))
}

fn export(ctx: &ApiContext, args: &Value) -> ToolResult {
    let name = text_arg(args, "format")?;
    let format: crate::export::Format = name.parse().map_err(|e| format!("{e}"))?;
    let exchanges: Vec<_> = ctx.store.read().all().map(|r| r.exchange.clone()).collect();
    let bytes = crate::export::render(format, &exchanges, &crate::export::Options::default())
        .map_err(|e| error_chain(&e))?;
    match args.get("path").and_then(Value::as_str) {
        Some(path) => {
            let overwrite = args
                .get("overwrite")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let written = ctx
                .write_file(path, &bytes, overwrite)
                .map_err(|e| e.to_string())?;
            Ok(
                json!({ "path": written.display().to_string(), "bytes": bytes.len(), "exchanges": exchanges.len() }),
            )
        }
        None => String::from_utf8(bytes)
            .map(|text| json!({ "exchanges": exchanges.len(), "text": text }))
            .map_err(|_| format!("{name} is binary; pass a path to write it to")),
    }
}

fn mismatch(ctx: &ApiContext, args: &Value) -> ToolResult {
    let explained = match (
        args.get("exchangeId").and_then(Value::as_u64),
        args.get("request"),
    ) {
        (Some(id), _) => {
            let ex = ctx
                .store
                .exchange(id)
                .ok_or_else(|| format!("no exchange {id}"))?;
            // The answer goes into an agent's context, and on to its
            // provider: it quotes the request masked, and masks a key of
            // the request that an expectation quotes too.
            let secrets = crate::redact::Secrets::of(&ex);
            let shown = crate::redact::masked(&ex);
            mock(ctx)?
                .explain_shown(&ex.request, &shown.request)
                .map(|mut x| {
                    for d in &mut x.differences {
                        d.expected = secrets.mask(&d.expected).into_owned();
                        d.actual = secrets.mask(&d.actual).into_owned();
                    }
                    x
                })
        }
        // The agent's own description of a request: nothing to hide from it.
        (None, Some(r)) => mock(ctx)?.explain(&request_from(r)),
        (None, None) => return Err("pass exchangeId or request".into()),
    };
    match explained {
        Some(x) if x.differences.is_empty() => Ok(
            json!({ "matches": x.expectation_id, "explanation": "the request matches this expectation" }),
        ),
        Some(x) => Ok(
            json!({ "closestExpectation": x.expectation_id, "differences": x.differences, "explanation": x.sentence() }),
        ),
        None => Ok(json!({ "explanation": "there are no active expectations" })),
    }
}

/// A request described as MockServer JSON (`method`, `path`, `headers`, `body`).
fn request_from(v: &Value) -> Request {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let headers = crate::mock::action::headers(v.get("headers"), "$.headers").unwrap_or_default();
    let body = match v.get("body") {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
        None => Vec::new(),
    };
    Request {
        method: text("method").map_or("GET".into(), Into::into),
        scheme: "https".into(),
        host: crate::exchange::header(&headers, "host")
            .unwrap_or("localhost")
            .to_string(),
        port: 443,
        path: text("path").unwrap_or_else(|| "/".into()),
        version: "HTTP/1.1".into(),
        headers,
        body: Body::from_bytes(body),
    }
}
