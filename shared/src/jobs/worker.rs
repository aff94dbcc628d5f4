//! Runs a job: budget from the lane → write the chunk ahead → one engine
//! call → store its outcomes → next chunk; the same loop in the Lambda
//! worker (on an SQS message) and in `local-api` (a task per lane).

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{EntryFailure, EntryState, Job, JobEntry, JobMessage, JobStatus, SLOT, StatusChange};
use crate::context::RequestCtx;
use crate::engine::{Engine, EngineError, Reach, UpdateParticipants};
use crate::error::ApiError;
use crate::jid::{GroupJid, ParticipantJid};
use crate::operation::On;
use crate::operations::participants::{Invited, ReplyIndex, outcome, private_invites};
use crate::pacing::{Guard, Paced, Refusal, now_ms};
use crate::state::AppState;
use crate::store::{AuditParticipant, AuditRecord, Store, StoreError, TenantStatus};

/// What the job needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Finished (completed, cancelled, failed or gone): drop the message.
    Done,
    /// Nothing can be sent before this time (epoch ms): run it again then.
    Later(i64),
    /// Work is left but this run's time is up: run it again now.
    Continue,
}

/// How long one run may take, and which waits it sleeps through.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The run ends (with [`Next::Continue`]) before a chunk that could
    /// not finish by then.
    pub until: Instant,
    /// Waits up to this long are slept through; longer ones end the run
    /// with [`Next::Later`].
    pub sleep_max: Duration,
}

/// Kept free for one chunk: the budget, the write-ahead, the engine call
/// and the commit.
pub const CHUNK_TIME: Duration = Duration::from_secs(15);
/// An engine that could not be reached is tried again after this.
const UNREACHABLE_BACKOFF_MS: i64 = 30_000;

