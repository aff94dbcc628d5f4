//! The audit trail: one record per mutating call that was sent to the
//! engine. A failed write is logged and never fails the caller's request.

use std::time::Duration;

use crate::auth::Principal;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::operation::{Executed, Subject};
use crate::routes::Route;
use crate::state::AppState;
use crate::store::{AuditParticipant, AuditRecord, Store};
use crate::wuts::WutsClient;

/// Bound on the audit write, so a slow table cannot hold the answer back long.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);

pub(crate) async fn record<E: WutsClient + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    ctx: &RequestCtx,
    principal: &Principal,
    route: &Route,
    subject: Subject<'_>,
    result: &mut Result<Executed, ApiError>,
) {
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
    let record = AuditRecord {
        tenant_id: principal.tenant_id().to_string(),
        at: crate::clock::now_rfc3339_millis(),
        request_id: ctx.request_id.clone(),
        user_id: principal.user_id.clone(),
        token_id: principal.token_id.clone(),
        route: route.key(),
        action: subject.action.to_string(),
        group_jid: subject.group.as_str().to_string(),
        participants,
        status,
        error_code,
        upstream_ms: ctx.upstream_ms,
        expires_at: state
            .settings
            .audit_ttl_days
            .map(|days| now + i64::try_from(days).unwrap_or(0) * 86_400),
    };
    match tokio::time::timeout(WRITE_DEADLINE, state.store.put_audit(&record)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(request_id = %ctx.request_id, error = %e, "audit write failed");
        }
        Err(_) => {
            tracing::warn!(request_id = %ctx.request_id, "audit write timed out");
        }
    }
}
