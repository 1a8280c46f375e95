//! A stream of events cut at the capture cap, read whole again as far as
//! it can be: the events kept before the cut, then those of the kept tail
//! (`Body::tail`). What lay between is gone, but a stream's last events
//! (usage, why it stopped) are what an analysis needs most.

/// `head`'s complete events followed by `tail`'s, each side cut at an
/// event boundary: a blank line for SSE, a newline for NDJSON.
pub(crate) fn stitched(head: &[u8], tail: &[u8], sse: bool) -> Vec<u8> {
    let head_end = last_boundary(head, sse).unwrap_or(0);
    let tail_start = first_boundary(tail, sse).unwrap_or(tail.len());
    let mut out = Vec::with_capacity(head_end + tail.len() - tail_start);
    out.extend_from_slice(&head[..head_end]);
    out.extend_from_slice(&tail[tail_start..]);
    out
}

/// Where the bytes after the last whole event begin.
fn last_boundary(bytes: &[u8], sse: bool) -> Option<usize> {
    let last_newline = bytes.iter().rposition(|&b| b == b'\n')?;
    if !sse {
        return Some(last_newline + 1);
    }
    (0..=last_newline)
        .rev()
        .filter(|&i| bytes[i] == b'\n')
        .find(|&i| ends_blank_line(bytes, i))
        .map(|i| i + 1)
}

/// Where the first whole event begins.
fn first_boundary(bytes: &[u8], sse: bool) -> Option<usize> {
    let mut newlines = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .map(|(i, _)| i);
    if !sse {
        return newlines.next().map(|i| i + 1);
    }
    newlines.find(|&i| ends_blank_line(bytes, i)).map(|i| i + 1)
}

/// The newline at `i` ends an empty line (`\n\n` or `\n\r\n`).
fn ends_blank_line(bytes: &[u8], i: usize) -> bool {
    let before = &bytes[..i];
    let before = before.strip_suffix(b"\r").unwrap_or(before);
    before.last() == Some(&b'\n')
}

#[cfg(test)]
mod tests {
    use super::stitched;

    #[test]
    fn sse_keeps_whole_events_on_both_sides_of_the_cut() {
        let head = b"event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: c\nda";
        let tail = b"ta: 7\n\nevent: y\ndata: 8\n\nevent: z\ndata: 9\n\n";
        let out = stitched(head, tail, true);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "event: a\ndata: 1\n\nevent: b\ndata: 2\n\nevent: y\ndata: 8\n\nevent: z\ndata: 9\n\n"
        );
    }

    #[test]
    fn crlf_events_and_ndjson_lines() {
        let out = stitched(b"data: 1\r\n\r\ndata: 2\r\n", b"\r\ndata: 3\r\n\r\n", true);
        assert_eq!(out, b"data: 1\r\n\r\n");
        let out = stitched(b"{\"a\":1}\n{\"a\":", b"2}\n{\"done\":true}\n", false);
        assert_eq!(out, b"{\"a\":1}\n{\"done\":true}\n");
    }

    #[test]
    fn no_boundary_on_a_side_keeps_nothing_of_it() {
        assert_eq!(
            stitched(b"data: partial", b"\n\ndata: end\n\n", true),
            b"data: end\n\n"
        );
        assert_eq!(stitched(b"data: 1\n\n", b"no end", true), b"data: 1\n\n");
    }
}
