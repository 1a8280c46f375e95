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
use super::jsonpath::JsonPath;
use crate::exchange::Request;

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
        // A redacted recording still matches the live value it replaced.
        let pattern = if text == crate::redact::MASK {
            ".*".to_string()
        } else {
            format!("^(?:{text})$")
        };
        StringMatcher {
            raw: text.to_string(),
            regex: regex::Regex::new(&pattern).ok(),
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
        let hit = value == self.raw || self.regex.as_ref().is_some_and(|r| r.is_match(value));
        hit != self.negate
    }
}

/// How a body is compared.
#[derive(Debug, Clone)]
pub enum BodyMatcher {
    /// `{"type":"STRING","string":"…","subString":bool}` or a bare string.
    String { text: String, sub_string: bool },
    /// `{"type":"REGEX","regex":"…"}`.
    Regex(regex::Regex),
    /// `{"type":"JSON","json":…,"matchType":"ONLY_MATCHING_FIELDS"|"STRICT"}`.
    Json { expected: Value, strict: bool },
    /// `{"type":"JSON_PATH","jsonPath":"$.…"}`: the path selects something.
    JsonPath(JsonPath),
    /// `{"type":"LLM","model":…,"stream":…,"conversation":…}`.
    Llm(LlmBody),
    /// `{"type":"BINARY","base64Bytes":"…"}`: these bytes exactly (how a
    /// recorded body that is not text is written).
    Binary(Vec<u8>),
}

/// The replay matcher for LLM calls; absent fields are not compared.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmBody {
    pub model: Option<String>,
    pub stream: Option<bool>,
    /// `{"system", "messages"}` as [`super::facts::LlmFacts::conversation`].
    pub conversation: Option<Value>,
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

fn body_matcher(v: &Value) -> Result<BodyMatcher, MatcherError> {
    match v {
        Value::String(s) => Ok(BodyMatcher::String {
            text: s.clone(),
            sub_string: false,
        }),
        Value::Object(o) if o.contains_key("type") && body_fields(o).is_some() => {
            let (key, problem) = body_fields(o).unwrap_or_default();
            Err(invalid(&format!("body.{key}"), problem))
        }
        Value::Object(o) => match o.get("type").and_then(Value::as_str).unwrap_or("JSON") {
            "STRING" => Ok(BodyMatcher::String {
                text: o
                    .get("string")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                sub_string: o.get("subString").and_then(Value::as_bool).unwrap_or(false),
            }),
            "REGEX" => {
                let re = o.get("regex").and_then(Value::as_str).unwrap_or_default();
                regex::Regex::new(re)
                    .map(BodyMatcher::Regex)
                    .map_err(|e| invalid("body.regex", e.to_string()))
            }
            "JSON" => Ok(BodyMatcher::Json {
                expected: o.get("json").cloned().unwrap_or_else(|| v.clone()),
                strict: o.get("matchType").and_then(Value::as_str) == Some("STRICT"),
            }),
            "JSON_PATH" => {
                let path = o
                    .get("jsonPath")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                JsonPath::parse(path)
                    .map(BodyMatcher::JsonPath)
                    .map_err(|e| invalid("body.jsonPath", format!("expected {e}")))
            }
            "BINARY" => {
                use base64::Engine;
                let b64 = o
                    .get("base64Bytes")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map(BodyMatcher::Binary)
                    .map_err(|_| invalid("body.base64Bytes", "expected base64"))
            }
            "LLM" => Ok(BodyMatcher::Llm(LlmBody {
                model: o.get("model").and_then(Value::as_str).map(String::from),
                stream: o.get("stream").and_then(Value::as_bool),
                conversation: o.get("conversation").cloned(),
            })),
            other => Err(invalid(
                "body.type",
                format!("{other:?} is not one of STRING, REGEX, JSON, JSON_PATH, BINARY, LLM"),
            )),
        },
        other => Ok(BodyMatcher::Json {
            expected: other.clone(),
            strict: false,
        }),
    }
}

/// A typed body matcher's field that its type does not read (an untyped
/// object is the JSON expected, whatever its fields).
fn body_fields(o: &serde_json::Map<String, Value>) -> Option<(String, String)> {
    let own: &[&str] = match o.get("type").and_then(Value::as_str).unwrap_or_default() {
        "STRING" => &["string", "subString"],
        "REGEX" => &["regex"],
        "JSON" => &["json", "matchType"],
        "JSON_PATH" => &["jsonPath"],
        "BINARY" => &["base64Bytes"],
        "LLM" => &["model", "stream", "conversation"],
        _ => return None,
    };
    let known: Vec<&str> = ["type", "not"].iter().chain(own).copied().collect();
    super::fields::unknown(o, &known).map(|(k, p)| (k.to_string(), p))
}

pub(crate) fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

pub(crate) fn query_matches(path: &str, key: &str, ms: &[StringMatcher]) -> bool {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let values: Vec<&str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .collect();
    !values.is_empty() && ms.iter().all(|m| values.iter().any(|v| m.matches(v)))
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

pub(crate) fn body_matches(m: &BodyMatcher, body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    match m {
        BodyMatcher::String {
            text: want,
            sub_string: true,
        } => text.contains(want.as_str()),
        BodyMatcher::String {
            text: want,
            sub_string: false,
        } => text == want.as_str(),
        BodyMatcher::Regex(re) => re.is_match(&text),
        BodyMatcher::JsonPath(path) => {
            serde_json::from_slice::<Value>(body).is_ok_and(|doc| !path.select(&doc).is_empty())
        }
        // Without the request head there is nothing to analyse; callers
        // holding the whole request use `matches_facts`.
        BodyMatcher::Llm(_) => false,
        BodyMatcher::Binary(bytes) => body == bytes.as_slice(),
        BodyMatcher::Json { expected, strict } => {
            serde_json::from_slice::<Value>(body).is_ok_and(|actual| {
                if *strict {
                    json_equal(&actual, expected)
                } else {
                    json_contains(&actual, expected)
                }
            })
        }
    }
}

fn llm_matches(want: &LlmBody, facts: &RequestFacts) -> bool {
    let Some(got) = facts.llm() else {
        return false;
    };
    want.model
        .as_ref()
        .is_none_or(|m| got.model.as_ref() == Some(m))
        && want.stream.is_none_or(|s| s == got.stream)
        && want
            .conversation
            .as_ref()
            .is_none_or(|c| c == &got.conversation)
}

/// Partial JSON match: every field in `expected` is present and equal in
/// `actual`; arrays must contain matching elements in order. A redacted
/// value (`***REDACTED***`) matches whatever value is there.
pub fn json_contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (_, Value::String(mask)) if mask == crate::redact::MASK => true,
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| json_contains(av, ev))),
        (Value::Array(a), Value::Array(e)) => {
            let mut it = a.iter();
            e.iter().all(|ev| it.any(|av| json_contains(av, ev)))
        }
        _ => actual == expected,
    }
}

/// Strict JSON equality, with redacted values matching anything.
fn json_equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (_, Value::String(mask)) if mask == crate::redact::MASK => true,
        (Value::Object(a), Value::Object(e)) => {
            a.len() == e.len()
                && e.iter()
                    .all(|(k, ev)| a.get(k).is_some_and(|av| json_equal(av, ev)))
        }
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| json_equal(av, ev))
        }
        _ => actual == expected,
    }
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
