//! Time to draw one TUI frame with 100 000 exchanges in the store and a 1 MB
//! JSON body in the detail pane: `cargo bench --bench frame`.
//!
//! Prints the first frame (which builds the list, and pretty-prints and
//! wraps the body once) and then steady frames, plus a frame right after a
//! store event. No thresholds: the numbers are for reading.

// Test and bench scenarios read top to bottom; the length limit is for
// the library and the binary.
#![allow(clippy::too_many_lines)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use llmspy::capture::{Limits, Store, StoreEvent, StoreReader};
use llmspy::exchange::*;
use llmspy::tui::clipboard::Recorder;
use llmspy::tui::{App, Msg, UiInfo};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const EXCHANGES: u64 = 100_000;
const BODY_BYTES: usize = 1024 * 1024;

fn exchange(id: ExchangeId, body: Vec<u8>) -> Exchange {
    let started = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(id as i64);
    Exchange::builder()
        .id(id)
        .started_at(started)
        .method(if id.is_multiple_of(3) { "POST" } else { "GET" })
        .host(format!("host{}.example.com", id % 17))
        .path(format!("/api/v1/items/{id}?page={}", id % 7))
        .header("user-agent", "bench")
        .status(if id.is_multiple_of(11) { 404 } else { 200 })
        .response_header("content-type", "application/json")
        .response_body(body)
        .timings(Timings {
            end_us: Some(1_000 + id % 5_000),
            ..Timings::default()
        })
        .build()
}

/// About 1 MB of JSON: an array of small records.
fn big_json() -> Vec<u8> {
    let mut out = String::from("[");
    let mut i = 0;
    while out.len() < BODY_BYTES {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"id":{i},"name":"item {i}","tags":["alpha","beta"],"price":{}.5,"ok":true}}"#,
            i % 100
        ));
        i += 1;
    }
    out.push(']');
    out.into_bytes()
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn time_frame(terminal: &mut Terminal<TestBackend>, app: &mut App) -> Duration {
    let t = Instant::now();
    terminal.draw(|f| llmspy::tui::draw(f, app)).expect("draw");
    t.elapsed()
}

fn main() {
    let mut store = Store::new(Limits {
        max_exchanges: EXCHANGES as usize + 10,
        ..Limits::default()
    });
    for id in 1..EXCHANGES {
        store.insert(exchange(id, br#"{"ok":true}"#.to_vec()));
    }
    store.insert(exchange(EXCHANGES, big_json()));
    let reader = StoreReader::detached(store);
    let mut info = UiInfo::live("127.0.0.1:1080");
    info.clock = Utc::now;
    let mut app = App::new(reader, info, Box::new(Recorder::default()));
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        app.update(Msg::Resize(w, h));
        if w < 120 {
            app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        }
        let first = time_frame(&mut terminal, &mut app);
        let runs = 200;
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| time_frame(&mut terminal, &mut app))
            .collect();
        times.sort();
        app.update(key('j'));
        app.update(Msg::Store(StoreEvent::Updated(EXCHANGES - 1)));
        let after_event = time_frame(&mut terminal, &mut app);
        app.update(key('k'));
        app.update(key('G'));
        let scrolled = time_frame(&mut terminal, &mut app);
        println!(
            "{w}x{h}: {EXCHANGES} exchanges, 1 MB body selected: first frame {:.2} ms, \
             steady median {:.3} ms (p95 {:.3} ms, max {:.3} ms), after a store event {:.3} ms, \
             after k then G {:.3} ms",
            ms(first),
            ms(times[runs / 2]),
            ms(times[runs * 95 / 100]),
            ms(times[runs - 1]),
            ms(after_event),
            ms(scrolled),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
