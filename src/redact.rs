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

use serde::Serialize;

use crate::content;
use crate::exchange::{self, Body, Exchange, ExchangeId, Headers};

/// What a redacted value is replaced with.
pub const MASK: &str = "***REDACTED***";

/// Headers whose whole value is a credential.
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
];

/// Body fields and query parameters holding credentials, compared after
/// lower-casing and dropping `_` and `-`, so `api_key`, `apiKey` and
/// `api-key` are one name.
const SECRET_FIELDS: [&str; 10] = [
    "apikey",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "sessiontoken",
    "clientsecret",
    "password",
    "secretkey",
    "privatekey",
    "secretaccesskey",
];

/// Where a redacted value was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    RequestHeader,
    ResponseHeader,
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

/// True for headers whose value is a credential (cookies included).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
        || is_cookie_header(name)
        || is_aws_credential(name)
}

/// AWS SigV4 credentials in a header or a presigned URL's query:
/// `x-amz-security-token`, `X-Amz-Credential`, `X-Amz-Signature`. The
/// signature itself is in `authorization`; `x-amz-date` and
/// `x-amz-content-sha256` are not secret and stay.
fn is_aws_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("x-amz-")
        && ["token", "credential", "signature"]
            .iter()
            .any(|w| name.contains(w))
}

fn is_cookie_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie")
}

/// True for JSON/form field names that hold credentials.
pub fn is_secret_field(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_FIELDS.contains(&folded.as_str())
}

/// True for query parameters that carry credentials (Gemini's `key=`).
pub fn is_secret_query(name: &str) -> bool {
    name.eq_ignore_ascii_case("key") || is_secret_field(name) || is_aws_credential(name)
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

/// A copy of `ex` with its secrets replaced by [`MASK`].
pub fn redact(ex: &Exchange) -> Redacted {
    let mut copy = ex.clone();
    let mut found = Found {
        exchange: ex.id,
        list: Vec::new(),
        values: Vec::new(),
    };
    redact_headers(&mut copy.request.headers, Part::RequestHeader, &mut found);
    copy.request.path = redact_path(&copy.request.path, &mut found);
    redact_body(
        &mut copy.request.headers,
        &mut copy.request.body,
        Part::RequestBody,
        &mut found,
    );
    if let Some(resp) = copy.response.as_mut() {
        redact_headers(&mut resp.headers, Part::ResponseHeader, &mut found);
        redact_body(
            &mut resp.headers,
            &mut resp.body,
            Part::ResponseBody,
            &mut found,
        );
    }
    mask_echoes(&mut copy, &mut found);
    Redacted {
        exchange: copy,
        redactions: found.list,
    }
}

/// Values shorter than this are not hunted for elsewhere: masking every
/// `1` or `abc` would garble bodies, and such values guard nothing.
const MIN_ECHO_LEN: usize = 8;

/// Mask verbatim copies of the secrets already found wherever else they
/// appear as text: response headers and both bodies.
fn mask_echoes(copy: &mut Exchange, found: &mut Found) {
    let mut values = std::mem::take(&mut found.values);
    values.retain(|v| v.len() >= MIN_ECHO_LEN && v != MASK);
    if values.is_empty() {
        return;
    }
    // Longest first, so a secret containing another is masked whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    let scrub = |text: &str, place: &str, found: &mut Found| -> Option<String> {
        let hits: Vec<&String> = values
            .iter()
            .filter(|v| text.contains(v.as_str()))
            .collect();
        if hits.is_empty() {
            return None;
        }
        found.add(Part::Echo, place);
        Some(
            hits.iter()
                .fold(text.to_string(), |t, v| t.replace(v.as_str(), MASK)),
        )
    };
    if let Some(text) = std::str::from_utf8(&copy.request.body.bytes)
        .ok()
        .and_then(|t| scrub(t, "request body", found))
    {
        replace_body(&mut copy.request.headers, &mut copy.request.body, text);
    }
    if let Some(resp) = copy.response.as_mut() {
        for (name, value) in resp.headers.iter_mut() {
            if let Some(text) = scrub(
                value,
                &format!("response header {}", name.to_ascii_lowercase()),
                found,
            ) {
                *value = text;
            }
        }
        if let Some(text) = std::str::from_utf8(&resp.body.bytes)
            .ok()
            .and_then(|t| scrub(t, "response body", found))
        {
            replace_body(&mut resp.headers, &mut resp.body, text);
        }
    }
}

fn replace_body(headers: &mut Headers, body: &mut Body, text: String) {
    body.bytes = text.into_bytes();
    if !body.truncated {
        body.wire_size = body.bytes.len() as u64;
        set_content_length(headers, body.bytes.len());
    }
}

/// Collects redactions for one exchange.
struct Found {
    exchange: ExchangeId,
    list: Vec<Redaction>,
    /// The secret values replaced so far, to find their copies elsewhere.
    values: Vec<String>,
}

