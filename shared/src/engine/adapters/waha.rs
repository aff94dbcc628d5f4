//! `waha`: WAHA (`devlikeapro/waha`, `src/api/groups.controller.ts`, the
//! GOWS, NOWEB and WEBJS session classes). `X-Api-Key`, the session in the
//! path `/api/{session}/groups/{id}/…`, participants as `[{id}]`. WAHA
//! hands back its internal engine's raw result, so the reply is read by its
//! shape: whatsmeow's list (GOWS), Baileys' list (NOWEB), whatsapp-web.js's
//! map or bare `{status}` (WEBJS). No community operations.

use lambda_http::http::Method;
use serde_json::Value;

use crate::engine::adapter::{Adapter, cannot, speaks};
use crate::engine::calls::{
    AnswerJoinRequests, CommunityGroups, GroupInfo, Invite, InviteCall, InviteInfo, JoinRequests,
    Leave, LinkGroup, ListGroups, PrivateInvite, SetEphemeral, SetPicture, UpdateGroup,
};
use crate::engine::groups::NewCommunity;
use crate::engine::groups::{
    Group, GroupChange, Join, JoinRequest, Joined, MemberAddMode, NewGroup, epoch_to_rfc3339,
};
use crate::engine::listing;
use crate::engine::shapes::{self, baileys, our_id, whatsmeow};
use crate::engine::wire::{
    Auth, Done, Outgoing, Reply, enc, expiration, invite_link, json_says, refusal, status_as_is,
};
use crate::engine::{
    Action, AddRequest, ENGINE_MISCONFIGURED, ENGINE_NOT_SUPPORTED, EngineError, EngineParticipant,
    EngineTarget, GroupKind, UpdateParticipants,
};
use crate::jid::GroupJid;

const AUTH: Auth = Auth::Header("X-Api-Key");

fn url(target: &EngineTarget, group: &GroupJid, tail: &str) -> String {
    format!(
        "/api/{}/groups/{}/{tail}",
        enc(&target.session_id),
        enc(group.as_str())
    )
}

/// WAHA's documented participant id: `<digits>@c.us` for a phone number
/// (every internal engine takes it), a LID as it is.
fn waha_id(jid: &str) -> String {
    match jid.strip_suffix("@s.whatsapp.net") {
        Some(digits) => format!("{digits}@c.us"),
        None => jid.to_string(),
    }
}

pub fn participants(
    target: &EngineTarget,
    call: &UpdateParticipants,
) -> Result<Outgoing, EngineError> {
    if call.kind == GroupKind::Community {
        return Err(EngineError::NotSupported {
            operation: "update community participants (WAHA has no community routes)",
        });
    }
    let tail = match call.action {
        Action::Add => "participants/add",
        Action::Remove => "participants/remove",
        Action::Promote => "admin/promote",
        Action::Demote => "admin/demote",
    };
    Ok(Outgoing {
        method: Method::POST,
        url: url(target, &call.group, tail),
        auth: AUTH,
        body: Some(serde_json::json!({
            "participants": call
                .participants
                .iter()
                .map(|p| serde_json::json!({"id": waha_id(p.as_str())}))
                .collect::<Vec<_>>(),
        })),
    })
}

