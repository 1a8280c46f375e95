//! Time to draw one TUI frame with 100 000 exchanges in the store and a 1 MB
//! JSON body in the detail pane: `cargo bench --bench frame`.
//!
//! Prints the first frame (which builds the list, pretty-prints the body
//! and indexes its lines; only the rows on screen are coloured and
//! wrapped) and then steady frames, plus a frame right after a store event
//! and one after jumping to the body's end. Then other 1 MB bodies alone
//! (one long line of text, JSON holding one long string, SSE): the first
//! frame, a frame deep inside, and a search. No thresholds: the numbers
//! are for reading.

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
    code(KeyCode::Char(c))
}

fn code(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
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
    other_bodies();
}

/// 1 MB bodies of other shapes, each the only exchange, at 160×48.
fn other_bodies() {
    let mb = 1024 * 1024;
    let words = "lorem ipsum dolor sit amet, consectetur adipiscing elit ";
    let event = "event: delta\ndata: {\"type\":\"content_block_delta\",\"text\":\"word\"}\n\n";
    let bodies = [
        (
            "one 1 MB line of text",
            "text/plain",
            words.repeat(mb / words.len()),
        ),
        (
            "JSON holding one 1 MB string",
            "application/json",
            format!(r#"{{"s":"{}"}}"#, words.repeat(mb / words.len())),
        ),
        (
            "1 MB of SSE",
            "text/event-stream",
            event.repeat(mb / event.len()),
        ),
    ];
    for (name, content_type, body) in bodies {
        let mut store = Store::new(Limits::default());
        store.insert(
            Exchange::builder()
                .method("GET")
                .response_header("content-type", content_type)
                .response_body(body.into_bytes())
                .build(),
        );
        let mut info = UiInfo::live("127.0.0.1:1080");
        info.clock = Utc::now;
        let mut app = App::new(
            StoreReader::detached(store),
            info,
            Box::new(Recorder::default()),
        );
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
        app.update(Msg::Resize(160, 48));
        let first = time_frame(&mut terminal, &mut app);
        app.update(code(KeyCode::Tab));
        for _ in 0..300 {
            app.update(code(KeyCode::PageDown));
        }
        let deep = time_frame(&mut terminal, &mut app);
        for c in "/ipsum".chars() {
            app.update(key(c));
        }
        let t = Instant::now();
        app.update(code(KeyCode::Enter));
        terminal
            .draw(|f| llmspy::tui::draw(f, &mut app))
            .expect("draw");
        let search = t.elapsed();
        println!(
            "160x48, {name} ({} rows): first frame {:.2} ms, 300 pages down {:.3} ms, \
             search and draw {:.2} ms",
            app.detail.rows(),
            ms(first),
            ms(deep),
            ms(search),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
