//! `session-service`: the original contract (`upstream-wuts.md`). Its
//! statuses and codes are the canonical form the other engines map to.

use lambda_http::http::Method;

use crate::engine::adapter::{Adapter, cannot, speaks};
use crate::engine::calls::{
    AnswerJoinRequests, CommunityGroups, GroupInfo, Invite, InviteCall, InviteInfo, JoinRequests,
    Leave, LinkGroup, ListGroups, PrivateInvite, SetEphemeral, SetPicture, UpdateGroup,
};
use crate::engine::groups::{GroupChange, Join, NewCommunity, NewGroup};
use crate::engine::wire::{Auth, Outgoing, Reply, enc, invite_link, json, status_as_is};
use crate::engine::{
    EngineError, EngineParticipant, EngineTarget, InviteReply, ParticipantsReply,
    UpdateParticipants, WutsErrorBody,
};
use crate::jid::GroupJid;

fn group_url(target: &EngineTarget, kind: &str, group: &GroupJid, tail: &str) -> String {
    format!(
        "/v1/sessions/{}/{kind}/{}/{tail}",
        enc(&target.session_id),
        enc(group.as_str())
    )
}

pub fn participants(target: &EngineTarget, call: &UpdateParticipants) -> Outgoing {
    Outgoing {
        method: Method::POST,
        url: group_url(
            target,
            call.kind.path_segment(),
            &call.group,
            "participants",
        ),
        auth: Auth::Bearer,
        body: Some(serde_json::json!({
            "action": call.action.as_str(),
            "participants": call.participants.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        })),
    }
}

pub fn participants_reply(reply: &Reply) -> Result<Vec<EngineParticipant>, EngineError> {
    Ok(json::<ParticipantsReply>(reply)?.participants)
}

pub fn invite(target: &EngineTarget, group: &GroupJid, which: InviteCall) -> Outgoing {
    let (method, tail) = match which {
        InviteCall::Get => (Method::GET, "invite"),
        InviteCall::Reset => (Method::POST, "invite/reset"),
    };
    Outgoing {
        method,
        url: group_url(target, "groups", group, tail),
        auth: Auth::Bearer,
        body: None,
    }
}

pub fn invite_reply(reply: &Reply) -> Result<String, EngineError> {
    let link = json::<InviteReply>(reply)?.invite_link;
    if !link.starts_with("https://") {
        return Err(EngineError::InvalidResponse(
            "invite_link is not an https URL".into(),
        ));
    }
    invite_link(&link)
}

/// `{"error": "...", "code": "snake_case"}` with the status as it is. The
/// contract's 4xx answers are its documented refusals (nothing was done,
/// `upstream-wuts.md`); a 5xx or anything else may follow an effect.
pub fn error(reply: &Reply) -> EngineError {
    let code = serde_json::from_slice::<WutsErrorBody>(&reply.body)
        .ok()
        .and_then(|b| b.code);
    match status_as_is(reply, code) {
        EngineError::Status {
            status,
            code,
            retry_after,
            ..
        } if (400..500).contains(&status) => EngineError::Status {
            status,
            code,
            retry_after,
            settled: true,
        },
        other => other,
    }
}

/// The original `session-service` contract, call by call: participants and
/// invites only.
pub struct SessionService;

impl Adapter for SessionService {
    fn error(reply: &Reply) -> EngineError {
        error(reply)
    }

    fn update_steps(_: &GroupChange) -> Result<Vec<GroupChange>, EngineError> {
        Err(EngineError::NotSupported {
            operation: "update a group (the session-service contract has no such call)",
        })
    }
}

speaks!(SessionService: UpdateParticipants =>
    request(target, call) {
        if call.invite_on_privacy {
            return Err(EngineError::NotSupported { operation: NO_PRIVATE_INVITE });
        }
        Ok(participants(target, call))
    };
    reply(_, reply) participants_reply(reply));

speaks!(SessionService: Invite =>
    request(target, call) Ok(invite(target, &call.group, call.which));
    reply(_, reply) invite_reply(reply));

cannot!(SessionService: Leave => "leave a group (the session-service contract has no such call)");
cannot!(SessionService: SetEphemeral => "set the disappearing-message timer (the session-service contract has no such call)");
cannot!(SessionService: NewGroup => "create a group (the session-service contract has no such call)");
cannot!(SessionService: NewCommunity => "create a community (the session-service contract has no such call)");
cannot!(SessionService: ListGroups => "list groups (the session-service contract has no such call)");
cannot!(SessionService: GroupInfo => "read a group (the session-service contract has no such call)");
cannot!(SessionService: UpdateGroup => "update a group (the session-service contract has no such call)");
cannot!(SessionService: Join => "join a group (the session-service contract has no such call)");
cannot!(SessionService: SetPicture => "set a group picture (the session-service contract has no such call)");
cannot!(SessionService: LinkGroup => "link groups to a community (the session-service contract has no such call)");
cannot!(SessionService: JoinRequests, AnswerJoinRequests => "answer join requests (the session-service contract has no such call)");
cannot!(SessionService: InviteInfo => "read an invite's group (the session-service contract has no such call)");
cannot!(SessionService: CommunityGroups => "list a community's groups (the session-service contract has no such call)");
cannot!(SessionService: PrivateInvite => NO_PRIVATE_INVITE);

/// `invite_on_privacy`, refused before the add is sent.
const NO_PRIVATE_INVITE: &str = "send the private invitation on a privacy refusal (the session-service contract has no such call)";
