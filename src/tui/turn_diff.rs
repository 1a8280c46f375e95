//! The Sessions screen's "what changed" panel (`d`): for the selected turn,
//! the unified diffs of the system prompt and tool definitions against the
//! lane's previous turn, and the messages it added. Built once per
//! selected turn (two analyses), not per frame.

use crate::capture::Records;
use crate::exchange::ExchangeId;
use crate::sessions::diff::{TurnDiff, between};

use super::analysis;

/// The panel over a selection that is not a conversation's turn.
const NO_TURN: &str = "Not a turn of a conversation: nothing to compare";

#[derive(Debug, Default)]
pub struct TurnDiffPanel {
    pub shown: bool,
    /// The (turn, previous turn) the lines were built for.
    built_for: Option<(ExchangeId, Option<ExchangeId>)>,
    pub lines: Vec<String>,
}

impl TurnDiffPanel {
    pub fn toggle(&mut self) {
        self.shown = !self.shown;
    }

    /// Rebuild for `turn` (and the lane's turn before it) if needed.
    pub fn prepare(
        &mut self,
        store: &dyn Records,
        turn: Option<ExchangeId>,
        prev: Option<ExchangeId>,
    ) {
        if !self.shown {
            return;
        }
        let Some(turn) = turn else {
            // No turn selected (the unscoped requests): say so rather than
            // keep another lane's diff on screen.
            self.built_for = None;
            self.lines = vec![NO_TURN.to_string()];
            return;
        };
        if self.built_for == Some((turn, prev)) {
            return;
        }
        self.built_for = Some((turn, prev));
        let this = store.get(turn).and_then(|r| analysis::analyse(&r.exchange));
        let before = prev
            .and_then(|p| store.get(p))
            .and_then(|r| analysis::analyse(&r.exchange));
        self.lines = match &this {
            Some(a) => lines(turn, prev, &between(before.as_deref(), a)),
            None => vec![format!("#{turn} is not an LLM turn: nothing to compare")],
        };
    }
}

fn lines(turn: ExchangeId, prev: Option<ExchangeId>, d: &TurnDiff) -> Vec<String> {
    let mut out = vec![match prev {
        Some(p) => format!("What #{turn} changed since #{p}"),
        None => format!("#{turn} starts the conversation"),
    }];
    for (what, diff) in [("system prompt", &d.system), ("tools", &d.tools)] {
        match diff {
            Some(text) => out.extend(text.lines().map(str::to_string)),
            None if prev.is_some() => out.push(format!("  {what}: unchanged")),
            None => {}
        }
    }
    out.push(format!("  {} new message(s):", d.new_messages.len()));
    for m in &d.new_messages {
        let mut text = m.text.lines();
        out.push(format!("  {}: {}", m.role, text.next().unwrap_or_default()));
        out.extend(text.map(|l| format!("    {l}")));
    }
    out
}
