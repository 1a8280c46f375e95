//! A gRPC call's outcome, read from what was captured. gRPC answers HTTP
//! `200` whether the call worked or not: the call's status travels in the
//! `grpc-status` and `grpc-message` fields of the response's trailers, or
//! of its head when the server answers with no message at all
//! ("Trailers-Only", the usual form of an error).

use super::{Exchange, Response, header};

/// `grpc-status` and `grpc-message` of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcStatus {
    pub code: u32,
    /// `grpc-message`, percent-decoded; empty when none was sent.
    pub message: String,
}

/// The names gRPC gives its codes, 0 to 16.
const NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

impl GrpcStatus {
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }

    /// `NOT_FOUND`, or `code 42` for a code gRPC does not define.
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        match NAMES.get(self.code as usize) {
            Some(name) => (*name).into(),
            None => format!("code {}", self.code).into(),
        }
    }

    /// `NOT_FOUND: no such model`, or the name alone without a message.
    pub fn describe(&self) -> String {
        match self.message.is_empty() {
            true => self.name().into_owned(),
            false => format!("{}: {}", self.name(), self.message),
        }
    }
}

impl Response {
    /// The gRPC status this response carries, if it carries one: from the
    /// trailers, else from the head (Trailers-Only). A value that is not a
    /// number is not a status.
    pub fn grpc_status(&self) -> Option<GrpcStatus> {
        let fields = [&self.body.trailers, &self.headers];
        let (fields, code) = fields
            .into_iter()
            .find_map(|f| Some((f, header(f, "grpc-status")?)))?;
        let code = code.trim().parse().ok()?;
        let message = header(fields, "grpc-message").map_or_else(String::new, percent_decoded);
        Some(GrpcStatus { code, message })
    }
}

/// A gRPC content type: `application/grpc`, `+proto`, gRPC-Web's forms.
pub fn is_grpc_content_type(content_type: &str) -> bool {
    let ct = content_type.trim_start().as_bytes();
    ct.len() >= GRPC.len() && ct[..GRPC.len()].eq_ignore_ascii_case(GRPC.as_bytes())
}

const GRPC: &str = "application/grpc";

impl Exchange {
    /// A gRPC call: sent as one, or answered with a gRPC status.
    pub fn is_grpc(&self) -> bool {
        let sent_as_grpc =
            header(&self.request.headers, "content-type").is_some_and(is_grpc_content_type);
        sent_as_grpc || self.grpc_status().is_some()
    }

    /// The gRPC status its response carries, if any.
    pub fn grpc_status(&self) -> Option<GrpcStatus> {
        self.response.as_ref()?.grpc_status()
    }
}

/// gRPC percent-encodes `grpc-message` (every byte outside printable
/// ASCII, and `%`); a `%` not followed by two hex digits is kept as it is,
/// as the protocol asks of a receiver.
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{Body, Headers};

    fn response(headers: &[(&str, &str)], trailers: &[(&str, &str)]) -> Response {
        Response {
            status: 200,
            version: "HTTP/2".into(),
            headers: Headers::from(headers.to_vec()),
            body: Body {
                trailers: Headers::from(trailers.to_vec()),
                ..Body::default()
            },
        }
    }

    #[test]
    fn the_status_comes_from_the_trailers_and_its_message_is_decoded() {
        let r = response(
            &[("content-type", "application/grpc")],
            &[
                ("grpc-status", "5"),
                ("grpc-message", "no model %22x%22 %E2%9C%97"),
            ],
        );
        let status = r.grpc_status().expect("a status");
        assert_eq!(status.code, 5);
        assert_eq!(status.message, "no model \"x\" ✗");
        assert!(!status.is_ok());
        assert_eq!(status.describe(), "NOT_FOUND: no model \"x\" ✗");
    }

    #[test]
    fn a_trailers_only_answer_has_its_status_in_the_head() {
        let r = response(&[("grpc-status", "16")], &[]);
        let status = r.grpc_status().expect("a status");
        assert_eq!(status.describe(), "UNAUTHENTICATED");
    }

    #[test]
    fn the_trailers_win_over_the_head_and_ok_is_ok() {
        let r = response(&[("grpc-status", "2")], &[("grpc-status", "0")]);
        assert!(r.grpc_status().expect("a status").is_ok());
    }

    #[test]
    fn no_field_or_no_number_is_no_status() {
        assert_eq!(
            response(&[("content-type", "text/plain")], &[]).grpc_status(),
            None
        );
        assert_eq!(
            response(&[], &[("grpc-status", "five")]).grpc_status(),
            None
        );
    }

    #[test]
    fn an_unknown_code_and_a_stray_percent_are_shown_as_they_are() {
        let r = response(
            &[],
            &[("grpc-status", "42"), ("grpc-message", "100% %zz %4")],
        );
        let status = r.grpc_status().expect("a status");
        assert_eq!(status.describe(), "code 42: 100% %zz %4");
    }
}
