//! The detail pane: Raw tab, secrets, search, scrolling, failures.

use super::support::*;

#[test]
fn open_post_with_secrets_masked() {
    snap_both("detail_post", "gj<enter>");
}

#[test]
fn secrets_revealed() {
    snap_both("detail_revealed", "gj<enter>R");
}

#[test]
fn search_highlights_and_counts() {
    snap_both("detail_search", "gj<enter>/widget<enter>n");
}

/// `/` again shows the last query selected: typing replaces it, Enter
/// repeats it, Esc keeps it.
#[test]
fn a_new_search_replaces_the_last_query() {
    let (mut app, _) = app_with(sample());
    resize(&mut app, 160, 48);
    press(&mut app, "gj<enter>/widget<enter>");
    assert_eq!(app.detail.search.query, "widget");
    press(&mut app, "/gad<enter>");
    assert_eq!(app.detail.search.query, "gad", "typed over, not appended");
    press(&mut app, "/<enter>");
    assert_eq!(app.detail.search.query, "gad", "Enter repeats");
    press(&mut app, "/x<esc>");
    assert_eq!(app.detail.search.query, "gad", "Esc keeps the last");
    press(&mut app, "/<right>s<enter>");
    assert_eq!(app.detail.search.query, "gads", "an arrow edits it");
}

#[test]
fn failed_exchange_says_why() {
    snap_both("detail_failed", "kk<enter>");
}

#[test]
fn binary_body_is_summarised() {
    snap_both("detail_binary", "<enter>");
}

#[test]
fn streaming_exchange() {
    snap_both("detail_streaming", "k<enter>");
}

#[test]
fn in_flight_exchange() {
    snap_both("detail_in_flight", "kkk<enter>");
}

#[test]
fn tab_moves_between_list_and_detail_when_wide() {
    let mut app = app();
    resize(&mut app, 160, 48);
    press(&mut app, "<tab>");
    assert_eq!(app.focus, llmspy::tui::app::Focus::Detail);
    press(&mut app, "<tab>");
    assert_eq!(app.focus, llmspy::tui::app::Focus::Main);
    press(&mut app, "<s-tab>q");
    assert_eq!(app.focus, llmspy::tui::app::Focus::Main);
}

#[test]
fn scrolling_a_long_body() {
    let long: String = (0..200).map(|i| format!("line {i}\n")).collect();
    let ex = exchange(
        1,
        request("GET", "https", "long.test", "/"),
        Some(response(200, "text/plain", long.as_bytes())),
    );
    let (mut app, _) = app_with(vec![ex]);
    press(&mut app, "<enter><pgdn>jjj");
    let screen = render(&mut app, 80, 24);
    snap("detail_scrolled_80x24", screen);
    press(&mut app, "G");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("line 199"), "{screen}");
    press(&mut app, "g");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("GET https://long.test/"), "{screen}");
}

/// A failed gRPC call answers HTTP 200: the list shows its gRPC code, the
/// detail names it, and Raw shows its messages read as protobuf and the
/// trailers that carried the status, a secret among them masked until
/// revealed.
#[test]
fn a_failed_grpc_call_shows_its_status_and_trailers() {
    // One message: field 1 "pong", field 2 { 1: 7 }.
    let message = [
        &[0u8, 0, 0, 0, 10, 0x0a, 4][..],
        b"pong",
        &[0x12, 2, 0x08, 7],
    ]
    .concat();
    let mut resp = response(200, "application/grpc", &message);
    resp.version = "HTTP/2".into();
    resp.body.trailers.push("grpc-status", "5");
    resp.body.trailers.push("grpc-message", "no model %22x%22");
    resp.body.trailers.push("x-api-key", "sk-in-a-trailer");
    let mut req = request("POST", "https", "grpc.test", "/pkg.Svc/Get");
    req.version = "HTTP/2".into();
    let mut ex = exchange(1, req, Some(resp));
    // The message arrived in two frames, the second 130 ms in.
    let frame = |at_ms: u64, offset, len| llmspy::exchange::Chunk {
        at_us: at_ms * 1000,
        offset,
        len,
    };
    ex.chunks = vec![frame(125, 0, 6), frame(130, 6, 9)];
    let (mut app, _) = app_with(vec![ex]);
    let list = render(&mut app, 160, 48);
    assert!(list.contains(" g5 "), "{list}");
    press(&mut app, "<enter>");
    let screen = render(&mut app, 160, 48);
    for shown in [
        "→ 200 gRPC NOT_FOUND",
        "gRPC NOT_FOUND: no model \"x\"",
        "trailers (sent after the body):",
        "grpc-message: no model %22x%22",
        "── message 1 (10 B, at 130ms)",
        "1: \"pong\"",
        "2 {",
        "  1: 7",
    ] {
        assert!(screen.contains(shown), "{shown}: {screen}");
    }
    assert!(!screen.contains("sk-in-a-trailer"), "{screen}");
    snap("detail_grpc_trailers_160x48", screen);
    press(&mut app, "R");
    let revealed = render(&mut app, 160, 48);
    assert!(
        revealed.contains("x-api-key: sk-in-a-trailer"),
        "{revealed}"
    );
}

