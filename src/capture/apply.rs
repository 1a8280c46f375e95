//! Applying one capture message to the store: pure store manipulation, no
//! IO. The capture task calls it for each message of a batch under one
//! write lock, so it stays cheap: no parsing, no copies of bodies.

use bytes::Bytes;
use tokio::sync::oneshot;

use super::StoreEvent;
use super::store::Store;
use super::writer::CaptureMsg;
use crate::exchange::{
    Body, Chunk, Exchange, ExchangeId, Failure, Headers, Response, State, header,
};

/// Header added to the recorded response when the capture cap cut the body.
pub const TRUNCATED_HEADER: &str = "x-llmspy-stream-truncated";

/// What a batch of messages produced: events to publish, then flushes to
/// answer once the sinks have what came before them.
#[derive(Debug, Default)]
pub(super) struct Applied {
    pub events: Vec<StoreEvent>,
    pub flushes: Vec<oneshot::Sender<()>>,
}

impl Applied {
    pub fn with_capacity(n: usize) -> Self {
        Applied {
            events: Vec::with_capacity(n),
            flushes: Vec::new(),
        }
    }
}

/// Apply one message.
pub(super) fn apply(store: &mut Store, msg: CaptureMsg, out: &mut Applied) {
    let events = &mut out.events;
    match msg {
        CaptureMsg::Start(ex) => started(store, *ex, events),
        CaptureMsg::Insert(ex) => {
            let id = ex.id;
            started(store, *ex, events);
            events.push(StoreEvent::Finished(id));
        }
        CaptureMsg::RequestData { id, data, len } => request_data(store, id, data, len),
        CaptureMsg::RequestDone { id, at_us } => {
            with_exchange(store, id, |ex| ex.timings.request_done_us = Some(at_us));
        }
        CaptureMsg::ResponseHead {
            id,
            response,
            at_us,
        } => response_head(store, id, *response, at_us, events),
        CaptureMsg::ResponseData {
            id,
            data,
            len,
            at_us,
            last,
        } => {
            response_data(store, id, Data { data, len, at_us }, events);
            if last {
                finished(store, id, at_us, None, events);
            }
        }
        CaptureMsg::Trailers {
            id,
            of_response,
            trailers: fields,
        } => trailers(store, id, of_response, fields, events),
        CaptureMsg::Finish { id, at_us, failure } => finished(store, id, at_us, failure, events),
        CaptureMsg::FinishOpen { failure } => finish_open(store, &failure, events),
        CaptureMsg::Flush(done) => out.flushes.push(done),
        CaptureMsg::WebSocketMessage { id, message } => {
            if let Some(grown) = super::websocket::message(store, id, message) {
                store.grew(grown);
                push_updated(events, id);
            }
        }
        CaptureMsg::WebSocketNote { id, note } => super::websocket::note(store, id, note),
        CaptureMsg::Resent { id, at_us } => {
            with_exchange(store, id, |ex| ex.timings.resent_us = Some(at_us));
        }
        CaptureMsg::Mocked { id, expectation_id } => with_exchange(store, id, |ex| {
            ex.source = crate::exchange::Source::Mock { expectation_id };
        }),
        CaptureMsg::Refused(refusal) => {
            store.refusals_mut().note(&refusal);
            events.push(StoreEvent::Refused(refusal.reason));
        }
        CaptureMsg::Clear(ids) => cleared(store, ids, events),
    }
}

fn started(store: &mut Store, ex: Exchange, out: &mut Vec<StoreEvent>) {
    let id = ex.id;
    store.insert(ex);
    out.push(StoreEvent::Started(id));
}

fn request_data(store: &mut Store, id: ExchangeId, data: Option<Bytes>, len: usize) {
    let cap = store.limits().max_body_capture_bytes;
    let Some(r) = store.get_mut(id) else { return };
    let request = &mut r.exchange.request;
    let before = request.body.bytes.len();
    append(
        &mut request.body,
        data.as_deref(),
        len,
        cap,
        &request.headers,
    );
    let grown = request.body.bytes.len() - before;
    store.grew(grown);
}

