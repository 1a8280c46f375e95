//! Relay benchmark: the same load direct and through llmspy, in one process,
//! on loopback, printed as ratios. Run with `cargo bench --bench relay`.
//!
//! Measures keep-alive HTTPS throughput and latency, SSE time to first byte
//! and added latency per event, the cost of first contact with a new host
//! (leaf minting), and memory held per captured byte. Figures, not asserts:
//! timings on a shared machine are for reading, not for failing builds.

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

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use llmspy::capture::Limits;
use proxy::{Options, TestProxy};
use upstream::Upstream;

/// Counts live heap bytes so memory per captured byte can be measured exactly.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const CONCURRENCY: usize = 16;
const LOAD_SECONDS: u64 = 3;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

fn client(proxy: Option<&TestProxy>, up: &Upstream, http1: bool) -> reqwest::Client {
    let (pem, b) = match proxy {
        Some(p) => (
            std::fs::read(&p.ca_file).expect("ca"),
            reqwest::Client::builder().proxy(reqwest::Proxy::all(p.url()).expect("proxy")),
        ),
        None => (
            std::fs::read(&up.ca_file).expect("ca"),
            reqwest::Client::builder().no_proxy(),
        ),
    };
    let b = b
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .tls_built_in_root_certs(false)
        .pool_max_idle_per_host(CONCURRENCY);
    let b = if http1 { b.http1_only() } else { b };
    b.build().expect("client")
}

async fn run() {
    let up = Upstream::start().await;
    println!(
        "llmspy relay benchmark (loopback, {CONCURRENCY} keep-alive HTTP/1.1 connections, {LOAD_SECONDS}s per run)\n"
    );
    // Memory first: later runs' stores are freed asynchronously (when their
    // capture tasks end), which would hide this run's growth.
    memory(&up).await;
    let limits = Limits {
        max_exchanges: 10_000_000,
        max_total_bytes: usize::MAX,
        ..Limits::default()
    };
    let proxy = TestProxy::with(Options {
        limits,
        upstream_ca: vec![up.ca_file.clone()],
        workers: proxy::workers_as_the_binary(),
        ..Options::default()
    })
    .await;
    throughput(&up, &proxy).await;
    sse(&up, &proxy).await;
    first_contact(&up, &proxy).await;
}

struct Load {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

async fn load(client: &reqwest::Client, url: &str) -> Load {
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status());
                if let Ok(r) = ok {
                    let _ = r.bytes().await;
                    lat.push(t.elapsed());
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort();
    Load {
        rps: all.len() as f64 / LOAD_SECONDS as f64,
        p50: pct(&all, 50.0),
        p99: pct(&all, 99.0),
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p / 100.0).round() as usize]
}

async fn throughput(up: &Upstream, proxy: &TestProxy) {
    let url = up.https("/small");
    let direct_client = client(None, up, true);
    let via_client = client(Some(proxy), up, true);
    let _ = load_warm(&direct_client, &url).await;
    let _ = load_warm(&via_client, &url).await;
    let direct = load(&direct_client, &url).await;
    let via = load(&via_client, &url).await;
    println!("keep-alive HTTPS, small responses");
    println!(
        "  direct : {:>9.0} req/s  p50 {:>7.2?}  p99 {:>7.2?}",
        direct.rps, direct.p50, direct.p99
    );
    println!(
        "  llmspy : {:>9.0} req/s  p50 {:>7.2?}  p99 {:>7.2?}",
        via.rps, via.p50, via.p99
    );
    println!(
        "  ratio  : {:.2} of direct throughput (target >= 0.50)\n",
        via.rps / direct.rps
    );
}

async fn load_warm(client: &reqwest::Client, url: &str) {
    for _ in 0..CONCURRENCY * 4 {
        let _ = client.get(url).send().await;
    }
}

/// Per-event latency (arrival − send) of a timed SSE stream, and TTFB.
/// Events the upstream produced before the client had its first byte are
/// left out: their wait is stream set-up, not per-event relay latency.
async fn sse_run(client: &reqwest::Client, url: &str) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let resp = client.get(url).send().await.expect("sse");
    let mut stream = resp.bytes_stream();
    let mut ttfb = None;
    let mut buf = String::new();
    let mut lat = Vec::new();
    let mut first_ns = None;
    while let Some(chunk) = stream.next().await {
        let now = upstream::epoch().elapsed().as_nanos() as u64;
        ttfb.get_or_insert_with(|| start.elapsed());
        let first_ns = *first_ns.get_or_insert(now);
        buf.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(sent) = event.split("\"sent_ns\":").nth(1).and_then(|s| {
                s.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse::<u64>()
                    .ok()
            }) && sent >= first_ns
            {
                lat.push(Duration::from_nanos(now.saturating_sub(sent)));
            }
        }
    }
    lat.sort();
    (ttfb.unwrap_or_default(), lat)
}

