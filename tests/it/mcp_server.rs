//! llmspy's own MCP server at `/llmspy/mcp` (streamable HTTP, JSON
//! answers), the fixture recorder's REST twin `PUT /llmspy/fixtures/record`,
//! and the stdio bridge's `POST /llmspy/mcp-stdio/ingest` — over real HTTP
//! against llmspy in-process, after real traffic went through it.

use std::collections::BTreeSet;

use llmspy::mock::{Expectations, loader};
use serde_json::{Value, json};

use crate::support::client::reqwest as proxied;
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

const TOOLS: [&str; 8] = [
    "record_llm_fixtures",
    "load_expectations_from_file",
    "list_traffic",
    "get_exchange",
    "create_expectation",
    "clear",
    "export",
    "debug_request_mismatch",
];

/// llmspy with the mock routes, in front of `up` when given.
pub(crate) async fn proxy(up: Option<&Upstream>) -> TestProxy {
    TestProxy::with(Options {
        upstream_ca: up.map(|u| vec![u.ca_file.clone()]).unwrap_or_default(),
        mock: Some(Expectations::new()),
        ..Options::default()
    })
    .await
}

/// The control API, reached directly.
pub(crate) fn direct() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// An MCP client session with llmspy, as the streamable HTTP transport
/// runs one: `initialize`, then the session id on every request.
pub(crate) struct Session {
    http: reqwest::Client,
    url: String,
    id: String,
    next: u64,
}

impl Session {
    pub(crate) async fn open(proxy: &TestProxy) -> Session {
        let http = direct();
        let url = format!("{}/llmspy/mcp", proxy.url());
        let resp = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(&initialize(0, "2025-06-18"))
            .send()
            .await
            .expect("initialize");
        assert_eq!(resp.status(), 200);
        let id = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .expect("initialize answers with an Mcp-Session-Id")
            .to_string();
        Session {
            http,
            url,
            id,
            next: 1,
        }
    }

    async fn post(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", "2025-06-18")
            .json(body)
            .send()
            .await
            .expect("post")
    }

    /// A JSON-RPC request; the whole response message.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let resp = self
            .post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        assert_eq!(resp.status(), 200, "{method}");
        let msg: Value = resp.json().await.expect("JSON-RPC answer");
        assert_eq!(msg["jsonrpc"], "2.0");
        assert_eq!(msg["id"], id, "the answer carries the request's id");
        msg
    }

    /// `tools/call`: the result (content, structuredContent, isError).
    pub(crate) async fn call(&mut self, tool: &str, args: Value) -> Value {
        let msg = self
            .request("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert!(msg.get("error").is_none(), "{tool}: {msg}");
        msg["result"].clone()
    }

    /// A tool call that must succeed: its structured result.
    pub(crate) async fn ok(&mut self, tool: &str, args: Value) -> Value {
        let result = self.call(tool, args).await;
        assert_eq!(result["isError"], false, "{tool}: {result}");
        let text = result["content"][0]["text"].as_str().expect("text content");
        let parsed: Value = serde_json::from_str(text).expect("the text is the result as JSON");
        assert_eq!(
            parsed, result["structuredContent"],
            "text and structured content agree"
        );
        result["structuredContent"].clone()
    }

    /// A tool call that must fail: its message.
    async fn err(&mut self, tool: &str, args: Value) -> String {
        let result = self.call(tool, args.clone()).await;
        assert_eq!(result["isError"], true, "{tool} {args}: {result}");
        assert!(result.get("structuredContent").is_none(), "{result}");
        result["content"][0]["text"]
            .as_str()
            .expect("an error message")
            .to_string()
    }
}

fn initialize(id: u64, version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "llmspy-tests", "version": "1"}}})
}

