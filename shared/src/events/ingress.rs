//! `POST /hooks/{engine}/{hook_token}`: an engine's webhook in. No bearer
//! token: the hook token (stored hashed) names the tenant and its engine
//! session, and where the hook has the engine's signing secret, the
//! engine's signature over the exact bytes received is checked too.
//!
//! Order: route (404/405), body size (413), hook (404: unknown token, or a
//! token of another engine's route), signature (401), JSON (400), then
//! each normalised event is stored (deduplicated) before the 200. Nothing
//! is stored on any refusal.

use std::time::Instant;

use lambda_http::http::{HeaderMap, Method};
use lambda_http::{Body, Request, Response};

use super::outbox::EventQueue;
use super::signature::SignatureError;
use super::{
    DEDUPE_SECS, Event, EventData, Hook, MAX_HOOK_BODY_BYTES, Parsed, Stored, content_hash,
    hook_hash, new_event_id,
};
use crate::context::{RequestCtx, route_path};
use crate::engine::EngineKind;
use crate::error::{ApiError, FieldError};
use crate::store::Store;

/// One engine's webhook dialect. Each ingress binary links only its own.
pub trait EngineHooks: Send + Sync + 'static {
    const ENGINE: EngineKind;

    /// Checks the engine's own signature over `body` with the hook's
    /// secret (only called when the hook has one).
    fn verify(
        headers: &HeaderMap,
        body: &[u8],
        secret: &str,
        now_secs: i64,
    ) -> Result<(), SignatureError>;

    /// The engine's payload, in our terms.
    fn parse(body: &serde_json::Value) -> Parsed;
}

/// The route key of an engine's ingress, as API Gateway names it.
pub fn route_path_of(engine: EngineKind) -> String {
    format!("/hooks/{}/{{hook_token}}", engine.as_str())
}

/// The header's value as text, when it is.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// What the ingress answers.
#[derive(Debug, Default, serde::Serialize)]
struct Receipt {
    success: bool,
    /// Events stored now.
    stored: u32,
    /// Events already stored from an earlier delivery of the same change.
    duplicates: u32,
    /// Payload kinds this API does not turn into events, and changes of
    /// another session or older than the dedupe window.
    ignored: u32,
}

/// Serves one engine webhook call for `H`'s engine.
pub async fn serve_hook<H: EngineHooks, S: Store + ?Sized>(
    store: &S,
    queue: &dyn EventQueue,
    req: Request,
) -> Response<Body> {
    let started = Instant::now();
    let ctx = RequestCtx::for_request(&req, crate::config::Settings::default().request_deadline);
    // A panic in a reader still answers the envelope (500), nothing half
    // stored past what was already committed.
    let received =
        futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(receive::<H, S>(
            store, queue, &req, &ctx,
        )))
        .await
        .unwrap_or_else(|_| Err(ApiError::internal("the hook's handler panicked")));
    let (result, tenant) = match received {
        Ok((receipt, tenant)) => (crate::operations::ok(&ctx, &receipt), Some(tenant)),
        Err(err) => (Err(err), None),
    };
    let response = match result {
        Ok(r) => r,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(request_id = %ctx.request_id, engine = H::ENGINE.as_str(), error = %err, "hook failed");
            } else {
                tracing::info!(request_id = %ctx.request_id, engine = H::ENGINE.as_str(), error = %err, "hook refused");
            }
            err.to_response(&ctx.request_id)
        }
    };
    tracing::info!(
        request_id = %ctx.request_id,
        route = %format!("POST {}", route_path_of(H::ENGINE)),
        status = response.status().as_u16(),
        tenant_id = tenant.as_deref(),
        engine = H::ENGINE.as_str(),
        duration_ms = started.elapsed().as_millis() as u64,
        "hook"
    );
    response
}

