//! Secrets out of everything that leaves llmspy: exports, retrieve answers
//! and recorded fixtures.
//!
//! [`redact`] returns a copy of an exchange with credentials replaced by
//! [`MASK`] — secret headers (so header presence still matches on replay;
//! an authorization scheme such as `Bearer` and cookie names stay),
//! a `key=` query parameter, and secret JSON (or form) body fields at any
//! depth — plus the list of what it replaced, so a fixture file can say
//! which fields it redacted. A content-encoded body is decoded first (a
//! secret inside gzip is still a secret) and the copy loses its
//! `Content-Encoding` header, since its body is now plain.
//!
//! Each part has a module: `names` (which names are secret), `headers`,
//! `pairs` (query and form), `body_fields` (JSON documents and lines) and
//! `echoes` (copies of a secret found elsewhere by value).

mod body_fields;
mod clean;
mod echoes;
mod headers;
mod names;
mod pairs;

use serde::Serialize;

use crate::exchange::{Exchange, ExchangeId};
use body_fields::{redact_body, redact_tail};
use clean::clean_path;
use echoes::mask_echoes;
use headers::redact_headers;
pub use names::{is_secret_field, is_secret_header, is_secret_query};
use pairs::redact_path;

/// What a redacted value is replaced with.
pub const MASK: &str = "***REDACTED***";

/// Where a redacted value was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    RequestHeader,
    ResponseHeader,
    /// A field of a body's trailers (after the body, as gRPC's status is).
    RequestTrailer,
    ResponseTrailer,
    Query,
    RequestBody,
    ResponseBody,
    /// A secret's value repeated verbatim elsewhere (an upstream echoing
    /// the URL, an error message quoting the key).
    Echo,
}

impl Part {
    pub fn label(self) -> &'static str {
        match self {
            Part::RequestHeader => "request header",
            Part::ResponseHeader => "response header",
            Part::RequestTrailer => "request trailer",
            Part::ResponseTrailer => "response trailer",
            Part::Query => "query parameter",
            Part::RequestBody => "request body field",
            Part::ResponseBody => "response body field",
            Part::Echo => "copy of a secret in",
        }
    }
}

/// One value that was replaced.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Redaction {
    pub exchange: ExchangeId,
    pub part: Part,
    /// Header name, query parameter name, or body field path (`auth.password`).
    pub name: String,
}

impl Redaction {
    /// `request header x-api-key`, for people and fixture files.
    pub fn label(&self) -> String {
        format!("{} {}", self.part.label(), self.name)
    }
}

/// A redacted copy of an exchange and what was replaced in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Redacted {
    pub exchange: Exchange,
    pub redactions: Vec<Redaction>,
}

/// Redact every exchange; the redactions of all of them, in order.
pub fn redact_all(exchanges: &[Exchange]) -> (Vec<Exchange>, Vec<Redaction>) {
    let mut out = Vec::with_capacity(exchanges.len());
    let mut all = Vec::new();
    for ex in exchanges {
        let r = redact(ex);
        out.push(r.exchange);
        all.extend(r.redactions);
    }
    (out, all)
}

/// The distinct labels of `redactions` (`request header x-api-key`, …),
/// sorted: what a fixture file lists as the fields it redacted.
pub fn labels(redactions: &[Redaction]) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = redactions.iter().map(Redaction::label).collect();
    set.into_iter().collect()
}

/// `ex` with its secrets replaced by [`MASK`]: `ex` itself when it holds
/// nothing to replace, else a masked copy. What the history, `--save` and
/// exports write, none of which need the list of what was replaced.
pub fn masked(ex: &Exchange) -> std::borrow::Cow<'_, Exchange> {
    if clean::has_nothing_to_mask(ex) {
        std::borrow::Cow::Borrowed(ex)
    } else {
        std::borrow::Cow::Owned(redact(ex).exchange)
    }
}

