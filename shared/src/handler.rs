//! The request pipeline every Lambda binary and `local-api` run: request id,
//! routing, panic guard, the endpoint, the envelope, one log line.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::AppState;
use crate::endpoints;
use crate::error::ApiError;
use crate::routes::{Endpoint, Resolution, resolve};

/// What one request accumulates for its log line.
#[derive(Debug, Default)]
pub struct RequestCtx {
    pub request_id: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
    pub upstream_ms: Option<u64>,
}

/// API Gateway's request id when there is one, else a fresh UUID.
fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
    .unwrap_or_else(new_request_id)
}

/// A fresh request id, for requests API Gateway did not name.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The path the route table sees: API Gateway's path, less a named stage.
fn route_path(req: &Request) -> &str {
    let path = req.uri().path();
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(stage) = ctx.stage.as_deref()
        && stage != "$default"
        && let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(stage))
        && rest.starts_with('/')
    {
        return rest;
    }
    path
}

/// Serves one request. `only` is the endpoint a Lambda binary is deployed
/// for (anything else is a 404 there); `None` serves the whole table.
pub async fn serve(state: &AppState, only: Option<Endpoint>, req: Request) -> Response<Body> {
    let started = Instant::now();
    let mut ctx = RequestCtx {
        request_id: request_id(&req),
        ..RequestCtx::default()
    };
    let method = req.method().clone();
    let resolution = resolve(&method, route_path(&req));
    let route = match &resolution {
        Resolution::Found(endpoint, _) => endpoint.name(),
        _ => "unmatched".to_string(),
    };

    let result = match resolution {
        Resolution::Found(endpoint, jid) if only.is_none_or(|e| e == endpoint) => {
            let jid = jid.to_string();
            let work = endpoints::run(state, &mut ctx, endpoint, &jid, &req);
            match AssertUnwindSafe(work).catch_unwind().await {
                Ok(result) => result,
                Err(_) => Err(ApiError::internal("the handler panicked")),
            }
        }
        other => Err(unmatched_error(other)),
    };
    finish(&ctx, &route, &method, started, result)
}

/// Serves API Gateway's `$default` route: whatever matched no route of the
/// gateway gets the 404 (unknown path) or 405 (known path, other method, with
/// `Allow`) envelope from the one route table. Needs no state: no store, no
/// engine, no authentication, so the function that runs it stays tiny.
pub fn serve_unmatched(req: Request) -> Response<Body> {
    let started = Instant::now();
    let ctx = RequestCtx {
        request_id: request_id(&req),
        ..RequestCtx::default()
    };
    let method = req.method().clone();
    let error = unmatched_error(resolve(&method, route_path(&req)));
    finish(&ctx, "unmatched", &method, started, Err(error))
}

/// The error for a request the serving binary does not run: 405 for a known
/// path with another method, else 404. A route the table knows but another
/// function serves is a 404 here (the gateway sends it elsewhere).
fn unmatched_error(resolution: Resolution<'_>) -> ApiError {
    match resolution {
        Resolution::MethodNotAllowed(allow) => ApiError::MethodNotAllowed { allow },
        Resolution::Found(..) | Resolution::NotFound => ApiError::NotFound {
            message: "no such route",
        },
    }
}

/// The envelope for an error, and the request's one log line.
fn finish(
    ctx: &RequestCtx,
    route: &str,
    method: &Method,
    started: Instant,
    result: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let response = match result {
        Ok(response) => response,
        Err(err) => {
            let status = err.status();
            if status.is_server_error() {
                tracing::error!(request_id = %ctx.request_id, error = %err, "request failed");
            } else if matches!(err, ApiError::Validation { .. }) {
                tracing::info!(request_id = %ctx.request_id, error = %err, "request rejected");
            }
            err.to_response(&ctx.request_id)
        }
    };
    tracing::info!(
        request_id = %ctx.request_id,
        route = %route,
        method = %method,
        status = response.status().as_u16(),
        tenant_id = ctx.tenant_id.as_deref(),
        user_id = ctx.user_id.as_deref(),
        token_id = ctx.token_id.as_deref(),
        upstream_ms = ctx.upstream_ms,
        duration_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