async fn receive<H: EngineHooks, S: Store + ?Sized>(
    store: &S,
    queue: &dyn EventQueue,
    req: &Request,
    ctx: &RequestCtx,
) -> Result<(Receipt, String), ApiError> {
    let path = route_path(req);
    let prefix = format!("/hooks/{}/", H::ENGINE.as_str());
    let Some(token) = path.strip_prefix(&prefix).filter(|t| !t.contains('/')) else {
        return Err(ApiError::NotFound {
            message: "no such route",
        });
    };
    if req.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed {
            allow: "POST".into(),
        });
    }
    if !is_token(token) {
        return Err(ApiError::NotFound {
            message: "no such hook",
        });
    }
    let body: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if body.len() > MAX_HOOK_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_HOOK_BODY_BYTES,
        });
    }
    let hook = tokio::time::timeout_at(ctx.deadline, store.events().get_hook(&hook_hash(token)))
        .await
        .map_err(|_| ApiError::ServiceUnavailable {
            detail: "the deadline passed while reading the hook".into(),
        })??
        .filter(|h: &Hook| h.engine == H::ENGINE)
        .ok_or(ApiError::NotFound {
            message: "no such hook",
        })?;
    let now_secs = crate::clock::now_epoch();
    if let Some(secret) = &hook.engine_secret
        && let Err(why) = H::verify(req.headers(), body, secret, now_secs)
    {
        tracing::info!(request_id = %ctx.request_id, tenant_id = %hook.tenant_id, reason = %why, "engine signature refused");
        return Err(ApiError::Unauthorized);
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::validation(
            "the body is not JSON",
            vec![FieldError::new(
                "body",
                "must be the engine's JSON webhook payload",
            )],
        )
    })?;
    let parsed = H::parse(&value);
    let mut receipt = Receipt {
        success: true,
        ignored: parsed.ignored,
        ..Receipt::default()
    };
    let now_ms = now_secs * 1_000;
    for one in parsed.events {
        let foreign = one
            .session
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case(&hook.session) && !hook.session.is_empty());
        let stale = one
            .at_ms
            .is_some_and(|at| at < now_ms - DEDUPE_SECS * 1_000);
        if foreign || stale {
            receipt.ignored += 1;
            continue;
        }
        let dedupe = content_hash(H::ENGINE, &hook.session, &one);
        // A change a paced job made: its id, and its unconfirmed outcomes
        // confirmed. Best effort: the event is stored either way.
        let job_id = match job_of(store, &hook.tenant_id, &one, now_ms).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(request_id = %ctx.request_id, tenant_id = %hook.tenant_id, error = %e, "matching the change to a job failed");
                None
            }
        };
        let event = Event {
            id: new_event_id(),
            kind: one.kind,
            timestamp: crate::clock::format_epoch_ms(one.at_ms.unwrap_or(now_ms).min(now_ms))
                .replace(".000Z", "Z"),
            tenant_id: hook.tenant_id.clone(),
            data: EventData {
                group_jid: Some(one.group_jid),
                actor: one.actor,
                participants: one.participants,
                changes: one.changes,
                engine: H::ENGINE.as_str().to_string(),
                session: hook.session.clone(),
                job_id,
                job: None,
            },
        };
        let stored = tokio::time::timeout_at(
            ctx.deadline,
            store.events().put_event(&event, &dedupe, now_secs),
        )
        .await
        .map_err(|_| ApiError::ServiceUnavailable {
            detail: "the deadline passed while storing an event".into(),
        })??;
        match stored {
            Stored::New => {
                receipt.stored += 1;
                // The event is stored: its deliveries are queued. A failure
                // here is logged (the event stays listed); the engine's
                // retry would be a duplicate, so it is not asked for.
                if let Err(e) = super::outbox::fan_out(store, queue, &event).await {
                    tracing::error!(request_id = %ctx.request_id, tenant_id = %hook.tenant_id, event_id = %event.id, error = %e, "queueing the event's deliveries failed");
                }
            }
            Stored::Duplicate => receipt.duplicates += 1,
        }
    }
    Ok((receipt, hook.tenant_id))
}

