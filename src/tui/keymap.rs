//! The one key table: dispatch, the `?` help screen and the status-bar hints
//! all read [`BINDINGS`], so a key can't work without being documented.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A key as the table knows it (crossterm events are mapped onto this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Char(char),
    Ctrl(char),
    /// Any of `1`–`9` (the digit becomes the action's argument).
    Digit,
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Backspace,
}

impl Key {
    /// Map a terminal key event; `None` for releases and keys we don't use.
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        Some(match ev.code {
            KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => Key::BackTab,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::Backspace => Key::Backspace,
            _ => return None,
        })
    }

    /// How the help screen writes the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("ctrl-{c}"),
            Key::Digit => "1-9".into(),
            Key::Enter => "enter".into(),
            Key::Esc => "esc".into(),
            Key::Tab => "tab".into(),
            Key::BackTab => "shift-tab".into(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::Left => "←".into(),
            Key::Right => "→".into(),
            Key::PageUp => "pgup".into(),
            Key::PageDown => "pgdn".into(),
            Key::Home => "home".into(),
            Key::End => "end".into(),
            Key::Backspace => "backspace".into(),
        }
    }

    fn matches(self, pressed: Key) -> bool {
        match (self, pressed) {
            (Key::Digit, Key::Char(c)) => matches!(c, '1'..='9'),
            (a, b) => a == b,
        }
    }
}

/// Where a binding applies. Dispatch tries the active scopes in order, most
/// specific first, and [`Scope::Global`] last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    List,
    Detail,
    Conversation,
    Sessions,
    Library,
    Help,
    CopyMenu,
    /// A text field (filter, search, export path) has the keyboard.
    Input,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::List => "Traffic list",
            Scope::Detail => "Detail pane",
            Scope::Conversation => "Conversation tab",
            Scope::Sessions => "Sessions",
            Scope::Library => "Library",
            Scope::Help => "Help",
            Scope::CopyMenu => "Copy menu (y)",
            Scope::Input => "Text fields (filter, search, path)",
        }
    }
}

/// What a key asks for. Payloads come from the key itself (the tab digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Back,
    Help,
    ShowTraffic,
    ShowSessions,
    ShowLibrary,
    Up,
    Down,
    Left,
    Right,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    NextPane,
    PrevPane,
    SelectTab(u8),
    PrevExchange,
    NextExchange,
    Filter,
    Follow,
    Search,
    SearchNext,
    SearchPrev,
    Mark,
    MarkedOnly,
    Clear,
    Export,
    Copy,
    Sort,
    Reverse,
    Reveal,
    Thinking,
    CopyResponseBody,
    CopyRequestBody,
    CopyCurl,
    CopyAssistant,
    CopyUrl,
    Accept,
    Cancel,
    RecordFixture,
    TurnDiff,
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    pub scope: Scope,
    /// A line for the help screen.
    pub help: &'static str,
    /// A short word for the status-bar hints, when worth the space.
    pub hint: Option<&'static str>,
}

const fn b(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        keys,
        action,
        scope,
        help,
        hint,
    }
}

use Action as A;
use Key as K;
use Scope as S;

