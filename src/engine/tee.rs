//! A body that forwards every frame at once and hands a copy to capture.
//!
//! The copy is a refcount bump on the frame's `Bytes`. Past the capture cap
//! a bulk body reports only its length, in runs; a stream of events still
//! hands over each frame, for the tail capture keeps (its usage is at its
//! end). End of stream, errors, the idle timeout and an early drop (the
//! client went away) each end the exchange in the store.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use super::BoxError;
use crate::capture::{CaptureMsg, Recorder};
use crate::exchange::{ExchangeId, Failure, FailureKind};

/// Which side of the exchange a tee copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

mod errors;
pub use errors::{ClientBodyBroke, ClientStalled, IdleTimeout};

pin_project! {
    #[project = TeeProj]
    pub struct Tee<B> {
        #[pin]
        inner: B,
        side: Side,
        id: ExchangeId,
        recorder: Recorder,
        started: Instant,
        sent: usize,
        cap: usize,
        // Past the cap, report lengths in runs of `REPORT_PAST_CAP` rather
        // than a stamped message per frame (bodies that are not streams of
        // events, whose frames' times nobody reads); `unreported` holds
        // the run so far.
        runs_past_cap: bool,
        unreported: usize,
        // The body's exact length when known up front: hyper stops polling
        // once that many bytes went out, so reaching it counts as the end.
        expected: Option<u64>,
        idle_limit: Option<Duration>,
        // Made the first time the body has to be waited for: most small
        // bodies arrive with their head and never need a timer at all.
        #[pin]
        idle: Option<Sleep>,
        // When the current wait began, while the last poll found the inner
        // body pending: the idle clock only runs while waiting on the
        // sender, not while the receiving side is slow to ask for more. The
        // idle timer is not moved on each frame (a timer-wheel update per
        // frame, under load a measurable share of the relay's time): when
        // it fires early it is re-armed for this instant plus the limit.
        wait_began: Option<tokio::time::Instant>,
        done: bool,
        // Told when the body has ended (or the tee is dropped): the
        // upstream response deadline starts once the request is sent.
        ended: Option<tokio::sync::oneshot::Sender<()>>,
    }

    impl<B> PinnedDrop for Tee<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.done {
                return;
            }
            report_unreported(this.side, *this.id, this.recorder, this.unreported, *this.started);
            if *this.side == Side::Request {
                return;
            }
            let at_us = elapsed_us(*this.started);
            if *this.expected == Some(*this.sent as u64) {
                this.recorder.send(CaptureMsg::Finish { id: *this.id, at_us, failure: None });
                return;
            }
            let failure = if std::thread::panicking() {
                super::guard::internal_error()
            } else if let Some(stalled) = super::stream_deadline::timed_out() {
                stalled
            } else {
                super::guard::client_gone(this.started.elapsed(), "before the response finished")
            };
            this.recorder.send(CaptureMsg::Finish { id: *this.id, at_us, failure: Some(failure) });
        }
    }
}

impl<B: Body> Tee<B> {
    pub fn new(
        inner: B,
        side: Side,
        id: ExchangeId,
        recorder: Recorder,
        started: Instant,
        cap: usize,
        idle_limit: Option<Duration>,
    ) -> Self {
        // A body over before it began (the answer to a HEAD over HTTP/2, a
        // 304) has nothing to come, whatever its `content-length` says
        // (hyper takes the size hint from it), and hyper drops it unpolled.
        let expected = if inner.is_end_stream() {
            Some(0)
        } else {
            inner.size_hint().exact()
        };
        Tee {
            expected,
            inner,
            side,
            id,
            recorder,
            started,
            sent: 0,
            cap,
            runs_past_cap: false,
            unreported: 0,
            idle: None,
            idle_limit,
            wait_began: None,
            done: false,
            ended: None,
        }
    }

    /// Whether the body may be longer than the cap (its length is not
    /// declared, or declared above it).
    pub fn may_pass_cap(&self) -> bool {
        self.expected.is_none_or(|n| n > self.cap as u64)
    }

    /// Past the cap, report the body's length in runs instead of a stamped
    /// chunk per frame: for a body that is not a stream of events.
    pub fn lengths_in_runs_past_cap(mut self) -> Self {
        self.runs_past_cap = true;
        self
    }