#[tokio::test]
async fn initialize_hands_out_a_session_and_notifications_are_accepted() {
    let proxy = proxy(None).await;
    let http = direct();
    let url = format!("{}/llmspy/mcp", proxy.url());
    let first = http
        .post(&url)
        .json(&initialize(1, "2025-06-18"))
        .send()
        .await
        .expect("initialize");
    assert_eq!(first.status(), 200);
    assert!(
        first.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let session = first.headers()["mcp-session-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    let msg: Value = first.json().await.expect("json");
    assert_eq!(msg["id"], 1);
    assert_eq!(msg["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(msg["result"]["serverInfo"]["name"], "llmspy");
    assert!(msg["result"]["capabilities"]["tools"].is_object(), "{msg}");

    // Each initialize opens its own session; older revisions are echoed,
    // unknown ones get llmspy's own.
    for (asked, answered) in [
        ("2025-03-26", "2025-03-26"),
        ("1999-01-01", llmspy::api::mcp_server::PROTOCOL_VERSION),
    ] {
        let resp = http
            .post(&url)
            .json(&initialize(2, asked))
            .send()
            .await
            .expect("initialize");
        assert_ne!(resp.headers()["mcp-session-id"], session.as_str());
        let msg: Value = resp.json().await.expect("json");
        assert_eq!(msg["result"]["protocolVersion"], answered, "asked {asked}");
    }

    let note = http
        .post(&url)
        .header("mcp-session-id", &session)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .expect("notification");
    assert_eq!(note.status(), 202);
    assert!(note.bytes().await.expect("body").is_empty());

    let rpc = |body: Value| {
        let req = http
            .post(&url)
            .header("mcp-session-id", &session)
            .header("content-type", "application/json")
            .body(body.to_string());
        async move {
            let resp = req.send().await.expect("post");
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.expect("json")
        }
    };
    let ping = rpc(json!({"jsonrpc": "2.0", "id": "p", "method": "ping"})).await;
    assert_eq!(ping, json!({"jsonrpc": "2.0", "id": "p", "result": {}}));
    let unknown = rpc(json!({"jsonrpc": "2.0", "id": 7, "method": "resources/list"})).await;
    assert_eq!(unknown["error"]["code"], -32601);
    assert!(
        unknown["error"]["message"]
            .as_str()
            .expect("message")
            .contains("resources/list")
    );
    let garbled = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    let garbled: Value = garbled.json().await.expect("json");
    assert_eq!(garbled["error"]["code"], -32700);
    assert_eq!(garbled["id"], Value::Null);

    let get = http.get(&url).send().await.expect("get");
    assert_eq!(get.status(), 405, "llmspy sends no server-initiated stream");
    let delete = http
        .delete(&url)
        .header("mcp-session-id", &session)
        .send()
        .await
        .expect("delete");
    assert_eq!(delete.status(), 200);
}

#[tokio::test]
async fn tools_list_describes_every_tool_with_an_input_schema() {
    let proxy = proxy(None).await;
    let mut mcp = Session::open(&proxy).await;
    let msg = mcp.request("tools/list", json!({})).await;
    let tools = msg["result"]["tools"].as_array().expect("tools");
    let names: BTreeSet<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, TOOLS.into_iter().collect::<BTreeSet<_>>());
    for t in tools {
        let name = &t["name"];
        assert!(
            t["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name}: a description"
        );
        let schema = &t["inputSchema"];
        assert_eq!(schema["type"], "object", "{name}");
        let props = schema["properties"].as_object().expect("properties");
        for p in props.values() {
            assert!(p.get("type").is_some(), "{name}: every property typed");
        }
        for r in schema["required"].as_array().expect("required") {
            assert!(
                props.contains_key(r.as_str().expect("name")),
                "{name}: required {r} is a property"
            );
        }
    }
}

#[tokio::test]
async fn list_traffic_and_get_exchange_read_what_went_through() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    let client = proxied(&proxy.url(), &proxy.ca_file);
    let sse = client
        .get(up.https("/sse?n=3&size=8"))
        .send()
        .await
        .expect("sse");
    sse.bytes().await.expect("sse body");
    let echo = client
        .post(up.https("/echo"))
        .json(&json!({"q": 1}))
        .send()
        .await
        .expect("echo");
    assert_eq!(echo.text().await.expect("body"), r#"{"q":1}"#);
    let done = proxy.finished(2).await;
    let echo_id = done
        .iter()
        .find(|e| e.request.path == "/echo")
        .expect("echo")
        .id;

    let mut mcp = Session::open(&proxy).await;
    let all = mcp.ok("list_traffic", json!({})).await;
    assert_eq!(all["count"], 2, "{all}");
    let urls: Vec<&str> = all["exchanges"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["url"].as_str())
        .collect();
    assert!(
        urls[0].contains("/sse?n=3") && urls[1].ends_with("/echo"),
        "{urls:?}"
    );
    assert_eq!(all["exchanges"][1]["status"], 200);
    assert_eq!(all["exchanges"][1]["mocked"], false);

    let newest = mcp.ok("list_traffic", json!({"limit": 1})).await;
    assert_eq!(newest["count"], 2);
    assert_eq!(newest["exchanges"].as_array().expect("rows").len(), 1);
    assert_eq!(newest["exchanges"][0]["id"], echo_id);
    let posts = mcp.ok("list_traffic", json!({"filter": "~m POST"})).await;
    assert_eq!(posts["count"], 1, "{posts}");

    let one = mcp.ok("get_exchange", json!({"id": echo_id})).await;
    assert_eq!(one["method"], "POST");
    assert_eq!(one["status"], 200);
    assert_eq!(one["state"], "complete");
    let missing = mcp.err("get_exchange", json!({"id": 9999})).await;
    assert!(missing.contains("no exchange 9999"), "{missing}");
}

pub(crate) const SECRET_KEY: &str = "sk-ant-api03-mcp-test-secret-0123456789";
pub(crate) const SECRET_BEARER: &str = "tok-mcp-bearer-9876543210";

/// One request carrying secrets through llmspy to `up`'s echo.
pub(crate) async fn secret_traffic(proxy: &mut TestProxy, up: &Upstream) {
    let client = proxied(&proxy.url(), &proxy.ca_file);
    let resp = client
        .post(up.https("/echo"))
        .header("x-api-key", SECRET_KEY)
        .header("authorization", format!("Bearer {SECRET_BEARER}"))
        .json(&json!({"model": "m", "note": "hello"}))
        .send()
        .await
        .expect("echo");
    assert_eq!(resp.status(), 200);
    resp.bytes().await.expect("body");
    proxy.finished(1).await;
}

fn assert_no_secrets(text: &str) {
    for s in [SECRET_KEY, SECRET_BEARER] {
        assert!(!text.contains(s), "{s} leaked: {text}");
    }
}

#[tokio::test]
async fn record_llm_fixtures_writes_a_fixture_without_the_secrets() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    secret_traffic(&mut proxy, &up).await;
    let root = proxy.files_root.canonicalize().expect("root");
    let file = root.join("fixtures").join("fixture.json");

    let mut mcp = Session::open(&proxy).await;
    // A relative path lands inside the files root, directories created.
    let summary = mcp
        .ok(
            "record_llm_fixtures",
            json!({"path": "fixtures/fixture.json"}),
        )
        .await;
    assert_eq!(summary["expectations"], 1, "{summary}");
    assert_eq!(summary["path"], file.to_str().expect("utf-8"));
    let redacted = summary["redacted"].to_string();
    assert!(
        redacted.contains("x-api-key") && redacted.contains("authorization"),
        "{redacted}"
    );
    let text = std::fs::read_to_string(&file).expect("the fixture file is written");
    assert_no_secrets(&text);
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(doc["llmspy"]["redacted"], summary["redacted"]);
    assert_eq!(loader::load(&file).expect("it loads back").len(), 1);

    // Loaded back through the MCP tool, it answers the request.
    let loaded = mcp
        .ok(
            "load_expectations_from_file",
            json!({"path": file.to_str().expect("utf-8")}),
        )
        .await;
    assert_eq!(loaded["loaded"], 1);

    let none = mcp
        .ok(
            "record_llm_fixtures",
            json!({"path": root.join("none.json").to_str().expect("utf-8"), "requestPath": "/nothing"}),
        )
        .await;
    assert_eq!(none["expectations"], 0, "the requestPath filter applies");
}

#[tokio::test]
async fn the_rest_twin_records_to_a_file_or_inline() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    secret_traffic(&mut proxy, &up).await;
    let http = direct();
    let url = format!("{}/llmspy/fixtures/record", proxy.url());

    let file = proxy.files_root.join("rest.json");
    let resp = http
        .put(&url)
        .json(&json!({"path": file}))
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), 200);
    let summary: Value = resp.json().await.expect("json");
    assert_eq!(summary["expectations"], 1, "{summary}");
    assert!(summary.get("fixture").is_none(), "written, not returned");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("JSON");

    // Options in the query; without a path the fixture comes back inline,
    // the same as the file.
    let inline = http
        .put(format!("{url}?requestPath=%2Fecho&host=127.0.0.1"))
        .send()
        .await
        .expect("put");
    assert_eq!(inline.status(), 200);
    let inline_text = inline.text().await.expect("body");
    assert_no_secrets(&inline_text);
    let inline: Value = serde_json::from_str(&inline_text).expect("json");
    assert_eq!(inline["expectations"], 1);
    assert_eq!(inline["fixture"], written);
    let redacted = inline["fixture"]["llmspy"]["redacted"].to_string();
    assert!(redacted.contains("x-api-key"), "{redacted}");
    assert_eq!(
        inline["fixture"]["expectations"][0]["httpRequest"]["path"],
        "/echo"
    );

    let other_host = http
        .put(format!("{url}?host=example.com"))
        .send()
        .await
        .expect("put");
    let other_host: Value = other_host.json().await.expect("json");
    assert_eq!(other_host["expectations"], 0);
    assert_eq!(
        other_host["warnings"][0],
        "nothing recorded: no finished exchange matches host example.com",
        "{other_host}"
    );

    let bad = http
        .put(&url)
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .expect("put");
    assert_eq!(bad.status(), 400);
    // A misspelt option, an empty path: said, nothing recorded inline.
    for (options, says) in [
        (json!({"pth": "typo.json"}), "(did you mean path?)"),
        (json!({"path": ""}), "the path is empty"),
    ] {
        let resp = http.put(&url).json(&options).send().await.expect("put");
        assert_eq!(resp.status(), 400, "{options}");
        let msg = resp.text().await.expect("body");
        assert!(msg.contains(says), "{options}: {msg}");
    }
    // The file exists now: replacing it must be asked for.
    let again = http
        .put(&url)
        .json(&json!({"path": "rest.json"}))
        .send()
        .await
        .expect("put");
    assert_eq!(again.status(), 409);
    let msg = again.text().await.expect("body");
    assert!(msg.contains("overwrite"), "{msg}");
    let replaced = http
        .put(&url)
        .json(&json!({"path": "rest.json", "overwrite": true}))
        .send()
        .await
        .expect("put");
    assert_eq!(replaced.status(), 200);
    let post = http.post(&url).send().await.expect("post");
    assert_eq!(post.status(), 405);
    // MockServer's prefix serves it too.
    let mockserver = http
        .put(format!("{}/mockserver/fixtures/record", proxy.url()))
        .send()
        .await
        .expect("put");
    assert_eq!(mockserver.status(), 200);
}

