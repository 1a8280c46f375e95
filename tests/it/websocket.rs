//! WebSocket through llmspy: ws:// by the HTTP proxy and wss:// by CONNECT
//! to a real TLS echo server, with every message recorded.

use std::sync::Arc;

use llmspy::capture::Limits;
use llmspy::engine::UpstreamTrust;
use llmspy::exchange::{Direction, Exchange, opcode};
use llmspy::websocket::{Decoded, Decoder, encode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::proxy::{Options, TestProxy};
use crate::support::upstream::Upstream;

const MASK: Option<[u8; 4]> = Some([0x11, 0x22, 0x33, 0x44]);

/// Read an HTTP head (up to the blank line) byte by byte, so nothing after
/// it is consumed.
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let b = s.read_u8().await.expect("head byte");
        head.push(b);
    }
    String::from_utf8(head).expect("ASCII head")
}

async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, target: &str, host: &str) {
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("send upgrade");
    let head = read_head(s).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_ascii_lowercase()),
        "{head}"
    );
}

/// Read until `n` messages arrived (or the server hung up).
async fn receive<S: AsyncRead + Unpin>(s: &mut S, n: usize) -> Vec<Decoded> {
    let mut decoder = Decoder::new(usize::MAX);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < n {
        let read = s.read(&mut buf).await.expect("read");
        if read == 0 {
            break;
        }
        got.extend(decoder.feed(&buf[..read]));
    }
    got
}

/// The conversation every test has: text, binary, a fragmented text with a
/// ping between its fragments, then a close.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) {
    let hello = receive(s, 1).await;
    assert_eq!(hello[0].data, b"hello");
    s.write_all(&encode(opcode::TEXT, true, "héllo wörld".as_bytes(), MASK))
        .await
        .expect("text");
    s.write_all(&encode(opcode::BINARY, true, &[0, 1, 2, 0xff], MASK))
        .await
        .expect("binary");
    let mut fragmented = encode(opcode::TEXT, false, b"part one, ", MASK);
    fragmented.extend(encode(opcode::PING, true, b"?", MASK));
    fragmented.extend(encode(opcode::CONTINUATION, true, b"part two", MASK));
    s.write_all(&fragmented).await.expect("fragments");
    let echoed = receive(s, 4).await;
    let ops: Vec<u8> = echoed.iter().map(|m| m.opcode).collect();
    assert_eq!(
        ops,
        vec![opcode::TEXT, opcode::BINARY, opcode::PONG, opcode::TEXT]
    );
    s.write_all(&encode(opcode::CLOSE, true, &[0x03, 0xe8], MASK))
        .await
        .expect("close");
    let closed = receive(s, 1).await;
    assert_eq!(closed[0].opcode, opcode::CLOSE);
}

/// What llmspy recorded: (direction, opcode, size, text or bytes).
fn recorded(ex: &Exchange) -> Vec<(Direction, u8, u64, String)> {
    let ws = ex.websocket.as_ref().expect("messages recorded");
    ws.messages
        .iter()
        .map(|m| {
            let data = match m.text() {
                Some(t) => t.to_string(),
                None => format!("{:?}", m.payload.as_bytes()),
            };
            (m.direction, m.opcode, m.size, data)
        })
        .collect()
}

fn expected() -> Vec<(Direction, u8, u64, String)> {
    use Direction::{Receive as R, Send as S};
    let text = |s: &str| s.to_string();
    vec![
        (R, opcode::TEXT, 5, text("hello")),
        (S, opcode::TEXT, 13, text("héllo wörld")),
        (S, opcode::BINARY, 4, text("[0, 1, 2, 255]")),
        (S, opcode::PING, 1, text("[63]")),
        (S, opcode::TEXT, 18, text("part one, part two")),
        (S, opcode::CLOSE, 2, text("[3, 232]")),
    ]
}

/// Messages each way, in order (the two directions interleave by timing).
fn one_way(all: &[(Direction, u8, u64, String)], d: Direction) -> Vec<(u8, u64, String)> {
    all.iter()
        .filter(|m| m.0 == d)
        .map(|m| (m.1, m.2, m.3.clone()))
        .collect()
}

fn check(ex: &Exchange) {
    let got = recorded(ex);
    let want = expected();
    assert_eq!(
        one_way(&got, Direction::Send),
        one_way(&want, Direction::Send)
    );
    let received = one_way(&got, Direction::Receive);
    let echo: Vec<(u8, u64, String)> = [
        (opcode::TEXT, 5, "hello".to_string()),
        (opcode::TEXT, 13, "héllo wörld".to_string()),
        (opcode::BINARY, 4, "[0, 1, 2, 255]".to_string()),
        (opcode::PONG, 1, "[63]".to_string()),
        (opcode::TEXT, 18, "part one, part two".to_string()),
        (opcode::CLOSE, 2, "[3, 232]".to_string()),
    ]
    .into();
    assert_eq!(received, echo);
    let times: Vec<u64> = ex
        .websocket
        .as_ref()
        .map(|w| w.messages.iter().map(|m| m.at_us).collect())
        .unwrap_or_default();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(ex.state.failure().is_none(), "{:?}", ex.state);
    assert_eq!(ex.response.as_ref().map(|r| r.status), Some(101));
}

