//! `evolution`: Evolution API v2 (`evolution-foundation/evolution-api`
//! v2.3.7, `src/api/routes/group.router.ts`, `src/validate/group.schema.ts`,
//! the Baileys service's `updateGParticipant` / `inviteCode` /
//! `revokeInviteCode`, and the error middleware in `src/main.ts`). The
//! `apikey` header, the instance as the last path segment, the group as
//! `?groupJid=`. No community operations.

use lambda_http::http::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::jid::GroupJid;
use crate::wuts::dialect::{
    Auth, InviteCall, Outgoing, Reply, enc, expiration, invite_link, json, refusal, status_as_is,
};
use crate::wuts::{
    AddRequest, ENGINE_MISCONFIGURED, GroupKind, ParticipantsCall, WutsError, WutsParticipant,
    WutsTarget,
};

const AUTH: Auth = Auth::Header("apikey");

fn url(base: &str, route: &str, target: &WutsTarget, group: &GroupJid) -> String {
    format!(
        "{base}/group/{route}/{}?groupJid={}",
        enc(&target.session_id),
        enc(group.as_str())
    )
}

/// `POST /group/updateParticipant/{instance}?groupJid=` with `{action,
/// participants}`; JIDs (phone or LID) pass Evolution's `createJid`
/// unchanged. Communities: Evolution has no such route.
pub fn participants(
    base: &str,
    target: &WutsTarget,
    call: &ParticipantsCall,
) -> Result<Outgoing, WutsError> {
    if call.kind == GroupKind::Community {
        return Err(WutsError::NotSupported {
            operation: "update community participants (Evolution API has no community routes)",
        });
    }
    Ok(Outgoing {
        method: Method::POST,
        url: url(base, "updateParticipant", target, &call.group),
        auth: AUTH,
        body: Some(serde_json::json!({
            "action": call.action.as_str(),
            "participants": call.participants.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        })),
    })
}

#[derive(Deserialize)]
struct UpdateReply {
    #[serde(rename = "updateParticipants")]
    update_participants: Vec<Value>,
}

/// 201 `{updateParticipants: [{status: "200"|"403"|…, jid, content}]}`,
/// `content` being Baileys' raw node: `attrs.phone_number` when `jid` is a
/// LID, and an `add_request` child (`code`, `expiration`) on a privacy
/// refusal. `status` is WhatsApp's code as a string, `"200"` for done. An
/// entry we cannot read accounts for nobody: that participant is
/// unconfirmed.
pub fn participants_reply(
    _call: &ParticipantsCall,
    reply: &Reply,
) -> Result<Vec<WutsParticipant>, WutsError> {
    if !reply.is_success() {
        return Err(error(reply));
    }
    let parsed: UpdateReply = json(reply)?;
    Ok(parsed
        .update_participants
        .iter()
        .filter_map(baileys_entry)
        .collect())
}

/// One entry of Baileys' `groupParticipantsUpdate` result (Evolution, and
/// WAHA on NOWEB): `{status: "<code>", jid, content: <participant node>}`.
pub(crate) fn baileys_entry(v: &Value) -> Option<WutsParticipant> {
    let jid = v.get("jid")?.as_str()?.to_string();
    let status: i64 = match v.get("status")? {
        Value::String(s) => s.trim().parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    let content = v.get("content");
    let attrs = content.and_then(|c| c.get("attrs"));
    let phone_number = attrs
        .and_then(|a| a.get("phone_number"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let add_request = content
        .and_then(|c| c.get("content"))
        .and_then(Value::as_array)
        .and_then(|children| {
            children
                .iter()
                .find(|c| c.get("tag").and_then(Value::as_str) == Some("add_request"))
        })
        .and_then(|node| {
            let attrs = node.get("attrs")?;
            Some(AddRequest {
                code: attrs.get("code")?.as_str()?.to_string(),
                expiration: attrs.get("expiration").and_then(expiration),
            })
        });
    Some(WutsParticipant {
        lid: jid.ends_with("@lid").then(|| jid.clone()),
        phone_number: phone_number
            .or_else(|| jid.ends_with("@s.whatsapp.net").then(|| jid.clone())),
        jid,
        is_admin: false,
        is_super_admin: false,
        error: (status != 200).then_some(status),
        add_request,
    })
}

/// `GET /group/inviteCode/{instance}?groupJid=` → 200 `{inviteUrl,
/// inviteCode}`; `POST /group/revokeInviteCode/{instance}?groupJid=` → 201
/// `{revoked, inviteCode}` (the new code).
pub fn invite(base: &str, target: &WutsTarget, group: &GroupJid, which: InviteCall) -> Outgoing {
    let (method, route) = match which {
        InviteCall::Get => (Method::GET, "inviteCode"),
        InviteCall::Reset => (Method::POST, "revokeInviteCode"),
    };
    Outgoing {
        method,
        url: url(base, route, target, group),
        auth: AUTH,
        body: None,
    }
}

/// `DELETE /group/leaveGroup/{instance}?groupJid=` → 200 `{groupJid,
/// leave: true}`.
pub fn leave(base: &str, target: &WutsTarget, group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::DELETE,
        url: url(base, "leaveGroup", target, group),
        auth: AUTH,
        body: None,
    }
}

/// `POST /group/toggleEphemeral/{instance}` `{groupJid, expiration}` (a
/// number: 0, 86400, 604800, 7776000) → 201 `{success: true}`.
pub fn ephemeral(base: &str, target: &WutsTarget, group: &GroupJid, seconds: u32) -> Outgoing {
    Outgoing {
        method: Method::POST,
        url: format!("{base}/group/toggleEphemeral/{}", enc(&target.session_id)),
        auth: AUTH,
        body: Some(serde_json::json!({ "groupJid": group.as_str(), "expiration": seconds })),
    }
}

#[derive(Deserialize)]
struct InviteCode {
    #[serde(rename = "inviteCode")]
    invite_code: String,
}

pub fn invite_reply(reply: &Reply) -> Result<String, WutsError> {
    if !reply.is_success() {
        return Err(error(reply));
    }
    invite_link(&json::<InviteCode>(reply)?.invite_code)
}

/// Evolution's envelope `{status, error, response: {message}}`, `message`
/// an array (strings, or `{property, message}` for schema errors) or a
/// string. Baileys' refusal reaches it as the text `"Error: <text>"`, its
/// numeric code lost: the text decides.
pub fn error(reply: &Reply) -> WutsError {
    let texts = messages(&reply.body);
    let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
    match reply.status {
        401 | 403 => refusal(401, "unauthorized", reply),
        404 if has("instance does not exist") => refusal(404, "session_not_found", reply),
        // Express's fallback: no such route here (an old or proxied engine).
        404 if texts.iter().any(|t| t.starts_with("Cannot ")) => {
            refusal(404, ENGINE_MISCONFIGURED, reply)
        }
        _ if has("rate-overlimit") => refusal(429, "rate_limited", reply),
        _ if has("not-authorized") || has("forbidden") => refusal(403, "not_admin", reply),
        _ if has("item-not-found") => refusal(404, "group_not_found", reply),
        _ if has("Connection Closed")
            || has("Cannot read properties of undefined")
            || has("Method not available on WhatsApp Business API") =>
        {
            refusal(409, "session_not_connected", reply)
        }
        // WhatsApp did not answer in time: it may have acted.
        _ if has("Timed Out") => status_as_is(
            &Reply {
                status: 504,
                ..reply.clone()
            },
            None,
        ),
        400 | 404 => refusal(reply.status, "bad_request", reply),
        _ => status_as_is(reply, None),
    }
}

fn messages(body: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    match v.pointer("/response/message") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
