//! The `~` filter language: mitmproxy's flow-filter expressions, extended for
//! LLM and MCP traffic. Pure: no IO, no async.
//!
//! ```
//! use llmspy::filter;
//! let f = filter::parse("~m POST & ~d anthropic & !~c 200").unwrap();
//! assert_eq!(f.source(), "~m POST & ~d anthropic & !~c 200");
//! ```
//!
//! | expression | matches |
//! |---|---|
//! | `~h RE`, `~hq RE`, `~hs RE` | a header line `name: value` (either side, request, response) |
//! | `~d RE` | the host |
//! | `~m RE` | the method |
//! | `~c CODE` | the response status: `200`, or with wildcards `4xx`, `50x` |
//! | `~u RE`, or a bare word | the full URL |
//! | `~b RE`, `~bq RE`, `~bs RE` | a body, decoded (an SSE or NDJSON stream also as the text its events spell), or a WebSocket message (either side, sent, received) |
//! | `~t RE`, `~tq RE`, `~ts RE` | a `content-type` (either side, request, response) |
//! | `~e` | the exchange failed |
//! | `~q` | no response yet; `~s` has a response; `~all` everything |
//! | `~p RE`, `~model RE` | the LLM provider, the model |
//! | `~tool RE` | a tool called or defined |
//! | `~app RE` | the program that sent it (`llmspy run`'s command, or the socket's process) |
//! | `~mcp`, `~stream` | MCP traffic, a streamed response |
//! | `~ws` | a WebSocket connection |
//!
//! `!` negates, `&` (or plain juxtaposition) means both, `|` either; `!` binds
//! tightest, then `&`, then `|`; parentheses group. Values may be quoted with
//! `"` or `'` (needed for spaces or `( ) | &`). Regular expressions match
//! anywhere and ignore case, as in mitmproxy. `~p`, `~model`, `~tool` and
//! `~mcp` need an [`AnalysisView`] — an [`Analysis`], the store's
//! [`Summary`], or [`Facts`]; without one they match nothing.

mod parse;
mod stream_text;
#[cfg(test)]
mod tests;

use std::fmt;

use regex::bytes::Regex;

use crate::content;
use crate::exchange::{Direction, Exchange, Headers, State, header, is_event_stream};
use crate::llm::{self, Analysis, Summary};

/// Listed in "unknown filter" errors.
const KNOWN: &str = "known: ~h ~hq ~hs ~d ~m ~c ~u ~b ~bq ~bs ~t ~tq ~ts ~e ~q ~s ~all \
                     ~p ~model ~tool ~app ~mcp ~stream ~ws ~grpc ~grpcerr";

/// A parse error: where in the expression (1-based column) and what was
/// expected there. Displays as `at column 7: expected a value after ~m`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct FilterError {
    /// 1-based character column of the offending token (one past the end
    /// when the expression stopped too early).
    pub column: usize,
    pub message: String,
}

impl FilterError {
    fn new(column: usize, message: impl Into<String>) -> Self {
        FilterError {
            column,
            message: message.into(),
        }
    }
}

/// What the filter needs to know about an exchange beyond its bytes: the
/// result of the LLM/MCP analysis. Implemented by the analysis types and by
/// [`Facts`]; pass `None` to [`Filter::matches`] when there is none.
pub trait AnalysisView {
    /// `anthropic`, `openai`, `gemini`, `ollama`, … when recognised.
    fn provider(&self) -> Option<&str>;
    fn model(&self) -> Option<&str>;
    /// Names of the tools the request defined or the response called.
    fn tool_names(&self) -> Vec<&str>;
    fn is_mcp(&self) -> bool;
    /// The request asked for a streamed response.
    fn is_stream(&self) -> bool;
}

/// A plain-data [`AnalysisView`], handy for callers that keep row summaries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub tools: Vec<String>,
    pub mcp: bool,
    pub stream: bool,
}

impl AnalysisView for Facts {
    fn provider(&self) -> Option<&str> {
        self.provider.as_deref()
    }
    fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    fn tool_names(&self) -> Vec<&str> {
        self.tools.iter().map(String::as_str).collect()
    }
    fn is_mcp(&self) -> bool {
        self.mcp
    }
    fn is_stream(&self) -> bool {
        self.stream
    }
}

