//! History benchmark: what the SQLite history costs. Run with
//! `cargo bench --bench history` (release build; figures, not asserts).
//!
//! - insert throughput of the writer, with 1 KiB and 256 KiB bodies
//!   (`insert`), and its CPU per relayed exchange (`writer`);
//! - relay throughput through llmspy with the history off, with a sink
//!   that drops what it gets, and with the history on, side by side in one
//!   run (`relay`);
//! - listing runs and exporting one run from a database of 100,000
//!   exchanges;
//! - the peak RSS of the real binary while 400 exchanges of 256 KiB pass
//!   through it with `--max-exchanges 50` (`peak-rss`;
//!   `RSS_NO_HISTORY=1` runs it with `--no-history`, for comparison).
//!
//! `cargo bench --bench history -- relay writer` runs only the parts named.

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
#[allow(dead_code)]
mod ws_echo;

use std::sync::Arc;
use std::time::{Duration, Instant};

use llmspy::capture::{Record, SinkMsg};
use llmspy::exchange::{Exchange, Timings};
use llmspy::history::{self, RunInfo, reader};
use proxy::{Options, TestProxy};
use upstream::Upstream;

// The allocator the binary uses, so the in-process proxy costs what it does
// for users.
#[global_allocator]
static GLOBAL: llmspy::alloc::Allocator = llmspy::alloc::Allocator;

const LOAD_SECONDS: u64 = 2;
/// Rounds of the relay comparison (`ROUNDS=N` for more).
const ROUNDS: usize = 5;
const CONCURRENCY: usize = 16;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    // `cargo bench --bench history -- relay` runs only the parts named.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|o| part.contains(o.as_str()));
    if wanted("insert") {
        for size in [1024, 256 * 1024] {
            insert_throughput(dir.path(), size);
        }
    }
    if wanted("writer") {
        rt.block_on(writer_cost());
    }
    if wanted("relay") {
        rt.block_on(relay_on_and_off(dir.path()));
    }
    if wanted("big-database") {
        big_database(dir.path());
    }
    if wanted("peak-rss") {
        peak_rss(dir.path());
    }
}

fn exchange(id: u64, body: usize) -> Exchange {
    let text = "x".repeat(body);
    Exchange::builder()
        .id(id)
        .started_at(chrono::Utc::now())
        .client_addr("127.0.0.1:5000")
        .path("/v1/echo")
        .header("content-type", "text/plain")
        .body(text.clone())
        .response_header("content-type", "text/plain")
        .response_body(text)
        .timings(Timings {
            end_us: Some(1000),
            ..Timings::default()
        })
        .build()
}

/// A history whose writer may fall any distance behind: the benches hand
/// it a whole burst at once, and measure the writer, not its budget.
fn unbounded(path: &std::path::Path, run: &RunInfo) -> history::History {
    history::begin_with_backlog(path, run, u64::MAX, u64::MAX)
        .and_then(history::Starting::wait)
        .expect("history")
}

/// Feed `n` exchanges to a writer and wait until they are committed.
fn fill(path: &std::path::Path, n: u64, body: usize) -> Duration {
    let run = RunInfo {
        listen: "127.0.0.1:0".into(),
        version: "bench".into(),
    };
    let h = unbounded(path, &run);
    let records: Vec<Arc<Record>> = (1..=n)
        .map(|id| {
            Arc::new(Record {
                exchange: exchange(id, body),
                summary: None,
                thread: None,
            })
        })
        .collect();
    let start = Instant::now();
    for r in records {
        let _ = h.sink.send(SinkMsg::Finished(r));
    }
    let (done, flushed) = tokio::sync::oneshot::channel();
    let _ = h.sink.send(SinkMsg::Flush(done));
    let _ = flushed.blocking_recv();
    let took = start.elapsed();
    assert_eq!(h.status.saved(), n, "every exchange written");
    h.finish();
    took
}

fn insert_throughput(dir: &std::path::Path, body: usize) {
    let n = if body > 4096 { 400 } else { 20_000 };
    let path = dir.join(format!("insert-{body}.sqlite"));
    let took = fill(&path, n, body);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "insert, {} KiB bodies: {n} exchanges in {:.2} s = {:.0} exchanges/s ({:.1} MB/s of bodies, file {:.1} MB)",
        body / 1024,
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        (n as f64 * body as f64 * 2.0) / took.as_secs_f64() / 1e6,
        size as f64 / 1e6
    );
}