/// The reply by its shape (the body is read as text first: WAHA sends a
/// string result as raw text):
/// - GOWS, a list of whatsmeow participants: `{JID, PhoneNumber, LID,
///   IsAdmin, IsSuperAdmin, Error, AddRequest: {Code, Expiration}}`;
/// - NOWEB, Baileys' list: `{status: "<code>", jid, content}`;
/// - WEBJS add, a map by the id sent: `{"<id>": {code, message}}`;
/// - WEBJS remove/promote/demote, `{status: 200}`, an empty body: no
///   participant accounted for (all unconfirmed);
/// - WEBJS add without admin rights, the text `AddParticipantsError: …`:
///   refused.
pub fn participants_reply(
    _call: &UpdateParticipants,
    reply: &Reply,
) -> Result<Vec<EngineParticipant>, EngineError> {
    let text = String::from_utf8_lossy(&reply.body);
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    // The common shape first, typed (no intermediate tree): GOWS's list.
    if text.starts_with('[')
        && let Ok(list) = serde_json::from_str::<Vec<Gows>>(text)
    {
        return Ok(list.into_iter().map(Gows::into_participant).collect());
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) if text.contains("no admin rights") => {
            return Err(refusal(403, "not_admin", reply));
        }
        Err(_) if text.starts_with("AddParticipantsError") => {
            return Err(refusal(400, "bad_request", reply));
        }
        Err(e) => {
            return Err(EngineError::InvalidResponse(format!(
                "status {}: {e}",
                reply.status
            )));
        }
    };
    match value {
        Value::Array(items) => Ok(items
            .iter()
            .filter_map(|item| {
                if item.get("JID").is_some() {
                    whatsmeow::participant(item)
                } else {
                    baileys::participant(item).map(|mut p| {
                        p.jid = our_id(&p.jid);
                        p
                    })
                }
            })
            .collect()),
        Value::Object(map) if map.len() == 1 && map.contains_key("status") => Ok(Vec::new()),
        Value::Object(map) => Ok(map
            .iter()
            .filter_map(|(id, result)| {
                let code = result.get("code")?.as_i64()?;
                let jid = our_id(id);
                Some(EngineParticipant {
                    lid: jid.ends_with("@lid").then(|| jid.clone()),
                    phone_number: jid.ends_with("@s.whatsapp.net").then(|| jid.clone()),
                    jid,
                    is_admin: false,
                    is_super_admin: false,
                    error: (code != 200).then_some(code),
                    add_request: None,
                    // whatsapp-web.js sends the private invitation itself
                    // on a privacy refusal, and says whether it went (the
                    // flag is `false` on every other entry: not due there).
                    invite_sent: (code == 403)
                        .then(|| result.get("isInviteV4Sent").and_then(Value::as_bool))
                        .flatten(),
                })
            })
            .collect()),
        _ => Err(EngineError::InvalidResponse(
            "a participants reply of no known shape".into(),
        )),
    }
}

/// whatsmeow's `types.GroupParticipant` as GOWS sends it (Go field names),
/// read typed; a list that does not fit is read leniently entry by entry
/// ([`whatsmeow::participant`]).
#[derive(serde::Deserialize)]
struct Gows {
    #[serde(rename = "JID")]
    jid: String,
    #[serde(rename = "PhoneNumber", default)]
    phone_number: Option<String>,
    #[serde(rename = "LID", default)]
    lid: Option<String>,
    #[serde(rename = "IsAdmin", default)]
    is_admin: bool,
    #[serde(rename = "IsSuperAdmin", default)]
    is_super_admin: bool,
    #[serde(rename = "Error", default)]
    error: i64,
    #[serde(rename = "AddRequest", default)]
    add_request: Option<GowsAddRequest>,
}

#[derive(serde::Deserialize)]
struct GowsAddRequest {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Expiration", default)]
    expiration: Option<Value>,
}

impl Gows {
    fn into_participant(self) -> EngineParticipant {
        let name = |s: Option<String>| s.filter(|s| !s.is_empty()).map(|s| our_id(&s));
        let jid = our_id(&self.jid);
        EngineParticipant {
            phone_number: name(self.phone_number),
            lid: name(self.lid).or_else(|| jid.ends_with("@lid").then(|| jid.clone())),
            jid,
            is_admin: self.is_admin,
            is_super_admin: self.is_super_admin,
            error: (self.error != 0).then_some(self.error),
            add_request: self.add_request.map(|a| AddRequest {
                code: a.code,
                expiration: a.expiration.as_ref().and_then(expiration),
            }),
            invite_sent: None,
        }
    }
}

/// `POST /api/{session}/groups/{id}/leave` → 200, an empty body.
pub fn leave(target: &EngineTarget, group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::POST,
        url: url(target, group, "leave"),
        auth: AUTH,
        body: None,
    }
}

