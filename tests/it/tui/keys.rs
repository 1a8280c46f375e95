//! Key table coverage and the copy actions.

use llmspy::tui::keymap::BINDINGS;
use llmspy::tui::views::help;

use super::support::*;

#[test]
fn help_shows_every_binding() {
    let text: String = help::lines()
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
                + "\n"
        })
        .collect();
    for b in BINDINGS {
        assert!(text.contains(b.help), "help lacks {:?}", b.help);
        for k in b.keys {
            assert!(text.contains(&k.label()), "help lacks key {}", k.label());
        }
    }
}

#[test]
fn copy_curl_masks_secrets_until_revealed() {
    let (mut app, clip) = app_with(sample());
    press(&mut app, "gj<enter>yc");
    press(&mut app, "Ryc");
    let copied = clip.copied.borrow();
    assert_eq!(copied.len(), 2);
    assert!(
        copied[0].contains("authorization: Bearer ••••••••"),
        "{}",
        copied[0]
    );
    assert!(
        copied[1].contains("Bearer sk-live-1234567890"),
        "{}",
        copied[1]
    );
    assert!(
        copied[1].starts_with("curl \\\n  -X POST \\\n  'https://api.example.com/v1/items?page=2'")
    );
}

#[test]
fn copy_bodies_and_url() {
    let (mut app, clip) = app_with(sample());
    press(&mut app, "gjybyryu");
    let copied = clip.copied.borrow();
    assert_eq!(copied[0], r#"{"id":"itm_1","name":"widget"}"#);
    assert!(copied[1].starts_with(r#"{"name":"widget""#));
    assert_eq!(copied[2], "https://api.example.com/v1/items?page=2");
    drop(copied);
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("Copied the URL"), "{screen}");
}

#[test]
fn copy_nothing_says_so() {
    let (mut app, clip) = app_with(sample());
    press(&mut app, "kkkyb");
    assert!(clip.copied.borrow().is_empty());
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("Nothing to copy"), "{screen}");
    press(&mut app, "ya");
    let screen = render(&mut app, 160, 48);
    assert!(screen.contains("no assistant text"), "{screen}");
}

#[test]
fn flash_messages_expire_on_tick() {
    use llmspy::tui::Msg;
    use std::time::{Duration, Instant};
    let mut app = app();
    press(&mut app, "F");
    assert!(app.flash.is_some());
    let t0 = Instant::now();
    app.update(Msg::Tick(t0));
    assert!(app.wake_in(t0).is_some());
    app.update(Msg::Tick(t0 + Duration::from_secs(10)));
    assert!(app.flash.is_none());
    assert!(app.wake_in(t0).is_none());
}

#[test]
fn ctrl_c_quits_even_from_a_text_field() {
    let mut app = app();
    press(&mut app, "f~m");
    assert!(app.field.is_some());
    press(&mut app, "<c-c>");
    assert!(app.quit);
}
