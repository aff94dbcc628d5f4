//! The request pipeline every Lambda binary and `local-api` run: request id,
//! routing (404/405), panic guard, authentication, scope, the operation's
//! prepare, idempotency, the engine call, audit, the envelope, one log line.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};

use crate::auth::Principal;
use crate::context::{RequestCtx, route_path};
use crate::engine::{Engine, EngineKind, EngineTarget, Reach};
use crate::error::ApiError;
use crate::operation::{On, Operation};
use crate::operations::{OperationVisitor, ROUTES, resolve, visit};
use crate::pacing::Guard;
use crate::routes::{Params, Resolution};
use crate::state::AppState;
use crate::store::Store;
use crate::{audit, idempotency};

/// When a request started, its context, its method.
fn begin(req: &Request, deadline: std::time::Duration) -> (Instant, RequestCtx, Method) {
    let started = Instant::now();
    (
        started,
        RequestCtx::for_request(req, deadline),
        req.method().clone(),
    )
}

/// Serves one request against the whole route table (`local-api`, tests).
pub async fn serve<E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    req: Request,
) -> Response<Body> {
    // Engine webhooks: no bearer token, their own route (`events.md`).
    if crate::events::ingress::hook_engine(route_path(&req)).is_some() {
        return crate::events::ingress::serve_any_hook(
            state.store.as_ref(),
            state.events_queue.as_ref(),
            req,
        )
        .await;
    }
    let (started, mut ctx, method) = begin(&req, state.settings.request_deadline);
    let (route, result) = match resolve(&method, route_path(&req)) {
        Resolution::Found(index, params) => {
            let runner = Runner {
                state,
                ctx: &mut ctx,
                params: &params,
                req: &req,
            };
            let result = match visit(index, runner) {
                Some(work) => guarded(work).await,
                None => Err(ApiError::internal(format!("no operation at {index}"))),
            };
            (ROUTES[index].key(), result)
        }
        other => ("unmatched".to_string(), Err(unmatched_error(other))),
    };
    finish(&ctx, &route, &method, started, result)
}

/// [`serve`] on a task of its own, so that a caller going away (a server
/// drops the future when its client disconnects) cancels nothing: a request
/// whose engine call has started still writes its audit record and completes
/// its `Idempotency-Key`. `local-api` serves every request this way; in
/// Lambda an invocation is never cancelled, and the deadline ends it in time.
pub async fn serve_detached<E, S>(state: Arc<AppState<E, S>>, req: Request) -> Response<Body>
where
    E: Engine + ?Sized + 'static,
    S: Store + ?Sized + 'static,
{
    match tokio::spawn(async move { serve(state.as_ref(), req).await }).await {
        Ok(response) => response,
        // Only when the runtime shuts down: `serve` answers its own panics.
        Err(_) => ApiError::internal("the request's task ended early")
            .to_response(&crate::context::new_request_id()),
    }
}

/// Serves one request in the Lambda binary of `Op`: that operation's route
/// runs; any other request gets the 404/405 envelope. Only `Op`'s code (and
/// the engine calls it makes) is linked into the binary.
pub async fn serve_operation<Op: Operation, E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    req: Request,
) -> Response<Body> {
    let (started, mut ctx, method) = begin(&req, state.settings.request_deadline);
    let resolution = resolve(&method, route_path(&req));
    let (route, result) = match resolution {
        Resolution::Found(index, params) if ROUTES[index] == Op::ROUTE => (
            Op::ROUTE.key(),
            guarded(run::<Op, E, S>(state, &mut ctx, &params, &req)).await,
        ),
        other => ("unmatched".to_string(), Err(unmatched_error(other))),
    };
    finish(&ctx, &route, &method, started, result)
}