#[tokio::test]
async fn bad_arguments_are_tool_errors_that_name_the_argument() {
    let proxy = proxy(None).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("f.json");
    let path = file.to_str().expect("utf-8");
    let mut mcp = Session::open(&proxy).await;
    let cases = [
        (
            "record_llm_fixtures",
            json!({}),
            &["missing argument \"path\"", "a string"][..],
        ),
        (
            "record_llm_fixtures",
            json!({"path": path, "keepTimming": true}),
            &["unknown argument \"keepTimming\"", "keepTiming"],
        ),
        (
            "record_llm_fixtures",
            json!({"path": 7}),
            &["\"path\"", "a string", "7"],
        ),
        (
            "get_exchange",
            json!({"id": "first"}),
            &["\"id\"", "an integer", "\"first\""],
        ),
        (
            "list_traffic",
            json!({"limit": 0}),
            &["\"limit\"", "at least 1"],
        ),
        ("list_traffic", json!({"filter": "~m ("}), &["bad filter"]),
        (
            "clear",
            json!({"type": "everything"}),
            &["\"type\"", "\"all\"", "everything"],
        ),
        ("export", json!({"format": "pdf"}), &["pdf"]),
        (
            "load_expectations_from_file",
            json!({"path": dir.path().join("nope.json")}),
            &["nope.json"],
        ),
        (
            "create_expectation",
            json!({"expectation": {"httpResponse": 5}}),
            &["incorrect expectation"],
        ),
        (
            "debug_request_mismatch",
            json!({}),
            &["exchangeId", "request"],
        ),
        (
            "list_traffic",
            json!([1]),
            &["JSON object", "list_traffic takes"],
        ),
        (
            "no_such_tool",
            json!({}),
            &["unknown tool \"no_such_tool\"", "tools/list"],
        ),
    ];
    for (tool, args, want) in cases {
        let msg = mcp.err(tool, args.clone()).await;
        for w in want {
            assert!(msg.contains(w), "{tool} {args}: {msg:?} should say {w:?}");
        }
    }
    assert!(!file.exists(), "a rejected call writes nothing");
    // An optional argument given as null is absent, not wrong.
    let all = mcp.ok("list_traffic", json!({"filter": null})).await;
    assert_eq!(all["count"], 0);
    // A listed word in any case, as the HTTP API takes it.
    let cleared = mcp.ok("clear", json!({"type": "EXPECTATIONS"})).await;
    assert_eq!(cleared["cleared"], 0, "{cleared}");
}

