//! `DELETE /groups/{jid}/leave`: the account leaves the group. No body;
//! `{success: true}` back.

use lambda_http::Request;
use serde::Serialize;

use super::{invite, ok};
use crate::context::RequestCtx;
use crate::engine::{Engine, EngineTarget};
use crate::error::ApiError;
use crate::jid::GroupJid;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;

pub struct LeaveGroup;

#[derive(Serialize)]
struct Reply {
    success: bool,
}

impl Operation for LeaveGroup {
    const ROUTE: Route = Route {
        method: "DELETE",
        path: "/groups/{jid}/leave",
        function: "leave-group",
        scope: Scope::GroupsWrite,
        mutating: true,
    };
    type Command = GroupJid;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<GroupJid, ApiError> {
        invite::prepare(params, req)
    }

    fn subject(group: &GroupJid) -> Subject<'_> {
        invite::subject(group, "leave")
    }

    async fn execute<E: Engine + ?Sized>(
        group: &GroupJid,
        engine: &E,
        target: &EngineTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        super::engine_call(ctx, |meta| engine.leave_group(target, group, meta)).await?;
        Ok(Executed::plain(ok(ctx, &Reply { success: true })?))
    }
}
