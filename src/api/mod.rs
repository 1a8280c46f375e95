//! The control API, served on the proxy's own port under `/llmspy/` and
//! `/mockserver/` (so MockServer's documented curl commands work unchanged).
//!
//! It reads the store, never the engine's internals: the engine hands it
//! every origin-form request through an opaque handler.
//!
//! One route table (`routes`) maps method and route to a handler; every
//! handler gets the one [`ApiContext`] and a [`call::Call`] whose body was
//! read once, under one limit. Capture routes: `GET ca.pem`, `PUT status`,
//! `PUT retrieve` ([`retrieve`]), `PUT clear` and `PUT reset` (a request
//! matcher body, `filter=`, and `type=ALL|LOG|EXPECTATIONS`; `reset` also
//! drops every mock expectation), `GET events`. Mock routes, when the
//! context has expectations: `PUT expectation`, `PUT fixtures/record`
//! ([`fixtures`]), `mcp` ([`mcp_server`]) and `POST mcp-stdio/ingest`.
//! [`guard`] wraps the whole handler.

pub mod active;
pub mod call;
pub mod context;
pub mod control;
mod events;
pub mod expectations;
pub mod files;
pub mod fixtures;
pub mod guard;
pub mod mcp_args;
pub mod mcp_server;
pub mod mcp_tools;
pub mod params;
pub mod render;
pub mod reply;
pub mod retrieve;
mod routes;
pub mod select;
pub mod sessions;
pub mod streamed;
mod verify;

use std::sync::Arc;

use crate::engine::ApiHandler;

pub use active::ActiveExpectations;
pub use context::ApiContext;
// The names routes used to import from here.
pub(crate) use control::parse_matcher;
pub(crate) use reply::{bytes_response, error, error_chain, param_error};

/// The handler the engine calls for requests addressed to llmspy.
pub fn handler(ctx: ApiContext) -> ApiHandler {
    let ctx = Arc::new(ctx);
    Arc::new(move |req| {
        let ctx = ctx.clone();
        Box::pin(async move { routes::handle(&ctx, req).await })
    })
}
