use proptest::prelude::*;

use super::*;

/// (event, data, id) of one event, for compact table checks.
type Brief = (String, String, Option<String>);

/// (text, offset, end, complete) of one NDJSON line.
type LineBrief<'a> = (&'a str, u64, u64, bool);

fn summary(events: &[SseEvent]) -> Vec<Brief> {
    events
        .iter()
        .map(|e| (e.event.clone(), e.data.clone(), e.id.clone()))
        .collect()
}

fn ev(event: &str, data: &str) -> Brief {
    (event.to_string(), data.to_string(), None)
}

#[test]
fn sse_table() {
    let cases: &[(&str, &[u8], Vec<Brief>)] = &[
        ("one event", b"data: hi\n\n", vec![ev("message", "hi")]),
        (
            "named event",
            b"event: ping\ndata: {}\n\n",
            vec![ev("ping", "{}")],
        ),
        (
            "multi-line data",
            b"data: a\ndata: b\n\n",
            vec![ev("message", "a\nb")],
        ),
        (
            "no space after colon",
            b"data:x\n\n",
            vec![ev("message", "x")],
        ),
        (
            "two spaces keep one",
            b"data:  x\n\n",
            vec![ev("message", " x")],
        ),
        (
            "comment ignored",
            b": keep-alive\ndata: x\n\n",
            vec![ev("message", "x")],
        ),
        ("crlf", b"event: a\r\ndata: 1\r\n\r\n", vec![ev("a", "1")]),
        (
            "lone cr",
            b"data: 1\r\rdata: 2\r\r",
            vec![ev("message", "1"), ev("message", "2")],
        ),
        (
            "bom skipped",
            b"\xEF\xBB\xBFdata: x\n\n",
            vec![ev("message", "x")],
        ),
        ("no data no event", b"event: x\n\n", vec![]),
        ("field without colon", b"data\n\n", vec![ev("message", "")]),
        (
            "unknown field ignored",
            b"foo: bar\ndata: x\n\n",
            vec![ev("message", "x")],
        ),
        (
            "trailing incomplete kept",
            b"data: a\n\ndata: b",
            vec![ev("message", "a"), ev("message", "b")],
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(&summary(&parse_sse(body)), want, "{name}");
    }
}

#[test]
fn sse_id_retry_and_offsets() {
    let body = b": hello\nid: 7\nretry: 1500\ndata: x\n\nretry: soon\ndata: y\n\n";
    let events = parse_sse(body);
    assert_eq!(events[0].id.as_deref(), Some("7"));
    assert_eq!(events[0].retry, Some(1500));
    assert_eq!(
        events[0].offset, 8,
        "starts at the id line, after the comment"
    );
    assert_eq!(events[0].end, 35);
    assert!(events[0].complete);
    assert_eq!(events[1].retry, None, "non-digit retry is ignored");
    assert_eq!(events[1].offset, 35);
    assert_eq!(events[1].end, body.len() as u64);
}

#[test]
fn sse_incomplete_tail_is_flagged() {
    let events = parse_sse(b"data: a\n\ndata: {\"par");
    assert_eq!(events.len(), 2);
    assert!(events[0].complete);
    assert!(!events[1].complete);
    assert_eq!(events[1].data, "{\"par");
    assert_eq!(events[1].end, 20);
}

#[test]
fn crlf_split_across_pushes_is_one_line_end() {
    let mut d = SseDecoder::new();
    let mut events = d.push(b"data: a\r");
    events.extend(d.push(b"\n\r"));
    events.extend(d.push(b"\ndata: b\r\n\r\n"));
    events.extend(d.finish());
    assert_eq!(
        summary(&events),
        vec![ev("message", "a"), ev("message", "b")]
    );
    assert_eq!(events[1].offset, 11);
}

#[test]
fn bom_split_across_pushes() {
    let mut d = SseDecoder::new();
    assert!(d.push(b"\xEF").is_empty());
    assert!(d.push(b"\xBB").is_empty());
    let events = d.push(b"\xBFdata: x\n\n");
    assert_eq!(summary(&events), vec![ev("message", "x")]);
    assert_eq!(events[0].offset, 3);
}

#[test]
fn ndjson_table() {
    let cases: &[(&str, &[u8], Vec<LineBrief>)] = &[
        (
            "two lines",
            b"{\"a\":1}\n{\"b\":2}\n",
            vec![("{\"a\":1}", 0, 8, true), ("{\"b\":2}", 8, 16, true)],
        ),
        ("crlf", b"{}\r\n", vec![("{}", 0, 4, true)]),
        ("blank skipped", b"\n \n{}\n", vec![("{}", 3, 6, true)]),
        (
            "unterminated tail",
            b"{}\n{\"x",
            vec![("{}", 0, 3, true), ("{\"x", 3, 6, false)],
        ),
    ];
    for (name, body, want) in cases {
        let got: Vec<_> = parse_ndjson(body)
            .into_iter()
            .map(|l| (l.text, l.offset, l.end, l.complete))
            .collect();
        let want: Vec<_> = want
            .iter()
            .map(|(t, o, e, c)| (t.to_string(), *o, *e, *c))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn arrivals_pick_the_chunk_holding_the_last_byte() {
    let chunks = [
        Chunk {
            at_us: 100,
            offset: 0,
            len: 10,
        },
        Chunk {
            at_us: 250,
            offset: 10,
            len: 5,
        },
        Chunk {
            at_us: 900,
            offset: 15,
            len: 20,
        },
    ];
    let a = Arrivals::new(&chunks);
    let cases = [
        (0, None),
        (1, Some(100)),
        (10, Some(100)),
        (11, Some(250)),
        (15, Some(250)),
        (16, Some(900)),
        (35, Some(900)),
        (36, None),
    ];
    for (end, want) in cases {
        assert_eq!(a.at_us(end), want, "end {end}");
    }
    assert!(!a.is_approximate());
    let scaled = Arrivals::scaled(&chunks, 70, 35);
    assert!(scaled.is_approximate());
    assert_eq!(scaled.at_us(70), Some(900));
    assert_eq!(scaled.at_us(22), Some(250));
}

/// Decode `body` fed in the pieces that `cuts` (sorted offsets) make.
fn decode_in_pieces(body: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut events = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        let cut = cut.clamp(from, body.len());
        events.extend(d.push(&body[from..cut]));
        from = cut;
    }
    events.extend(d.finish());
    events
}

fn ndjson_in_pieces(body: &[u8], cuts: &[usize]) -> Vec<NdjsonLine> {
    let mut d = NdjsonDecoder::new();
    let mut lines = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
        let cut = cut.clamp(from, body.len());
        lines.extend(d.push(&body[from..cut]));
        from = cut;
    }
    lines.extend(d.finish());
    lines
}

/// A well-formed SSE body built from parts, with mixed line endings.
fn sse_body() -> impl Strategy<Value = (Vec<u8>, Vec<String>)> {
    let line_end = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    let event = (
        proptest::option::of("[a-z_.]{1,12}"),
        proptest::collection::vec("[ -~]{0,20}", 1..4),
        any::<bool>(),
        line_end,
    );
    (any::<bool>(), proptest::collection::vec(event, 0..8)).prop_map(|(bom, events)| {
        let mut body = Vec::new();
        let mut datas = Vec::new();
        if bom {
            body.extend_from_slice(BOM);
        }
        for (name, lines, comment, nl) in events {
            if comment {
                body.extend_from_slice(format!(": ping{nl}").as_bytes());
            }
            if let Some(name) = name {
                body.extend_from_slice(format!("event: {name}{nl}").as_bytes());
            }
            for l in &lines {
                body.extend_from_slice(format!("data: {l}{nl}").as_bytes());
            }
            body.extend_from_slice(nl.as_bytes());
            datas.push(lines.join("\n"));
        }
        (body, datas)
    })
}

proptest! {
    #[test]
    fn rechunking_sse_gives_the_same_events(
        (body, datas) in sse_body(),
        mut cuts in proptest::collection::vec(0usize..400, 0..12),
    ) {
        cuts.sort_unstable();
        let whole = parse_sse(&body);
        let pieces = decode_in_pieces(&body, &cuts);
        prop_assert_eq!(&whole, &pieces);
        let got: Vec<String> = whole.iter().map(|e| e.data.clone()).collect();
        prop_assert_eq!(got, datas);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_rechunk_identically(
        body in proptest::collection::vec(any::<u8>(), 0..600),
        mut cuts in proptest::collection::vec(0usize..600, 0..12),
    ) {
        cuts.sort_unstable();
        let whole = parse_sse(&body);
        prop_assert_eq!(&whole, &decode_in_pieces(&body, &cuts));
        for e in &whole {
            prop_assert!(e.offset <= e.end && e.end <= body.len() as u64);
        }
        let lines = parse_ndjson(&body);
        prop_assert_eq!(&lines, &ndjson_in_pieces(&body, &cuts));
    }

    #[test]
    fn arrivals_never_panic(
        chunks in proptest::collection::vec((any::<u64>(), any::<u64>(), any::<u64>()), 0..8),
        end in any::<u64>(),
        decoded in any::<u64>(),
        wire in any::<u64>(),
    ) {
        let chunks: Vec<Chunk> = chunks
            .into_iter()
            .map(|(at_us, offset, len)| Chunk { at_us, offset, len })
            .collect();
        let _ = Arrivals::new(&chunks).at_us(end);
        let _ = Arrivals::scaled(&chunks, decoded, wire).at_us(end);
    }
}