async fn sse(up: &Upstream, proxy: &TestProxy) {
    let url = up.https("/sse/timed?n=500&gap_us=2000");
    let direct = client(None, up, false);
    let via = client(Some(proxy), up, false);
    let _ = sse_run(&direct, &up.https("/sse/timed?n=5&gap_us=100")).await;
    let _ = sse_run(&via, &up.https("/sse/timed?n=5&gap_us=100")).await;
    let (d_ttfb, d) = sse_run(&direct, &url).await;
    let (v_ttfb, v) = sse_run(&via, &url).await;
    let added = |p: f64| pct(&v, p).saturating_sub(pct(&d, p));
    println!("SSE stream, 500 events 2 ms apart (HTTP/2)");
    println!(
        "  direct : ttfb {d_ttfb:>7.2?}  per-event latency p50 {:>7.2?}  p99 {:>7.2?}",
        pct(&d, 50.0),
        pct(&d, 99.0)
    );
    println!(
        "  llmspy : ttfb {v_ttfb:>7.2?}  per-event latency p50 {:>7.2?}  p99 {:>7.2?}",
        pct(&v, 50.0),
        pct(&v, 99.0)
    );
    println!(
        "  added  : p50 {:>7.2?}  p99 {:>7.2?} per event (target p99 <= 1 ms)\n",
        added(50.0),
        added(99.0)
    );
}

async fn first_contact(up: &Upstream, proxy: &TestProxy) {
    let mut mint = Vec::new();
    for i in 0..300 {
        let t = Instant::now();
        proxy
            .ca
            .server_config(&format!("host{i}.bench.test"))
            .await
            .expect("mint");
        mint.push(t.elapsed());
    }
    mint.sort();
    // End to end: a fresh connection to a never-seen host vs to a known one.
    let fresh = |path: &str| up.https_localhost(path);
    let t = Instant::now();
    client(Some(proxy), up, true)
        .get(fresh("/small"))
        .send()
        .await
        .expect("new host");
    let new_host = t.elapsed();
    let t = Instant::now();
    client(Some(proxy), up, true)
        .get(fresh("/small"))
        .send()
        .await
        .expect("known host");
    let known_host = t.elapsed();
    println!("first contact with a new host");
    println!(
        "  leaf minting (cache miss, async path): p50 {:>7.2?}  p99 {:>7.2?} over 300 hosts",
        pct(&mint, 50.0),
        pct(&mint, 99.0)
    );
    println!(
        "  new connection, new host {new_host:>7.2?} vs known host {known_host:>7.2?} (target: new host <= 5 ms extra)\n"
    );
}

async fn memory(up: &Upstream) {
    let limits = Limits {
        max_exchanges: 1_000_000,
        max_total_bytes: usize::MAX,
        max_body_capture_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut proxy = TestProxy::with_limits(&up.ca_file, limits).await;
    let c = client(Some(&proxy), up, true);
    load_warm(&c, &up.https("/small")).await;
    let warm = proxy.finished(CONCURRENCY * 4).await.len();
    let before = LIVE.load(Ordering::Relaxed);
    let bytes_before = proxy.store.read().total_bytes();
    const N: usize = 1000;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (c, url) = (c.clone(), up.https("/bytes?n=32768"));
        tasks.push(tokio::spawn(async move {
            for _ in 0..N / 8 {
                let _ = c.get(&url).send().await.expect("req").bytes().await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    proxy.finished(warm + N).await;
    let after = LIVE.load(Ordering::Relaxed);
    let captured = proxy.store.read().total_bytes() - bytes_before;
    let held = (after - before).max(0) as f64;
    println!("memory, {N} captured exchanges of 32 KiB");
    println!(
        "  captured body bytes {:.1} MiB, heap growth {:.1} MiB",
        captured as f64 / 1048576.0,
        held / 1048576.0
    );
    println!(
        "  ratio  : {:.2}x the captured bytes (target <= 1.2x)",
        held / captured as f64
    );
}