/// `path` with the values of secret query parameters (`?key=` as
/// Gemini's API takes it) replaced by `mask`, for showing: a log line
/// (`MASK`), the UI (its own mask). `path` itself when none is secret.
pub fn masked_path<'a>(path: &'a str, mask: &str) -> std::borrow::Cow<'a, str> {
    if clean_path(path) {
        return path.into();
    }
    let mut found = Found::new(0);
    pairs::masked_path(path, mask, &mut found)
}

/// Whether a key from the request's head is quoted in a body (a prompt
/// pasting it): the UI then draws the conversation from a masked copy.
pub fn quotes_a_secret(ex: &Exchange) -> bool {
    echoes::quotes_a_secret(ex)
}

/// `ex`'s URL with its secret query values replaced by `mask`: what a log
/// line, an agent's tool result or the UI shows of it.
pub fn masked_url(ex: &Exchange, mask: &str) -> String {
    let r = &ex.request;
    let mut url = String::with_capacity(r.scheme.len() + r.host.len() + r.path.len() + 12);
    let _ = r.write_url_with_path(&mut url, &masked_path(&r.path, mask));
    url
}

/// The secret values an exchange's request carries (a header's key, a
/// `?key=` value, a secret body field), to mask text made from the
/// request that is not an exchange: a mismatch's explanation quoting it.
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn of(ex: &Exchange) -> Secrets {
        let mut copy = ex.request.clone();
        let mut found = Found::new(ex.id);
        redact_request(&mut copy, &mut found);
        Secrets(echoes::worth_hunting(found.values))
    }

    /// `text` with every copy of a secret replaced by [`MASK`].
    pub fn mask<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for v in self.0.iter().filter(|v| text.contains(v.as_str())) {
            out = out.replace(v.as_str(), MASK).into();
        }
        out
    }
}

/// Replace the secrets in `ex` with [`MASK`], copying nothing when it
/// holds none.
pub fn mask(ex: &mut Exchange) {
    if !clean::has_nothing_to_mask(ex) {
        *ex = redact(ex).exchange;
    }
}

/// A copy of `ex` with its secrets replaced by [`MASK`].
pub fn redact(ex: &Exchange) -> Redacted {
    let mut copy = ex.clone();
    let mut found = Found::new(ex.id);
    redact_request(&mut copy.request, &mut found);
    if let Some(resp) = copy.response.as_mut() {
        redact_headers(&mut resp.headers, Part::ResponseHeader, &mut found);
        redact_headers(&mut resp.body.trailers, Part::ResponseTrailer, &mut found);
        redact_body(
            &mut resp.headers,
            &mut resp.body,
            Part::ResponseBody,
            &mut found,
        );
        redact_tail(&mut resp.body, Part::ResponseBody, &mut found);
    }
    mask_echoes(&mut copy, &mut found);
    Redacted {
        exchange: copy,
        redactions: found.list,
    }
}

/// Mask a request's secrets in place: head, trailers, query, body.
fn redact_request(req: &mut crate::exchange::Request, found: &mut Found) {
    redact_headers(&mut req.headers, Part::RequestHeader, found);
    redact_headers(&mut req.body.trailers, Part::RequestTrailer, found);
    req.path = redact_path(&req.path, found);
    redact_body(&mut req.headers, &mut req.body, Part::RequestBody, found);
}

/// Collects redactions for one exchange.
struct Found {
    exchange: ExchangeId,
    list: Vec<Redaction>,
    /// The secret values replaced so far, to find their copies elsewhere.
    values: Vec<String>,
}

impl Found {
    fn new(exchange: ExchangeId) -> Found {
        Found {
            exchange,
            list: Vec::new(),
            values: Vec::new(),
        }
    }

    fn remember(&mut self, value: impl Into<String>) {
        self.values.push(value.into());
    }

    fn add(&mut self, part: Part, name: impl Into<String>) {
        self.list.push(Redaction {
            exchange: self.exchange,
            part,
            name: name.into(),
        });
    }
}

#[cfg(test)]
mod tests;
