//! The audit trail: one record per mutating request whose engine call
//! reached the engine (`Reach::Refused` or further: answered, or may have
//! acted). Nothing is recorded for a call that was never sent. A failed
//! write is logged and never fails the caller's request.

use std::time::Duration;

use tokio::time::Instant;

use crate::auth::Principal;
use crate::context::RequestCtx;
use crate::engine::Engine;
use crate::error::ApiError;
use crate::operation::{Executed, Subject};
use crate::routes::Route;
use crate::state::AppState;
use crate::store::{AuditParticipant, AuditRecord, Store};

/// Bound on the audit write, so a slow table cannot hold the answer back
/// long; the request's deadline bounds it too.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);

/// The record of one request, its outcomes moved out of `result` (they are
/// only the audit's).
pub(crate) fn build<E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    ctx: &RequestCtx,
    principal: &Principal,
    route: &Route,
    subject: Subject<'_>,
    result: &mut Result<Executed, ApiError>,
) -> AuditRecord {
    let requested = || {
        subject
            .participants
            .iter()
            .map(|p| AuditParticipant {
                jid: p.as_str().to_string(),
                status: None,
                code: None,
            })
            .collect()
    };
    let audit_group = result.as_ref().ok().and_then(|e| e.audit_group.clone());
    let (status, error_code, participants) = match result {
        // The outcomes are only the audit's: moved, not copied.
        Ok(executed) if !executed.outcomes.is_empty() => (
            executed.response.status().as_u16(),
            None,
            std::mem::take(&mut executed.outcomes),
        ),
        Ok(executed) => (executed.response.status().as_u16(), None, requested()),
        Err(err) => (
            err.status().as_u16(),
            Some(err.code().to_string()),
            requested(),
        ),
    };
    let now = crate::clock::now_epoch();
    AuditRecord {
        tenant_id: principal.tenant_id().to_string(),
        at: crate::clock::now_rfc3339_millis(),
        request_id: ctx.request_id.clone(),
        user_id: principal.user_id.clone(),
        token_id: principal.token_id.clone(),
        route: route.key(),
        action: subject.action.to_string(),
        group_jid: subject
            .group
            .map(|g| g.as_str().to_string())
            .or(audit_group)
            .unwrap_or_default(),
        participants,
        status,
        error_code,
        upstream_ms: ctx.upstream_ms,
        expires_at: state.settings.audit_expiry(now),
        job_id: None,
    }
}

/// Writes the record by the earlier of the request's deadline and the
/// write's own bound.
pub(crate) async fn write<S: Store + ?Sized>(
    store: &S,
    request_id: &str,
    deadline: Instant,
    record: &AuditRecord,
) {
    let until = deadline.min(Instant::now() + WRITE_DEADLINE);
    match tokio::time::timeout_at(until, store.put_audit(record)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(request_id = %request_id, error = %e, "audit write failed");
        }
        Err(_) => {
            tracing::warn!(request_id = %request_id, "audit write timed out");
        }
    }
}
