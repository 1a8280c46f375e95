//! When each event of a streamed reply arrived, and the numbers people ask
//! of a stream: time to first token, output tokens per second, and the
//! longest stall.

use super::model::{Timeline, TimelineEvent};
use crate::exchange::{Chunk, Exchange};
use crate::sse::Arrivals;

/// One decoded stream event, as a provider parser reports it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StreamEvent {
    pub offset: u64,
    /// Offset one past the event's last byte.
    pub end: u64,
    pub kind: String,
    pub summary: String,
    /// True when the event carried output (text, thinking, tool arguments).
    pub token: bool,
}

impl StreamEvent {
    pub fn new(offset: u64, end: u64, kind: impl Into<String>, summary: impl Into<String>) -> Self {
        StreamEvent {
            offset,
            end,
            kind: kind.into(),
            summary: summary.into(),
            token: false,
        }
    }

    /// Mark the event as carrying output tokens.
    pub fn token(mut self) -> Self {
        self.token = true;
        self
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Build the timeline of `events` over the exchange's chunk stamps.
pub(crate) fn build(
    ex: &Exchange,
    arrivals: Arrivals,
    events: &[StreamEvent],
    output_tokens: Option<u64>,
) -> Timeline {
    let first_chunk = ex.chunks.iter().map(|c| c.at_us).min();
    let times: Vec<Option<u64>> = events.iter().map(|e| arrivals.at_us(e.end)).collect();
    let timeline_events = events
        .iter()
        .zip(&times)
        .map(|(e, at)| TimelineEvent {
            offset: e.offset,
            elapsed_ms: at
                .zip(first_chunk)
                .map(|(at, first)| ms(at.saturating_sub(first))),
            kind: e.kind.clone(),
            summary: e.summary.clone(),
        })
        .collect();
    let token_times: Vec<u64> = events
        .iter()
        .zip(&times)
        .filter(|(e, _)| e.token)
        .filter_map(|(_, at)| *at)
        .collect();
    let (gap, gap_at) = largest_gap(&ex.chunks);
    Timeline {
        events: timeline_events,
        ttft_ms: token_times
            .iter()
            .min()
            .map(|first| ms(first.saturating_sub(ex.timings.request_done_us.unwrap_or(0)))),
        output_tokens_per_s: rate(&token_times, output_tokens),
        largest_gap_ms: gap.map(ms),
        largest_gap_at_ms: gap_at
            .zip(first_chunk)
            .map(|(at, f)| ms(at.saturating_sub(f))),
        approximate: arrivals.is_approximate(),
    }
}

/// Tokens per second between the first and the last output event.
fn rate(token_times: &[u64], output_tokens: Option<u64>) -> Option<f64> {
    let first = token_times.iter().min()?;
    let last = token_times.iter().max()?;
    let span_us = last.checked_sub(*first).filter(|s| *s > 0)?;
    let tokens = output_tokens.filter(|t| *t > 0)?;
    let per_s = tokens as f64 * 1_000_000.0 / span_us as f64;
    Some((per_s * 10.0).round() / 10.0)
}

/// The longest pause between consecutive chunks, and when it ended.
fn largest_gap(chunks: &[Chunk]) -> (Option<u64>, Option<u64>) {
    let mut times: Vec<u64> = chunks.iter().map(|c| c.at_us).collect();
    times.sort_unstable();
    times
        .windows(2)
        .map(|w| (w[1] - w[0], w[1]))
        .max_by_key(|(gap, _)| *gap)
        .map_or((None, None), |(gap, at)| (Some(gap), Some(at)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{Timings, Via};

    fn exchange(chunks: Vec<Chunk>) -> Exchange {
        Exchange::builder()
            .via(Via::Other)
            .host("h")
            .chunks(chunks)
            .timings(Timings {
                request_done_us: Some(1_000),
                ..Timings::default()
            })
            .build()
    }

    #[test]
    fn numbers_of_a_stream() {
        let chunks = vec![
            Chunk {
                at_us: 50_000,
                offset: 0,
                len: 10,
            },
            Chunk {
                at_us: 60_000,
                offset: 10,
                len: 10,
            },
            Chunk {
                at_us: 560_000,
                offset: 20,
                len: 10,
            },
        ];
        let ex = exchange(chunks);
        let events = vec![
            StreamEvent::new(0, 10, "start", "s"),
            StreamEvent::new(10, 20, "delta", "a").token(),
            StreamEvent::new(20, 30, "delta", "b").token(),
        ];
        let t = build(&ex, Arrivals::new(&ex.chunks), &events, Some(100));
        let elapsed: Vec<_> = t.events.iter().map(|e| e.elapsed_ms).collect();
        assert_eq!(elapsed, vec![Some(0.0), Some(10.0), Some(510.0)]);
        assert_eq!(
            t.ttft_ms,
            Some(59.0),
            "first token at 60 ms, request done at 1 ms"
        );
        assert_eq!(t.output_tokens_per_s, Some(200.0), "100 tokens in 0.5 s");
        assert_eq!(t.largest_gap_ms, Some(500.0));
        assert_eq!(t.largest_gap_at_ms, Some(510.0));
        assert!(!t.approximate);
    }

    #[test]
    fn no_chunks_no_numbers() {
        let ex = exchange(vec![]);
        let events = vec![StreamEvent::new(0, 10, "delta", "a").token()];
        let t = build(&ex, Arrivals::new(&ex.chunks), &events, Some(5));
        assert_eq!(t.events[0].elapsed_ms, None);
        assert_eq!(
            (t.ttft_ms, t.output_tokens_per_s, t.largest_gap_ms),
            (None, None, None)
        );
    }
}
