//! Retrieve answers that grow with the capture (every exchange, in any
//! format), written while they are made: the exchanges are chosen under
//! the store's read lock (ids, hosts, paths and start times only),
//! then copied out a few at a time under short read locks and rendered one
//! by one into a bounded channel that the response body drains. Neither
//! the whole selection nor the whole document is ever held, and a client
//! that goes away stops the work. A zip cannot be sent before its central
//! directory is written, so a Bruno answer is zipped into an unlinked
//! scratch file first, then sent from there.
//!
//! An exchange evicted between the choice and its turn is left out, so
//! `x-llmspy-count` is then an upper bound.

mod writer;

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body::Frame;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::ApiContext;
use super::params::{RetrieveParams, RetrieveType};
use super::retrieve::COUNT_HEADER;
use super::select::Selection;
use crate::capture::Records as _;
use crate::capture::{Record, StoreReader};
use crate::engine::{BoxError, UpstreamBody};
use crate::export::Format;
use crate::export::stream::Meta;
use writer::Writer;

/// Bytes gathered before they are handed to the connection.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks waiting for a slow client before rendering pauses.
const CHUNKS_AHEAD: usize = 4;
/// Captured bytes copied out of the store per read lock.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Whether this answer is written as it goes (the rest are small, or built
/// whole: a conversation, sessions, expectations).
pub fn streams(params: &RetrieveParams) -> bool {
    matches!(
        params.kind,
        RetrieveType::RequestResponses | RetrieveType::Requests
    )
}

/// Choose the exchanges, answer with their count, and stream the rest.
pub async fn answer(
    ctx: &ApiContext,
    params: RetrieveParams,
    selection: Selection,
) -> Response<UpstreamBody> {
    let store = ctx.store.clone();
    let chosen = tokio::task::spawn_blocking(move || choose(&store, &selection)).await;
    let metas = match chosen {
        Ok(metas) => metas,
        Err(e) => {
            return super::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("choosing the exchanges failed: {e}"),
            );
        }
    };
    let count = metas.len();
    let (format, content_type) = (params.format, params.format.content_type());
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    let store = ctx.store.clone();
    tokio::task::spawn_blocking(move || {
        produce(&store, &metas, &params, &mut |chunk| {
            tx.blocking_send(chunk).is_ok()
        });
    });
    let mut resp = Response::new(Streamed(rx).boxed());
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    headers.insert(COUNT_HEADER, header::HeaderValue::from(count));
    if format == Format::Bruno {
        headers.insert(
            header::CONTENT_DISPOSITION,
            header::HeaderValue::from_static("attachment; filename=\"llmspy.bruno.zip\""),
        );
    }
    resp
}

/// The same answer written to `out` on this thread (`llmspy export
/// --from FILE`); returns how many exchanges it holds.
pub fn write(
    store: &StoreReader,
    params: &RetrieveParams,
    selection: &Selection,
    out: &mut dyn Write,
) -> std::io::Result<usize> {
    let metas = choose(store, selection);
    let mut failed = None;
    produce(store, &metas, params, &mut |chunk| {
        let written = match chunk {
            Ok(bytes) => out.write_all(&bytes),
            Err(e) => Err(std::io::Error::other(e)),
        };
        written.map_err(|e| failed = Some(e)).is_ok()
    });
    match failed {
        Some(e) => Err(e),
        None => out.flush().map(|()| metas.len()),
    }
}

/// The selected exchanges, as much of them as is needed before writing.
fn choose(store: &StoreReader, selection: &Selection) -> Vec<Meta> {
    store
        .read()
        .all()
        .filter(|r| selection.matches_record(r))
        .map(|r| Meta::of(&r.exchange))
        .collect()
}

/// Where chunks go; false stops the rendering (the reader is gone).
type Sink<'a> = dyn FnMut(Result<Bytes, BoxError>) -> bool + 'a;

/// Render the chosen exchanges into `sink`.
fn produce(store: &StoreReader, metas: &[Meta], params: &RetrieveParams, sink: &mut Sink) {
    let mut writer = match Writer::new(params, metas) {
        Ok(w) => w,
        Err(e) => {
            sink(Err(e));
            return;
        }
    };
    let ids = writer.order(metas);
    let mut buf = Vec::with_capacity(CHUNK_BYTES);
    writer.begin(&mut buf);
    let mut next = 0;
    while next < ids.len() {
        for record in batch(store, &ids, &mut next) {
            if let Err(e) = writer.item(params.kind, record, &mut buf) {
                sink(Err(e));
                return;
            }
            if buf.len() >= CHUNK_BYTES && !sink(Ok(take(&mut buf))) {
                return;
            }
        }
    }
    match writer.finish(&mut buf) {
        Ok(None) => {
            sink(Ok(take(&mut buf)));
        }
        Ok(Some(file)) => send_file(file, sink),
        Err(e) => {
            sink(Err(e));
        }
    }
}

fn take(buf: &mut Vec<u8>) -> Bytes {
    Bytes::from(std::mem::replace(buf, Vec::with_capacity(CHUNK_BYTES)))
}

/// Send a finished scratch file (a Bruno zip) from its start.
fn send_file(mut file: std::fs::File, sink: &mut Sink) {
    use std::io::{Read, Seek};
    if let Err(e) = file.rewind() {
        sink(Err(Box::new(e)));
        return;
    }
    loop {
        let mut chunk = vec![0; CHUNK_BYTES];
        match file.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if !sink(Ok(Bytes::from(chunk))) {
                    return;
                }
            }
            Err(e) => {
                sink(Err(Box::new(e)));
                return;
            }
        }
    }
}

/// Copies of the next records, up to [`BATCH_BYTES`] (at least one), taken
/// under one short read lock.
fn batch(store: &StoreReader, ids: &[u64], next: &mut usize) -> Vec<Record> {
    let store = store.read();
    let mut out = Vec::new();
    let mut bytes = 0;
    while *next < ids.len() && (out.is_empty() || bytes < BATCH_BYTES) {
        let id = ids[*next];
        *next += 1;
        if let Some(r) = store.get(id) {
            bytes += r.exchange.request.body.bytes.len()
                + r.exchange
                    .response
                    .as_ref()
                    .map_or(0, |r| r.body.bytes.len());
            out.push(r.clone());
        }
    }
    out
}

/// The response body: chunks as the renderer makes them; an error ends the
/// transfer unfinished, so the client cannot take it for the whole answer.
struct Streamed(mpsc::Receiver<Result<Bytes, BoxError>>);

impl http_body::Body for Streamed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| b.map(Frame::data)))
    }
}