/// Every key llmspy's UI understands.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    b(S::Input, &[K::Enter], A::Accept, "apply and close the field", None),
    b(S::Input, &[K::Esc], A::Cancel, "cancel (the filter goes back to what it was)", None),
    b(S::CopyMenu, &[K::Char('b')], A::CopyResponseBody, "copy the response body", None),
    b(S::CopyMenu, &[K::Char('r')], A::CopyRequestBody, "copy the request body", None),
    b(S::CopyMenu, &[K::Char('c')], A::CopyCurl, "copy the request as a curl command", None),
    b(S::CopyMenu, &[K::Char('a')], A::CopyAssistant, "copy the assistant's text", None),
    b(S::CopyMenu, &[K::Char('u')], A::CopyUrl, "copy the URL", None),
    b(S::CopyMenu, &[K::Esc, K::Char('q')], A::Cancel, "close the menu", None),
    b(S::Help, &[K::Esc, K::Char('q'), K::Char('?')], A::Back, "close help", None),
    b(S::Help, &[K::Char('j'), K::Down], A::Down, "scroll down", None),
    b(S::Help, &[K::Char('k'), K::Up], A::Up, "scroll up", None),
    b(S::Help, &[K::PageDown, K::Char(' ')], A::PageDown, "page down", None),
    b(S::Help, &[K::PageUp], A::PageUp, "page up", None),
    b(S::Help, &[K::Char('g'), K::Home], A::Top, "to the top", None),
    b(S::Help, &[K::Char('G'), K::End], A::Bottom, "to the end", None),
    b(S::List, &[K::Char('j'), K::Down], A::Down, "next exchange", None),
    b(S::List, &[K::Char('k'), K::Up], A::Up, "previous exchange", None),
    b(S::List, &[K::Char('g'), K::Home], A::Top, "first exchange", None),
    b(S::List, &[K::Char('G'), K::End], A::Bottom, "last exchange", None),
    b(S::List, &[K::PageDown, K::Ctrl('f')], A::PageDown, "page down", None),
    b(S::List, &[K::PageUp, K::Ctrl('b')], A::PageUp, "page up", None),
    b(S::List, &[K::Enter], A::Open, "open the exchange (full screen when narrow)", Some("open")),
    b(S::List, &[K::Tab, K::BackTab], A::NextPane, "to the detail pane, on the tab it shows", None),
    b(S::List, &[K::Digit], A::SelectTab(0), "show tab 1–9 of the detail pane", None),
    // The detail pane beside the list says "R reveals": so it does here.
    b(S::List, &[K::Char('R')], A::Reveal, "reveal or mask secrets in the detail pane", None),
    // Where a list has no text to search, `/` narrows it, as in most lists.
    b(S::List, &[K::Char('/')], A::Filter, "filter the list (as f)", None),
    b(S::List, &[K::Char('F')], A::Follow, "follow: keep the newest exchange selected", Some("follow")),
    b(S::List, &[K::Char('m')], A::Mark, "mark or unmark the exchange", Some("mark")),
    b(S::List, &[K::Char('M')], A::MarkedOnly, "show only marked exchanges (toggle)", None),
    b(S::List, &[K::Char('z')], A::Clear, "clear the capture (a file's list only)", None),
    b(S::List, &[K::Char('o')], A::Sort, "sort by the next column", None),
    b(S::List, &[K::Char('O')], A::Reverse, "reverse the sort order", None),
    b(S::List, &[K::Char('y')], A::Copy, "copy… (body, curl, assistant text, URL)", Some("copy")),
    b(S::List, &[K::Char('e')], A::Export, "export (Library › Export)", None),
    b(S::Detail, &[K::Char('j'), K::Down], A::Down, "scroll down", None),
    b(S::Detail, &[K::Char('k'), K::Up], A::Up, "scroll up", None),
    b(S::Detail, &[K::Char('g'), K::Home], A::Top, "scroll to the top", None),
    b(S::Detail, &[K::Char('G'), K::End], A::Bottom, "scroll to the end", None),
    b(S::Detail, &[K::PageDown, K::Char(' '), K::Ctrl('f')], A::PageDown, "page down", None),
    b(S::Detail, &[K::PageUp, K::Ctrl('b')], A::PageUp, "page up", None),
    b(S::Detail, &[K::Tab], A::NextPane, "next tab (then back to the list)", Some("tabs")),
    b(S::Detail, &[K::BackTab], A::PrevPane, "previous tab", None),
    b(S::Detail, &[K::Digit], A::SelectTab(0), "go to tab 1–9", None),
    b(S::Detail, &[K::Char('['), K::Char('h'), K::Left], A::PrevExchange, "previous exchange", None),
    b(S::Detail, &[K::Char(']'), K::Char('l'), K::Right], A::NextExchange, "next exchange", None),
    b(S::Detail, &[K::Char('/')], A::Search, "search in this tab", Some("search")),
    b(S::Detail, &[K::Char('n')], A::SearchNext, "next match", None),
    b(S::Detail, &[K::Char('N')], A::SearchPrev, "previous match", None),
    b(S::Detail, &[K::Char('R')], A::Reveal, "reveal or mask secret headers", Some("reveal")),
    b(S::Detail, &[K::Char('y')], A::Copy, "copy… (body, curl, assistant text, URL)", Some("copy")),
    b(S::Detail, &[K::Char('m')], A::Mark, "mark or unmark the exchange", None),
    b(S::Detail, &[K::Char('e')], A::Export, "export (Library › Export)", None),
    b(S::Conversation, &[K::Char('t')], A::Thinking, "expand or collapse thinking", Some("thinking")),
    b(S::Sessions, &[K::Char('j'), K::Down], A::Down, "next lane", None),
    b(S::Sessions, &[K::Char('k'), K::Up], A::Up, "previous lane", None),
    b(S::Sessions, &[K::Char('h'), K::Left], A::Left, "previous turn", None),
    b(S::Sessions, &[K::Char('l'), K::Right], A::Right, "next turn", None),
    b(S::Sessions, &[K::Char('g'), K::Home], A::Top, "first lane", None),
    b(S::Sessions, &[K::Char('G'), K::End], A::Bottom, "last lane", None),
    b(S::Sessions, &[K::Enter], A::Open, "open the turn's conversation", Some("open")),
    b(S::Sessions, &[K::Char('d')], A::TurnDiff, "show or hide what changed at the turn (diffs)", Some("diff")),
    b(S::Library, &[K::Tab, K::BackTab], A::NextPane, "switch Expectations / Export / Runs", Some("switch")),
    b(S::Library, &[K::Char('j'), K::Down], A::Down, "next field", None),
    b(S::Library, &[K::Char('k'), K::Up], A::Up, "previous field", None),
    b(S::Library, &[K::Char('h'), K::Left], A::Left, "previous choice", None),
    b(S::Library, &[K::Char('l'), K::Right, K::Char(' ')], A::Right, "next choice", None),
    b(S::Library, &[K::Enter], A::Accept, "edit the path / write the file / open a run", Some("write")),
    b(S::Library, &[K::Char('R')], A::RecordFixture, "record the selection as a replay fixture (llmspy --init)", Some("record")),
    b(S::Global, &[K::Char('?')], A::Help, "this help", Some("help")),
    b(S::Global, &[K::Char('f')], A::Filter, "filter (~ expressions; see below)", Some("filter")),
    b(S::Global, &[K::Char('T')], A::ShowTraffic, "Traffic screen", None),
    b(S::Global, &[K::Char('S')], A::ShowSessions, "Sessions screen", None),
    b(S::Global, &[K::Char('L')], A::ShowLibrary, "Library screen", None),
    b(S::Global, &[K::Char('q'), K::Esc], A::Back, "back", None),
    b(S::Global, &[K::Char('Q'), K::Ctrl('c')], A::Quit, "quit", Some("quit")),
];

