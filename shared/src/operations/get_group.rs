//! `GET /groups/{jid}`: one group with its participants, `{success, group}`.

use lambda_http::Request;
use serde::Serialize;

use super::{invite, ok};
use crate::context::RequestCtx;
use crate::engine::groups::Group;
use crate::engine::{Engine, EngineTarget};
use crate::error::ApiError;
use crate::jid::GroupJid;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;

pub struct GetGroup;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    group: &'a Group,
}

impl Operation for GetGroup {
    const ROUTE: Route = Route {
        method: "GET",
        path: "/groups/{jid}",
        function: "get-group",
        scope: Scope::GroupsRead,
        mutating: false,
    };
    type Command = GroupJid;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<GroupJid, ApiError> {
        invite::prepare(params, req)
    }

    fn subject(group: &GroupJid) -> Subject<'_> {
        invite::subject(group, "get_group")
    }

    async fn execute<E: Engine + ?Sized>(
        group: &GroupJid,
        engine: &E,
        target: &EngineTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        let info = super::engine_call(ctx, |meta| engine.group_info(target, group, meta)).await?;
        Ok(Executed::plain(ok(
            ctx,
            &Reply {
                success: true,
                group: &info,
            },
        )?))
    }
}