/// Runs the job of `message` until it is finished, must wait longer than
/// `limits.sleep_max`, or the run's time is up.
pub async fn work<E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    message: &JobMessage,
    limits: Limits,
) -> Result<Next, StoreError> {
    let jobs = state.store.jobs();
    let Some(tenant) = state.store.get_tenant(&message.tenant_id).await? else {
        return fail(state, message, "the tenant no longer exists").await;
    };
    if tenant.status != TenantStatus::Active {
        return fail(state, message, "the tenant is suspended").await;
    }
    let target = tenant.engine_target();
    // After a refusal the worker asks for one participant at a time: the
    // lane's rate, not its burst. A job already under way starts there (its
    // first run took the burst).
    let mut at_pace = None;
    loop {
        if Instant::now() + CHUNK_TIME > limits.until {
            return Ok(Next::Continue);
        }
        let Some(job) = jobs.get_job(&message.tenant_id, &message.job_id).await? else {
            return Ok(Next::Done);
        };
        if !job.status.is_live() {
            return Ok(Next::Done);
        }
        let at_pace = at_pace.get_or_insert(job.cursor > 0);
        if job.inflight > 0 {
            // A worker died between writing this chunk ahead and storing
            // its outcome: it may have been sent. Never again.
            let entries = jobs
                .entries(&job.tenant_id, &job.id, job.cursor, job.inflight)
                .await?
                .into_iter()
                .map(|e| e.with(EntryState::Unconfirmed, None))
                .collect::<Vec<_>>();
            jobs.commit_chunk(&job.tenant_id, &job.id, job.cursor, &entries, now_ms())
                .await?;
            tracing::warn!(job_id = %job.id, from = job.cursor, n = entries.len(), "a chunk's outcome was lost with its worker: unconfirmed");
            continue;
        }
        if job.cursor >= job.total {
            let done = jobs
                .set_status(
                    &job.tenant_id,
                    &job.id,
                    &JobStatus::LIVE,
                    &StatusChange::to(JobStatus::Completed, now_ms()),
                )
                .await?;
            if let Some(done) = done.filter(|j| j.status == JobStatus::Completed) {
                crate::events::outbox::job_completed(
                    state.store.as_ref(),
                    state.events_queue.as_ref(),
                    &done,
                    tenant.engine,
                    &target.session_id,
                )
                .await;
            }
            return Ok(Next::Done);
        }
        let budget = tenant.pacing.budget(job.action.pacing_class());
        let in_slot = SLOT - job.cursor % SLOT;
        let mut n = in_slot.min(job.total - job.cursor);
        if !tenant.pacing.off {
            n = n.min(if *at_pace { 1 } else { budget.burst });
        }
        let entries = jobs.entries(&job.tenant_id, &job.id, job.cursor, n).await?;
        if entries.len() != n as usize {
            return Err(StoreError::Corrupt(format!(
                "job {}: {} results stored from {}, {n} expected",
                job.id,
                entries.len(),
                job.cursor
            )));
        }
        let participants = participants_of(&entries)?;
        let call = call_for(&job, participants)?;
        // What the engine cannot do fails the job before any budget.
        if let Err(e) = state
            .engine
            .check(&target, crate::engine::OneCall::borrowed(&call))
        {
            return fail(state, message, &ApiError::from(e).parts().2).await;
        }
        let mut guard = Guard::new(state.store.lanes(), message.lane.clone(), &tenant.pacing);
        match guard
            .pay(&crate::engine::calls::Call::cost(&call), now_ms())
            .await
        {
            Ok(()) => {}
            Err(Paced::Limited {
                why,
                retry_after_secs,
                ..
            }) => {
                if n > 1 && why == Refusal::Rate {
                    *at_pace = true;
                    continue;
                }
                let at = now_ms() + i64::try_from(retry_after_secs).unwrap_or(0) * 1000;
                if why != Refusal::Rate {
                    let reason = match why {
                        Refusal::Paused => "rate_limited",
                        _ => "daily_cap",
                    };
                    let mut change = StatusChange::to(JobStatus::Paused, now_ms());
                    change.paused = Some((at, reason.to_string()));
                    jobs.set_status(&job.tenant_id, &job.id, &JobStatus::LIVE, &change)
                        .await?;
                }
                match wait(at, limits).await {
                    Some(next) => return Ok(next),
                    None => continue,
                }
            }
            Err(Paced::UseAJob { .. }) | Err(Paced::Unavailable(_)) => {
                return Err(StoreError::Unavailable(
                    "the lanes' store could not pace the job".into(),
                ));
            }
        }
        if !jobs
            .begin_chunk(&job.tenant_id, &job.id, job.cursor, n, now_ms())
            .await?
        {
            // Cancelled, or another worker moved it: look again.
            continue;
        }
        let mut ctx = RequestCtx::new(
            format!("{}-{}", job.id, job.cursor),
            Instant::now() + CHUNK_TIME,
        );
        let mut on = On {
            engine: state.engine.as_ref(),
            target: &target,
            ctx: &mut ctx,
            guard,
            jobs: None,
        };
        let reply = on.call(call.clone()).await;
        // `invite_on_privacy`: the invitations the chunk's refusals allow,
        // sent before its outcome is stored.
        let invited = match &reply {
            Ok(reply) => private_invites(&mut on, &call, reply).await,
            Err(_) => Default::default(),
        };
        drop(on);
        let (outcomes, verdict) = outcomes_of(&call, &entries, reply, &invited, &ctx);
        jobs.commit_chunk(&job.tenant_id, &job.id, job.cursor, &outcomes, now_ms())
            .await?;
        if let Some(record) = audit(state, &job, &ctx, &outcomes, &verdict) {
            crate::audit::write(state.store.as_ref(), &ctx.request_id, ctx.deadline, &record).await;
        }
        match verdict {
            // At the lane's rate the next unit comes about one interval
            // from now: wait for it rather than ask (and be refused) now.
            Verdict::Sent | Verdict::Answered(_)
                if *at_pace && !tenant.pacing.off && job.cursor + n < job.total =>
            {
                let next = now_ms() + i64::try_from(budget.interval_ms).unwrap_or(0);
                if let Some(next) = wait(next, limits).await {
                    return Ok(next);
                }
            }
            Verdict::Sent | Verdict::Answered(_) => {}
            Verdict::Refused(error) => {
                tracing::warn!(job_id = %job.id, error = %error, "the engine refused the job's call");
                return fail(state, message, &error.parts().2).await;
            }
            Verdict::NotSent(_) => match wait(now_ms() + UNREACHABLE_BACKOFF_MS, limits).await {
                Some(next) => return Ok(next),
                None => continue,
            },
        }
    }
}

