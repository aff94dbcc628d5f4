//! Evolution API v2: the instance exists before the key is checked.

use axum::response::Response;
use serde_json::{Value, json};

use super::*;

/// Evolution API v2: the instance exists before the key is checked.
pub(super) fn handle(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
    let segments = segments(req.path);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ["", "group", route, instance] = segs.as_slice() else {
        return json_response(
            404,
            json!({"status": 404, "error": "Not Found",
                   "response": {"message": [format!("Cannot {} {}", req.method, req.path)]}}),
        );
    };
    if *instance != ENGINE_SESSION {
        return json_response(
            404,
            json!({"status": 404, "error": "Not Found",
                   "response": {"message": [format!("The \"{instance}\" instance does not exist")]}}),
        );
    }
    if req.header("apikey") != Some(API_KEY) {
        return f.error(&Canonical {
            status: 401,
            code: Some("unauthorized"),
        });
    }
    if let Some(answer) = evolution_instance_routes(f, sim, req, route) {
        return answer;
    }
    // `groupJid` from the body first, then the query (Evolution's `groupValidate`).
    let from_body = serde_json::from_str::<Value>(req.body)
        .ok()
        .and_then(|v| v["groupJid"].as_str().map(str::to_string));
    let Some(group) = from_body.or_else(|| req.query("groupJid")) else {
        return json_response(
            400,
            json!({"status": 400, "error": "Bad Request",
                   "response": {"message": ["The group id needs to be informed in the query", "ex: \"groupJid=120362@g.us\""]}}),
        );
    };
    // An instance never connected fails in its service, after Evolution's
    // own checks (instance, key, `groupJid`, schema) passed.
    let refuse = |e: EngineError| {
        if sim.is_connected() {
            f.refuse(e)
        } else {
            evolution_never_connected(route).unwrap_or_else(|| f.refuse(e))
        }
    };
    match (req.method, *route) {
        ("POST", "updateParticipant") => {
            let body: Value = serde_json::from_str(req.body).unwrap_or_default();
            if body.get("participants").is_none() {
                // Evolution's JSON-schema refusal, as the real server words it.
                return json_response(
                    400,
                    json!({"status": 400, "error": "Bad Request", "response": {"message": [
                        {"property": "instance", "message": "instance requires property \"participants\""}
                    ]}}),
                );
            }
            let Some((action, list)) = read_participants(req.body, None) else {
                return f.error(&Canonical {
                    status: 400,
                    code: Some("bad_request"),
                });
            };
            match apply(sim, GroupKind::Group, &group, action, list) {
                Ok(reply) => json_response(
                    201,
                    json!({"updateParticipants": reply.iter().map(baileys_entry).collect::<Vec<_>>()}),
                ),
                Err(e) => refuse(e),
            }
        }
        ("GET", "inviteCode") => match group_of(&group).and_then(|g| sim.current_invite(&g)) {
            Ok(link) => {
                let code = link.rsplit('/').next().unwrap_or("").to_string();
                json_response(200, json!({"inviteUrl": link, "inviteCode": code}))
            }
            Err(e) => refuse(e),
        },
        ("DELETE", "leaveGroup") => match group_of(&group).and_then(|g| sim.leave(&g)) {
            Ok(()) => json_response(200, json!({"groupJid": group, "leave": true})),
            Err(e) => refuse(e),
        },
        ("POST", "toggleEphemeral") => {
            let seconds = serde_json::from_str::<Value>(req.body)
                .ok()
                .and_then(|v| v["expiration"].as_u64())
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| [0, 86_400, 604_800, 7_776_000].contains(d));
            let Some(seconds) = seconds else {
                return f.error(&Canonical {
                    status: 400,
                    code: Some("bad_request"),
                });
            };
            match group_of(&group).and_then(|g| sim.set_ephemeral(&g, seconds)) {
                Ok(()) => json_response(201, json!({"success": true})),
                Err(e) => refuse(e),
            }
        }
        ("GET", "findGroupInfos") => match group_of(&group).and_then(|g| sim.info(&g)) {
            Ok(g) => json_response(200, baileys_group(&g, true)),
            Err(e) => refuse(e),
        },
        ("POST", "updateGroupSubject" | "updateGroupDescription" | "updateSetting") => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let change = match *route {
                "updateGroupSubject" => {
                    v["subject"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .map(|s| GroupChange {
                            name: Some(s.to_string()),
                            ..GroupChange::default()
                        })
                }
                "updateGroupDescription" => v["description"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(|s| GroupChange {
                        topic: Some(s.to_string()),
                        ..GroupChange::default()
                    }),
                _ => match v["action"].as_str() {
                    Some("announcement") => Some(GroupChange {
                        announcement: Some(true),
                        ..GroupChange::default()
                    }),
                    Some("not_announcement") => Some(GroupChange {
                        announcement: Some(false),
                        ..GroupChange::default()
                    }),
                    Some("locked") => Some(GroupChange {
                        locked: Some(true),
                        ..GroupChange::default()
                    }),
                    Some("unlocked") => Some(GroupChange {
                        locked: Some(false),
                        ..GroupChange::default()
                    }),
                    _ => None,
                },
            };
            let Some(change) = change else {
                return f.bad_request();
            };
            match group_of(&group).and_then(|g| sim.update(&g, &change)) {
                Ok(_) if *route == "updateSetting" => json_response(201, json!({})),
                Ok(_) => json_response(201, json!({"update": "success"})),
                Err(e) => refuse(e),
            }
        }
        ("POST", "updateGroupPicture") => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let Some(jpeg) = v["image"].as_str().and_then(b64) else {
                return f.bad_request();
            };
            match group_of(&group).and_then(|g| sim.set_picture(&g, &jpeg)) {
                Ok(_) => json_response(201, json!({"update": "success"})),
                Err(e) => refuse(e),
            }
        }
        ("POST", "revokeInviteCode") => match group_of(&group).and_then(|g| sim.reset(&g)) {
            Ok(link) => {
                let code = link.rsplit('/').next().unwrap_or("").to_string();
                json_response(201, json!({"revoked": true, "inviteCode": code}))
            }
            Err(e) => refuse(e),
        },
        _ => json_response(
            404,
            json!({"status": 404, "error": "Not Found",
                   "response": {"message": [format!("Cannot {} {}", req.method, req.path)]}}),
        ),
    }
}

