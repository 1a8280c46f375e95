//! `llmspy retrieve`, and what it shares with `llmspy export`: put one
//! question to a running llmspy's control API, or answer the same question
//! offline from a saved capture with the same code the API runs.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::args::{CommonArgs, RetrieveArgs, SelectArgs};
use crate::api::params::{self, RetrieveType, percent_encode};
use crate::api::render;
use crate::api::retrieve::COUNT_HEADER;
use crate::api::select::Selection;
use crate::capture::{Limits, Store};
use crate::exchange::Exchange;
use crate::export::Format;
use crate::llm::{Kind, ThreadTracker};
use crate::mock::matcher::RequestMatcher;

/// How long to wait for a running llmspy to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Show download progress past this many bytes.
const PROGRESS_STEP: usize = 4 * 1024 * 1024;

/// One retrieve: what, in which format, redacted or not (None: the API's default).
pub struct Question<'a> {
    pub select: &'a SelectArgs,
    pub format: Format,
    pub redact: Option<bool>,
}

/// The answer's bytes and how many exchanges or expectations it holds.
pub struct Answer {
    pub body: Vec<u8>,
    pub count: usize,
}

/// Progress notes on stderr, only for a person watching.
#[derive(Clone, Copy)]
pub struct Progress(pub bool);

impl Progress {
    pub fn for_terminal(quiet: bool) -> Self {
        Progress(!quiet && std::io::stderr().is_terminal())
    }

    pub fn note(self, text: &str) {
        if self.0 {
            eprintln!("llmspy: {text}");
        }
    }
}

/// `llmspy retrieve`: the answer as JSON on stdout.
pub fn run(common: &CommonArgs, args: &RetrieveArgs) -> anyhow::Result<ExitCode> {
    let question = Question {
        select: &args.select,
        format: Format::Json,
        redact: args.redact.then_some(true),
    };
    let answer = ask(common, &question, Progress::for_terminal(false))?;
    let mut out = std::io::stdout().lock();
    match out.write_all(&answer.body).and_then(|()| out.flush()) {
        Ok(()) => {}
        // Piped into `head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e).context("writing to stdout"),
    }
    Ok(exit_code(answer.count))
}

