//! The Library's Runs tab: an earlier run from the history shown in place
//! of the live traffic, and the way back.

use std::sync::Arc;

use llmspy::tui::{App, HistorySource};

use super::support::*;

fn history() -> HistorySource {
    HistorySource {
        runs: Arc::new(|| {
            Ok(vec![
                (
                    1,
                    "run 1    2026-12-04 10:00:00  ended  3 exchanges".to_string(),
                ),
                (
                    2,
                    "run 2    2026-12-05 08:00:00  stopped abruptly  1 exchanges".to_string(),
                ),
            ])
        }),
        open: Arc::new(|id| {
            let path = format!("/from-history-run-{id}");
            let req = request("GET", "https", "old.example", &path);
            let resp = response(200, "text/plain", b"old");
            Ok(store_of(vec![exchange(1, req, Some(resp))]))
        }),
    }
}

fn live_app() -> App {
    let mut info = info();
    info.history = Some(history());
    App::new(
        store_of(sample()),
        info,
        Box::new(llmspy::tui::clipboard::Recorder::default()),
    )
}

#[test]
fn an_earlier_run_replaces_the_live_traffic_until_the_way_back() {
    let mut app = live_app();
    press(&mut app, "L<tab><tab>");
    let runs = render(&mut app, 120, 20);
    assert!(runs.contains("● live traffic"), "{runs}");
    let newest = runs.find("run 2").expect("run 2 listed");
    assert!(
        newest < runs.find("run 1").expect("run 1 listed"),
        "newest first:\n{runs}"
    );

    press(&mut app, "j<enter>");
    assert_eq!(app.viewing_run(), Some(2));
    let screen = render(&mut app, 120, 20);
    assert!(screen.contains("/from-history-run-2"), "{screen}");
    assert!(
        screen.contains("history run 2"),
        "status bar names the run:\n{screen}"
    );
    let title = screen.lines().next().unwrap_or_default();
    assert!(
        title.contains("history run 2") && !title.contains("live"),
        "the title says which run, not live:\n{screen}"
    );

    press(&mut app, "L");
    press(&mut app, "k<enter>");
    assert_eq!(app.viewing_run(), None);
    let screen = render(&mut app, 120, 20);
    assert!(!screen.contains("/from-history-run-2"), "{screen}");
    assert!(screen.contains("127.0.0.1:1080"), "{screen}");
    assert!(
        screen.lines().next().unwrap_or_default().contains("live"),
        "{screen}"
    );
}

#[test]
fn without_a_history_the_library_has_two_tabs() {
    let mut app = app();
    press(&mut app, "L<tab><tab>");
    let screen = render(&mut app, 120, 20);
    assert!(!screen.contains("live traffic (this run)"), "{screen}");
}