async fn relay_on_and_off(dir: &std::path::Path) {
    let up = Upstream::start().await;
    let off = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        workers: proxy::workers_as_the_binary(),
        ..Options::default()
    })
    .await;
    let run = RunInfo {
        listen: "127.0.0.1:0".into(),
        version: "bench".into(),
    };
    let h = history::start(&dir.join("relay.sqlite"), &run, u64::MAX).expect("history");
    let on = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        sinks: vec![h.sink.clone()],
        workers: proxy::workers_as_the_binary(),
        ..Options::default()
    })
    .await;
    // A sink that drops what it gets: what feeding any sink costs the relay,
    // apart from what the history writer does with it.
    let (null_sink, mut null_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move { while null_rx.recv().await.is_some() {} });
    let null = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        sinks: vec![llmspy::capture::Sink::new(null_sink)],
        workers: proxy::workers_as_the_binary(),
        ..Options::default()
    })
    .await;
    let url = up.https("/hello");
    // Alternate in short rounds, so drift on a shared machine hits both
    // alike, and report the median of the per-round ratios.
    // The order flips every round: on this machine whichever proxy ran
    // later in a round tended to do better.
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let mut ratios = Vec::new();
    let (mut off_total, mut on_total) = (0.0, 0.0);
    for round in 0..rounds {
        let (off_rate, null_rate, on_rate) = if round % 2 == 0 {
            let off_rate = rate(&off, &up, &url).await;
            let null_rate = rate(&null, &up, &url).await;
            (off_rate, null_rate, rate(&on, &up, &url).await)
        } else {
            let on_rate = rate(&on, &up, &url).await;
            let null_rate = rate(&null, &up, &url).await;
            (rate(&off, &up, &url).await, null_rate, on_rate)
        };
        // What the writer still had queued when the load stopped.
        let caught_up = Instant::now();
        let (done, flushed) = tokio::sync::oneshot::channel();
        let _ = h.sink.send(SinkMsg::Flush(done));
        let _ = flushed.await;
        println!(
            "  round: off {off_rate:.0} req/s, a sink that drops {null_rate:.0} req/s ({:.3}x), on {on_rate:.0} req/s = {:.3}x; writer caught up {:.0} ms after the load",
            null_rate / off_rate,
            on_rate / off_rate,
            caught_up.elapsed().as_secs_f64() * 1000.0
        );
        ratios.push(on_rate / off_rate);
        off_total += off_rate;
        on_total += on_rate;
    }
    let written = h.status.saved();
    println!(
        "  history writer thread: {:.1} µs of CPU per exchange written ({written} exchanges, {} dropped)",
        thread_cpu_seconds("llmspy-history") * 1e6 / written.max(1) as f64,
        h.status.to_json()["dropped"]
    );
    ratios.sort_by(f64::total_cmp);
    println!(
        "relay, keep-alive HTTPS, {CONCURRENCY} connections: history off {:.0} req/s, on {:.0} req/s; median ratio {:.3}x",
        off_total / rounds as f64,
        on_total / rounds as f64,
        ratios[ratios.len() / 2]
    );
    tokio::task::block_in_place(|| h.finish());
}

/// CPU time (user + system) used so far by this process's threads named
/// `name`, from /proc: a figure other load on the machine does not skew.
fn thread_cpu_seconds(name: &str) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter(|stat| stat.contains(&format!("({name})")))
        .filter_map(|stat| {
            // Fields after the command name: state is 3rd, utime 14th, stime 15th.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split(' ').collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks)
        })
        .sum()
}

async fn rate(proxy: &TestProxy, up: &Upstream, url: &str) -> f64 {
    let pem = std::fs::read(&proxy.ca_file).expect("ca");
    let _ = up;
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(proxy.url()).expect("proxy"))
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .tls_built_in_root_certs(false)
        .pool_max_idle_per_host(CONCURRENCY)
        .http1_only()
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                if let Ok(r) = client.get(&url).send().await
                    && r.bytes().await.is_ok()
                {
                    n += 1;
                }
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    total as f64 / LOAD_SECONDS as f64
}

