//! The engine end to end: real TLS upstream, llmspy in-process, real clients.

use std::time::Duration;

use futures_util::StreamExt;
use llmspy::capture::{Limits, TRUNCATED_HEADER};
use llmspy::exchange::{FailureKind, State, Via, header};

use crate::support::client::{curl, reqwest, reqwest_with};
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn https_body_is_byte_identical_both_ways_and_captured() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let body = payload(200_000);
    let resp = client
        .post(up.https("/echo"))
        .header("content-type", "application/octet-stream")
        .body(body.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.expect("body").as_ref(), &body[..]);
    assert_eq!(
        up.seen()[0].body.as_ref(),
        &body[..],
        "upstream got the exact bytes"
    );

    let ex = proxy.only().await;
    assert_eq!(ex.state, State::Complete);
    assert_eq!(ex.via, Via::Connect);
    assert_eq!(ex.request.scheme, "https");
    assert_eq!(ex.request.body.bytes, body);
    let resp = ex.response.expect("response");
    assert_eq!(resp.body.bytes, body);
    assert!(!resp.body.truncated);
    let t = &ex.timings;
    assert!(t.response_head_us.is_some() && t.first_byte_us.is_some());
    assert!(t.end_us >= t.first_byte_us, "{t:?}");
    assert!(!ex.chunks.is_empty());
    assert_eq!(
        ex.chunks.iter().map(|c| c.len).sum::<u64>(),
        body.len() as u64
    );
}

#[tokio::test]
async fn http2_client_and_upstream() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest_with(
        reqwest::Proxy::all(proxy.url()).expect("proxy"),
        &proxy.ca_file,
        false,
    );
    let resp = client
        .post(up.https_localhost("/echo"))
        .body("hi h2")
        .send()
        .await
        .expect("request");
    assert_eq!(
        resp.version(),
        reqwest::Version::HTTP_2,
        "client negotiated h2 with llmspy"
    );
    assert_eq!(resp.text().await.expect("text"), "hi h2");
    assert_eq!(
        up.seen()[0].version,
        http::Version::HTTP_2,
        "llmspy spoke h2 upstream"
    );
    let ex = proxy.only().await;
    assert_eq!(ex.request.version, "HTTP/2");
    assert_eq!(ex.response.expect("response").version, "HTTP/2");
}

#[tokio::test]
async fn sse_first_event_arrives_before_upstream_sends_the_second() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client
        .get(up.https("/sse/gated"))
        .send()
        .await
        .expect("request");
    let mut stream = resp.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("first event relayed while the upstream holds the second")
        .expect("a chunk")
        .expect("ok");
    assert!(String::from_utf8_lossy(&first).contains("event: first"));
    up.gate.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = stream.next().await {
        rest.extend_from_slice(&chunk.expect("chunk"));
    }
    assert!(String::from_utf8_lossy(&rest).contains("event: second"));

    let ex = proxy.only().await;
    assert_eq!(
        ex.chunks.len(),
        2,
        "one stamped chunk per event: {:?}",
        ex.chunks
    );
    assert!(ex.chunks[1].at_us >= ex.chunks[0].at_us);
    let body = ex.response.expect("response").body.bytes;
    assert!(String::from_utf8_lossy(&body).contains("event: second"));
}

#[tokio::test]
async fn curl_http1_and_http2_through_connect() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    // `--http1.0` offers only "http/1.0" in ALPN: a leaf that knew only h2
    // and http/1.1 failed the handshake (no_application_protocol), where
    // servers that speak HTTP/1.0 answer.
    for flag in ["--http1.1", "--http2", "--http1.0"] {
        let out = curl(
            &proxy.url(),
            &proxy.ca_file,
            &up.https("/echo"),
            &[flag, "-d", "curl body"],
        )
        .await;
        assert!(
            out.status.success(),
            "curl {flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "curl body");
    }
    let done = proxy.finished(3).await;
    let versions: Vec<_> = done.iter().map(|e| e.request.version.as_ref()).collect();
    assert_eq!(versions, ["HTTP/1.1", "HTTP/2", "HTTP/1.0"]);
    // llmspy speaks to the upstream as the client spoke to it: an HTTP/1.1
    // client's requests each get a connection, not a share of one.
    let upstream: Vec<_> = up.seen().iter().map(|s| s.version).collect();
    assert_eq!(
        upstream,
        [
            http::Version::HTTP_11,
            http::Version::HTTP_2,
            http::Version::HTTP_11
        ]
    );
    let answered: Vec<_> = done
        .iter()
        .map(|e| e.response.as_ref().expect("response").version.as_ref())
        .collect();
    assert_eq!(answered, ["HTTP/1.1", "HTTP/2", "HTTP/1.1"]);
}

/// With relay workers (as the binary runs), each serves the connections
/// handed to it with upstream connections of its own: every kind of
/// request is relayed and captured, and sequential requests arriving on
/// fresh connections, which go round the two workers, reuse exactly one
/// upstream connection per worker.
#[tokio::test]
async fn relay_workers_serve_connections_with_pools_of_their_own() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        workers: Some(2),
        ..Options::default()
    })
    .await;
    for i in 0..6 {
        // A client per request: a fresh connection to llmspy each time.
        let client = reqwest(&proxy.url(), &proxy.ca_file);
        let body = format!("request {i}");
        assert_eq!(post_text(&client, &up.https("/echo"), &body).await, body);
    }
    assert_eq!(
        up.tls_connections.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one pooled upstream connection per worker"
    );
    let out = curl(
        &proxy.url(),
        &proxy.ca_file,
        &up.https("/echo"),
        &["--http2", "-d", "h2"],
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "h2");
    let plain = reqwest(&proxy.url(), &proxy.ca_file);
    assert_eq!(post_text(&plain, &up.http("/echo"), "plain").await, "plain");
    let done = proxy.finished(8).await;
    assert!(done.iter().all(|e| e.state == State::Complete), "{done:?}");
    let versions: Vec<_> = done.iter().map(|e| e.request.version.as_ref()).collect();
    assert_eq!(versions[6], "HTTP/2");
}