/// `GET …/invite-code`, `POST …/invite-code/revoke`: the code (NOWEB,
/// WEBJS) or the whole link (GOWS), as raw text.
pub fn invite(target: &EngineTarget, group: &GroupJid, which: InviteCall) -> Outgoing {
    let (method, tail) = match which {
        InviteCall::Get => (Method::GET, "invite-code"),
        InviteCall::Reset => (Method::POST, "invite-code/revoke"),
    };
    Outgoing {
        method,
        url: url(target, group, tail),
        auth: AUTH,
        body: None,
    }
}

pub fn invite_reply(reply: &Reply) -> Result<String, EngineError> {
    let text = String::from_utf8_lossy(&reply.body);
    // Raw text; a JSON-quoted string from a proxy or another version too.
    let text = text.trim();
    let text = serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_string());
    invite_link(text.trim())
}

/// NestJS's `{statusCode, message, error}`, the 422 session-status object,
/// or the 500 `{statusCode, exception: {message}}` every engine error
/// becomes (WAHA has no 404 for a group: the engine's text decides).
/// Settled (nothing done, the key is released): WAHA's own `X-Api-Key`
/// guard (401/403), an unknown session or route (404), a session not
/// `WORKING` (422), its request validation (400), a 501, and WhatsApp's own
/// refusal codes in the engine's text. Anything else — a 5xx whose text is
/// not a WhatsApp refusal, a closed connection, a timeout — may follow an
/// effect: the outcome is unknown.
pub fn error(reply: &Reply) -> EngineError {
    let v: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
    let mut texts: Vec<&str> = [
        v.get("error").and_then(Value::as_str),
        v.pointer("/exception/message").and_then(Value::as_str),
    ]
    .into_iter()
    .flatten()
    .collect();
    match v.get("message") {
        Some(Value::String(s)) => texts.push(s),
        // class-validator: one text per refused property.
        Some(Value::Array(items)) => texts.extend(items.iter().filter_map(Value::as_str)),
        _ => {}
    }
    let text = texts.join(" ");
    let has = |needle: &str| text.contains(needle);
    match reply.status {
        401 | 403 => refusal(401, "unauthorized", reply),
        404 if has("didn't find a session") => refusal(404, "session_not_found", reply),
        404 if has("Cannot ") => refusal(404, ENGINE_MISCONFIGURED, reply),
        404 => refusal(404, "group_not_found", reply),
        422 if has("Session status is not as expected") => {
            refusal(409, "session_not_connected", reply)
        }
        422 if has("only 'default' session") => refusal(404, ENGINE_MISCONFIGURED, reply),
        501 => refusal(405, ENGINE_NOT_SUPPORTED, reply),
        _ if has("rate-overlimit") => refusal(429, "rate_limited", reply),
        _ if has("not-acceptable") => refusal(406, "not_acceptable", reply),
        _ if has("not-authorized") || has("forbidden") || has("no admin rights") => {
            refusal(403, "not_admin", reply)
        }
        _ if has("item-not-found") || (has("Group with id") && has("not found")) => {
            refusal(404, "group_not_found", reply)
        }
        400 | 422 => refusal(400, "bad_request", reply),
        _ => status_as_is(reply, None),
    }
}

/// The documented success of a call without data: WAHA's controllers
/// answer nothing (leave, subject, description), a bare `true` as text
/// (security settings) or `{success: true}` (picture). Anything that is
/// not JSON (a proxy's HTML page) is not a success; nor is a body saying
/// `false`.
pub fn done_reply(call: Done, reply: &Reply) -> Result<(), EngineError> {
    if call == Done::Picture {
        return json_says(reply, "success", &Value::Bool(true));
    }
    match body_value(reply)? {
        None | Some(Value::Bool(true)) => Ok(()),
        Some(Value::Object(map))
            if !["success", "leave", "accepted"]
                .iter()
                .any(|k| map.get(*k) == Some(&Value::Bool(false))) =>
        {
            Ok(())
        }
        Some(_) => Err(EngineError::InvalidResponse(format!(
            "status {}: not WAHA's answer to this call",
            reply.status
        ))),
    }
}

