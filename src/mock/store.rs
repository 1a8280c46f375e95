//! The active expectations, behind a lock, and the engine's
//! [`Responder`]: for each request, the first applicable expectation (by
//! priority, then age) answers it, forwards it with overrides, or — when
//! none applies — the request goes upstream, or, under strict replay, gets
//! an error naming the closest expectation.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockWriteGuard};
use std::time::Instant;

use serde_json::{Value, json};

use super::MockError;
use super::action::{self, Action};
use super::expectation::{self, Expectation, STARTED};
use super::explain::{self, Explanation};
use super::facts::RequestFacts;
use super::render::Shape;
use super::scripted::{self, Script};
use crate::exchange::Request;
use crate::llm::Kind;
use crate::respond::{Decision, MockResponse, Responder};

/// Expectation id marking strict replay's "nothing matched" answers.
pub const STRICT_MISS_ID: &str = "llmspy-strict-replay";

/// The most expectations the control API and the MCP tools may leave held
/// at once: any local process can add them, and each costs memory and a
/// look on every mocked request.
pub const MAX_EXPECTATIONS: usize = 100_000;

/// The shared set of expectations. Cheap to clone (one store).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    inner: Arc<RwLock<State>>,
    strict: Arc<AtomicBool>,
    next: Arc<AtomicU64>,
}

#[derive(Debug, Default)]
struct State {
    entries: Vec<Entry>,
    /// Scenario name → current state.
    scenarios: HashMap<String, String>,
    /// (expectation id, isolation key) → turns answered.
    sessions: HashMap<(String, String), u64>,
}

#[derive(Debug)]
struct Entry {
    exp: Expectation,
    added: Instant,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.exp.remaining != Some(0)
            && self
                .exp
                .time_to_live
                .is_none_or(|ttl| now.duration_since(self.added) < ttl)
    }
}

