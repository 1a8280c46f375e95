//! One way to put an [`Exchange`] together by hand, for the code that
//! describes an exchange rather than captures one: tests, benches, fuzz
//! entry points, a mock expectation shown as traffic, a stdio MCP round
//! trip. The relay and the loaders fill every field from what they read
//! and keep the struct literal, so a new field makes them decide.
//!
//! Defaults are fixed (no clock, no counter), so anything rendered from a
//! built exchange is the same on every run:
//!
//! - id 1, started at the Unix epoch, no client address or program,
//!   reached through a `CONNECT` tunnel;
//! - request `POST https://api.example.com/` over `HTTP/1.1`, no headers,
//!   empty body;
//! - no response, chunks, timings or WebSocket messages; complete,
//!   answered by the upstream.
//!
//! ```
//! use llmspy::exchange::Exchange;
//!
//! let ex = Exchange::builder()
//!     .id(7)
//!     .url("https://api.openai.com/v1/chat/completions")
//!     .header("content-type", "application/json")
//!     .body(r#"{"model":"gpt-4o"}"#)
//!     .status(200)
//!     .response_body("{}")
//!     .build();
//! assert_eq!(ex.url(), "https://api.openai.com/v1/chat/completions");
//! assert_eq!(ex.response.map(|r| r.status), Some(200));
//! ```

use super::{
    Body, Chunk, Exchange, ExchangeId, Failure, FailureKind, Headers, Request, Response, Source,
    State, Timings, Via, WebSocket,
};

/// Builds an [`Exchange`]; see the module documentation for the defaults.
#[derive(Debug, Clone)]
#[must_use]
pub struct ExchangeBuilder {
    exchange: Exchange,
}

impl Exchange {
    /// A builder with fixed defaults (see [`ExchangeBuilder`]).
    pub fn builder() -> ExchangeBuilder {
        ExchangeBuilder::default()
    }
}

impl Default for ExchangeBuilder {
    fn default() -> Self {
        ExchangeBuilder {
            exchange: Exchange {
                id: 1,
                started_at: chrono::DateTime::UNIX_EPOCH,
                client_addr: None,
                client_app: None,
                via: Via::Connect,
                request: Request {
                    method: "POST".into(),
                    scheme: "https".into(),
                    host: "api.example.com".into(),
                    port: 443,
                    path: "/".into(),
                    version: "HTTP/1.1".into(),
                    headers: Headers::new(),
                    body: Body::default(),
                },
                response: None,
                chunks: Vec::new(),
                timings: Timings::default(),
                state: State::Complete,
                source: Source::Upstream,
                websocket: None,
            },
        }
    }
}

/// Who sent it and when.
impl ExchangeBuilder {
    pub fn id(mut self, id: ExchangeId) -> Self {
        self.exchange.id = id;
        self
    }

    pub fn started_at(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.exchange.started_at = at;
        self
    }

    pub fn client_addr(mut self, addr: impl Into<String>) -> Self {
        self.exchange.client_addr = Some(addr.into());
        self
    }

    pub fn client_app(mut self, app: impl Into<String>) -> Self {
        self.exchange.client_app = Some(app.into());
        self
    }

    pub fn via(mut self, via: Via) -> Self {
        self.exchange.via = via;
        self
    }
}

/// The request.
impl ExchangeBuilder {
    /// The whole request at once, replacing what was set before.
    pub fn request(mut self, request: Request) -> Self {
        self.exchange.request = request;
        self
    }

    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.exchange.request.method = owned(method);
        self
    }

    /// Scheme, host, port and path from `scheme://host[:port][/path]`; the
    /// port defaults to the scheme's (443, 80, else 0) and the path to `/`.
    /// An IPv6 host is written in brackets.
    ///
    /// # Panics
    ///
    /// When `url` has no `://` or its port is not a number: a builder
    /// serves hand-written exchanges, where that is a typo.
    pub fn url(mut self, url: &str) -> Self {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                (host, Some(port.parse::<u16>().expect("a numeric port")))
            }
            _ => (authority, None),
        };
        let r = &mut self.exchange.request;
        r.scheme = owned(scheme);
        r.host = host.trim_start_matches('[').trim_end_matches(']').into();
        r.port = port.unwrap_or(match scheme {
            "https" => 443,
            "http" => 80,
            _ => 0,
        });
        r.path = path.into();
        self
    }

    /// The scheme alone; the port stays as it was.
    pub fn scheme(mut self, scheme: impl Into<String>) -> Self {
        self.exchange.request.scheme = owned(scheme);
        self
    }

    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.exchange.request.host = host.into();
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.exchange.request.port = port;
        self
    }

    /// Path and query, as sent: `/v1/messages?beta=true`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.exchange.request.path = path.into();
        self
    }

    /// The request's protocol version (`HTTP/2`, `stdio`, …).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.exchange.request.version = owned(version);
        self
    }

    /// One more request header, after those already set.
    pub fn header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        (self.exchange.request.headers).push(name.as_ref(), value.as_ref());
        self
    }

    /// More request headers, in order, after those already set.
    pub fn headers<N, V>(mut self, headers: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: AsRef<str>,
        V: AsRef<str>,
    {
        self.exchange.request.headers.extend(headers);
        self
    }

    /// The request body, all of it captured.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.exchange.request.body = Body::from_bytes(bytes);
        self
    }
}

