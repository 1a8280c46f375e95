//! Why a request matched no expectation: the closest expectation and the
//! fields that differed. Shown by strict replay's error response, the
//! `debug_request_mismatch` MCP tool and the UI.

use serde::Serialize;
use serde_json::Value;

use super::expectation::Expectation;
use super::facts::RequestFacts;
use super::matcher::{self, BodyMatcher, LlmBody, RequestMatcher};

/// One field that differed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `method`, `path`, `header host`, `body.model`, `body.messages[2]`, …
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// The expectation closest to a request, and how the request differed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub expectation_id: String,
    pub differences: Vec<Difference>,
}

impl Explanation {
    /// One line for people: `closest expectation X: path expected … got …`.
    pub fn sentence(&self) -> String {
        let diffs: Vec<String> = self
            .differences
            .iter()
            .map(|d| format!("{} expected {} but was {}", d.field, d.expected, d.actual))
            .collect();
        format!(
            "closest expectation {:?} differs in: {}",
            self.expectation_id,
            diffs.join("; ")
        )
    }
}

/// The closest of `expectations` to the request (fewest differences,
/// earliest on ties); `None` when there are none.
pub fn closest(expectations: &[Expectation], facts: &RequestFacts) -> Option<Explanation> {
    expectations
        .iter()
        .map(|e| Explanation {
            expectation_id: e.id.clone(),
            differences: differences(&e.matcher, facts),
        })
        .min_by_key(|x| x.differences.len())
}

/// As [`closest`], quoting `shown` (the same request with its secrets
/// masked): the expectation and the fields that differ are decided on
/// the request as sent, the values quoted come from `shown`, so an
/// explanation that leaves llmspy (an agent's tool result) quotes no key.
pub fn closest_shown(
    expectations: &[Expectation],
    facts: &RequestFacts,
    shown: &RequestFacts,
) -> Option<Explanation> {
    let mut x = closest(expectations, facts)?;
    let e = expectations.iter().find(|e| e.id == x.expectation_id)?;
    let quoted = differences(&e.matcher, shown);
    for d in &mut x.differences {
        d.actual = quoted
            .iter()
            .find(|q| q.field == d.field)
            .map_or_else(|| MASKED.to_string(), |q| q.actual.clone());
    }
    Some(x)
}

/// What an explanation quotes of a value that differs only as sent.
const MASKED: &str = "(masked)";

/// Every way the request fails `m`.
pub fn differences(m: &RequestMatcher, facts: &RequestFacts) -> Vec<Difference> {
    let req = facts.request;
    let mut out = Vec::new();
    let mut diff = |field: &str, expected: String, actual: String| {
        out.push(Difference {
            field: field.to_string(),
            expected,
            actual,
        });
    };
    let https = req.scheme.eq_ignore_ascii_case("https");
    if let Some(want) = m.secure.filter(|s| *s != https) {
        diff("secure", want.to_string(), https.to_string());
    }
    if let Some(want) = m.method.as_ref().filter(|w| !w.matches(&req.method)) {
        diff("method", want.describe(), req.method.to_string());
    }
    let path = matcher::path_only(&req.path);
    if let Some(want) = m.path.as_ref().filter(|w| !w.matches(path)) {
        diff("path", want.describe(), path.to_string());
    }
    for (name, ms) in m
        .query
        .iter()
        .filter(|(k, ms)| !matcher::query_matches(&req.path, k, ms))
    {
        let values: Vec<String> = matcher::query_values(&req.path, name)
            .into_iter()
            .map(|(decoded, _)| decoded)
            .collect();
        let actual = if values.is_empty() {
            "absent".to_string()
        } else {
            values.join(", ")
        };
        diff(&format!("query {name}"), describe_all(ms), actual);
    }
    for (name, ms) in m
        .headers
        .iter()
        .filter(|(k, ms)| !matcher::header_matches(req, k, ms))
    {
        let actual = crate::exchange::header(&req.headers, name)
            .map(String::from)
            .or_else(|| name.eq_ignore_ascii_case("host").then(|| req.authority()))
            .unwrap_or_else(|| "absent".into());
        diff(&format!("header {name}"), describe_all(ms), actual);
    }
    if let Some(body) = &m.body {
        out.extend(body_differences(body, facts));
    }
    out
}