/// POST `body` and return the answer's text.
async fn post_text(client: &::reqwest::Client, url: &str, body: &str) -> String {
    client
        .post(url)
        .body(body.to_string())
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn plain_http_absolute_form() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    assert_eq!(
        post_text(&client, &up.http("/echo"), "plain").await,
        "plain"
    );
    let ex = proxy.only().await;
    assert_eq!(ex.via, Via::HttpProxy);
    assert_eq!(ex.request.scheme, "http");
    assert_eq!(ex.request.path, "/echo");
}

#[tokio::test]
async fn socks5_with_remote_and_local_resolution() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    for scheme in ["socks5h", "socks5"] {
        let p = reqwest::Proxy::all(format!("{scheme}://{}", proxy.addr)).expect("proxy");
        let client = reqwest_with(p, &proxy.ca_file, false);
        let got = client
            .post(up.https("/echo"))
            .body(scheme)
            .send()
            .await
            .expect("req")
            .text()
            .await
            .expect("text");
        assert_eq!(got, scheme);
    }
    let plain = reqwest_with(
        reqwest::Proxy::all(format!("socks5h://{}", proxy.addr)).expect("p"),
        &proxy.ca_file,
        false,
    );
    assert_eq!(
        plain
            .get(up.http("/x"))
            .send()
            .await
            .expect("req")
            .text()
            .await
            .expect("t"),
        "ok"
    );
    let done = proxy.finished(3).await;
    assert!(
        done.iter()
            .all(|e| e.via == Via::Socks5 && e.state == State::Complete)
    );
    assert_eq!(
        done.iter().filter(|e| e.request.scheme == "https").count(),
        2
    );
}

#[tokio::test]
async fn capture_is_truncated_at_the_cap_but_the_client_gets_everything() {
    let up = Upstream::start().await;
    let limits = Limits {
        max_streaming_capture_bytes: 1000,
        max_body_capture_bytes: 3000,
        ..Limits::default()
    };
    let mut proxy = TestProxy::with_limits(&up.ca_file, limits).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let sse = client
        .get(up.https("/sse?n=50&size=100"))
        .send()
        .await
        .expect("req")
        .bytes()
        .await
        .expect("body");
    let big = client
        .get(up.https("/bytes?n=100000"))
        .send()
        .await
        .expect("req")
        .bytes()
        .await
        .expect("body");
    assert_eq!(big.len(), 100_000);
    let done = proxy.finished(2).await;
    let sse_ex = done
        .iter()
        .find(|e| e.request.path.starts_with("/sse"))
        .expect("sse");
    let r = sse_ex.response.as_ref().expect("response");
    assert_eq!(r.body.bytes.len(), 1000);
    assert_eq!(r.body.wire_size as usize, sse.len());
    assert!(r.body.truncated);
    assert_eq!(header(&r.headers, TRUNCATED_HEADER), Some("true"));
    assert_eq!(sse_ex.chunks.len(), 50, "every chunk is still stamped");
    let big_ex = done
        .iter()
        .find(|e| e.request.path.starts_with("/bytes"))
        .expect("bytes");
    let r = big_ex.response.as_ref().expect("response");
    assert_eq!((r.body.bytes.len(), r.body.truncated), (3000, true));
    assert_eq!(&r.body.bytes[..], &big[..3000]);
}

