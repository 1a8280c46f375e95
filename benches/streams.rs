//! Many SSE streams at once, direct and through llmspy, side by side in one
//! process: `cargo bench --bench streams [-- STREAMS]` (default 1,000).
//!
//! Each client holds its own keep-alive HTTP/1.1 connection (opened and
//! warmed first, so TLS set-up is not counted), then every stream asks for
//! 20 events 100 ms apart, the starts spread over the first 100 ms. Each event carries the upstream's send
//! time, so the reader measures arrival − send per event; time to first
//! byte is from sending the request to the first chunk. Figures, not
//! asserts. `ROUNDS=N` (default 2) runs N rounds of each path; one round
//! swings by tens of milliseconds on a busy shared machine, so compare
//! builds by how many rounds meet the targets, printed at the end.

// Test and bench scenarios read top to bottom; the length limit is for
// the library and the binary.
#![allow(clippy::too_many_lines)]

#[path = "../tests/it/support/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "../tests/it/support/upstream.rs"]
#[allow(dead_code)]
mod upstream;
#[path = "../tests/it/support/ws_echo.rs"]
mod ws_echo;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use llmspy::capture::Limits;
use proxy::{Options, TestProxy};
use upstream::Upstream;

// The allocator the binary uses.
#[global_allocator]
static GLOBAL: llmspy::alloc::Allocator = llmspy::alloc::Allocator;

const EVENTS: u64 = 20;
const GAP_US: u64 = 100_000;

fn main() {
    let streams: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(streams));
}

/// One client per stream: each gets a connection of its own, as separate
/// agents would.
fn clients(proxy: Option<&TestProxy>, up: &Upstream, n: usize) -> Vec<reqwest::Client> {
    let pem = match proxy {
        Some(p) => std::fs::read(&p.ca_file).expect("ca"),
        None => std::fs::read(&up.ca_file).expect("ca"),
    };
    let cert = reqwest::Certificate::from_pem(&pem).expect("pem");
    (0..n)
        .map(|_| {
            let b = match proxy {
                Some(p) => {
                    reqwest::Client::builder().proxy(reqwest::Proxy::all(p.url()).expect("proxy"))
                }
                None => reqwest::Client::builder().no_proxy(),
            };
            b.add_root_certificate(cert.clone())
                .tls_built_in_root_certs(false)
                .http1_only()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client")
        })
        .collect()
}

/// Open every client's connection, and as many upstream connections behind
/// llmspy, by holding a short stream on each at once (the handshakes are
/// not what is measured).
async fn warm(clients: &[reqwest::Client], url: &str) {
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let (c, url) = (c.clone(), url.to_string());
            tokio::spawn(async move {
                if let Ok(r) = c.get(&url).send().await {
                    let _ = r.bytes().await;
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
}

/// Time to first byte and the latency of each event on one stream.
async fn stream(client: reqwest::Client, url: String) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let Ok(resp) = client.get(&url).send().await else {
        return (Duration::MAX, Vec::new());
    };
    let mut body = resp.bytes_stream();
    let mut ttfb = None;
    let mut buf = String::new();
    let mut lat = Vec::new();
    while let Some(Ok(chunk)) = body.next().await {
        let now = upstream::epoch().elapsed().as_nanos() as u64;
        ttfb.get_or_insert_with(|| start.elapsed());
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(sent) = event.split("\"sent_ns\":").nth(1).and_then(|s| {
                s.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse::<u64>()
                    .ok()
            }) {
                lat.push(Duration::from_nanos(now.saturating_sub(sent)));
            }
        }
    }
    (ttfb.unwrap_or(Duration::MAX), lat)
}

struct Figures {
    ttfb: Vec<Duration>,
    events: Vec<Duration>,
    complete: usize,
}

/// Every stream running at once, their starts spread evenly over one gap
/// between events (agents are not in step: in step, every event of every
/// stream would arrive in one burst, and the figure would be how long two
/// cores take to drain a burst, not what one event waits).
///
/// A thread of its own starts them, each at its own instant: a tokio sleep
/// ends on its timer's next millisecond, so with `tokio::time::sleep` the
/// 1,000 starts came as 100 bursts of 10, and the first byte's figure was
/// how long ten requests at once take to cross two cores.
async fn all_at_once(clients: &[reqwest::Client], url: &str) -> Figures {
    let n = clients.len() as u64;
    let runtime = tokio::runtime::Handle::current();
    let (clients, url) = (clients.to_vec(), url.to_string());
    let pacer = std::thread::spawn(move || {
        let t0 = Instant::now();
        clients
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let at = t0 + Duration::from_micros(GAP_US * i as u64 / n);
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
                runtime.spawn(stream(c, url.clone()))
            })
            .collect::<Vec<_>>()
    });
    let tasks = tokio::task::spawn_blocking(move || pacer.join().expect("pacer"))
        .await
        .expect("pacer");
    let mut f = Figures {
        ttfb: Vec::new(),
        events: Vec::new(),
        complete: 0,
    };
    for t in tasks {
        if let Ok((ttfb, lat)) = t.await {
            f.complete += usize::from(lat.len() as u64 == EVENTS);
            f.ttfb.push(ttfb);
            f.events.extend(lat);
        }
    }
    f.ttfb.sort();
    f.events.sort();
    f
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p / 100.0).round() as usize]
}