/// One `PUT` per property. GOWS refuses an empty subject or description
/// (400) after any earlier step went through, and which internal engine a
/// WAHA session runs is not known here: clearing the topic is refused for
/// WAHA before anything is sent.
pub fn update_steps(change: &GroupChange) -> Result<Vec<GroupChange>, EngineError> {
    if change.topic.as_deref() == Some("") || change.name.as_deref() == Some("") {
        return Err(EngineError::NotSupported {
            operation: "clear a group's topic (WAHA's GOWS engine refuses an empty description); nothing was sent",
        });
    }
    Ok(change.split())
}

// The rest of the Groups family (`groups.controller.ts`; docs/research/
// waha-groups-family.md). No timer and no community routes; replies are
// the internal engine's raw objects, read by their shape (`from_any`).

fn session_url(target: &EngineTarget, tail: &str) -> String {
    format!("/api/{}/groups{tail}", enc(&target.session_id))
}

fn with_body(method: Method, url: String, body: Value) -> Outgoing {
    Outgoing {
        method,
        url,
        auth: AUTH,
        body: Some(body),
    }
}

/// The body as text, JSON-parsed if it is JSON (WAHA sends a string result
/// as raw text, nothing for `undefined`).
fn body_value(reply: &Reply) -> Result<Option<Value>, EngineError> {
    let text = String::from_utf8_lossy(&reply.body);
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text).map(Some).map_err(|_| {
        EngineError::InvalidResponse(format!(
            "status {}: the engine answered text, not an object",
            reply.status
        ))
    })
}

/// `POST /api/{session}/groups` `{name, participants: [{id}]}` → 201, the
/// internal engine's object (whatsmeow `GroupInfo`, Baileys metadata, or
/// whatsapp-web.js `CreateGroupResult`; its failure is a 201 with text).
pub fn create_group(target: &EngineTarget, new: &NewGroup) -> Result<Outgoing, EngineError> {
    if !new.options.is_default() {
        return Err(EngineError::NotSupported {
            operation: "create a group with options (WAHA takes none: create it, then PATCH it)",
        });
    }
    Ok(with_body(
        Method::POST,
        session_url(target, ""),
        serde_json::json!({
            "name": new.name,
            "participants": new.participants.iter()
                .map(|p| serde_json::json!({"id": waha_id(p.as_str())}))
                .collect::<Vec<_>>(),
        }),
    ))
}

/// One group object (create, info); an empty info is no such group
/// (WEBJS's `undefined`), an empty create an unreadable answer.
pub fn group_reply(reply: &Reply, created: bool) -> Result<Group, EngineError> {
    match body_value(reply)? {
        None | Some(Value::Null) if created => Err(EngineError::InvalidResponse(format!(
            "status {}: a create answered without the group",
            reply.status
        ))),
        None | Some(Value::Null) => Err(refusal(404, "group_not_found", reply)),
        Some(v) => shapes::from_any(&v)
            .ok_or_else(|| EngineError::InvalidResponse("not a group object".into()))?
            .checked(),
    }
}

/// `GET /api/{session}/groups?exclude=participants` → an array (GOWS,
/// WEBJS) or an object keyed by id (NOWEB).
pub fn list(target: &EngineTarget) -> Outgoing {
    Outgoing {
        method: Method::GET,
        url: session_url(target, "?exclude=participants"),
        auth: AUTH,
        body: None,
    }
}

/// `GET /api/{session}/groups/{id}`.
pub fn info(target: &EngineTarget, group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::GET,
        url: session_url(target, &format!("/{}", enc(group.as_str()))),
        auth: AUTH,
        body: None,
    }
}

