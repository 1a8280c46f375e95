use std::io::Write;

use proptest::prelude::*;

use super::*;
use crate::exchange::{
    Chunk, Direction, Failure, FailureKind, Payload, State, Timings, WebSocket, WsMessage,
};
use crate::export::native::to_json;

/// What serde writes for the same exchange: the bytes to match.
fn through_serde(ex: &Exchange) -> String {
    String::from_utf8(serde_json::to_vec(&to_json(ex)).unwrap()).unwrap()
}

fn written(ex: &Exchange) -> String {
    let mut out = Vec::new();
    write(ex, &mut out);
    String::from_utf8(out).expect("UTF-8")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn websocket() -> WebSocket {
    let message = |direction, payload| WsMessage {
        at_us: 1500,
        direction,
        opcode: 1,
        size: 5,
        payload,
        truncated: false,
        compressed: true,
    };
    WebSocket {
        messages: vec![
            message(Direction::Send, Payload::Text("hi \"there\"".into())),
            message(Direction::Receive, Payload::Binary(vec![0, 159, 255])),
        ],
        unlisted_sent: 3,
        unlisted_received: 0,
        note: Some("closed".into()),
    }
}

#[test]
fn every_member_of_the_form_is_written_as_serde_writes_it() {
    let cases = [
        Exchange::builder().build(),
        Exchange::builder()
            .client_addr("127.0.0.1:5000")
            .client_app("claude")
            .url("https://api.example.com:8443/v1/messages?q=\"x\"")
            .method("POST")
            .header("content-type", "application/json")
            .header("x-odd", "tab\there \\ and \u{1}")
            .body(r#"{"model":"m","messages":[{"role":"user","content":"héllo\n"}]}"#)
            .status(200)
            .response_header("content-encoding", "gzip")
            .response_body(gzip(b"data: {\"a\":1}\n\n"))
            .chunks(vec![
                Chunk {
                    at_us: 1234,
                    offset: 0,
                    len: 10,
                },
                Chunk {
                    at_us: u64::MAX,
                    offset: 10,
                    len: 7,
                },
            ])
            .timings(Timings {
                request_done_us: Some(10),
                response_head_us: None,
                first_byte_us: Some(3333),
                end_us: Some(1_000_001),
                resent_us: Some(2_500),
            })
            .build(),
        // Not UTF-8; a gzip header that does not decode; a failure; a mock.
        Exchange::builder()
            .via(Via::Socks5)
            .body(vec![0xff, 0xfe, 0])
            .response_header("content-encoding", "gzip")
            .response_body(b"not gzip".to_vec())
            .state(State::Failed(Failure::new(
                FailureKind::UpstreamReset,
                "the upstream \"reset\"",
            )))
            .source(Source::Mock {
                expectation_id: "e-1".into(),
            })
            .build(),
        // Gzip of bytes that are not UTF-8; an empty body with an encoding.
        Exchange::builder()
            .via(Via::BaseUrl)
            .header("content-encoding", "gzip")
            .response_header("content-encoding", "gzip")
            .response_body(gzip(&[0x80, 0x81]))
            .websocket(websocket())
            .build(),
    ];
    for (i, ex) in cases.iter().enumerate() {
        assert_eq!(written(ex), through_serde(ex), "case {i}");
    }
}

#[test]
fn every_ascii_character_and_some_others_are_escaped_as_serde_escapes_them() {
    let all: String = (0u8..128).map(char::from).collect();
    for s in [
        all.as_str(),
        "",
        "\u{7f}\u{80}é€😀",
        "exactly sixteen!",
        "sixteen + \"one\"\n",
    ] {
        let mut out = Vec::new();
        string(&mut out, s);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(s).unwrap()
        );
    }
}

#[test]
fn each_special_byte_at_each_place_of_short_and_long_strings_is_escaped_as_serde_does() {
    // Every length that takes a different path (scalar, two half words,
    // two words, sixteen-byte chunks and their tails), every place in it.
    let specials = ['\0', '\u{1f}', ' ', '"', '\\', '\u{7f}', 'a', '\n', 'é'];
    for len in 1..=40 {
        for at in 0..len {
            for c in specials {
                let mut s: String = "x".repeat(len);
                s.replace_range(at..at + 1, &c.to_string());
                let mut out = Vec::new();
                string(&mut out, &s);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    serde_json::to_string(&s).unwrap(),
                    "{c:?} at {at} of {len}"
                );
            }
        }
    }
}

#[test]
fn a_word_needs_an_escape_exactly_when_one_of_its_bytes_does() {
    // Neighbours of every special byte, in every lane, with the bytes
    // around it high (where a borrow could wrongly mark them) or low.
    for special in 0u8..=255 {
        for lane in 0..8 {
            for fill in [b'a', 0x7f, 0x80, 0xff, 0x21, b'#', b']'] {
                let mut bytes = [fill; 8];
                bytes[lane] = special;
                let want = bytes.iter().any(|&b| needs_escape(b));
                assert_eq!(
                    word_needs_escape(u64::from_le_bytes(bytes)),
                    want,
                    "{bytes:?}"
                );
            }
        }
    }
}

fn arb_exchange() -> impl Strategy<Value = Exchange> {
    (
        ".*",
        prop::collection::vec((".{0,12}", ".{0,40}"), 0..5),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
        ".{0,300}",
        prop::collection::vec((any::<u64>(), any::<u64>(), any::<u64>()), 0..4),
        prop::option::of(any::<u64>()),
        any::<bool>(),
    )
        .prop_map(|(path, headers, binary, text, chunks, end, truncated)| {
            let mut ex = Exchange::builder()
                .path(format!("/{path}"))
                .headers(headers)
                .body(binary.unwrap_or_default())
                .status(201)
                .response_body(text)
                .chunks(
                    chunks
                        .into_iter()
                        .map(|(at_us, offset, len)| Chunk { at_us, offset, len }),
                )
                .timings(Timings {
                    end_us: end,
                    ..Timings::default()
                })
                .build();
            if let Some(resp) = ex.response.as_mut() {
                resp.body.truncated = truncated;
            }
            ex
        })
}

proptest! {
    #[test]
    fn generated_exchanges_are_written_as_serde_writes_them(ex in arb_exchange()) {
        prop_assert_eq!(written(&ex), through_serde(&ex));
    }

    #[test]
    fn any_duration_is_written_as_serde_writes_it(us in 0u64..2_000_000_000_000_000) {
        let mut out = Vec::new();
        millis(&mut out, us);
        prop_assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&(us as f64 / 1000.0)).unwrap());
    }
}

#[test]
fn microseconds_are_written_as_the_float_milliseconds_serde_writes() {
    let edges = [
        0,
        1,
        10,
        100,
        999,
        1000,
        1001,
        1010,
        1100,
        4544,
        123_456_789,
    ];
    let big = [999_999_999_999_999, 1_000_000_000_000_000, u64::MAX];
    let spread = (0..2000u64).map(|i| i * 7919 + i * i * 104_729);
    for us in edges.into_iter().chain(big).chain(spread) {
        let mut out = Vec::new();
        millis(&mut out, us);
        let want = serde_json::to_string(&(us as f64 / 1000.0)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), want, "{us} µs");
    }
}

#[test]
fn every_way_in_is_spelled_as_serde_spells_it() {
    for via in [
        Via::HttpProxy,
        Via::Connect,
        Via::Socks5,
        Via::BaseUrl,
        Via::Other,
    ] {
        assert_eq!(
            format!("\"{}\"", via_label(via)),
            serde_json::to_string(&via).unwrap()
        );
    }
}
