//! Exports stream (#13): exporting a capture holding 200 MiB of bodies
//! (as JSON, HAR, Postman, Bruno and OpenAPI)
//! raises the peak memory of neither the running llmspy nor `llmspy export`
//! by more than 100 MiB. Both are real processes, so their peaks are theirs
//! alone (Linux: `/proc/PID/status`).

use std::path::Path;
use std::process::Command;

use crate::support::binary::{BIN, Running};
use crate::support::client;
use crate::support::upstream::Upstream;

const MIB: u64 = 1024 * 1024;
/// Each exchange: 1 MiB up, echoed back.
const EXCHANGES: usize = 100;
const LIMIT: u64 = 100 * MIB;

/// A `/proc/PID/status` figure, in bytes.
fn status_bytes(pid: u32, name: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    field(&status, name).unwrap_or_else(|| panic!("no {name}"))
}

fn field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Run `llmspy export` to completion; returns its peak resident set.
///
/// `wait4`'s `ru_maxrss` would include the forked copy of this (large) test
/// process, so the child's own `VmHWM` is read instead, as often as the
/// file answers: the peak of a streaming export is reached long before the
/// end, and a buffering one grows until it writes.
fn export(server: &str, format: &str, out: &Path) -> u64 {
    let mut child = Command::new(BIN)
        .args(["export", "--quiet", "--server", server, "--format", format])
        .arg("-o")
        .arg(out)
        .spawn()
        .expect("export starts");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            assert!(exit.success(), "export {format} failed: {exit}");
            return peak;
        }
        let hwm = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| field(&s, "VmHWM:"));
        peak = peak.max(hwm.unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exporting_200_mib_of_bodies_keeps_memory_flat() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().expect("tmp");
    let ca_dir = dir.path().join("ca");
    let running = Running::start(&ca_dir, &[]);
    let http = client::reqwest(
        &format!("http://{}", running.addr),
        &ca_dir.join("llmspy-ca.pem"),
    );
    // Printable text, so both formats carry it as text, not base64.
    let body: Vec<u8> = (0..MIB as usize).map(|i| b'a' + (i % 26) as u8).collect();
    for _ in 0..EXCHANGES {
        let resp = http
            .post(up.http("/echo"))
            .header("content-type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .expect("echo");
        assert_eq!(resp.bytes().await.expect("body").len(), body.len());
    }
    for _ in 0..EXCHANGES {
        running.line_containing("/echo");
    }

    let pid = running.child.id();
    let before = status_bytes(pid, "VmRSS:");
    // Restart the peak count from here ("5": reset the peak RSS). Where
    // that is not allowed the peak also covers the filling, during which
    // the capture only grew, so the check still holds.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let server = format!("http://{}", running.addr);
    for format in ["json", "har", "postman", "bruno", "openapi"] {
        let file = dir.path().join(format!("export.{format}"));
        let cli_peak = export(&server, format, &file);
        let size = std::fs::metadata(&file).expect("written").len();
        if format == "bruno" {
            // The repeated alphabet deflates to almost nothing; the zip
            // holds bruno.json, the host's folder.bru and one file each.
            let zip = zip::ZipArchive::new(std::fs::File::open(&file).expect("zip")).expect("zip");
            assert_eq!(zip.len(), EXCHANGES + 2);
        } else if format == "openapi" {
            // Schemas and one example per body: small whatever the capture.
            let doc: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
            assert!(
                doc["paths"]["/echo"]["post"].is_object(),
                "{}",
                doc["paths"]
            );
        } else {
            assert!(size > 200 * MIB, "{format}: {size} bytes");
        }
        assert!(
            cli_peak <= LIMIT,
            "llmspy export --format {format} peaked at {} MiB for {} MiB written",
            cli_peak / MIB,
            size / MIB
        );
        eprintln!(
            "llmspy export --format {format}: {} MiB written, peak {} MiB",
            size / MIB,
            cli_peak / MIB
        );
        std::fs::remove_file(&file).expect("rm");
    }
    let peak = status_bytes(pid, "VmHWM:");
    eprintln!(
        "llmspy: {} MiB resident before the exports, peak {} MiB during them",
        before / MIB,
        peak / MIB
    );
    assert!(
        peak.saturating_sub(before) <= LIMIT,
        "llmspy grew from {} MiB to a peak of {} MiB while exporting",
        before / MIB,
        peak / MIB
    );
    running.terminate();
}