/// Serves API Gateway's `$default` route: whatever matched no route of the
/// gateway gets the 404 (unknown path) or 405 (known path, other method, with
/// `Allow`) envelope from the one route table. Needs no state: no store, no
/// engine, no authentication, so the function that runs it stays tiny.
pub fn serve_unmatched(req: Request) -> Response<Body> {
    let started = Instant::now();
    let ctx = RequestCtx::for_request(&req, crate::config::Settings::default().request_deadline);
    let method = req.method().clone();
    // An engine's ingress takes POST only (the gateway routes POST there).
    let error = if crate::events::ingress::hook_engine(route_path(&req)).is_some() {
        ApiError::MethodNotAllowed {
            allow: "POST".into(),
        }
    } else {
        unmatched_error(resolve(&method, route_path(&req)))
    };
    finish(&ctx, "unmatched", &method, started, Err(error))
}

/// Runs whichever operation the whole-table server resolved.
struct Runner<'a, E: Engine + ?Sized, S: Store + ?Sized> {
    state: &'a AppState<E, S>,
    ctx: &'a mut RequestCtx,
    params: &'a Params<'a>,
    req: &'a Request,
}

type Work<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, ApiError>> + Send + 'a>>;

impl<'a, E: Engine + ?Sized, S: Store + ?Sized> OperationVisitor for Runner<'a, E, S> {
    type Output = Work<'a>;

    fn visit<Op: Operation>(self) -> Work<'a> {
        Box::pin(run::<Op, E, S>(self.state, self.ctx, self.params, self.req))
    }
}

/// The error for a panic in an operation's execution: after a request was
/// handed to the transport, the engine may have acted (502, outcome
/// unknown); before, nothing was sent (500).
fn after_panic(ctx: &mut RequestCtx) -> ApiError {
    if ctx.handed_over.is_set() {
        ctx.reach = Reach::MayHaveActed;
        ApiError::Upstream {
            detail: "panicked after the engine call was handed to the transport".into(),
        }
    } else {
        ApiError::internal("the handler panicked")
    }
}

/// A panic anywhere in the operation still produces the 500 envelope.
async fn guarded<T>(work: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(_) => Err(ApiError::internal("the handler panicked")),
    }
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

/// One operation, after routing: authenticate, authorise, prepare, claim the
/// idempotency key, call the engine, then audit and complete the key side by
/// side. Every phase draws from the request's one deadline (`ctx.deadline`).
pub(crate) async fn run<Op: Operation, E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    ctx: &mut RequestCtx,
    params: &Params<'_>,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let principal = within(
        ctx.deadline,
        "authenticating",
        state.auth.authenticate(req.headers()),
    )
    .await?;
    ctx.tenant_id = Some(principal.tenant_id().to_string());
    ctx.user_id = Some(principal.user_id.clone());
    ctx.token_id = Some(principal.token_id.clone());
    principal.require(Op::ROUTE.scope)?;
    let command = Op::prepare(params, req)?;
    ctx.engine = Some(principal.tenant.engine);
    let target = principal.engine_target();
    if !Op::ROUTE.mutating {
        return Ok(Op::execute(&command, on(state, &principal, &target, ctx))
            .await?
            .response);
    }
    let claim = match idempotency::Key::from_headers(req.headers())? {
        None => None,
        Some(key) => {
            let claimed = within(
                ctx.deadline,
                "claiming the Idempotency-Key",
                idempotency::claim(
                    state,
                    ctx,
                    &principal,
                    key,
                    idempotency::fingerprint(&Op::ROUTE, &command),
                ),
            )
            .await;
            match claimed {
                Ok(idempotency::Outcome::Claimed(claim)) => Some(claim),
                Ok(idempotency::Outcome::Replay(response)) => return Ok(response),
                Err(err) => return Err(err),
            }
        }
    };
    // A panic past this point may follow an engine call: it still reaches
    // the audit and the key below. Once a request was handed to the
    // transport, a panic (say, while reading the engine's reply) counts as
    // "may have reached the engine": 502, outcome unknown, audited, stored.
    let mut result =
        match AssertUnwindSafe(Op::execute(&command, on(state, &principal, &target, ctx)))
            .catch_unwind()
            .await
        {
            Ok(result) => result,
            Err(_) => Err(after_panic(ctx)),
        };
    let record = ctx.reached_engine().then(|| {
        audit::build(
            state,
            ctx,
            &principal,
            &Op::ROUTE,
            Op::subject(&command),
            &mut result,
        )
    });
    let answer = match result {
        Ok(executed) => Ok(executed.response),
        Err(err) if ctx.engine_may_have_acted() => {
            tracing::error!(request_id = %ctx.request_id, engine = ctx.engine.map(EngineKind::as_str), error = %err, "request failed; the engine may have acted");
            Ok(err.to_response_outcome_unknown(&ctx.request_id))
        }
        Err(err) => Err(err),
    };
    let ctx = &*ctx;
    let audit = async {
        if let Some(record) = &record {
            audit::write(state.store.as_ref(), &ctx.request_id, ctx.deadline, record).await;
        }
    };
    match claim {
        Some(claim) => {
            let ((), answer) = tokio::join!(audit, claim.finish(state, ctx, answer));
            answer
        }
        None => {
            audit.await;
            answer
        }
    }
}

