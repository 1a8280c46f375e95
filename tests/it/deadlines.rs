//! Issue 13: every phase has a deadline, nothing stays in flight, a panic
//! costs one exchange, and the store's counts add up. Deadlines are set
//! short by settings; the tests wait on closes and store events, not clocks.

use std::sync::Arc;
use std::time::Duration;

use llmspy::engine::RelaySettings;
use llmspy::exchange::{Exchange, FailureKind, State};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::client::reqwest;
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

const SHORT: Duration = Duration::from_millis(300);

async fn proxy_with(up: &Upstream, relay: RelaySettings) -> TestProxy {
    TestProxy::with(Options {
        relay,
        upstream_ca: vec![up.ca_file.clone()],
        ..Options::default()
    })
    .await
}

/// A proxy whose client idle limit is [`SHORT`].
async fn short_idle_proxy(up: &Upstream) -> TestProxy {
    let relay = RelaySettings {
        client_idle_timeout: Some(SHORT),
        ..RelaySettings::default()
    };
    proxy_with(up, relay).await
}

/// Connect, send `bytes`, then read until llmspy closes the connection
/// (bounded: a connection still open after 10 s fails the test).
async fn held_until_closed(addr: std::net::SocketAddr, bytes: Vec<u8>) -> Vec<u8> {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(&bytes).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "still open after 10 s: sent {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            });
        match read {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn failure_of(ex: &Exchange) -> (FailureKind, String) {
    match &ex.state {
        State::Failed(f) => (f.kind, f.message.clone()),
        other => panic!("expected a failed exchange, got {other:?}"),
    }
}

#[tokio::test]
async fn stalled_clients_are_closed_at_the_client_idle_deadline() {
    let up = Upstream::start().await;
    let proxy = short_idle_proxy(&up).await;
    let tls = up.tls_addr;
    let connect = format!("CONNECT {tls} HTTP/1.1\r\nHost: {tls}\r\n\r\n");
    // A ClientHello record header and a few bytes of it, then nothing.
    let mut half_hello = connect.clone().into_bytes();
    half_hello.extend_from_slice(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]);
    // A SOCKS5 greeting (no auth) and a CONNECT to the upstream, then nothing.
    let std::net::SocketAddr::V4(tls_v4) = tls else {
        panic!("the test upstream listens on IPv4")
    };
    let mut socks_tunnel = vec![5, 1, 0, 5, 1, 0, 1];
    socks_tunnel.extend_from_slice(&tls_v4.ip().octets());
    socks_tunnel.extend_from_slice(&tls_v4.port().to_be_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "half a request head",
            b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHos".to_vec(),
        ),
        ("half a SOCKS5 greeting", vec![5, 2, 0]),
        ("a SOCKS5 tunnel that never starts TLS", socks_tunnel),
        ("a CONNECT that never starts TLS", connect.into_bytes()),
        ("a TLS handshake that stalls", half_hello),
        (
            "an idle keep-alive connection",
            b"GET /llmspy/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
        ),
        (
            "an HTTP/2 preface and nothing more",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
    ];
    let mut held = Vec::new();
    for (what, bytes) in cases {
        let addr = proxy.addr;
        held.push((what, tokio::spawn(held_until_closed(addr, bytes))));
    }
    for (what, task) in held {
        let answer = task.await.expect(what);
        let text = String::from_utf8_lossy(&answer);
        match what {
            "a CONNECT that never starts TLS" | "a TLS handshake that stalls" => {
                assert!(text.starts_with("HTTP/1.1 200"), "{what}: {text}")
            }
            "an idle keep-alive connection" => {
                assert!(text.starts_with("HTTP/1.1 200"), "{what}: {text}")
            }
            // Both SOCKS5 replies (method chosen, tunnel open) came first.
            "a SOCKS5 tunnel that never starts TLS" => {
                assert_eq!(answer.get(..4), Some(&[5, 0, 5, 0][..]), "{what}")
            }
            _ => {}
        }
    }
    let s = proxy.store.read();
    assert_eq!(
        s.count(),
        0,
        "no exchange for clients that never sent a request"
    );
}

#[tokio::test]
async fn a_client_stalling_its_upload_is_a_failed_exchange_naming_the_limit() {
    let up = Upstream::start().await;
    let mut proxy = short_idle_proxy(&up).await;
    let plain = up.plain_addr;
    let head = format!(
        "POST http://{plain}/echo HTTP/1.1\r\nHost: {plain}\r\nContent-Length: 100\r\n\r\n0123456789"
    );
    let answer = held_until_closed(proxy.addr, head.into_bytes()).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let (kind, message) = failure_of(&proxy.only().await);
    assert_eq!(kind, FailureKind::ClientTimeout);
    assert_eq!(
        message,
        "the client sent no request body data for 0.3 s (clientIdleTimeoutSeconds)"
    );
}

#[tokio::test]
async fn an_upstream_that_never_answers_gets_a_504_naming_the_limit() {
    let up = Upstream::start().await;
    let mut proxy = proxy_with(
        &up,
        RelaySettings {
            upstream_response_timeout: Some(SHORT),
            ..RelaySettings::default()
        },
    )
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let resp = client.get(up.https("/hang")).send().await.expect("answer");
    assert_eq!(resp.status(), 504);
    assert_eq!(resp.headers()["x-llmspy-error"], "upstream_timeout");
    let ex = proxy.only().await;
    let (kind, message) = failure_of(&ex);
    assert_eq!(kind, FailureKind::UpstreamTimeout);
    assert_eq!(
        message,
        format!(
            "no response headers from 127.0.0.1:{} within 0.3 s (upstreamResponseTimeoutSeconds)",
            up.tls_addr.port()
        )
    );
    assert_eq!(ex.response.expect("the 504 is recorded").status, 504);
    tokio::time::timeout(Duration::from_secs(10), up.cancelled.notified())
        .await
        .expect("the upstream request is abandoned");
}

#[tokio::test]
async fn the_connect_deadline_covers_an_upstream_that_never_finishes_tls() {
    let up = Upstream::start().await;
    // Accepts TCP and never says a word: the TLS handshake never completes.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let mut proxy = proxy_with(
        &up,
        RelaySettings {
            upstream_connect_timeout: Some(SHORT),
            ..RelaySettings::default()
        },
    )
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let url = format!("https://127.0.0.1:{port}/v1/messages");
    let resp = client.get(url).send().await.expect("answer");
    assert_eq!(resp.status(), 504);
    let (kind, message) = failure_of(&proxy.only().await);
    assert_eq!(kind, FailureKind::UpstreamTimeout);
    assert_eq!(
        message,
        format!(
            "no connection to 127.0.0.1:{port} within 0.3 s (TCP connect and TLS handshake; upstreamConnectTimeoutSeconds)"
        )
    );
}