impl Expectations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Strict replay: answer unmatched requests with an error instead of
    /// forwarding them.
    pub fn set_strict(&self, strict: bool) {
        self.strict.store(strict, Ordering::Relaxed);
    }

    pub fn is_strict(&self) -> bool {
        self.strict.load(Ordering::Relaxed)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        // A poisoned lock means a panic mid-update; the list is still usable.
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Parse a document (object, array or fixture) and add or replace its
    /// expectations (same `id` replaces), within [`MAX_EXPECTATIONS`]:
    /// what the control API and the MCP tools add. Nothing is added on
    /// error.
    pub fn upsert_json(&self, doc: &Value) -> Result<Vec<Value>, MockError> {
        let prefix = format!("exp-{}-", self.next.fetch_add(1, Ordering::Relaxed));
        let list = expectation::parse_document(doc, &prefix)?;
        self.upsert_within(list, MAX_EXPECTATIONS)
    }

    /// Add or replace (by id) `list`, unless the expectations held would
    /// then pass `max`; returns them as stored.
    pub fn upsert_within(
        &self,
        list: Vec<Expectation>,
        max: usize,
    ) -> Result<Vec<Value>, MockError> {
        let mut state = self.write();
        let held: HashSet<&str> = state.entries.iter().map(|e| e.exp.id.as_str()).collect();
        let adding = list
            .iter()
            .map(|e| e.id.as_str())
            .filter(|id| !held.contains(id))
            .collect::<HashSet<_>>()
            .len();
        if state.entries.len() + adding > max {
            return Err(MockError::TooMany {
                max,
                held: state.entries.len(),
                adding,
            });
        }
        Ok(apply(&mut state, list))
    }

    /// Add or replace (by id) `list`; returns them as stored. Not capped:
    /// files the user loads (`--init`, `--replay`) hold what they hold.
    pub fn upsert(&self, list: Vec<Expectation>) -> Vec<Value> {
        apply(&mut self.write(), list)
    }

    /// The active expectations' JSON, in the order they are tried.
    pub fn list(&self) -> Vec<Value> {
        let now = Instant::now();
        let state = self.inner.read().unwrap_or_else(|e| e.into_inner());
        order(&state.entries)
            .into_iter()
            .map(|i| &state.entries[i])
            .filter(|e| e.live(now))
            .map(|e| e.exp.raw.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.list().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Remove the expectations `remove` picks (given their JSON), and the
    /// scenario and session state when none are left.
    pub fn remove_where(&self, remove: &dyn Fn(&Value) -> bool) -> usize {
        let mut state = self.write();
        let before = state.entries.len();
        state.entries.retain(|e| !remove(&e.exp.raw));
        if state.entries.is_empty() {
            state.scenarios.clear();
            state.sessions.clear();
        }
        before - state.entries.len()
    }

    pub fn clear(&self) -> usize {
        self.remove_where(&|_| true)
    }

    /// The live expectations, in the order they are tried.
    fn in_order(&self) -> Vec<Expectation> {
        let now = Instant::now();
        let state = self.inner.read().unwrap_or_else(|e| e.into_inner());
        order(&state.entries)
            .into_iter()
            .map(|i| &state.entries[i])
            .filter(|e| e.live(now))
            .map(|e| e.exp.clone())
            .collect()
    }

    /// Why `req` matches none of the active expectations.
    pub fn explain(&self, req: &Request) -> Option<Explanation> {
        explain::closest(&self.in_order(), &RequestFacts::new(req))
    }

    /// As [`Expectations::explain`], quoting `shown`'s values: see
    /// [`explain::closest_shown`].
    pub fn explain_shown(&self, req: &Request, shown: &Request) -> Option<Explanation> {
        explain::closest_shown(
            &self.in_order(),
            &RequestFacts::new(req),
            &RequestFacts::new(shown),
        )
    }

    /// Decide for `req` at `now`.
    pub fn decide_at(&self, req: &Request, now: Instant) -> Decision {
        let facts = RequestFacts::new(req);
        let mut state = self.write();
        state.entries.retain(|e| e.live(now));
        for i in order(&state.entries) {
            if let Some(decision) = try_entry(&mut state, i, &facts) {
                return decision;
            }
        }
        drop(state);
        if self.is_strict() {
            return Decision::Respond(self.strict_miss(req));
        }
        Decision::Forward
    }

    fn strict_miss(&self, req: &Request) -> MockResponse {
        let explanation = self.explain(req);
        let message = match &explanation {
            Some(x) => format!(
                "llmspy strict replay: no expectation matched; {}",
                x.sentence()
            ),
            None => "llmspy strict replay: no expectation matched; there are none".into(),
        };
        let body = json!({
            "error": message,
            "closestExpectation": explanation.as_ref().map(|x| x.expectation_id.clone()),
            "differences": explanation.map(|x| x.differences).unwrap_or_default(),
        });
        MockResponse::full(
            STRICT_MISS_ID,
            404,
            crate::exchange::Headers::from([("content-type", "application/json")]),
            body.to_string(),
        )
    }
}

/// Indices by priority (highest first), then age.
/// Add or replace (by id) `list` in one pass: an index of the ids held,
/// not a search of every entry for each one (a batch of 100,000 took
/// minutes, holding the lock every mocked request waits for).
fn apply(state: &mut State, list: Vec<Expectation>) -> Vec<Value> {
    let now = Instant::now();
    let out = list.iter().map(|e| e.raw.clone()).collect();
    let mut at: HashMap<String, usize> = state
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.exp.id.clone(), i))
        .collect();
    for exp in list {
        let entry = Entry { exp, added: now };
        match at.get(&entry.exp.id) {
            Some(&i) => state.entries[i] = entry,
            None => {
                at.insert(entry.exp.id.clone(), state.entries.len());
                state.entries.push(entry);
            }
        }
    }
    out
}

fn order(entries: &[Entry]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..entries.len()).collect();
    idx.sort_by_key(|i| std::cmp::Reverse(entries[*i].exp.priority));
    idx
}

