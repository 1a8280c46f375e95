//! The detail pane's model: which exchange and tab, scroll position, search,
//! and the cached document of the current tab (rebuilt only when the
//! exchange, tab, width or display options change).

use std::sync::Arc;

use crate::capture::Records;
use crate::exchange::{Exchange, ExchangeId};
use crate::llm::Analysis;

use super::analysis;
use super::doc::Doc;
use super::rows::{Kind, Rev, RowInfo};
use super::views;

/// Documents kept for quick return (each can be tens of MB for a large body).
const DOCS_KEPT: usize = 3;

/// Detail tabs; which ones an exchange gets depends on its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Messages,
    Conversation,
    /// Scripted conversation expectations matched by this exchange.
    Scripted,
    Timeline,
    Mcp,
    /// The messages of a WebSocket connection.
    WebSocket,
    Raw,
}

impl Tab {
    pub fn label(self) -> &'static str {
        match self {
            Tab::Messages => "Messages",
            Tab::Conversation => "Conversation",
            Tab::Scripted => "Scripted Turns",
            Tab::Timeline => "SSE Timeline",
            Tab::Mcp => "MCP",
            Tab::WebSocket => "WS Messages",
            Tab::Raw => "Raw",
        }
    }
}

/// The tabs `ex` offers, in order.
pub fn tabs_for(ex: &Exchange, info: &RowInfo, analysis: Option<&Analysis>) -> Vec<Tab> {
    let timeline = analysis.is_some_and(|a| a.timeline.is_some());
    let mut tabs = Vec::new();
    if ex.is_websocket() {
        tabs.push(Tab::WebSocket);
    }
    tabs.extend(match info.kind {
        Kind::Llm => vec![Tab::Messages, Tab::Conversation],
        Kind::Mcp => vec![Tab::Mcp],
        Kind::Other => vec![],
    });
    if info.kind == Kind::Llm && analysis::has_scripted_turns(ex) {
        tabs.push(Tab::Scripted);
    }
    if timeline {
        tabs.push(Tab::Timeline);
    }
    tabs.push(Tab::Raw);
    tabs
}

/// Everything a tab's document depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DocKey {
    id: ExchangeId,
    tab: Tab,
    width: u16,
    rev: Rev,
    reveal: bool,
    thinking: bool,
}

/// The `/` search in the current tab.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub query: String,
    /// Rows of the document that match.
    pub hits: Vec<usize>,
    /// Index into `hits` of the current match.
    pub current: usize,
}

#[derive(Debug, Default)]
pub struct Detail {
    pub id: Option<ExchangeId>,
    pub tab: Option<Tab>,
    pub tabs: Vec<Tab>,
    pub scroll: usize,
    /// Rows of the document area at the last prepare.
    pub height: usize,
    pub reveal: bool,
    pub thinking: bool,
    pub search: Search,
    /// Recently built documents, most recent first; stepping back to an
    /// exchange just seen (a 1 MB body, say) costs nothing.
    docs: Vec<(DocKey, Doc)>,
    /// Which of `docs` is on screen.
    current: Option<DocKey>,
    /// The shown exchange's analysis, by revision (LLM and MCP only).
    analysis: Option<(ExchangeId, Rev, Option<Arc<Analysis>>)>,
    /// The tab the user last picked: shown on every exchange that has it.
    chosen: Option<Tab>,
    /// Where the Scripted Turns tab finds its script.
    pub(super) expectations: Scripts,
}

/// The active expectations' source, asked only when a Scripted Turns tab
/// is built.
#[derive(Default)]
pub(super) struct Scripts(pub Option<super::ExpectationSource>);

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Scripts(source)"
        } else {
            "Scripts(none)"
        })
    }
}

impl Detail {
    pub(super) fn with_scripts(expectations: Scripts) -> Self {
        Detail {
            expectations,
            ..Detail::default()
        }
    }

    /// The shown exchange's analysis, once prepared (LLM and MCP only).
    pub fn analysis(&self) -> Option<&Analysis> {
        match &self.analysis {
            Some((id, _, a)) if Some(*id) == self.id => a.as_deref(),
            _ => None,
        }
    }

    /// The current tab's document, once prepared.
    pub fn doc(&self) -> Option<&Doc> {
        let key = self.current?;
        self.docs.iter().find(|(k, _)| *k == key).map(|(_, d)| d)
    }

    /// Show `id` (keeping the tab when the new exchange has it).
    pub fn show(&mut self, id: Option<ExchangeId>) {
        if self.id != id {
            self.id = id;
            self.scroll = 0;
        }
    }

    /// Make the document current for `width` × `height`.
    pub fn prepare(
        &mut self,
        store: &dyn Records,
        info: Option<&RowInfo>,
        width: u16,
        height: u16,
    ) {
        self.height = usize::from(height);
        let (Some(id), Some(info)) = (self.id, info) else {
            self.current = None;
            self.tabs.clear();
            return;
        };
        let Some(record) = store.get(id) else {
            self.current = None;
            return;
        };
        let ex = &record.exchange;
        let analysis = self.analysis_of(ex, info);
        self.tabs = tabs_for(ex, info, analysis.as_deref());
        // Until the user picks a tab, each exchange opens on its kind's
        // first tab — also once a streaming exchange turns out to be LLM
        // traffic, rather than staying on the Raw tab it started with.
        let tab = match self.chosen {
            Some(t) if self.tabs.contains(&t) => t,
            _ => self.tabs.first().copied().unwrap_or(Tab::Raw),
        };
        self.tab = Some(tab);
        let key = DocKey {
            id,
            tab,
            width,
            rev: Rev::of(ex),
            reveal: self.reveal,
            thinking: self.thinking,
        };
        if self.current != Some(key) {
            match self.docs.iter().position(|(k, _)| *k == key) {
                Some(i) => {
                    let doc = self.docs.remove(i);
                    self.docs.insert(0, doc);
                    self.current = Some(key);
                    self.refresh_search();
                }
                None => self.rebuild(key, ex, info, analysis.as_deref()),
            }
        }
        self.scroll = self.scroll.min(self.max_scroll());
    }

