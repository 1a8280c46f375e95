//! The clients: concurrent SSE streams (some cut by the upstream, some
//! abandoned by the client), the two big transfers, and the checks of what
//! llmspy captured.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::upstream::{event, pattern};

pub const STREAMS: usize = 1000;
pub const RESETS: usize = 100;
pub const VANISHING: usize = 100;
const EVENTS: usize = 100;
const EVENT_BYTES: usize = 100;
/// Where the faults strike: half way.
const FAULT_AT: usize = EVENTS / 2;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Whole,
    Reset,
    Vanish,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Whole => "whole",
            Kind::Reset => "reset",
            Kind::Vanish => "vanish",
        }
    }
}

fn expected_body() -> Vec<u8> {
    (0..EVENTS).flat_map(|i| event(i, EVENT_BYTES)).collect()
}

fn client(proxy: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(proxy).expect("proxy"))
        .http1_only()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// What the clients saw.
pub struct Report {
    whole_ok: usize,
    whole_bad: usize,
    bytes: u64,
    resets_seen: usize,
    vanished: usize,
    ttfb_ms: Vec<f64>,
}

/// What the capture held, per kind: as expected / not.
pub struct Captured {
    whole: (usize, usize),
    reset: (usize, usize),
    vanish: (usize, usize),
}

pub async fn run(proxy: &str, up: SocketAddr) -> Report {
    let http = client(proxy);
    let expected = std::sync::Arc::new(expected_body());
    let mut tasks = JoinSet::new();
    let kinds = std::iter::repeat_n(Kind::Whole, STREAMS)
        .chain(std::iter::repeat_n(Kind::Reset, RESETS))
        .chain(std::iter::repeat_n(Kind::Vanish, VANISHING));
    for (i, kind) in kinds.enumerate() {
        let reset = if kind == Kind::Reset {
            format!("&reset_after={FAULT_AT}")
        } else {
            String::new()
        };
        let url = format!(
            "http://{up}/sse?n={EVENTS}&size={EVENT_BYTES}&gap_ms=10&i={i}&kind={}{reset}",
            kind.name()
        );
        let (http, expected) = (http.clone(), expected.clone());
        tasks.spawn(async move { (kind, one_stream(&http, &url, kind, &expected).await) });
    }
    let mut report = Report {
        whole_ok: 0,
        whole_bad: 0,
        bytes: 0,
        resets_seen: 0,
        vanished: 0,
        ttfb_ms: Vec::new(),
    };
    while let Some(Ok((kind, (ok, bytes, ttfb)))) = tasks.join_next().await {
        report.bytes += bytes;
        report.ttfb_ms.extend(ttfb);
        match (kind, ok) {
            (Kind::Whole, true) => report.whole_ok += 1,
            (Kind::Whole, false) => report.whole_bad += 1,
            (Kind::Reset, true) => report.resets_seen += 1,
            (Kind::Vanish, true) => report.vanished += 1,
            _ => {}
        }
    }
    report
}

/// One stream: (went as its kind says, bytes read, time to first byte).
async fn one_stream(
    http: &reqwest::Client,
    url: &str,
    kind: Kind,
    expected: &[u8],
) -> (bool, u64, Option<f64>) {
    let started = Instant::now();
    let resp = match http.get(url).send().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{url}: {e:?}");
            return (false, 0, None);
        }
    };
    let mut body = resp.bytes_stream();
    let mut got = Vec::with_capacity(expected.len());
    let mut ttfb = None;
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            // Only a reset stream may end in an error.
            let ok = kind == Kind::Reset && got == expected[..got.len()];
            return (ok, got.len() as u64, ttfb);
        };
        ttfb.get_or_insert_with(|| started.elapsed().as_secs_f64() * 1000.0);
        got.extend_from_slice(&chunk);
        if kind == Kind::Vanish && got.len() >= FAULT_AT * EVENT_BYTES {
            // Hang up without reading the rest.
            return (true, got.len() as u64, ttfb);
        }
    }
    (
        kind == Kind::Whole && got == expected,
        got.len() as u64,
        ttfb,
    )
}

fn kind_of(ex: &Value) -> Option<&str> {
    let url = ex["url"].as_str()?;
    url.split("kind=").nth(1)?.split('&').next()
}

fn failure(ex: &Value) -> &str {
    ex["failure"]["kind"].as_str().unwrap_or("")
}

