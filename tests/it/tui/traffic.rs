//! The traffic list: columns, markers, follow, sort, mark, clear, filter.

use super::support::*;

#[test]
fn list_follows_the_newest() {
    snap_both("list", "");
}

#[test]
fn list_moves_and_stops_following() {
    snap_both("list_moved", "kk");
}

#[test]
fn list_sorted_by_method_then_reversed() {
    snap_both("list_sorted", "ooO");
}

/// A column title that fills its column keeps every letter when it is
/// the sort key: the arrow takes the gap after it.
#[test]
fn the_sort_arrow_never_cuts_a_title() {
    let (mut app, _) = app_with(sample());
    for presses in 1..=8 {
        let screen = render(&mut app, 80, 24);
        let header = screen.lines().nth(1).unwrap_or_default().to_string();
        assert!(!header.contains('…'), "after {presses} o: {header}");
        press(&mut app, "o");
    }
}

#[test]
fn marks_and_marked_only() {
    snap_both("list_marked", "gmjjmM");
}

#[test]
fn clear_hides_everything_so_far() {
    snap_both("list_cleared", "z");
}

/// In a live llmspy `z` drops the capture itself (the store the API and
/// exports read), and says so; over a file it only empties the list.
#[test]
fn clear_in_a_live_llmspy_drops_the_capture_and_says_so() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    for history in [false, true] {
        let dropped = Arc::new(AtomicBool::new(false));
        let mut info = info();
        let flag = dropped.clone();
        info.on_clear = Some(Box::new(move || flag.store(true, Ordering::SeqCst)));
        if history {
            info.history = Some(llmspy::tui::HistorySource {
                runs: Arc::new(|| Ok(Vec::new())),
                open: Arc::new(|_| Err("none".into())),
            });
        }
        let mut app = llmspy::tui::App::new(
            store_of(sample()),
            info,
            Box::new(llmspy::tui::clipboard::Recorder::default()),
        );
        resize(&mut app, 160, 48);
        press(&mut app, "z");
        assert!(dropped.load(Ordering::SeqCst), "the capture was cleared");
        let screen = render(&mut app, 160, 48);
        let said = if history {
            "the history keeps what it saved"
        } else {
            "not kept anywhere else"
        };
        assert!(
            screen.contains("Capture cleared") && screen.contains(said),
            "{screen}"
        );
    }
}

#[test]
fn filter_typed_live() {
    snap_both("filter_live", "f~m POST | ~c 404");
}

#[test]
fn bad_filter_points_at_the_error_and_keeps_the_last_good_one() {
    snap_both("filter_error", "f~d test & ~m");
}

#[test]
fn filter_applied_with_enter() {
    snap_both("filter_applied", "f!~c 2xx<enter>");
}

#[test]
fn empty_store() {
    for (w, h) in super::SIZES {
        let (mut app, _) = app_with(vec![]);
        snap(&format!("empty_{w}x{h}"), render(&mut app, w, h));
    }
}

#[test]
fn slash_in_the_list_filters_it() {
    let mut app = app();
    press(&mut app, "/~m GET<enter>");
    assert_eq!(app.filter.source(), "~m GET");
    render(&mut app, 80, 24);
    assert_eq!(app.list.len(), 5);
}

#[test]
fn escape_restores_the_filter_from_before_editing() {
    let mut app = app();
    press(&mut app, "f~m GET<enter>");
    press(&mut app, "f<bs><bs><bs>POST<esc>");
    assert_eq!(app.filter.source(), "~m GET");
    render(&mut app, 80, 24);
    assert_eq!(app.list.len(), 5);
}

#[test]
fn enter_on_a_broken_filter_keeps_the_field_open_and_says_why() {
    let mut app = app();
    press(&mut app, "f~m GET<enter>");
    press(&mut app, "f<c-u>~m (<enter>");
    assert!(
        app.field.is_some(),
        "the field stays open on a broken expression"
    );
    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains("(not applied; Esc keeps the previous filter)"),
        "{screen}"
    );
    // Esc goes back to the filter from before this edit.
    press(&mut app, "<esc>");
    assert!(app.field.is_none());
    assert_eq!(app.filter.source(), "~m GET");
}

#[test]
fn q_at_the_list_does_not_quit_but_capital_q_does() {
    let mut app = app();
    press(&mut app, "q");
    assert!(!app.quit);
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("Press Q to quit"), "{screen}");
    press(&mut app, "Q");
    assert!(app.quit);
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut app = app();
    render(&mut app, 80, 24);
    click(&mut app, 10, 3);
    assert_eq!(app.list.selected(), Some(2));
    assert!(!app.list.follow);
    wheel(&mut app, 10, 5, true);
    assert_eq!(app.list.selected(), Some(5));
    click(&mut app, 19, 0);
    assert_eq!(app.screen, llmspy::tui::layout::Screen::Sessions);
}

#[test]
fn follow_toggle_returns_to_the_newest() {
    let mut app = app();
    press(&mut app, "g");
    assert!(!app.list.follow);
    press(&mut app, "F");
    render(&mut app, 80, 24);
    assert_eq!(app.list.selected(), Some(6));
}

#[test]
fn empty_live_list_shows_the_agent_setup() {
    let clip = llmspy::tui::clipboard::Recorder::default();
    let mut info = info();
    info.setup = vec![
        "In the agent's shell (or: eval \"$(llmspy env)\", or: llmspy run -- CMD):".into(),
        "export HTTPS_PROXY=http://127.0.0.1:1080".into(),
        "export NODE_EXTRA_CA_CERTS=/home/me/.local/share/llmspy/ca.pem".into(),
        "export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=/home/me/.local/share/llmspy/llmspy-ca-bundle.pem"
            .into(),
    ];
    let mut app = llmspy::tui::App::new(store_of(vec![]), info, Box::new(clip));
    let screen = render(&mut app, 80, 24);
    // A line too wide is cut on its row, never wrapped into a bare `export`.
    assert!(
        !screen
            .lines()
            .any(|l| l.trim_matches(|c| c == '"' || c == ' ') == "export"),
        "{screen}"
    );
    snap("empty_setup_80x24", screen);
}

/// Tab from the list lands on the tab the detail pane shows, not the first.
#[test]
fn tab_from_the_list_keeps_the_tab_a_digit_chose() {
    let (mut app, _) = app_with(super::llm_samples::sample());
    render(&mut app, 160, 48);
    press(&mut app, "2");
    let chosen = app.detail.tab;
    press(&mut app, "<tab>");
    assert_eq!(app.focus, llmspy::tui::app::Focus::Detail);
    assert_eq!(app.detail.tab, chosen);
}
