//! The endpoints: one short function per route, over the shared pieces.

pub mod invite;
pub mod participants;

use std::time::Instant;

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request, Response};

use crate::AppState;
use crate::error::{ApiError, FieldError};
use crate::handler::RequestCtx;
use crate::jid::GroupJid;
use crate::routes::Endpoint;
use crate::wuts::GroupKind;

/// Bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub(crate) async fn run(
    state: &AppState,
    ctx: &mut RequestCtx,
    endpoint: Endpoint,
    raw_jid: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let principal = state.auth.authenticate(req.headers()).await?;
    ctx.tenant_id = Some(principal.tenant_id().to_string());
    ctx.user_id = Some(principal.user_id.clone());
    ctx.token_id = Some(principal.token_id.clone());
    match endpoint {
        Endpoint::RemoveGroupParticipants => {
            participants::handle(state, ctx, &principal, GroupKind::Group, raw_jid, req).await
        }
        Endpoint::RemoveCommunityParticipants => {
            participants::handle(state, ctx, &principal, GroupKind::Community, raw_jid, req).await
        }
        Endpoint::ResetGroupInviteLink => invite::reset(state, ctx, &principal, raw_jid, req).await,
        Endpoint::GetGroupInviteLink => invite::get(state, ctx, &principal, raw_jid, req).await,
    }
}

/// The `{jid}` path parameter: decoded once, validated strictly.
pub(crate) fn path_jid(raw: &str) -> Result<GroupJid, ApiError> {
    GroupJid::from_path_segment(raw).map_err(|message| {
        ApiError::validation(
            "invalid group JID in the path",
            vec![FieldError::new("jid", message)],
        )
    })
}

/// The body's bytes, after the size limit.
pub(crate) fn body_bytes(req: &Request) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(bytes)
}

/// Refuses a declared Content-Type that is not JSON (`application/json` or
/// `*/*+json`, parameters allowed). A missing header is read as JSON.
pub(crate) fn require_json(req: &Request) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .map_err(|_| ApiError::UnsupportedMediaType)?
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// Runs one upstream call and records its latency.
pub(crate) async fn timed<T>(ctx: &mut RequestCtx, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = call.await;
    ctx.upstream_ms = Some(started.elapsed().as_millis() as u64);
    out
}

pub(crate) fn ok(ctx: &RequestCtx, body: serde_json::Value) -> Response<Body> {
    crate::http::json_response(lambda_http::http::StatusCode::OK, &body, &ctx.request_id)
}
