//! The OpenTelemetry exporter against a real OTLP/HTTP receiver: LLM calls
//! of two providers (streamed and not) and an MCP tool call become spans in
//! the GenAI and MCP conventions, a conversation is one trace, the
//! histograms arrive, no secret leaves, content only on request, and a
//! collector that is down costs nothing but a queue.

use std::sync::Arc;

use llmspy::mock::Expectations;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde_json::{Value, json};

use crate::support::client::reqwest;
use crate::support::otlp::{Receiver, attr};
use crate::support::proxy::{Options, TestProxy};

const SECRET: &str = "sk-ant-api03-otel-secret-0123456789";
const BODY_SECRET: &str = "pw-otel-body-secret-42";

fn expectations() -> Expectations {
    let mock = Expectations::new();
    mock.upsert_json(&json!([
        {"id": "turn-1", "priority": 10, "times": {"remainingTimes": 1},
         "httpRequest": {"path": "/v1/messages"},
         "httpLlmResponse": {"provider": "ANTHROPIC", "model": "claude-t-20250101", "completion": {
            "text": "Let me look.",
            "toolCalls": [{"id": "toolu_1", "name": "mcp__weather__forecast", "arguments": "{\"city\":\"Oslo\"}"}],
            "usage": {"inputTokens": 30, "outputTokens": 12}}}},
        {"id": "turn-2", "httpRequest": {"path": "/v1/messages"},
         "httpLlmResponse": {"provider": "ANTHROPIC", "model": "claude-t-20250101", "completion": {
            "text": "Sunny in Oslo.", "usage": {"inputTokens": 55, "outputTokens": 7}}}},
        {"id": "chat", "httpRequest": {"path": "/v1/chat/completions"},
         "httpLlmResponse": {"provider": "OPENAI", "model": "gpt-t", "completion": {
            "text": "Hello there.", "usage": {"inputTokens": 9, "outputTokens": 3}}}},
        {"id": "mcp", "httpRequest": {"path": "/mcp"},
         "httpResponse": {"headers": {"content-type": ["application/json"]},
            "body": "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"sunny\"}]}}"}}
    ]))
    .expect("expectations");
    mock
}

struct Setup {
    proxy: TestProxy,
    client: ::reqwest::Client,
    status: Arc<llmspy::otel::ExporterStatus>,
}

async fn setup(endpoint: &str, content: bool) -> Setup {
    let settings = llmspy::otel::resolve(Some(endpoint), content, &|_| None)
        .expect("settings")
        .expect("export asked for");
    let exporter = llmspy::otel::spawn(settings).expect("exporter starts");
    let proxy = TestProxy::with(Options {
        responder: Some(Arc::new(expectations())),
        sinks: vec![exporter.sink.clone()],
        exporter: Some(exporter.status.clone()),
        ..Options::default()
    })
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    Setup {
        proxy,
        client,
        status: exporter.status,
    }
}

