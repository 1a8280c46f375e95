//! The Raw tab: request and response lines, headers (secrets masked until
//! revealed) and readable bodies.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::exchange::{Chunk, Exchange, Headers, Response, State};
use crate::tui::doc::{Doc, DocBuilder};
use crate::tui::{pretty, secrets, strings, theme};

/// Build the Raw tab for `ex` at `width` columns.
pub fn build(ex: &Exchange, reveal: bool, width: u16) -> Doc {
    let mut out = DocBuilder::new(width);
    if let Some(line) = answered_by(ex) {
        out.line(line);
        out.blank();
    }
    if let Some(at) = ex.timings.resent_us {
        out.line(Line::styled(strings::sent_twice(at), theme::WARN));
        out.blank();
    }
    // Bodies come from the masked copy until revealed (a secret field, a
    // key quoted in a prompt); heads from the exchange, masked as drawn.
    let shown = secrets::shown_exchange(ex, reveal);
    request(&mut out, ex, &shown.request, reveal);
    out.blank();
    section(&mut out, "Response");
    match (&ex.response, &shown.response) {
        (Some(resp), Some(body_of)) => response(&mut out, resp, body_of, &ex.chunks, reveal),
        _ => out.line(Line::styled(strings::NO_RESPONSE, theme::DIM)),
    }
    if let State::Failed(f) = &ex.state {
        out.blank();
        out.line(Line::styled(
            format!("✗ {}: {}", f.kind.label(), f.message),
            theme::ERROR,
        ));
    }
    out.finish()
}

/// Who answered, when it was not the upstream: the expectation, or why
/// strict replay found none (the reason is in the 404's JSON body).
fn answered_by(ex: &Exchange) -> Option<Line<'static>> {
    let crate::exchange::Source::Mock { expectation_id } = &ex.source else {
        return None;
    };
    if expectation_id == crate::mock::STRICT_MISS_ID {
        let body = ex
            .response
            .as_ref()
            .map(|r| r.body.bytes.as_slice())
            .unwrap_or_default();
        let why = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error")?.as_str().map(str::to_string))
            .unwrap_or_else(|| strings::STRICT_MISS.to_string());
        return Some(Line::styled(format!("✗ {why}"), theme::ERROR));
    }
    Some(Line::styled(
        format!("◇ answered by mock expectation {expectation_id}"),
        theme::MOCK,
    ))
}

fn section(out: &mut DocBuilder, title: &str) {
    out.section(title);
}

/// `body_of`: where the body is read from (see [`build`]).
fn request(out: &mut DocBuilder, ex: &Exchange, body_of: &crate::exchange::Request, reveal: bool) {
    let r = &ex.request;
    section(out, "Request");
    out.line(Line::from(vec![
        Span::styled(r.method.clone(), theme::HEADER),
        Span::raw(" "),
        Span::raw(secrets::shown_url(ex, reveal)),
        Span::styled(format!(" {}", r.version), theme::DIM),
    ]));
    headers(out, &r.headers, reveal);
    out.blank();
    let (h, b) = body_source((&r.headers, &r.body), (&body_of.headers, &body_of.body));
    pretty::body(out, h, b);
    trailers(out, &r.body.trailers, reveal);
}

fn response(
    out: &mut DocBuilder,
    resp: &Response,
    body_of: &Response,
    chunks: &[Chunk],
    reveal: bool,
) {
    out.line(Line::from(vec![
        Span::styled(resp.version.clone(), theme::DIM),
        Span::raw(" "),
        Span::styled(resp.status.to_string(), theme::status(resp.status)),
        Span::raw(" "),
        Span::raw(reason(resp.status)),
    ]));
    if let Some(grpc) = resp.grpc_status() {
        let style = if grpc.is_ok() {
            theme::DIM
        } else {
            theme::ERROR
        };
        out.line(Line::styled(format!("gRPC {}", grpc.describe()), style));
    }
    headers(out, &resp.headers, reveal);
    out.blank();
    let (h, b) = body_source(
        (&resp.headers, &resp.body),
        (&body_of.headers, &body_of.body),
    );
    pretty::body_arrived(out, h, b, chunks);
    trailers(out, &resp.body.trailers, reveal);
}

/// The body to draw: the masked one only where masking changed what it
/// says. Masking decodes a compressed body; when that was all it did, the
/// original is drawn, with its "decoded gzip" note.
fn body_source<'a>(
    original: (&'a Headers, &'a crate::exchange::Body),
    masked: (&'a Headers, &'a crate::exchange::Body),
) -> (&'a Headers, &'a crate::exchange::Body) {
    if std::ptr::eq(original.1, masked.1) || original.1.bytes == masked.1.bytes {
        return original;
    }
    let encoding = crate::exchange::header(original.0, "content-encoding");
    let decoded = crate::content::decode(encoding, &original.1.bytes);
    if decoded.applied.is_some() && *decoded.bytes == *masked.1.bytes {
        original
    } else {
        masked
    }
}

/// The fields sent after a body, under the body, as they crossed the wire.
fn trailers(out: &mut DocBuilder, trailers: &Headers, reveal: bool) {
    if trailers.is_empty() {
        return;
    }
    out.blank();
    out.line(Line::styled(strings::TRAILERS, theme::DIM));
    headers(out, trailers, reveal);
}

fn headers(out: &mut DocBuilder, headers: &Headers, reveal: bool) {
    let mut hinted = false;
    for (name, value) in headers {
        let secret = secrets::is_secret(name);
        let shown = secrets::shown_value(name, value, reveal);
        let mut spans = vec![
            Span::styled(format!("{name}: "), theme::HEADER_NAME),
            Span::styled(shown, if secret { theme::SECRET } else { Style::new() }),
        ];
        if secret && !reveal && !hinted {
            spans.push(Span::styled(strings::SECRET_HINT, theme::DIM));
            hinted = true;
        }
        out.line(Line::from(spans));
    }
}

/// The reason phrase for common status codes (HTTP/2 sends none).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "",
    }
}
