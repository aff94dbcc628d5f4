//! The API's operations: one file each, and the one list below that the route
//! table, `local-api`'s dispatch, and (through [`ROUTES`]) the template,
//! OpenAPI and cross-cutting tests are all generated from.
//!
//! Adding an operation: its file here and one line in the list; its binary
//! (`functions/src/bin/<name>.rs`, 6 lines), its event
//! (`events/<name>.json`, which `local-api`'s banner embeds), its template
//! entry and OpenAPI path; then `REGENERATE=1 cargo test -p integration-tests
//! --test it derived` rewrites the README table and the support matrix. A new
//! engine call adds its type and its name in `every_call!`
//! (`engine/calls.rs`), the `testkit` simulator's arm and one
//! `speaks!`/`cannot!` line per adapter (and the engine fakes' route).

mod add_community_participants;
mod add_group_participants;
pub mod answer_join_requests;
mod cancel_job;
mod community_link;
pub mod create_community;
mod create_community_participants_job;
pub mod create_group;
mod create_group_participants_job;
pub mod duplicates;
pub mod fields;
mod get_group;
mod get_group_invite_link;
pub mod get_invite_info;
mod get_job;
mod get_pacing;
pub mod invite;
pub mod jobs;
pub mod join_group;
mod leave_group;
mod link_community_group;
mod list_community_groups;
pub mod list_groups;
mod list_jobs;
mod list_join_requests;
pub mod participants;
mod remove_community_participants;
mod remove_group_participants;
mod reset_group_invite_link;
pub mod set_group_ephemeral;
pub mod set_group_picture;
mod unlink_community_group;
pub mod update_group;

pub use add_community_participants::AddCommunityParticipants;
pub use add_group_participants::AddGroupParticipants;
pub use answer_join_requests::AnswerJoinRequests;
pub use cancel_job::CancelJob;
pub use create_community::CreateCommunity;
pub use create_community_participants_job::CreateCommunityParticipantsJob;
pub use create_group::CreateGroup;
pub use create_group_participants_job::CreateGroupParticipantsJob;
pub use get_group::GetGroup;
pub use get_group_invite_link::GetGroupInviteLink;
pub use get_invite_info::GetInviteInfo;
pub use get_job::GetJob;
pub use get_pacing::GetPacing;
pub use join_group::JoinGroup;
pub use leave_group::LeaveGroup;
pub use link_community_group::LinkCommunityGroup;
pub use list_community_groups::ListCommunityGroups;
pub use list_groups::ListGroups;
pub use list_jobs::ListJobs;
pub use list_join_requests::ListJoinRequests;
pub use remove_community_participants::RemoveCommunityParticipants;
pub use remove_group_participants::RemoveGroupParticipants;
pub use reset_group_invite_link::ResetGroupInviteLink;
pub use set_group_ephemeral::SetGroupEphemeral;
pub use set_group_picture::SetGroupPicture;
pub use unlink_community_group::UnlinkCommunityGroup;
pub use update_group::UpdateGroup;

use std::time::Duration;

use tokio::time::Instant;

use lambda_http::http::Method;
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request, Response};

use crate::context::RequestCtx;
use crate::engine::{self, Engine, EngineError, EngineTarget, OneCall, Reach};
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::Operation;
use crate::routes::{Resolution, Route, resolve_in};

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
    CreateGroup,
    CreateCommunity,
    ListGroups,
    GetGroup,
    UpdateGroup,
    JoinGroup,
    SetGroupPicture,
    LinkCommunityGroup,
    UnlinkCommunityGroup,
    ListJoinRequests,
    AnswerJoinRequests,
    GetInviteInfo,
    ListCommunityGroups,
    GetPacing,
    CreateGroupParticipantsJob,
    CreateCommunityParticipantsJob,
    GetJob,
    ListJobs,
    CancelJob,
);

/// Resolves a request line against the API's route table.
pub fn resolve<'p>(method: &Method, path: &'p str) -> Resolution<'p> {
    resolve_in(&ROUTES, method, path)
}

/// Bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The `{jid}` path parameter: decoded once, validated strictly.
pub fn path_jid(raw: &str) -> Result<GroupJid, ApiError> {
    path_jid_named(raw, "jid")
}

/// A group JID path parameter named `field`.
pub fn path_jid_named(raw: &str, field: &str) -> Result<GroupJid, ApiError> {
    GroupJid::from_path_segment(raw).map_err(|message| {
        ApiError::validation(
            "invalid group JID in the path",
            vec![FieldError::new(field, message)],
        )
    })
}

