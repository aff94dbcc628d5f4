//! `POST /groups/{jid}/invite/reset`: revokes the group's invite link and
//! returns the new one. Not idempotent upstream: never retried once it may
//! have reached the engine (an `Idempotency-Key` makes a client's retry safe).

use lambda_http::Request;

use super::invite;
use crate::context::RequestCtx;
use crate::engine::{Engine, EngineTarget};
use crate::error::ApiError;
use crate::jid::GroupJid;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;

pub struct ResetGroupInviteLink;

impl Operation for ResetGroupInviteLink {
    const ROUTE: Route = Route {
        method: "POST",
        path: "/groups/{jid}/invite/reset",
        function: "reset-group-invite-link",
        scope: Scope::GroupsWrite,
        mutating: true,
    };
    type Command = GroupJid;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<GroupJid, ApiError> {
        invite::prepare(params, req)
    }

    fn subject(group: &GroupJid) -> Subject<'_> {
        invite::subject(group, "reset_invite")
    }

    async fn execute<E: Engine + ?Sized>(
        group: &GroupJid,
        engine: &E,
        target: &EngineTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        let link = super::engine_call(ctx, |meta| engine.reset_invite(target, group, meta)).await?;
        // WhatsApp gives no time: ours, right after the engine confirmed.
        invite::answer(ctx, group, &link, Some(crate::clock::now_rfc3339()))
    }
}
