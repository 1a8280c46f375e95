//! `PUT /mockserver/verify` and `PUT /mockserver/verifySequence`:
//! MockServer's checks that requests arrived, so a test suite that ends
//! with `verify` runs against llmspy unchanged. `202 Accepted` when they
//! did; `406 Not Acceptable` saying what was expected and what arrived.
//!
//! A request is described by a request matcher (`httpRequest`) or by the
//! expectation that answered it (`expectationId: {"id": …}`). `times`
//! takes `atLeast` and `atMost` (at least once when absent).

use http::{Response, StatusCode};
use serde_json::{Map, Value};

use super::call::Call;
use super::context::ApiContext;
use super::reply::{error, text};
use super::select::Selection;
use crate::capture::Record;
use crate::engine::UpstreamBody;
use crate::exchange::Source;
use crate::mock::matcher::RequestMatcher;

/// How many received requests a failure lists (MockServer's
/// `maximumNumberOfRequestToReturnInVerificationFailure` changes it).
const LISTED: usize = 10;

/// One described request: what it says in the failure, how it matches.
struct Wanted {
    shown: Value,
    test: Test,
}

enum Test {
    Matcher(Box<Selection>),
    AnsweredBy(String),
}

impl Wanted {
    /// `obj` holds `httpRequest` or `expectationId`; errors name them at
    /// `request_at` and `id_at` (the item itself in a sequence's list).
    fn parse(obj: &Map<String, Value>, request_at: &str, id_at: &str) -> Result<Wanted, String> {
        let at = "$";
        match (obj.get("httpRequest"), obj.get("expectationId")) {
            (Some(m), None) => RequestMatcher::from_json(m)
                .map(|parsed| Wanted {
                    shown: m.clone(),
                    test: Test::Matcher(Box::new(Selection::new(Some(parsed), None))),
                })
                .map_err(|e| format!("{request_at}: {e}")),
            (None, Some(id)) => {
                let at = id_at;
                let fields = id
                    .as_object()
                    .ok_or_else(|| format!("{at}: expected {{\"id\": \"…\"}}"))?;
                // A misplaced `times` inside would pass silently.
                if let Some((key, problem)) = crate::mock::fields::unknown(fields, &["id"]) {
                    return Err(format!("{at}.{key}: {problem}"));
                }
                fields
                    .get("id")
                    .and_then(Value::as_str)
                    .map(|id| Wanted {
                        shown: serde_json::json!({ "expectationId": id }),
                        test: Test::AnsweredBy(id.to_string()),
                    })
                    .ok_or_else(|| format!("{at}.id: expected a string"))
            }
            (Some(_), Some(_)) => Err(format!("{at}: give httpRequest or expectationId, not both")),
            (None, None) => Err(format!("{at}: missing httpRequest (or expectationId)")),
        }
    }

    fn matches(&self, record: &Record) -> bool {
        match &self.test {
            Test::Matcher(selection) => selection.matches_record(record),
            Test::AnsweredBy(id) => matches!(
                &record.exchange.source,
                Source::Mock { expectation_id } if expectation_id == id
            ),
        }
    }
}

