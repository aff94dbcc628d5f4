//! The API's operations: one file each, and the one list below that the route
//! table, `local-api`'s dispatch, and (through [`ROUTES`]) the template,
//! OpenAPI and cross-cutting tests are all generated from.
//!
//! Adding an operation: its file here, one line in the list, its function
//! crate (a 6-line `main.rs`), its event, its template entry and OpenAPI path.

mod add_community_participants;
mod add_group_participants;
mod get_group_invite_link;
pub mod invite;
mod leave_group;
pub mod participants;
mod remove_community_participants;
mod remove_group_participants;
mod reset_group_invite_link;
pub mod set_group_ephemeral;

pub use add_community_participants::AddCommunityParticipants;
pub use add_group_participants::AddGroupParticipants;
pub use get_group_invite_link::GetGroupInviteLink;
pub use leave_group::LeaveGroup;
pub use remove_community_participants::RemoveCommunityParticipants;
pub use remove_group_participants::RemoveGroupParticipants;
pub use reset_group_invite_link::ResetGroupInviteLink;
pub use set_group_ephemeral::SetGroupEphemeral;

use std::time::Duration;

use tokio::time::Instant;

use lambda_http::http::Method;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request, Response};

use crate::context::RequestCtx;
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::Operation;
use crate::routes::{Resolution, Route, resolve_in};
use crate::wuts::{CallMeta, Reach, WutsError};

/// Something to do with one operation, the type chosen at run time by its
/// index in [`ROUTES`] (the whole-table server: `local-api` and tests). A
/// Lambda binary never needs it: it names its one operation statically.
pub trait OperationVisitor {
    type Output;
    fn visit<Op: Operation>(self) -> Self::Output;
}

macro_rules! operations {
    ($($op:ident),+ $(,)?) => {
        /// Every route, in the list's order.
        pub const ROUTES: [Route; [$(stringify!($op)),+].len()] = [$(<$op as Operation>::ROUTE),+];

        /// Calls `visitor` with the operation at `index` of [`ROUTES`].
        pub fn visit<V: OperationVisitor>(index: usize, visitor: V) -> Option<V::Output> {
            let mut at = 0;
            $(
                if index == at {
                    return Some(visitor.visit::<$op>());
                }
                at += 1;
            )+
            let _ = at;
            None
        }
    };
}

operations!(
    RemoveGroupParticipants,
    AddGroupParticipants,
    RemoveCommunityParticipants,
    AddCommunityParticipants,
    ResetGroupInviteLink,
    GetGroupInviteLink,
    LeaveGroup,
    SetGroupEphemeral,
);

/// Resolves a request line against the API's route table.
pub fn resolve<'p>(method: &Method, path: &'p str) -> Resolution<'p> {
    resolve_in(&ROUTES, method, path)
}

/// Bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The `{jid}` path parameter: decoded once, validated strictly.
pub fn path_jid(raw: &str) -> Result<GroupJid, ApiError> {
    GroupJid::from_path_segment(raw).map_err(|message| {
        ApiError::validation(
            "invalid group JID in the path",
            vec![FieldError::new("jid", message)],
        )
    })
}

/// The body's bytes, after the size limit.
pub fn body_bytes(req: &Request) -> Result<&[u8], ApiError> {
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
pub fn require_json(req: &Request) -> Result<(), ApiError> {
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

/// Runs one engine call within the request's deadline (less
/// [`POST_CALL_RESERVE`]) and notes how far it got in `ctx`: the pipeline's
/// audit, idempotency and envelope follow from that (`Reach`). Its latency
/// counts only if it reached the engine.
pub async fn engine_call<T, Fut>(
    ctx: &mut RequestCtx,
    call: impl FnOnce(CallMeta) -> Fut,
) -> Result<T, WutsError>
where
    Fut: Future<Output = Result<T, WutsError>>,
{
    let meta = ctx.call_meta(POST_CALL_RESERVE);
    // A backstop for adapters that do not keep the deadline themselves; it
    // fires a little after it so that one that does classifies its own end.
    let backstop = meta.deadline + BACKSTOP_GRACE;
    let started = Instant::now();
    let out = tokio::time::timeout_at(backstop, call(meta))
        .await
        .unwrap_or(Err(WutsError::Timeout));
    let reach = match &out {
        Ok(_) => Reach::MayHaveActed,
        Err(e) => e.reach(),
    };
    ctx.reach = ctx.reach.max(reach);
    if reach > Reach::NotSent {
        let ms = started.elapsed().as_millis() as u64;
        ctx.upstream_ms = Some(ctx.upstream_ms.unwrap_or(0) + ms);
    }
    out
}

/// Kept free after the engine call for what follows it: the audit record
/// and the idempotency completion, written side by side.
pub const POST_CALL_RESERVE: Duration = Duration::from_millis(2_000);
const BACKSTOP_GRACE: Duration = Duration::from_millis(250);

/// The 200 answer. Serialising straight from the typed body (no
/// intermediate `serde_json::Value`) is most of the warm path's saving.
pub fn ok(ctx: &RequestCtx, body: &impl serde::Serialize) -> Result<Response<Body>, ApiError> {
    let text = serde_json::to_string(body)
        .map_err(|e| ApiError::internal(format!("serialising the response: {e}")))?;
    Ok(crate::http::text_json_response(
        lambda_http::http::StatusCode::OK,
        text,
        &ctx.request_id,
    ))
}