/// A streamed reply longer than the cap says its usage and why it stopped
/// at its end: the capture keeps the stream's last bytes, so the analysis
/// (and the cost, the log line, the spans, the history) reads them, and a
/// native JSON round trip keeps them.
#[tokio::test]
async fn a_stream_cut_at_the_cap_still_has_its_usage_and_stop_reason() {
    let up = Upstream::start().await;
    let limits = Limits {
        max_streaming_capture_bytes: 4096,
        ..Limits::default()
    };
    let mut proxy = TestProxy::with_limits(&up.ca_file, limits).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    // About 3,000 events of ~130 bytes: far past the cap, and the tail's
    // own trimming.
    let got = client
        .post(up.https("/v1/messages?deltas=3000&output=16000"))
        .header("content-type", "application/json")
        .body(r#"{"model":"claude-sonnet-4-5","max_tokens":16000,"stream":true,"messages":[{"role":"user","content":"write a lot"}]}"#)
        .send()
        .await
        .expect("req")
        .bytes()
        .await
        .expect("body");
    assert!(
        got.len() > 3 * llmspy::exchange::TAIL_BYTES,
        "{}",
        got.len()
    );
    let ex = proxy.only().await;
    let body = &ex.response.as_ref().expect("response").body;
    assert!(body.truncated);
    assert_eq!(body.bytes.len(), 4096);
    assert_eq!(body.wire_size as usize, got.len());
    assert!(
        body.tail.ends_with(&got[got.len() - 100..]),
        "the tail is the stream's end"
    );
    assert!(body.tail.len() <= 2 * llmspy::exchange::TAIL_BYTES);

    let analysed = |ex: &llmspy::exchange::Exchange| {
        let a = llmspy::llm::analyse(ex).expect("an Anthropic call");
        let usage = a.usage.expect("usage");
        let stop = a.reply.as_ref().and_then(|r| r.stop_reason.clone());
        (
            usage.input_tokens,
            usage.output_tokens,
            stop,
            a.cost.is_some(),
        )
    };
    let want = (1000, 16000, Some("max_tokens".to_string()), true);
    assert_eq!(analysed(&ex), want);
    let json = llmspy::export::native::to_json(&ex);
    let back = llmspy::export::native::from_json(json).expect("round trip");
    assert_eq!(
        back.response.as_ref().expect("response").body.tail,
        body.tail
    );
    assert_eq!(analysed(&back), want, "read back from a saved capture");
}

/// Past the cap, a body that is not a stream of events is counted in runs
/// of a mebibyte, not stamped frame by frame (a 16 KiB frame each here):
/// its size comes out exact, both ways.
#[tokio::test]
async fn past_the_cap_a_bulk_body_is_counted_in_runs() {
    let up = Upstream::start().await;
    let limits = Limits {
        max_body_capture_bytes: 3000,
        ..Limits::default()
    };
    let mut proxy = TestProxy::with_limits(&up.ca_file, limits).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let n = 3_000_000;
    let got = client
        .post(up.https(&format!("/bytes?n={n}")))
        .body(vec![b'u'; n])
        .send()
        .await
        .expect("req")
        .bytes()
        .await
        .expect("body");
    assert_eq!(got.len(), n);
    let ex = proxy.only().await;
    let r = ex.response.as_ref().expect("response");
    assert_eq!(r.body.wire_size as usize, n);
    assert_eq!(ex.request.body.wire_size as usize, n);
    assert_eq!(ex.chunks.iter().map(|c| c.len).sum::<u64>(), n as u64);
    // The frames under the cap, then one run per MiB past it (plus the rest).
    assert!(
        ex.chunks.len() <= 6,
        "{} chunks for {} frames",
        ex.chunks.len(),
        n / (16 * 1024)
    );
}

/// Multi-megabyte bodies, past the capture cap and many TLS records long,
/// arrive whole and in order both ways, intercepted and plain, and the
/// capture counts every byte of them.
#[tokio::test]
async fn bulk_bodies_cross_whole_both_ways() {
    let up = Upstream::start().await;
    let cap = 1024 * 1024;
    let mut proxy = TestProxy::with(Options {
        limits: Limits {
            max_body_capture_bytes: cap,
            ..Limits::default()
        },
        upstream_ca: vec![up.ca_file.clone()],
        ..Options::default()
    })
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let body: Vec<u8> = (0..6 * 1024 * 1024 + 13)
        .map(|i: usize| (i.wrapping_mul(7) % 253) as u8)
        .collect();
    for url in [up.https("/echo"), up.http("/echo")] {
        let echoed = client
            .post(&url)
            .body(body.clone())
            .send()
            .await
            .expect("req")
            .bytes()
            .await
            .expect("body");
        assert!(
            echoed == body,
            "{url}: {} bytes back, not the same",
            echoed.len()
        );
    }
    for ex in proxy.finished(2).await {
        let r = ex.response.as_ref().expect("response");
        for captured in [&r.body, &ex.request.body] {
            assert_eq!(captured.wire_size as usize, body.len());
            assert!(captured.truncated);
            assert!(
                captured.bytes[..] == body[..cap],
                "the first {cap} bytes kept"
            );
        }
    }
}

/// An upstream that closes without TLS `close_notify` ends a body that runs
/// to the close, as it does for curl or a browser talking to it directly;
/// a body that declared its length and stopped short still fails.
#[tokio::test]
async fn a_close_without_close_notify_ends_a_body_that_runs_to_the_close() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    for flag in ["--http1.1", "--http2"] {
        let out = curl(
            &proxy.url(),
            &proxy.ca_file,
            &up.https_raw("/close-delimited"),
            &[flag],
        )
        .await;
        assert!(
            out.status.success(),
            "curl {flag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "data: one\n\ndata: two\n\n"
        );
    }
    let out = curl(
        &proxy.url(),
        &proxy.ca_file,
        &up.https_raw("/short"),
        &["--http1.1"],
    )
    .await;
    assert!(
        !out.status.success(),
        "a short body is not passed off as whole"
    );
    let done = proxy.finished(3).await;
    for ex in done.iter().filter(|e| e.request.path == "/close-delimited") {
        assert_eq!(ex.state, State::Complete, "{:?}", ex.state);
        let body = &ex.response.as_ref().expect("response").body.bytes;
        assert_eq!(&body[..], b"data: one\n\ndata: two\n\n");
    }
    let short = done
        .iter()
        .find(|e| e.request.path == "/short")
        .expect("short");
    assert_eq!(
        short.state.failure().expect("failed").kind,
        FailureKind::UpstreamReset
    );
}

