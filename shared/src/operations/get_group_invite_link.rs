//! `GET /groups/{jid}/invite`: the group's current invite link, not regenerated.

super::invite::group_operation! {
    GetGroupInviteLink: "GET" "/groups/{jid}/invite" => "get-group-invite-link", read, action: "get_invite",
    execute(group, on) {
        let link = on.call(crate::engine::calls::Invite::get(group)).await?;
        super::invite::answer(on.ctx, group, &link, None)
    }
}
