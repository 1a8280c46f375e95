//! The one model every reader shares: a captured HTTP exchange.
//!
//! An [`Exchange`] is what the relay saw of one request/response pair: heads,
//! bodies (as received, up to a cap), the arrival time of every response chunk,
//! and how it ended. It is plain data — no IO, no async — so parsers, the store,
//! the UI, the API and the exporters can all read it the same way.

use serde::{Deserialize, Serialize};

mod body;
mod builder;
mod grpc;
mod headers;
mod websocket;
pub use body::{Body, TAIL_BYTES};
pub use builder::ExchangeBuilder;
pub use grpc::{GrpcStatus, is_grpc_content_type};
pub use headers::Headers;
pub use websocket::{Direction, MAX_LISTED, Payload, WebSocket, WsMessage, opcode};

/// Stable, monotonically increasing identifier of an exchange (1, 2, 3, …).
pub type ExchangeId = u64;

/// Text that is most often one of a few fixed words (`GET`, `https`,
/// `HTTP/1.1`): those are borrowed, not allocated per exchange.
pub type Text = std::borrow::Cow<'static, str>;

/// How the client reached llmspy for this exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Absolute-form request to the proxy (`GET http://host/path`).
    HttpProxy,
    /// Inside a `CONNECT` tunnel (usually intercepted TLS).
    Connect,
    /// Inside a SOCKS5 tunnel.
    Socks5,
    /// Base-URL mode: an origin-form request to `/via/…` or a `--route`
    /// name, relayed to the upstream it names.
    BaseUrl,
    /// Relayed for a wrapped stdio process or loaded from a file.
    Other,
}

/// The request line, headers and captured body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub method: Text,
    /// `http` or `https`.
    pub scheme: Text,
    /// Host name or IP literal, without port.
    pub host: String,
    pub port: u16,
    /// Path and query as sent (origin form), e.g. `/v1/messages?beta=true`.
    pub path: String,
    /// `HTTP/1.1`, `HTTP/2`, …
    pub version: Text,
    pub headers: Headers,
    pub body: Body,
}

impl Request {
    /// `host[:port]` as a `Host` header carries it: the port only when it
    /// is not the scheme's default, IPv6 in brackets. Port 0 means none (a
    /// stdio MCP server reported by `llmspy mcp-stdio`).
    pub fn authority(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 8);
        let _ = self.write_authority(&mut out);
        out
    }

    /// The URL with `path` in place of the one sent (a path whose secret
    /// query values are masked).
    pub fn write_url_with_path(
        &self,
        out: &mut impl std::fmt::Write,
        path: &str,
    ) -> std::fmt::Result {
        out.write_str(&self.scheme)?;
        out.write_str("://")?;
        self.write_authority(out)?;
        out.write_str(path)
    }

    /// [`Request::authority`], written where it is wanted.
    pub fn write_authority(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        if self.host.contains(':') {
            out.write_char('[')?;
            out.write_str(&self.host)?;
            out.write_char(']')?;
        } else {
            out.write_str(&self.host)?;
        }
        match (self.scheme.as_ref(), self.port) {
            ("https", 443) | ("http", 80) | (_, 0) => Ok(()),
            (_, port) => write!(out, ":{port}"),
        }
    }
}

/// The status line, headers and captured body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    pub version: Text,
    pub headers: Headers,
    pub body: Body,
}

/// One response body frame as it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Microseconds since the request started.
    pub at_us: u64,
    /// Offset of this frame in the response body (wire bytes).
    pub offset: u64,
    /// Length of the frame on the wire.
    pub len: u64,
}

/// Milestones of an exchange, in microseconds since it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// When the client finished sending the request body.
    pub request_done_us: Option<u64>,
    /// When the response head arrived from upstream.
    pub response_head_us: Option<u64>,
    /// When the first response body byte arrived.
    pub first_byte_us: Option<u64>,
    /// When the exchange ended (complete or failed).
    pub end_us: Option<u64>,
    /// When the request went out a second time, on a new connection: the
    /// upstream closed the kept one unanswered as the request went out
    /// (engine/resend.rs), so the server may have read it twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resent_us: Option<u64>,
}

/// Where an exchange is in its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Request seen, no response head yet.
    InFlight,
    /// Response head seen, body still arriving.
    Streaming,
    Complete,
    Failed(Failure),
}

impl State {
    pub fn is_finished(&self) -> bool {
        matches!(self, State::Complete | State::Failed(_))
    }
    pub fn label(&self) -> &'static str {
        match self {
            State::InFlight => "in_flight",
            State::Streaming => "streaming",
            State::Complete => "complete",
            State::Failed(_) => "failed",
        }
    }
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            State::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// Why an exchange failed, stored as data so it shows everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// A sentence for a person: what happened and, where known, what to do.
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The client aborted the TLS handshake: it does not trust llmspy's CA.
    ClientRejectedCa,
    /// The client's TLS handshake failed for another reason.
    ClientTls,
    /// Upstream host name did not resolve.
    UpstreamDns,
    /// Upstream refused or could not be reached.
    UpstreamConnect,
    /// Upstream TLS failed (certificate not trusted, handshake error).
    UpstreamTls,
    /// Upstream closed or reset the connection mid-exchange.
    UpstreamReset,
    /// Upstream did not connect, or did not answer, within its deadline
    /// (`upstreamConnectTimeoutSeconds`, `upstreamResponseTimeoutSeconds`).
    UpstreamTimeout,
    /// The client went away before the exchange finished.
    ClientGone,
    /// No body frame arrived for `streamIdleTimeoutSeconds`.
    IdleTimeout,
    /// The client stalled sending its request for `clientIdleTimeoutSeconds`.
    ClientTimeout,
    /// The request could not be understood.
    MalformedRequest,
    /// llmspy is shutting down.
    Shutdown,
    /// A bug in llmspy met while handling this exchange (logged).
    Internal,
}

