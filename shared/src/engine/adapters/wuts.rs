//! `wuts`: the WUTS public REST API (docs.wuts.com.br). The same routes and
//! bodies as ours, no version prefix, the device chosen by the Bearer token
//! (no session in the path). Errors: `{success:false, error, error_code?}`.

use lambda_http::http::Method;
use serde::Deserialize;

use crate::engine::adapter::{Adapter, cannot, speaks};
use crate::engine::calls::{
    AnswerJoinRequests, CommunityGroups, GroupInfo, Invite, InviteCall, InviteInfo, JoinRequests,
    Leave, LinkGroup, ListGroups, PrivateInvite, SetEphemeral, SetPicture, UpdateGroup,
};
use crate::engine::groups::{Group, GroupChange, Join, Joined, NewCommunity, NewGroup};
use crate::engine::listing;
use crate::engine::wire::{Auth, Outgoing, Reply, invite_link, json, refusal, status_as_is};
use crate::engine::{
    Action, EngineError, EngineParticipant, GroupKind, InviteReply, ParticipantsReply,
    UpdateParticipants,
};
use crate::jid::GroupJid;

/// A group or community JID goes into the path as it is: validated to
/// digits, `-` and `@g.us`, and written with a literal `@` as WUTS's own
/// examples do.
fn group_url(kind: GroupKind, group: &GroupJid, tail: &str) -> String {
    format!("/{}/{}/{tail}", kind.path_segment(), group.as_str())
}

/// `remove` goes as `DELETE` (its default), the rest as `POST`; the action
/// is always named in the body.
pub fn participants(call: &UpdateParticipants) -> Outgoing {
    let method = if call.action == Action::Remove {
        Method::DELETE
    } else {
        Method::POST
    };
    Outgoing {
        method,
        url: group_url(call.kind, &call.group, "participants"),
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
    _call: &UpdateParticipants,
    reply: &Reply,
) -> Result<Vec<EngineParticipant>, EngineError> {
    let parsed: ParticipantsReply = json(reply)?;
    Ok(parsed.participants)
}

pub fn invite(group: &GroupJid, which: InviteCall) -> Outgoing {
    let (method, tail) = match which {
        InviteCall::Get => (Method::GET, "invite"),
        InviteCall::Reset => (Method::POST, "invite/reset"),
    };
    Outgoing {
        method,
        url: group_url(GroupKind::Group, group, tail),
        auth: Auth::Bearer,
        body: None,
    }
}

/// `{success, group_jid, invite_link, reset_at?}`.
pub fn invite_reply(reply: &Reply) -> Result<String, EngineError> {
    invite_link(&json::<InviteReply>(reply)?.invite_link)
}

/// `DELETE /groups/{jid}/leave` → `{success: true}`.
pub fn leave(group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::DELETE,
        url: group_url(GroupKind::Group, group, "leave"),
        auth: Auth::Bearer,
        body: None,
    }
}