/// The body's bytes, after the size limit.
pub fn body_bytes(req: &Request) -> Result<&[u8], ApiError> {
    body_bytes_up_to(req, MAX_BODY_BYTES)
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
pub async fn engine_call<C: OneCall, E: Engine + ?Sized>(
    ctx: &mut RequestCtx,
    engine: &E,
    target: &EngineTarget,
    call: C,
) -> Result<C::Reply, EngineError> {
    let meta = ctx.call_meta(POST_CALL_RESERVE);
    // A backstop for adapters that do not keep the deadline themselves; it
    // fires a little after it so that one that does classifies its own end.
    let backstop = meta.deadline + BACKSTOP_GRACE;
    let started = Instant::now();
    let out = tokio::time::timeout_at(backstop, engine::send(engine, target, call, meta))
        .await
        .unwrap_or(Err(EngineError::Timeout));
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
    respond(ctx, lambda_http::http::StatusCode::OK, body)
}

/// The 201 answer of a create.
pub fn created(ctx: &RequestCtx, body: &impl serde::Serialize) -> Result<Response<Body>, ApiError> {
    respond(ctx, lambda_http::http::StatusCode::CREATED, body)
}

pub(crate) fn respond(
    ctx: &RequestCtx,
    status: lambda_http::http::StatusCode,
    body: &impl serde::Serialize,
) -> Result<Response<Body>, ApiError> {
    let text = serde_json::to_string(body)
        .map_err(|e| ApiError::internal(format!("serialising the response: {e}")))?;
    Ok(crate::http::text_json_response(
        status,
        text,
        &ctx.request_id,
    ))
}

/// The body's bytes, after a route's own size limit (the picture route's
/// is larger than [`MAX_BODY_BYTES`]).
pub fn body_bytes_up_to(req: &Request, limit: usize) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    // Every route reads its body here: a duplicate key, at any depth, is
    // refused before any parser (or anything upstream) reads it.
    if let Some(path) = duplicates::first_duplicate(bytes) {
        return Err(ApiError::validation(
            "the body has a duplicate key",
            vec![FieldError::new(
                path,
                "appears more than once in its object; send each key once",
            )],
        ));
    }
    Ok(bytes)
}

/// A JSON body of at most [`MAX_BODY_BYTES`]: empty, or declared JSON
/// ([`require_json`]).
pub fn json_body(req: &Request) -> Result<&[u8], ApiError> {
    json_body_up_to(req, MAX_BODY_BYTES)
}

/// [`json_body`] with its own size limit.
pub fn json_body_up_to(req: &Request, limit: usize) -> Result<&[u8], ApiError> {
    let bytes = body_bytes_up_to(req, limit)?;
    if !bytes.is_empty() {
        require_json(req)?;
    }
    Ok(bytes)
}

/// What a create names in its audit record: no group yet, the participants
/// asked for.
pub fn create_subject<'a>(
    action: &'static str,
    participants: &'a [crate::jid::ParticipantJid],
) -> crate::operation::Subject<'a> {
    crate::operation::Subject {
        action,
        group: None,
        participants,
    }
}

/// A create's answer: `201` with `reply`, each participant asked for
/// `added` or `unconfirmed`, and the new group for the audit record.
pub fn creation(
    ctx: &RequestCtx,
    requested: &[crate::jid::ParticipantJid],
    made: &crate::engine::groups::Group,
    reply: &impl serde::Serialize,
) -> Result<crate::operation::Executed, ApiError> {
    Ok(crate::operation::Executed {
        response: created(ctx, reply)?,
        outcomes: creation_outcomes(requested, made),
        audit_group: Some(made.jid.clone()),
    })
}

/// Per-participant audit entries of a create: each requested participant
/// that the engine's group lists is `added`, the others `unconfirmed`.
pub fn creation_outcomes(
    requested: &[crate::jid::ParticipantJid],
    group: &crate::engine::groups::Group,
) -> Vec<crate::store::AuditParticipant> {
    let members: std::collections::HashSet<&str> = group
        .participants
        .iter()
        .flatten()
        .flat_map(|m| {
            [
                Some(m.jid.as_str()),
                m.phone_number.as_deref(),
                m.lid.as_deref(),
            ]
        })
        .flatten()
        .collect();
    requested
        .iter()
        .map(|p| crate::store::AuditParticipant {
            jid: p.as_str().to_string(),
            status: Some(
                if members.contains(p.as_str()) {
                    "added"
                } else {
                    "unconfirmed"
                }
                .to_string(),
            ),
            code: None,
        })
        .collect()
}
