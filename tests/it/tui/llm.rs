//! LLM and MCP traffic: list columns, usage strip, the Messages,
//! Conversation, SSE Timeline and MCP tabs, Sessions, and the filters that
//! read the analysis.

use llmspy::tui::layout::Screen;

use super::llm_samples::sample;
use super::support::*;

fn llm(name: &str, keys: &str) {
    snap_sample(name, sample, keys);
}

#[test]
fn list_shows_kind_model_tokens_and_cost() {
    llm("llm_list", "g");
}

#[test]
fn messages_tab() {
    llm("llm_messages", "gj<enter>1");
}

#[test]
fn conversation_bubbles_with_thinking_collapsed() {
    llm("llm_conversation", "gj<enter>2");
}

/// A streamed reply cut at the capture cap: the Conversation tab shows
/// the partial text and says it was cut, not only Raw.
#[test]
fn conversation_says_when_the_reply_was_cut_at_the_cap() {
    let mut ex = super::llm_samples::anthropic_stream(2);
    let resp = ex.response.as_mut().expect("a reply");
    resp.body.wire_size = resp.body.bytes.len() as u64 * 10;
    resp.body.truncated = true;
    let (mut app, _) = app_with(vec![ex]);
    resize(&mut app, 160, 48);
    press(&mut app, "g<enter>2");
    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains("⚠ response body cut at the capture cap"),
        "{screen}"
    );
}

#[test]
fn conversation_with_thinking_expanded() {
    llm("llm_conversation_thinking", "gj<enter>2t");
}

#[test]
fn tool_result_turn_conversation() {
    llm("llm_tool_result", "gjj<enter>2");
}

#[test]
fn sse_timeline() {
    llm("llm_timeline", "gj<enter>3");
}

#[test]
fn raw_tab_of_an_llm_call() {
    llm("llm_raw", "gj<enter>4");
}

#[test]
fn openai_conversation() {
    llm("llm_openai", "gjjj<enter>2");
}

#[test]
fn mcp_tab() {
    llm("llm_mcp", "G<up><enter>");
}

#[test]
fn reply_still_streaming() {
    llm("llm_streaming", "G<enter>2");
}

#[test]
fn sessions_lanes_and_chips() {
    llm("llm_sessions", "Sl");
}

#[test]
fn sessions_enter_opens_the_turn_conversation() {
    llm("llm_sessions_open", "Sl<enter>");
}

#[test]
fn sessions_back_from_a_turn() {
    let (mut app, _) = app_with(sample());
    press(&mut app, "Sl<enter>");
    assert_eq!(app.current_id(), Some(3));
    press(&mut app, "q");
    assert_eq!(app.screen, Screen::Sessions);
    assert!(!app.detail_full());
}

/// The "what changed" panel follows the selection down to the unscoped
/// requests, which have no turn to compare, instead of keeping the last
/// lane's diff.
#[test]
fn the_turn_diff_leaves_with_its_lane() {
    let (mut app, _) = app_with(sample());
    resize(&mut app, 160, 48);
    press(&mut app, "Sld");
    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains("changed since") || screen.contains("starts the conversation"),
        "{screen}"
    );
    press(&mut app, "G");
    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains("Not a turn of a conversation") && !screen.contains("changed since"),
        "{screen}"
    );
}

#[test]
fn an_opened_file_is_analysed_and_threaded_by_the_ui() {
    use llmspy::tui::clipboard::Recorder;
    let mut info = llmspy::tui::UiInfo::file("capture.jsonl");
    info.utc_offset = chrono::FixedOffset::east_opt(0).expect("utc");
    info.clock = || at(0);
    let reader = raw_store_of(sample());
    let mut app = llmspy::tui::App::new(reader, info, Box::new(Recorder::default()));
    resize(&mut app, 80, 24);
    press(&mut app, "S");
    snap("llm_sessions_opened_80x24", render(&mut app, 80, 24));
    assert_eq!(
        app.sessions.lanes.len(),
        2,
        "the Anthropic and OpenAI conversations"
    );
}

#[test]
fn filters_read_the_analysis() {
    let cases = [
        ("~p anthropic", vec![2, 3, 6]),
        ("~model gpt", vec![4]),
        ("~tool get_weather", vec![2, 3, 6]),
        ("~tool forecast", vec![5]),
        ("~mcp", vec![5]),
        ("~stream", vec![2, 6]),
        ("!~p . & !~mcp", vec![1]),
    ];
    for (expr, want) in cases {
        let (mut app, _) = app_with(sample());
        press(&mut app, &format!("f{expr}<enter>"));
        render(&mut app, 80, 24);
        let shown: Vec<u64> = (0..app.list.len())
            .filter_map(|r| app.list.id_at(r))
            .collect();
        assert_eq!(shown, want, "{expr}");
    }
}

