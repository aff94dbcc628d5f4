//! `DELETE /groups/{jid}/participants`: removes participants from a group (default action `remove`; the body's `action` overrides it).

super::participants::participants_operation!(
    RemoveGroupParticipants: "DELETE" "/groups/{jid}/participants" => "remove-group-participants", Group, Remove, PLAIN
);
