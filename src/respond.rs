//! The seam between the relay and mock expectations: before dialing
//! upstream, the relay asks a [`Responder`] whether to answer the request
//! itself. The engine only plays what it is told; deciding is pure code in
//! `crate::mock`.

use std::time::Duration;

use bytes::Bytes;

use crate::exchange::{Headers, Request};

/// Decides, per request, whether llmspy answers instead of the upstream.
pub trait Responder: Send + Sync {
    /// Cheap check: could any expectation apply at all? When false the
    /// request body streams straight through, unbuffered.
    fn active(&self) -> bool;

    /// Decide for a request whose body has been read in full (`request.body`).
    fn decide(&self, request: &Request) -> Decision;
}

/// What to do with a request.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Forward upstream as usual.
    Forward,
    /// Forward, after rewriting where it goes and what it carries.
    ForwardTo(ForwardOverride),
    /// Answer from an expectation.
    Respond(MockResponse),
}

/// `httpForward` / override-forwarded-request.
#[derive(Debug, Clone, Default)]
pub struct ForwardOverride {
    pub expectation_id: String,
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub path: Option<String>,
    /// Headers set (replacing any of the same name).
    pub headers: Headers,
    pub body: Option<Bytes>,
}

/// A response llmspy plays back, chunk by chunk.
#[derive(Debug, Clone)]
pub struct MockResponse {
    /// The expectation that answered (shown as "mocked" in the traffic list).
    pub expectation_id: String,
    pub status: u16,
    pub headers: Headers,
    pub chunks: Vec<MockChunk>,
    /// Fields sent after the body (a recorded gRPC call's status).
    pub trailers: Headers,
}

/// One piece of a mocked body, sent after `delay`.
#[derive(Debug, Clone)]
pub struct MockChunk {
    pub delay: Duration,
    pub data: Bytes,
}

impl MockResponse {
    /// A whole body sent at once.
    pub fn full(
        expectation_id: impl Into<String>,
        status: u16,
        headers: Headers,
        body: impl Into<Bytes>,
    ) -> Self {
        MockResponse {
            expectation_id: expectation_id.into(),
            status,
            headers,
            chunks: vec![MockChunk {
                delay: Duration::ZERO,
                data: body.into(),
            }],
            trailers: Headers::default(),
        }
    }
}
