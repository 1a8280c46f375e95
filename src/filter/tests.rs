//! Table-driven tests of the filter parser and matcher.

use super::*;
use crate::exchange::*;

fn exchange() -> Exchange {
    Exchange::builder()
        .id(7)
        .host("api.anthropic.com")
        .path("/v1/messages?beta=true")
        .header("content-type", "application/json")
        .header("x-api-key", "sk-ant-secret")
        .body(&br#"{"model":"claude-sonnet-4","stream":true}"#[..])
        .status(429)
        .response_header("Content-Type", "text/event-stream")
        .response_body(&b"event: error\ndata: {\"type\":\"overloaded_error\"}\n\n"[..])
        .build()
}

fn in_flight() -> Exchange {
    Exchange::builder()
        .id(7)
        .method("GET")
        .url("http://example.test:8080/health")
        .header("content-type", "application/json")
        .header("x-api-key", "sk-ant-secret")
        .state(State::InFlight)
        .build()
}

fn facts() -> Facts {
    Facts {
        provider: Some("anthropic".into()),
        model: Some("claude-sonnet-4".into()),
        tools: vec!["get_weather".into(), "read_file".into()],
        mcp: false,
        stream: true,
    }
}

#[test]
fn matches_table() {
    let ex = exchange();
    let idle = in_flight();
    let f = facts();
    // (expression, matches the complete exchange, matches the in-flight one)
    let table: &[(&str, bool, bool)] = &[
        ("", true, true),
        ("~all", true, true),
        ("~m post", true, false),
        ("~m GET", false, true),
        ("~d anthropic", true, false),
        ("~d '^example\\.test$'", false, true),
        ("~u /v1/messages", true, false),
        ("messages", true, false),
        ("health", false, true),
        ("~u 'http://example.test:8080/'", false, true),
        ("~h 'x-api-key: sk-'", true, true),
        ("~hq event-stream", false, false),
        ("~hs event-stream", true, false),
        ("~t json", true, true),
        ("~ts json", false, false),
        ("~b overloaded", true, false),
        ("~bq overloaded", false, false),
        ("~bs OVERLOADED", true, false),
        ("~c 429", true, false),
        ("~c 4xx", true, false),
        ("~c 2xx", false, false),
        ("~e", false, false),
        ("~q", false, true),
        ("~s", true, false),
        ("!~q", true, false),
        ("~p anthropic", true, false),
        ("~model sonnet", true, false),
        ("~tool weather", true, false),
        ("~tool bash", false, false),
        ("~mcp", false, false),
        ("~stream", true, false),
        ("~m post ~d anthropic", true, false),
        ("~m get | ~d anthropic", true, true),
        ("!(~m get | ~d anthropic)", false, false),
        ("!~m get & !~c 200", true, false),
        ("~q | ~c 429 & ~m GET", false, true),
        ("(~q | ~c 429) & ~m GET", false, true),
        ("!!~q", false, true),
    ];
    for (expr, want_ex, want_idle) in table {
        let filter = parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(
            filter.matches(&ex, Some(&f)),
            *want_ex,
            "{expr} on complete"
        );
        assert_eq!(
            filter.matches(&idle, None),
            *want_idle,
            "{expr} on in-flight"
        );
    }
}

#[test]
fn analysis_filters_match_nothing_without_analysis() {
    let ex = exchange();
    for expr in ["~p anthropic", "~model .", "~tool .", "~mcp"] {
        let filter = parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert!(!filter.matches(&ex, None), "{expr}");
    }
    // A streamed response is recognisable from its content type alone.
    assert!(parse("~stream").unwrap().matches(&ex, None));
}

#[test]
fn body_filter_finds_a_phrase_split_across_stream_events() {
    let mut ex = exchange();
    let resp = ex.response.as_mut().unwrap();
    resp.headers = [("content-type", "text/event-stream")].into();
    resp.body = Body::from_bytes(
        &b"data: {\"delta\":{\"text\":\"It is sunny in Pa\"}}\n\ndata: {\"delta\":{\"text\":\"ris, \\u6771\"}}\n\n"[..],
    );
    for (expr, hit) in [
        (r#"~bs "in Paris""#, true),
        ("~bs 東", true),
        ("~b Paris", true),
        ("~bq Paris", false),
        (r#"~bs "in London""#, false),
    ] {
        assert_eq!(parse(expr).unwrap().matches(&ex, None), hit, "{expr}");
    }
}

#[test]
fn body_filter_sees_through_content_encoding() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"hidden treasure").unwrap();
    let mut ex = exchange();
    let resp = ex.response.as_mut().unwrap();
    resp.headers.push("content-encoding", "gzip");
    resp.body = Body::from_bytes(enc.finish().unwrap());
    assert!(parse("~bs treasure").unwrap().matches(&ex, None));
    assert!(parse("~bs treasure").unwrap().reads_bodies());
    assert!(!parse("~m x").unwrap().reads_bodies());
}

#[test]
fn errors_table() {
    let table: &[(&str, &str)] = &[
        ("~m", "at column 3: expected a value after ~m"),
        ("~d api & ~m", "at column 12: expected a value after ~m"),
        (
            "~m POST &",
            "at column 10: expected an expression after '&'",
        ),
        ("~q |", "at column 5: expected an expression after '|'"),
        ("!", "at column 2: expected an expression after '!'"),
        (
            "(~q",
            "at column 4: expected ')' to close the '(' at column 1",
        ),
        ("~q)", "at column 3: unexpected ')'"),
        ("()", "at column 2: expected an expression inside '()'"),
        (
            "& ~q",
            "at column 1: expected an expression before this operator",
        ),
        (
            "~c abc",
            "at column 4: expected a status code after ~c (like 200 or 4xx), found \"abc\"",
        ),
        (
            "~u \"open",
            "at column 4: unterminated string: expected a closing \"",
        ),
        ("~", "at column 1: expected a filter name after '~'"),
    ];
    for (expr, want) in table {
        let err = parse(expr).expect_err(expr);
        assert_eq!(&err.to_string(), want, "{expr}");
    }
}

#[test]
fn unknown_filter_and_bad_regex_name_the_spot() {
    let err = parse("~m GET ~zz x").expect_err("unknown");
    assert_eq!(err.column, 8);
    assert!(
        err.message.starts_with("unknown filter ~zz; known: ~h"),
        "{err}"
    );
    let err = parse("~u 'a(b'").expect_err("regex");
    assert_eq!(err.column, 4);
    assert!(
        err.message.starts_with("invalid regular expression for ~u"),
        "{err}"
    );
}

#[test]
fn quoted_values_keep_spaces_operators_and_regex_escapes() {
    let mut ex = exchange();
    ex.request.path = "/a b|c/d1".into();
    assert!(parse("~u \"a b|c\"").unwrap().matches(&ex, None));
    assert!(parse(r"~u 'd\d'").unwrap().matches(&ex, None));
    assert!(parse(r#"~u "it\"s""#).is_ok());
}

#[test]
fn status_pattern_table() {
    let table: &[(&str, u16, bool)] = &[
        ("200", 200, true),
        ("200", 201, false),
        ("2xx", 204, true),
        ("2xx", 304, false),
        ("5x3", 503, true),
        ("XXX", 999, true),
    ];
    for (pat, status, want) in table {
        let p = StatusPattern::parse(pat).expect(pat);
        assert_eq!(p.matches(*status), *want, "{pat} vs {status}");
    }
    assert!(StatusPattern::parse("20").is_none());
    assert!(StatusPattern::parse("2000").is_none());
}

#[test]
fn display_and_all() {
    let f = parse("~m GET").unwrap();
    assert_eq!(f.to_string(), "~m GET");
    assert!(!f.is_all());
    assert!(Filter::all().is_all());
    assert!(parse("   ").unwrap().is_all());
}

#[test]
fn the_store_summary_is_an_analysis_view() {
    use std::sync::Arc;
    let summary = crate::llm::Summary {
        kind: crate::llm::Kind::Mcp,
        provider: "mcp",
        model: None,
        stream: false,
        tokens_in: None,
        tokens_out: None,
        cost_usd: None,
        stop_reason: None,
        error: false,
        tools: Arc::from(Vec::<String>::new()),
        mcp_method: Some(Arc::from("tools/call")),
        mcp_tool: Some(Arc::from("get_forecast")),
        thinking: false,
    };
    let ex = exchange();
    for (expr, want) in [
        ("~mcp", true),
        ("~tool forecast", true),
        ("~p mcp", true),
        ("~model .", false),
    ] {
        let f = parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(f.matches(&ex, Some(&summary)), want, "{expr}");
    }
}

proptest::proptest! {
    /// Any text parses or fails with a column inside (or just past) it;
    /// nothing panics, and a parsed filter evaluates.
    #[test]
    fn arbitrary_text_never_panics(text in "[~!&|()\"' a-z0-9.*\\\\]{0,40}") {
        match parse(&text) {
            Ok(f) => {
                let _ = f.matches(&exchange(), Some(&facts()));
            }
            Err(e) => proptest::prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1),
        }
    }
}

#[test]
fn websocket_connections_and_their_messages() {
    let mut ws = exchange();
    let message = |direction, text: &str| WsMessage {
        at_us: 0,
        direction,
        opcode: opcode::TEXT,
        size: text.len() as u64,
        payload: Payload::Text(text.into()),
        truncated: false,
        compressed: false,
    };
    ws.websocket = Some(Box::new(WebSocket {
        messages: vec![
            message(Direction::Send, r#"{"type":"response.create"}"#),
            message(Direction::Receive, r#"{"type":"session.created"}"#),
        ],
        ..WebSocket::default()
    }));
    let plain = exchange();
    let table: &[(&str, bool, bool)] = &[
        ("~ws", true, false),
        ("!~ws", false, true),
        ("~b session.created", true, false),
        ("~bq response.create", true, false),
        ("~bq session.created", false, false),
        ("~bs session.created", true, false),
    ];
    for (expr, on_ws, on_plain) in table {
        let f = parse(expr).expect(expr);
        assert_eq!(f.matches(&ws, None), *on_ws, "{expr} on the WebSocket");
        assert_eq!(f.matches(&plain, None), *on_plain, "{expr} on plain HTTP");
    }
}

#[test]
fn app_matches_the_program_that_sent_it() {
    let mut ex = exchange();
    let f = parse("~app claude").unwrap();
    assert!(!f.matches(&ex, None), "no program known");
    ex.client_app = Some("claude".into());
    assert!(f.matches(&ex, None));
    assert!(!parse("~app python").unwrap().matches(&ex, None));
}

#[test]
fn grpc_calls_and_the_ones_that_failed() {
    let call = |status: Option<&str>| {
        let mut ex = Exchange::builder()
            .method("POST")
            .url("https://grpc.test/pkg.Svc/Get")
            .header("content-type", "application/grpc")
            .status(200)
            .response_header("content-type", "application/grpc")
            .build();
        if let Some(code) = status {
            let r = ex.response.as_mut().expect("response");
            r.body.trailers.push("grpc-status", code);
        }
        ex
    };
    let (ok, failed, unfinished, plain) =
        (call(Some("0")), call(Some("5")), call(None), exchange());
    let table: &[(&str, [bool; 4])] = &[
        ("~grpc", [true, true, true, false]),
        ("~grpcerr", [false, true, false, false]),
        ("~grpc & !~grpcerr", [true, false, true, false]),
        ("~c 200 & ~grpcerr", [false, true, false, false]),
    ];
    for (expr, want) in table {
        let f = parse(expr).expect(expr);
        let got = [&ok, &failed, &unfinished, &plain].map(|ex| f.matches(ex, None));
        assert_eq!(&got, want, "{expr}");
    }
}
