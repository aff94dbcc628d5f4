//! `GET /groups/{jid}/invite`: the group's current invite link, not regenerated.

super::invite::group_operation! {
    GetGroupInviteLink: "GET" "/groups/{jid}/invite" => "get-group-invite-link", read, action: "get_invite",
    execute(group, engine, target, ctx) {
        let link = super::engine_call(ctx, engine, target, crate::engine::calls::Invite::get(group)).await?;
        super::invite::answer(ctx, group, &link, None)
    }
}
