//! One expectation — `httpRequest` matcher, an action, and the rules of
//! when it applies (`priority`, `times`, `timeToLive`, scenario states) —
//! parsed from MockServer's JSON with errors that name the JSON path.

use std::time::Duration;

use serde_json::{Map, Value};

use super::MockError;
use super::action::Action;
use super::matcher::RequestMatcher;

/// A parsed expectation. `raw` is its JSON as stored (with its `id`), the
/// form listed by the API and the Library view.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub id: String,
    pub priority: i64,
    pub matcher: RequestMatcher,
    pub action: Action,
    /// Matches left; `None` is unlimited.
    pub remaining: Option<u64>,
    pub time_to_live: Option<Duration>,
    pub scenario: Option<Scenario>,
    pub raw: Value,
}

/// MockServer's scenario fields: match only in `required_state`, then move
/// the scenario to `new_state`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub required_state: Option<String>,
    pub new_state: Option<String>,
}

/// The state every scenario starts in (MockServer's name for it).
pub const STARTED: &str = "Started";

impl Expectation {
    /// Parse one expectation found at JSON path `at` (e.g. `$[2]`);
    /// `fallback_id` names it when the JSON has no `id`.
    pub fn from_json(v: &Value, at: &str, fallback_id: &str) -> Result<Self, MockError> {
        let obj = v
            .as_object()
            .ok_or_else(|| MockError::invalid(at, "an expectation object"))?;
        let known: Vec<&str> = EXPECTATION_FIELDS
            .iter()
            .chain(&super::action::ACTION_KEYS)
            .copied()
            .collect();
        super::fields::only(obj, &known, at)?;
        let id = match obj.get("id") {
            None | Some(Value::Null) => fallback_id.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(MockError::invalid(&format!("{at}.id"), "a string")),
        };
        let matcher = RequestMatcher::from_json(obj.get("httpRequest").unwrap_or(&Value::Null))
            .map_err(|e| MockError::invalid(&format!("{at}.httpRequest"), e.to_string()))?;
        let mut raw = obj.clone();
        raw.insert("id".into(), Value::String(id.clone()));
        Ok(Expectation {
            priority: integer(obj, "priority", at)?.unwrap_or(0),
            matcher,
            action: Action::from_expectation(obj, at)?,
            remaining: times(obj.get("times"), &format!("{at}.times"))?,
            time_to_live: time_to_live(obj.get("timeToLive"), &format!("{at}.timeToLive"))?,
            scenario: scenario(obj, at)?,
            id,
            raw: Value::Object(raw),
        })
    }
}

/// An expectation's fields besides its action.
const EXPECTATION_FIELDS: [&str; 8] = [
    "id",
    "priority",
    "httpRequest",
    "times",
    "timeToLive",
    "scenarioName",
    "scenarioState",
    "newScenarioState",
];

fn integer(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<i64>, MockError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| MockError::invalid(&format!("{at}.{key}"), "an integer")),
    }
}

/// `{"remainingTimes": n}` or `{"unlimited": true}`.
fn times(v: Option<&Value>, at: &str) -> Result<Option<u64>, MockError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let obj = v.as_object().ok_or_else(|| {
        MockError::invalid(at, "{\"remainingTimes\": n} or {\"unlimited\": true}")
    })?;
    super::fields::only(obj, &["remainingTimes", "unlimited"], at)?;
    if obj.get("unlimited").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    match obj.get("remainingTimes") {
        None => Ok(None),
        Some(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| MockError::invalid(&format!("{at}.remainingTimes"), "a whole number")),
    }
}

