//! Content decoding for display: bodies are stored exactly as they crossed the
//! wire; readers call [`decode`] to see them without gzip/br/deflate/zstd.

use std::borrow::Cow;
use std::io::Read;

/// Largest decoded body produced, so a decompression bomb can't eat memory.
const MAX_DECODED: u64 = 64 * 1024 * 1024;

/// Outcome of decoding a body for display.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// The encodings that were removed, outermost last (e.g. `gzip`).
    pub applied: Option<String>,
    /// Set when decoding failed or the body was cut; `bytes` then holds what
    /// could be decoded (possibly the raw body).
    pub note: Option<String>,
}

/// Decode `body` according to a `Content-Encoding` header value.
/// Unknown or identity encodings return the body unchanged.
pub fn decode<'a>(content_encoding: Option<&str>, body: &'a [u8]) -> Decoded<'a> {
    let encodings: Vec<String> = encodings(content_encoding)
        .map(str::to_ascii_lowercase)
        .collect();
    if encodings.is_empty() || body.is_empty() {
        return Decoded {
            bytes: Cow::Borrowed(body),
            applied: None,
            note: None,
        };
    }
    let mut current: Vec<u8> = body.to_vec();
    // Encodings are listed in the order applied; undo them in reverse.
    for enc in encodings.iter().rev() {
        match decode_one(enc, &current) {
            Ok(next) => current = next,
            Err(note) => {
                return Decoded {
                    bytes: Cow::Owned(current),
                    applied: None,
                    note: Some(note),
                };
            }
        }
    }
    Decoded {
        bytes: Cow::Owned(current),
        applied: Some(encodings.join(", ")),
        note: None,
    }
}

fn decode_one(encoding: &str, data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let result = match encoding {
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(data)
            .take(MAX_DECODED)
            .read_to_end(&mut out),
        "deflate" => {
            // Servers send both zlib-wrapped and raw deflate under this name.
            let zlib = flate2::read::ZlibDecoder::new(data)
                .take(MAX_DECODED)
                .read_to_end(&mut out);
            if zlib.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(data)
                    .take(MAX_DECODED)
                    .read_to_end(&mut out)
            } else {
                zlib
            }
        }
        "br" => brotli::Decompressor::new(data, 4096)
            .take(MAX_DECODED)
            .read_to_end(&mut out),
        "zstd" => match zstd::stream::read::Decoder::new(data) {
            Ok(d) => d.take(MAX_DECODED).read_to_end(&mut out),
            Err(e) => Err(e),
        },
        other => {
            return Err(format!(
                "unknown content-encoding {other:?}; shown as received"
            ));
        }
    };
    match result {
        Ok(_) => Ok(out),
        // A body cut at the capture cap decodes partially: keep what we got.
        Err(e) if !out.is_empty() => {
            let _ = e;
            Ok(out)
        }
        Err(e) => Err(format!(
            "could not decode {encoding} body: {e}; shown as received"
        )),
    }
}

/// The encodings a `Content-Encoding` value lists, in the order applied
/// (`identity` and empty entries left out; not lower-cased).
fn encodings(content_encoding: Option<&str>) -> impl Iterator<Item = &str> {
    content_encoding
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
}

/// Whether a `Content-Encoding` value names any encoding [`decode`] would
/// try to undo.
pub fn is_encoded(content_encoding: Option<&str>) -> bool {
    encodings(content_encoding).next().is_some()
}

/// True when the bytes look like text worth showing as a string.
pub fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok()
}

/// The media type of a body, without parameters (`application/json`).
pub fn media_type(headers: &crate::exchange::Headers) -> Option<String> {
    media_type_as_sent(headers).map(str::to_ascii_lowercase)
}

/// Whether the body's media type is `media` (lower-case), without the
/// lower-cased copy [`media_type`] makes.
pub fn media_type_is(headers: &crate::exchange::Headers, media: &str) -> bool {
    media_type_as_sent(headers).is_some_and(|m| m.eq_ignore_ascii_case(media))
}

fn media_type_as_sent(headers: &crate::exchange::Headers) -> Option<&str> {
    crate::exchange::header(headers, "content-type")
        .map(|ct| ct.split(';').next().unwrap_or("").trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_round_trip() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"hello world").unwrap();
        let gz = enc.finish().unwrap();
        let d = decode(Some("gzip"), &gz);
        assert_eq!(&*d.bytes, b"hello world");
        assert_eq!(d.applied.as_deref(), Some("gzip"));
    }

    #[test]
    fn zstd_and_brotli() {
        let z = zstd::encode_all(&b"zzz"[..], 1).unwrap();
        assert_eq!(&*decode(Some("zstd"), &z).bytes, b"zzz");
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(b"bbb").unwrap();
        }
        assert_eq!(&*decode(Some("br"), &br).bytes, b"bbb");
    }

    #[test]
    fn garbage_is_kept_with_a_note() {
        let d = decode(Some("gzip"), b"not gzip");
        assert_eq!(&*d.bytes, b"not gzip");
        assert!(d.note.is_some());
        assert_eq!(decode(Some("identity"), b"x").applied, None);
    }
}