/// 0 when something matched, 1 when nothing did.
pub fn exit_code(count: usize) -> ExitCode {
    if count == 0 {
        eprintln!("llmspy: nothing matched");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Ask the running llmspy, or answer from `--from FILE`.
pub fn ask(common: &CommonArgs, q: &Question, progress: Progress) -> anyhow::Result<Answer> {
    if q.select.kind == RetrieveType::Conversation && q.select.id.is_none() {
        anyhow::bail!(
            "--type CONVERSATION needs --id N: the number of an exchange in that conversation"
        );
    }
    let query = query_string(q);
    match &q.select.from {
        Some(path) => offline(path, &query, q.select, progress),
        None => {
            let authority = server_authority(common, q.select.server.as_deref())?;
            online(&authority, &query, q.select.matcher.as_deref(), progress)
        }
    }
}

/// The API query for a question (the same for both paths, so both check
/// parameters the same way).
fn query_string(q: &Question) -> String {
    let s = q.select;
    let mut parts = vec![
        format!("type={}", s.kind.name()),
        format!("format={}", q.format.name()),
    ];
    if let Some(f) = &s.filter {
        parts.push(format!("filter={}", percent_encode(f)));
    }
    if let Some(r) = q.redact {
        parts.push(format!("redact={r}"));
    }
    if let Some(id) = s.id {
        parts.push(format!("id={id}"));
    }
    parts.join("&")
}

/// `host:port` of the control API: `--server URL`, else `--listen`.
fn server_authority(common: &CommonArgs, server: Option<&str>) -> anyhow::Result<String> {
    let Some(url) = server else {
        return Ok(super::env::connectable(common.listen).to_string());
    };
    if url.starts_with("https://") {
        bail!("--server {url}: llmspy's control API speaks plain HTTP; use http://HOST:PORT");
    }
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("--server {url}: expected http://HOST:PORT");
    }
    Ok(authority.to_string())
}

fn offline(
    path: &Path,
    query: &str,
    select: &SelectArgs,
    progress: Progress,
) -> anyhow::Result<Answer> {
    if select.kind == RetrieveType::ActiveExpectations {
        bail!(
            "ACTIVE_EXPECTATIONS lives in a running llmspy, not in a saved capture: use --server"
        );
    }
    let params = params::retrieve(query).map_err(|e| anyhow::anyhow!("{e}"))?;
    let matcher = match &select.matcher {
        Some(text) => {
            let value: serde_json::Value =
                serde_json::from_str(text).context("--match is not JSON")?;
            Some(RequestMatcher::from_json(&value).context("--match")?)
        }
        None => None,
    };
    let exchanges = crate::capture::save::load(path)
        .with_context(|| format!("reading the capture {}", path.display()))?;
    progress.note(&format!(
        "loaded {} exchange(s) from {}",
        exchanges.len(),
        path.display()
    ));
    let store = analysed_store(exchanges);
    let selection = Selection::new(matcher, params.filter.clone());
    let snapshot = render::snapshot(&store, Vec::new(), &params, &selection)?;
    let rendered = render::render(snapshot, &params)?;
    Ok(Answer {
        body: rendered.body,
        count: rendered.count,
    })
}

/// A store holding a loaded capture, analysed as the capture task would
/// have done it live (summaries for the filter, threads for SESSIONS).
pub fn analysed_store(mut exchanges: Vec<Exchange>) -> Store {
    // `--save` appends across runs, and each run counts from 1 again.
    let increasing = exchanges.windows(2).all(|w| w[0].id < w[1].id);
    if !increasing {
        eprintln!(
            "llmspy: exchange ids repeat in this capture (several runs in one file?); numbering them 1.."
        );
        for (i, ex) in exchanges.iter_mut().enumerate() {
            ex.id = i as u64 + 1;
        }
    }
    let mut store = Store::new(Limits {
        max_exchanges: usize::MAX,
        max_total_bytes: usize::MAX,
        ..Limits::default()
    });
    let mut threads = ThreadTracker::new();
    for ex in exchanges {
        let analysis = crate::llm::analyse(&ex);
        let (id, client) = (ex.id, ex.client_addr.clone());
        store.insert(ex);
        let Some(a) = analysis else { continue };
        let thread = (a.kind != Kind::Mcp).then(|| threads.observe(id, &a, client.as_deref()));
        if let Some(record) = store.get_mut(id) {
            record.summary = Some(a.summary());
            record.thread = thread;
        }
    }
    store
}

fn online(
    authority: &str,
    query: &str,
    matcher: Option<&str>,
    progress: Progress,
) -> anyhow::Result<Answer> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP client")?;
    let body = matcher.unwrap_or_default().as_bytes().to_vec();
    let uri = format!("http://{authority}/llmspy/retrieve?{query}");
    let (status, count, bytes) = runtime.block_on(put(&uri, body, progress)).map_err(|e| {
        if is_refused(&e) {
            anyhow::anyhow!(
                "no llmspy is listening on {authority}: start it (`llmspy --no-tui`), or pass \
                 --server http://HOST:PORT, --listen ADDR:PORT, or --from FILE for a saved capture"
            )
        } else {
            e.context(format!("asking llmspy at {authority}"))
        }
    })?;
    if status != http::StatusCode::OK {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        bail!("llmspy at {authority} answered {status}: {message}");
    }
    Ok(Answer { body: bytes, count })
}

async fn put(
    uri: &str,
    body: Vec<u8>,
    progress: Progress,
) -> anyhow::Result<(http::StatusCode, usize, Vec<u8>)> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let client = Client::builder(TokioExecutor::new()).build::<_, Full<Bytes>>(connector);
    let request = http::Request::put(uri)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .context("building the request")?;
    let response = client.request(request).await?;
    let status = response.status();
    let count = response
        .headers()
        .get(COUNT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = response.into_body();
    let mut out = Vec::new();
    let mut next_note = PROGRESS_STEP;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.context("reading the answer")?.into_data() {
            out.extend_from_slice(&data);
        }
        if out.len() >= next_note {
            progress.note(&format!("received {} MiB", out.len() / (1024 * 1024)));
            next_note += PROGRESS_STEP;
        }
    }
    Ok((status, count, out))
}

/// Nothing listens there (as opposed to a failure mid-answer).
fn is_refused(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(|h| h.is_connect())
    })
}
