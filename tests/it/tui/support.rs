//! Test support for the TUI: exchanges with fixed ids and times, an app over a
//! detached store, a key-string driver and a renderer to text.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use llmspy::capture::{Limits, Store, StoreReader};
use llmspy::exchange::*;
use llmspy::tui::clipboard::Recorder;
use llmspy::tui::{App, Msg, UiInfo};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

/// 2026-01-01 12:00:00 UTC plus `secs`.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0)
        .single()
        .expect("valid")
        + chrono::Duration::seconds(secs)
}

fn fixed_clock() -> DateTime<Utc> {
    at(3600)
}

/// UI info for tests: live on a fixed address, UTC, a fixed clock.
pub fn info() -> UiInfo {
    let mut info = UiInfo::live("127.0.0.1:1080");
    info.utc_offset = FixedOffset::east_opt(0).expect("utc");
    info.export_dir = PathBuf::from("/tmp/llmspy-exports");
    info.clock = fixed_clock;
    info
}

pub fn request(method: &str, scheme: &str, host: &str, path: &str) -> Request {
    Request {
        method: method.to_owned().into(),
        scheme: scheme.to_owned().into(),
        host: host.into(),
        port: if scheme == "https" { 443 } else { 80 },
        path: path.into(),
        version: "HTTP/1.1".into(),
        headers: llmspy::exchange::Headers::from([("user-agent", "test-agent/1.0")]),
        body: Body::default(),
    }
}

pub fn response(status: u16, content_type: &str, body: &[u8]) -> Response {
    Response {
        status,
        version: "HTTP/1.1".into(),
        headers: llmspy::exchange::Headers::from([("content-type", content_type)]),
        body: Body::from_bytes(body),
    }
}

/// A finished exchange started `id` seconds after the fixed epoch.
pub fn exchange(id: ExchangeId, req: Request, resp: Option<Response>) -> Exchange {
    let done = resp.is_some();
    Exchange::builder()
        .id(id)
        .started_at(at(id as i64))
        .client_addr("127.0.0.1:50000")
        .request(req)
        .response(resp)
        .timings(Timings {
            request_done_us: Some(1_000),
            response_head_us: done.then_some(120_000),
            first_byte_us: done.then_some(125_000),
            end_us: done.then_some(250_000 + id * 1000),
            resent_us: None,
        })
        .state(if done {
            State::Complete
        } else {
            State::InFlight
        })
        .build()
}

