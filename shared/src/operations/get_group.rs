//! `GET /groups/{jid}`: one group with its participants, `{success, group}`.

use serde::Serialize;

use super::ok;
use crate::engine::groups::Group;
use crate::operation::Executed;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    group: &'a Group,
}

super::invite::group_operation! {
    GetGroup: "GET" "/groups/{jid}" => "get-group", read, action: "get_group",
    execute(group, engine, target, ctx) {
        let info = super::engine_call(ctx, engine, target, crate::engine::calls::GroupInfo { group: group.clone() }).await?;
        let reply = Reply {
            success: true,
            group: &info,
        };
        Ok(Executed::plain(ok(ctx, &reply)?))
    }
}