    /// The analysis of `ex`, reused until the exchange changes.
    fn analysis_of(&mut self, ex: &Exchange, info: &RowInfo) -> Option<Arc<Analysis>> {
        let rev = Rev::of(ex);
        let fresh = self
            .analysis
            .as_ref()
            .is_some_and(|(id, r, _)| *id == ex.id && *r == rev);
        if !fresh {
            let a = (info.kind != Kind::Other)
                .then(|| analysis::analyse(ex))
                .flatten();
            self.analysis = Some((ex.id, rev, a));
        }
        self.analysis.as_ref().and_then(|(_, _, a)| a.clone())
    }

    fn rebuild(&mut self, key: DocKey, ex: &Exchange, info: &RowInfo, a: Option<&Analysis>) {
        // A document that grows while the user watches its end (a streaming
        // reply) keeps showing the end.
        let same_view = self
            .current
            .is_some_and(|k| k.id == key.id && k.tab == key.tab);
        let at_end = same_view && self.scroll >= self.max_scroll() && self.scroll > 0;
        let expectations = match (key.tab, &self.expectations.0) {
            (Tab::Scripted, Some(list)) => list(),
            _ => Vec::new(),
        };
        let opts = views::TabOptions {
            script: analysis::script_of(ex, &expectations),
            reveal: key.reveal,
            thinking: key.thinking,
            width: key.width,
        };
        // A prompt that pastes the request's key shows it masked until
        // `R`, as Raw does: drawn from an analysis of the masked copy
        // (asked only when the key is quoted, which is rare).
        let masked = (!key.reveal
            && !matches!(key.tab, Tab::Raw | Tab::WebSocket)
            && a.is_some()
            && crate::redact::quotes_a_secret(ex))
        .then(|| crate::llm::analyse(&crate::redact::masked(ex)))
        .flatten();
        let a = masked.as_ref().or(a);
        let doc = views::build_tab(key.tab, ex, info, a, opts);
        self.docs.insert(0, (key, doc));
        self.docs.truncate(DOCS_KEPT);
        self.current = Some(key);
        if !same_view {
            self.scroll = 0;
        } else if at_end {
            self.scroll = self.max_scroll();
        }
        self.refresh_search();
    }

    /// Rows in the current document.
    pub fn rows(&self) -> usize {
        self.doc().map_or(0, Doc::len)
    }

    pub fn max_scroll(&self) -> usize {
        self.rows().saturating_sub(self.height.max(1))
    }

    pub fn scroll_by(&mut self, delta: isize) {
        self.scroll = self
            .scroll
            .saturating_add_signed(delta)
            .min(self.max_scroll());
    }

    /// Select the tab after (or before) the current one; false at the end.
    pub fn step_tab(&mut self, forward: bool) -> bool {
        let Some(pos) = self
            .tab
            .and_then(|t| self.tabs.iter().position(|x| *x == t))
        else {
            return false;
        };
        let next = if forward {
            pos.checked_add(1)
        } else {
            pos.checked_sub(1)
        };
        match next.and_then(|i| self.tabs.get(i)) {
            Some(t) => {
                self.set_tab(*t);
                true
            }
            None => false,
        }
    }

    pub fn set_tab(&mut self, tab: Tab) {
        self.chosen = Some(tab);
        if self.tab != Some(tab) {
            self.tab = Some(tab);
            self.scroll = 0;
        }
    }

    /// Start a search; jumps to the first match at or below the view.
    pub fn search_for(&mut self, query: &str) {
        self.search.query = query.to_string();
        self.refresh_search();
        let first = self.search.hits.iter().position(|&row| row >= self.scroll);
        self.search.current = first.unwrap_or(0);
        self.jump_to_hit();
    }

    fn refresh_search(&mut self) {
        let hits = match self.doc() {
            Some(doc) if !self.search.query.is_empty() => doc.find(&self.search.query),
            _ => Vec::new(),
        };
        self.search.current = self.search.current.min(hits.len().saturating_sub(1));
        self.search.hits = hits;
    }

    /// Move to the next (or previous) match, wrapping around.
    pub fn step_hit(&mut self, forward: bool) -> bool {
        let n = self.search.hits.len();
        if n == 0 {
            return false;
        }
        self.search.current = if forward {
            (self.search.current + 1) % n
        } else {
            (self.search.current + n - 1) % n
        };
        self.jump_to_hit();
        true
    }

    fn jump_to_hit(&mut self) {
        if let Some(&row) = self.search.hits.get(self.search.current) {
            // Show the match a few rows below the top, for context.
            self.scroll = row.saturating_sub(2).min(self.max_scroll());
        }
    }
}
