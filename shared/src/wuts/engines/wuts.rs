//! `wuts`: the WUTS public REST API (docs.wuts.com.br). The same routes and
//! bodies as ours, no version prefix, the device chosen by the Bearer token
//! (no session in the path). Errors: `{success:false, error, error_code?}`.

use lambda_http::http::Method;
use serde::Deserialize;

use crate::jid::GroupJid;
use crate::wuts::dialect::{
    Auth, InviteCall, Outgoing, Reply, invite_link, json, refusal, status_as_is,
};
use crate::wuts::{
    Action, GroupKind, InviteReply, ParticipantsCall, ParticipantsReply, WutsError, WutsParticipant,
};

/// A group or community JID goes into the path as it is: validated to
/// digits, `-` and `@g.us`, and written with a literal `@` as WUTS's own
/// examples do.
fn group_url(base: &str, kind: GroupKind, group: &GroupJid, tail: &str) -> String {
    format!("{base}/{}/{}/{tail}", kind.path_segment(), group.as_str())
}

/// `remove` goes as `DELETE` (its default), the rest as `POST`; the action
/// is always named in the body.
pub fn participants(base: &str, call: &ParticipantsCall) -> Outgoing {
    let method = if call.action == Action::Remove {
        Method::DELETE
    } else {
        Method::POST
    };
    Outgoing {
        method,
        url: group_url(base, call.kind, &call.group, "participants"),
        auth: Auth::Bearer,
        body: Some(serde_json::json!({
            "participants": call.participants.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "action": call.action.as_str(),
        })),
    }
}

/// `{success, participants: [{jid, phone_number, is_admin, is_super_admin,
/// error?, add_request?}]}`. The documented entry has no error field: an
/// entry without one is taken as done, one with a non-zero `error` as
/// WhatsApp's refusal; a participant not listed is unconfirmed.
pub fn participants_reply(
    _call: &ParticipantsCall,
    reply: &Reply,
) -> Result<Vec<WutsParticipant>, WutsError> {
    if !reply.is_success() {
        return Err(error(reply));
    }
    let parsed: ParticipantsReply = json(reply)?;
    Ok(parsed.participants)
}

pub fn invite(base: &str, group: &GroupJid, which: InviteCall) -> Outgoing {
    let (method, tail) = match which {
        InviteCall::Get => (Method::GET, "invite"),
        InviteCall::Reset => (Method::POST, "invite/reset"),
    };
    Outgoing {
        method,
        url: group_url(base, GroupKind::Group, group, tail),
        auth: Auth::Bearer,
        body: None,
    }
}

/// `{success, group_jid, invite_link, reset_at?}`.
pub fn invite_reply(reply: &Reply) -> Result<String, WutsError> {
    if !reply.is_success() {
        return Err(error(reply));
    }
    invite_link(&json::<InviteReply>(reply)?.invite_link)
}

/// `DELETE /groups/{jid}/leave` → `{success: true}`.
pub fn leave(base: &str, group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::DELETE,
        url: group_url(base, GroupKind::Group, group, "leave"),
        auth: Auth::Bearer,
        body: None,
    }
}

/// `PUT /groups/{jid}/ephemeral` `{duration_seconds}` → `{success,
/// duration_seconds}`.
pub fn ephemeral(base: &str, group: &GroupJid, seconds: u32) -> Outgoing {
    Outgoing {
        method: Method::PUT,
        url: group_url(base, GroupKind::Group, group, "ephemeral"),
        auth: Auth::Bearer,
        body: Some(serde_json::json!({ "duration_seconds": seconds })),
    }
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error_code: Option<String>,
}

/// WUTS's `error_code` (or, without one, its status) in the canonical
/// form. WUTS's 403 is a valid token refused for the resource: for a group
/// call, the account is not an admin of it (the table of `api.md`, whose
/// contract WUTS's own API is).
pub fn error(reply: &Reply) -> WutsError {
    let code = serde_json::from_slice::<ErrorBody>(&reply.body)
        .unwrap_or_default()
        .error_code;
    match (reply.status, code.as_deref()) {
        (_, Some("DEVICE_NOT_READY")) => refusal(409, "session_not_connected", reply),
        (_, Some("RATE_LIMITED")) | (429, _) => refusal(429, "rate_limited", reply),
        (_, Some("UNAUTHORIZED")) | (401, _) => refusal(401, "unauthorized", reply),
        (403, _) => refusal(403, "not_admin", reply),
        (404, _) => refusal(404, "group_not_found", reply),
        (_, Some("VALIDATION_ERROR")) | (400 | 422, _) => refusal(400, "bad_request", reply),
        // 503 without a code, and every other status, as it is.
        _ => status_as_is(reply, code.map(|c| c.to_ascii_lowercase())),
    }
}
