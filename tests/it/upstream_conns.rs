//! Upstream connections as clients use them: an intercepted HTTP/1.1 client
//! connection keeps the one it used last, a closed one is replaced, one left
//! idle when its client goes is closed after its idle time; HTTP/2 clients
//! share one, which no client that stops reading can stall.

use std::sync::atomic::Ordering;
use std::time::Duration;

use llmspy::exchange::State;

use crate::support::client::{reqwest_http1, reqwest_with};
use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

async fn proxy_for(up: &Upstream, relay: llmspy::engine::RelaySettings) -> TestProxy {
    TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        relay,
        ..Options::default()
    })
    .await
}

/// Ten requests in turn on one client connection: one upstream connection,
/// each request sent in origin form with the upstream's `Host`.
#[tokio::test]
async fn a_client_connection_keeps_its_upstream_connection() {
    let up = Upstream::start().await;
    let mut proxy = proxy_for(&up, Default::default()).await;
    let client = reqwest_http1(&proxy.url(), &proxy.ca_file);
    let before = up.tls_connections.load(Ordering::SeqCst);
    for i in 0..10 {
        let resp = client
            .get(up.https(&format!("/echo?i={i}")))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200);
        resp.bytes().await.expect("body");
    }
    proxy.finished(10).await;
    assert_eq!(
        up.tls_connections.load(Ordering::SeqCst) - before,
        1,
        "one upstream connection for one client connection's requests"
    );
    let seen = up.seen();
    let last = seen.last().expect("seen");
    assert_eq!(last.path, "/echo?i=9");
    assert_eq!(last.version, http::Version::HTTP_11);
    let host = last.headers.get("host").expect("host").to_str().unwrap();
    assert_eq!(host, format!("127.0.0.1:{}", up.tls_addr.port()));
}

/// An upstream that closes its connection after each answer: the next
/// request on the same client connection goes on a new one, and none fails.
#[tokio::test]
async fn a_connection_the_upstream_closed_is_replaced() {
    let up = Upstream::start().await;
    let mut proxy = proxy_for(&up, Default::default()).await;
    let client = reqwest_http1(&proxy.url(), &proxy.ca_file);
    let before = up.tls_connections.load(Ordering::SeqCst);
    for i in 0..5 {
        let resp = client
            .get(up.https(&format!("/echo?close=1&i={i}")))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200, "request {i}");
        assert_eq!(resp.bytes().await.expect("body"), "");
    }
    let done = proxy.finished(5).await;
    assert!(done.iter().all(|e| e.state == State::Complete), "{done:?}");
    assert_eq!(up.tls_connections.load(Ordering::SeqCst) - before, 5);
}

/// When the client connection ends, its upstream connection is parked for
/// the next one and closed once idle past `upstream_idle_timeout`.
#[tokio::test]
async fn a_parked_upstream_connection_closes_after_its_idle_time() {
    let up = Upstream::start().await;
    let relay = llmspy::engine::RelaySettings {
        // Long enough that a loaded machine does not pass it between a
        // response and the next step of the test.
        upstream_idle_timeout: Duration::from_millis(1000),
        ..Default::default()
    };
    let mut proxy = proxy_for(&up, relay).await;
    let clients: Vec<_> = (0..4)
        .map(|_| reqwest_http1(&proxy.url(), &proxy.ca_file))
        .collect();
    let sends = clients
        .iter()
        .map(|c| async { c.get(up.https("/echo")).send().await?.bytes().await });
    let answers = futures_util::future::join_all(sends).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    proxy.finished(4).await;
    let port = up.tls_addr.port();
    assert!(
        crate::engine::connections_to(port) > 0,
        "kept while the clients are"
    );
    drop(clients);
    let mut open = crate::engine::connections_to(port);
    for _ in 0..200 {
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        open = crate::engine::connections_to(port);
    }
    assert_eq!(
        open, 0,
        "upstream connections left open past their idle time"
    );
}

/// A client connection that ends leaves its upstream connection to the
/// next one its worker serves: requests on fresh connections, which go
/// round the two workers, use one upstream connection per worker.
#[tokio::test]
async fn an_ended_client_connection_leaves_its_upstream_connection_to_the_next() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        workers: Some(2),
        ..Options::default()
    })
    .await;
    for i in 0..6 {
        let client = reqwest_http1(&proxy.url(), &proxy.ca_file);
        let resp = client
            .get(up.https(&format!("/echo?i={i}")))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.version(), http::Version::HTTP_11);
        resp.bytes().await.expect("body");
    }
    proxy.finished(6).await;
    assert_eq!(up.tls_connections.load(Ordering::SeqCst), 2);
}

