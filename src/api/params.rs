//! The control API's query parameters: split, decoded and checked, so a
//! bad value is answered with a 400 that names the parameter and the
//! values it accepts (people type these into curl by hand).

use std::fmt;
use std::str::FromStr;

use crate::export::Format;
use crate::filter::{self, Filter};

/// A query parameter with a value the route does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}={value:?} {problem}; accepted: {}", accepted.join(", "))]
pub struct ParamError {
    pub parameter: String,
    pub value: String,
    pub problem: String,
    pub accepted: Vec<String>,
}

impl ParamError {
    fn new(parameter: &str, value: &str, problem: impl Into<String>, accepted: &[&str]) -> Self {
        ParamError {
            parameter: parameter.to_string(),
            value: value.to_string(),
            problem: problem.into(),
            accepted: accepted.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// What `retrieve` returns (MockServer's names plus llmspy's own views).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetrieveType {
    Requests,
    RequestResponses,
    ActiveExpectations,
    RecordedExpectations,
    Conversation,
    Sessions,
}

impl RetrieveType {
    pub const ALL: [RetrieveType; 6] = [
        RetrieveType::Requests,
        RetrieveType::RequestResponses,
        RetrieveType::ActiveExpectations,
        RetrieveType::RecordedExpectations,
        RetrieveType::Conversation,
        RetrieveType::Sessions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RetrieveType::Requests => "REQUESTS",
            RetrieveType::RequestResponses => "REQUEST_RESPONSES",
            RetrieveType::ActiveExpectations => "ACTIVE_EXPECTATIONS",
            RetrieveType::RecordedExpectations => "RECORDED_EXPECTATIONS",
            RetrieveType::Conversation => "CONVERSATION",
            RetrieveType::Sessions => "SESSIONS",
        }
    }

    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|t| t.name()).collect()
    }
}

impl fmt::Display for RetrieveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RetrieveType {
    type Err = ParamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ParamError::new("type", wanted, "is not a type", &Self::names()))
    }
}

/// What `clear` removes (MockServer's `type=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearType {
    /// Captured traffic and expectations.
    All,
    /// Captured traffic only (MockServer's request log).
    Log,
    Expectations,
}

impl FromStr for ClearType {
    type Err = ParamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ALL" => Ok(ClearType::All),
            "LOG" => Ok(ClearType::Log),
            "EXPECTATIONS" => Ok(ClearType::Expectations),
            _ => Err(ParamError::new(
                "type",
                s,
                "is not a clear type",
                &["ALL", "LOG", "EXPECTATIONS"],
            )),
        }
    }
}

/// The checked parameters of `retrieve` (and of `llmspy export`).
#[derive(Debug, Clone)]
pub struct RetrieveParams {
    pub kind: RetrieveType,
    pub format: Format,
    /// `filter=`, in the `~` language; `None` when absent or blank.
    pub filter: Option<Filter>,
    /// `redact=`; `None` leaves the default (see [`RetrieveParams::redacts`]).
    pub redact: Option<bool>,
    /// `id=`: the exchange a CONVERSATION is about.
    pub id: Option<u64>,
}

impl Default for RetrieveParams {
    fn default() -> Self {
        RetrieveParams {
            kind: RetrieveType::RequestResponses,
            format: Format::Json,
            filter: None,
            redact: None,
            id: None,
        }
    }
}

impl RetrieveParams {
    /// Whether secrets are masked. Every export format, and recorded
    /// expectations (they become fixture files that get committed), redact
    /// unless told not to. Plain JSON retrieval of the capture does not:
    /// it is the local inspection API, like the UI, and MockServer users
    /// assert on the headers their code sent.
    pub fn redacts(&self) -> bool {
        self.redact.unwrap_or(
            self.format != Format::Json || self.kind == RetrieveType::RecordedExpectations,
        )
    }
}

const RETRIEVE_PARAMS: &[&str] = &["type", "format", "filter", "redact", "id"];

/// Parse `retrieve`'s query string.
pub fn retrieve(query: &str) -> Result<RetrieveParams, ParamError> {
    let pairs = query_pairs(query);
    known_only(&pairs, RETRIEVE_PARAMS)?;
    let mut out = RetrieveParams::default();
    if let Some(v) = param(&pairs, "type") {
        out.kind = v.parse()?;
    }
    if let Some(v) = param(&pairs, "format") {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        out.format = v
            .parse()
            .map_err(|_| ParamError::new("format", &v, "is not a format", &names))?;
    }
    out.filter = filter_param(&pairs)?;
    out.redact = redact_param(&pairs)?;
    if let Some(v) = param(&pairs, "id") {
        let id = v.trim().parse::<u64>().map_err(|_| {
            ParamError::new(
                "id",
                &v,
                "is not an exchange id",
                &["a whole number, e.g. id=3"],
            )
        })?;
        out.id = Some(id);
    }
    if out.kind == RetrieveType::Conversation && out.id.is_none() {
        return Err(ParamError::new(
            "id",
            "",
            "is needed with type=CONVERSATION",
            &["an exchange id, e.g. id=3"],
        ));
    }
    Ok(out)
}