/// The response. Any of these setters but [`ExchangeBuilder::response`]
/// adds a `200 HTTP/1.1` response with no headers and no body first, when
/// there is none yet.
impl ExchangeBuilder {
    /// The whole response at once (`None`: no response).
    pub fn response(mut self, response: impl Into<Option<Response>>) -> Self {
        self.exchange.response = response.into();
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.answer().status = status;
        self
    }

    pub fn response_version(mut self, version: impl Into<String>) -> Self {
        self.answer().version = owned(version);
        self
    }

    /// One more response header, after those already set.
    pub fn response_header(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.answer().headers.push(name.as_ref(), value.as_ref());
        self
    }

    /// More response headers, in order, after those already set.
    pub fn response_headers<N, V>(mut self, headers: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: AsRef<str>,
        V: AsRef<str>,
    {
        self.answer().headers.extend(headers);
        self
    }

    /// The response body, all of it captured.
    pub fn response_body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.answer().body = Body::from_bytes(bytes);
        self
    }

    fn answer(&mut self) -> &mut Response {
        self.exchange.response.get_or_insert_with(|| Response {
            status: 200,
            version: "HTTP/1.1".into(),
            headers: Headers::new(),
            body: Body::default(),
        })
    }
}

/// How it went.
impl ExchangeBuilder {
    /// The arrival stamps of the response body's frames.
    pub fn chunks(mut self, chunks: impl IntoIterator<Item = Chunk>) -> Self {
        self.exchange.chunks = chunks.into_iter().collect();
        self
    }

    pub fn timings(mut self, timings: Timings) -> Self {
        self.exchange.timings = timings;
        self
    }

    pub fn state(mut self, state: State) -> Self {
        self.exchange.state = state;
        self
    }

    /// Failed, with `kind` and a message for a person.
    pub fn failed(self, kind: FailureKind, message: impl Into<String>) -> Self {
        self.state(State::Failed(Failure::new(kind, message)))
    }

    pub fn source(mut self, source: Source) -> Self {
        self.exchange.source = source;
        self
    }

    pub fn websocket(mut self, websocket: WebSocket) -> Self {
        self.exchange.websocket = Some(Box::new(websocket));
        self
    }

    pub fn build(self) -> Exchange {
        self.exchange
    }
}

/// Text given as anything that turns into a string.
fn owned(text: impl Into<String>) -> super::Text {
    super::Text::Owned(text.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_sets_scheme_host_port_and_path() {
        let r = |url: &str| Exchange::builder().url(url).build().request;
        let parts = |r: Request| (r.scheme, r.host, r.port, r.path);
        assert_eq!(
            parts(r("https://a.test")),
            ("https".into(), "a.test".into(), 443, "/".into())
        );
        assert_eq!(
            parts(r("http://a.test:8080/x?q=1")),
            ("http".into(), "a.test".into(), 8080, "/x?q=1".into())
        );
        assert_eq!(
            parts(r("http://[::1]:9/")),
            ("http".into(), "::1".into(), 9, "/".into())
        );
        assert_eq!(
            parts(r("stdio://weather/")),
            ("stdio".into(), "weather".into(), 0, "/".into())
        );
    }

    #[test]
    fn response_setters_start_from_a_plain_200() {
        let ex = Exchange::builder().response_header("a", "b").build();
        let resp = ex.response.expect("a response");
        assert_eq!((resp.status, resp.version.as_ref()), (200, "HTTP/1.1"));
        assert_eq!(resp.headers, Headers::from([("a", "b")]));
        assert!(Exchange::builder().build().response.is_none());
    }
}
