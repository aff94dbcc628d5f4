//! `GET /groups/{jid}/invite`: the group's current invite link, not regenerated.

use lambda_http::Request;

use super::invite;
use crate::context::RequestCtx;
use crate::engine::{Engine, EngineTarget};
use crate::error::ApiError;
use crate::jid::GroupJid;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;

pub struct GetGroupInviteLink;

impl Operation for GetGroupInviteLink {
    const ROUTE: Route = Route {
        method: "GET",
        path: "/groups/{jid}/invite",
        function: "get-group-invite-link",
        scope: Scope::GroupsRead,
        mutating: false,
    };
    type Command = GroupJid;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<GroupJid, ApiError> {
        invite::prepare(params, req)
    }

    fn subject(group: &GroupJid) -> Subject<'_> {
        invite::subject(group, "get_invite")
    }

    async fn execute<E: Engine + ?Sized>(
        group: &GroupJid,
        engine: &E,
        target: &EngineTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        let link = super::engine_call(ctx, |meta| engine.get_invite(target, group, meta)).await?;
        invite::answer(ctx, group, &link, None)
    }
}
