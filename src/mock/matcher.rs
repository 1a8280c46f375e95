//! MockServer-style request matchers: `method`, `path`, `queryStringParameters`,
//! `headers`, `body`. Pure: a matcher is parsed from JSON and tested against
//! a captured request. Values are matched exactly or, failing that, as a
//! regular expression anchored at both ends, as MockServer does.
//!
//! Bodies match as a string, a regex, JSON (partial or strict), a JSONPath,
//! or — llmspy's own `LLM` type, written by the fixture recorder — an LLM
//! call's model, stream flag and conversation with volatile ids ignored.

use serde_json::Value;

use super::facts::RequestFacts;
use crate::exchange::Request;

mod body;
pub use body::{BodyMatcher, LlmBody, json_contains};
use body::{body_matcher, llm_matches};
pub(crate) use body::{body_matches, json_equal};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MatcherError {
    #[error("request matcher: {field}: {problem}")]
    Invalid { field: String, problem: String },
}

fn invalid(field: &str, problem: impl Into<String>) -> MatcherError {
    MatcherError::Invalid {
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// A string test: exact, else anchored regex; `!` prefix negates.
#[derive(Debug, Clone)]
pub struct StringMatcher {
    raw: String,
    regex: Option<regex::Regex>,
    negate: bool,
}

impl StringMatcher {
    pub fn new(raw: &str) -> Self {
        let (negate, text) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        // A redacted recording still matches the live value it replaced
        // (a value with a masked span, `Bearer ***REDACTED***`, is matched
        // by `masked_text_matches`; as a regex it would not compile).
        // Plain text (most paths, header values) needs no regex: equality
        // is the same test, and a compiled regex costs kilobytes each.
        let pattern = if text == crate::redact::MASK {
            Some(".*".to_string())
        } else if text.contains(crate::redact::MASK) || regex::escape(text) == text {
            None
        } else {
            Some(format!("^(?:{text})$"))
        };
        StringMatcher {
            raw: text.to_string(),
            regex: pattern.and_then(|p| regex::Regex::new(&p).ok()),
            negate,
        }
    }

    /// The matcher as written (`!` when negated), for explanations.
    pub fn describe(&self) -> String {
        if self.negate {
            format!("!{}", self.raw)
        } else {
            self.raw.clone()
        }
    }

    pub fn matches(&self, value: &str) -> bool {
        let hit = value == self.raw
            || self.regex.as_ref().is_some_and(|r| r.is_match(value))
            || masked_text_matches(value, &self.raw);
        hit != self.negate
    }
}

/// Whether `actual` reads as `expected` where each [`MASK`] in `expected`
/// stands for a secret the recording masked (any text of at least one
/// character): a prompt that quoted the key, recorded as `my key
/// ***REDACTED***`, matches the same prompt sent again. False when
/// `expected` masks nothing.
///
/// [`MASK`]: crate::redact::MASK
pub(crate) fn masked_text_matches(actual: &str, expected: &str) -> bool {
    let mut parts = expected.split(crate::redact::MASK);
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let (Some((last, middle)), Some(mut left)) = (rest.split_last(), actual.strip_prefix(first))
    else {
        return false;
    };
    for part in middle {
        // One character at least for the mask before `part`.
        let Some(skip) = left.chars().next().map(char::len_utf8) else {
            return false;
        };
        match left[skip..].find(part) {
            Some(at) => left = &left[skip + at + part.len()..],
            None => return false,
        }
    }
    left.len() > last.len() && left.ends_with(last)
}

/// A parsed request matcher.
#[derive(Debug, Clone, Default)]
pub struct RequestMatcher {
    pub method: Option<StringMatcher>,
    pub path: Option<StringMatcher>,
    pub query: Vec<(String, Vec<StringMatcher>)>,
    pub headers: Vec<(String, Vec<StringMatcher>)>,
    pub body: Option<BodyMatcher>,
    /// MockServer's `secure`: HTTPS (true) or plain HTTP (false) only.
    pub secure: Option<bool>,
}

impl RequestMatcher {
    /// Parse a matcher; `null` or `{}` match everything.
    pub fn from_json(v: &Value) -> Result<Self, MatcherError> {
        let obj = match v {
            Value::Null => return Ok(RequestMatcher::default()),
            Value::Object(o) => o,
            _ => return Err(invalid("httpRequest", "expected a JSON object")),
        };
        // A retrieve/clear body may wrap the matcher as {"httpRequest": {...}}.
        if let Some(inner) = obj.get("httpRequest") {
            return Self::from_json(inner);
        }
        // A field not read here would match everything it meant to narrow.
        let known = [
            "method",
            "path",
            "queryStringParameters",
            "headers",
            "body",
            "secure",
        ];
        if let Some((key, problem)) = super::fields::unknown(obj, &known) {
            return Err(invalid(key, problem));
        }
        Ok(RequestMatcher {
            method: string_field(obj.get("method"), "method")?,
            path: string_field(obj.get("path"), "path")?,
            query: multi_map(obj.get("queryStringParameters"), "queryStringParameters")?,
            headers: multi_map(obj.get("headers"), "headers")?,
            body: obj.get("body").map(body_matcher).transpose()?,
            secure: match obj.get("secure") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err(invalid("secure", "expected true or false")),
            },
        })
    }

    pub fn matches(&self, req: &Request, body: &[u8]) -> bool {
        self.matches_head(req) && self.body.as_ref().is_none_or(|b| body_matches(b, body))
    }

    /// Match `facts.request` (its body included), reusing the request's
    /// LLM analysis across expectations.
    pub fn matches_facts(&self, facts: &RequestFacts) -> bool {
        self.matches_head(facts.request)
            && self.body.as_ref().is_none_or(|b| match b {
                BodyMatcher::Llm(want) => llm_matches(want, facts),
                other => body_matches(other, &facts.request.body.bytes),
            })
    }

    /// Everything but the body.
    pub fn matches_head(&self, req: &Request) -> bool {
        self.secure
            .is_none_or(|s| s == req.scheme.eq_ignore_ascii_case("https"))
            && self.method.as_ref().is_none_or(|m| m.matches(&req.method))
            && self
                .path
                .as_ref()
                .is_none_or(|m| m.matches(path_only(&req.path)))
            && self
                .query
                .iter()
                .all(|(k, ms)| query_matches(&req.path, k, ms))
            && self
                .headers
                .iter()
                .all(|(k, ms)| header_matches(req, k, ms))
    }
}

fn string_field(v: Option<&Value>, field: &str) -> Result<Option<StringMatcher>, MatcherError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(StringMatcher::new(s))),
        Some(Value::Object(o)) => match o.get("value").and_then(Value::as_str) {
            Some(s) => {
                let negate = o.get("not").and_then(Value::as_bool).unwrap_or(false);
                let raw = if negate {
                    format!("!{s}")
                } else {
                    s.to_string()
                };
                Ok(Some(StringMatcher::new(&raw)))
            }
            None => Err(invalid(field, "expected a string or {\"value\": …}")),
        },
        Some(_) => Err(invalid(field, "expected a string")),
    }
}