#[tokio::test]
async fn stdio_ingest_makes_mcp_traffic_appear() {
    let mut proxy = proxy(None).await;
    let http = direct();
    let url = format!("{}/llmspy/mcp-stdio/ingest", proxy.url());
    let call = json!({
        "command": "weather-server",
        "request": {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "forecast", "arguments": {"city": "Oslo"}}},
        "response": {"jsonrpc": "2.0", "id": 4,
            "result": {"content": [{"type": "text", "text": "sunny"}], "isError": false}},
        "durationUs": 1500,
    });
    let note = json!({
        "command": "weather-server",
        "request": {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "response": null,
    });
    let mut ids = Vec::new();
    for doc in [&call, &note] {
        let resp = http.post(&url).json(doc).send().await.expect("ingest");
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("json");
        ids.push(v["id"].as_u64().expect("the exchange id"));
    }
    let done = proxy.finished(2).await;
    let by_id = |id: u64| done.iter().find(|e| e.id == id).expect("stored");

    let ex = by_id(ids[0]);
    assert_eq!(ex.request.scheme, "stdio");
    assert_eq!(ex.request.host, "weather-server");
    assert_eq!(ex.timings.end_us, Some(1500));
    let a = llmspy::llm::analyse(ex).expect("analysed");
    assert_eq!(a.kind, llmspy::llm::Kind::Mcp);
    let m = a.mcp.expect("an MCP call");
    assert_eq!(m.method.as_deref(), Some("tools/call"));
    assert_eq!(m.tool.as_deref(), Some("forecast"));
    assert!(!m.is_error);
    let n = llmspy::llm::analyse(by_id(ids[1]))
        .and_then(|a| a.mcp)
        .expect("MCP");
    assert_eq!(n.method.as_deref(), Some("notifications/initialized"));
    assert_eq!(by_id(ids[1]).response.as_ref().map(|r| r.status), Some(202));

    // The retrieve API lists them as MCP traffic.
    let listed: Value = http
        .put(format!(
            "{}/llmspy/retrieve?type=REQUEST_RESPONSES",
            proxy.url()
        ))
        .send()
        .await
        .expect("retrieve")
        .json()
        .await
        .expect("json");
    let kinds: Vec<&Value> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|e| &e["llm"]["kind"])
        .collect();
    assert_eq!(kinds, [&json!("mcp"), &json!("mcp")], "{listed}");

    // A fixture holds HTTP traffic only: stdio has nothing to replay.
    let fixture: Value = http
        .put(format!("{}/llmspy/fixtures/record", proxy.url()))
        .send()
        .await
        .expect("record")
        .json()
        .await
        .expect("json");
    assert_eq!(fixture["expectations"], 0, "{fixture}");

    for bad in ["not json", r#"{"request": 5}"#, r#"{"response": {}}"#] {
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 400, "{bad}");
    }
}