impl FailureKind {
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::ClientRejectedCa => "client rejected CA",
            FailureKind::ClientTls => "client TLS error",
            FailureKind::UpstreamDns => "upstream DNS",
            FailureKind::UpstreamConnect => "upstream connect",
            FailureKind::UpstreamTls => "upstream TLS",
            FailureKind::UpstreamReset => "upstream reset",
            FailureKind::UpstreamTimeout => "upstream timeout",
            FailureKind::ClientGone => "client gone",
            FailureKind::IdleTimeout => "idle timeout",
            FailureKind::ClientTimeout => "client timeout",
            FailureKind::MalformedRequest => "malformed request",
            FailureKind::Shutdown => "shutdown",
            FailureKind::Internal => "internal error",
        }
    }
}

/// Who answered the request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum Source {
    #[default]
    Upstream,
    /// Answered by a mock expectation (its id).
    Mock { expectation_id: String },
}

/// A captured request/response pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub id: ExchangeId,
    /// Wall-clock start, RFC 3339.
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub client_addr: Option<String>,
    /// The program that sent it: the name it announced as its proxy user
    /// (`llmspy run` sets it), else the process owning the socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_app: Option<String>,
    pub via: Via,
    pub request: Request,
    pub response: Option<Response>,
    /// Arrival stamps of response body frames.
    pub chunks: Vec<Chunk>,
    pub timings: Timings,
    #[serde(flatten)]
    pub state: State,
    #[serde(default)]
    pub source: Source,
    /// The messages of a WebSocket connection, after its `101`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<Box<WebSocket>>,
}

impl Exchange {
    /// `scheme://host[:port]path`, omitting the scheme's default port.
    pub fn url(&self) -> String {
        let r = &self.request;
        let mut out = String::with_capacity(r.scheme.len() + r.host.len() + r.path.len() + 12);
        let _ = self.write_url(&mut out);
        out
    }

    /// [`Exchange::url`], written where it is wanted.
    pub fn write_url(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        self.request.write_url_with_path(out, &self.request.path)
    }

    /// Total duration, once finished.
    pub fn duration_us(&self) -> Option<u64> {
        self.timings.end_us
    }

    /// Bytes kept in memory for this exchange's bodies.
    pub fn captured_bytes(&self) -> usize {
        self.request.body.kept_len()
            + self.response.as_ref().map_or(0, |r| r.body.kept_len())
            + self.websocket.as_ref().map_or(0, |w| w.kept_bytes())
    }
}

/// Case-insensitive header lookup (first match).
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// True when a response with this content type is delivered as a stream of
/// events whose arrival times matter (SSE or NDJSON).
pub fn is_event_stream(content_type: Option<&str>) -> bool {
    const STREAMS: [&str; 5] = [
        "text/event-stream",
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/json-seq",
    ];
    let Some(ct) = content_type else { return false };
    // No lowercased copy: this is asked of every row the UI lists.
    STREAMS.iter().any(|s| {
        ct.get(..s.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_bracket_ipv6_hosts_and_leave_out_default_ports() {
        for (scheme, host, port, url) in [
            (
                "https",
                "api.anthropic.com",
                443,
                "https://api.anthropic.com/v1",
            ),
            ("http", "localhost", 80, "http://localhost/v1"),
            ("http", "localhost", 8080, "http://localhost:8080/v1"),
            ("https", "::1", 8443, "https://[::1]:8443/v1"),
            ("https", "::1", 0, "https://[::1]/v1"),
        ] {
            let ex = Exchange::builder()
                .scheme(scheme)
                .host(host)
                .port(port)
                .path("/v1")
                .build();
            assert_eq!(ex.url(), url);
        }
    }

    #[test]
    fn event_stream_detection() {
        assert!(is_event_stream(Some("text/event-stream; charset=utf-8")));
        assert!(is_event_stream(Some("application/x-ndjson")));
        assert!(!is_event_stream(Some("application/json")));
        assert!(!is_event_stream(None));
    }

    #[test]
    fn url_leaves_out_default_and_absent_ports() {
        let url = |scheme: &str, host: &str, port: u16| {
            Exchange::builder()
                .scheme(scheme)
                .host(host)
                .port(port)
                .path("/x")
                .build()
                .url()
        };
        assert_eq!(url("https", "a.test", 443), "https://a.test/x");
        assert_eq!(url("https", "a.test", 8443), "https://a.test:8443/x");
        assert_eq!(url("stdio", "weather", 0), "stdio://weather/x");
        assert_eq!(url("http", "::1", 8080), "http://[::1]:8080/x");
    }
}