/// Accept `{"name": ["v"]}`, `{"name": "v"}` and `[{"name": …, "values": […]}]`.
fn multi_map(
    v: Option<&Value>,
    field: &str,
) -> Result<Vec<(String, Vec<StringMatcher>)>, MatcherError> {
    let values = |v: &Value| -> Result<Vec<StringMatcher>, MatcherError> {
        match v {
            Value::String(s) => Ok(vec![StringMatcher::new(s)]),
            Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(StringMatcher::new)
                        .ok_or_else(|| invalid(field, "values must be strings"))
                })
                .collect(),
            _ => Err(invalid(
                field,
                "values must be a string or a list of strings",
            )),
        }
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(o)) => o.iter().map(|(k, v)| Ok((k.clone(), values(v)?))).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(field, "each entry needs a \"name\""))?;
                let vals = item
                    .get("values")
                    .map(values)
                    .transpose()?
                    .unwrap_or_default();
                Ok((name.to_string(), vals))
            })
            .collect(),
        Some(_) => Err(invalid(field, "expected an object or a list")),
    }
}

pub(crate) fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

/// The values of query parameter `key` in `path`, each decoded (`+` and
/// `%20` are spaces: what MockServer matches, and what llmspy's recorder
/// writes) and as written (what older expectations may hold).
pub(crate) fn query_values<'a>(path: &'a str, key: &str) -> Vec<(String, &'a str)> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
        .filter(|(k, _)| *k == key || crate::urlcodec::percent_decode(k) == key)
        .map(|(_, v)| (crate::urlcodec::percent_decode(v), v))
        .collect()
}

