//! `POST /groups/{jid}/participants`: adds participants to a group (default action `add`; the body's `action` overrides it). An `add` is never retried once it may have reached the engine.

super::participants::participants_operation!(
    AddGroupParticipants: "POST" "/groups/{jid}/participants" => "add-group-participants", Group, Add, PLAIN
);