/// `{"timeUnit": "SECONDS", "timeToLive": n}` or `{"unlimited": true}`.
fn time_to_live(v: Option<&Value>, at: &str) -> Result<Option<Duration>, MockError> {
    let Some(obj) = v.and_then(Value::as_object) else {
        return Ok(None);
    };
    super::fields::only(obj, &["timeUnit", "timeToLive", "unlimited"], at)?;
    if obj.get("unlimited").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    let Some(n) = obj.get("timeToLive") else {
        return Ok(None);
    };
    let n = n
        .as_u64()
        .ok_or_else(|| MockError::invalid(&format!("{at}.timeToLive"), "a whole number"))?;
    let unit = obj
        .get("timeUnit")
        .and_then(Value::as_str)
        .unwrap_or("SECONDS");
    duration(n, unit).map(Some).ok_or_else(|| {
        MockError::invalid(
            &format!("{at}.timeUnit"),
            "one of MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS",
        )
    })
}

/// MockServer's `{timeUnit, value}` units.
pub fn duration(n: u64, unit: &str) -> Option<Duration> {
    let ms = match unit.to_ascii_uppercase().as_str() {
        "NANOSECONDS" => return Some(Duration::from_nanos(n)),
        "MICROSECONDS" => return Some(Duration::from_micros(n)),
        "MILLISECONDS" => n,
        "SECONDS" => n.saturating_mul(1000),
        "MINUTES" => n.saturating_mul(60_000),
        "HOURS" => n.saturating_mul(3_600_000),
        "DAYS" => n.saturating_mul(86_400_000),
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

/// A `{"timeUnit": …, "value": n}` delay; absent is zero.
pub fn delay(v: Option<&Value>, at: &str) -> Result<Duration, MockError> {
    let Some(obj) = v.and_then(Value::as_object) else {
        return Ok(Duration::ZERO);
    };
    super::fields::only(obj, &["timeUnit", "value"], at)?;
    let n = match obj.get("value") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| MockError::invalid(&format!("{at}.value"), "a whole number"))?,
    };
    let unit = obj
        .get("timeUnit")
        .and_then(Value::as_str)
        .unwrap_or("MILLISECONDS");
    duration(n, unit).ok_or_else(|| MockError::invalid(&format!("{at}.timeUnit"), "a time unit"))
}

fn scenario(obj: &Map<String, Value>, at: &str) -> Result<Option<Scenario>, MockError> {
    let text = |k: &str| -> Result<Option<String>, MockError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(MockError::invalid(&format!("{at}.{k}"), "a string")),
        }
    };
    let Some(name) = text("scenarioName")? else {
        return Ok(None);
    };
    Ok(Some(Scenario {
        name,
        required_state: text("scenarioState")?,
        new_state: text("newScenarioState")?,
    }))
}

/// Parse a document of expectations: one object, an array, or a fixture
/// (`{"expectations": [...]}`). All or nothing: the first error is
/// returned and nothing is kept. Ids default to `{id_prefix}{index}`.
pub fn parse_document(v: &Value, id_prefix: &str) -> Result<Vec<Expectation>, MockError> {
    let (items, at): (Vec<&Value>, &str) = match v {
        Value::Array(items) => (items.iter().collect(), "$"),
        Value::Object(o) => match o.get("expectations") {
            Some(Value::Array(items)) => {
                // A fixture: its notes are read back (`redacted`), so a
                // misspelt one is a mistake as anywhere else.
                super::fields::only(o, &["llmspy", "expectations"], "$")?;
                if let Some(notes) = o.get("llmspy") {
                    let notes = notes
                        .as_object()
                        .ok_or_else(|| MockError::invalid("$.llmspy", "an object"))?;
                    super::fields::only(notes, &["fixture", "redacted", "warnings"], "$.llmspy")?;
                }
                (items.iter().collect(), "$.expectations")
            }
            Some(_) => return Err(MockError::invalid("$.expectations", "an array")),
            None => {
                return Expectation::from_json(v, "$", &format!("{id_prefix}0")).map(|e| vec![e]);
            }
        },
        _ => {
            return Err(MockError::invalid(
                "$",
                "an expectation object or an array of them",
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            Expectation::from_json(item, &format!("{at}[{i}]"), &format!("{id_prefix}{i}"))
        })
        .collect()
}
