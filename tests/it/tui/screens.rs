//! Whole screens: help, copy menu, Sessions, Library and Export.

use super::support::*;

#[test]
fn help_lists_keys() {
    snap_both("help", "?");
}

#[test]
fn help_scrolled_to_the_filter_language() {
    snap_both("help_scrolled", "?G");
}

#[test]
fn copy_menu() {
    snap_both("copy_menu", "y");
}

#[test]
fn sessions_screen() {
    snap_both("sessions", "Sll");
}

#[test]
fn library_expectations() {
    snap_both("library", "L");
}

#[test]
fn export_form() {
    snap_both("export", "ejl");
}

#[test]
fn export_path_being_edited() {
    snap_both("export_path", "ejjj<enter><c-u>/tmp/out.json");
}

#[test]
fn export_writes_json_and_says_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.json");
    let mut app = app();
    press(&mut app, "ejjj<enter><c-u>");
    press(&mut app, &path.display().to_string());
    press(&mut app, "<enter>j<enter>");
    let written = std::fs::read_to_string(&path).expect("export written");
    let value: serde_json::Value = serde_json::from_str(&written).expect("json");
    assert_eq!(value.as_array().map(Vec::len), Some(6));
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("Wrote 6 exchange(s)"), "{screen}");
}

/// Writing again with the suggested name makes a new file: an earlier
/// export is never replaced unasked.
#[test]
fn a_second_export_never_replaces_the_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_exporting_to(dir.path());
    press(&mut app, "ejjjj<enter>");
    render(&mut app, 160, 48);
    press(&mut app, "<enter>");
    let screen = render(&mut app, 160, 48);
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}\n{screen}");
    assert!(
        files[1].ends_with("-2.json") || files[0].ends_with("-2.json"),
        "{files:?}"
    );
}

#[test]
fn screens_switch_and_q_goes_back() {
    let mut app = app();
    press(&mut app, "S");
    assert_eq!(app.screen, llmspy::tui::layout::Screen::Sessions);
    press(&mut app, "q");
    assert_eq!(app.screen, llmspy::tui::layout::Screen::Traffic);
    press(&mut app, "L<esc>");
    assert_eq!(app.screen, llmspy::tui::layout::Screen::Traffic);
}

#[test]
fn tiny_and_odd_terminals_never_panic() {
    let journeys = [
        "",
        "<enter>",
        "gj<enter>2t",
        "gj<enter>3G",
        "?G",
        "y",
        "S<enter>",
        "ejjj<enter>",
        "f~m",
        "f((",
    ];
    for (w, h) in [
        (1, 1),
        (2, 2),
        (10, 3),
        (20, 5),
        (39, 9),
        (119, 30),
        (120, 4),
        (300, 100),
    ] {
        for keys in journeys {
            let (mut app, _) = app_with(super::llm_samples::sample());
            resize(&mut app, w, h);
            press(&mut app, keys);
            render(&mut app, w, h);
            click(&mut app, w / 2, h / 2);
            wheel(&mut app, w / 2, h / 2, true);
            render(&mut app, w, h);
        }
    }
}

/// The history and the exporter change their words with no store event:
/// the status bar is read again every second and redrawn when they moved.
#[test]
fn the_status_bar_follows_the_history_without_a_keypress() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};
    let saved = Arc::new(AtomicU64::new(29));
    let mut info = info();
    let words = saved.clone();
    info.sink_status = vec![Arc::new(move || {
        format!("history {} saved", words.load(Ordering::Relaxed))
    })];
    let mut app = llmspy::tui::App::new(
        store_of(sample()),
        info,
        Box::new(llmspy::tui::clipboard::Recorder::default()),
    );
    let t0 = Instant::now();
    assert!(app.update(llmspy::tui::Msg::Tick(t0)), "first read draws");
    assert!(render(&mut app, 160, 48).contains("history 29 saved"));
    saved.store(32, Ordering::Relaxed);
    assert!(
        app.wake_in(t0).is_some(),
        "a tick is due while sinks report"
    );
    let later = t0 + Duration::from_millis(1100);
    assert!(app.update(llmspy::tui::Msg::Tick(later)), "moved: redraw");
    assert!(render(&mut app, 160, 48).contains("history 32 saved"));
    assert!(!app.update(llmspy::tui::Msg::Tick(later + Duration::from_millis(1100))));
}