/// A server that refuses a large upload answers at once and closes without
/// reading the rest: the client sees that answer through llmspy, as it
/// does direct, not a 502 for the broken pipe. (Over HTTP/2 upstream the
/// server resets only the stream, with NO_ERROR, and no write breaks.)
#[tokio::test]
async fn an_upstream_refusing_an_upload_early_is_heard() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let dir = tempfile::tempdir().expect("tmp");
    let upload = dir.path().join("upload.bin");
    std::fs::write(&upload, vec![b'u'; 8 * 1024 * 1024]).expect("write");
    let out = curl(
        &proxy.url(),
        &proxy.ca_file,
        &up.https_raw("/refuse"),
        &[
            "--http1.1",
            "-T",
            upload.to_str().expect("utf-8"),
            "-w",
            " %{http_code}",
        ],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "too large 413",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Over HTTP/2 both ways (curl direct to this upstream over HTTP/2 fails
    // the stream in this case, so reqwest is the client here).
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let refused = client
        .post(up.https("/reject"))
        .body(vec![b'u'; 8 * 1024 * 1024])
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.version(), http::Version::HTTP_2);
    assert_eq!(refused.status(), 413);
    assert_eq!(&refused.bytes().await.expect("body")[..], b"too large");
    for ex in proxy.finished(2).await {
        let r = ex.response.as_ref().expect("response");
        assert_eq!(r.status, 413);
        assert_eq!(&r.body.bytes[..], b"too large");
    }
    // The refused connection is not handed to the next request.
    let next = client.get(up.https("/after")).send().await.expect("next");
    assert_eq!(next.status(), 200);
}

/// `TE: trailers` (what gRPC clients send, the one `TE` HTTP/2 allows)
/// reaches the upstream over either protocol; any other `TE` stays with
/// the hop it was sent on.
#[tokio::test]
async fn te_trailers_reaches_the_upstream_and_other_te_does_not() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let asks = [
        ("--http2", "te: trailers"),
        ("--http1.1", "te: trailers"),
        ("--http1.1", "te: gzip"),
    ];
    for (version, te) in asks {
        let out = curl(
            &proxy.url(),
            &proxy.ca_file,
            &up.https("/echo"),
            &[version, "-H", te],
        )
        .await;
        assert!(
            out.status.success(),
            "{version} {te}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    proxy.finished(3).await;
    let got: Vec<Option<String>> = up
        .seen()
        .iter()
        .map(|s| {
            s.headers
                .get("te")
                .map(|v| v.to_str().expect("ascii").to_string())
        })
        .collect();
    let trailers = Some("trailers".to_string());
    assert_eq!(got, [trailers.clone(), trailers, None]);
}

/// Trailers pass through to the client and are captured with the body
/// they follow: gRPC's status lives there, and a call that failed answers
/// HTTP `200` all the same. Over HTTP/2, and over HTTP/1.1 to a client
/// that asks for them (`TE: trailers`, the chunked body's trailer section).
#[tokio::test]
async fn trailers_reach_the_client_and_are_captured() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    for version in ["--http2", "--http1.1"] {
        let got = crate::support::client::curl_heads_and_trailers(
            &proxy.url(),
            &proxy.ca_file,
            &up.https("/grpc"),
            version,
        )
        .await;
        assert!(got.contains("grpc-status: 5"), "{version}: {got}");
    }
    let done = proxy.finished(2).await;
    for ex in &done {
        assert_eq!(ex.state, State::Complete, "{:?}", ex.state.failure());
        let r = ex.response.as_ref().expect("response");
        assert_eq!(r.body.bytes, b"\0\0\0\0\x02hi");
        let trailers: Vec<(&str, &str)> = r.body.trailers.iter().collect();
        assert_eq!(
            trailers,
            [("grpc-status", "5"), ("grpc-message", "no model %22x%22")]
        );
        let grpc = r.grpc_status().expect("a gRPC status");
        assert_eq!(grpc.describe(), "NOT_FOUND: no model \"x\"");
        // The native form (exports, `--save`, the history) keeps them.
        let json = serde_json::to_value(llmspy::export::native::to_json(ex)).expect("json");
        assert_eq!(json["response"]["trailers"][0]["value"], "5", "{json}");
        let back = llmspy::export::native::parse_exchange(json).expect("loads");
        assert_eq!(
            back.response.expect("response").body.trailers,
            r.body.trailers
        );
    }
}

/// llmspy's own answer to a HEAD it cannot relay (here: nothing listens
/// upstream) is a head alone: over HTTP/2 a body after it would be a
/// protocol error, and curl would get no answer at all.
#[tokio::test]
async fn a_head_request_that_fails_gets_an_error_head_over_either_protocol() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "https://localhost:{}/",
        closed.local_addr().expect("addr").port()
    );
    drop(closed);
    for version in ["--http1.1", "--http2"] {
        let out = curl(&proxy.url(), &proxy.ca_file, &url, &[version, "--head"]).await;
        let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(
            out.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            head.contains(" 502") && head.contains("x-llmspy-error"),
            "{head}"
        );
    }
    let done = proxy.finished(2).await;
    assert!(done.iter().all(|e| e.state.failure().is_some()), "{done:?}");
}

/// A response that ends with its head (HEAD, over either protocol) while
/// declaring a length: the exchange is complete, not "client gone". Over
/// HTTP/2 the upstream's `content-length` is the body's size hint, yet no
/// byte of it will come, and hyper drops such a body without polling it.
#[tokio::test]
async fn a_head_request_declaring_a_length_completes() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    for version in ["--http1.1", "--http2"] {
        let out = curl(
            &proxy.url(),
            &proxy.ca_file,
            &up.https("/cookies"),
            &[version, "--head"],
        )
        .await;
        let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(head.contains(" 200"), "{head}");
    }
    let done = proxy.finished(2).await;
    for ex in &done {
        assert_eq!(ex.request.method, "HEAD");
        assert_eq!(ex.state, State::Complete, "{:?}", ex.state.failure());
        let r = ex.response.as_ref().expect("response");
        assert_eq!((r.status, r.body.bytes.len()), (200, 0));
    }
}

