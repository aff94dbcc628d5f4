//! `GET /groups/{jid}`: one group with its participants, `{success, group}`.

use serde::Serialize;

use crate::engine::groups::Group;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    group: &'a Group,
}

super::invite::group_operation! {
    GetGroup: "GET" "/groups/{jid}" => "get-group", read, action: "get_group",
    execute(group, on) {
        let info = on.call(crate::engine::calls::GroupInfo { group: group.clone() }).await?;
        let reply = Reply {
            success: true,
            group: &info,
        };
        on.ok(&reply)
    }
}
