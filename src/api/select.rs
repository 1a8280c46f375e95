//! Which exchanges a request to the API is about: a MockServer request
//! matcher (the body) and a `~` filter (the `filter=` parameter), both
//! optional, both required to match when given.

use crate::capture::Record;
use crate::exchange::Exchange;
use crate::filter::{AnalysisView, Facts, Filter};
use crate::llm::{Kind, Summary};
use crate::mock::matcher::RequestMatcher;

/// A request matcher and a filter; no parts means everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub matcher: Option<RequestMatcher>,
    pub filter: Option<Filter>,
}

impl Selection {
    pub fn new(matcher: Option<RequestMatcher>, filter: Option<Filter>) -> Self {
        Selection { matcher, filter }
    }

    /// True when nothing narrows the selection.
    pub fn is_everything(&self) -> bool {
        self.matcher.is_none() && self.filter.as_ref().is_none_or(Filter::is_all)
    }

    /// Does a stored exchange match? The filter's LLM fields (`~p`,
    /// `~model`, `~tool`, `~mcp`) come from the analysis the capture task
    /// already made, so no body is parsed again here.
    pub fn matches_record(&self, record: &Record) -> bool {
        let facts = record.summary.as_ref().map(facts);
        self.matches(&record.exchange, facts.as_ref())
    }

    /// Does an exchange that was never stored (a loaded file, an
    /// expectation) match? Analyses it when the filter needs LLM fields.
    pub fn matches_exchange(&self, exchange: &Exchange) -> bool {
        let facts = self
            .filter
            .as_ref()
            .filter(|f| !f.is_all())
            .and_then(|_| crate::analyses::analyse(exchange))
            .map(|a| facts(&a.summary()));
        self.matches(exchange, facts.as_ref())
    }

    fn matches(&self, exchange: &Exchange, facts: Option<&Facts>) -> bool {
        let matcher_ok = self
            .matcher
            .as_ref()
            .is_none_or(|m| m.matches(&exchange.request, &decoded_request_body(exchange)));
        matcher_ok
            && self
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(exchange, facts.map(|x| x as &dyn AnalysisView)))
    }
}

/// What the filter needs to know of an analysis.
pub fn facts(summary: &Summary) -> Facts {
    let mut tools = summary.tools.to_vec();
    tools.extend(summary.mcp_tool.as_deref().map(str::to_string));
    Facts {
        provider: Some(summary.provider.to_string()),
        model: summary.model.as_deref().map(str::to_string),
        tools,
        mcp: summary.kind == Kind::Mcp,
        stream: summary.stream,
    }
}

/// Matchers compare bodies as the client meant them, not gzip bytes.
fn decoded_request_body(ex: &Exchange) -> Vec<u8> {
    let enc = crate::exchange::header(&ex.request.headers, "content-encoding");
    crate::content::decode(enc, &ex.request.body.bytes)
        .bytes
        .into_owned()
}