/// Heads are captured as they were passed on, both ways and over both
/// protocols: headers in the order they came, a repeated name's values
/// kept apart (gathered at its first place, as hyper's header map holds
/// them and sends them on), a value that is not UTF-8 kept with U+FFFD for
/// the bad byte (and passed on as it was).
#[tokio::test]
async fn heads_are_captured_in_order_with_repeats_and_bytes_kept() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    for version in ["--http1.1", "--http2"] {
        let out = curl(
            &proxy.url(),
            &proxy.ca_file,
            &up.https("/cookies"),
            &[
                version,
                "-D",
                "-",
                "-H",
                "x-dup: one",
                "-H",
                "x-other: 1",
                "-H",
                "x-dup: two",
            ],
        )
        .await;
        let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(
            head.contains("set-cookie: a=1; path=/") && head.contains("set-cookie: b=2"),
            "{head}"
        );
        let latin = out.stdout.windows(4).any(|w| w == b"caf\xe9");
        assert!(latin, "the client gets the byte as the upstream sent it");
    }
    let done = proxy.finished(2).await;
    for ex in &done {
        let sent: Vec<(&str, &str)> = ex
            .request
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with("x-"))
            .collect();
        assert_eq!(sent, [("x-dup", "one"), ("x-dup", "two"), ("x-other", "1")]);
        let r = ex.response.as_ref().expect("response");
        let cookies: Vec<&str> = r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(cookies, ["a=1; Path=/", "b=2"]);
        assert_eq!(header(&r.headers, "x-latin"), Some("caf\u{fffd}"));
    }
    let dups: Vec<Vec<String>> = up
        .seen()
        .iter()
        .map(|s| {
            s.headers
                .get_all("x-dup")
                .iter()
                .map(|v| v.to_str().expect("ascii").to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        dups,
        [["one", "two"], ["one", "two"]],
        "the upstream got both"
    );
}

/// 40 KB of request headers over HTTP/2 reach the upstream, which decides
/// (nginx and Cloudflare take 32 KB or more). hyper's HTTP/2 server allows
/// 16 KB by default and ended the whole connection for more, recording
/// nothing: the client saw "connection died".
#[tokio::test]
async fn forty_kb_of_headers_over_http2_cross_both_ways() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let cookie = format!("cookie: {}", "c".repeat(40 * 1024));
    let out = curl(
        &proxy.url(),
        &proxy.ca_file,
        &up.https_raw("/headers"),
        &["--http2", "-H", &cookie, "-w", " %{http_version}"],
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok 2",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And 40 KB of response headers from an HTTP/2 upstream come back.
    let out = curl(
        &proxy.url(),
        &proxy.ca_file,
        &up.https("/big-header"),
        &["--http2", "-D", "-"],
    )
    .await;
    let head = String::from_utf8_lossy(&out.stdout);
    assert!(
        head.contains("HTTP/2 200") && head.contains(&"b".repeat(40 * 1024)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = proxy.finished(2).await;
    let sent = header(&done[0].request.headers, "cookie").expect("cookie kept");
    assert_eq!(sent.len(), 40 * 1024);
    let r = done[1].response.as_ref().expect("response");
    assert_eq!(header(&r.headers, "x-big").map(str::len), Some(40 * 1024));
}

#[tokio::test]
async fn upstream_reset_mid_stream_is_a_failed_exchange_keeping_the_bytes() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client
        .get(up.https("/reset"))
        .send()
        .await
        .expect("head arrives");
    let mut stream = resp.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the partial body is relayed at once")
        .expect("a chunk")
        .expect("partial body");
    assert_eq!(&first[..], b"partial body ");
    up.gate.notify_one();
    let mut broke = false;
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the break reaches the client")
    {
        if chunk.is_err() {
            broke = true;
            break;
        }
    }
    assert!(broke, "the client sees the break");
    let ex = proxy.only().await;
    let failure = ex.state.failure().expect("failed");
    assert_eq!(failure.kind, FailureKind::UpstreamReset, "{failure:?}");
    assert_eq!(ex.response.expect("response").body.bytes, b"partial body ");
    // The proxy keeps serving others.
    let ok = client
        .get(up.https("/x"))
        .send()
        .await
        .expect("req")
        .text()
        .await
        .expect("text");
    assert_eq!(ok, "ok");
}

#[tokio::test]
async fn unreachable_upstream_answers_502_naming_the_cause() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("a")
        .port();
    let resp = client
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .await
        .expect("response");
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-llmspy-error"], "upstream_connect");
    assert!(
        resp.text()
            .await
            .expect("text")
            .contains(&format!("cannot connect to 127.0.0.1:{port}"))
    );
    let ex = proxy.only().await;
    assert_eq!(
        ex.state.failure().expect("failed").kind,
        FailureKind::UpstreamConnect
    );
}

#[tokio::test]
async fn untrusted_upstream_certificate_is_an_upstream_tls_failure() {
    let up = Upstream::start().await;
    // No --upstream-ca: the test upstream's CA is unknown to llmspy.
    let mut proxy = TestProxy::with(Options::default()).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client.get(up.https("/")).send().await.expect("response");
    assert_eq!(resp.status(), 502);
    assert!(resp.text().await.expect("t").contains("--upstream-ca"));
    let ex = proxy.only().await;
    assert_eq!(
        ex.state.failure().expect("failed").kind,
        FailureKind::UpstreamTls
    );
}

/// A call whose upstream was never reached (refused over HTTP/1.1 and
/// HTTP/2, an untrusted certificate) is still the record of what was
/// sent: its body is captured, so it reads as the LLM call it was.
#[tokio::test]
async fn a_call_that_never_reached_its_upstream_keeps_its_body() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options::default()).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("a")
        .port();
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"never sent"}]}"#;
    let h1 = crate::support::client::reqwest_http1(&proxy.url(), &proxy.ca_file);
    let h2 = reqwest(&proxy.url(), &proxy.ca_file);
    let calls = [
        (
            &h1,
            format!("https://127.0.0.1:{dead}/v1/messages"),
            FailureKind::UpstreamConnect,
        ),
        (
            &h2,
            format!("https://127.0.0.1:{dead}/v1/messages"),
            FailureKind::UpstreamConnect,
        ),
        // No --upstream-ca: the test upstream's certificate is refused.
        (&h2, up.https("/v1/messages"), FailureKind::UpstreamTls),
    ];
    for (client, url, _) in &calls {
        let resp = client
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answer");
        assert_eq!(resp.status(), 502);
    }
    let done = proxy.finished(calls.len()).await;
    for (ex, (_, _, kind)) in done.iter().zip(&calls) {
        assert_eq!(ex.state.failure().expect("failed").kind, *kind);
        assert_eq!(ex.request.body.bytes, body.as_bytes(), "{kind:?}");
        let a = llmspy::llm::analyse(ex).expect("read as an LLM call");
        assert_eq!(a.model.as_deref(), Some("claude-sonnet-4-5"));
    }
}