/// The capture store keeps a [`Summary`] per analysed exchange: filter on it.
impl AnalysisView for Summary {
    fn provider(&self) -> Option<&str> {
        Some(self.provider)
    }
    fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    fn tool_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tools.iter().map(String::as_str).collect();
        names.extend(self.mcp_tool.as_deref());
        names
    }
    fn is_mcp(&self) -> bool {
        self.kind == llm::Kind::Mcp
    }
    fn is_stream(&self) -> bool {
        self.stream
    }
}

impl AnalysisView for Analysis {
    fn provider(&self) -> Option<&str> {
        Some(self.provider)
    }
    fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    fn tool_names(&self) -> Vec<&str> {
        let defined = self.request.tools.iter().map(|t| t.name.as_str());
        let called = self
            .reply
            .iter()
            .flat_map(|r| r.tool_calls())
            .map(|c| c.name.as_str());
        let mcp = self.mcp.iter().filter_map(|m| m.tool.as_deref());
        defined.chain(called).chain(mcp).collect()
    }
    fn is_mcp(&self) -> bool {
        self.mcp.is_some()
    }
    fn is_stream(&self) -> bool {
        self.stream
    }
}

/// A compiled filter expression. Cheap to clone (regexes share their program).
#[derive(Debug, Clone)]
pub struct Filter {
    source: String,
    /// `None`: the expression was blank and matches everything.
    root: Option<Node>,
}

/// Parse an expression. A blank expression matches everything.
pub fn parse(expression: &str) -> Result<Filter, FilterError> {
    Ok(Filter {
        source: expression.to_string(),
        root: parse::parse(expression)?,
    })
}

impl Filter {
    /// A filter that matches every exchange.
    pub fn all() -> Self {
        Filter {
            source: String::new(),
            root: None,
        }
    }

    /// The expression as typed.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True for a blank expression.
    pub fn is_all(&self) -> bool {
        self.root.is_none()
    }

    /// True when the expression reads bodies (`~b`, `~bq`, `~bs`), which is
    /// the expensive kind: callers may want to re-check less often.
    pub fn reads_bodies(&self) -> bool {
        self.root.as_ref().is_some_and(Node::reads_bodies)
    }

    /// Does `exchange` (with its analysis, when known) match?
    pub fn matches(&self, exchange: &Exchange, analysis: Option<&dyn AnalysisView>) -> bool {
        self.root
            .as_ref()
            .is_none_or(|n| n.eval(exchange, analysis))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[derive(Debug, Clone)]
enum Node {
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Pred(Pred),
}

/// Which side of the exchange a predicate looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
    Either,
}

#[derive(Debug, Clone)]
enum Pred {
    All,
    Header(Regex, Side),
    Body(Regex, Side),
    ContentType(Regex, Side),
    Domain(Regex),
    Method(Regex),
    Url(Regex),
    Status(StatusPattern),
    Error,
    NoResponse,
    HasResponse,
    Provider(Regex),
    Model(Regex),
    Tool(Regex),
    App(Regex),
    Mcp,
    Stream,
    WebSocket,
    Grpc,
    /// A gRPC call that ended with a status other than OK (its HTTP
    /// status is `200` all the same).
    GrpcError,
}

/// A status code with optional `x` wildcards per digit (`4xx`, `20x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatusPattern([Option<u8>; 3]);

impl StatusPattern {
    fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 3 {
            return None;
        }
        let mut digits = [None; 3];
        for (slot, b) in digits.iter_mut().zip(bytes) {
            *slot = match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'x' | b'X' => None,
                _ => return None,
            };
        }
        Some(StatusPattern(digits))
    }

    fn matches(self, status: u16) -> bool {
        let digits = [status / 100 % 10, status / 10 % 10, status % 10];
        status < 1000
            && self
                .0
                .iter()
                .zip(digits)
                .all(|(want, got)| want.is_none_or(|w| u16::from(w) == got))
    }
}

impl Node {
    fn eval(&self, ex: &Exchange, a: Option<&dyn AnalysisView>) -> bool {
        match self {
            Node::Not(n) => !n.eval(ex, a),
            Node::And(l, r) => l.eval(ex, a) && r.eval(ex, a),
            Node::Or(l, r) => l.eval(ex, a) || r.eval(ex, a),
            Node::Pred(p) => p.eval(ex, a),
        }
    }