#[test]
fn copy_assistant_text() {
    let (mut app, clip) = app_with(sample());
    press(&mut app, "gjjya");
    assert_eq!(
        clip.copied.borrow().as_slice(),
        ["It is 18°C with light rain in Paris. Take an umbrella."]
    );
}

#[test]
fn totals_count_tokens_and_cost_of_what_is_shown() {
    let (mut app, _) = app_with(sample());
    render(&mut app, 80, 24);
    let all = app.list.totals.clone();
    assert!(all.tokens > 900, "{all:?}");
    assert!(all.cost > 0.0, "{all:?}");
    press(&mut app, "f~model gpt<enter>");
    render(&mut app, 80, 24);
    assert_eq!(app.list.totals.tokens, 21);
}

#[test]
fn sort_by_cost_puts_unknown_first() {
    let (mut app, _) = app_with(sample());
    for _ in 0..8 {
        press(&mut app, "o");
    }
    render(&mut app, 80, 24);
    assert_eq!(app.list.sort, llmspy::tui::sort::SortKey::Cost);
    let last = app.list.id_at(app.list.len() - 1);
    assert!(matches!(last, Some(2 | 3)), "most expensive last: {last:?}");
}

/// Every exchange under `fixtures/` (the parsers' golden files), with ids
/// renumbered so they sort.
fn fixtures() -> Vec<llmspy::exchange::Exchange> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|dir| {
            std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|f| f.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let text = std::fs::read_to_string(p).ok()?;
            let mut doc: serde_json::Value = serde_json::from_str(&text).ok()?;
            doc.as_object_mut()?.remove("expect");
            let mut ex = llmspy::export::native::parse_exchange(doc).ok()?;
            ex.id = i as u64 + 1;
            Some(ex)
        })
        .collect()
}

#[test]
fn every_fixture_renders_every_tab_at_both_sizes() {
    let exchanges = fixtures();
    let count = exchanges.len();
    let (mut app, _) = app_with(exchanges);
    for (w, h) in super::SIZES {
        resize(&mut app, w, h);
        press(&mut app, "g");
        for _ in 0..count {
            press(&mut app, "<enter>");
            for tab in 1..=app.detail.tabs.len().max(1) {
                press(&mut app, &format!("{tab}tG"));
                let screen = render(&mut app, w, h);
                assert!(screen.contains(" Raw "), "{screen}");
                press(&mut app, "t");
            }
            press(&mut app, "qj");
        }
    }
}

#[test]
fn digits_on_the_wide_list_flip_the_detail_tab() {
    let (mut app, _) = app_with(sample());
    resize(&mut app, 160, 48);
    press(&mut app, "gj2");
    let screen = render(&mut app, 160, 48);
    assert_eq!(app.focus, llmspy::tui::app::Focus::Main);
    assert_eq!(app.detail.tab, Some(llmspy::tui::detail::Tab::Conversation));
    assert!(screen.contains("╭─ assistant"), "{screen}");
    press(&mut app, "j");
    render(&mut app, 160, 48);
    assert_eq!(
        app.detail.tab,
        Some(llmspy::tui::detail::Tab::Conversation),
        "kept for the next LLM row"
    );
}

#[test]
fn the_chosen_tab_survives_a_visit_to_an_exchange_without_it() {
    let (mut app, _) = app_with(sample());
    resize(&mut app, 160, 48);
    // Conversation on an LLM call, then down to the MCP call (no such tab),
    // then back: Conversation again.
    press(&mut app, "gj<enter>2");
    let first = render(&mut app, 160, 48);
    assert!(first.contains("╭─ user"), "{first}");
    press(&mut app, "q");
    press(&mut app, "G<up><enter>");
    press(&mut app, "q");
    press(&mut app, "gj<enter>");
    let back = render(&mut app, 160, 48);
    assert!(back.contains("╭─ user"), "back on Conversation: {back}");
}

/// Items of the usage strip that do not fit are left out whole, and a `…`
/// says so; in the full-width detail they are all there.
#[test]
fn a_usage_strip_too_narrow_says_it_left_something_out() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/anthropic/messages_cached.json"
    );
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    doc.as_object_mut().expect("object").remove("expect");
    let ex = llmspy::export::native::parse_exchange(doc).expect("exchange");
    let (mut app, _) = app_with(vec![ex]);
    press(&mut app, "g");
    let strip = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains("│in ") || l.starts_with("\"in "))
            .unwrap_or_default()
            .to_string()
    };
    let narrow = render(&mut app, 120, 30);
    let cut = strip(&narrow);
    assert!(cut.trim_end_matches(['"', ' ']).ends_with('…'), "{narrow}");
    press(&mut app, "<enter>");
    let wide = render(&mut app, 240, 30);
    assert!(!strip(&wide).contains('…'), "{wide}");
}