/// One `PUT` per property: `subject`, `description`, and the four
/// `settings/security/*` switches, each with an explicit value.
pub fn update(target: &EngineTarget, group: &GroupJid, step: &GroupChange) -> Outgoing {
    let (tail, body) = if let Some(name) = &step.name {
        ("subject", serde_json::json!({ "subject": name }))
    } else if let Some(topic) = &step.topic {
        ("description", serde_json::json!({ "description": topic }))
    } else if let Some(on) = step.announcement {
        (
            "settings/security/messages-admin-only",
            serde_json::json!({ "adminsOnly": on }),
        )
    } else if let Some(on) = step.locked {
        (
            "settings/security/info-admin-only",
            serde_json::json!({ "adminsOnly": on }),
        )
    } else if let Some(on) = step.join_approval {
        (
            "settings/security/membership-approval",
            serde_json::json!({ "newMembersApprovalRequired": on }),
        )
    } else {
        let all = step.member_add_mode == Some(MemberAddMode::AllMembers);
        (
            "settings/security/member-add-mode",
            serde_json::json!({ "membersCanAddNewMember": all }),
        )
    };
    with_body(Method::PUT, url(target, group, tail), body)
}

/// `POST /api/{session}/groups/join` `{code}` → 200 `{id}`. A private
/// invitation has no route.
pub fn join(target: &EngineTarget, join: &Join) -> Result<Outgoing, EngineError> {
    match join {
        Join::Link { code } => Ok(with_body(
            Method::POST,
            session_url(target, "/join"),
            serde_json::json!({ "code": code }),
        )),
        Join::Invite { .. } => Err(EngineError::NotSupported {
            operation: "accept a private invitation (WAHA joins by link only)",
        }),
    }
}

pub fn join_reply(reply: &Reply) -> Result<Joined, EngineError> {
    let v = body_value(reply)?.unwrap_or_default();
    let group_jid = v
        .get("id")
        .and_then(Value::as_str)
        .map(our_id)
        .filter(|j| GroupJid::parse(j).is_ok());
    // GOWS names the group even when the join is only a membership request
    // (whatsmeow's `JoinGroupWithLink`), so whether approval is pending is
    // not known from this answer: `null`, never a guessed `false`.
    Ok(Joined {
        pending_approval: None,
        group_jid,
    })
}

/// `PUT /api/{session}/groups/{id}/picture` `{file: {mimetype, filename,
/// data}}` → 200 `{success: true}`.
pub fn picture(target: &EngineTarget, group: &GroupJid, base64: &str) -> Outgoing {
    with_body(
        Method::PUT,
        url(target, group, "picture"),
        serde_json::json!({"file": {
            "mimetype": "image/jpeg", "filename": "group.jpg", "data": base64,
        }}),
    )
}

/// A 2xx whose body must be a JSON list (`what` names it in the error).
fn list_body(reply: &Reply, what: &str) -> Result<Vec<Value>, EngineError> {
    match body_value(reply)? {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(EngineError::InvalidResponse(format!(
            "{what} that is not a list"
        ))),
    }
}

/// `GET /api/{session}/groups/{id}/participants/join-requests` → 200
/// `[{requesterId, requesterPn?, requestMethod, timestamp}]` (WAHA
/// 2026.8.2 and later, every internal engine; `timestamp` in seconds, 0
/// where unknown).
pub fn join_requests(target: &EngineTarget, group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::GET,
        url: url(target, group, "participants/join-requests"),
        auth: AUTH,
        body: None,
    }
}

pub fn join_requests_reply(reply: &Reply) -> Result<Vec<JoinRequest>, EngineError> {
    let items = list_body(reply, "a join-requests reply")?;
    Ok(items
        .iter()
        .filter_map(|r| {
            JoinRequest::new(
                r.get("requesterId")?.as_str()?,
                r.get("requesterPn").and_then(Value::as_str),
                epoch_to_rfc3339(r.get("timestamp")),
                r.get("requestMethod").and_then(Value::as_str),
            )
        })
        .collect())
}