/// A compressed gRPC message is read through its `grpc-encoding`, one
/// that is not protobuf shows as its text, and a body cut mid-message
/// says how much was left over.
#[test]
fn grpc_messages_are_decompressed_and_a_cut_one_is_said() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&[0x0a, 5])
        .and_then(|_| gz.write_all(b"hello"))
        .expect("gzip");
    let packed = gz.finish().expect("gzip");
    let len = u32::try_from(packed.len()).expect("small").to_be_bytes();
    let text = [&[0u8, 0, 0, 0, 9][..], b"pong:ping"].concat();
    let body = [&[1u8][..], &len, &packed, &text, &[0, 0, 0, 0, 50, 0x08]].concat();
    let mut resp = response(200, "application/grpc+proto", &body);
    resp.headers.push("grpc-encoding", "gzip");
    let ex = exchange(
        1,
        request("POST", "https", "grpc.test", "/a.B/C"),
        Some(resp),
    );
    let (mut app, _) = app_with(vec![ex]);
    press(&mut app, "<enter>");
    let screen = render(&mut app, 160, 48);
    for shown in [
        ", gzip)",
        "1: \"hello\"",
        "── message 2 (9 B)",
        "pong:ping",
        "(6 bytes after the last whole message",
    ] {
        assert!(screen.contains(shown), "{shown}: {screen}");
    }
}

/// A key in the query (Gemini's `?key=`) is masked in the list, the
/// detail's head and Raw, as secret headers are, until `R` reveals it in Raw.
#[test]
fn a_secret_query_parameter_is_masked_until_revealed() {
    let req = request(
        "POST",
        "https",
        "gemini.test",
        "/v1beta/models/m:generateContent?key=AIza-query-secret&alt=sse",
    );
    let resp = response(200, "application/json", b"{}");
    let (mut app, _) = app_with(vec![exchange(1, req, Some(resp))]);
    press(&mut app, "<enter>");
    let screen = render(&mut app, 200, 30);
    assert!(!screen.contains("AIza-query-secret"), "{screen}");
    assert!(screen.contains("?key=••••••••&alt=sse"), "{screen}");
    press(&mut app, "R");
    let revealed = render(&mut app, 200, 30);
    assert!(
        revealed.contains("generateContent?key=AIza-query-secret&alt=sse"),
        "{revealed}"
    );
}