fn response_head(
    store: &mut Store,
    id: ExchangeId,
    response: Response,
    at_us: u64,
    out: &mut Vec<StoreEvent>,
) {
    let Some(r) = store.get_mut(id) else { return };
    r.exchange.timings.response_head_us = Some(at_us);
    // llmspy's own error answers arrive with their body.
    let before = r.exchange.captured_bytes();
    r.exchange.response = Some(response);
    let after = r.exchange.captured_bytes();
    if r.exchange.state == State::InFlight {
        r.exchange.state = State::Streaming;
    }
    store.resized(before, after);
    push_updated(out, id);
}

/// A body's trailers, added to any it had (HTTP/1.1 allows a trailer
/// field to come more than once).
fn trailers(
    store: &mut Store,
    id: ExchangeId,
    of_response: bool,
    fields: Headers,
    out: &mut Vec<StoreEvent>,
) {
    let Some(r) = store.get_mut(id) else { return };
    let body = match of_response {
        true => r.exchange.response.as_mut().map(|resp| &mut resp.body),
        false => Some(&mut r.exchange.request.body),
    };
    if let Some(body) = body {
        body.trailers.extend(&fields);
        push_updated(out, id);
    }
}

/// A frame of a response body (`data` is None once past the cap).
struct Data {
    data: Option<Bytes>,
    len: usize,
    at_us: u64,
}

fn response_data(store: &mut Store, id: ExchangeId, frame: Data, out: &mut Vec<StoreEvent>) {
    let limits = store.limits();
    let Some(r) = store.get_mut(id) else { return };
    let ex = &mut r.exchange;
    let Some(resp) = ex.response.as_mut() else {
        return;
    };
    // One look at the head per frame: the cap and the tail both follow it.
    let stream = crate::exchange::is_event_stream(header(&resp.headers, "content-type"));
    let cap = limits.cap_for(stream);
    let before = resp.body.kept_len();
    let offset = resp.body.wire_size;
    match frame.data.as_deref() {
        // Past the cap a stream keeps its last bytes: its usage is there.
        Some(d) if stream => resp.body.append_keeping_tail(d, cap),
        data => append(&mut resp.body, data, frame.len, cap, &resp.headers),
    }
    if resp.body.truncated && !has_header(&resp.headers, TRUNCATED_HEADER) {
        resp.headers.push(TRUNCATED_HEADER, "true");
    }
    let after = resp.body.kept_len();
    ex.timings.first_byte_us.get_or_insert(frame.at_us);
    ex.chunks.push(Chunk {
        at_us: frame.at_us,
        offset,
        len: frame.len as u64,
    });
    store.resized(before, after);
    push_updated(out, id);
}

fn finished(
    store: &mut Store,
    id: ExchangeId,
    at_us: u64,
    failure: Option<Failure>,
    out: &mut Vec<StoreEvent>,
) {
    let Some(r) = store.get_mut(id) else { return };
    // The first verdict stands: a late one (a body dropped after shutdown
    // finalised its exchange) must not reopen or flip it.
    if r.exchange.state.is_finished() {
        return;
    }
    finish(&mut r.exchange, at_us, failure);
    out.push(StoreEvent::Finished(id));
}

fn finish_open(store: &mut Store, failure: &Failure, out: &mut Vec<StoreEvent>) {
    let now = chrono::Utc::now();
    let open: Vec<ExchangeId> = store
        .iter()
        .filter(|r| !r.exchange.state.is_finished())
        .map(|r| r.exchange.id)
        .collect();
    for id in open {
        if let Some(r) = store.get_mut(id) {
            let ran = (now - r.exchange.started_at).num_microseconds();
            let at_us = ran.map_or(0, |us| us.max(0) as u64);
            finish(&mut r.exchange, at_us, Some(failure.clone()));
            out.push(StoreEvent::Finished(id));
        }
    }
}

fn cleared(store: &mut Store, ids: Option<Vec<ExchangeId>>, out: &mut Vec<StoreEvent>) {
    let removed = match ids {
        None => store.retain(|_| false),
        Some(ids) => store.retain(|r| !ids.contains(&r.exchange.id)),
    };
    store.count_cleared(removed);
    out.push(StoreEvent::Cleared);
}