fn line(name: &str, f: &Figures, n: usize) {
    println!(
        "  {name:<7}: {}/{n} streams whole; ttfb p50 {:>8.2?} p99 {:>8.2?}; per-event latency p50 {:>8.2?} p99 {:>8.2?} ({} events)",
        f.complete,
        pct(&f.ttfb, 50.0),
        pct(&f.ttfb, 99.0),
        pct(&f.events, 50.0),
        pct(&f.events, 99.0),
        f.events.len()
    );
}

async fn run(n: usize) {
    let up = Upstream::start().await;
    // As the binary lays llmspy out: the relay on workers of its own, and
    // accepting and the capture on a runtime of one thread of its own, not
    // on the bench's runtime beside the clients and the upstream.
    let engine = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("test-engine")
        .build()
        .expect("engine runtime");
    let proxy = engine
        .spawn(TestProxy::with(Options {
            limits: Limits {
                max_exchanges: 1_000_000,
                max_total_bytes: usize::MAX,
                ..Limits::default()
            },
            upstream_ca: vec![up.ca_file.clone()],
            workers: proxy::workers_as_the_binary(),
            ..Options::default()
        }))
        .await
        .expect("llmspy starts");
    let direct = clients(None, &up, n);
    let via = clients(Some(&proxy), &up, n);
    // Held three seconds: long enough that all the clients' requests
    // overlap (starting 1,000 of them, each with two handshakes through
    // llmspy, took over a second on a busy machine, and a second's hold
    // left 100-400 upstream connections to be opened during round 1), so
    // llmspy ends up with an upstream connection for each.
    let hold = up.https("/sse/timed?n=2&gap_us=3000000");
    warm(&direct, &hold).await;
    warm(&via, &hold).await;
    let url = up.https(&format!("/sse/timed?n={EVENTS}&gap_us={GAP_US}"));
    println!(
        "{n} SSE streams at once, {EVENTS} events {} ms apart each, one warm HTTP/1.1 connection per stream",
        GAP_US / 1000
    );
    // Each path ROUNDS times (twice by default), alternating, so drift on a
    // shared machine hits both.
    let opened = || up.tls_connections.load(std::sync::atomic::Ordering::SeqCst);
    println!("upstream TLS connections after warming: {}", opened());
    let rounds: u32 = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2);
    let (mut ttfb_met, mut event_met) = (0, 0);
    for round in 1..=rounds {
        let d = all_at_once(&direct, &url).await;
        let before = opened();
        let v = all_at_once(&via, &url).await;
        println!(
            "round {round} (llmspy opened {} upstream connections during it)",
            opened() - before
        );
        line("direct", &d, n);
        line("llmspy", &v, n);
        let added = |a: &[Duration], b: &[Duration], p: f64| pct(b, p).saturating_sub(pct(a, p));
        let target = Duration::from_millis(1);
        ttfb_met += u32::from(added(&d.ttfb, &v.ttfb, 99.0) <= target);
        event_met += u32::from(added(&d.events, &v.events, 99.0) <= target);
        println!(
            "  added  : ttfb p50 {:>8.2?} p99 {:>8.2?}; per event p50 {:>8.2?} p99 {:>8.2?} (targets: p99 ≤ 1 ms each)",
            added(&d.ttfb, &v.ttfb, 50.0),
            added(&d.ttfb, &v.ttfb, 99.0),
            added(&d.events, &v.events, 50.0),
            added(&d.events, &v.events, 99.0),
        );
    }
    println!(
        "rounds within 1 ms added at p99: first byte {ttfb_met} of {rounds}, per event {event_met} of {rounds}"
    );
    drop(proxy);
    // A runtime cannot be dropped inside another one.
    engine.shutdown_background();
}