/// The agent's traffic: two Anthropic turns with an MCP call between them,
/// and one streamed OpenAI chat.
async fn traffic(s: &mut Setup) {
    let first = json!([{"role": "user", "content": "Weather in Oslo?"}]);
    let call = |body: Value, path: &str| {
        s.client
            .post(format!("https://api.anthropic.test{path}"))
            .header("x-api-key", SECRET)
            .json(&body)
            .send()
    };
    let r = call(
        json!({"model": "claude-t", "max_tokens": 256, "temperature": 0.5, "password": BODY_SECRET,
               "messages": first}),
        "/v1/messages",
    )
    .await
    .expect("turn 1");
    assert_eq!(r.status(), 200);
    r.bytes().await.expect("body");
    let mcp = s
        .client
        .post("https://mcp.weather.test/mcp")
        .header("mcp-session-id", "sess-42")
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": "forecast", "arguments": {"city": "Oslo"}}}))
        .send()
        .await
        .expect("mcp");
    assert_eq!(mcp.status(), 200);
    mcp.bytes().await.expect("body");
    let second = json!([
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "mcp__weather__forecast", "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]}
    ]);
    let r = call(
        json!({"model": "claude-t", "max_tokens": 256, "messages": second}),
        "/v1/messages",
    )
    .await
    .expect("turn 2");
    r.bytes().await.expect("body");
    let r = s
        .client
        .post("https://api.openai.test/v1/chat/completions")
        .header("authorization", format!("Bearer {SECRET}"))
        .json(&json!({"model": "gpt-t", "stream": true,
                      "messages": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .expect("chat");
    r.bytes().await.expect("body");
    s.proxy.finished(4).await;
}

fn named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn has(spans: &[Span], name: &str, n: usize) -> bool {
    named(spans, name).len() >= n
}

#[tokio::test]
async fn llm_and_mcp_calls_become_genai_spans_in_one_trace_per_conversation() {
    let mut receiver = Receiver::start().await;
    let mut s = setup(&receiver.url(), false).await;
    traffic(&mut s).await;
    let spans = receiver
        .spans_until(|sp| {
            has(sp, "chat claude-t", 2)
                && has(sp, "chat gpt-t", 1)
                && has(sp, "tools/call forecast", 1)
        })
        .await;

    let turns = named(&spans, "chat claude-t");
    let (t1, t2) = (turns[0], turns[1]);
    for t in [t1, t2] {
        assert_eq!(t.kind, SpanKind::Client as i32);
        let a = &t.attributes;
        assert_eq!(attr(a, "gen_ai.operation.name").as_deref(), Some("chat"));
        assert_eq!(
            attr(a, "gen_ai.provider.name").as_deref(),
            Some("anthropic")
        );
        assert_eq!(attr(a, "gen_ai.request.model").as_deref(), Some("claude-t"));
        assert_eq!(
            attr(a, "gen_ai.response.model").as_deref(),
            Some("claude-t-20250101")
        );
        assert_eq!(
            attr(a, "server.address").as_deref(),
            Some("api.anthropic.test")
        );
        assert_eq!(attr(a, "server.port").as_deref(), Some("443"));
        assert_eq!(attr(a, "gen_ai.request.max_tokens").as_deref(), Some("256"));
        assert!(attr(a, "gen_ai.response.id").is_some(), "{a:?}");
        assert!(t.end_time_unix_nano >= t.start_time_unix_nano);
        assert!(t.start_time_unix_nano > 0);
    }
    assert_eq!(
        attr(&t1.attributes, "gen_ai.usage.input_tokens").as_deref(),
        Some("30")
    );
    assert_eq!(
        attr(&t1.attributes, "gen_ai.usage.output_tokens").as_deref(),
        Some("12")
    );
    assert_eq!(
        attr(&t1.attributes, "gen_ai.request.temperature").as_deref(),
        Some("0.5")
    );
    assert_eq!(
        attr(&t1.attributes, "gen_ai.response.finish_reasons").as_deref(),
        Some("[tool_use]")
    );
    assert_eq!(
        attr(&t2.attributes, "gen_ai.usage.input_tokens").as_deref(),
        Some("55")
    );
    assert_eq!(
        attr(&t2.attributes, "gen_ai.response.finish_reasons").as_deref(),
        Some("[end_turn]")
    );

    // One conversation, one trace; the MCP call is the first turn's child.
    assert_eq!(
        t1.trace_id, t2.trace_id,
        "turns of a conversation share a trace"
    );
    let conv = attr(&t1.attributes, "gen_ai.conversation.id").expect("conversation id");
    assert_eq!(attr(&t2.attributes, "gen_ai.conversation.id"), Some(conv));
    let mcp = named(&spans, "tools/call forecast")[0];
    assert_eq!(mcp.kind, SpanKind::Client as i32);
    assert_eq!(mcp.trace_id, t1.trace_id);
    assert_eq!(
        mcp.parent_span_id, t1.span_id,
        "caused by the turn's tool_use"
    );
    assert_eq!(
        attr(&mcp.attributes, "mcp.method.name").as_deref(),
        Some("tools/call")
    );
    assert_eq!(
        attr(&mcp.attributes, "gen_ai.tool.name").as_deref(),
        Some("forecast")
    );
    assert_eq!(
        attr(&mcp.attributes, "mcp.session.id").as_deref(),
        Some("sess-42")
    );
    assert_eq!(
        attr(&mcp.attributes, "jsonrpc.request.id").as_deref(),
        Some("7")
    );

    let chat = named(&spans, "chat gpt-t")[0];
    assert_ne!(chat.trace_id, t1.trace_id, "another conversation");
    assert_eq!(
        attr(&chat.attributes, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(
        attr(&chat.attributes, "gen_ai.usage.input_tokens").as_deref(),
        Some("9")
    );
    assert_eq!(
        attr(&chat.attributes, "gen_ai.usage.output_tokens").as_deref(),
        Some("3")
    );
    assert_eq!(
        attr(&chat.attributes, "llmspy.stream").as_deref(),
        Some("true")
    );
    assert_eq!(
        chat.events.len(),
        1,
        "time to first chunk: {:?}",
        chat.events
    );

    // Without --otlp-content no message leaves, and no secret ever does.
    for span in &spans {
        assert!(attr(&span.attributes, "gen_ai.input.messages").is_none());
    }
    for r in &receiver.all {
        let raw = String::from_utf8_lossy(&r.body);
        assert!(
            !raw.contains(SECRET) && !raw.contains(BODY_SECRET),
            "a secret left: {}",
            r.path
        );
        assert!(
            !raw.contains("Weather in Oslo"),
            "content left without the opt-in"
        );
    }
    let resource = &receiver.traces()[0].resource_spans[0].resource;
    let service = resource
        .as_ref()
        .map(|r| attr(&r.attributes, "service.name"));
    assert_eq!(service, Some(Some("llmspy".into())));

    // The status reports what was sent. The collector holds the spans a
    // moment before the exporter reads its answer and counts them.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.status.sent() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            s.status.line()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let status: Value = crate::mcp_server::direct()
        .put(format!("{}/llmspy/status", s.proxy.url()))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    assert!(status["otlp"]["sent"].as_u64() >= Some(4), "{status}");
    assert_eq!(s.status.dropped(), 0);
}

#[tokio::test]
async fn token_and_duration_histograms_arrive() {
    let mut receiver = Receiver::start().await;
    let mut s = setup(&receiver.url(), false).await;
    traffic(&mut s).await;
    // Flushing capture flushes the exporter, metrics included.
    let (done, flushed) = tokio::sync::oneshot::channel();
    s.proxy
        .recorder
        .send(llmspy::capture::CaptureMsg::Flush(done));
    flushed.await.expect("flushed");
    let names = |reqs: &[opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest]| {
        reqs.iter()
            .flat_map(|r| &r.resource_metrics)
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    };
    let got = receiver
        .metrics_until(|r| {
            let n = names(r);
            n.contains(&"gen_ai.client.token.usage".to_string())
                && n.contains(&"gen_ai.client.operation.duration".to_string())
        })
        .await;
    let usage = got
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == "gen_ai.client.token.usage")
        .expect("token usage");
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    let Some(Data::Histogram(h)) = &usage.data else {
        panic!("a histogram: {usage:?}")
    };
    let input_sum: f64 = h
        .data_points
        .iter()
        .filter(|p| attr(&p.attributes, "gen_ai.token.type").as_deref() == Some("input"))
        .filter_map(|p| p.sum)
        .sum();
    assert_eq!(input_sum, 30.0 + 55.0 + 9.0, "{h:?}");
}

#[tokio::test]
async fn content_leaves_only_when_asked_and_masked() {
    let mut receiver = Receiver::start().await;
    let mut s = setup(&receiver.url(), true).await;
    traffic(&mut s).await;
    let spans = receiver.spans_until(|sp| has(sp, "chat claude-t", 2)).await;
    let t1 = named(&spans, "chat claude-t")[0];
    let input = attr(&t1.attributes, "gen_ai.input.messages").expect("input messages");
    let input: Value = serde_json::from_str(&input).expect("JSON");
    assert_eq!(input[0]["role"], "user");
    assert_eq!(input[0]["parts"][0]["content"], "Weather in Oslo?");
    let output = attr(&t1.attributes, "gen_ai.output.messages").expect("output messages");
    let output: Value = serde_json::from_str(&output).expect("JSON");
    assert_eq!(output[0]["parts"][1]["type"], "tool_call");
    assert_eq!(output[0]["parts"][1]["arguments"]["city"], "Oslo");
    for r in &receiver.all {
        let raw = String::from_utf8_lossy(&r.body);
        assert!(
            !raw.contains(SECRET) && !raw.contains(BODY_SECRET),
            "a secret left"
        );
    }
}

#[tokio::test]
async fn a_collector_that_is_down_costs_nothing_and_gets_the_spans_when_it_is_up() {
    // A port nobody listens on yet.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let mut s = setup(&format!("http://{addr}"), false).await;
    traffic(&mut s).await;
    // The relay answered everything above; the exporter says why it waits.
    // (Its state changes on its own thread with no event to wait on: poll.)
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.status.last_error().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no export error reported"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(s.status.sent(), 0);
    assert!(s.status.queued() >= 4, "{}", s.status.line());
    assert!(s.status.line().contains("queued"), "{}", s.status.line());

    let mut receiver = Receiver::start_on(addr).await;
    let spans = receiver
        .spans_until(|sp| has(sp, "chat claude-t", 2) && has(sp, "tools/call forecast", 1))
        .await;
    assert!(spans.len() >= 4);
}