/// What the traffic tools return goes into an agent's context and on to
/// its provider: a key in the query string, in a header or quoted in the
/// prompt is masked there as in exports.
#[tokio::test]
async fn the_traffic_tools_mask_secrets_for_the_agent() {
    const QUERY_KEY: &str = "AIzaMcpQuerySecret0123456789";
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    let client = proxied(&proxy.url(), &proxy.ca_file);
    let resp = client
        .post(up.https(&format!("/v1/messages?key={QUERY_KEY}")))
        .header("x-api-key", SECRET_KEY)
        .json(
            &json!({"model": "claude-test", "max_tokens": 5, "messages": [
            {"role": "user", "content": format!("my key is {SECRET_KEY}, check it")}]}),
        )
        .send()
        .await
        .expect("call");
    resp.bytes().await.expect("body");
    proxy.finished(1).await;

    let mut mcp = Session::open(&proxy).await;
    let listed = mcp.ok("list_traffic", json!({})).await;
    let id = listed["exchanges"][0]["id"].as_u64().expect("an id");
    let url = listed["exchanges"][0]["url"].as_str().expect("a url");
    assert!(url.contains("key=***REDACTED***"), "{url}");
    let got = mcp.ok("get_exchange", json!({"id": id})).await;
    let text = format!("{listed}{got}");
    for secret in [QUERY_KEY, SECRET_KEY] {
        assert!(!text.contains(secret), "{secret} reached the agent: {text}");
    }
    assert!(
        got.to_string()
            .contains("my key is ***REDACTED***, check it"),
        "the prompt is there, its echo masked: {got}"
    );
}