/// The first binding for `key` in `scopes` (tried in order). A digit key
/// yields `SelectTab(digit)`.
pub fn resolve(scopes: &[Scope], key: Key) -> Option<Action> {
    scopes.iter().find_map(|scope| {
        BINDINGS
            .iter()
            .filter(|b| b.scope == *scope)
            .find(|b| b.keys.iter().any(|k| k.matches(key)))
            .map(|b| with_digit(b.action, key))
    })
}

fn with_digit(action: Action, key: Key) -> Action {
    match (action, key) {
        (Action::SelectTab(_), Key::Char(c)) => Action::SelectTab(
            c.to_digit(10)
                .and_then(|d| u8::try_from(d).ok())
                .unwrap_or(1),
        ),
        (a, _) => a,
    }
}

/// Status-bar hints for the active scopes: `(keys, word)` pairs.
pub fn hints(scopes: &[Scope]) -> Vec<(String, &'static str)> {
    scopes
        .iter()
        .flat_map(|scope| BINDINGS.iter().filter(move |b| b.scope == *scope))
        .filter_map(|b| b.hint.map(|h| (b.keys[0].label(), h)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specific_scope_wins_and_digits_carry_through() {
        let detail = [Scope::Detail, Scope::Global];
        assert_eq!(resolve(&detail, Key::Char('3')), Some(Action::SelectTab(3)));
        assert_eq!(resolve(&detail, Key::Char('q')), Some(Action::Back));
        assert_eq!(
            resolve(&[Scope::Help, Scope::Global], Key::Char('q')),
            Some(Action::Back)
        );
        // From the list, digits flip the detail pane's tab too.
        assert_eq!(
            resolve(&[Scope::List], Key::Char('3')),
            Some(Action::SelectTab(3))
        );
        assert_eq!(resolve(&detail, Key::Char('Q')), Some(Action::Quit));
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                let clash = a.scope == b.scope && a.keys.iter().any(|k| b.keys.contains(k));
                assert!(!clash, "{:?} bound twice in {:?}", a.keys, a.scope);
            }
        }
    }

    #[test]
    fn every_binding_is_documented() {
        assert!(
            BINDINGS
                .iter()
                .all(|b| !b.help.is_empty() && !b.keys.is_empty())
        );
    }
}