impl Found {
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

fn redact_headers(headers: &mut Headers, part: Part, found: &mut Found) {
    for (name, value) in headers.iter_mut() {
        if !is_secret_header(name) || value.ends_with(MASK) {
            continue;
        }
        remember_credential(name, value, found);
        *value = if name.eq_ignore_ascii_case("cookie") {
            mask_cookies(value)
        } else if name.eq_ignore_ascii_case("set-cookie") {
            mask_set_cookie(value)
        } else if name.to_ascii_lowercase().ends_with("authorization") {
            mask_credentials(value)
        } else {
            MASK.to_string()
        };
        found.add(part, name.to_ascii_lowercase());
    }
}

/// Remember a header's secret part: each cookie's value (only the first
/// pair of a `Set-Cookie`; the rest are attributes), the token after an
/// auth scheme, or the whole value.
fn remember_credential(name: &str, value: &str, found: &mut Found) {
    let pairs: Vec<&str> = if name.eq_ignore_ascii_case("cookie") {
        value.split(';').collect()
    } else if name.eq_ignore_ascii_case("set-cookie") {
        value.split(';').take(1).collect()
    } else {
        found.remember(value);
        if let Some((_, token)) = value.split_once(' ') {
            found.remember(token.trim());
        }
        return;
    };
    for pair in pairs {
        if let Some((_, v)) = pair.split_once('=') {
            found.remember(v.trim());
        }
    }
}

/// `Bearer sk-…` → `Bearer ***REDACTED***`: the scheme is not secret and
/// tells a reader (and the OpenAPI export) what kind of credential it was.
fn mask_credentials(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("{scheme} {MASK}")
        }
        _ => MASK.to_string(),
    }
}

/// `a=1; b=2` → `a=***; b=***`: cookie names stay, so a reader still sees
/// which cookies were sent.
fn mask_cookies(value: &str) -> String {
    value
        .split(';')
        .map(|c| match c.trim().split_once('=') {
            Some((n, _)) => format!("{n}={MASK}"),
            None => MASK.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `sid=abc; Path=/; HttpOnly` → `sid=***; Path=/; HttpOnly`.
fn mask_set_cookie(value: &str) -> String {
    let (first, attrs) = match value.split_once(';') {
        Some((f, a)) => (f, Some(a)),
        None => (value, None),
    };
    let masked = match first.split_once('=') {
        Some((n, _)) => format!("{}={MASK}", n.trim()),
        None => MASK.to_string(),
    };
    match attrs {
        Some(a) => format!("{masked};{a}"),
        None => masked,
    }
}

fn redact_path(path: &str, found: &mut Found) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_string();
    };
    match redact_pairs(query, Part::Query, found, is_secret_query) {
        Some(q) => format!("{base}?{q}"),
        None => path.to_string(),
    }
}

/// Mask the values of secret `name=value` pairs in a query or form body;
/// `None` when nothing was secret, so the original bytes are kept.
fn redact_pairs(
    text: &str,
    part: Part,
    found: &mut Found,
    secret: fn(&str) -> bool,
) -> Option<String> {
    let mut changed = false;
    let pairs: Vec<String> = text
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((n, v)) if v != MASK && secret(&crate::urlcodec::percent_decode(n)) => {
                changed = true;
                found.remember(v);
                found.remember(crate::urlcodec::percent_decode(v));
                found.add(part, crate::urlcodec::percent_decode(n));
                format!("{n}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    changed.then(|| pairs.join("&"))
}

fn redact_body(headers: &mut Headers, body: &mut Body, part: Part, found: &mut Found) {
    if body.bytes.is_empty() {
        return;
    }
    let decoded = content::decode(exchange::header(headers, "content-encoding"), &body.bytes);
    let was_encoded = decoded.applied.is_some();
    let plain = decoded.bytes.into_owned();
    let media = crate::content::media_type(headers).unwrap_or_default();
    let rewritten = std::str::from_utf8(&plain)
        .ok()
        .and_then(|text| body_fields::redact_text(text, &media, part, found));
    if !was_encoded && rewritten.is_none() {
        return;
    }
    if was_encoded {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-encoding"));
    }
    body.bytes = rewritten.map(String::into_bytes).unwrap_or(plain);
    if !body.truncated {
        body.wire_size = body.bytes.len() as u64;
        set_content_length(headers, body.bytes.len());
    }
}

/// Keep a `Content-Length` header true to the rewritten body, so a replay
/// of the copy is framed correctly.
fn set_content_length(headers: &mut Headers, len: usize) {
    for (name, value) in headers.iter_mut() {
        if name.eq_ignore_ascii_case("content-length") {
            *value = len.to_string();
        }
    }
}

mod body_fields;

#[cfg(test)]
mod tests;