/// Sleeps until `at` if that is short enough and fits the run; otherwise
/// the run ends.
async fn wait(at: i64, limits: Limits) -> Option<Next> {
    let ms = u64::try_from(at - now_ms()).unwrap_or(0);
    let pause = Duration::from_millis(ms);
    if pause <= limits.sleep_max && Instant::now() + pause + CHUNK_TIME <= limits.until {
        tokio::time::sleep(pause).await;
        None
    } else {
        Some(Next::Later(at))
    }
}

/// The chunk's engine call.
fn call_for(
    job: &Job,
    participants: Vec<ParticipantJid>,
) -> Result<UpdateParticipants, StoreError> {
    Ok(UpdateParticipants {
        kind: job.kind,
        group: GroupJid::from_path_segment(&job.group_jid)
            .map_err(|_| StoreError::Corrupt(format!("a job's group: {}", job.group_jid)))?,
        action: job.action,
        participants,
        invite_on_privacy: job.invite_on_privacy,
    })
}

fn participants_of(entries: &[JobEntry]) -> Result<Vec<ParticipantJid>, StoreError> {
    entries
        .iter()
        .map(|e| {
            ParticipantJid::normalise(&e.jid)
                .map_err(|_| StoreError::Corrupt(format!("a job entry's JID: {}", e.jid)))
        })
        .collect()
}

/// What the engine call said of the chunk as a whole.
enum Verdict {
    /// An answer with per-participant outcomes.
    Sent,
    /// An error answer after which the job goes on (WhatsApp's rate limit,
    /// an outcome unknown).
    Answered(ApiError),
    /// The engine refused the call itself (no such group, not an admin):
    /// every later chunk would be refused too.
    Refused(ApiError),
    /// Nothing was sent (the engine unreachable).
    NotSent(ApiError),
}

/// Each entry's outcome, and the verdict on the call.
fn outcomes_of(
    call: &UpdateParticipants,
    entries: &[JobEntry],
    reply: Result<Vec<crate::engine::EngineParticipant>, EngineError>,
    invited: &std::collections::HashMap<String, Invited>,
    ctx: &RequestCtx,
) -> (Vec<JobEntry>, Verdict) {
    match reply {
        Ok(reply) => {
            let index = ReplyIndex::new(&reply);
            let outcomes = call
                .participants
                .iter()
                .map(|p| {
                    let e = outcome(p, call.action, &index).invited(invited);
                    JobEntry {
                        jid: e.jid.to_string(),
                        phone_number: e.phone_number.map(str::to_string),
                        is_admin: e.is_admin,
                        is_super_admin: e.is_super_admin,
                        lid: e.lid.map(str::to_string),
                        status: match e.status {
                            crate::operations::participants::EntryStatus::Ok => EntryState::Ok,
                            crate::operations::participants::EntryStatus::Failed => {
                                EntryState::Failed
                            }
                            crate::operations::participants::EntryStatus::Unconfirmed => {
                                EntryState::Unconfirmed
                            }
                        },
                        error: e.error.map(|f| EntryFailure {
                            code: f.code,
                            reason: f.reason.to_string(),
                            add_request: f.add_request.cloned(),
                        }),
                        invite_sent: e.invite_sent,
                        invite_error: e.invite_error.map(str::to_string),
                    }
                })
                .collect();
            (outcomes, Verdict::Sent)
        }
        Err(err) => {
            let rate_limited = matches!(err, EngineError::Status { status: 429, .. });
            let reach = ctx.reach;
            let api = ApiError::from(err);
            let each = |status, error: Option<EntryFailure>| {
                entries
                    .iter()
                    .map(|e| e.with(status, error.clone()))
                    .collect::<Vec<_>>()
            };
            if rate_limited {
                // WhatsApp refused the call: nobody was changed, and the
                // class is paused. Never sent again (each participant
                // once); a new job can retry them.
                let failure = EntryFailure {
                    code: 429,
                    reason: "rate_limited".into(),
                    add_request: None,
                };
                (
                    each(EntryState::Failed, Some(failure)),
                    Verdict::Answered(api),
                )
            } else if reach == Reach::MayHaveActed {
                (each(EntryState::Unconfirmed, None), Verdict::Answered(api))
            } else if reach == Reach::Refused {
                let failure = EntryFailure {
                    code: i64::from(api.status().as_u16()),
                    reason: api.code().to_ascii_lowercase(),
                    add_request: None,
                };
                (
                    each(EntryState::Failed, Some(failure)),
                    Verdict::Refused(api),
                )
            } else {
                // Nothing sent: the entries stay pending, for the next try.
                (Vec::new(), Verdict::NotSent(api))
            }
        }
    }
}