/// How recently a job must have moved for a change to be matched to it.
const JOB_MATCH_WINDOW_MS: i64 = 3_600_000;
/// How many of a job's last sent entries a change is matched against.
const JOB_MATCH_ENTRIES: u32 = 2 * crate::jobs::SLOT;

/// The paced job a participants change belongs to: one of the tenant's
/// latest jobs (10) on the same group and action, moved in the last hour,
/// with one of the change's participants among its last sent entries.
/// Their `unconfirmed` outcomes become `ok`: the engine has now said so.
async fn job_of<S: Store + ?Sized>(
    store: &S,
    tenant_id: &str,
    change: &super::Normalised,
    now_ms: i64,
) -> Result<Option<String>, crate::store::StoreError> {
    use super::EventType as T;
    use crate::engine::Action;
    use crate::jobs::EntryState;
    let action = match change.kind {
        T::ParticipantsAdded => Action::Add,
        T::ParticipantsRemoved => Action::Remove,
        T::ParticipantsPromoted => Action::Promote,
        T::ParticipantsDemoted => Action::Demote,
        _ => return Ok(None),
    };
    let jobs = store.jobs();
    for job in jobs.list_jobs(tenant_id, None, 10).await?.jobs {
        if job.group_jid != change.group_jid
            || job.action != action
            || job.updated_at < now_ms - JOB_MATCH_WINDOW_MS
        {
            continue;
        }
        let sent = (job.cursor + job.inflight).min(job.total);
        let from = sent.saturating_sub(JOB_MATCH_ENTRIES);
        if sent == from {
            continue;
        }
        let entries = jobs.entries(tenant_id, &job.id, from, sent - from).await?;
        let mut matched = false;
        for (i, entry) in entries.iter().enumerate() {
            let names = [
                Some(&entry.jid),
                entry.phone_number.as_ref(),
                entry.lid.as_ref(),
            ];
            let hit = change.participants.iter().any(|p| {
                [Some(&p.jid), p.phone_number.as_ref(), p.lid.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|name| names.contains(&Some(name)))
            });
            if hit {
                matched = true;
                if entry.status == EntryState::Unconfirmed {
                    jobs.confirm_entry(tenant_id, &job.id, from + i as u32, now_ms)
                        .await?;
                }
            }
        }
        if matched {
            return Ok(Some(job.id));
        }
    }
    Ok(None)
}

/// A hook token as `admin` makes them (`hk_` + 64 hex digits); anything
/// else is not looked up.
fn is_token(t: &str) -> bool {
    t.strip_prefix("hk_")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The engine whose ingress a path is (`/hooks/<engine>/<anything>`).
pub fn hook_engine(path: &str) -> Option<EngineKind> {
    let rest = path.strip_prefix("/hooks/")?;
    let (engine, token) = rest.split_once('/')?;
    (!token.is_empty() && !token.contains('/'))
        .then(|| EngineKind::parse(engine))
        .flatten()
}

/// Serves a `/hooks/…` request with whichever engine's dialect the path
/// names (`local-api` and the whole-table server; each Lambda links one).
pub async fn serve_any_hook<S: Store + ?Sized>(
    store: &S,
    queue: &dyn EventQueue,
    req: Request,
) -> Response<Body> {
    use super::engines::{
        evolution::Evolution, session_service::SessionService, waha::Waha, wuts::Wuts,
    };
    match hook_engine(route_path(&req)) {
        Some(EngineKind::Evolution) => serve_hook::<Evolution, S>(store, queue, req).await,
        Some(EngineKind::Waha) => serve_hook::<Waha, S>(store, queue, req).await,
        Some(EngineKind::Wuts) => serve_hook::<Wuts, S>(store, queue, req).await,
        Some(EngineKind::SessionService) => {
            serve_hook::<SessionService, S>(store, queue, req).await
        }
        None => ApiError::NotFound {
            message: "no such route",
        }
        .to_response(&crate::context::new_request_id()),
    }
}
