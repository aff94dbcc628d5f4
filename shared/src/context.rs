//! What one request carries through the pipeline: its id and what its log
//! line reports. Depends on nothing else of the crate's pipeline.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// What one request accumulates for its log line.
#[derive(Debug, Default)]
pub struct RequestCtx {
    pub request_id: String,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
    pub upstream_ms: Option<u64>,
}

impl RequestCtx {
    pub fn for_request(req: &Request) -> Self {
        Self {
            request_id: request_id(req),
            ..Self::default()
        }
    }
}

/// API Gateway's request id when there is one, else a fresh UUID.
pub fn request_id(req: &Request) -> String {
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
pub fn route_path(req: &Request) -> &str {
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