/// An upstream that answers with something other than HTTP, or closes in
/// the middle of its head, is named for what it did, not as "closed the
/// connection" alone.
#[tokio::test]
async fn an_upstream_answer_that_is_not_http_is_named_as_such() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    for (path, says) in [
        ("/not-http", "answered with something that is not HTTP"),
        (
            "/half-head",
            "closed the connection before a whole response",
        ),
    ] {
        let resp = client
            .get(up.https_raw(path))
            .send()
            .await
            .expect("response");
        assert_eq!(resp.status(), 502);
        let text = resp.text().await.expect("text");
        assert!(text.contains(says), "{path}: {text}");
    }
    for ex in proxy.finished(2).await {
        let failure = ex.state.failure().expect("failed");
        assert_eq!(failure.kind, FailureKind::UpstreamReset);
        let says = if ex.request.path == "/not-http" {
            "not HTTP"
        } else {
            "before a whole response"
        };
        assert!(failure.message.contains(says), "{}", failure.message);
    }
}

/// An https:// URL aimed at a port that answers in plain HTTP: a TLS
/// failure that says so, not "closed the connection".
#[tokio::test]
async fn a_plain_http_port_asked_for_tls_is_named_as_such() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let url = up.http("/").replacen("http://", "https://", 1);
    let resp = client.get(&url).send().await.expect("response");
    assert_eq!(resp.status(), 502);
    let text = resp.text().await.expect("t");
    assert!(text.contains("plain HTTP"), "{text}");
    let ex = proxy.only().await;
    let f = ex.state.failure().expect("failed");
    assert_eq!(f.kind, FailureKind::UpstreamTls, "{}", f.message);
    assert!(
        !f.message.contains("closed the connection"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn client_rejecting_the_ca_is_recorded_with_the_fix() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    // curl trusting only the upstream's CA rejects llmspy's certificate.
    let out = curl(&proxy.url(), &up.ca_file, &up.https("/"), &[]).await;
    assert!(!out.status.success());
    let ex = proxy.only().await;
    let f = ex.state.failure().expect("failed");
    assert_eq!(f.kind, FailureKind::ClientRejectedCa, "{f:?}");
    assert!(f.message.contains("NODE_EXTRA_CA_CERTS"), "{}", f.message);
    assert!(f.message.contains("127.0.0.1"));
    // Everyone else is still served.
    let ok = curl(&proxy.url(), &proxy.ca_file, &up.https("/"), &[]).await;
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "ok");
}

#[tokio::test]
async fn ndjson_chunks_are_stamped() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let text = client
        .get(up.https("/ndjson"))
        .send()
        .await
        .expect("req")
        .text()
        .await
        .expect("t");
    assert_eq!(text.lines().count(), 3);
    let ex = proxy.only().await;
    assert_eq!(ex.chunks.len(), 3);
}

