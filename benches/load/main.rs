//! Load and faults through a real llmspy process (`scripts/bench/load.sh`,
//! or `cargo bench --bench load`): 1,000 concurrent SSE streams of 100
//! events, with 100 upstream resets and 100 clients vanishing mid-stream
//! among them, then a 1 GiB download and a 1 GiB upload. Checks that every
//! byte arrives and is captured, that the faults touch no other stream and
//! that the big transfers are relayed byte for byte with the capture capped,
//! and prints llmspy's resident memory. Figures for reading; a failed check
//! exits non-zero.

// Test and bench scenarios read top to bottom; the length limit is for
// the library and the binary.
#![allow(clippy::too_many_lines)]

mod llmspy;
mod streams;
mod upstream;

use std::time::Instant;

use llmspy::Llmspy;

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: f64 = 1024.0 * 1024.0;

fn main() {
    raise_open_files();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ok = rt.block_on(run());
    if !ok {
        std::process::exit(1);
    }
}

/// Two sockets per stream on this side (client and upstream).
fn raise_open_files() {
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

async fn run() -> bool {
    let up = upstream::start().await;
    let proxy = Llmspy::start();
    let idle = proxy.rss();
    println!("llmspy idle: {:.1} MiB resident\n", idle as f64 / MIB);

    let started = Instant::now();
    let report = streams::run(&proxy.url(), up).await;
    let elapsed = started.elapsed();
    proxy.wait_finished(report.total()).await;
    let captured = streams::check_capture(&proxy.retrieve().await);
    let sse_peak = proxy.peak();
    report.print(elapsed, &captured);
    println!(
        "llmspy peak resident during the streams: {:.1} MiB\n",
        sse_peak as f64 / MIB
    );

    let big_ok = transfers(&proxy, up, report.total()).await;
    proxy.stop();
    let ok = report.all_ok(&captured) && big_ok;
    println!(
        "\n{}",
        if ok {
            "all checks passed"
        } else {
            "CHECKS FAILED"
        }
    );
    ok
}

/// The 1 GiB download and upload, with llmspy's memory meanwhile; whether
/// both went right.
async fn transfers(proxy: &Llmspy, up: std::net::SocketAddr, before_count: usize) -> bool {
    proxy.reset_peak();
    let before = proxy.rss();
    let big = streams::big_transfers(&proxy.url(), up, GIB).await;
    proxy.wait_finished(before_count + 2).await;
    let captured = streams::check_big_capture(&proxy.retrieve().await, GIB);
    let peak = proxy.peak();
    println!(
        "{:<34} {:>10} {:>12} {:>16} {:>18}",
        "1 GiB transfer", "seconds", "MiB/s", "byte-identical", "capture capped"
    );
    for (name, t, capped) in [
        ("download", &big.download, captured.download),
        ("upload", &big.upload, captured.upload),
    ] {
        println!(
            "{:<34} {:>10.1} {:>12.0} {:>16} {:>18}",
            name,
            t.seconds,
            GIB as f64 / MIB / t.seconds,
            t.identical,
            capped
        );
    }
    println!(
        "\nllmspy resident before the transfers {:.1} MiB, peak during them {:.1} MiB (+{:.1} MiB)",
        before as f64 / MIB,
        peak as f64 / MIB,
        peak.saturating_sub(before) as f64 / MIB
    );
    big.download.identical && big.upload.identical && captured.download && captured.upload
}
