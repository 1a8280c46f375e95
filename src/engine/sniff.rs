//! Decide what a new connection speaks from its first bytes. Pure.

/// What the first bytes of a connection say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// A TLS ClientHello (record type 0x16, version major 3).
    Tls,
    /// A SOCKS5 greeting.
    Socks5,
    /// An HTTP/1.x request line, or the HTTP/2 prior-knowledge preface.
    Http,
}

/// The verdict on the bytes seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Known(Protocol),
    /// Not enough bytes to tell yet.
    NeedMore,
    /// None of the protocols llmspy serves.
    Unknown,
}

/// Longest HTTP method token accepted before the space.
const MAX_METHOD_LEN: usize = 16;

/// Classify a connection from its first bytes.
pub fn classify(bytes: &[u8]) -> Verdict {
    match bytes.first() {
        None => Verdict::NeedMore,
        Some(0x16) => match bytes.get(1) {
            None => Verdict::NeedMore,
            Some(3) => Verdict::Known(Protocol::Tls),
            Some(_) => Verdict::Unknown,
        },
        Some(0x05) => Verdict::Known(Protocol::Socks5),
        Some(b) if b.is_ascii_uppercase() => classify_http(bytes),
        Some(_) => Verdict::Unknown,
    }
}

fn classify_http(bytes: &[u8]) -> Verdict {
    for (i, &b) in bytes.iter().enumerate().take(MAX_METHOD_LEN + 1) {
        if b == b' ' {
            return if i > 0 {
                Verdict::Known(Protocol::Http)
            } else {
                Verdict::Unknown
            };
        }
        if !(b.is_ascii_uppercase() || b == b'-' || b == b'_') {
            return Verdict::Unknown;
        }
    }
    if bytes.len() > MAX_METHOD_LEN {
        Verdict::Unknown
    } else {
        Verdict::NeedMore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&[u8], Verdict)] = &[
            (b"", Verdict::NeedMore),
            (b"\x16", Verdict::NeedMore),
            (b"\x16\x03\x01\x02\x00", Verdict::Known(Protocol::Tls)),
            (b"\x16\x07", Verdict::Unknown),
            (b"\x05\x01\x00", Verdict::Known(Protocol::Socks5)),
            (b"GET / HTTP/1.1\r\n", Verdict::Known(Protocol::Http)),
            (b"CONNECT a:443 HTTP/1.1", Verdict::Known(Protocol::Http)),
            (b"PRI * HTTP/2.0", Verdict::Known(Protocol::Http)),
            (b"GE", Verdict::NeedMore),
            (b"get / HTTP/1.1", Verdict::Unknown),
            (b"\x00\x01", Verdict::Unknown),
            (b"SSH-2.0-OpenSSH", Verdict::Unknown),
            (b"ABCDEFGHIJKLMNOPQRS", Verdict::Unknown),
            (b" GET", Verdict::Unknown),
        ];
        for (input, want) in cases {
            assert_eq!(
                classify(input),
                *want,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = classify(&bytes);
        }
    }
}