/// Evolution's routes that name no group: create, list, join.
/// Evolution 2.3.7's answer, per route, for an instance whose socket was
/// never created: its service reads the Baileys method off `undefined` and
/// wraps the TypeError in its own message (recorded from the real server in
/// `tests/fixtures/evolution-2.3.7/`, checked by `real_evolution.rs`).
fn evolution_never_connected(route: &str) -> Option<Response> {
    let (status, what, method) = match route {
        "updateParticipant" => (
            400,
            "Error updating participants",
            "groupParticipantsUpdate",
        ),
        "inviteCode" => (404, "No invite code", "groupInviteCode"),
        "revokeInviteCode" => (404, "Revoke error", "groupRevokeInvite"),
        "leaveGroup" => (400, "Unable to leave the group", "groupLeave"),
        "toggleEphemeral" => (400, "Error updating setting", "groupToggleEphemeral"),
        "updateSetting" => (400, "Error updating setting", "groupSettingUpdate"),
        "create" => (500, "Error creating group", "onWhatsApp"),
        "findGroupInfos" => (404, "Error fetching group", "groupMetadata"),
        "updateGroupSubject" => (500, "Error updating group subject", "groupUpdateSubject"),
        "updateGroupDescription" => (
            500,
            "Error updating group description",
            "groupUpdateDescription",
        ),
        "updateGroupPicture" => (500, "Error update group picture", "updateProfilePicture"),
        "acceptInviteCode" => (404, "Accept invite error", "groupAcceptInvite"),
        "fetchAllGroups" => {
            return Some(json_response(
                500,
                json!({"status": 500, "error": "Internal Server Error",
                       "response": {"message": "Cannot convert undefined or null to object"}}),
            ));
        }
        _ => return None,
    };
    let error = match status {
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    Some(json_response(
        status,
        json!({"status": status, "error": error, "response": {"message": [
            what,
            format!("TypeError: Cannot read properties of undefined (reading '{method}')"),
        ]}}),
    ))
}

fn evolution_instance_routes(
    f: Flavour,
    sim: &Simulator,
    req: &Request<'_>,
    route: &str,
) -> Option<Response> {
    let v: Value = serde_json::from_str(req.body).unwrap_or_default();
    let validated = |answer: Response| {
        if sim.is_connected() {
            answer
        } else {
            evolution_never_connected(route).unwrap_or(answer)
        }
    };
    Some(match (req.method, route) {
        ("POST", "create") => {
            let (Some(name), Some(participants)) =
                (v["subject"].as_str(), jid_list(&v["participants"]))
            else {
                return Some(f.bad_request());
            };
            let new = NewGroup {
                name: name.to_string(),
                participants,
                options: GroupOptions::default(),
            };
            match sim.create_group(&new) {
                Ok(g) => json_response(201, baileys_group(&g, true)),
                Err(e) => validated(f.refuse(e)),
            }
        }
        ("GET", "fetchAllGroups") => {
            let Some(with) = req.query("getParticipants") else {
                return Some(json_response(
                    400,
                    json!({"status": 400, "error": "Bad Request",
                           "response": {"message": ["The getParticipants needs to be informed in the query"]}}),
                ));
            };
            match sim.list() {
                Ok(groups) => json_response(
                    200,
                    json!(
                        groups
                            .iter()
                            .map(|g| baileys_group(g, with == "true"))
                            .collect::<Vec<_>>()
                    ),
                ),
                Err(e) => validated(f.refuse(e)),
            }
        }
        ("GET", "acceptInviteCode") => {
            let code = req.query("inviteCode").unwrap_or_default();
            if code.len() != 22 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Some(f.bad_request());
            }
            match sim.join(&Join::Link { code }) {
                Ok(j) if j.pending_approval == Some(true) => {
                    json_response(200, json!({"accepted": true}))
                }
                Ok(j) => json_response(200, json!({"accepted": true, "groupJid": j.group_jid})),
                Err(e) => validated(f.refuse(e)),
            }
        }
        ("GET", "inviteInfo") => {
            let code = req.query("inviteCode").unwrap_or_default();
            if code.len() != 22 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Some(f.bad_request());
            }
            match sim.invite_info(&code) {
                Ok(g) => json_response(200, baileys_group(&g, false)),
                // Evolution answers every failure alike, a socket never
                // loaded included (its `catch` drops the cause).
                Err(_) => json_response(
                    404,
                    json!({"status": 404, "error": "Not Found",
                           "response": {"message": ["No invite info", code]}}),
                ),
            }
        }
        _ => return None,
    })
}

