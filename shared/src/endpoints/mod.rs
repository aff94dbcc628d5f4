//! The endpoints: one short function per route, over the shared pieces.

pub mod audit;
pub mod idempotency;
pub mod invite;
pub mod participants;

use std::time::Instant;

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request, Response};

use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::handler::RequestCtx;
use crate::jid::{GroupJid, ParticipantJid};
use crate::routes::Endpoint;
use crate::store::AuditParticipant;
use crate::wuts::{GroupKind, ParticipantsCall};

/// Bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A validated request, ready for its one WUTS call.
pub(crate) enum Op {
    Participants(ParticipantsCall),
    ResetInvite(GroupJid),
    GetInvite(GroupJid),
}

impl Op {
    fn prepare(endpoint: Endpoint, raw_jid: &str, req: &Request) -> Result<Self, ApiError> {
        Ok(match endpoint {
            Endpoint::RemoveGroupParticipants => {
                Self::Participants(participants::prepare(GroupKind::Group, raw_jid, req)?)
            }
            Endpoint::RemoveCommunityParticipants => {
                Self::Participants(participants::prepare(GroupKind::Community, raw_jid, req)?)
            }
            Endpoint::ResetGroupInviteLink => Self::ResetInvite(invite::prepare(raw_jid, req)?),
            Endpoint::GetGroupInviteLink => Self::GetInvite(invite::prepare(raw_jid, req)?),
        })
    }

    /// Whether the call changes something upstream (idempotency and audit).
    pub(crate) fn is_mutating(&self) -> bool {
        !matches!(self, Self::GetInvite(_))
    }

    pub(crate) fn group(&self) -> &GroupJid {
        match self {
            Self::Participants(call) => &call.group,
            Self::ResetInvite(group) | Self::GetInvite(group) => group,
        }
    }

    pub(crate) fn action(&self) -> &'static str {
        match self {
            Self::Participants(call) => call.action.as_str(),
            Self::ResetInvite(_) => "reset_invite",
            Self::GetInvite(_) => "get_invite",
        }
    }

    pub(crate) fn participants(&self) -> &[ParticipantJid] {
        match self {
            Self::Participants(call) => &call.participants,
            _ => &[],
        }
    }

    async fn execute(
        &self,
        state: &AppState,
        ctx: &mut RequestCtx,
        principal: &Principal,
    ) -> Result<Executed, ApiError> {
        match self {
            Self::Participants(call) => participants::execute(state, ctx, principal, call).await,
            Self::ResetInvite(group) => invite::execute(state, ctx, principal, group, true).await,
            Self::GetInvite(group) => invite::execute(state, ctx, principal, group, false).await,
        }
    }
}

/// An endpoint's answer, and per-participant outcomes for the audit trail.
pub(crate) struct Executed {
    pub response: Response<Body>,
    pub outcomes: Vec<AuditParticipant>,
}

impl Executed {
    fn plain(response: Response<Body>) -> Self {
        Self {
            response,
            outcomes: Vec::new(),
        }
    }
}

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
    let op = Op::prepare(endpoint, raw_jid, req)?;
    if !op.is_mutating() {
        return Ok(op.execute(state, ctx, &principal).await?.response);
    }
    let claim = match idempotency::Key::from_headers(req.headers())? {
        None => None,
        Some(key) => match idempotency::claim(state, ctx, &principal, key, req).await? {
            idempotency::Outcome::Claimed(claim) => Some(claim),
            idempotency::Outcome::Replay(response) => return Ok(response),
        },
    };
    let mut result = op.execute(state, ctx, &principal).await;
    if ctx.upstream_ms.is_some() {
        audit::record(state, ctx, &principal, endpoint, &op, &mut result).await;
    }
    match claim {
        Some(claim) => claim.finish(state, ctx, result).await,
        None => result.map(|executed| executed.response),
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

/// The 200 answer. Serialising straight from the typed body (no
/// intermediate `serde_json::Value`) is most of the warm path's saving.
pub(crate) fn ok(
    ctx: &RequestCtx,
    body: &impl serde::Serialize,
) -> Result<Response<Body>, ApiError> {
    let text = serde_json::to_string(body)
        .map_err(|e| ApiError::internal(format!("serialising the response: {e}")))?;
    Ok(crate::http::text_json_response(
        lambda_http::http::StatusCode::OK,
        text,
        &ctx.request_id,
    ))
}