/// A mixed capture: JSON API, form post with secrets, in flight, failed,
/// streaming, binary.
pub fn sample() -> Vec<Exchange> {
    let mut post = request("POST", "https", "api.example.com", "/v1/items?page=2");
    post.headers
        .push("authorization", "Bearer sk-live-1234567890");
    post.headers.push("content-type", "application/json");
    post.body = Body::from_bytes(&br#"{"name":"widget","tags":["a","b"],"count":3,"ok":true}"#[..]);
    let mut created = response(
        201,
        "application/json",
        br#"{"id":"itm_1","name":"widget"}"#,
    );
    created
        .headers
        .push("set-cookie", "session=abc123; HttpOnly");
    let mut failed = exchange(4, request("GET", "https", "blocked.test", "/"), None);
    failed.state = State::Failed(Failure::new(
        FailureKind::ClientRejectedCa,
        "the client does not trust llmspy's CA: set NODE_EXTRA_CA_CERTS",
    ));
    failed.timings.end_us = Some(5_000);
    let mut streaming = exchange(5, request("GET", "https", "events.test", "/stream"), None);
    streaming.response = Some(response(
        200,
        "text/event-stream",
        b"event: ping\ndata: {\"n\":1}\n\n",
    ));
    streaming.state = State::Streaming;
    vec![
        exchange(
            1,
            request("GET", "https", "example.com", "/index.json"),
            Some(response(
                200,
                "application/json",
                br#"{"hello":"world","list":[1,2,3]}"#,
            )),
        ),
        exchange(2, post, Some(created)),
        exchange(3, request("GET", "http", "slow.test", "/wait"), None),
        failed,
        streaming,
        exchange(
            6,
            request("GET", "https", "cdn.test", "/logo.png"),
            Some(response(
                404,
                "image/png",
                &[0x89, b'P', b'N', b'G', 0, 1, 2],
            )),
        ),
    ]
}

/// A store as the capture task leaves it: finished LLM and MCP exchanges
/// carry their summary, LLM ones their thread.
pub fn store_of(exchanges: Vec<Exchange>) -> StoreReader {
    let mut store = Store::new(Limits::default());
    let mut threads = llmspy::llm::ThreadTracker::new();
    for ex in exchanges {
        let id = ex.id;
        let analysis = ex
            .state
            .is_finished()
            .then(|| llmspy::llm::analyse(&ex))
            .flatten();
        store.insert(ex);
        let (Some(a), Some(record)) = (analysis, store.get_mut(id)) else {
            continue;
        };
        record.summary = Some(a.summary());
        record.thread = (a.kind != llmspy::llm::Kind::Mcp)
            .then(|| threads.observe(id, &a, record.exchange.client_addr.as_deref()));
    }
    StoreReader::detached(store)
}

/// A store nothing analysed (a capture file opened for viewing).
pub fn raw_store_of(exchanges: Vec<Exchange>) -> StoreReader {
    let mut store = Store::new(Limits::default());
    for ex in exchanges {
        store.insert(ex);
    }
    StoreReader::detached(store)
}

pub fn app_with(exchanges: Vec<Exchange>) -> (App, Recorder) {
    let clip = Recorder::default();
    let app = App::new(store_of(exchanges), info(), Box::new(clip.clone()));
    (app, clip)
}

/// An app over the sample traffic whose exports and fixtures go to `dir`.
pub fn app_exporting_to(dir: &std::path::Path) -> App {
    let mut info = info();
    info.export_dir = dir.to_path_buf();
    App::new(
        store_of(sample()),
        info,
        Box::new(llmspy::tui::clipboard::Recorder::default()),
    )
}

pub fn app() -> App {
    app_with(sample()).0
}

/// Type keys: plain characters, and `<enter>`, `<esc>`, `<tab>`, `<s-tab>`,
/// `<up>`, `<down>`, `<left>`, `<right>`, `<pgup>`, `<pgdn>`, `<bs>`, `<c-x>`.
pub fn press(app: &mut App, keys: &str) {
    let mut rest = keys;
    while let Some(c) = rest.chars().next() {
        if let Some(end) = rest.find('>').filter(|_| c == '<') {
            app.update(Msg::Key(named(&rest[1..end])));
            rest = &rest[end + 1..];
            continue;
        }
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
        rest = &rest[c.len_utf8()..];
    }
}

fn named(name: &str) -> KeyEvent {
    let plain = |code| KeyEvent::new(code, KeyModifiers::NONE);
    match name {
        "enter" => plain(KeyCode::Enter),
        "esc" => plain(KeyCode::Esc),
        "tab" => plain(KeyCode::Tab),
        "s-tab" => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
        "up" => plain(KeyCode::Up),
        "down" => plain(KeyCode::Down),
        "left" => plain(KeyCode::Left),
        "right" => plain(KeyCode::Right),
        "pgup" => plain(KeyCode::PageUp),
        "pgdn" => plain(KeyCode::PageDown),
        "bs" => plain(KeyCode::Backspace),
        "lt" => plain(KeyCode::Char('<')),
        other => match other.strip_prefix("c-").and_then(|c| c.chars().next()) {
            Some(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            None => panic!("unknown key <{other}>"),
        },
    }
}

pub fn click(app: &mut App, column: u16, row: u16) {
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }));
}

pub fn wheel(app: &mut App, column: u16, row: u16, down: bool) {
    let kind = if down {
        MouseEventKind::ScrollDown
    } else {
        MouseEventKind::ScrollUp
    };
    app.update(Msg::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }));
}

/// Set the terminal size the app lays out for (keys act on that layout).
pub fn resize(app: &mut App, w: u16, h: u16) {
    app.update(Msg::Resize(w, h));
}

/// Draw at `w`×`h` and return the screen as text.
pub fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal.draw(|f| llmspy::tui::draw(f, app)).expect("draw");
    terminal.backend().to_string()
}

/// Snapshot `screen` as `tests/it/tui/snapshots/{name}.snap`.
pub fn snap(name: &str, screen: String) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, screen));
}

/// Snapshot the sample capture after `keys`, at both sizes.
pub fn snap_both(name: &str, keys: &str) {
    snap_sample(name, sample, keys);
}

/// Snapshot a capture made by `exchanges` after `keys`, at both sizes.
pub fn snap_sample(name: &str, exchanges: fn() -> Vec<Exchange>, keys: &str) {
    for (w, h) in super::SIZES {
        let (mut app, _) = app_with(exchanges());
        resize(&mut app, w, h);
        press(&mut app, keys);
        snap(&format!("{name}_{w}x{h}"), render(&mut app, w, h));
    }
}