/// A proxy whose streams give up after `limit` without data.
async fn with_idle_limit(up: &Upstream, limit: Duration) -> TestProxy {
    let relay = llmspy::engine::RelaySettings {
        streaming_enabled: true,
        idle_timeout: Some(limit),
        ..Default::default()
    };
    TestProxy::with(Options {
        relay,
        upstream_ca: vec![up.ca_file.clone()],
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn idle_stream_is_closed_and_marked() {
    let up = Upstream::start().await;
    let mut proxy = with_idle_limit(&up, Duration::from_millis(300)).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client.get(up.https("/stall")).send().await.expect("head");
    assert!(resp.bytes().await.is_err());
    let ex = proxy.only().await;
    assert_eq!(
        ex.state.failure().expect("failed").kind,
        FailureKind::IdleTimeout
    );
}

/// The idle limit counts from the last frame, not from the start: a stream
/// whose events come more often than the limit runs longer than it.
#[tokio::test]
async fn a_steady_stream_outlasts_the_idle_limit() {
    let up = Upstream::start().await;
    let mut proxy = with_idle_limit(&up, Duration::from_millis(300)).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let started = std::time::Instant::now();
    let body = client
        .get(up.https("/sse/timed?n=6&gap_us=150000"))
        .send()
        .await
        .expect("head")
        .text()
        .await
        .expect("the whole stream, though it ran past the idle limit");
    assert!(started.elapsed() > Duration::from_millis(600));
    assert_eq!(body.matches("sent_ns").count(), 6);
    let ex = proxy.only().await;
    assert_eq!(ex.state, State::Complete);
}

#[tokio::test]
async fn fifty_concurrent_clients() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = reqwest(&proxy.url(), &proxy.ca_file);
        let url = if i % 2 == 0 {
            up.https("/echo")
        } else {
            up.http("/echo")
        };
        tasks.push(tokio::spawn(async move {
            let body = format!("client {i}");
            let got = client
                .post(url)
                .body(body.clone())
                .send()
                .await
                .expect("req")
                .text()
                .await
                .expect("t");
            assert_eq!(got, body);
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let done = proxy.finished(50).await;
    assert_eq!(done.len(), 50);
    assert!(done.iter().all(|e| e.state == State::Complete));
    let mut ids: Vec<_> = done.iter().map(|e| e.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 50, "ids are unique");
}

/// Answers `/mocked` itself; everything else goes upstream.
struct TestResponder;

impl llmspy::engine::Responder for TestResponder {
    fn active(&self) -> bool {
        true
    }

    fn decide(&self, request: &llmspy::exchange::Request) -> llmspy::engine::Decision {
        use llmspy::engine::{Decision, MockChunk, MockResponse};
        if request.path != "/mocked" {
            return Decision::Forward;
        }
        assert_eq!(
            request.body.bytes, b"question",
            "the responder sees the whole body"
        );
        let chunk = |ms, text: &'static str| MockChunk {
            delay: Duration::from_millis(ms),
            data: bytes::Bytes::from_static(text.as_bytes()),
        };
        Decision::Respond(MockResponse {
            expectation_id: "exp-1".into(),
            status: 200,
            headers: llmspy::exchange::Headers::from([("content-type", "text/event-stream")]),
            chunks: vec![chunk(0, "data: one\n\n"), chunk(20, "data: two\n\n")],
            trailers: Default::default(),
        })
    }
}

#[tokio::test]
async fn a_responder_answers_matching_requests_and_forwards_the_rest() {
    let up = Upstream::start().await;
    let responder: std::sync::Arc<dyn llmspy::engine::Responder> =
        std::sync::Arc::new(TestResponder);
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        responder: Some(responder),
        ..Options::default()
    })
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let mocked = client
        .post(up.https("/mocked"))
        .body("question")
        .send()
        .await
        .expect("req");
    assert_eq!(
        mocked.text().await.expect("text"),
        "data: one\n\ndata: two\n\n"
    );
    let echoed = client
        .post(up.https("/echo"))
        .body("through")
        .send()
        .await
        .expect("req");
    assert_eq!(echoed.text().await.expect("text"), "through");
    assert_eq!(
        up.seen().len(),
        1,
        "only the unmatched request reached the upstream"
    );
    let done = proxy.finished(2).await;
    let m = done
        .iter()
        .find(|e| e.request.path == "/mocked")
        .expect("mocked");
    assert_eq!(
        m.source,
        llmspy::exchange::Source::Mock {
            expectation_id: "exp-1".into()
        }
    );
    assert_eq!(m.request.body.bytes, b"question");
    assert_eq!(m.chunks.len(), 2);
    assert!(
        m.chunks[1].at_us - m.chunks[0].at_us >= 15_000,
        "the delay is played: {:?}",
        m.chunks
    );
    assert_eq!(m.state, State::Complete);
}

/// Reads a chat stream until `needle`, then drops the response (the client
/// hangs up) while the upstream still holds the body open.
async fn hang_up_after(
    proxy: &mut TestProxy,
    url: &str,
    needle: &str,
) -> llmspy::exchange::Exchange {
    let body =
        r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    hang_up_after_sending(proxy, url, body, needle).await
}

async fn hang_up_after_sending(
    proxy: &mut TestProxy,
    url: &str,
    body: &'static str,
    needle: &str,
) -> llmspy::exchange::Exchange {
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body)
        .send()
        .await
        .expect("request");
    let mut stream = resp.bytes_stream();
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("chunk in time")
            .expect("stream open")
            .expect("chunk");
        seen.extend_from_slice(&chunk);
    }
    drop(stream);
    drop(client);
    proxy.only().await
}

#[tokio::test]
async fn client_hanging_up_after_done_leaves_a_complete_exchange() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let ex = hang_up_after(&mut proxy, &up.https("/v1/chat/completions"), "[DONE]").await;
    assert_eq!(
        ex.state,
        State::Complete,
        "the stream had ended: {:?}",
        ex.state
    );
}

#[tokio::test]
async fn client_hanging_up_mid_stream_is_still_client_gone() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let ex = hang_up_after(&mut proxy, &up.https("/v1/chat/completions?cut=1"), "Hi").await;
    match ex.state {
        State::Failed(f) => assert_eq!(f.kind, FailureKind::ClientGone),
        other => panic!("expected client gone, got {other:?}"),
    }
}

