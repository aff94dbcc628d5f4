//! What one request carries through the pipeline: its id and what its log
//! line reports. Depends on nothing else of the crate's pipeline.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use tokio::time::Instant;

use crate::engine::{CallMeta, HandedOver, Reach};

/// What one request carries through the pipeline: its id, its deadline,
/// how far its engine calls got, and what its log line reports.
#[derive(Debug)]
pub struct RequestCtx {
    pub request_id: String,
    /// Every phase (DynamoDB reads and writes, the engine call, audit) is
    /// over by then.
    pub deadline: Instant,
    /// How far the request's engine calls got: the furthest of them.
    pub reach: Reach,
    pub tenant_id: Option<String>,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
    /// The tenant's engine, once the caller is known: logged with every
    /// failure, so a WAHA tenant's log names WAHA.
    pub engine: Option<crate::engine::EngineKind>,
    /// Time spent in engine calls that reached the engine.
    pub upstream_ms: Option<u64>,
    /// Set once any engine call of this request was handed to the
    /// transport: from then on, a failure without a verdict (a panic) may
    /// follow an effect.
    pub handed_over: HandedOver,
}

/// Kept free at the end of a Lambda invocation, whatever the configured
/// deadline: the answer and the runtime's own work must fit in it.
pub const LAMBDA_MARGIN: Duration = Duration::from_millis(1_500);

impl RequestCtx {
    /// A request that starts now and must be over within `budget`, or
    /// earlier if the Lambda invocation ends sooner.
    pub fn for_request(req: &Request, budget: Duration) -> Self {
        let now = Instant::now();
        let budget = match lambda_remaining(req) {
            Some(left) => budget.min(left.saturating_sub(LAMBDA_MARGIN)),
            None => budget,
        };
        Self::new(request_id(req), now + budget)
    }

    pub fn new(request_id: String, deadline: Instant) -> Self {
        Self {
            request_id,
            deadline,
            reach: Reach::NotSent,
            tenant_id: None,
            user_id: None,
            token_id: None,
            engine: None,
            upstream_ms: None,
            handed_over: HandedOver::default(),
        }
    }

    /// What an engine call needs to know: the request id, and the deadline
    /// less `reserve` (kept for what follows the call).
    pub fn call_meta(&self, reserve: Duration) -> CallMeta {
        CallMeta {
            request_id: self.request_id.clone(),
            deadline: self.deadline.checked_sub(reserve).unwrap_or(self.deadline),
            handed_over: self.handed_over.clone(),
        }
    }

    /// Whether the engine may have acted on this request.
    pub fn engine_may_have_acted(&self) -> bool {
        self.reach == Reach::MayHaveActed
    }

    /// Whether an engine call of this request reached the engine.
    pub fn reached_engine(&self) -> bool {
        self.reach >= Reach::Refused
    }
}

/// The time left in the Lambda invocation, when the request came through
/// the Lambda runtime (its `Lambda-Runtime-Deadline-Ms`).
fn lambda_remaining(req: &Request) -> Option<Duration> {
    let deadline_ms = req.lambda_context_ref()?.deadline;
    if deadline_ms == 0 {
        return None;
    }
    let now_ms = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis(),
    )
    .ok()?;
    Some(Duration::from_millis(deadline_ms.saturating_sub(now_ms)))
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
