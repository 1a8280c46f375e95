use proptest::prelude::*;

use super::*;

/// The format's empty message: no headers, no payload.
const EMPTY: [u8; 16] = [
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff,
];

fn chunk(text: &str) -> Vec<u8> {
    encode(
        &[
            (":event-type", "chunk"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        text.as_bytes(),
    )
}

#[test]
fn the_empty_message_matches_the_format_vector() {
    assert_eq!(encode(&[], b""), EMPTY);
    let (items, rest) = decode(&EMPTY);
    assert_eq!(rest, 0);
    let m = items[0].as_ref().expect("message");
    assert_eq!((m.offset, m.end, m.payload.len()), (0, 16, 0));
}

#[test]
fn headers_and_payload_round_trip_with_offsets() {
    let mut body = chunk("{\"a\":1}");
    let first = body.len() as u64;
    body.extend(chunk("{\"b\":2}"));
    let (items, rest) = decode(&body);
    assert_eq!(rest, 0);
    let m: Vec<&Message> = items.iter().map(|i| i.as_ref().expect("ok")).collect();
    assert_eq!(m[0].header(":event-type"), Some("chunk"));
    assert_eq!(m[0].header(":message-type"), Some("event"));
    assert_eq!(m[1].payload, b"{\"b\":2}");
    assert_eq!((m[1].offset, m[1].end), (first, body.len() as u64));
    assert_eq!(message_ends(&body), vec![first as usize, body.len()]);
}

#[test]
fn every_header_type_parses() {
    let mut head = Vec::new();
    let mut add = |name: &str, kind: u8, value: &[u8]| {
        head.push(name.len() as u8);
        head.extend_from_slice(name.as_bytes());
        head.push(kind);
        head.extend_from_slice(value);
    };
    add("t", 0, &[]);
    add("f", 1, &[]);
    add("b", 2, &[0xff]);
    add("s", 3, &(-2i16).to_be_bytes());
    add("i", 4, &(-3i32).to_be_bytes());
    add("l", 5, &(-4i64).to_be_bytes());
    add("y", 6, &[0, 2, 0xde, 0xad]);
    add("z", 7, &[0, 2, b'h', b'i']);
    add("d", 8, &1_700_000_000_000i64.to_be_bytes());
    add("u", 9, &[7; 16]);
    let parsed = headers(&head).expect("parses");
    let values: Vec<HeaderValue> = parsed.into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        values,
        vec![
            HeaderValue::Bool(true),
            HeaderValue::Bool(false),
            HeaderValue::Byte(-1),
            HeaderValue::Short(-2),
            HeaderValue::Int(-3),
            HeaderValue::Long(-4),
            HeaderValue::Bytes(vec![0xde, 0xad]),
            HeaderValue::String("hi".into()),
            HeaderValue::Timestamp(1_700_000_000_000),
            HeaderValue::Uuid([7; 16]),
        ]
    );
    assert_eq!(headers(&[1, b'x', 42]), None, "unknown type");
    assert_eq!(
        headers(&[1, b'x', 7, 0, 9, b'a']),
        None,
        "value past the end"
    );
}

#[test]
fn a_bad_message_crc_skips_that_message_only() {
    let mut body = chunk("one");
    let last = body.len() - 1;
    body[last] ^= 1;
    body.extend(chunk("two"));
    let (items, _) = decode(&body);
    assert_eq!(items[0], Err(FrameError::MessageCrc { offset: 0 }));
    assert_eq!(items[1].as_ref().expect("second").payload, b"two");
    assert!(items[0].as_ref().unwrap_err().to_string().contains("CRC"));
}

#[test]
fn a_bad_prelude_stops_the_decoder() {
    let mut body = chunk("one");
    body[9] ^= 0x40;
    body.extend(chunk("two"));
    let (items, rest) = decode(&body);
    assert_eq!(items, vec![Err(FrameError::PreludeCrc { offset: 0 })]);
    assert!(items[0].as_ref().unwrap_err().is_fatal());
    assert_eq!(rest, 0);
}

#[test]
fn a_cut_body_leaves_pending_bytes() {
    let body = chunk("payload");
    let (items, rest) = decode(&body[..body.len() - 3]);
    assert!(items.is_empty());
    assert_eq!(rest, body.len() - 3);
}

fn body_of(payloads: &[String]) -> Vec<u8> {
    payloads.iter().flat_map(|p| chunk(p)).collect()
}

proptest! {
    #[test]
    fn any_split_gives_the_same_messages(
        payloads in proptest::collection::vec("\\PC{0,40}", 0..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let body = body_of(&payloads);
        let (whole, _) = decode(&body);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
        points.sort_unstable();
        let mut d = Decoder::new();
        let mut pieces = Vec::new();
        let mut from = 0;
        for p in points.into_iter().chain([body.len()]) {
            pieces.extend(d.push(&body[from..p]));
            from = p;
        }
        prop_assert_eq!(&pieces, &whole);
        prop_assert_eq!(whole.len(), payloads.len());
        prop_assert_eq!(d.pending(), 0);
    }

    #[test]
    fn corrupted_bytes_give_errors_never_a_panic(
        payloads in proptest::collection::vec("\\PC{0,40}", 1..5),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let mut body = body_of(&payloads);
        for (at, mask) in &flips {
            let i = at.index(body.len());
            body[i] ^= mask;
        }
        let (items, _) = decode(&body);
        // A flipped bit is always caught by one of the two CRCs (or a
        // length check), so some message is reported bad.
        prop_assert!(items.iter().any(|i| i.is_err()) || items.len() < payloads.len());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
        let _ = message_ends(&bytes);
    }
}