fn describe_all(ms: &[matcher::StringMatcher]) -> String {
    ms.iter()
        .map(matcher::StringMatcher::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

fn body_differences(body: &BodyMatcher, facts: &RequestFacts) -> Vec<Difference> {
    match body {
        BodyMatcher::Llm(want) => llm_differences(want, facts),
        other if matcher::body_matches(other, &facts.request.body.bytes) => Vec::new(),
        other => vec![Difference {
            field: "body".into(),
            expected: describe_body(other),
            actual: preview(&String::from_utf8_lossy(&facts.request.body.bytes)),
        }],
    }
}

fn describe_body(b: &BodyMatcher) -> String {
    match b {
        BodyMatcher::String { text, sub_string } if *sub_string => format!("to contain {text:?}"),
        BodyMatcher::String { text, .. } => format!("{:?}", preview(text)),
        BodyMatcher::Regex(re) => format!("to match /{re}/"),
        BodyMatcher::Json { expected, strict } => {
            let how = if *strict { "exactly" } else { "containing" };
            format!("JSON {how} {}", preview(&expected.to_string()))
        }
        BodyMatcher::JsonPath(p) => format!("JSON selected by {p:?}"),
        BodyMatcher::Llm(_) => "an LLM call".into(),
        BodyMatcher::Binary(bytes) => format!("{} bytes exactly", bytes.len()),
    }
}

fn llm_differences(want: &LlmBody, facts: &RequestFacts) -> Vec<Difference> {
    let Some(got) = facts.llm() else {
        return vec![Difference {
            field: "body".into(),
            expected: "an LLM call".into(),
            actual: "not an LLM request".into(),
        }];
    };
    let mut out = Vec::new();
    if let Some(model) = want
        .model
        .as_ref()
        .filter(|m| got.model.as_ref() != Some(m))
    {
        out.push(Difference {
            field: "body.model".into(),
            expected: model.clone(),
            actual: got.model.clone().unwrap_or_else(|| "none".into()),
        });
    }
    if let Some(stream) = want.stream.filter(|s| *s != got.stream) {
        out.push(Difference {
            field: "body.stream".into(),
            expected: stream.to_string(),
            actual: got.stream.to_string(),
        });
    }
    if let Some(conv) = want
        .conversation
        .as_ref()
        .filter(|c| !matcher::json_equal(&got.conversation, c))
    {
        out.extend(conversation_differences(conv, &got.conversation));
    }
    out
}

fn conversation_differences(want: &Value, got: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    let same = |w: Option<&Value>, g: Option<&Value>| match (w, g) {
        (Some(w), Some(g)) => matcher::json_equal(g, w),
        (w, g) => w == g,
    };
    if !same(want.get("system"), got.get("system")) {
        out.push(Difference {
            field: "body.system".into(),
            expected: preview(&want["system"].to_string()),
            actual: preview(&got["system"].to_string()),
        });
    }
    let empty = Vec::new();
    let w = want["messages"].as_array().unwrap_or(&empty);
    let g = got["messages"].as_array().unwrap_or(&empty);
    if w.len() != g.len() {
        out.push(Difference {
            field: "body.messages.length".into(),
            expected: w.len().to_string(),
            actual: g.len().to_string(),
        });
    }
    if let Some(i) = (0..w.len().min(g.len())).find(|i| !matcher::json_equal(&g[*i], &w[*i])) {
        out.push(Difference {
            field: format!("body.messages[{i}]"),
            expected: preview(&w[i].to_string()),
            actual: preview(&g[i].to_string()),
        });
    }
    out
}

/// At most 200 characters, cut on a character boundary.
fn preview(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
