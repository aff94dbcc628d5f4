//! The operation port: one API operation per implementation, one file each
//! under [`crate::operations`]. The pipeline ([`crate::pipeline`]) does what
//! every operation shares (request id, routing, authentication, scope,
//! idempotency, audit, the envelope); an operation says only what is its own.

use std::future::Future;

use lambda_http::{Body, Request, Response};

use crate::context::RequestCtx;
use crate::engine::{Engine, EngineError, EngineTarget, OneCall};
use crate::error::ApiError;
use crate::jid::{GroupJid, ParticipantJid};
use crate::pacing::{Class, Guard, now_ms};
use crate::routes::{Params, Route};
use crate::store::AuditParticipant;

pub trait Operation: Send + Sync + 'static {
    /// Method, path pattern, function binary, scope, mutating.
    const ROUTE: Route;

    /// The validated, normalised request. Its serialisation is what makes
    /// two requests the same for an `Idempotency-Key`
    /// ([`crate::idempotency::fingerprint`]): every field that changes what
    /// the engine is asked to do is in it (an image by its digest).
    type Command: Send + Sync + serde::Serialize;

    /// Path parameters and body → command, or a 400/413/415. Runs before any
    /// idempotency record or upstream call.
    fn prepare(params: &Params<'_>, req: &Request) -> Result<Self::Command, ApiError>;

    /// What an audit record names.
    fn subject(command: &Self::Command) -> Subject<'_>;

    /// The engine call(s) and the typed answer. The engine is generic so
    /// that a Lambda binary links only the engine calls its own operation
    /// makes.
    fn execute<E: Engine + ?Sized>(
        command: &Self::Command,
        on: On<'_, E>,
    ) -> impl Future<Output = Result<Executed, ApiError>> + Send;
}

/// What an operation executes on: the tenant's engine, the request, and
/// the lane's pacing guard (which lets everything by when the tenant turned
/// pacing off).
pub struct On<'a, E: Engine + ?Sized> {
    pub engine: &'a E,
    pub target: &'a EngineTarget,
    pub ctx: &'a mut RequestCtx,
    pub guard: Guard<'a>,
    /// The caller's paced jobs (the jobs routes; `None` in a job's worker).
    pub jobs: Option<Jobs<'a>>,
}

/// What the jobs routes work on: the caller's jobs, the queue that runs
/// them, and who asks.
pub struct Jobs<'a> {
    pub store: &'a dyn crate::jobs::JobStore,
    pub queue: &'a dyn crate::jobs::JobQueue,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub token_id: &'a str,
    /// The caller's lane and its pacing (a job's estimate).
    pub lane: String,
    pub pacing: &'a crate::pacing::Pacing,
}

impl<E: Engine + ?Sized> On<'_, E> {
    /// One engine call: its budget first (the request's first call pays,
    /// `429 PACING_LIMITED` / `422 USE_A_JOB` otherwise, nothing sent), then
    /// the call within the request's deadline
    /// ([`crate::operations::engine_call`]); WhatsApp's own rate limit in
    /// the answer pauses the class.
    pub async fn call<C: OneCall>(&mut self, call: C) -> Result<C::Reply, EngineError> {
        let cost = call.cost();
        // What the engine refuses before sending (it cannot, a value it
        // would refuse) takes no budget.
        if self.guard.is_on() {
            self.engine.check(self.target, call.borrowed())?;
        }
        self.prepay(&cost).await?;
        let mut out =
            crate::operations::engine_call(self.ctx, self.engine, self.target, call).await;
        let guard = &self.guard;
        if let (true, Some(&(class, _))) = (guard.is_on(), cost.first()) {
            let limited = match &mut out {
                Ok(reply) => C::rate_limited(reply),
                Err(EngineError::Status { status: 429, .. }) => true,
                // WhatsApp's bare 400 to an add in the middle of a burst is
                // its rate limit, not a bad request.
                Err(EngineError::Status { status, code, .. })
                    if *status == 400 && class == Class::Add && guard.add_was_busy() =>
                {
                    *status = 429;
                    *code = Some("rate_limited".into());
                    true
                }
                Err(_) => false,
            };
            if limited {
                guard.strike(class, now_ms(), &self.ctx.request_id).await;
            }
        }
        out
    }

    /// Pays for what the request's engine calls will take, before the
    /// first (a PATCH's steps at once); later calls of the request are
    /// free. Without a guard, nothing.
    pub async fn prepay(&mut self, costs: &[(Class, u32)]) -> Result<(), EngineError> {
        self.guard
            .pay(costs, now_ms())
            .await
            .map_err(EngineError::Paced)
    }

    /// The caller's jobs (always there on an API request).
    pub fn jobs(&self) -> Result<&Jobs<'_>, ApiError> {
        self.jobs
            .as_ref()
            .ok_or_else(|| ApiError::internal("no jobs outside an API request"))
    }

    /// The 200 answer, without per-participant outcomes.
    pub fn ok(&self, body: &impl serde::Serialize) -> Result<Executed, ApiError> {
        Ok(Executed::plain(crate::operations::ok(self.ctx, body)?))
    }
}

/// What a command acts on, in our terms.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// `remove`, `add`, `reset_invite`, ...
    pub action: &'static str,
    /// The group acted on; none for a create, a list or a join by link.
    pub group: Option<&'a GroupJid>,
    pub participants: &'a [ParticipantJid],
}

/// An operation's answer, and per-participant outcomes for the audit trail.
pub struct Executed {
    pub response: Response<Body>,
    pub outcomes: Vec<AuditParticipant>,
    /// The group the audit record names when the command named none (the
    /// group created or joined).
    pub audit_group: Option<String>,
}

impl Executed {
    pub fn plain(response: Response<Body>) -> Self {
        Self {
            response,
            outcomes: Vec::new(),
            audit_group: None,
        }
    }

    /// Names the group for the audit record.
    pub fn on_group(mut self, jid: Option<String>) -> Self {
        self.audit_group = jid;
        self
    }
}