/// Apply entry `i` if it matches: count the use, move its scenario, and
/// produce the decision.
fn try_entry(state: &mut State, i: usize, facts: &RequestFacts) -> Option<Decision> {
    let exp = &state.entries[i].exp;
    if let Some(sc) = &exp.scenario {
        let current = state
            .scenarios
            .get(&sc.name)
            .map_or(STARTED, String::as_str);
        if sc
            .required_state
            .as_deref()
            .is_some_and(|want| want != current)
        {
            return None;
        }
    }
    if !exp.matcher.matches_facts(facts) {
        return None;
    }
    let decision = match &exp.action {
        Action::Script(script) => {
            let script = script.clone();
            script_turn(state, i, &script, facts)?
        }
        other => Decision::from_action(&exp.id, other, facts),
    };
    let exp = &mut state.entries[i].exp;
    if let Some(n) = exp.remaining.as_mut() {
        *n = n.saturating_sub(1);
    }
    if let Some((name, Some(new))) = exp
        .scenario
        .as_ref()
        .map(|s| (s.name.clone(), s.new_state.clone()))
    {
        state.scenarios.insert(name, new);
    }
    Some(decision)
}

/// Answer the next turn of a scripted conversation, if one fits.
fn script_turn(
    state: &mut State,
    i: usize,
    script: &Script,
    facts: &RequestFacts,
) -> Option<Decision> {
    let exp = &state.entries[i].exp;
    let llm = facts.llm()?;
    let session = script.session(facts.request);
    let key = (exp.id.clone(), session.clone());
    let index = state.sessions.get(&key).copied().unwrap_or(0);
    let turn = script.pick(llm, index)?;
    let scenario = exp
        .scenario
        .as_ref()
        .map_or_else(|| exp.id.clone(), |s| s.name.clone());
    let mut llm_response = script.llm.clone();
    llm_response.completion = turn.completion.clone();
    let mut mock = action::play_llm(
        &exp.id,
        &llm_response,
        &model(facts),
        shape(facts, &llm_response),
    );
    mock.headers.extend([
        (scripted::SCENARIO_HEADER.to_string(), scenario),
        (scripted::ISOLATION_HEADER.to_string(), session),
        (scripted::TURN_HEADER.to_string(), index.to_string()),
    ]);
    state.sessions.insert(key, index + 1);
    Some(Decision::Respond(mock))
}

fn model(facts: &RequestFacts) -> String {
    facts
        .llm()
        .and_then(|l| l.model.clone())
        .unwrap_or_else(|| "llmspy-mock".into())
}

/// The wire format a request expects: its own API when it is an LLM call.
fn shape(facts: &RequestFacts, llm: &super::completion::LlmResponse) -> Shape {
    let path = facts.request.path.to_ascii_lowercase();
    let detected = facts.llm();
    Shape {
        kind: detected
            .map(|l| l.kind)
            .or(llm.provider)
            .unwrap_or(Kind::OpenAiChat),
        stream: detected.is_some_and(|l| l.stream),
        gemini_sse: path.contains("alt=sse"),
        ollama_generate: path.contains("/api/generate"),
        bedrock: path.starts_with("/model/"),
    }
}

trait FromAction {
    fn from_action(id: &str, action: &Action, facts: &RequestFacts) -> Decision;
}

impl FromAction for Decision {
    fn from_action(id: &str, action: &Action, facts: &RequestFacts) -> Decision {
        match action {
            Action::Response(r) => Decision::Respond(r.play(id)),
            Action::Sse(s) => Decision::Respond(s.play(id)),
            Action::Llm(l) => {
                Decision::Respond(action::play_llm(id, l, &model(facts), shape(facts, l)))
            }
            Action::Forward(f) => {
                let mut f = f.clone();
                f.expectation_id = id.to_string();
                Decision::ForwardTo(f)
            }
            // Scripts need session state; `try_entry` handles them.
            Action::Script(_) => Decision::Forward,
        }
    }
}

impl Responder for Expectations {
    fn active(&self) -> bool {
        self.is_strict()
            || !self
                .inner
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .entries
                .is_empty()
    }

    fn decide(&self, request: &Request) -> Decision {
        self.decide_at(request, Instant::now())
    }
}

#[cfg(test)]
mod tests;