    /// Signal `tx` when the body has been read to its end (at once for a
    /// body that is empty from the start).
    pub fn signal_end(mut self, tx: tokio::sync::oneshot::Sender<()>) -> Self {
        if self.inner.is_end_stream() {
            let _ = tx.send(());
        } else {
            self.ended = Some(tx);
        }
        self
    }
}

pub fn elapsed_us(started: Instant) -> u64 {
    started.elapsed().as_micros() as u64
}

impl<B> Body for Tee<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let polled = this.inner.as_mut().poll_frame(cx);
        let Poll::Ready(next) = polled else {
            let Some(limit) = *this.idle_limit else {
                return Poll::Pending;
            };
            let began = this
                .wait_began
                .get_or_insert_with(tokio::time::Instant::now);
            let deadline = *began + limit;
            if this.idle.is_none() {
                this.idle.set(Some(tokio::time::sleep_until(deadline)));
            }
            if let Some(mut idle) = this.idle.as_mut().as_pin_mut() {
                loop {
                    ready!(idle.as_mut().poll(cx));
                    if tokio::time::Instant::now() >= deadline {
                        break;
                    }
                    // Armed for an earlier wait: this one has time left.
                    idle.as_mut().reset(deadline);
                }
                let error: BoxError = match this.side {
                    Side::Response => Box::new(IdleTimeout(limit)),
                    Side::Request => Box::new(ClientStalled(limit)),
                };
                finish(&mut this, Some(idle_failure(limit)));
                return Poll::Ready(Some(Err(error)));
            }
            return Poll::Pending;
        };
        *this.wait_began = None;
        match next {
            Some(Ok(frame)) => {
                record_frame(&mut this, &frame);
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => {
                let e: BoxError = e.into();
                if *this.side == Side::Request {
                    let broke = ClientBodyBroke::of(&*e);
                    finish(&mut this, Some(broke.0.clone()));
                    return Poll::Ready(Some(Err(Box::new(broke))));
                }
                let failure = Failure::new(
                    FailureKind::UpstreamReset,
                    format!("the stream broke: {}", super::failure::chain(&*e)),
                );
                finish(&mut this, Some(failure));
                Poll::Ready(Some(Err(e)))
            }
            None => {
                finish(&mut this, None);
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Hand a relayed frame's copy to capture, finishing the exchange with the
/// body's last frame.
fn record_frame<B: Body>(this: &mut TeeProj<'_, B>, frame: &Frame<Bytes>) {
    // A body that knows it has ended (a chunked HTTP/1.1 body after its
    // last chunk) may never be polled again: hyper asks `is_end_stream`
    // and drops it. Trailers are always a body's last frame, and hyper's
    // HTTP/1.1 server stops once it has written them.
    let ends = this.inner.is_end_stream() || frame.is_trailers();
    if let Some(data) = frame.data_ref() {
        record_data(this, data, ends);
    } else if let Some(fields) = frame.trailers_ref() {
        this.recorder.send(CaptureMsg::Trailers {
            id: *this.id,
            of_response: *this.side == Side::Response,
            trailers: super::relay::headers_of(fields),
        });
    }
    if !*this.done && ends {
        finish(this, None);
    }
}

fn idle_failure(limit: Duration) -> Failure {
    Failure::new(
        FailureKind::IdleTimeout,
        format!(
            "no data for {}s (streamIdleTimeoutSeconds); the stream was closed",
            limit.as_secs()
        ),
    )
}

/// Bytes past the capture cap reported to capture at a time. Past the cap
/// only the length is kept, and a message per frame (HTTP/2 frames are
/// 8–16 KiB) cost a channel send, a clock read and a stamped chunk in the
/// store each: 12,800 of each for a 100 MB download. Streams of events
/// keep a stamp per frame (the timeline's gaps are read from them).
const REPORT_PAST_CAP: usize = 1024 * 1024;

/// `ends`: the body ends with this frame. A response's last frame then
/// finishes the exchange in the same message.
fn record_data<B>(this: &mut TeeProj<'_, B>, data: &Bytes, ends: bool) {
    let len = data.len();
    if len == 0 {
        return;
    }
    if *this.runs_past_cap && *this.sent >= *this.cap {
        *this.sent += len;
        *this.unreported += len;
        if *this.unreported >= REPORT_PAST_CAP {
            report_unreported(
                this.side,
                *this.id,
                this.recorder,
                this.unreported,
                *this.started,
            );
        }
        return;
    }
    // A refcounted clone: under the cap for the body, past it (a stream of
    // events) for the tail capture keeps, where a stream says its usage.
    let copy = Some(data.clone());
    *this.sent += len;
    let last = ends && *this.side == Side::Response;
    if last {
        // Nothing gathered past the cap to report first: that happens only
        // in the branch above.
        end(this);
    }
    data_msg(
        this.side,
        *this.id,
        this.recorder,
        copy,
        len,
        *this.started,
        last,
    );
}

/// Report the lengths gathered past the cap, if any.
fn report_unreported(
    side: &Side,
    id: ExchangeId,
    recorder: &Recorder,
    unreported: &mut usize,
    started: Instant,
) {
    let len = std::mem::take(unreported);
    if len > 0 {
        data_msg(side, id, recorder, None, len, started, false);
    }
}

fn data_msg(
    side: &Side,
    id: ExchangeId,
    recorder: &Recorder,
    copy: Option<Bytes>,
    len: usize,
    started: Instant,
    last: bool,
) {
    let msg = match side {
        Side::Request => CaptureMsg::RequestData {
            id,
            data: copy,
            len,
        },
        Side::Response => CaptureMsg::ResponseData {
            id,
            data: copy,
            len,
            at_us: elapsed_us(started),
            last,
        },
    };
    recorder.send(msg);
}

/// The body is over: report what is gathered and tell whoever waits.
fn end<B>(this: &mut TeeProj<'_, B>) {
    *this.done = true;
    report_unreported(
        this.side,
        *this.id,
        this.recorder,
        this.unreported,
        *this.started,
    );
    if let Some(tx) = this.ended.take() {
        let _ = tx.send(());
    }
}

fn finish<B>(this: &mut TeeProj<'_, B>, failure: Option<Failure>) {
    end(this);
    let at_us = elapsed_us(*this.started);
    let id = *this.id;
    match this.side {
        Side::Request => this.recorder.send(CaptureMsg::RequestDone { id, at_us }),
        Side::Response => this
            .recorder
            .send(CaptureMsg::Finish { id, at_us, failure }),
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::{BodyExt, StreamBody};
    use tokio::sync::mpsc::UnboundedReceiver;

    use super::*;
    use crate::capture::Limits;

    const CAP: usize = 3_000;
    const FRAME: usize = 1_000;

    /// Relay a body of `frames` frames of `FRAME` bytes through a response
    /// tee (capped at `CAP`), check every byte came out, and return what
    /// the tee told capture.
    async fn relay(frames: usize, runs_past_cap: bool) -> Vec<CaptureMsg> {
        let (recorder, mut rx): (_, UnboundedReceiver<CaptureMsg>) =
            Recorder::bare(Limits::default());
        let chunks = (0..frames)
            .map(|i| Ok::<_, Infallible>(Frame::data(Bytes::from(vec![i as u8; FRAME]))));
        let body = StreamBody::new(futures_util::stream::iter(chunks));
        let tee = Tee::new(body, Side::Response, 7, recorder, Instant::now(), CAP, None);
        let tee = if runs_past_cap {
            tee.lengths_in_runs_past_cap()
        } else {
            tee
        };
        let out = tee.collect().await.expect("body").to_bytes();
        assert_eq!(out.len(), frames * FRAME, "every byte is relayed");
        assert!(
            out.chunks(FRAME)
                .enumerate()
                .all(|(i, c)| c.iter().all(|&b| b == i as u8))
        );
        drained(&mut rx)
    }

    /// Each data message as (bytes handed over, length reported).
    fn data(msgs: &[CaptureMsg]) -> Vec<(Option<usize>, usize)> {
        msgs.iter()
            .filter_map(|m| match m {
                CaptureMsg::ResponseData { data, len, .. } => {
                    Some((data.as_ref().map(Bytes::len), *len))
                }
                _ => None,
            })
            .collect()
    }

    fn finished_well(msgs: &[CaptureMsg]) -> bool {
        matches!(
            msgs.last(),
            Some(CaptureMsg::Finish {
                id: 7,
                failure: None,
                ..
            })
        )
    }

    /// A response tee on exchange 7 with no idle limit.
    fn response_tee<B: Body>(body: B, recorder: Recorder) -> Pin<Box<Tee<B>>> {
        Box::pin(Tee::new(
            body,
            Side::Response,
            7,
            recorder,
            Instant::now(),
            CAP,
            None,
        ))
    }

    fn drained(rx: &mut tokio::sync::mpsc::UnboundedReceiver<CaptureMsg>) -> Vec<CaptureMsg> {
        let mut msgs = Vec::new();
        while let Ok(m) = rx.try_recv() {
            msgs.push(m);
        }
        msgs
    }

    /// A body that knows when it has ended (a declared length, the last
    /// chunk): its last frame finishes the exchange, one message, and
    /// hyper may drop it without polling again.
    #[tokio::test]
    async fn a_body_that_knows_its_end_finishes_with_its_last_frame() {
        let (recorder, mut rx) = Recorder::bare(Limits::default());
        let body = http_body_util::Full::new(Bytes::from_static(b"hello"));
        let mut tee = response_tee(body, recorder);
        let frame = tee.frame().await.expect("a frame").expect("data");
        assert_eq!(frame.data_ref().map(|d| &d[..]), Some(&b"hello"[..]));
        assert!(tee.is_end_stream());
        drop(tee);
        let msgs = drained(&mut rx);
        assert!(
            matches!(
                msgs.as_slice(),
                [CaptureMsg::ResponseData {
                    id: 7,
                    len: 5,
                    last: true,
                    ..
                }]
            ),
            "{msgs:?}"
        );
    }

    /// Trailers are captured, and end the body: hyper's HTTP/1.1 server
    /// writes them and drops the body without asking for more, which is
    /// no client leaving.
    #[tokio::test]
    async fn trailers_are_captured_and_end_the_body() {
        let (recorder, mut rx) = Recorder::bare(Limits::default());
        let mut fields = http::HeaderMap::new();
        fields.insert("grpc-status", http::HeaderValue::from_static("0"));
        let body = http_body_util::Full::new(Bytes::from_static(b"hi"))
            .with_trailers(async move { Some(Ok(fields)) });
        let mut tee = response_tee(body, recorder);
        tee.frame().await.expect("a frame").expect("data");
        let frame = tee.frame().await.expect("a frame").expect("trailers");
        assert!(frame.is_trailers());
        drop(tee);
        let msgs = drained(&mut rx);
        let [
            CaptureMsg::ResponseData { last: false, .. },
            CaptureMsg::Trailers {
                id: 7,
                of_response: true,
                trailers,
            },
            CaptureMsg::Finish { failure: None, .. },
        ] = msgs.as_slice()
        else {
            panic!("{msgs:?}");
        };
        let got: Vec<(&str, &str)> = trailers.iter().collect();
        assert_eq!(got, [("grpc-status", "0")]);
    }

    #[tokio::test]
    async fn past_the_cap_a_stream_of_events_hands_over_each_frame_for_its_tail() {
        let msgs = relay(10, false).await;
        let data = data(&msgs);
        // Every frame, stamped, a refcount each: past the cap capture keeps
        // the stream's last bytes, where its usage is.
        assert_eq!(data, vec![(Some(FRAME), FRAME); 10]);
        assert!(finished_well(&msgs));
    }

    #[tokio::test]
    async fn past_the_cap_a_bulk_body_reports_lengths_in_runs() {
        let frames = 2 * REPORT_PAST_CAP / FRAME + 500;
        let msgs = relay(frames, true).await;
        let data = data(&msgs);
        let (under, past) = data.split_at(CAP / FRAME);
        assert_eq!(under, vec![(Some(FRAME), FRAME); CAP / FRAME]);
        assert!(
            past.iter().all(|(bytes, _)| bytes.is_none()),
            "no bytes past the cap"
        );
        // Two full runs, and what was left reported at the end.
        assert_eq!(past.len(), 3, "{past:?}");
        assert!(past[..2].iter().all(|&(_, len)| len >= REPORT_PAST_CAP));
        let total: usize = data.iter().map(|&(_, len)| len).sum();
        assert_eq!(total, frames * FRAME, "every byte is counted");
        assert!(finished_well(&msgs));
    }

    #[tokio::test]
    async fn a_body_that_ends_under_the_cap_hands_over_every_frame() {
        let msgs = relay(2, true).await;
        assert_eq!(data(&msgs), vec![(Some(FRAME), FRAME); 2]);
        assert!(finished_well(&msgs));
    }
}