#[tokio::test]
async fn a_client_that_gives_up_finalises_its_exchange_at_once_and_cancels_upstream() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    for url in [up.https("/hang"), up.http("/hang")] {
        let pem = std::fs::read(&proxy.ca_file).expect("CA");
        let client = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(proxy.url()).expect("proxy"))
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
            .timeout(Duration::from_millis(500))
            .build()
            .expect("client");
        let err = client
            .get(url)
            .send()
            .await
            .expect_err("the client gives up");
        assert!(err.is_timeout(), "{err}");
        tokio::time::timeout(Duration::from_secs(10), up.cancelled.notified())
            .await
            .expect("the upstream request is cancelled");
    }
    let done = proxy.finished(2).await;
    for ex in &done {
        let (kind, message) = failure_of(ex);
        assert_eq!(kind, FailureKind::ClientGone);
        assert!(
            message.starts_with("client went away after 0.")
                && message.ends_with(" s, before the response"),
            "{message}"
        );
        let end = ex.timings.end_us.expect("end recorded");
        assert!(end < 10_000_000, "finalised when the client left: {end} µs");
    }
    assert_eq!(proxy.store.read().counts().open, 0);
}

#[tokio::test]
async fn shutdown_finalises_every_open_exchange() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let url = up.https("/hang");
    let waiting = tokio::spawn(async move { client.get(url).send().await });
    while proxy.store.read().counts().open == 0 {
        tokio::time::timeout(Duration::from_secs(10), proxy.events.recv())
            .await
            .expect("the exchange starts")
            .expect("events");
    }
    llmspy::cli::proxy::drain_within(&proxy.store, &proxy.recorder, Duration::ZERO).await;
    let ex = proxy.only().await;
    let (kind, _) = failure_of(&ex);
    assert_eq!(kind, FailureKind::Shutdown);
    assert!(
        ex.timings.end_us.is_some_and(|us| us > 0),
        "{:?}",
        ex.timings
    );
    waiting.abort();
}

/// Panics on `/boom`; forwards everything else.
struct Bomb;

impl llmspy::engine::Responder for Bomb {
    fn active(&self) -> bool {
        true
    }

    fn decide(&self, request: &llmspy::exchange::Request) -> llmspy::engine::Decision {
        if request.path == "/boom" {
            panic!("a parser met input it did not expect");
        }
        llmspy::engine::Decision::Forward
    }
}

#[tokio::test]
async fn a_panic_fails_that_exchange_and_the_proxy_keeps_serving() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        responder: Some(Arc::new(Bomb)),
        ..Options::default()
    })
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    let boom = client
        .post(up.https("/boom"))
        .body("x")
        .send()
        .await
        .expect("answer");
    assert_eq!(boom.status(), 500);
    let fine = client
        .post(up.https("/echo"))
        .body("still here")
        .send()
        .await
        .expect("answer");
    assert_eq!(fine.text().await.expect("body"), "still here");
    let done = proxy.finished(2).await;
    let failed = done
        .iter()
        .find(|e| e.request.path == "/boom")
        .expect("boom");
    assert_eq!(failure_of(failed).0, FailureKind::Internal);
    let ok = done
        .iter()
        .find(|e| e.request.path == "/echo")
        .expect("echo");
    assert_eq!(ok.state, State::Complete);
}