/// A kept connection idle past `upstream_idle_timeout` is not used again:
/// the next request on the same client connection opens a new one.
#[tokio::test]
async fn a_kept_connection_idle_past_its_time_is_not_used_again() {
    let up = Upstream::start().await;
    let relay = llmspy::engine::RelaySettings {
        // Long enough that a loaded machine does not pass it between a
        // response and the next step of the test.
        upstream_idle_timeout: Duration::from_millis(1000),
        ..Default::default()
    };
    let mut proxy = proxy_for(&up, relay).await;
    let client = reqwest_http1(&proxy.url(), &proxy.ca_file);
    let before = up.tls_connections.load(Ordering::SeqCst);
    let get = |i: usize| client.get(up.https(&format!("/echo?i={i}"))).send();
    get(1).await.expect("send").bytes().await.expect("body");
    get(2).await.expect("send").bytes().await.expect("body");
    assert_eq!(up.tls_connections.load(Ordering::SeqCst) - before, 1);
    // Idle past the limit (the time itself is what is tested).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    get(3).await.expect("send").bytes().await.expect("body");
    proxy.finished(3).await;
    assert_eq!(up.tls_connections.load(Ordering::SeqCst) - before, 2);
}

/// A kept connection the server closes as the next request arrives (its
/// keep-alive timeout): a GET is sent again on a new connection and
/// answered; a POST, which may not be sent twice, fails with the reason.
#[tokio::test]
async fn a_get_lost_to_a_closing_idle_connection_is_sent_again() {
    let up = Upstream::start().await;
    let mut proxy = proxy_for(&up, Default::default()).await;
    let client = reqwest_http1(&proxy.url(), &proxy.ca_file);
    let url = up.https_raw("/keep-then-drop");
    let first = client.get(&url).send().await.expect("send");
    assert_eq!(first.text().await.expect("body"), "ok");
    // Idle long enough for a server's keep-alive timeout to be plausible.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = client.get(&url).send().await.expect("send");
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.expect("body"), "ok");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let post = client.post(&url).body("once").send().await.expect("send");
    assert_eq!(post.status(), 502);
    let done = proxy.finished(3).await;
    assert_eq!(done[1].state, State::Complete, "{:?}", done[1].state);
    // The record says which request went out twice.
    assert_eq!(done[0].timings.resent_us, None);
    assert!(done[1].timings.resent_us.is_some());
    assert_eq!(done[2].timings.resent_us, None);
    match &done[2].state {
        State::Failed(f) => assert!(f.message.contains("closed the connection"), "{}", f.message),
        other => panic!("the POST was not failed: {other:?}"),
    }
}

/// The same race on the pooled path: an HTTP/2 client's requests to an
/// HTTP/1.1 upstream share the pool's connections, and a GET written as the
/// upstream closes the idle one is sent again; a POST is not.
#[tokio::test]
async fn a_pooled_get_lost_to_a_closing_connection_is_sent_again() {
    let up = Upstream::start().await;
    let mut proxy = proxy_for(&up, Default::default()).await;
    let proxy_url = reqwest::Proxy::all(proxy.url()).expect("proxy");
    let client = reqwest_with(proxy_url, &proxy.ca_file, true);
    let url = up.https_raw("/keep-then-drop");
    let first = client.get(&url).send().await.expect("send");
    assert_eq!(first.version(), http::Version::HTTP_2);
    assert_eq!(first.text().await.expect("body"), "ok");
    let again = client.get(&url).send().await.expect("send");
    assert_eq!(again.status(), 200);
    assert_eq!(again.text().await.expect("body"), "ok");
    let post = client.post(&url).body("once").send().await.expect("send");
    assert_eq!(post.status(), 502);
    // An empty PUT whose client still sends an (empty) DATA frame: its
    // declared length says there is nothing to lose by sending it again.
    let warm = client.get(&url).send().await.expect("send");
    assert_eq!(warm.text().await.expect("body"), "ok");
    let empty = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::new())]);
    let put = client
        .put(&url)
        .header("content-length", "0")
        .body(reqwest::Body::wrap_stream(empty))
        .send()
        .await
        .expect("send");
    assert_eq!(put.status(), 200);
    let done = proxy.finished(5).await;
    assert_eq!(done[1].state, State::Complete, "{:?}", done[1].state);
    assert_eq!(done[4].state, State::Complete, "{:?}", done[4].state);
    let resent: Vec<bool> = done.iter().map(|d| d.timings.resent_us.is_some()).collect();
    assert_eq!(resent, [false, true, false, false, true]);
    match &done[2].state {
        // Worded as on the intercepted path, without the pooled client's
        // own wrapper.
        State::Failed(f) => assert!(
            f.message.contains("closed the connection") && !f.message.contains("client error"),
            "{}",
            f.message
        ),
        other => panic!("the POST was not failed: {other:?}"),
    }
}

