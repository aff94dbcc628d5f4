//! `evolution`: Evolution API v2 (`evolution-foundation/evolution-api`
//! v2.3.7, `src/api/routes/group.router.ts`, `src/validate/group.schema.ts`,
//! the Baileys service's `updateGParticipant` / `inviteCode` /
//! `revokeInviteCode`, and the error middleware in `src/main.ts`). The
//! `apikey` header, the instance as the last path segment, the group as
//! `?groupJid=`. No community operations.

use lambda_http::http::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::engine::adapter::{Adapter, Speaks, cannot, speaks};
use crate::engine::calls::{
    AnswerJoinRequests, CommunityGroups, GroupInfo, Invite, InviteCall, InviteInfo, JoinRequests,
    Leave, LinkGroup, ListGroups, PrivateInvite, SetEphemeral, SetPicture, UpdateGroup,
};
use crate::engine::groups::NewCommunity;
use crate::engine::groups::{Group, GroupChange, Join, Joined, MemberAddMode, NewGroup};
use crate::engine::listing;
use crate::engine::shapes::baileys;
use crate::engine::wire::{
    Auth, Done, Outgoing, Reply, ambiguous, enc, invite_link, json, json_object, json_says,
    refusal, status_as_is,
};
use crate::engine::{
    ENGINE_MISCONFIGURED, ENGINE_NOT_SUPPORTED, EngineError, EngineParticipant, EngineTarget,
    GroupKind, UpdateParticipants,
};
use crate::jid::GroupJid;

const AUTH: Auth = Auth::Header("apikey");

fn url(route: &str, target: &EngineTarget, group: &GroupJid) -> String {
    format!(
        "/group/{route}/{}?groupJid={}",
        enc(&target.session_id),
        enc(group.as_str())
    )
}