pub fn check_capture(exchanges: &[Value]) -> Captured {
    let expected = String::from_utf8(expected_body()).expect("text");
    let mut c = Captured {
        whole: (0, 0),
        reset: (0, 0),
        vanish: (0, 0),
    };
    for ex in exchanges {
        let (slot, ok) = match kind_of(ex) {
            Some("whole") => (
                &mut c.whole,
                ex["state"] == "complete"
                    && ex["response"]["body"]["text"].as_str() == Some(expected.as_str()),
            ),
            Some("reset") => (&mut c.reset, failure(ex) == "upstream_reset"),
            Some("vanish") => (&mut c.vanish, failure(ex) == "client_gone"),
            _ => continue,
        };
        if ok {
            slot.0 += 1;
        } else {
            slot.1 += 1;
        }
    }
    c
}

impl Report {
    pub fn total(&self) -> usize {
        STREAMS + RESETS + VANISHING
    }

    pub fn all_ok(&self, c: &Captured) -> bool {
        self.whole_ok == STREAMS
            && self.resets_seen == RESETS
            && self.vanished == VANISHING
            && c.whole == (STREAMS, 0)
            && c.reset == (RESETS, 0)
            && c.vanish == (VANISHING, 0)
    }

    pub fn print(&self, elapsed: Duration, c: &Captured) {
        let mut ttfb = self.ttfb_ms.clone();
        ttfb.sort_by(f64::total_cmp);
        let pct = |p: f64| ttfb.get(((ttfb.len() as f64 - 1.0) * p) as usize).copied();
        println!(
            "{:<34} {:>10} {:>12} {:>16}",
            "streams", "clients ok", "captured ok", "captured wrong"
        );
        println!(
            "{:<34} {:>10} {:>12} {:>16}",
            format!("{STREAMS} whole, {EVENTS} events each"),
            format!("{}/{STREAMS}", self.whole_ok),
            c.whole.0,
            c.whole.1
        );
        println!(
            "{:<34} {:>10} {:>12} {:>16}",
            format!("{RESETS} reset by the upstream"),
            format!("{}/{RESETS}", self.resets_seen),
            c.reset.0,
            c.reset.1
        );
        println!(
            "{:<34} {:>10} {:>12} {:>16}",
            format!("{VANISHING} clients gone mid-stream"),
            format!("{}/{VANISHING}", self.vanished),
            c.vanish.0,
            c.vanish.1
        );
        println!(
            "\n{} streams in {:.2} s, {:.1} MiB delivered; time to first byte p50 {:.1} ms, p99 {:.1} ms",
            self.total(),
            elapsed.as_secs_f64(),
            self.bytes as f64 / crate::MIB,
            pct(0.5).unwrap_or(0.0),
            pct(0.99).unwrap_or(0.0)
        );
    }
}

pub struct Transfer {
    pub seconds: f64,
    pub identical: bool,
}

pub struct Big {
    pub download: Transfer,
    pub upload: Transfer,
}

pub async fn big_transfers(proxy: &str, up: SocketAddr, total: u64) -> Big {
    let http = client(proxy);
    let started = Instant::now();
    let mut offset = 0u64;
    let mut identical = true;
    let resp = http
        .get(format!("http://{up}/download?bytes={total}&kind=big"))
        .send()
        .await
        .expect("download");
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            identical = false;
            break;
        };
        identical &= chunk.iter().zip(offset..).all(|(b, o)| *b == pattern(o));
        offset += chunk.len() as u64;
    }
    let download = Transfer {
        seconds: started.elapsed().as_secs_f64(),
        identical: identical && offset == total,
    };

    let started = Instant::now();
    const CHUNK: u64 = 64 * 1024;
    let chunks = futures_util::stream::iter((0..total.div_ceil(CHUNK)).map(move |i| {
        let start = i * CHUNK;
        let data: Vec<u8> = (start..(start + CHUNK).min(total)).map(pattern).collect();
        Ok::<_, std::io::Error>(data)
    }));
    let answer = http
        .post(format!("http://{up}/upload?kind=big"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("upload")
        .text()
        .await
        .unwrap_or_default();
    let upload = Transfer {
        seconds: started.elapsed().as_secs_f64(),
        identical: answer == format!("ok {total}"),
    };
    Big { download, upload }
}

pub struct BigCaptured {
    pub download: bool,
    pub upload: bool,
}

/// Both big exchanges complete, their full size counted, their copy cut.
pub fn check_big_capture(exchanges: &[Value], total: u64) -> BigCaptured {
    let find = |path: &str, side: &str| {
        exchanges.iter().any(|ex| {
            let body = &ex[side]["body"];
            ex["url"].as_str().is_some_and(|u| u.contains(path))
                && ex["state"] == "complete"
                && body["size"].as_u64() == Some(total)
                && body["truncated"] == true
        })
    };
    BigCaptured {
        download: find("/download", "response"),
        upload: find("/upload", "request"),
    }
}