/// `debug_request_mismatch` quotes the request it explains: its header
/// values, its prompt. Quoted into an agent's context, they are masked as
/// the traffic tools mask them, and so is a key of the request that the
/// expectation itself quotes; the fields that differ are still named.
#[tokio::test]
async fn debug_request_mismatch_quotes_no_key_to_the_agent() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    let mut mcp = Session::open(&proxy).await;
    mcp.ok(
        "create_expectation",
        json!({"expectation": {"id": "needs-auth", "httpRequest": {
            "method": "POST", "path": "/v1/messages",
            "headers": {"authorization": ["Bearer sk-expected-key-000"]},
            "body": {"type": "STRING", "string": "nothing like it"}},
            "httpResponse": {"body": "ok"}}}),
    )
    .await;
    let client = proxied(&proxy.url(), &proxy.ca_file);
    let resp = client
        .post(up.https("/v1/messages"))
        .header("authorization", format!("Bearer {SECRET_BEARER}"))
        .json(&json!({"model": "m", "messages": [
            {"role": "user", "content": format!("the key is {SECRET_BEARER}")}]}))
        .send()
        .await
        .expect("call");
    resp.bytes().await.expect("body");
    proxy.finished(1).await;
    let listed = mcp.ok("list_traffic", json!({})).await;
    let id = listed["exchanges"][0]["id"].as_u64().expect("an id");

    let got = mcp
        .ok("debug_request_mismatch", json!({"exchangeId": id}))
        .await;
    assert_no_secrets(&got.to_string());
    assert_eq!(got["closestExpectation"], "needs-auth", "{got}");
    let fields: Vec<&str> = got["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["header authorization", "body"], "{got}");
    let text = got.to_string();
    assert!(text.contains("Bearer ***REDACTED***"), "{got}");
    assert!(text.contains("the key is ***REDACTED***"), "{got}");

    // An expectation asking for the very key the request sent: it matches,
    // and the answer says so without quoting it.
    mcp.ok("clear", json!({"type": "expectations"})).await;
    mcp.ok(
        "create_expectation",
        json!({"expectation": {"id": "same-key", "httpRequest": {
            "path": "/v1/messages",
            "headers": {"authorization": [format!("Bearer {SECRET_BEARER}")]},
            "body": {"type": "STRING", "string": "no"}},
            "httpResponse": {"body": "ok"}}}),
    )
    .await;
    let got = mcp
        .ok("debug_request_mismatch", json!({"exchangeId": id}))
        .await;
    assert_no_secrets(&got.to_string());
    assert_eq!(got["differences"][0]["field"], "body", "{got}");
}

/// Traffic that is not an LLM or MCP call has no analysis: `get_exchange`
/// quotes its headers and body text instead, masked, so an agent can read
/// why an API refused it.
#[tokio::test]
async fn get_exchange_quotes_other_traffic_masked() {
    let up = Upstream::start().await;
    let mut proxy = proxy(Some(&up)).await;
    secret_traffic(&mut proxy, &up).await;
    let mut mcp = Session::open(&proxy).await;
    let listed = mcp.ok("list_traffic", json!({})).await;
    let id = listed["exchanges"][0]["id"].as_u64().expect("an id");
    let got = mcp.ok("get_exchange", json!({"id": id})).await;
    assert_no_secrets(&got.to_string());
    let headers: Vec<&str> = got["request"]["headers"]
        .as_array()
        .expect("request headers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(headers.contains(&"x-api-key: ***REDACTED***"), "{got}");
    let echoed = got["response"]["body"]["text"]
        .as_str()
        .expect("response text");
    assert!(echoed.contains("hello"), "{got}");
    assert_eq!(got["response"]["body"]["cut"], false, "{got}");
}