/// `work`, or 503 if the request's deadline passes first (nothing was sent
/// to the engine in the phases this guards).
async fn within<T>(
    deadline: tokio::time::Instant,
    phase: &'static str,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::ServiceUnavailable {
                detail: format!("the request's deadline passed while {phase}"),
            })
        })
}

/// The most bytes an answer may carry: API Gateway's Lambda integration
/// refuses a response payload over 6 MB (and would answer outside our
/// envelope), so no route ever answers more.
pub const MAX_ANSWER_BYTES: usize = 6_000_000;

/// `response`, or a 502 if its body would pass [`MAX_ANSWER_BYTES`]
/// (only a hostile engine reply can make one: pages and reads are bounded).
fn within_lambda_limit(response: Response<Body>) -> Result<Response<Body>, ApiError> {
    let len = match response.body() {
        Body::Text(t) => t.len(),
        Body::Binary(b) => b.len(),
        _ => 0,
    };
    if len > MAX_ANSWER_BYTES {
        return Err(ApiError::Upstream {
            detail: format!("an answer of {len} bytes, over Lambda's response limit"),
        });
    }
    Ok(response)
}

/// The envelope for an error, and the request's one log line.
fn finish(
    ctx: &RequestCtx,
    route: &str,
    method: &Method,
    started: Instant,
    result: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let response = match result.and_then(within_lambda_limit) {
        Ok(response) => response,
        Err(err) => {
            let status = err.status();
            if status.is_server_error() {
                tracing::error!(request_id = %ctx.request_id, engine = ctx.engine.map(EngineKind::as_str), error = %err, "request failed");
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
        engine = ctx.engine.map(EngineKind::as_str),
        upstream_ms = ctx.upstream_ms,
        duration_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// What `Op::execute` runs on, for this request: the tenant's engine, and
/// the guard of its lane (the tenant and its engine session).
fn on<'a, E: Engine + ?Sized, S: Store + ?Sized>(
    state: &'a AppState<E, S>,
    principal: &'a Principal,
    target: &'a EngineTarget,
    ctx: &'a mut RequestCtx,
) -> On<'a, E> {
    let lane = crate::pacing::lane_id(principal.tenant_id(), &target.session_id);
    On {
        engine: state.engine.as_ref(),
        target,
        ctx,
        guard: Guard::new(state.store.lanes(), lane.clone(), &principal.tenant.pacing),
        jobs: Some(crate::operation::Jobs {
            store: state.store.jobs(),
            queue: state.queue.as_ref(),
            tenant_id: principal.tenant_id(),
            user_id: &principal.user_id,
            token_id: &principal.token_id,
            lane,
            pacing: &principal.tenant.pacing,
        }),
    }
}
