//! `session-service`: the original contract (`upstream-wuts.md`). Its
//! statuses and codes are the canonical form the other engines map to.

use lambda_http::http::Method;

use crate::engine::dialect::{
    Auth, InviteCall, Outgoing, Reply, enc, invite_link, json, status_as_is,
};
use crate::engine::{
    EngineError, EngineParticipant, EngineTarget, InviteReply, ParticipantsCall, ParticipantsReply,
    WutsErrorBody,
};
use crate::jid::GroupJid;

fn group_url(
    base: &str,
    target: &EngineTarget,
    kind: &str,
    group: &GroupJid,
    tail: &str,
) -> String {
    format!(
        "{base}/v1/sessions/{}/{kind}/{}/{tail}",
        enc(&target.session_id),
        enc(group.as_str())
    )
}

pub fn participants(base: &str, target: &EngineTarget, call: &ParticipantsCall) -> Outgoing {
    Outgoing {
        method: Method::POST,
        url: group_url(
            base,
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
    if !reply.is_success() {
        return Err(error(reply));
    }
    Ok(json::<ParticipantsReply>(reply)?.participants)
}

pub fn invite(base: &str, target: &EngineTarget, group: &GroupJid, which: InviteCall) -> Outgoing {
    let (method, tail) = match which {
        InviteCall::Get => (Method::GET, "invite"),
        InviteCall::Reset => (Method::POST, "invite/reset"),
    };
    Outgoing {
        method,
        url: group_url(base, target, "groups", group, tail),
        auth: Auth::Bearer,
        body: None,
    }
}

pub fn invite_reply(reply: &Reply) -> Result<String, EngineError> {
    if !reply.is_success() {
        return Err(error(reply));
    }
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
