//! `POST /communities/{jid}/participants`: adds participants at the community (parent) level (default action `add`); the reply also names the community and the action.

super::participants::participants_operation!(
    AddCommunityParticipants: "POST" "/communities/{jid}/participants" => "add-community-participants", Community, Add, WITH_JID_AND_ACTION
);
