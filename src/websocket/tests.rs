//! Table and property tests of the frame decoder: any split of the bytes,
//! masked or not, fragmented messages with control frames between the
//! fragments, the byte budget, permessage-deflate, and arbitrary bytes.

use flate2::{Compress, Compression, FlushCompress};
use proptest::prelude::*;

use super::*;
use crate::exchange::opcode::{BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT};

/// A message to put on the wire: its opcode, payload, how many frames it
/// is cut into, and a ping sent between its first two fragments.
#[derive(Debug, Clone)]
struct Wire {
    opcode: u8,
    payload: Vec<u8>,
    fragments: usize,
    ping_between: bool,
}

fn wire_strategy() -> impl Strategy<Value = Wire> {
    (
        prop_oneof![Just(TEXT), Just(BINARY), Just(PING), Just(CLOSE)],
        prop::collection::vec(any::<u8>(), 0..300),
        1usize..4,
        any::<bool>(),
    )
        .prop_map(|(opcode, mut payload, fragments, ping_between)| {
            if opcode >= 0x8 {
                payload.truncate(125);
            }
            Wire {
                opcode,
                payload,
                fragments,
                ping_between,
            }
        })
}

/// The frames of `w`, and the messages a decoder should report for them.
fn frames_of(w: &Wire, mask: Option<[u8; 4]>) -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    if w.opcode >= 0x8 {
        let frame = encode(w.opcode, true, &w.payload, mask);
        return (frame, vec![(w.opcode, w.payload.clone())]);
    }
    let per = w.payload.len().div_ceil(w.fragments).max(1);
    let pieces: Vec<&[u8]> = if w.payload.is_empty() {
        vec![&[]]
    } else {
        w.payload.chunks(per).collect()
    };
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let op = if i == 0 { w.opcode } else { CONTINUATION };
        bytes.extend(encode(op, i + 1 == pieces.len(), piece, mask));
        if i == 0 && pieces.len() > 1 && w.ping_between {
            bytes.extend(encode(PING, true, b"between", mask));
            expected.push((PING, b"between".to_vec()));
        }
    }
    expected.push((w.opcode, w.payload.clone()));
    (bytes, expected)
}

fn feed_split(decoder: &mut Decoder, bytes: &[u8], cuts: &[usize]) -> Vec<Decoded> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for p in points.into_iter().chain([bytes.len()]) {
        out.extend(decoder.feed(&bytes[at..p]));
        at = p;
    }
    out
}