/// The audit record of one engine call of the job, in its creator's name.
fn audit<E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    job: &Job,
    ctx: &RequestCtx,
    outcomes: &[JobEntry],
    verdict: &Verdict,
) -> Option<AuditRecord> {
    if !ctx.reached_engine() {
        return None;
    }
    let (status, error_code) = match verdict {
        Verdict::Sent => (200, None),
        Verdict::Answered(e) | Verdict::Refused(e) | Verdict::NotSent(e) => {
            (e.status().as_u16(), Some(e.code().to_string()))
        }
    };
    let now = crate::clock::now_epoch();
    Some(AuditRecord {
        tenant_id: job.tenant_id.clone(),
        at: crate::clock::now_rfc3339_millis(),
        request_id: ctx.request_id.clone(),
        user_id: job.user_id.clone(),
        token_id: job.token_id.clone(),
        route: super::route_of(job.kind).to_string(),
        action: job.action.as_str().to_string(),
        group_jid: job.group_jid.clone(),
        participants: outcomes
            .iter()
            .map(|e| AuditParticipant {
                jid: e.jid.clone(),
                status: Some(
                    serde_json::to_value(e.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                ),
                code: e.error.as_ref().map(|f| f.code),
            })
            .collect(),
        status,
        error_code,
        upstream_ms: ctx.upstream_ms,
        expires_at: state.settings.audit_expiry(now),
        job_id: Some(job.id.clone()),
    })
}

/// Ends the job as `failed`, what was done kept.
pub(crate) async fn fail<E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    message: &JobMessage,
    why: &str,
) -> Result<Next, StoreError> {
    let mut change = StatusChange::to(JobStatus::Failed, now_ms());
    change.error = Some(why.to_string());
    state
        .store
        .jobs()
        .set_status(
            &message.tenant_id,
            &message.job_id,
            &JobStatus::LIVE,
            &change,
        )
        .await?;
    tracing::warn!(job_id = %message.job_id, reason = why, "job failed");
    Ok(Next::Done)
}

/// One lane's task in process: its jobs one after the other, each run
/// until done, sleeping through every wait (`local-api`, tests).
pub async fn run_lane<E: Engine + ?Sized, S: Store + ?Sized>(
    state: std::sync::Arc<AppState<E, S>>,
    mut messages: mpsc::UnboundedReceiver<JobMessage>,
) {
    while let Some(message) = messages.recv().await {
        loop {
            let limits = Limits {
                until: Instant::now() + Duration::from_secs(3600),
                sleep_max: Duration::from_secs(3600),
            };
            match work(state.as_ref(), &message, limits).await {
                Ok(Next::Done) => break,
                Ok(Next::Continue) => continue,
                Ok(Next::Later(at)) => {
                    let ms = u64::try_from(at - now_ms()).unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                Err(e) => {
                    tracing::error!(job_id = %message.job_id, error = %e, "job run failed; trying again");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    }
}