/// `POST /api/{session}/groups/{id}/participants/join-requests/approve`
/// (or `/reject`) `{participants: [{id}]}` → 200 `[{requesterId, success,
/// error?}]`. Never an empty list: WEBJS would act on every request
/// (the API refuses one before this; the adapter refuses it again).
pub fn answer_join_requests(
    target: &EngineTarget,
    call: &AnswerJoinRequests,
) -> Result<Outgoing, EngineError> {
    if call.participants.is_empty() {
        return Err(EngineError::Invalid {
            field: "participants",
            message: "at least one: WAHA on WEBJS takes none as every pending request",
        });
    }
    let tail = if call.approve {
        "participants/join-requests/approve"
    } else {
        "participants/join-requests/reject"
    };
    Ok(with_body(
        Method::POST,
        url(target, &call.group, tail),
        serde_json::json!({
            "participants": call
                .participants
                .iter()
                .map(|p| serde_json::json!({"id": waha_id(p.as_str())}))
                .collect::<Vec<_>>(),
        }),
    ))
}

/// One entry per requester WhatsApp answered for; an entry without a
/// readable requester is left out (that participant is `unconfirmed`).
pub fn answer_join_requests_reply(reply: &Reply) -> Result<Vec<EngineParticipant>, EngineError> {
    let items = list_body(reply, "a join-requests answer")?;
    Ok(items
        .iter()
        .filter_map(|r| {
            let jid = our_id(r.get("requesterId")?.as_str()?);
            let success = r.get("success")?.as_bool()?;
            let error = if success {
                0
            } else {
                // A failure without a code is still a failure.
                r.get("error").and_then(Value::as_i64).unwrap_or(500)
            };
            Some(EngineParticipant {
                lid: jid.ends_with("@lid").then(|| jid.clone()),
                phone_number: jid.ends_with("@s.whatsapp.net").then(|| jid.clone()),
                jid,
                is_admin: false,
                is_super_admin: false,
                error: Some(error),
                add_request: None,
                invite_sent: None,
            })
        })
        .collect())
}

/// `GET /api/{session}/groups/join-info?code=<code>` → 200 the internal
/// engine's group object (whatsmeow's `GroupInfo`, Baileys'
/// `GroupMetadata`, or whatsapp-web.js's), read by its shape.
pub fn invite_info(target: &EngineTarget, code: &str) -> Outgoing {
    Outgoing {
        method: Method::GET,
        url: session_url(target, &format!("/join-info?code={}", enc(code))),
        auth: AUTH,
        body: None,
    }
}

pub fn invite_info_reply(reply: &Reply) -> Result<Group, EngineError> {
    Ok(group_reply(reply, true)?.without_participants())
}

/// WAHA, call by call (whichever internal engine the session runs: the
/// replies are read by their shape).
pub struct Waha;

impl Adapter for Waha {
    /// WAHA's NestJS controllers answer text for strings and booleans.
    const ANSWERS_JSON: bool = false;

    fn error(reply: &Reply) -> EngineError {
        error(reply)
    }

    fn update_steps(change: &GroupChange) -> Result<Vec<GroupChange>, EngineError> {
        update_steps(change)
    }
}

speaks!(Waha: UpdateParticipants =>
    request(target, call) participants(target, call);
    reply(call, reply) participants_reply(call, reply));

speaks!(Waha: Invite =>
    request(target, call) Ok(invite(target, &call.group, call.which));
    reply(_, reply) invite_reply(reply));

speaks!(Waha: Leave =>
    request(target, call) Ok(leave(target, &call.group));
    reply(_, reply) done_reply(Done::Leave, reply));

cannot!(Waha: SetEphemeral => "set the disappearing-message timer (WAHA has no such route)");
cannot!(Waha: NewCommunity => "create a community (WAHA has no community routes)");
cannot!(Waha: LinkGroup => "link groups to a community (WAHA has no community routes)");
// No community routes: a community's groups are read from the group list
// (the linked groups the account is in; GOWS `LinkedParentJID` and
// `IsDefaultSubGroup`, NOWEB `linkedParent` and `isCommunityAnnounce`).
speaks!(Waha: CommunityGroups =>
    request(target, _) Ok(list(target));
    reply(call, reply) listing::community_groups(&reply.body, listing::Shape::Waha, &call.community));