#[tokio::test]
async fn mcp_client_hanging_up_after_its_response_leaves_a_complete_exchange() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let request = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
    let ex = hang_up_after_sending(&mut proxy, &up.https("/mcp"), request, "\"id\":1").await;
    assert_eq!(
        ex.state,
        State::Complete,
        "the response had arrived: {:?}",
        ex.state
    );
}

/// What the proxy answers to `bytes`: up to the end of a response head,
/// or nothing if it closes the connection first.
async fn raw_exchange(proxy: &TestProxy, bytes: &[u8]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(proxy.addr)
        .await
        .expect("connect");
    tcp.write_all(bytes).await.expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("an answer or a close")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    answer
}

#[tokio::test]
async fn bad_input_is_refused_and_everyone_else_is_still_served() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    // Neither HTTP, CONNECT, SOCKS5 nor TLS: closed without an answer.
    let junk = raw_exchange(&proxy, b"\x00\x01\x02 definitely not a protocol\r\n\r\n").await;
    assert!(junk.is_empty(), "junk got an answer: {junk:?}");
    // HTTP with a broken header line: a 400 from the HTTP layer.
    let broken = raw_exchange(
        &proxy,
        b"GET http://example.test/ HTTP/1.1\r\nno colon here\r\n\r\n",
    )
    .await;
    let text = String::from_utf8_lossy(&broken);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    // CONNECT without a port-bearing authority: a 400 naming the problem.
    let connect = raw_exchange(&proxy, b"CONNECT /nothing HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let text = String::from_utf8_lossy(&connect);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    // A port out of range or missing is refused, not taken as 443; a URL
    // that is not HTTP is not relayed as HTTP.
    for (head, says) in [
        (
            &b"CONNECT example.test:99999 HTTP/1.1\r\nHost: example.test:99999\r\n\r\n"[..],
            "a port from 1 to 65535",
        ),
        (
            &b"CONNECT example.test HTTP/1.1\r\nHost: example.test\r\n\r\n"[..],
            "a port from 1 to 65535",
        ),
        (
            &b"GET ftp://127.0.0.1/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"[..],
            "only http:// and https://",
        ),
    ] {
        let answer = raw_exchange(&proxy, head).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 400") && text.contains(says),
            "{text}"
        );
    }
    // And a real client right after is relayed as usual.
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client
        .post(up.https("/echo"))
        .body("still here")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "still here");
    assert_eq!(proxy.only().await.state, State::Complete);
}

/// A request body the client itself broke (a malformed chunk, a declared
/// length never sent) is the client's failure, answered 400: it was
/// reported as the upstream resetting, sending users to debug the wrong
/// server.
#[tokio::test]
async fn a_request_body_the_client_broke_is_blamed_on_the_client() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let url = up.http("/echo");
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("authority")
        .to_string();

    let mut s = tokio::net::TcpStream::connect(proxy.addr)
        .await
        .expect("connect");
    s.write_all(
        format!(
            "POST {url} HTTP/1.1\r\nHost: {authority}\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("x-llmspy-error: malformed_request"), "{text}");
    assert!(
        text.contains("the client sent a malformed request body"),
        "{text}"
    );

    let mut s = tokio::net::TcpStream::connect(proxy.addr)
        .await
        .expect("connect");
    s.write_all(
        format!(
            "POST {url} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 100\r\n\r\n0123456789"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    s.shutdown().await.expect("half-close");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;

    let done = proxy.finished(2).await;
    let kinds: Vec<FailureKind> = done
        .iter()
        .map(|ex| ex.state.failure().expect("failed").kind)
        .collect();
    assert_eq!(
        kinds,
        [FailureKind::MalformedRequest, FailureKind::ClientGone],
        "{done:?}"
    );
    assert!(
        done[1]
            .state
            .failure()
            .expect("failed")
            .message
            .contains("before its end"),
        "{:?}",
        done[1].state
    );
}

/// Established TCP connections (IPv4) from this process's sockets to
/// `port`: the relay's side of its upstream connections.
pub fn connections_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let want = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() > 3 && cols[2].ends_with(&want) && cols[3] == "01"
        })
        .count()
}

/// Idle upstream connections are closed once their idle time passes: the
/// pool had no timer, so a burst's connections stayed open for as long as
/// llmspy ran.
#[tokio::test]
async fn idle_upstream_connections_are_closed_after_their_idle_time() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        relay: llmspy::engine::RelaySettings {
            upstream_idle_timeout: Duration::from_millis(300),
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    // The upstream holds each answer until all 48 have arrived, so the
    // relay needs 48 connections at once.
    let sends = (0..48).map(|i| {
        let client = client.clone();
        let url = up.http(&format!("/sse/gated?burst={i}"));
        async move { client.get(url).send().await.expect("send").bytes().await }
    });
    // Once all 48 are in, the gate is opened until every stream ended (a
    // stream still sending its first event is not waiting on it yet).
    let seen_before = up.seen().len();
    let release = async {
        while up.seen().len() < seen_before + 48 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        loop {
            up.gate.notify_waiters();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let answers = tokio::select! {
        answers = futures_util::future::join_all(sends) => answers,
        () = release => unreachable!("releases until the answers are in"),
    };
    assert!(answers.iter().all(Result::is_ok));
    proxy.finished(48).await;
    let port = up.plain_addr.port();
    let mut open = connections_to(port);
    assert!(open > 0, "the burst's connections are pooled");
    // Bounded: the pool's timer closes them about 300 ms after their use.
    for _ in 0..200 {
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        open = connections_to(port);
    }
    assert_eq!(
        open, 0,
        "upstream connections left open past their idle time"
    );
}