#[tokio::test]
async fn ws_through_the_http_proxy_records_both_directions() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect");
    let host = format!("127.0.0.1:{}", up.plain_addr.port());
    upgrade(&mut s, &up.http("/ws"), &host).await;
    converse(&mut s).await;
    drop(s); // the client hangs up after the closing handshake
    let ex = proxy.only().await;
    check(&ex);
    assert_eq!(ex.request.scheme, "http");
}

#[tokio::test]
async fn wss_through_connect_records_both_directions() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let mut tcp = TcpStream::connect(proxy.addr).await.expect("connect");
    let authority = format!("127.0.0.1:{}", up.tls_addr.port());
    let connect = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    tcp.write_all(connect.as_bytes()).await.expect("CONNECT");
    let head = read_head(&mut tcp).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut tls = tls_client(&proxy, tcp).await;
    upgrade(&mut tls, "/ws", &authority).await;
    converse(&mut tls).await;
    drop(tls);
    let ex = proxy.only().await;
    check(&ex);
    assert_eq!(ex.request.scheme, "https");
}

#[tokio::test]
async fn payloads_past_the_cap_are_counted_not_kept() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::with(Options {
        upstream_ca: vec![up.ca_file.clone()],
        limits: Limits {
            max_body_capture_bytes: 8,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await;
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect");
    let host = format!("127.0.0.1:{}", up.plain_addr.port());
    upgrade(&mut s, &up.http("/ws"), &host).await;
    receive(&mut s, 1).await;
    let big = vec![b'x'; 100_000];
    s.write_all(&encode(opcode::TEXT, true, &big, MASK))
        .await
        .expect("big");
    let echo = receive(&mut s, 1).await;
    assert_eq!(echo[0].data.len(), 100_000, "the relay passed it all on");
    s.write_all(&encode(opcode::CLOSE, true, &[], MASK))
        .await
        .expect("close");
    receive(&mut s, 1).await;
    drop(s);
    let ex = proxy.only().await;
    let ws = ex.websocket.expect("recorded");
    let sent: Vec<_> = ws
        .messages
        .iter()
        .filter(|m| m.direction == Direction::Send)
        .collect();
    assert_eq!(sent[0].size, 100_000);
    assert_eq!(sent[0].text(), Some("xxxxxxxx"), "the cap is per direction");
    assert!(sent[0].truncated);
    assert_eq!(sent[1].opcode, opcode::CLOSE);
}

async fn tls_client(
    proxy: &TestProxy,
    tcp: TcpStream,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let (roots, _) = llmspy::engine::upstream::root_store(&UpstreamTrust {
        extra_ca_files: vec![proxy.ca_file.clone()],
        insecure: false,
    })
    .expect("roots");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    connector
        .connect(name, tcp)
        .await
        .expect("TLS through llmspy")
}

#[tokio::test]
async fn messages_export_to_har_as_chrome_does_and_round_trip() {
    let up = Upstream::start().await;
    let mut proxy = TestProxy::start(&up.ca_file).await;
    let mut s = TcpStream::connect(proxy.addr).await.expect("connect");
    let host = format!("127.0.0.1:{}", up.plain_addr.port());
    upgrade(&mut s, &up.http("/ws"), &host).await;
    converse(&mut s).await;
    drop(s);
    let ex = proxy.only().await;

    let har = llmspy::export::har::to_har(
        std::slice::from_ref(&ex),
        &llmspy::export::Options::default(),
    );
    let entry = &har["log"]["entries"][0];
    assert_eq!(entry["_resourceType"], "websocket");
    let messages = entry["_webSocketMessages"].as_array().expect("messages");
    assert_eq!(messages.len(), 11, "6 received, 5 sent");
    let first_sent = messages
        .iter()
        .find(|m| m["type"] == "send")
        .expect("a sent message");
    assert_eq!(first_sent["opcode"], 1);
    assert_eq!(first_sent["data"], "héllo wörld");
    let binary = messages
        .iter()
        .find(|m| m["opcode"] == 2)
        .expect("a binary message");
    assert_eq!(binary["data"], "AAEC/w==");
    let start = ex.started_at.timestamp() as f64;
    let time = first_sent["time"].as_f64().expect("epoch seconds");
    assert!(time >= start && time < start + 60.0, "{time} vs {start}");

    // HAR import reads them back.
    let back = llmspy::export::har_import::exchanges(&har).expect("HAR import");
    let ws = back[0].websocket.as_ref().expect("messages imported");
    assert_eq!(ws.messages.len(), 11);
    assert_eq!(ws.messages[1].text(), Some("héllo wörld"));

    // The native form (--save, the retrieve API, llmspy open) is lossless.
    let json = serde_json::to_value(llmspy::export::native::to_json(&ex)).expect("JSON");
    let again = llmspy::export::native::parse_exchange(json).expect("loads");
    assert_eq!(again.websocket, ex.websocket);
}
