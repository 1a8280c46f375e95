//! The control API's one route table: method and route to handler, under
//! `/llmspy/` and `/mockserver/` (so MockServer's documented curl commands
//! work unchanged). The mock routes are served only when the context has
//! mock expectations.

use std::future::Future;
use std::pin::Pin;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

use super::call::Call;
use super::context::ApiContext;
use super::reply::error;
use super::{control, events, expectations, fixtures, mcp_server, retrieve, verify};
use crate::engine::UpstreamBody;

/// A handler that answers after awaiting something (the capture task).
type Later<'a> = Pin<Box<dyn Future<Output = Response<UpstreamBody>> + Send + 'a>>;

#[derive(Clone, Copy)]
enum Run {
    Now(fn(&ApiContext, &Call) -> Response<UpstreamBody>),
    Later(for<'a> fn(&'a ApiContext, &'a Call) -> Later<'a>),
    /// Work that grows with what the caller sent or what is held (parsing
    /// a batch of expectations, matching every captured exchange): run on
    /// a blocking thread, so the relay worker serving this connection
    /// keeps relaying everyone else's traffic meanwhile.
    Blocking(fn(&ApiContext, &Call) -> Response<UpstreamBody>),
}

/// Which family a route belongs to: it says which method hint a 405 gives
/// and whether the route needs mock expectations.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Capture,
    Mock,
}

struct Route {
    path: &'static str,
    /// Methods served; empty means any (the handler answers the rest).
    methods: &'static [&'static str],
    family: Family,
    run: Run,
}

const fn route(
    path: &'static str,
    methods: &'static [&'static str],
    family: Family,
    run: Run,
) -> Route {
    Route {
        path,
        methods,
        family,
        run,
    }
}

const ROUTES: &[Route] = &[
    route(
        "ca.pem",
        &["GET"],
        Family::Capture,
        Run::Now(control::ca_pem),
    ),
    route(
        "status",
        &["PUT", "GET"],
        Family::Capture,
        Run::Now(control::status),
    ),
    route(
        "clear",
        &["PUT"],
        Family::Capture,
        Run::Later(|c, r| Box::pin(control::clear(c, r))),
    ),
    route(
        "reset",
        &["PUT"],
        Family::Capture,
        Run::Later(|c, r| Box::pin(control::reset(c, r))),
    ),
    route(
        "retrieve",
        &["PUT", "GET"],
        Family::Capture,
        Run::Later(|c, r| Box::pin(retrieve::retrieve(c, &r.query, &r.body))),
    ),
    route(
        "events",
        &["GET"],
        Family::Capture,
        Run::Now(|c, r| events::events(c, &r.query)),
    ),
    route(
        "expectation",
        &["PUT"],
        Family::Mock,
        Run::Blocking(expectations::put_expectation),
    ),
    route(
        "fixtures/record",
        &["PUT"],
        Family::Mock,
        Run::Blocking(fixtures::record),
    ),
    route(
        "verify",
        &["PUT"],
        Family::Mock,
        Run::Blocking(verify::verify),
    ),
    route(
        "verifySequence",
        &["PUT"],
        Family::Mock,
        Run::Blocking(verify::verify_sequence),
    ),
    route("mcp", &[], Family::Mock, Run::Blocking(mcp_server::serve)),
    route(
        "mcp-stdio/ingest",
        &["POST"],
        Family::Mock,
        Run::Now(mcp_server::ingest),
    ),
];

/// The route a path names under `/llmspy/` or `/mockserver/` (MockServer's
/// prefix, so its documented commands work), without a trailing slash.
pub fn route_of(path: &str) -> Option<&str> {
    path.strip_prefix("/llmspy/")
        .or_else(|| path.strip_prefix("/mockserver/"))
        .map(|r| r.trim_end_matches('/'))
}

/// Answer one request addressed to llmspy itself.
pub async fn handle(ctx: &ApiContext, req: Request<Incoming>) -> Response<UpstreamBody> {
    let path = req.uri().path();
    let Some(route) = route_of(path) else {
        return not_proxied(ctx, path);
    };
    let route = route.to_string();
    let path_of_call = path.to_string();
    let call = match Call::read(route, req).await {
        Ok(call) => call,
        Err(answer) => return answer,
    };
    let served = ROUTES
        .iter()
        .find(|r| r.path == call.route && (r.family == Family::Capture || ctx.mock.is_some()));
    // Named back under the prefix it was asked under.
    let prefix = if path_of_call.starts_with("/mockserver/") {
        "/mockserver/"
    } else {
        "/llmspy/"
    };
    let Some(found) = served else {
        return not_found(prefix, &call.route, ctx.mock.is_some());
    };
    if !found.methods.is_empty() && !found.methods.contains(&call.method.as_str()) {
        return wrong_method(prefix, found);
    }
    match found.run {
        Run::Now(run) => run(ctx, &call),
        Run::Later(run) => run(ctx, &call).await,
        Run::Blocking(run) => {
            let ctx = ctx.clone();
            tokio::task::spawn_blocking(move || run(&ctx, &call))
                .await
                .unwrap_or_else(|e| {
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("the control request failed: {e}"),
                    )
                })
        }
    }
}

fn wrong_method(prefix: &str, route: &Route) -> Response<UpstreamBody> {
    let others = match route.family {
        Family::Capture => "GET for ca.pem and events",
        Family::Mock => "POST for mcp and mcp-stdio/ingest",
    };
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("use PUT for {prefix}{} ({others})", route.path),
    )
}

/// 404 naming the route as asked (under the prefix it was asked under)
/// and listing the routes this llmspy serves.
fn not_found(prefix: &str, route: &str, mock: bool) -> Response<UpstreamBody> {
    let routes: Vec<&str> = ROUTES
        .iter()
        .filter(|r| r.family == Family::Capture || mock)
        .map(|r| r.path)
        .collect();
    let routes = routes.join(", ");
    let message = if mock {
        format!("no control API route {prefix}{route}; routes: {routes}")
    } else {
        format!(
            "no control API route {prefix}{route}; routes: {routes} (mock routes such as expectation and verify need llmspy to serve mocks)"
        )
    };
    error(StatusCode::NOT_FOUND, &message)
}

/// A request in origin form that isn't for the API: someone pointed a client
/// straight at llmspy instead of using it as a proxy.
fn not_proxied(ctx: &ApiContext, path: &str) -> Response<UpstreamBody> {
    error(
        StatusCode::NOT_FOUND,
        &format!(
            "{path} is not a control API route. llmspy is a proxy: set HTTPS_PROXY=http://{0} \
             (or run `eval \"$(llmspy env)\"`); the API lives under http://{0}/llmspy/",
            ctx.listen
        ),
    )
}