pub(crate) fn query_matches(path: &str, key: &str, ms: &[StringMatcher]) -> bool {
    let values = query_values(path, key);
    !values.is_empty()
        && ms.iter().all(|m| {
            values
                .iter()
                .any(|(decoded, raw)| m.matches(decoded) || m.matches(raw))
        })
}

pub(crate) fn header_matches(req: &Request, name: &str, ms: &[StringMatcher]) -> bool {
    // `host` is `:authority` in HTTP/2 and may be absent from the list:
    // the request's host, with its port when not the scheme's default.
    let authority = name.eq_ignore_ascii_case("host").then(|| req.authority());
    let values: Vec<&str> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .chain(authority.as_deref())
        .collect();
    !values.is_empty()
        && ms.iter().all(|m| {
            values
                .iter()
                .any(|v| m.matches(v) || m.matches(v.split(':').next().unwrap_or(v)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Body;
    use serde_json::json;

    fn req(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: method.to_owned().into(),
            scheme: "https".into(),
            host: "api.anthropic.com".into(),
            port: 443,
            path: path.into(),
            version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            body: Body::default(),
        }
    }

    /// Plain text compiles no regex (kilobytes each, for 100,000 paths);
    /// a pattern still does, and both match as before.
    #[test]
    fn plain_text_needs_no_regex() {
        let plain = StringMatcher::new("/v1/messages");
        assert!(plain.regex.is_none());
        assert!(plain.matches("/v1/messages") && !plain.matches("/v1/messages/x"));
        let pattern = StringMatcher::new("/v1/.*");
        assert!(pattern.regex.is_some() && pattern.matches("/v1/x"));
        let negated = StringMatcher::new("!/health");
        assert!(negated.regex.is_none() && negated.matches("/v1") && !negated.matches("/health"));
    }

    #[test]
    fn a_masked_span_matches_the_text_that_was_there() {
        let m = crate::redact::MASK;
        for (actual, expected, hit) in [
            ("Bearer sk-live-1", format!("Bearer {m}"), true),
            ("Bearer ", format!("Bearer {m}"), false),
            ("Basic sk-live-1", format!("Bearer {m}"), false),
            ("my key is K123, ok", format!("my key is {m}, ok"), true),
            ("my key is K123, no", format!("my key is {m}, ok"), false),
            ("a X b Y c", format!("a {m} b {m} c"), true),
            ("a X b c", format!("a {m} b {m} c"), false),
            ("a  b Y c", format!("a {m} b {m} c"), false),
            ("a ! b Y c", format!("a {m} b {m} c"), true),
            ("K1K2", format!("{m}{m}"), true),
            ("K", format!("{m}{m}"), false),
            ("plain", "plain".to_string(), false),
            ("naïve ✓ key é", format!("naïve ✓ {m} é"), true),
        ] {
            assert_eq!(
                masked_text_matches(actual, &expected),
                hit,
                "{actual:?} against {expected:?}"
            );
        }
        let header = StringMatcher::new(&format!("Bearer {m}"));
        assert!(header.matches("Bearer sk-live-1"));
        assert!(!header.matches("Basic x"));
    }

    #[test]
    fn secure_tells_https_from_plain_http() {
        let m = |secure: bool| RequestMatcher::from_json(&json!({"secure": secure})).unwrap();
        let https = req("GET", "/", &[]);
        let mut plain = https.clone();
        plain.scheme = "http".into();
        assert!(m(true).matches(&https, b"") && !m(true).matches(&plain, b""));
        assert!(m(false).matches(&plain, b"") && !m(false).matches(&https, b""));
        let err = RequestMatcher::from_json(&json!({"secure": "yes"})).unwrap_err();
        assert!(err.to_string().contains("true or false"), "{err}");
    }

    #[test]
    fn host_matches_with_its_port_when_the_request_has_no_host_header() {
        // An HTTP/2 request to a non-default port: only `:authority`.
        let mut r = req("POST", "/v1/messages", &[]);
        r.port = 8443;
        let m = |v: Value| {
            RequestMatcher::from_json(&v)
                .expect("matcher")
                .matches(&r, b"")
        };
        assert!(m(json!({"headers": {"Host": ["api.anthropic.com:8443"]}})));
        assert!(m(json!({"headers": {"Host": ["api.anthropic.com"]}})));
        assert!(!m(json!({"headers": {"Host": ["api.anthropic.com:9999"]}})));
    }

    #[test]
    fn table() {
        let r = req("POST", "/v1/messages?beta=true", &[("x-api-key", "k")]);
        let body = br#"{"model":"claude","messages":[{"role":"user"}],"stream":true}"#;
        let cases = [
            (json!({}), true),
            (json!({"method": "POST"}), true),
            (json!({"method": "GET"}), false),
            (json!({"method": "P.*"}), true),
            (json!({"path": "/v1/messages"}), true),
            (json!({"path": "/v1/.*"}), true),
            (json!({"path": "!/v1/.*"}), false),
            (json!({"headers": {"host": ["api.anthropic.com"]}}), true),
            (
                json!({"headers": [{"name": "Host", "values": ["api\\.openai\\.com"]}]}),
                false,
            ),
            (json!({"headers": {"x-api-key": ".+"}}), true),
            (json!({"queryStringParameters": {"beta": ["true"]}}), true),
            (json!({"queryStringParameters": {"beta": ["false"]}}), false),
            (
                json!({"body": {"type": "JSON", "json": {"model": "claude"}}}),
                true,
            ),
            (
                json!({"body": {"type": "JSON", "json": {"model": "claude"}, "matchType": "STRICT"}}),
                false,
            ),
            (
                json!({"body": {"type": "STRING", "string": "stream", "subString": true}}),
                true,
            ),
            (
                json!({"body": {"type": "REGEX", "regex": ".*claude.*"}}),
                true,
            ),
            (json!({"httpRequest": {"method": "GET"}}), false),
            (json!({"headers": {"x-api-key": ["***REDACTED***"]}}), true),
            (
                json!({"body": {"type": "JSON", "json": {"model": "***REDACTED***"}}}),
                true,
            ),
            (
                json!({"body": {"type": "JSON_PATH", "jsonPath": "$.messages[?(@.role == 'user')]"}}),
                true,
            ),
            (
                json!({"body": {"type": "JSON_PATH", "jsonPath": "$.tools"}}),
                false,
            ),
        ];
        for (m, want) in cases {
            let matcher = RequestMatcher::from_json(&m).unwrap();
            assert_eq!(matcher.matches(&r, body), want, "{m}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = RequestMatcher::from_json(&json!({"body": {"type": "XML"}})).unwrap_err();
        assert!(e.to_string().contains("body.type"));
        assert!(RequestMatcher::from_json(&json!([1])).is_err());
    }
}
