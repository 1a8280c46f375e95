//! The UI over a live capture store: rows appear, stream and finish as the
//! capture task publishes events.

use bytes::Bytes;
use llmspy::capture::{self, CaptureMsg, Limits, StoreEvent};
use llmspy::tui::clipboard::Recorder;
use llmspy::tui::{App, Msg};
use tokio::sync::broadcast;

use super::support::*;

struct Live {
    rt: tokio::runtime::Runtime,
    recorder: capture::Recorder,
    events: broadcast::Receiver<StoreEvent>,
    app: App,
}

impl Live {
    fn new() -> Live {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (recorder, reader, events) =
            rt.block_on(async { capture::spawn(Limits::default(), Vec::new()) });
        let events = events.subscribe();
        let app = App::new(reader, info(), Box::new(Recorder::default()));
        Live {
            rt,
            recorder,
            events,
            app,
        }
    }

    /// Send a capture message and feed the app every event up to `until`.
    fn send(&mut self, msg: CaptureMsg, until: fn(&StoreEvent) -> bool) {
        self.recorder.send(msg);
        loop {
            let ev = self
                .rt
                .block_on(async {
                    tokio::time::timeout(std::time::Duration::from_secs(5), self.events.recv())
                        .await
                })
                .expect("store event in time")
                .expect("event channel open");
            let done = until(&ev);
            self.app.update(Msg::Store(ev));
            if done {
                break;
            }
        }
    }
}

#[test]
fn a_streamed_exchange_appears_grows_and_finishes() {
    let mut live = Live::new();
    let id = live.recorder.next_id();
    let req = request("POST", "https", "stream.test", "/v1/chat");
    live.send(CaptureMsg::Start(Box::new(exchange(id, req, None))), |e| {
        matches!(e, StoreEvent::Started(_))
    });
    let screen = render(&mut live.app, 80, 24);
    assert!(screen.contains("stream.test/v1/chat"), "{screen}");
    assert!(screen.contains("…"), "{screen}");

    let head = response(200, "text/event-stream", b"");
    live.send(
        CaptureMsg::ResponseHead {
            id,
            response: Box::new(head),
            at_us: 100,
        },
        |e| matches!(e, StoreEvent::Updated(_)),
    );
    live.send(
        CaptureMsg::ResponseData {
            id,
            data: Some(Bytes::from_static(b"data: one\n\n")),
            len: 11,
            at_us: 200,
            last: false,
        },
        |e| matches!(e, StoreEvent::Updated(_)),
    );
    let screen = render(&mut live.app, 80, 24);
    assert!(screen.contains("⇣200"), "{screen}");

    press(&mut live.app, "<enter>");
    live.send(
        CaptureMsg::ResponseData {
            id,
            data: Some(Bytes::from_static(b"data: two\n\n")),
            len: 11,
            at_us: 300,
            last: false,
        },
        |e| matches!(e, StoreEvent::Updated(_)),
    );
    let screen = render(&mut live.app, 80, 24);
    assert!(
        screen.contains("data: two"),
        "the open detail grows live: {screen}"
    );

    live.send(
        CaptureMsg::Finish {
            id,
            at_us: 400,
            failure: None,
        },
        |e| matches!(e, StoreEvent::Finished(_)),
    );
    press(&mut live.app, "q");
    snap("live_finished_80x24", render(&mut live.app, 80, 24));
}

#[test]
fn new_rows_are_followed_and_a_clear_from_elsewhere_empties_the_list() {
    let mut live = Live::new();
    for _ in 0..30 {
        let id = live.recorder.next_id();
        let req = request("GET", "https", "many.test", &format!("/item/{id}"));
        live.send(
            CaptureMsg::Insert(Box::new(exchange(
                id,
                req,
                Some(response(200, "text/plain", b"ok")),
            ))),
            |e| matches!(e, StoreEvent::Finished(_)),
        );
    }
    let screen = render(&mut live.app, 80, 24);
    assert_eq!(live.app.list.selected(), Some(30));
    assert!(screen.contains("/item/30"), "{screen}");
    assert!(!screen.contains("/item/1 "), "{screen}");
    live.send(CaptureMsg::Clear(None), |e| {
        matches!(e, StoreEvent::Cleared)
    });
    render(&mut live.app, 80, 24);
    assert!(live.app.list.is_empty());
}

#[test]
fn resync_rebuilds_from_the_store() {
    let mut app = app();
    render(&mut app, 80, 24);
    app.update(Msg::Resync);
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("6/6 shown"), "{screen}");
}

#[test]
fn an_exchange_opened_in_flight_shows_its_llm_tabs_once_it_is_known() {
    let mut live = Live::new();
    let id = live.recorder.next_id();
    let done = super::llm_samples::anthropic_stream(id);
    // The request head arrives before its body: nothing says LLM yet.
    let mut start = done.clone();
    start.response = None;
    start.request.body = llmspy::exchange::Body::default();
    start.state = llmspy::exchange::State::InFlight;
    live.send(CaptureMsg::Start(Box::new(start)), |e| {
        matches!(e, StoreEvent::Started(_))
    });
    press(&mut live.app, "<enter>");
    let screen = render(&mut live.app, 160, 48);
    assert!(
        screen.contains("── Request"),
        "in flight, Raw is all there is: {screen}"
    );
    // The body raises no event of its own; the response head's event,
    // which follows it through the same channel, shows both.
    let body = done.request.body.bytes.clone();
    live.recorder.send(CaptureMsg::RequestData {
        id,
        len: body.len(),
        data: Some(Bytes::from(body)),
    });
    live.send(
        CaptureMsg::ResponseHead {
            id,
            response: Box::new(done.response.clone().expect("response")),
            at_us: 100,
        },
        |e| matches!(e, StoreEvent::Updated(_)),
    );
    live.send(
        CaptureMsg::Finish {
            id,
            at_us: 400,
            failure: None,
        },
        |e| matches!(e, StoreEvent::Finished(_)),
    );
    let screen = render(&mut live.app, 160, 48);
    assert!(
        screen.contains("── Messages (1)"),
        "the Messages tab, not Raw: {screen}"
    );
    // A tab the user picks sticks.
    press(&mut live.app, "4");
    let screen = render(&mut live.app, 160, 48);
    assert!(screen.contains("── Request"), "{screen}");
}

#[test]
fn a_refused_request_is_said_in_the_status_bar() {
    let mut live = Live::new();
    live.send(
        CaptureMsg::Refused(capture::Refusal {
            rule: capture::RefusalRule::Origin,
            reason: "refused a control request from Origin http://evil.example".into(),
        }),
        |e| matches!(e, StoreEvent::Refused(_)),
    );
    let screen = render(&mut live.app, 120, 20);
    assert!(
        screen.contains("refused a control request from Origin http://evil.example"),
        "{screen}"
    );
}