/// `PUT /mockserver/verify`: `{"httpRequest" | "expectationId", "times"}`.
pub fn verify(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    let (obj, listed) = match document(&call.body, &["httpRequest", "expectationId", "times"]) {
        Ok(parsed) => parsed,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let wanted = match Wanted::parse(&obj, "$.httpRequest", "$.expectationId") {
        Ok(w) => w,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let (at_least, at_most) = match times(obj.get("times")) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let store = ctx.store.read();
    let found = store.all().filter(|r| wanted.matches(r)).count() as u64;
    if found >= at_least && at_most.is_none_or(|most| found <= most) {
        return accepted();
    }
    let how = match at_most {
        Some(most) if most == at_least => format!("exactly {}", count(most)),
        Some(most) if at_least == 0 => format!("at most {}", count(most)),
        Some(most) => format!("between {at_least} and {most} times"),
        None => format!("at least {}", count(at_least)),
    };
    let received = received(store.all(), listed);
    not_acceptable(format!(
        "Request not found {how} (found {}), expected:<{}> but was:<{received}>",
        count(found),
        wanted.shown
    ))
}

/// `PUT /mockserver/verifySequence`: `{"httpRequests": […]}` (or
/// `expectationIds`), received in that order, others between allowed.
pub fn verify_sequence(ctx: &ApiContext, call: &Call) -> Response<UpstreamBody> {
    let (obj, listed) = match document(&call.body, &["httpRequests", "expectationIds"]) {
        Ok(parsed) => parsed,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let list = match sequence(&obj) {
        Ok(list) => list,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let store = ctx.store.read();
    let mut next = list.iter().peekable();
    for record in store.all() {
        if next.peek().is_some_and(|w| w.matches(record)) {
            next.next();
        }
    }
    if next.peek().is_none() {
        return accepted();
    }
    let expected: Vec<&Value> = list.iter().map(|w| &w.shown).collect();
    not_acceptable(format!(
        "Request sequence not found, expected:<{}> but was:<{}>",
        Value::from(expected.into_iter().cloned().collect::<Vec<_>>()),
        received(store.all(), listed)
    ))
}

fn sequence(obj: &Map<String, Value>) -> Result<Vec<Wanted>, String> {
    let (items, wrap) = match (obj.get("httpRequests"), obj.get("expectationIds")) {
        (Some(Value::Array(items)), None) => (items, "httpRequest"),
        (None, Some(Value::Array(items))) => (items, "expectationId"),
        (None, None) => return Err("$: missing httpRequests (or expectationIds)".into()),
        _ => return Err("$: give one array, httpRequests or expectationIds".into()),
    };
    let field = if wrap == "httpRequest" {
        "httpRequests"
    } else {
        "expectationIds"
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut one = Map::new();
            one.insert(wrap.into(), item.clone());
            let item = format!("$.{field}[{i}]");
            Wanted::parse(&one, &item, &item)
        })
        .collect()
}

/// The body as an object with only `known` fields (and MockServer's cap on
/// how many received requests a failure lists).
fn document(body: &[u8], known: &[&str]) -> Result<(Map<String, Value>, usize), String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(mut obj) = value else {
        return Err("the body must be a JSON object".into());
    };
    const CAP: &str = "maximumNumberOfRequestToReturnInVerificationFailure";
    let listed = match obj.remove(CAP) {
        None => LISTED,
        Some(v) => v
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| format!("$.{CAP}: expected a whole number"))?,
    };
    if let Some((key, problem)) = crate::mock::fields::unknown(&obj, known) {
        return Err(format!("$.{key}: {problem}"));
    }
    Ok((obj, listed))
}

/// `{"atLeast": n, "atMost": m}`, each optional; at least once when absent.
fn times(v: Option<&Value>) -> Result<(u64, Option<u64>), String> {
    let Some(v) = v else {
        return Ok((1, None));
    };
    let obj = v
        .as_object()
        .ok_or("$.times: expected {\"atLeast\": n, \"atMost\": m}")?;
    if let Some((key, problem)) = crate::mock::fields::unknown(obj, &["atLeast", "atMost"]) {
        return Err(format!("$.times.{key}: {problem}"));
    }
    let number = |k: &str| -> Result<Option<u64>, String> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("$.times.{k}: expected a whole number")),
        }
    };
    let (least, most) = (number("atLeast")?, number("atMost")?);
    if let (Some(l), Some(m)) = (least, most)
        && l > m
    {
        return Err(format!("$.times: atLeast {l} is more than atMost {m}"));
    }
    Ok((least.unwrap_or(if most.is_some() { 0 } else { 1 }), most))
}

fn count(n: u64) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

/// The last `listed` requests received, `METHOD url` each (secrets of the
/// URL masked), as a JSON list.
fn received<'a>(all: impl Iterator<Item = &'a Record>, listed: usize) -> String {
    let lines: Vec<String> = all
        .map(|r| {
            let ex = &r.exchange;
            format!(
                "{} {}",
                ex.request.method,
                crate::redact::masked_url(ex, crate::redact::MASK)
            )
        })
        .collect();
    let skip = lines.len().saturating_sub(listed);
    Value::from(lines[skip..].to_vec()).to_string()
}

fn accepted() -> Response<UpstreamBody> {
    text(StatusCode::ACCEPTED, "text/plain", String::new())
}

fn not_acceptable(message: String) -> Response<UpstreamBody> {
    text(
        StatusCode::NOT_ACCEPTABLE,
        "text/plain; charset=utf-8",
        message,
    )
}