/// `PUT /groups/{jid}/ephemeral` `{duration_seconds}` → `{success,
/// duration_seconds}`.
pub fn ephemeral(group: &GroupJid, seconds: u32) -> Outgoing {
    Outgoing {
        method: Method::PUT,
        url: group_url(GroupKind::Group, group, "ephemeral"),
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
pub fn error(reply: &Reply) -> EngineError {
    let code = serde_json::from_slice::<ErrorBody>(&reply.body)
        .unwrap_or_default()
        .error_code;
    match (reply.status, code.as_deref()) {
        (_, Some("DEVICE_NOT_READY")) => refusal(409, "session_not_connected", reply),
        (_, Some("RATE_LIMITED")) | (429, _) => refusal(429, "rate_limited", reply),
        (_, Some("UNAUTHORIZED")) | (401, _) => refusal(401, "unauthorized", reply),
        (403, _) => refusal(403, "not_admin", reply),
        // WhatsApp's `not-acceptable` (a name an older server refuses).
        (406, _) => refusal(406, "not_acceptable", reply),
        (404, _) => refusal(404, "group_not_found", reply),
        (_, Some("VALIDATION_ERROR")) | (400 | 422, _) => refusal(400, "bad_request", reply),
        // 503 without a code, and every other status, as it is.
        _ => status_as_is(reply, code.map(|c| c.to_ascii_lowercase())),
    }
}

// The rest of the Groups family: WUTS's own routes, bodies as ours.

fn plain(method: Method, url: String, body: Option<serde_json::Value>) -> Outgoing {
    Outgoing {
        method,
        url,
        auth: Auth::Bearer,
        body,
    }
}

fn jids(list: &[crate::jid::ParticipantJid]) -> Vec<&str> {
    list.iter().map(|p| p.as_str()).collect()
}

/// `POST /groups` `{name, participants, options?}` → 201 `{success, group}`.
pub fn create_group(new: &NewGroup) -> Outgoing {
    let mut body = serde_json::json!({"name": new.name, "participants": jids(&new.participants)});
    if !new.options.is_default() {
        let o = &new.options;
        let mut options = serde_json::json!({
            "announcement": o.announcement, "locked": o.locked,
            "join_approval": o.join_approval, "community": o.community,
        });
        if let Some(parent) = &o.parent_jid {
            options["parent_jid"] = serde_json::json!(parent.as_str());
        }
        body["options"] = options;
    }
    plain(Method::POST, "/groups".to_string(), Some(body))
}

/// `POST /communities` `{name, participants?, description?}` → 201
/// `{success, community}`.
pub fn create_community(new: &NewCommunity) -> Outgoing {
    let mut body = serde_json::json!({"name": new.name});
    if !new.participants.is_empty() {
        body["participants"] = serde_json::json!(jids(&new.participants));
    }
    if let Some(d) = &new.description {
        body["description"] = serde_json::json!(d);
    }
    plain(Method::POST, "/communities".to_string(), Some(body))
}

/// `GET /groups` → `{success, groups}`.
pub fn list() -> Outgoing {
    plain(Method::GET, "/groups".to_string(), None)
}

/// `GET /groups/{jid}` → `{success, group}`.
pub fn info(group: &GroupJid) -> Outgoing {
    plain(Method::GET, format!("/groups/{}", group.as_str()), None)
}

/// `PATCH /groups/{jid}` with every field at once → `{success, group}`.
pub fn update(group: &GroupJid, change: &GroupChange) -> Outgoing {
    let mut body = serde_json::Map::new();
    if let Some(v) = &change.name {
        body.insert("name".into(), v.as_str().into());
    }
    if let Some(v) = &change.topic {
        body.insert("topic".into(), v.as_str().into());
    }
    for (key, v) in [
        ("announcement", change.announcement),
        ("locked", change.locked),
        ("join_approval", change.join_approval),
    ] {
        if let Some(v) = v {
            body.insert(key.into(), v.into());
        }
    }
    if let Some(mode) = change.member_add_mode {
        body.insert("member_add_mode".into(), mode.as_str().into());
    }
    plain(
        Method::PATCH,
        format!("/groups/{}", group.as_str()),
        Some(serde_json::Value::Object(body)),
    )
}

/// `POST /groups/join` `{link}` or `{code, group_jid, inviter_jid}` →
/// `{success, group_jid, pending_approval}`.
pub fn join(join: &Join) -> Outgoing {
    let body = match join {
        Join::Link { code } => {
            serde_json::json!({"link": format!("https://chat.whatsapp.com/{code}")})
        }
        Join::Invite {
            code,
            group,
            inviter,
        } => serde_json::json!({
            "code": code, "group_jid": group.as_str(), "inviter_jid": inviter.as_str(),
        }),
    };
    plain(Method::POST, "/groups/join".to_string(), Some(body))
}

/// `POST /groups/{jid}/picture` `{image_base64}` → `{success, picture_id}`.
pub fn picture(group: &GroupJid, base64: &str) -> Outgoing {
    plain(
        Method::POST,
        format!("/groups/{}/picture", group.as_str()),
        Some(serde_json::json!({ "image_base64": base64 })),
    )
}

/// `POST /communities/{jid}/groups` `{group_jid}`, or `DELETE
/// /communities/{jid}/groups/{group_jid}`.
/// Link: `POST /communities/{community}/groups` `{"group_jid": child}`.
/// Unlink: the WUTS documentation puts the community in the path and the
/// child group in the body for unlink as for link (engines.md, audit of
/// 2026-12): `DELETE /communities/{community}/groups` `{"group_jid":
/// child}`. The suffix and the field name are on reference pages not stored
/// here (unverified); they live in [`LINK_SUFFIX`] and [`LINK_FIELD`] only.
pub fn link(community: &GroupJid, group: &GroupJid, link: bool) -> Outgoing {
    let url = format!("/communities/{}/{LINK_SUFFIX}", community.as_str());
    let method = if link { Method::POST } else { Method::DELETE };
    plain(
        method,
        url,
        Some(serde_json::json!({ LINK_FIELD: group.as_str() })),
    )
}

/// The community's groups route (unverified; see [`link`]).
pub const LINK_SUFFIX: &str = "groups";
/// The body field naming the child group (unverified; see [`link`]).
pub const LINK_FIELD: &str = "group_jid";

/// The group under `key` (`group`, `community`) of a 2xx reply.
pub fn group_reply(reply: &Reply, key: &str) -> Result<Group, EngineError> {
    let mut v: serde_json::Value = json(reply)?;
    // `get_mut`, never indexing: a reply that is not an object must not panic.
    let object = v
        .get_mut(key)
        .map(serde_json::Value::take)
        .unwrap_or_default();
    let group: Group = serde_json::from_value(object)
        .map_err(|e| EngineError::InvalidResponse(format!("the {key} object: {e}")))?;
    group.checked()
}

/// WUTS's answer to a call without data: `{"success": true, …}` (JSON).
/// The object, for the fields some calls add (`group`, `picture_id`).
pub fn done_reply(
    reply: &Reply,
) -> Result<serde_json::Map<String, serde_json::Value>, EngineError> {
    let map = crate::engine::wire::json_object(reply)?;
    if map.get("success") != Some(&serde_json::Value::Bool(true)) {
        return Err(EngineError::InvalidResponse(format!(
            "status {}: the reply does not say success: true",
            reply.status
        )));
    }
    Ok(map)
}

/// PATCH's refreshed group, if the reply carries one.
pub fn update_reply(reply: &Reply) -> Result<Option<Group>, EngineError> {
    let mut map = done_reply(reply)?;
    Ok(map
        .remove("group")
        .and_then(|g| serde_json::from_value::<Group>(g).ok())
        .and_then(|g| g.checked().ok()))
}

#[derive(Deserialize)]
struct JoinReply {
    #[serde(default)]
    group_jid: Option<String>,
    #[serde(default)]
    pending_approval: Option<bool>,
    #[serde(default)]
    success: bool,
}

pub fn join_reply(reply: &Reply) -> Result<Joined, EngineError> {
    let r: JoinReply = json(reply)?;
    if !r.success {
        return Err(EngineError::InvalidResponse(
            "a join reply that does not say success: true".into(),
        ));
    }
    Ok(Joined {
        group_jid: r.group_jid.filter(|j| GroupJid::parse(j).is_ok()),
        pending_approval: r.pending_approval,
    })
}

pub fn picture_reply(reply: &Reply) -> Result<Option<String>, EngineError> {
    let v = done_reply(reply)?;
    Ok(match v.get("picture_id") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The WUTS public API, call by call.
pub struct Wuts;

impl Adapter for Wuts {
    fn error(reply: &Reply) -> EngineError {
        error(reply)
    }

    /// WUTS takes a whole change in one `PATCH`.
    fn update_steps(change: &GroupChange) -> Result<Vec<GroupChange>, EngineError> {
        Ok(vec![change.clone()])
    }
}

speaks!(Wuts: UpdateParticipants =>
    request(_, call) {
        if call.invite_on_privacy {
            return Err(EngineError::NotSupported { operation: NO_PRIVATE_INVITE });
        }
        Ok(participants(call))
    };
    reply(call, reply) participants_reply(call, reply));

speaks!(Wuts: Invite =>
    request(_, call) Ok(invite(&call.group, call.which));
    reply(_, reply) invite_reply(reply));

speaks!(Wuts: Leave =>
    request(_, call) Ok(leave(&call.group));
    reply(_, reply) done_reply(reply).map(|_| ()));

speaks!(Wuts: SetEphemeral =>
    request(_, call) Ok(ephemeral(&call.group, call.seconds));
    reply(_, reply) done_reply(reply).map(|_| ()));

speaks!(Wuts: NewGroup =>
    request(_, call) Ok(create_group(call));
    reply(_, reply) group_reply(reply, "group"));

speaks!(Wuts: NewCommunity =>
    request(_, call) Ok(create_community(call));
    reply(_, reply) group_reply(reply, "community"));

speaks!(Wuts: ListGroups =>
    request(_, _) Ok(list());
    reply(call, reply) listing::read(&reply.body, listing::Shape::Wuts, &call.page));

speaks!(Wuts: GroupInfo =>
    request(_, call) Ok(info(&call.group));
    reply(_, reply) group_reply(reply, "group"));

speaks!(Wuts: UpdateGroup =>
    request(_, call) Ok(update(&call.group, &call.step));
    reply(_, reply) update_reply(reply));

speaks!(Wuts: Join =>
    request(_, call) Ok(join(call));
    reply(_, reply) join_reply(reply));

speaks!(Wuts: SetPicture =>
    request(_, call) Ok(picture(&call.group, &call.base64));
    reply(_, reply) picture_reply(reply));

speaks!(Wuts: LinkGroup =>
    request(_, call) Ok(link(&call.community, &call.group, call.link));
    reply(_, reply) done_reply(reply).map(|_| ()));

/// What the WUTS documentation has no route for (`docs/research/wuts-join-requests.md`).
const NO_PRIVATE_INVITE: &str =
    "send the private invitation on a privacy refusal (the WUTS API documents no such call)";

cannot!(Wuts: JoinRequests, AnswerJoinRequests => "answer join requests (the WUTS API documents no such call)");
cannot!(Wuts: InviteInfo => "read an invite's group (the WUTS API documents no such call)");
// No route lists a community's groups: they are read from `GET /groups`
// (the linked groups the account is in; `parent_jid`).
speaks!(Wuts: CommunityGroups =>
    request(_, _) Ok(list());
    reply(call, reply) listing::community_groups(&reply.body, listing::Shape::Wuts, &call.community));
cannot!(Wuts: PrivateInvite => NO_PRIVATE_INVITE);