/// The checked parameters of `clear` and `reset`.
#[derive(Debug, Clone)]
pub struct ClearParams {
    pub kind: ClearType,
    pub filter: Option<Filter>,
}

/// Parse `clear`'s query string.
pub fn clear(query: &str) -> Result<ClearParams, ParamError> {
    let pairs = query_pairs(query);
    known_only(&pairs, &["type", "filter"])?;
    let kind = match param(&pairs, "type") {
        Some(v) => v.parse()?,
        None => ClearType::All,
    };
    Ok(ClearParams {
        kind,
        filter: filter_param(&pairs)?,
    })
}

/// The checked parameters of `events`.
#[derive(Debug, Clone, Default)]
pub struct EventsParams {
    pub filter: Option<Filter>,
    pub redact: bool,
}

/// Parse `events`' query string.
pub fn events(query: &str) -> Result<EventsParams, ParamError> {
    let pairs = query_pairs(query);
    known_only(&pairs, &["filter", "redact"])?;
    Ok(EventsParams {
        filter: filter_param(&pairs)?,
        redact: redact_param(&pairs)?.unwrap_or(false),
    })
}

fn filter_param(pairs: &[(String, String)]) -> Result<Option<Filter>, ParamError> {
    let Some(text) = param(pairs, "filter").filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    filter::parse(&text).map(Some).map_err(|e| {
        ParamError::new(
            "filter",
            &text,
            format!("is not a filter expression ({e})"),
            &["a ~ expression such as `~p anthropic & ~c 200` (see the README's filter table)"],
        )
    })
}

fn redact_param(pairs: &[(String, String)]) -> Result<Option<bool>, ParamError> {
    let Some(v) = param(pairs, "redact") else {
        return Ok(None);
    };
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(Some(true)),
        "false" | "0" | "no" => Ok(Some(false)),
        _ => Err(ParamError::new(
            "redact",
            &v,
            "is not a boolean",
            &["true", "false"],
        )),
    }
}

/// Reject parameters the route does not know: a typo (`fliter=`) would
/// otherwise silently return everything.
fn known_only(pairs: &[(String, String)], known: &[&str]) -> Result<(), ParamError> {
    match pairs
        .iter()
        .find(|(k, _)| !known.iter().any(|n| n.eq_ignore_ascii_case(k)))
    {
        Some((k, v)) => Err(ParamError::new(
            k,
            v,
            "is not a parameter of this route",
            known,
        )),
        None => Ok(()),
    }
}

/// The first value of `name` (names ignore case).
pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

pub use crate::urlcodec::percent_encode;
use crate::urlcodec::query_pairs;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_decodes_percent_and_plus() {
        let p = query_pairs("type=request_responses&filter=~p%20anthropic+x&x");
        assert_eq!(param(&p, "TYPE").as_deref(), Some("request_responses"));
        assert_eq!(param(&p, "filter").as_deref(), Some("~p anthropic x"));
        assert_eq!(param(&p, "x").as_deref(), Some(""));
        assert_eq!(query_pairs("a=%zz")[0].1, "%zz");
        assert_eq!(query_pairs("a=%4")[0].1, "%4");
        assert_eq!(query_pairs("a=%é1")[0].1, "%é1");
        let text = "~p anthropic & !~c 200 | ~b \"a=b\"";
        assert_eq!(
            query_pairs(&format!("f={}", percent_encode(text)))[0].1,
            text
        );
    }

    #[test]
    fn types_and_formats_ignore_case() {
        let p = retrieve("type=recorded_expectations&format=Har&redact=FALSE").unwrap();
        assert_eq!(p.kind, RetrieveType::RecordedExpectations);
        assert_eq!(p.format, Format::Har);
        assert_eq!(p.redact, Some(false));
        assert!(!p.redacts());
    }

    #[test]
    fn redaction_defaults() {
        let plain = retrieve("").unwrap();
        assert!(
            !plain.redacts(),
            "JSON retrieval of traffic is not redacted"
        );
        assert!(retrieve("format=postman").unwrap().redacts());
        assert!(retrieve("type=RECORDED_EXPECTATIONS").unwrap().redacts());
        assert!(retrieve("redact=true").unwrap().redacts());
    }

    #[test]
    fn errors_name_the_parameter_and_the_accepted_values() {
        let cases = [
            ("type=LOGS", "type", "REQUEST_RESPONSES"),
            ("format=yaml", "format", "POSTMAN"),
            ("filter=~zz", "filter", "~p anthropic"),
            ("redact=maybe", "redact", "false"),
            ("type=CONVERSATION", "id", "exchange id"),
            ("id=x", "id", "whole number"),
            ("fliter=~q", "fliter", "filter"),
        ];
        for (query, parameter, accepted) in cases {
            let e = retrieve(query).unwrap_err();
            assert_eq!(e.parameter, parameter, "{query}");
            assert!(e.to_string().contains(accepted), "{query}: {e}");
        }
        assert_eq!(clear("type=nope").unwrap_err().parameter, "type");
        assert_eq!(clear("type=log").unwrap().kind, ClearType::Log);
        assert!(events("filter=~m%20POST&redact=true").unwrap().redact);
    }
}