fn big_database(dir: &std::path::Path) {
    let path = dir.join("big.sqlite");
    let took = fill(&path, 100_000, 512);
    println!(
        "filled 100,000 exchanges (512 B bodies) in {:.1} s",
        took.as_secs_f64()
    );
    let conn = reader::connect(&path).expect("open");
    let start = Instant::now();
    let runs = reader::runs(&conn).expect("runs");
    let list = start.elapsed();
    let start = Instant::now();
    let exchanges = reader::exchanges(
        &conn,
        &reader::Query {
            run: Some(runs[0].id),
            since: None,
        },
    )
    .expect("exchanges");
    let load = start.elapsed();
    let start = Instant::now();
    let har = llmspy::export::render(
        llmspy::export::Format::Har,
        &exchanges,
        &llmspy::export::Options::default(),
    )
    .expect("har");
    let render = start.elapsed();
    println!(
        "database of 100,000: list runs {:.2} ms; export a run of {} as HAR: read {:.2} s + render {:.2} s ({:.0} MB)",
        list.as_secs_f64() * 1e3,
        exchanges.len(),
        load.as_secs_f64(),
        render.as_secs_f64(),
        har.len() as f64 / 1e6
    );
}

/// The real binary, 400 exchanges of 256 KiB through it, 50 kept in memory.
fn peak_rss(dir: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_llmspy");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let up = rt.block_on(Upstream::start());
    let mut child = std::process::Command::new(bin)
        .args([
            "--no-tui",
            "--listen",
            "127.0.0.1:0",
            "--max-exchanges",
            "50",
        ])
        .arg("--ca-dir")
        .arg(dir.join("ca"))
        // The history's share of the peak: the same run without it.
        .args(match std::env::var_os("RSS_NO_HISTORY") {
            Some(_) => vec!["--no-history".into()],
            None => vec!["--history".into(), dir.join("rss.sqlite").into_os_string()],
        })
        .arg("--upstream-ca")
        .arg(&up.ca_file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("llmspy");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok);
    let addr = lines
        .find_map(|l| {
            l.split("listening on ")
                .nth(1)
                .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
        })
        .expect("banner");
    // Keep reading: llmspy's later lines must not meet a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let body = vec![b'y'; 256 * 1024];
    let ca = std::fs::read(dir.join("ca").join("llmspy-ca.pem")).expect("ca");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(format!("http://{addr}")).expect("proxy"))
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("pem"))
            .tls_built_in_root_certs(false)
            .build()
            .expect("client");
        for _ in 0..400 {
            let r = client
                .post(up.https("/echo"))
                .body(body.clone())
                .send()
                .await
                .expect("echo");
            r.bytes().await.expect("body");
        }
    });
    // Whether the history kept up: what it dropped is not a saving.
    let history = rt.block_on(async {
        let url = format!("http://{addr}/llmspy/status");
        match reqwest::get(&url).await {
            Ok(r) => r.json::<serde_json::Value>().await.unwrap_or_default()["history"].clone(),
            Err(e) => serde_json::Value::String(e.to_string()),
        }
    });
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?")
        .to_string();
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "peak RSS, 400 x 256 KiB through llmspy --max-exchanges 50: {peak}; history dropped {}, saved {} so far",
        history["dropped"], history["saved"]
    );
}

/// The writer's own CPU per exchange, for exchanges as the relay records
/// them (a small GET): the figure that decides what history costs the
/// relay on a busy machine, and one that other load does not skew.
async fn writer_cost() {
    let up = Upstream::start().await;
    let proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        ..Options::default()
    })
    .await;
    let url = up.https("/hello");
    rate(&proxy, &up, &url).await;
    let sample = {
        use llmspy::capture::Records;
        let store = proxy.store.read();
        store.all().next().expect("a relayed exchange").clone()
    };
    let dir = tempfile::tempdir().expect("tmp");
    let run = RunInfo {
        listen: "127.0.0.1:0".into(),
        version: "bench".into(),
    };
    let h = unbounded(&dir.path().join("writer.sqlite"), &run);
    let n = 200_000u64;
    let started = Instant::now();
    for id in 1..=n {
        let mut record = sample.clone();
        record.exchange.id = id;
        let _ = h.sink.send(SinkMsg::Finished(Arc::new(record)));
    }
    let (done, flushed) = tokio::sync::oneshot::channel();
    let _ = h.sink.send(SinkMsg::Flush(done));
    let _ = flushed.await;
    let took = started.elapsed();
    assert_eq!(h.status.saved(), n, "every exchange written");
    let cpu = thread_cpu_seconds("llmspy-history");
    tokio::task::block_in_place(|| h.finish());
    let size = std::fs::metadata(dir.path().join("writer.sqlite")).map_or(0, |m| m.len());
    println!(
        "writer, {n} relayed GETs: {:.0} exchanges/s, {:.2} µs of the writer thread's CPU per exchange, file {:.1} MB",
        n as f64 / took.as_secs_f64(),
        cpu * 1e6 / n as f64,
        size as f64 / 1e6
    );
}
