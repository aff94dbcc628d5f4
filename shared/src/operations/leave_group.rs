//! `DELETE /groups/{jid}/leave`: the account leaves the group. No body;
//! `{success: true}` back.

use serde::Serialize;

#[derive(Serialize)]
struct Reply {
    success: bool,
}

super::invite::group_operation! {
    LeaveGroup: "DELETE" "/groups/{jid}/leave" => "leave-group", write, action: "leave",
    execute(group, on) {
        on.call(crate::engine::calls::Leave { group: group.clone() }).await?;
        on.ok(&Reply { success: true })
    }
}
