//! `DELETE /communities/{jid}/participants`: removes participants from a community, through the engine's community route (default action `remove`).

super::participants::participants_operation!(
    RemoveCommunityParticipants: "DELETE" "/communities/{jid}/participants" => "remove-community-participants", Community, Remove, PLAIN
);