fn finish(ex: &mut Exchange, at_us: u64, failure: Option<Failure>) {
    ex.timings.end_us = Some(at_us);
    ex.state = match failure {
        Some(f) => State::Failed(f),
        None => State::Complete,
    };
    // Growth reserved spare capacity; give it back now the body is final.
    ex.request.body.bytes.shrink_to_fit();
    ex.chunks.shrink_to_fit();
    if let Some(resp) = ex.response.as_mut() {
        resp.body.bytes.shrink_to_fit();
    }
}

/// One `Updated` for a run of frames of one exchange in a batch: readers
/// re-read the store, so the repeats said nothing, and a 1 MiB body in
/// 16 KiB frames filled the event channel 64 times faster than it needed
/// to (a consumer that falls 8,192 events behind skips some).
fn push_updated(out: &mut Vec<StoreEvent>, id: ExchangeId) {
    if out.last() != Some(&StoreEvent::Updated(id)) {
        out.push(StoreEvent::Updated(id));
    }
}

fn has_header(headers: &Headers, name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Change exchange `id`'s record, if the store still holds it.
fn with_exchange(store: &mut Store, id: u64, change: impl FnOnce(&mut crate::exchange::Exchange)) {
    if let Some(r) = store.get_mut(id) {
        change(&mut r.exchange);
    }
}

fn append(body: &mut Body, data: Option<&[u8]>, len: usize, cap: usize, head: &Headers) {
    match data {
        Some(d) => {
            // A declared length is room made once: growing by doubling
            // instead copies the body again at each step and touches
            // twice the memory (about 7% of llmspy's CPU in a 100 MB download).
            if body.bytes.capacity() == 0
                && let Some(n) =
                    header(head, "content-length").and_then(|v| v.trim().parse::<u64>().ok())
            {
                body.bytes.reserve_exact(n.min(cap as u64) as usize);
            }
            body.append_capped(d, cap)
        }
        None => {
            body.wire_size += len as u64;
            body.truncated = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Limits;
    use crate::exchange::*;

    fn start(store: &mut Store, id: ExchangeId) {
        let mut out = Applied::default();
        let ex = super::super::store::tests_support::sample(id);
        apply(store, CaptureMsg::Start(Box::new(ex)), &mut out);
    }

    fn respond(store: &mut Store, id: ExchangeId, headers: Headers, out: &mut Applied) {
        let head = Response {
            status: 200,
            version: "HTTP/1.1".into(),
            headers,
            body: Body::default(),
        };
        let msg = CaptureMsg::ResponseHead {
            id,
            response: Box::new(head),
            at_us: 1,
        };
        apply(store, msg, out);
    }

    fn response_body(store: &Store, id: ExchangeId) -> &Body {
        let r = store.get(id).expect("kept");
        &r.exchange.response.as_ref().expect("head").body
    }

    /// The frame that ends a body finishes its exchange in the same
    /// message: the body kept, then the verdict, as two messages would.
    #[test]
    fn a_last_frame_keeps_its_bytes_and_finishes_the_exchange() {
        let mut store = Store::new(Limits::default());
        start(&mut store, 1);
        let mut out = Applied::default();
        respond(&mut store, 1, Headers::new(), &mut out);
        out.events.clear();
        let msg = CaptureMsg::ResponseData {
            id: 1,
            data: Some(Bytes::from_static(b"done")),
            len: 4,
            at_us: 30,
            last: true,
        };
        apply(&mut store, msg, &mut out);
        assert_eq!(
            out.events,
            [StoreEvent::Updated(1), StoreEvent::Finished(1)]
        );
        let r = &store.get(1).expect("kept").exchange;
        assert_eq!(r.response.as_ref().expect("head").body.bytes, b"done");
        assert!(matches!(r.state, State::Complete), "{:?}", r.state);
        assert_eq!(r.timings.end_us, Some(30));
    }

    #[test]
    fn streaming_cap_marks_truncated_header() {
        let mut store = Store::new(Limits {
            max_streaming_capture_bytes: 4,
            ..Limits::default()
        });
        start(&mut store, 1);
        let mut out = Applied::default();
        let head = Response {
            status: 200,
            version: "HTTP/1.1".into(),
            headers: Headers::from([("content-type", "text/event-stream")]),
            body: Body::default(),
        };
        apply(
            &mut store,
            CaptureMsg::ResponseHead {
                id: 1,
                response: Box::new(head),
                at_us: 5,
            },
            &mut out,
        );
        for at in [10, 20] {
            apply(
                &mut store,
                CaptureMsg::ResponseData {
                    id: 1,
                    data: Some(Bytes::from_static(b"abc")),
                    len: 3,
                    at_us: at,
                    last: false,
                },
                &mut out,
            );
        }
        let r = store.get(1).map(|r| r.exchange.clone()).expect("stored");
        let resp = r.response.expect("response");
        assert_eq!(resp.body.bytes, b"abca");
        assert_eq!(resp.body.wire_size, 6);
        assert!(resp.body.truncated);
        assert_eq!(header(&resp.headers, TRUNCATED_HEADER), Some("true"));
        assert_eq!(r.chunks.len(), 2);
        assert_eq!(r.chunks[1].offset, 3);
        assert_eq!(r.timings.first_byte_us, Some(10));
    }

    #[test]
    fn a_run_of_frames_of_one_exchange_is_one_update() {
        let mut store = Store::new(Limits::default());
        start(&mut store, 1);
        start(&mut store, 2);
        let mut out = Applied::default();
        for id in [1, 2] {
            respond(&mut store, id, Headers::new(), &mut out);
        }
        out.events.clear();
        for id in [1, 1, 1, 2, 2, 1] {
            let msg = CaptureMsg::ResponseData {
                id,
                data: Some(Bytes::from_static(b"abc")),
                len: 3,
                at_us: 10,
                last: false,
            };
            apply(&mut store, msg, &mut out);
        }
        assert_eq!(
            out.events,
            [
                StoreEvent::Updated(1),
                StoreEvent::Updated(2),
                StoreEvent::Updated(1)
            ]
        );
        assert_eq!(store.get(1).expect("kept").exchange.chunks.len(), 4);
    }

    /// A body with a declared length is given its room once, capped: no
    /// copy on growth, and nothing spare once it is all in.
    #[test]
    fn a_declared_length_is_reserved_once_and_never_past_the_cap() {
        let mut store = Store::new(Limits {
            max_body_capture_bytes: 10_000,
            ..Limits::default()
        });
        let mut out = Applied::default();
        for (id, declared) in [(1, 3000), (2, 50_000)] {
            start(&mut store, id);
            let declares = Headers::from([("Content-Length", format!(" {declared}"))]);
            respond(&mut store, id, declares, &mut out);
            let mut capacities = Vec::new();
            for at_us in 0..(declared / 1000) {
                let frame = Bytes::from(vec![b'x'; 1000]);
                let msg = CaptureMsg::ResponseData {
                    id,
                    data: Some(frame),
                    len: 1000,
                    at_us,
                    last: false,
                };
                apply(&mut store, msg, &mut out);
                capacities.push(response_body(&store, id).bytes.capacity());
            }
            let body = response_body(&store, id);
            let room = declared.min(10_000) as usize;
            assert!(
                capacities.iter().all(|c| *c == room),
                "{id}: {capacities:?}"
            );
            assert_eq!(body.bytes.len(), room);
            assert_eq!(body.wire_size, declared);
            assert_eq!(body.truncated, declared > 10_000);
        }
    }

    /// A body shorter than it declared gives the spare room back when it ends.
    #[test]
    fn a_body_that_ends_short_of_its_declared_length_keeps_only_what_came() {
        let mut store = Store::new(Limits::default());
        start(&mut store, 1);
        store.get_mut(1).expect("kept").exchange.request.headers =
            Headers::from([("content-length", "100000")]);
        let mut out = Applied::default();
        let msg = CaptureMsg::RequestData {
            id: 1,
            data: Some(Bytes::from_static(b"only this")),
            len: 9,
        };
        apply(&mut store, msg, &mut out);
        let body = &store.get(1).expect("kept").exchange.request.body;
        assert_eq!(body.bytes.capacity(), 100_000);
        let msg = CaptureMsg::Finish {
            id: 1,
            at_us: 9,
            failure: None,
        };
        apply(&mut store, msg, &mut out);
        let body = &store.get(1).expect("kept").exchange.request.body;
        assert_eq!(body.bytes, b"only this");
        assert!(body.bytes.capacity() < 1000, "{}", body.bytes.capacity());
    }
}
