//! The client side of a running llmspy's control API, shared by the
//! subcommands that talk to it (export, retrieve, record, mcp-stdio): one
//! runtime and connection pool per command, and one way of saying that
//! nothing is listening.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::args::CommonArgs;
use crate::api::retrieve::COUNT_HEADER;

/// How long to wait for a running llmspy to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an answer may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Show download progress past this many bytes.
const PROGRESS_STEP: u64 = 4 * 1024 * 1024;

/// Progress notes on stderr, only for a person watching.
#[derive(Clone, Copy)]
pub struct Progress(pub bool);

impl Progress {
    pub fn for_terminal(quiet: bool) -> Self {
        Progress(!quiet && std::io::stderr().is_terminal())
    }

    pub fn note(self, text: &str) {
        if self.0 {
            crate::note!("llmspy: {text}");
        }
    }
}

/// Nothing accepted the connection at `authority`.
#[derive(Debug, thiserror::Error)]
#[error(
    "no llmspy is listening on {authority}: start it (`llmspy --no-tui`), or pass --server http://HOST:PORT or --listen ADDR:PORT"
)]
pub struct NotListening {
    pub authority: String,
}

/// An answer: its head, and its body unless that went elsewhere.
pub struct Reply {
    pub status: StatusCode,
    /// `x-llmspy-count`: how many exchanges or expectations it holds.
    pub count: usize,
    /// Body bytes received, wherever they went.
    pub received: u64,
    pub body: Vec<u8>,
}

pub struct Control {
    authority: String,
    /// `--control-token`, sent as a bearer token when set.
    token: Option<String>,
    runtime: tokio::runtime::Runtime,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Control {
    /// The llmspy at `--server URL`, else at `--listen`.
    pub fn new(common: &CommonArgs, server: Option<&str>) -> anyhow::Result<Self> {
        let authority = match server {
            None => super::env::connectable(common.listen).to_string(),
            Some(url) => {
                if url.starts_with("https://") {
                    bail!(
                        "--server {url}: llmspy's control API speaks plain HTTP; use http://HOST:PORT"
                    );
                }
                let rest = url.strip_prefix("http://").unwrap_or(url);
                let authority = rest.split('/').next().unwrap_or_default();
                if authority.is_empty() {
                    bail!("--server {url}: expected http://HOST:PORT");
                }
                authority.to_string()
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the HTTP client")?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Control {
            authority,
            token: common.control_token.clone().filter(|t| !t.is_empty()),
            runtime,
            client,
        })
    }

    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Whether anything accepts a connection there now.
    pub fn is_listening(&self) -> bool {
        use std::net::ToSocketAddrs;
        let addrs = self.authority.to_socket_addrs().ok().into_iter().flatten();
        addrs
            .into_iter()
            .any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
    }

    /// Send `body` to `/llmspy/{path}` and read the whole answer, noting
    /// progress for a large one. A refused connection is [`NotListening`].
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        progress: Progress,
    ) -> anyhow::Result<Reply> {
        let mut answer = Vec::new();
        let mut reply = self.call_into(method, path, body, progress, &mut answer)?;
        if reply.status.is_success() {
            reply.body = answer;
        }
        Ok(reply)
    }

    /// Like [`Control::call`], but a successful answer's body goes to `out`
    /// as it arrives (the reply's `body` stays empty), so an export of any
    /// size passes through in pieces. Other answers are read whole.
    pub fn call_into(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        progress: Progress,
        out: &mut dyn Write,
    ) -> anyhow::Result<Reply> {
        let uri = format!("http://{}/llmspy/{path}", self.authority);
        let mut request = http::Request::builder()
            .method(method)
            .uri(&uri)
            .header(http::header::CONTENT_TYPE, "application/json");
        if let Some(token) = &self.token {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .context("building the request")?;
        self.runtime.block_on(async {
            let response = tokio::time::timeout(ANSWER_TIMEOUT, self.client.request(request))
                .await
                .with_context(|| format!("{uri}: no answer within {ANSWER_TIMEOUT:?}"))?
                .map_err(|e| {
                    if e.is_connect() {
                        anyhow::Error::new(NotListening {
                            authority: self.authority.clone(),
                        })
                    } else {
                        anyhow::Error::new(e)
                            .context(format!("asking llmspy at {}", self.authority))
                    }
                })?;
            let status = response.status();
            let count = response
                .headers()
                .get(COUNT_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = Vec::new();
            let out: &mut dyn Write = if status.is_success() { out } else { &mut body };
            let received = pass_on(response.into_body(), out, progress).await?;
            Ok(Reply {
                status,
                count,
                received,
                body,
            })
        })
    }

    /// JSON in, JSON out; an answer other than 2xx is an error carrying the
    /// server's own message.
    pub fn json(&self, method: Method, path: &str, body: &Value) -> anyhow::Result<Value> {
        let reply = self.call(method, path, body.to_string().into_bytes(), Progress(false))?;
        let value: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        if !reply.status.is_success() {
            bail!(
                "llmspy at {} answered {}: {}",
                self.authority,
                reply.status,
                server_message(&reply.body)
            );
        }
        Ok(value)
    }
}

/// Copy an answer's body to `out` frame by frame; returns its length.
async fn pass_on(
    mut stream: hyper::body::Incoming,
    out: &mut dyn Write,
    progress: Progress,
) -> anyhow::Result<u64> {
    let mut received = 0u64;
    let mut next_note = PROGRESS_STEP;
    while let Some(frame) = stream.frame().await {
        if let Ok(data) = frame.context("reading the answer")?.into_data() {
            out.write_all(&data).context("writing the answer")?;
            received += data.len() as u64;
        }
        if received >= next_note {
            progress.note(&format!("received {} MiB", received / (1024 * 1024)));
            next_note += PROGRESS_STEP;
        }
    }
    out.flush().context("writing the answer")?;
    Ok(received)
}

/// The `error` field of an API error answer, else its text.
pub fn server_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
}