/// The Raw tab masks what exports mask, not a list of its own: an AWS
/// session token, a secret body field; a compressed answer to an
/// authenticated request still says it was decoded.
#[test]
fn raw_masks_what_exports_mask_until_revealed() {
    use std::io::Write;
    let mut req = request("POST", "https", "bedrock.test", "/model/m/converse");
    req.headers
        .push("x-amz-security-token", "aws-session-secret");
    req.headers.push("content-type", "application/json");
    req.body = llmspy::exchange::Body::from_bytes(&br#"{"api_key":"body-field-secret","q":1}"#[..]);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(br#"{"answer":"zipped"}"#).expect("gzip");
    let mut resp = response(200, "application/json", &enc.finish().expect("gzip"));
    resp.headers.push("content-encoding", "gzip");
    let (mut app, _) = app_with(vec![exchange(1, req, Some(resp))]);
    press(&mut app, "<enter>4");
    let screen = render(&mut app, 160, 48);
    for secret in ["aws-session-secret", "body-field-secret"] {
        assert!(!screen.contains(secret), "{secret}: {screen}");
    }
    assert!(screen.contains("[decoded gzip]"), "{screen}");
    press(&mut app, "R");
    let revealed = render(&mut app, 160, 48);
    for secret in ["aws-session-secret", "body-field-secret"] {
        assert!(revealed.contains(secret), "{secret}: {revealed}");
    }
}

/// What the copy menu copies leaves masked as the screen shows it, until
/// `R` (which works from the list too, the detail pane beside it).
#[test]
fn every_copy_is_masked_until_revealed() {
    let mut req = request(
        "POST",
        "https",
        "api.test",
        "/v1/x?key=AIza-copy-secret&alt=sse",
    );
    req.headers.push("content-type", "application/json");
    req.body = llmspy::exchange::Body::from_bytes(&br#"{"api_key":"body-copy-secret"}"#[..]);
    let resp = response(200, "application/json", b"{}");
    let (mut app, clip) = app_with(vec![exchange(1, req, Some(resp))]);
    render(&mut app, 160, 48);
    press(&mut app, "gyryuyc");
    press(&mut app, "Ryryu");
    let copied = clip.copied.borrow();
    assert_eq!(copied.len(), 5, "{copied:?}");
    for masked in &copied[..3] {
        assert!(!masked.contains("copy-secret"), "{masked}");
    }
    assert!(copied[3].contains("body-copy-secret") && copied[4].contains("AIza-copy-secret"));
}

/// A prompt pasting the request's key shows it masked in the Messages and
/// Conversation tabs too, until `R`.
#[test]
fn a_key_quoted_in_the_prompt_is_masked_in_every_tab() {
    const KEY: &str = "sk-ant-api03-quoted-secret-123";
    let mut req = request("POST", "https", "api.anthropic.com", "/v1/messages");
    req.headers.push("x-api-key", KEY);
    req.headers.push("content-type", "application/json");
    let body = format!(
        r#"{{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{{"role":"user","content":"my key {KEY} fails"}}]}}"#
    );
    req.body = llmspy::exchange::Body::from_bytes(body.into_bytes());
    let reply = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":1}}"#;
    let resp = response(200, "application/json", reply);
    let (mut app, _) = app_with(vec![exchange(1, req, Some(resp))]);
    for tab in ["1", "2"] {
        press(&mut app, &format!("g<enter>{tab}"));
        let screen = render(&mut app, 160, 48);
        assert!(!screen.contains(KEY), "tab {tab}: {screen}");
        assert!(
            screen.contains("my key ***REDACTED*** fails"),
            "tab {tab}: {screen}"
        );
        press(&mut app, "R");
        let revealed = render(&mut app, 160, 48);
        assert!(
            revealed.contains(&format!("my key {KEY} fails")),
            "tab {tab}: {revealed}"
        );
        press(&mut app, "Rq");
    }
}

#[test]
fn next_and_previous_exchange_from_the_detail() {
    let mut app = app();
    press(&mut app, "g<enter>]]");
    assert_eq!(app.list.selected(), Some(3));
    press(&mut app, "[");
    assert_eq!(app.list.selected(), Some(2));
}

#[test]
fn gzip_body_is_decoded_for_reading() {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(br#"{"compressed":"yes"}"#).expect("gzip");
    let mut resp = response(200, "application/json", &enc.finish().expect("gzip"));
    resp.headers.push("content-encoding", "gzip");
    let ex = exchange(1, request("GET", "https", "gz.test", "/"), Some(resp));
    let (mut app, _) = app_with(vec![ex]);
    press(&mut app, "<enter>");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("[decoded gzip]"), "{screen}");
    assert!(screen.contains("\"compressed\": \"yes\""), "{screen}");
}

#[test]
fn a_large_json_body_scrolls_searches_and_wraps_where_it_is_shown() {
    let note = |i: usize| {
        if i == 4321 {
            "needle ".repeat(40)
        } else {
            "x".into()
        }
    };
    let items: Vec<String> = (0..5000)
        .map(|i| format!(r#"{{"id":{i},"note":"{}"}}"#, note(i)))
        .collect();
    let body = format!("[{}]", items.join(","));
    let ex = exchange(
        1,
        request("GET", "https", "big.test", "/"),
        Some(response(200, "application/json", body.as_bytes())),
    );
    let (mut app, _) = app_with(vec![ex]);
    press(&mut app, "<enter>/NEEDLE<enter>");
    let screen = render(&mut app, 80, 24);
    // The long note wraps to four rows, each a match; the first is shown
    // two rows below the top.
    assert!(screen.contains("/NEEDLE match 1 of 4"), "{screen}");
    assert!(screen.contains(r#""id": 4321,"#), "{screen}");
    let wrapped = screen.lines().filter(|l| l.starts_with("\"needle needle"));
    assert_eq!(wrapped.count(), 3, "{screen}");
    press(&mut app, "nnn");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("match 4 of 4"), "{screen}");
    press(&mut app, "G");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains(r#""id": 4999,"#), "{screen}");
    press(&mut app, "g");
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("GET https://big.test/"), "{screen}");
}