/// A GET whose new connection closes unanswered was not lost to a
/// keep-alive timeout: the server had it (and may have crashed on it), so
/// it is not sent twice, on either path.
#[tokio::test]
async fn a_get_that_fails_on_a_new_connection_is_not_sent_again() {
    let up = Upstream::start().await;
    let mut proxy = proxy_for(&up, Default::default()).await;
    let proxy_url = reqwest::Proxy::all(proxy.url()).expect("proxy");
    let h2 = reqwest_with(proxy_url, &proxy.ca_file, true);
    let h1 = reqwest_http1(&proxy.url(), &proxy.ca_file);
    for client in [&h2, &h1] {
        let resp = client
            .get(up.https_raw("/half-head"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 502);
    }
    let done = proxy.finished(2).await;
    assert!(done.iter().all(|d| d.timings.resent_us.is_none()));
    assert_eq!(
        up.raw_connections.load(Ordering::SeqCst),
        2,
        "one connection per GET: neither was sent again"
    );
}

/// A client connection that stays open (no client idle limit) does not keep
/// its upstream connection open past `upstream_idle_timeout`: the sweeper
/// closes it while the client still holds its own.
#[tokio::test]
async fn a_kept_connection_closes_at_its_idle_time_while_its_client_stays() {
    let up = Upstream::start().await;
    let relay = llmspy::engine::RelaySettings {
        // Long enough that a loaded machine does not pass it between a
        // response and the next step of the test.
        upstream_idle_timeout: Duration::from_millis(1000),
        client_idle_timeout: None,
        ..Default::default()
    };
    let mut proxy = proxy_for(&up, relay).await;
    let client = reqwest_http1(&proxy.url(), &proxy.ca_file);
    let resp = client.get(up.https("/echo")).send().await.expect("send");
    resp.bytes().await.expect("body");
    proxy.finished(1).await;
    let port = up.tls_addr.port();
    assert_eq!(
        crate::engine::connections_to(port),
        1,
        "kept after its answer"
    );
    let mut open = 1;
    for _ in 0..200 {
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        open = crate::engine::connections_to(port);
    }
    assert_eq!(open, 0, "kept past its idle time while the client stayed");
    // The client's connection is still there, and serves the next request
    // on a new upstream connection.
    let resp = client.get(up.https("/echo")).send().await.expect("send");
    assert_eq!(resp.status(), 200);
    drop(client);
}

/// HTTP/2 clients share one upstream HTTP/2 connection per origin. Clients
/// that stop reading big answers hold their streams' windows, not the
/// whole connection's: another client's download on it goes on.
#[tokio::test]
async fn http2_clients_that_stop_reading_leave_the_shared_upstream_connection_open() {
    let up = Upstream::start().await;
    let proxy = proxy_for(&up, Default::default()).await;
    let h2_client = || {
        let proxy_url = reqwest::Proxy::all(proxy.url()).expect("proxy");
        reqwest_with(proxy_url, &proxy.ca_file, true)
    };
    let mut stopped = Vec::new();
    for _ in 0..3 {
        let client = h2_client();
        let resp = client
            .get(up.https("/bytes?n=33554432"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.version(), http::Version::HTTP_2);
        // Held, never read.
        stopped.push((client, resp));
    }
    let reader = h2_client();
    let read = async {
        let resp = reader.get(up.https("/bytes?n=16777216")).send().await?;
        resp.bytes().await
    };
    let body = tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("a download stalled behind clients that stopped reading")
        .expect("download");
    assert_eq!(body.len(), 16 * 1024 * 1024);
    assert_eq!(
        up.tls_connections.load(Ordering::SeqCst),
        1,
        "all four streams on one upstream connection"
    );
    drop(stopped);
}
