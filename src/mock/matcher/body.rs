//! Request bodies in a matcher: how each kind is parsed (`STRING`,
//! `REGEX`, `JSON`, `JSON_PATH`, `BINARY`, llmspy's `LLM`) and compared.

use serde_json::Value;

use super::super::facts::RequestFacts;
use super::super::jsonpath::JsonPath;
use super::{MatcherError, invalid};

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

pub(super) fn body_matcher(v: &Value) -> Result<BodyMatcher, MatcherError> {
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
            "BINARY" => binary(o),
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
    super::super::fields::unknown(o, &known).map(|(k, p)| (k.to_string(), p))
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

pub(super) fn llm_matches(want: &LlmBody, facts: &RequestFacts) -> bool {
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
            .is_none_or(|c| json_equal(&got.conversation, c))
}

/// Partial JSON match: every field in `expected` is present and equal in
/// `actual`; arrays must contain matching elements in order. A redacted
/// value (`***REDACTED***`) matches whatever value is there, as a masked
/// span of a text matches the text that was there.
pub fn json_contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (_, Value::String(mask)) if mask == crate::redact::MASK => true,
        (Value::String(a), Value::String(e)) if e.contains(crate::redact::MASK) => {
            super::masked_text_matches(a, e)
        }
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

/// Strict JSON equality, with redacted values matching anything, and a
/// text with a masked span whatever text has the rest around it.
pub(crate) fn json_equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (_, Value::String(mask)) if mask == crate::redact::MASK => true,
        (Value::String(a), Value::String(e)) if e.contains(crate::redact::MASK) => {
            super::masked_text_matches(a, e)
        }
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

/// `{"type": "BINARY", "base64Bytes": "…"}`.
fn binary(o: &serde_json::Map<String, Value>) -> Result<BodyMatcher, MatcherError> {
    super::super::base64_bytes(o)
        .map(BodyMatcher::Binary)
        .ok_or_else(|| invalid("body.base64Bytes", "expected base64"))
}