/// An error in session-service terms, as this engine renders it.
pub(super) fn error(err: &Canonical<'_>) -> Response {
    let code = err.code.unwrap_or("");
    let baileys = |text: &str| {
        json_response(
            400,
            json!({"status": 400, "error": "Bad Request",
                   "response": {"message": ["Error updating participants", format!("Error: {text}")]}}),
        )
    };
    match code {
        "unauthorized" => json_response(
            401,
            json!({"status": 401, "error": "Unauthorized", "response": {"message": "Unauthorized"}}),
        ),
        "session_not_found" => json_response(
            404,
            json!({"status": 404, "error": "Not Found",
                   "response": {"message": [format!("The \"{ENGINE_SESSION}\" instance does not exist")]}}),
        ),
        // An instance whose socket was never created: its
        // service reads the Baileys method off `undefined`.
        "session_not_connected" => baileys(
            "TypeError: Cannot read properties of undefined (reading 'groupParticipantsUpdate')",
        ),
        // Baileys raises this before sending and also after:
        // ambiguous (issue 21).
        "connection_closed" => baileys("Connection Closed"),
        "not_acceptable" => baileys("not-acceptable"),
        "group_not_found" | "not_a_community" => baileys("item-not-found"),
        "not_admin" | "forbidden" => baileys("not-authorized"),
        "rate_limited" => baileys("rate-overlimit"),
        "bad_request" => json_response(
            400,
            json!({"status": 400, "error": "Bad Request",
                   "response": {"message": [{"property": "participants[0]", "message": "\"participants\" must be an array of numeric strings"}]}}),
        ),
        _ => json_response(
            err.status,
            json!({"status": err.status, "error": "Internal Server Error",
                   "response": {"message": "Internal Server Error"}}),
        ),
    }
}