/// `POST /group/updateParticipant/{instance}?groupJid=` with `{action,
/// participants}`; JIDs (phone or LID) pass Evolution's `createJid`
/// unchanged. Communities: Evolution has no such route.
pub fn participants(
    target: &EngineTarget,
    call: &UpdateParticipants,
) -> Result<Outgoing, EngineError> {
    if call.kind == GroupKind::Community {
        return Err(EngineError::NotSupported {
            operation: "update community participants (Evolution API has no community routes)",
        });
    }
    if call.invite_on_privacy {
        return Err(EngineError::NotSupported {
            operation: NO_PRIVATE_INVITE,
        });
    }
    Ok(Outgoing {
        method: Method::POST,
        url: url("updateParticipant", target, &call.group),
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
    _call: &UpdateParticipants,
    reply: &Reply,
) -> Result<Vec<EngineParticipant>, EngineError> {
    let parsed: UpdateReply = json(reply)?;
    Ok(parsed
        .update_participants
        .iter()
        .filter_map(baileys::participant)
        .collect())
}

/// `GET /group/inviteCode/{instance}?groupJid=` → 200 `{inviteUrl,
/// inviteCode}`; `POST /group/revokeInviteCode/{instance}?groupJid=` → 201
/// `{revoked, inviteCode}` (the new code).
pub fn invite(target: &EngineTarget, group: &GroupJid, which: InviteCall) -> Outgoing {
    let (method, route) = match which {
        InviteCall::Get => (Method::GET, "inviteCode"),
        InviteCall::Reset => (Method::POST, "revokeInviteCode"),
    };
    Outgoing {
        method,
        url: url(route, target, group),
        auth: AUTH,
        body: None,
    }
}

/// `DELETE /group/leaveGroup/{instance}?groupJid=` → 200 `{groupJid,
/// leave: true}`.
pub fn leave(target: &EngineTarget, group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::DELETE,
        url: url("leaveGroup", target, group),
        auth: AUTH,
        body: None,
    }
}

/// `POST /group/toggleEphemeral/{instance}` `{groupJid, expiration}` (a
/// number: 0, 86400, 604800, 7776000) → 201 `{success: true}`.
pub fn ephemeral(target: &EngineTarget, group: &GroupJid, seconds: u32) -> Outgoing {
    Outgoing {
        method: Method::POST,
        url: format!("/group/toggleEphemeral/{}", enc(&target.session_id)),
        auth: AUTH,
        body: Some(serde_json::json!({ "groupJid": group.as_str(), "expiration": seconds })),
    }
}

#[derive(Deserialize)]
struct InviteCode {
    #[serde(rename = "inviteCode")]
    invite_code: String,
}

pub fn invite_reply(reply: &Reply) -> Result<String, EngineError> {
    invite_link(&json::<InviteCode>(reply)?.invite_code)
}

/// Evolution's envelope `{status, error, response: {message}}`, `message`
/// an array (strings, or `{property, message}` for schema errors) or a
/// string. Baileys' refusal reaches it as the text `"Error: <text>"`, its
/// numeric code lost: the text decides, and whether the text proves that
/// nothing was done decides whether the key is released (`settled`):
/// - settled: Evolution's own `apikey` guard (401/403), an unknown instance
///   or route (404), its JSON-schema validation (400 naming a property), an
///   instance whose socket was never loaded (`Cannot read properties of
///   undefined (reading '<the Baileys method>')`), and WhatsApp's own
///   refusal codes (`not-authorized`, `forbidden`, `item-not-found`,
///   `rate-overlimit`, `not-acceptable`), which the server answered;
/// - not settled (outcome unknown on a mutation): `Connection Closed`
///   (Baileys raises it before sending and also while awaiting the answer
///   of a request already sent), `Timed Out`, any other text, any 5xx.
pub fn error(reply: &Reply) -> EngineError {
    let found = messages(&reply.body);
    let texts = &found.texts;
    let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
    match reply.status {
        401 | 403 => refusal(401, "unauthorized", reply),
        404 if has("instance does not exist") => refusal(404, "session_not_found", reply),
        // Express's fallback: no such route here (an old or proxied engine).
        404 if texts.iter().any(|t| t.starts_with("Cannot ")) => {
            refusal(404, ENGINE_MISCONFIGURED, reply)
        }
        400 if found.schema || has("The group id needs to be informed") => {
            refusal(400, "bad_request", reply)
        }
        _ if has("rate-overlimit") => refusal(429, "rate_limited", reply),
        _ if has("not-acceptable") => refusal(406, "not_acceptable", reply),
        _ if has("not-authorized") || has("forbidden") => refusal(403, "not_admin", reply),
        _ if has("item-not-found") => refusal(404, "group_not_found", reply),
        _ if texts.iter().any(|t| never_loaded(t))
            || has("Method not available on WhatsApp Business API")
            || has("Cannot convert undefined or null to object") =>
        {
            refusal(409, "session_not_connected", reply)
        }
        _ if has("Connection Closed") => ambiguous(409, "session_not_connected", reply),
        // WhatsApp did not answer in time: it may have acted.
        _ if has("Timed Out") => status_as_is(
            &Reply {
                status: 504,
                ..reply.clone()
            },
            None,
        ),
        404 => ambiguous(404, "group_not_found", reply),
        400 => status_as_is(
            &Reply {
                status: 502,
                ..reply.clone()
            },
            None,
        ),
        _ => status_as_is(reply, None),
    }
}

/// What Evolution reads off an object that may be `undefined` before it
/// sends anything: its group controller's service methods, read off an
/// instance the monitor never loaded (`waInstances[name].<method>`), and
/// the Baileys socket methods its service calls, read off a socket never
/// created (`this.client.<method>`). The same TypeError about any other
/// property could come from reading a reply: not settled.
const NEVER_LOADED: [&str; 33] = [
    // `group.controller.ts` → the service.
    "acceptInviteCode",
    "createGroup",
    "fetchAllGroups",
    "findGroup",
    "findParticipants",
    "inviteCode",
    "inviteInfo",
    "leaveGroup",
    "revokeInviteCode",
    "sendInvite",
    "toggleEphemeral",
    "updateGParticipant",
    "updateGSetting",
    "updateGroupDescription",
    "updateGroupPicture",
    "updateGroupSubject",
    "updateMemberAddMode",
    // The service → Baileys (`createGroup` asks `onWhatsApp` first).
    "onWhatsApp",
    "groupCreate",
    "groupUpdateSubject",
    "groupUpdateDescription",
    "groupParticipantsUpdate",
    "groupSettingUpdate",
    "groupToggleEphemeral",
    "groupLeave",
    "groupInviteCode",
    "groupRevokeInvite",
    "groupAcceptInvite",
    "groupGetInviteInfo",
    "groupMetadata",
    "groupFetchAllParticipating",
    "groupMemberAddMode",
    "updateProfilePicture",
];

fn never_loaded(text: &str) -> bool {
    text.split("Cannot read properties of undefined (reading '")
        .skip(1)
        .any(|rest| {
            rest.split('\'')
                .next()
                .is_some_and(|method| NEVER_LOADED.contains(&method))
        })
}

struct Messages {
    texts: Vec<String>,
    /// Some entry names a `property`: Evolution's JSON-schema validation.
    schema: bool,
}

fn messages(body: &[u8]) -> Messages {
    let mut out = Messages {
        texts: Vec::new(),
        schema: false,
    };
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return out;
    };
    match v.pointer("/response/message") {
        Some(Value::String(s)) => out.texts.push(s.clone()),
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => out.texts.push(s.clone()),
                    Value::Object(o) => {
                        out.schema |= o.get("property").is_some_and(Value::is_string);
                        if let Some(m) = o.get("message").and_then(Value::as_str) {
                            out.texts.push(m.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

/// The documented success body of a call that returns no data.
pub fn done_reply(call: Done, reply: &Reply) -> Result<(), EngineError> {
    match call {
        Done::Leave => json_says(reply, "leave", &Value::Bool(true)),
        Done::Ephemeral => json_says(reply, "success", &Value::Bool(true)),
        Done::Picture | Done::Update("name" | "topic" | "member_add_mode") => {
            json_says(reply, "update", &Value::from("success"))
        }
        // `updateSetting` answers `{updateSetting: <nothing>}`: `{}`.
        Done::Update(_) => json_object(reply).map(|_| ()),
        Done::Link => Err(EngineError::InvalidResponse(
            "Evolution API has no link call".into(),
        )),
    }
}

/// A `PATCH` step's error answer. The member-add mode is Evolution 2.4.0's
/// route: a 2.3.x server's `Cannot POST` there means this engine version
/// cannot do it (501), not a configuration fault.
fn update_refused(step: &GroupChange, reply: &Reply) -> EngineError {
    if step.member_add_mode.is_some()
        && reply.status == 404
        && messages(&reply.body)
            .texts
            .iter()
            .any(|t| t.starts_with("Cannot POST"))
    {
        return refusal(405, ENGINE_NOT_SUPPORTED, reply);
    }
    error(reply)
}

// The rest of the Groups family (`group.router.ts`; docs/research/
// evolution-groups-family.md). No community routes, no join-approval
// route, no member-add-mode route on the released branch.

fn instance_url(route: &str, target: &EngineTarget) -> String {
    format!("/group/{route}/{}", enc(&target.session_id))
}

fn post(url: String, body: Value) -> Outgoing {
    Outgoing {
        method: Method::POST,
        url,
        auth: AUTH,
        body: Some(body),
    }
}

/// `POST /group/create/{instance}` `{subject, participants}` → 201, Baileys'
/// `GroupMetadata`. Options other than the defaults would take calls
/// Evolution cannot make in one request: refused before anything is sent.
pub fn create_group(target: &EngineTarget, new: &NewGroup) -> Result<Outgoing, EngineError> {
    if !new.options.is_default() {
        return Err(EngineError::NotSupported {
            operation: "create a group with options (Evolution API takes none: create it, then PATCH it)",
        });
    }
    Ok(post(
        instance_url("create", target),
        serde_json::json!({
            "subject": new.name,
            "participants": new.participants.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        }),
    ))
}

/// A 2xx whose body is one Baileys `GroupMetadata` (create, info); a
/// `null` info is no such group, a `null` create an unreadable answer.
pub fn group_reply(reply: &Reply, created: bool) -> Result<Group, EngineError> {
    let v: Value = json(reply)?;
    if v.is_null() && !created {
        return Err(refusal(404, "group_not_found", reply));
    }
    let mut group = baileys::group(&v)
        .ok_or_else(|| EngineError::InvalidResponse("not a group object".into()))?
        .checked()?;
    // Evolution's group projection carries no join-approval flag: unknown.
    group.join_approval = None;
    Ok(group)
}

/// `GET /group/fetchAllGroups/{instance}?getParticipants=false` → a bare
/// array of projections.
pub fn list(target: &EngineTarget) -> Outgoing {
    Outgoing {
        method: Method::GET,
        url: format!(
            "{}?getParticipants=false",
            instance_url("fetchAllGroups", target)
        ),
        auth: AUTH,
        body: None,
    }
}

/// `GET /group/findGroupInfos/{instance}?groupJid=`.
pub fn info(target: &EngineTarget, group: &GroupJid) -> Outgoing {
    Outgoing {
        method: Method::GET,
        url: url("findGroupInfos", target, group),
        auth: AUTH,
        body: None,
    }
}

/// One call per property; join approval has no route, and a description
/// cannot be cleared (Evolution refuses an empty one). The member-add mode
/// is sent to Evolution 2.4.0's route; a 2.3.x server answers 501 there
/// ([`update_reply`]).
pub fn update_steps(change: &GroupChange) -> Result<Vec<GroupChange>, EngineError> {
    if change.join_approval.is_some() {
        return Err(EngineError::NotSupported {
            operation: "set join approval (Evolution API has no such route); nothing was sent",
        });
    }
    if change.topic.as_deref() == Some("") {
        return Err(EngineError::NotSupported {
            operation: "clear a group's topic (Evolution API refuses an empty description); nothing was sent",
        });
    }
    Ok(change.split())
}

/// `updateGroupSubject` `{groupJid, subject}`, `updateGroupDescription`
/// `{groupJid, description}`, `updateSetting` `{groupJid, action}` → 201;
/// `updateMemberAddMode` `{groupJid, mode: "admin_add"|"all_member_add"}`
/// → 201 `{update: "success", mode}` (Evolution 2.4.0, PR #2525).
pub fn update(target: &EngineTarget, group: &GroupJid, step: &GroupChange) -> Outgoing {
    let jid = group.as_str();
    let (route, body) = if let Some(mode) = step.member_add_mode {
        let mode = match mode {
            MemberAddMode::Admin => "admin_add",
            MemberAddMode::AllMembers => "all_member_add",
        };
        (
            "updateMemberAddMode",
            serde_json::json!({"groupJid": jid, "mode": mode}),
        )
    } else if let Some(name) = &step.name {
        (
            "updateGroupSubject",
            serde_json::json!({"groupJid": jid, "subject": name}),
        )
    } else if let Some(topic) = &step.topic {
        (
            "updateGroupDescription",
            serde_json::json!({"groupJid": jid, "description": topic}),
        )
    } else if let Some(on) = step.announcement {
        let action = if on {
            "announcement"
        } else {
            "not_announcement"
        };
        (
            "updateSetting",
            serde_json::json!({"groupJid": jid, "action": action}),
        )
    } else {
        let action = if step.locked == Some(true) {
            "locked"
        } else {
            "unlocked"
        };
        (
            "updateSetting",
            serde_json::json!({"groupJid": jid, "action": action}),
        )
    };
    post(instance_url(route, target), body)
}

/// `group.schema.ts`'s invite code: `^[a-zA-Z0-9]{22}$` (join, inviteInfo).
fn evolution_code(code: &str) -> bool {
    code.len() == 22 && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `GET /group/acceptInviteCode/{instance}?inviteCode=` → `{accepted,
/// groupJid}`; no `groupJid` means WhatsApp filed a join request. A
/// private invitation (add request) has no route.
pub fn join(target: &EngineTarget, join: &Join) -> Result<Outgoing, EngineError> {
    match join {
        Join::Link { code } if !evolution_code(code) => Err(EngineError::Invalid {
            field: "link",
            message: "Evolution API takes only invite codes of 22 letters and digits",
        }),
        Join::Link { code } => Ok(Outgoing {
            method: Method::GET,
            url: format!(
                "{}?inviteCode={}",
                instance_url("acceptInviteCode", target),
                enc(code)
            ),
            auth: AUTH,
            body: None,
        }),
        Join::Invite { .. } => Err(EngineError::NotSupported {
            operation: "accept a private invitation (Evolution API joins by link only)",
        }),
    }
}

/// `invite_on_privacy` and the invitation itself: Evolution 2.3.7 has no
/// route that sends one (`sendInvite` sends the public link as text; PR
/// #2624, which would, is not merged).
const NO_PRIVATE_INVITE: &str =
    "send the private invitation on a privacy refusal (Evolution API has no route for it)";

/// `GET /group/inviteInfo/{instance}?inviteCode=<22 letters and digits>`
/// → 200, Baileys' `GroupMetadata` of the invite's group (its
/// `joinApprovalMode` included). A code of another length is refused
/// before sending, as for a join. Any failure is 404 `No invite info`.
pub fn invite_info(target: &EngineTarget, code: &str) -> Result<Outgoing, EngineError> {
    if !evolution_code(code) {
        return Err(EngineError::Invalid {
            field: "code",
            message: "Evolution API takes only invite codes of 22 letters and digits",
        });
    }
    Ok(Outgoing {
        method: Method::GET,
        url: format!(
            "{}?inviteCode={}",
            instance_url("inviteInfo", target),
            enc(code)
        ),
        auth: AUTH,
        body: None,
    })
}

pub fn invite_info_reply(reply: &Reply) -> Result<Group, EngineError> {
    let v: Value = json(reply)?;
    if v.is_null() {
        return Err(refusal(404, "group_not_found", reply));
    }
    Ok(baileys::group(&v)
        .ok_or_else(|| EngineError::InvalidResponse("not a group object".into()))?
        .checked()?
        .without_participants())
}

pub fn join_reply(reply: &Reply) -> Result<Joined, EngineError> {
    let v: Value = json(reply)?;
    if v.get("accepted") != Some(&Value::Bool(true)) {
        return Err(EngineError::InvalidResponse(
            "a 2xx whose body does not say accepted: true".into(),
        ));
    }
    let group_jid = v
        .get("groupJid")
        .and_then(Value::as_str)
        .filter(|j| GroupJid::parse(j).is_ok())
        .map(str::to_string);
    // Baileys' `groupAcceptInvite` gives the group only when joined; no
    // group means WhatsApp filed a membership request.
    Ok(Joined {
        pending_approval: Some(group_jid.is_none()),
        group_jid,
    })
}

/// `POST /group/updateGroupPicture/{instance}` `{groupJid, image}` (plain
/// base64) → 201 `{update: "success"}`; no picture id.
pub fn picture(target: &EngineTarget, group: &GroupJid, base64: &str) -> Outgoing {
    post(
        instance_url("updateGroupPicture", target),
        serde_json::json!({"groupJid": group.as_str(), "image": base64}),
    )
}

/// Evolution API, call by call.
pub struct Evolution;

impl Adapter for Evolution {
    fn error(reply: &Reply) -> EngineError {
        error(reply)
    }

    fn update_steps(change: &GroupChange) -> Result<Vec<GroupChange>, EngineError> {
        update_steps(change)
    }
}

speaks!(Evolution: UpdateParticipants =>
    request(target, call) participants(target, call);
    reply(call, reply) participants_reply(call, reply));

speaks!(Evolution: Invite =>
    request(target, call) Ok(invite(target, &call.group, call.which));
    reply(_, reply) invite_reply(reply));

speaks!(Evolution: Leave =>
    request(target, call) Ok(leave(target, &call.group));
    reply(_, reply) done_reply(Done::Leave, reply));

speaks!(Evolution: SetEphemeral =>
    request(target, call) Ok(ephemeral(target, &call.group, call.seconds));
    reply(_, reply) done_reply(Done::Ephemeral, reply));

speaks!(Evolution: NewGroup =>
    request(target, call) create_group(target, call);
    reply(_, reply) group_reply(reply, true));

cannot!(Evolution: NewCommunity => "create a community (Evolution API has no community routes)");
cannot!(Evolution: LinkGroup => "link groups to a community (Evolution API has no community routes)");
// No community routes: a community's groups are read from
// `fetchAllGroups` (the linked groups the account is in; `linkedParent`,
// `isCommunityAnnounce`).
speaks!(Evolution: CommunityGroups =>
    request(target, _) Ok(list(target));
    reply(call, reply) listing::community_groups(&reply.body, listing::Shape::Evolution, &call.community));
cannot!(Evolution: JoinRequests, AnswerJoinRequests => "answer join requests (Evolution API has no such route)");
cannot!(Evolution: PrivateInvite => NO_PRIVATE_INVITE);

speaks!(Evolution: InviteInfo =>
    request(target, call) invite_info(target, &call.code);
    reply(_, reply) invite_info_reply(reply));

speaks!(Evolution: ListGroups =>
    request(target, _) Ok(list(target));
    reply(call, reply) listing::read(&reply.body, listing::Shape::Evolution, &call.page));

speaks!(Evolution: GroupInfo =>
    request(target, call) Ok(info(target, &call.group));
    reply(_, reply) group_reply(reply, false));

impl Speaks<UpdateGroup> for Evolution {
    fn request(target: &EngineTarget, call: &UpdateGroup) -> Result<Outgoing, EngineError> {
        Ok(update(target, &call.group, &call.step))
    }
    fn reply(call: &UpdateGroup, reply: &Reply) -> Result<Option<Group>, EngineError> {
        done_reply(Done::Update(call.step.first_field()), reply).map(|()| None)
    }
    fn refused(call: &UpdateGroup, reply: &Reply) -> EngineError {
        update_refused(&call.step, reply)
    }
}

speaks!(Evolution: Join =>
    request(target, call) join(target, call);
    reply(_, reply) join_reply(reply));

speaks!(Evolution: SetPicture =>
    request(target, call) Ok(picture(target, &call.group, &call.base64));
    reply(_, reply) done_reply(Done::Picture, reply).map(|()| None));