cannot!(Waha: PrivateInvite => "send a private invitation (WAHA has no route for it; on WEBJS it sends one itself with the add)");

speaks!(Waha: JoinRequests =>
    request(target, call) Ok(join_requests(target, &call.group));
    reply(_, reply) join_requests_reply(reply));

speaks!(Waha: AnswerJoinRequests =>
    request(target, call) answer_join_requests(target, call);
    reply(_, reply) answer_join_requests_reply(reply));

speaks!(Waha: InviteInfo =>
    request(target, call) Ok(invite_info(target, &call.code));
    reply(_, reply) invite_info_reply(reply));

speaks!(Waha: NewGroup =>
    request(target, call) create_group(target, call);
    reply(_, reply) group_reply(reply, true));

speaks!(Waha: ListGroups =>
    request(target, _) Ok(list(target));
    reply(call, reply) listing::read(&reply.body, listing::Shape::Waha, &call.page));

speaks!(Waha: GroupInfo =>
    request(target, call) Ok(info(target, &call.group));
    reply(_, reply) group_reply(reply, false));

speaks!(Waha: UpdateGroup =>
    request(target, call) Ok(update(target, &call.group, &call.step));
    reply(call, reply) done_reply(Done::Update(call.step.first_field()), reply).map(|()| None));

speaks!(Waha: Join =>
    request(target, call) join(target, call);
    reply(_, reply) join_reply(reply));

speaks!(Waha: SetPicture =>
    request(target, call) Ok(picture(target, &call.group, &call.base64));
    reply(_, reply) done_reply(Done::Picture, reply).map(|()| None));

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> EngineTarget {
        EngineTarget {
            engine: crate::engine::EngineKind::Waha,
            base_url: "https://waha.example".into(),
            session_id: "s 1".into(),
            api_key: "k".into(),
        }
    }

    #[test]
    fn an_empty_answer_to_join_requests_is_never_sent() {
        let group = GroupJid::parse("120363039000000010@g.us").unwrap();
        let mut call = AnswerJoinRequests {
            group,
            approve: true,
            participants: vec![],
        };
        assert!(matches!(
            answer_join_requests(&target(), &call),
            Err(EngineError::Invalid { .. })
        ));
        call.participants = vec![
            crate::jid::ParticipantJid::normalise("5511666666666").unwrap(),
            crate::jid::ParticipantJid::normalise("9@lid").unwrap(),
        ];
        let out = answer_join_requests(&target(), &call).unwrap();
        assert_eq!(
            out.url,
            "/api/s%201/groups/120363039000000010%40g.us/participants/join-requests/approve"
        );
        assert_eq!(
            out.body.unwrap()["participants"],
            serde_json::json!([{"id": "5511666666666@c.us"}, {"id": "9@lid"}])
        );
    }

    #[test]
    fn join_requests_read_in_our_forms() {
        let reply = Reply {
            status: 200,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: br#"[{"requesterId":"5511666666666@c.us","requesterPn":null,"requestMethod":"invite_link","timestamp":1781600000},
                      {"requesterId":"98765432101234@lid","requesterPn":"5511555555555@c.us","requestMethod":"NonAdminAdd","timestamp":0},
                      {"requesterId":"not-a-jid","timestamp":1},{"timestamp":2}]"#
                .to_vec(),
        };
        let got = join_requests_reply(&reply).unwrap();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].jid, "5511666666666@s.whatsapp.net");
        assert_eq!(
            got[0].phone_number.as_deref(),
            Some("5511666666666@s.whatsapp.net")
        );
        assert_eq!(got[0].requested_at.as_deref(), Some("2026-06-16T08:53:20Z"));
        assert_eq!(got[1].lid.as_deref(), Some("98765432101234@lid"));
        assert_eq!(
            got[1].phone_number.as_deref(),
            Some("5511555555555@s.whatsapp.net")
        );
        assert_eq!(got[1].method.as_deref(), Some("non_admin_add"));
        assert_eq!(got[1].requested_at, None);
    }
}
