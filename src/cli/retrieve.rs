//! `llmspy retrieve`, and what it shares with `llmspy export`: put one
//! question to a running llmspy's control API, or answer the same question
//! offline from a saved capture with the same code the API runs.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use http::Method;

use super::args::{CommonArgs, RetrieveArgs, SelectArgs};
pub use super::control::Progress;
use super::control::{Control, NotListening, server_message};
use crate::api::params::{self, RetrieveType, percent_encode};
use crate::api::render;
use crate::api::select::Selection;
use crate::capture::{Store, StoreReader};
use crate::exchange::Exchange;
use crate::export::Format;
use crate::mock::matcher::RequestMatcher;

/// One retrieve: what, in which format, redacted or not (None: the API's default).
pub struct Question<'a> {
    pub select: &'a SelectArgs,
    pub format: Format,
    pub redact: Option<bool>,
}

/// How many exchanges or expectations the answer holds, and its size.
pub struct Answer {
    pub bytes: u64,
    pub count: usize,
}

/// `llmspy retrieve`: the answer as JSON on stdout.
pub fn run(common: &CommonArgs, args: &RetrieveArgs) -> anyhow::Result<ExitCode> {
    let question = Question {
        select: &args.select,
        format: Format::Json,
        // Masked unless asked: unlike the API's JSON (MockServer's
        // retrieve, read by code that checks what it sent), this is printed.
        redact: Some(!args.no_redact),
    };
    let mut out = std::io::stdout().lock();
    match ask(common, &question, Progress::for_terminal(false), &mut out) {
        Ok(answer) => Ok(exit_code(answer.count)),
        // Piped into `head`: the reader has what it wanted.
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e),
    }
}

/// The reader of our output went away.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 0 when something matched, 1 when nothing did.
pub fn exit_code(count: usize) -> ExitCode {
    if count == 0 {
        crate::note!("llmspy: nothing matched");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Ask the running llmspy, or answer from `--from FILE`, writing the
/// answer to `out` as it arrives.
pub fn ask(
    common: &CommonArgs,
    q: &Question,
    progress: Progress,
    out: &mut dyn Write,
) -> anyhow::Result<Answer> {
    if q.select.kind == RetrieveType::Conversation && q.select.id.is_none() {
        anyhow::bail!(
            "--type CONVERSATION needs --id N: the number of an exchange in that conversation"
        );
    }
    let query = query_string(q);
    let from = match (&q.select.from, &q.select.history) {
        (Some(path), _) | (None, Some(path)) => Some(path.clone()),
        (None, None) => None,
    };
    if from.is_none() && (q.select.run.is_some() || q.select.since.is_some()) {
        anyhow::bail!("--run and --since read the history: add --history FILE");
    }
    match from {
        Some(path) => offline(&path, &query, q.select, progress, out),
        None => {
            let control = Control::new(common, q.select.server.as_deref())?;
            online(&control, &query, q.select.matcher.as_deref(), progress, out)
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

fn offline(
    path: &Path,
    query: &str,
    select: &SelectArgs,
    progress: Progress,
    out: &mut dyn Write,
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
    let exchanges = super::history::load_capture(
        path,
        select.run,
        select.since.as_deref(),
        select.from.is_none(),
    )?;
    progress.note(&format!(
        "loaded {} exchange(s) from {}",
        exchanges.len(),
        path.display()
    ));
    let store = loaded_noting_renumbering(exchanges);
    let selection = Selection::new(matcher, params.filter.clone());
    if crate::api::streamed::streams(&params) {
        let store = StoreReader::detached(store);
        let mut counted = Counted { out, bytes: 0 };
        let count = crate::api::streamed::write(&store, &params, &selection, &mut counted)
            .context("writing the answer")?;
        return Ok(Answer {
            bytes: counted.bytes,
            count,
        });
    }
    let snapshot = render::snapshot(&store, Vec::new(), &params, &selection)?;
    let rendered = render::render(snapshot, &params)?;
    out.write_all(&rendered.body)
        .and_then(|()| out.flush())
        .context("writing the answer")?;
    Ok(Answer {
        bytes: rendered.body.len() as u64,
        count: rendered.count,
    })
}

/// A writer that counts what passes through it.
struct Counted<'a> {
    out: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A loaded capture, saying on stderr when its ids had to be renumbered.
pub fn loaded_noting_renumbering(exchanges: Vec<Exchange>) -> Store {
    let loaded = crate::capture::loaded(exchanges);
    if loaded.renumbered {
        crate::note!("llmspy: {}", crate::capture::RENUMBERED_NOTE);
    }
    loaded.store
}

/// Ask the running llmspy; nothing listening also points at `--from`.
fn online(
    control: &Control,
    query: &str,
    matcher: Option<&str>,
    progress: Progress,
    out: &mut dyn Write,
) -> anyhow::Result<Answer> {
    let body = matcher.unwrap_or_default().as_bytes().to_vec();
    let reply = control
        .call_into(
            Method::PUT,
            &format!("retrieve?{query}"),
            body,
            progress,
            out,
        )
        .map_err(|e| match e.downcast_ref::<NotListening>() {
            Some(n) => anyhow::anyhow!("{n}, or --from FILE for a saved capture"),
            None => e,
        })?;
    if reply.status != http::StatusCode::OK {
        bail!(
            "llmspy at {} answered {}: {}",
            control.authority(),
            reply.status,
            server_message(&reply.body)
        );
    }
    Ok(Answer {
        bytes: reply.received,
        count: reply.count,
    })
}
