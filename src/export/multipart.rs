//! `multipart/form-data` bodies taken apart (RFC 7578), for export formats
//! that describe a form by its fields and files rather than by its bytes
//! (Bruno's text blocks cannot keep the CRLFs a multipart body needs).

/// One field of a form: text, or a file when it names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

/// The boundary a `multipart/form-data` content type declares.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let media = params.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// The parts of `body`, or None when it is not a whole form with that
/// boundary (a body cut at the capture cap, say): exporters then keep the
/// body as bytes.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // A preamble before the first delimiter is allowed and ignored.
    let mut rest = &body[find(body, delimiter)? + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        rest = &rest[head_end + 4..];
        let mut close = b"\r\n".to_vec();
        close.extend_from_slice(delimiter);
        let data_end = find(rest, &close)?;
        parts.push(part(head, &rest[..data_end])?);
        rest = &rest[data_end + close.len()..];
    }
}

fn part<'a>(head: &str, data: &'a [u8]) -> Option<Part<'a>> {
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in head.split("\r\n") {
        let (field, value) = line.split_once(':')?;
        if field.trim().eq_ignore_ascii_case("content-disposition") {
            name = param(value, "name");
            filename = param(value, "filename");
        } else if field.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_string());
        }
    }
    Some(Part {
        name: name?,
        filename,
        content_type,
        data,
    })
}

/// A parameter of a `Content-Disposition` value, quoted or not, with its
/// backslash escapes undone.
fn param(value: &str, wanted: &str) -> Option<String> {
    let mut rest = value;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].rsplit([';', ' ']).next().unwrap_or("").trim();
        let after = &rest[eq + 1..];
        let (text, next) = match after.strip_prefix('"') {
            Some(quoted) => unquote(quoted)?,
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim().to_string(), &after[end..])
            }
        };
        if name.eq_ignore_ascii_case(wanted) {
            return Some(text);
        }
        rest = next;
    }
    None
}

/// The text of a quoted string (after its opening quote) and what follows
/// its closing quote.
fn unquote(quoted: &str) -> Option<(String, &str)> {
    let mut text = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((text, &quoted[i + 1..])),
            '\\' => text.push(chars.next()?.1),
            c => text.push(c),
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes \\\"v2\\\".txt\"\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\n\r\n--XyZ--\r\n";

    #[test]
    fn the_boundary_is_read_quoted_or_not() {
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=utf-8; Boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("multipart/mixed; boundary=XyZ"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn fields_and_files_are_taken_apart_byte_for_byte() {
        let parts = parse(FORM, "XyZ").expect("a form");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "purpose");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[0].data, b"assistants");
        assert_eq!(parts[1].name, "file");
        assert_eq!(parts[1].filename.as_deref(), Some("notes \"v2\".txt"));
        assert_eq!(parts[1].content_type.as_deref(), Some("text/plain"));
        assert_eq!(parts[1].data, b"line one\r\nline two\n");
    }

    #[test]
    fn a_form_cut_short_or_another_boundary_is_not_a_form() {
        assert_eq!(parse(&FORM[..FORM.len() - 20], "XyZ"), None);
        assert_eq!(parse(FORM, "Other"), None);
        let nameless = b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--";
        assert_eq!(parse(nameless, "b"), None);
    }
}