#[tokio::test]
async fn max_exchanges_keeps_exactly_n_counting_failures_and_status_adds_up() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        limits: llmspy::capture::Limits {
            max_exchanges: 5,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let client = reqwest(&proxy.url(), &proxy.ca_file);
    // Nothing listens on a port just closed: a refused connect, a 502.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    for i in 0..8 {
        let url = if i == 4 || i == 6 {
            format!("http://127.0.0.1:{dead}/gone")
        } else {
            up.https("/echo")
        };
        let _ = client.post(url).body("x").send().await.expect("answer");
    }
    let (done, flushed) = tokio::sync::oneshot::channel();
    proxy
        .recorder
        .send(llmspy::capture::CaptureMsg::Flush(done));
    flushed.await.expect("flushed");
    let kept = proxy.finished(5).await;
    assert_eq!(kept.len(), 5);
    let ids: Vec<u64> = kept.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![4, 5, 6, 7, 8], "the newest five");
    let status: serde_json::Value = reqwest::Client::new()
        .put(format!("{}/llmspy/status", proxy.url()))
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    let n = |k: &str| {
        status[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {status}"))
    };
    assert_eq!(n("recorded"), 8);
    assert_eq!(n("kept"), 5);
    assert_eq!(n("evicted"), 3);
    assert_eq!(n("recorded"), n("kept") + n("evicted") + n("cleared"));
    assert_eq!(n("failed"), 2, "{status}");
    assert_eq!(n("complete") + n("failed") + n("open"), n("kept"));
}

/// A client that asks for a large answer and reads none of it is closed
/// at the client idle limit (nginx's `send_timeout`): it held its
/// connection, the upstream's and the buffers between them for as long as
/// it liked. The exchange fails as the client's doing.
#[tokio::test]
async fn a_client_that_reads_nothing_is_closed_at_the_idle_limit() {
    let up = Upstream::start().await;
    let mut proxy = short_idle_proxy(&up).await;
    let plain = up.plain_addr;
    // 64 MiB: more than the sockets and buffers between can hold.
    let mut s = tokio::net::TcpStream::connect(proxy.addr)
        .await
        .expect("connect");
    s.write_all(
        format!("GET http://{plain}/bytes?n=67108864 HTTP/1.1\r\nHost: {plain}\r\n\r\n").as_bytes(),
    )
    .await
    .expect("write");
    // Never read: wait (bounded) for llmspy to give up on the client.
    let ex = tokio::time::timeout(Duration::from_secs(30), proxy.only())
        .await
        .expect("the exchange ends without the client reading");
    let (kind, message) = failure_of(&ex);
    assert_eq!(kind, FailureKind::ClientGone, "{message}");
    drop(s);
}

/// Over HTTP/2 a client can read its socket and still take nothing of one
/// stream (its window left at 0): that stream is reset at the client idle
/// limit and its exchange fails as the client's timeout, while a stream
/// whose upstream pauses longer than the limit between events is left
/// alone.
#[tokio::test]
async fn an_http2_stream_its_client_takes_nothing_of_is_reset_at_the_idle_limit() {
    let up = Upstream::start().await;
    let mut proxy = short_idle_proxy(&up).await;
    let proxy_url = ::reqwest::Proxy::all(proxy.url()).expect("proxy");
    let client = crate::support::client::reqwest_with(proxy_url, &proxy.ca_file, true);
    // Events 600 ms apart, twice the limit: the upstream's pauses.
    let paced = client
        .get(up.https("/sse/timed?n=3&gap_us=600000"))
        .send()
        .await
        .expect("send");
    assert_eq!(paced.version(), http::Version::HTTP_2);
    let paced_body = paced.text().await.expect("a paced stream is not cut");
    assert_eq!(paced_body.matches("data:").count(), 3, "{paced_body}");
    let paced_ex = proxy.only().await;
    assert_eq!(paced_ex.state, State::Complete, "{:?}", paced_ex.state);
    // 64 MiB, never read.
    let held = client
        .get(up.https("/bytes?n=67108864"))
        .send()
        .await
        .expect("send");
    let done = tokio::time::timeout(Duration::from_secs(30), proxy.finished(2))
        .await
        .expect("the stream ends without its client taking anything");
    let (kind, message) = failure_of(&done[1]);
    assert_eq!(kind, FailureKind::ClientTimeout, "{message}");
    assert!(message.contains("HTTP/2 stream"), "{message}");
    // The client learns of it as a reset stream.
    let read = tokio::time::timeout(Duration::from_secs(10), held.bytes()).await;
    assert!(matches!(read, Ok(Err(_))), "{read:?}");
}