    fn reads_bodies(&self) -> bool {
        match self {
            Node::Not(n) => n.reads_bodies(),
            Node::And(l, r) | Node::Or(l, r) => l.reads_bodies() || r.reads_bodies(),
            Node::Pred(p) => matches!(p, Pred::Body(..)),
        }
    }
}

impl Pred {
    fn eval(&self, ex: &Exchange, a: Option<&dyn AnalysisView>) -> bool {
        match self {
            Pred::All => true,
            Pred::Header(re, side) => sides(ex, *side, |h, _| header_matches(re, h)),
            Pred::Body(re, side) => {
                sides(ex, *side, |h, body| body_matches(re, h, body))
                    || messages_match(re, ex, *side)
            }
            Pred::ContentType(re, side) => sides(ex, *side, |h, _| {
                header(h, "content-type").is_some_and(|ct| re.is_match(ct.as_bytes()))
            }),
            Pred::Domain(re) => re.is_match(ex.request.host.as_bytes()),
            Pred::Method(re) => re.is_match(ex.request.method.as_bytes()),
            Pred::Url(re) => re.is_match(ex.url().as_bytes()),
            Pred::Status(p) => ex.response.as_ref().is_some_and(|r| p.matches(r.status)),
            Pred::Error => matches!(ex.state, State::Failed(_)),
            Pred::NoResponse => ex.response.is_none(),
            Pred::HasResponse => ex.response.is_some(),
            Pred::Provider(re) => a
                .and_then(|a| a.provider())
                .is_some_and(|p| re.is_match(p.as_bytes())),
            Pred::Model(re) => a
                .and_then(|a| a.model())
                .is_some_and(|m| re.is_match(m.as_bytes())),
            Pred::Tool(re) => {
                a.is_some_and(|a| a.tool_names().iter().any(|t| re.is_match(t.as_bytes())))
            }
            Pred::App(re) => ex
                .client_app
                .as_ref()
                .is_some_and(|app| re.is_match(app.as_bytes())),
            Pred::Mcp => a.is_some_and(|a| a.is_mcp()),
            Pred::Stream => a.is_some_and(|a| a.is_stream()) || streamed_response(ex),
            Pred::WebSocket => ex.is_websocket(),
            Pred::Grpc => ex.is_grpc(),
            Pred::GrpcError => ex.grpc_status().is_some_and(|s| !s.is_ok()),
        }
    }
}

/// Apply `test` to the request and/or response (headers, body bytes).
fn sides(ex: &Exchange, side: Side, test: impl Fn(&Headers, &[u8]) -> bool) -> bool {
    let req = || test(&ex.request.headers, &ex.request.body.bytes);
    let resp = || {
        ex.response
            .as_ref()
            .is_some_and(|r| test(&r.headers, &r.body.bytes))
    };
    match side {
        Side::Request => req(),
        Side::Response => resp(),
        Side::Either => req() || resp(),
    }
}

fn header_matches(re: &Regex, headers: &Headers) -> bool {
    headers
        .iter()
        .any(|(n, v)| re.is_match(format!("{n}: {v}").as_bytes()))
}

/// A body, decoded; for a stream of events, also the text its events
/// spell out (a streamed reply's phrase is split across deltas).
fn body_matches(re: &Regex, headers: &Headers, body: &[u8]) -> bool {
    let decoded = content::decode(header(headers, "content-encoding"), body);
    re.is_match(&decoded.bytes)
        || stream_text::stream_text(headers, body).is_some_and(|t| re.is_match(t.as_bytes()))
}

/// WebSocket messages: sent ones count as the request side, received
/// ones as the response side.
fn messages_match(re: &Regex, ex: &Exchange, side: Side) -> bool {
    let Some(ws) = ex.websocket.as_deref() else {
        return false;
    };
    ws.messages.iter().any(|m| {
        let wanted = match side {
            Side::Either => true,
            Side::Request => m.direction == Direction::Send,
            Side::Response => m.direction == Direction::Receive,
        };
        wanted && re.is_match(m.payload.as_bytes())
    })
}

fn streamed_response(ex: &Exchange) -> bool {
    ex.response
        .as_ref()
        .is_some_and(|r| is_event_stream(header(&r.headers, "content-type")))
}
