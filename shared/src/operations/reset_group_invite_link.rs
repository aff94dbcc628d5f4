//! `POST /groups/{jid}/invite/reset`: revokes the group's invite link and
//! returns the new one. Not idempotent upstream: never retried once it may
//! have reached the engine (an `Idempotency-Key` makes a client's retry safe).

super::invite::group_operation! {
    ResetGroupInviteLink: "POST" "/groups/{jid}/invite/reset" => "reset-group-invite-link", write, action: "reset_invite",
    execute(group, on) {
        let link = on.call(crate::engine::calls::Invite::reset(group)).await?;
        // WhatsApp gives no time: ours, right after the engine confirmed.
        super::invite::answer(on.ctx, group, &link, Some(crate::clock::now_rfc3339()))
    }
}