proptest! {
    #[test]
    fn any_split_gives_the_same_messages(
        messages in prop::collection::vec(wire_strategy(), 1..6),
        masked in any::<bool>(),
        key in any::<[u8; 4]>(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mask = masked.then_some(key);
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        for m in &messages {
            let (b, e) = frames_of(m, mask);
            bytes.extend(b);
            expected.extend(e);
        }
        let mut d = Decoder::new(usize::MAX);
        let got = feed_split(&mut d, &bytes, &cuts);
        prop_assert_eq!(d.broken(), None);
        let got: Vec<(u8, Vec<u8>)> = got.into_iter().map(|m| (m.opcode, m.data)).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn the_budget_bounds_what_is_kept_but_not_what_is_counted(
        messages in prop::collection::vec(wire_strategy(), 1..6),
        budget in 0usize..400,
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut bytes = Vec::new();
        let mut sizes = Vec::new();
        for m in &messages {
            let (b, e) = frames_of(m, Some([1, 2, 3, 4]));
            bytes.extend(b);
            sizes.extend(e.iter().map(|(_, p)| p.len() as u64));
        }
        let mut d = Decoder::new(budget);
        let got = feed_split(&mut d, &bytes, &cuts);
        let kept: usize = got.iter().map(|m| m.data.len()).sum();
        prop_assert!(kept <= budget);
        prop_assert_eq!(got.iter().map(|m| m.size).collect::<Vec<_>>(), sizes);
        for m in &got {
            prop_assert_eq!(m.truncated, (m.data.len() as u64) < m.size);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        deflate in any::<bool>(),
        budget in 0usize..200,
    ) {
        let negotiated = Negotiated { deflate, ..Negotiated::default() };
        let mut d = negotiated.decoder(crate::exchange::Direction::Receive, budget);
        let got = feed_split(&mut d, &bytes, &cuts);
        let kept: usize = got.iter().map(|m| m.data.len()).sum();
        prop_assert!(kept <= budget);
    }

    #[test]
    fn deflated_messages_inflate_with_a_shared_window(
        texts in prop::collection::vec("[a-z ]{0,200}", 1..5),
        takeover in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut z = Compress::new(Compression::default(), false);
        let mut bytes = Vec::new();
        for t in &texts {
            if !takeover {
                z.reset();
            }
            bytes.extend(encode_deflated(&mut z, t.as_bytes()));
        }
        let negotiated = Negotiated {
            deflate: true,
            server_no_context_takeover: !takeover,
            ..Negotiated::default()
        };
        let mut d = negotiated.decoder(crate::exchange::Direction::Receive, usize::MAX);
        let got = feed_split(&mut d, &bytes, &cuts);
        prop_assert_eq!(d.broken(), None);
        let got: Vec<String> = got
            .into_iter()
            .map(|m| String::from_utf8(m.data).unwrap_or_default())
            .collect();
        prop_assert_eq!(got, texts);
    }
}

/// One compressed text frame, the way a permessage-deflate sender makes it.
fn encode_deflated(z: &mut Compress, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 64);
    z.compress_vec(text, &mut out, FlushCompress::Sync)
        .expect("compress");
    while out.len() == out.capacity() {
        out.reserve(64);
        z.compress_vec(&[], &mut out, FlushCompress::Sync)
            .expect("compress");
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    let mut frame = encode(TEXT, true, &out, None);
    frame[0] |= 0x40; // RSV1: compressed
    frame
}

#[test]
fn a_text_message_becomes_a_recorded_message() {
    let mut d = Decoder::new(1024);
    let got = d.feed(&encode(TEXT, true, "héllo".as_bytes(), Some([9, 8, 7, 6])));
    let m = got
        .into_iter()
        .next()
        .expect("one message")
        .into_message(42, crate::exchange::Direction::Send);
    assert_eq!(m.text(), Some("héllo"));
    assert_eq!(
        (m.at_us, m.opcode, m.size, m.truncated),
        (42, TEXT, 6, false)
    );
}

#[test]
fn a_text_cut_inside_a_character_keeps_whole_characters() {
    let mut d = Decoder::new(2);
    let got = d.feed(&encode(TEXT, true, "héllo".as_bytes(), None));
    let m = got
        .into_iter()
        .next()
        .expect("one message")
        .into_message(0, crate::exchange::Direction::Receive);
    assert_eq!(m.text(), Some("h"));
    assert!(m.truncated);
}

#[test]
fn protocol_errors_stop_decoding_with_a_note() {
    let cases: &[(&[u8], &str)] = &[
        (&[0x80, 0x00], "continuation"),
        (&[0x83, 0x00], "reserved opcode 3"),
        (&[0x09, 0x00], "fragmented"),
        (&[0xC1, 0x00], "RSV1"),
        (&[0xA1, 0x00], "RSV2"),
    ];
    for (bytes, why) in cases {
        let mut d = Decoder::new(64);
        assert!(d.feed(bytes).is_empty());
        let note = d.broken().unwrap_or_default();
        assert!(note.contains(why), "{bytes:?}: {note}");
        assert!(d.feed(&encode(TEXT, true, b"later", None)).is_empty());
    }
}

#[test]
fn long_lengths_and_control_frames() {
    let big = vec![7u8; 70_000];
    let mut bytes = encode(BINARY, true, &big, Some([1, 1, 1, 1]));
    bytes.extend(encode(PONG, true, b"", None));
    bytes.extend(encode(CLOSE, true, &[0x03, 0xE8, b'o', b'k'], None));
    let got = Decoder::new(usize::MAX).feed(&bytes);
    let shape: Vec<(u8, u64)> = got.iter().map(|m| (m.opcode, m.size)).collect();
    assert_eq!(shape, vec![(BINARY, 70_000), (PONG, 0), (CLOSE, 4)]);
    assert_eq!(got[0].data, big);
}

#[test]
fn the_negotiated_extension_is_read_from_the_response() {
    let n = Negotiated::from_header(Some(
        "permessage-deflate; server_no_context_takeover; client_max_window_bits=15",
    ));
    assert!(n.deflate && n.server_no_context_takeover && !n.client_no_context_takeover);
    assert_eq!(Negotiated::from_header(None), Negotiated::default());
    assert!(!Negotiated::from_header(Some("x-webkit-deflate-frame")).deflate);
}
