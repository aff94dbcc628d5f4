//! `DELETE /groups/{jid}/leave`: the account leaves the group. No body;
//! `{success: true}` back.

use serde::Serialize;

use super::ok;
use crate::operation::Executed;

#[derive(Serialize)]
struct Reply {
    success: bool,
}

super::invite::group_operation! {
    LeaveGroup: "DELETE" "/groups/{jid}/leave" => "leave-group", write, action: "leave",
    execute(group, engine, target, ctx) {
        super::engine_call(ctx, engine, target, crate::engine::calls::Leave { group: group.clone() }).await?;
        Ok(Executed::plain(ok(ctx, &Reply { success: true })?))
    }
}
