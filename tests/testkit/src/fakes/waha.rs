//! WAHA: `X-Api-Key`, the session in the path, the internal engine's raw result as the reply (GOWS, NOWEB, WEBJS).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::*;

/// A WAHA participant id in our form (`@c.us` → `@s.whatsapp.net`).
fn from_waha_id(id: &str) -> Option<ParticipantJid> {
    let jid = match id.strip_suffix("@c.us") {
        Some(digits) => format!("{digits}@s.whatsapp.net"),
        None => id.to_string(),
    };
    ParticipantJid::normalise(&jid).ok()
}

/// WAHA: `X-Api-Key`, the session in the path, the internal engine's raw
/// result as the reply.
pub(super) fn handle(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
    if req.header("x-api-key") != Some(API_KEY) {
        return f.error(&Canonical {
            status: 401,
            code: Some("unauthorized"),
        });
    }
    let segments = segments(req.path);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let ["", "api", session, "groups", tail @ ..] = segs.as_slice()
        && *session == ENGINE_SESSION
        && let Some(answer) = waha_session_routes(f, sim, req, tail)
    {
        return answer;
    }
    let ["", "api", session, "groups", jid, rest @ ..] = segs.as_slice() else {
        return json_response(
            404,
            json!({"statusCode": 404, "message": format!("Cannot {} {}", req.method, req.path), "error": "Not Found"}),
        );
    };
    if *session != ENGINE_SESSION {
        return f.error(&Canonical {
            status: 404,
            code: Some("session_not_found"),
        });
    }
    let action = match (req.method, rest) {
        ("POST", ["participants", "add"]) => Some(Action::Add),
        ("POST", ["participants", "remove"]) => Some(Action::Remove),
        ("POST", ["admin", "promote"]) => Some(Action::Promote),
        ("POST", ["admin", "demote"]) => Some(Action::Demote),
        _ => None,
    };
    if let Some(action) = action {
        // The ids as sent (WEBJS keys its reply by them) and as JIDs.
        let ids: Option<Vec<(String, ParticipantJid)>> =
            serde_json::from_str::<Value>(req.body).ok().and_then(|v| {
                v["participants"]
                    .as_array()?
                    .iter()
                    .map(|p| {
                        let id = p["id"].as_str()?;
                        Some((id.to_string(), from_waha_id(id)?))
                    })
                    .collect()
            });
        let Some(ids) = ids else {
            return f.error(&Canonical {
                status: 400,
                code: Some("bad_request"),
            });
        };
        let (sent, list): (Vec<String>, Vec<ParticipantJid>) = ids.into_iter().unzip();
        return match apply(sim, GroupKind::Group, jid, action, list) {
            Ok(reply) => waha_reply(f, sim, jid, action, &sent, &reply),
            Err(e) => f.refuse(e),
        };
    }
    let code_of = |link: String| -> String {
        if f == Flavour::WahaGows {
            link
        } else {
            link.rsplit('/').next().unwrap_or("").to_string()
        }
    };
    match (req.method, rest) {
        ("POST", ["leave"]) => match group_of(jid).and_then(|g| sim.leave(&g)) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(e) => f.refuse(e),
        },
        ("GET", []) => match group_of(jid).and_then(|g| sim.info(&g)) {
            Ok(g) => json_response(200, waha_group(f, &g)),
            Err(e) => f.refuse(e),
        },
        ("PUT", ["picture"]) => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let Some(jpeg) = v["file"]["data"].as_str().and_then(b64) else {
                return f.bad_request();
            };
            match group_of(jid).and_then(|g| sim.set_picture(&g, &jpeg)) {
                Ok(_) => json_response(200, json!({"success": true})),
                Err(e) => f.refuse(e),
            }
        }
        ("PUT", tail) => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let flag = |key: &str| v[key].as_bool();
            let change = match tail {
                ["subject"] => v["subject"].as_str().map(|s| GroupChange {
                    name: Some(s.into()),
                    ..GroupChange::default()
                }),
                ["description"] => v["description"].as_str().map(|s| GroupChange {
                    topic: Some(s.into()),
                    ..GroupChange::default()
                }),
                ["settings", "security", "messages-admin-only"] => {
                    flag("adminsOnly").map(|b| GroupChange {
                        announcement: Some(b),
                        ..GroupChange::default()
                    })
                }
                ["settings", "security", "info-admin-only"] => {
                    flag("adminsOnly").map(|b| GroupChange {
                        locked: Some(b),
                        ..GroupChange::default()
                    })
                }
                ["settings", "security", "membership-approval"] => {
                    flag("newMembersApprovalRequired").map(|b| GroupChange {
                        join_approval: Some(b),
                        ..GroupChange::default()
                    })
                }
                ["settings", "security", "member-add-mode"] => {
                    flag("membersCanAddNewMember").map(|b| GroupChange {
                        member_add_mode: Some(if b {
                            MemberAddMode::AllMembers
                        } else {
                            MemberAddMode::Admin
                        }),
                        ..GroupChange::default()
                    })
                }
                _ => None,
            };
            let Some(change) = change else {
                return f.bad_request();
            };
            let approval = change.join_approval.is_some();
            match group_of(jid).and_then(|g| sim.update(&g, &change)) {
                // membership-approval answers `true` on every engine; the
                // rest nothing (GOWS, NOWEB) or `true` (WEBJS).
                Ok(_) if approval || f == Flavour::WahaWebjs => text(200, "true".into()),
                Ok(_) => StatusCode::OK.into_response(),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", ["participants", "join-requests"]) => {
            match group_of(jid).and_then(|g| sim.join_requests(&g)) {
                Ok(list) => json_response(
                    200,
                    json!(list.iter().map(|r| {
                        let secs = epoch_of(&r.requested_at);
                        let mut v = match f {
                            // GOWS: whatsmeow's list has neither the phone number nor the method.
                            Flavour::WahaGows => json!({"requesterId": c_us(&r.jid), "addedById": null,
                                "parentGroupId": null, "requestMethod": null, "timestamp": secs}),
                            Flavour::WahaNoweb => json!({"requesterId": c_us(&r.jid),
                                "requesterPn": r.phone_number.as_deref().map(c_us), "addedById": null,
                                "parentGroupId": null, "requestMethod": r.method, "timestamp": secs}),
                            _ => json!({"requesterId": c_us(&r.jid), "addedById": "5511999999999@c.us",
                                "parentGroupId": null, "requestMethod": r.method, "timestamp": secs}),
                        };
                        if f == Flavour::WahaWebjs {
                            v.as_object_mut().map(|o| o.remove("requesterPn"));
                        }
                        v
                    }).collect::<Vec<_>>()),
                ),
                Err(e) => f.refuse(e),
            }
        }
        (
            "POST",
            [
                "participants",
                "join-requests",
                verb @ ("approve" | "reject"),
            ],
        ) => {
            let ids: Option<Vec<ParticipantJid>> =
                serde_json::from_str::<Value>(req.body).ok().and_then(|v| {
                    v["participants"]
                        .as_array()?
                        .iter()
                        .map(|p| from_waha_id(p["id"].as_str()?))
                        .collect()
                });
            let Some(ids) = ids.filter(|l| !l.is_empty()) else {
                return f.bad_request();
            };
            match group_of(jid).and_then(|g| sim.answer_join_requests(&g, *verb == "approve", &ids))
            {
                Ok(reply) => json_response(
                    200,
                    json!(reply.iter().map(|p| {
                        let code = p.error.unwrap_or(0);
                        if code == 0 {
                            json!({"requesterId": c_us(&p.jid), "success": true})
                        } else {
                            json!({"requesterId": c_us(&p.jid), "success": false, "error": code})
                        }
                    }).collect::<Vec<_>>()),
                ),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", ["invite-code"]) => match group_of(jid).and_then(|g| sim.current_invite(&g)) {
            Ok(link) => text(200, code_of(link)),
            Err(e) => f.refuse(e),
        },
        ("POST", ["invite-code", "revoke"]) => match group_of(jid).and_then(|g| sim.reset(&g)) {
            Ok(link) => text(200, code_of(link)),
            Err(e) => f.refuse(e),
        },
        _ => json_response(
            404,
            json!({"statusCode": 404, "message": format!("Cannot {} {}", req.method, req.path), "error": "Not Found"}),
        ),
    }
}

fn waha_reply(
    f: Flavour,
    sim: &Simulator,
    group: &str,
    action: Action,
    sent: &[String],
    reply: &[EngineParticipant],
) -> Response {
    match f {
        Flavour::WahaGows => json_response(
            200,
            json!(reply.iter().map(|p| {
                let code = p.error.unwrap_or(0);
                json!({
                    "JID": p.jid, "PhoneNumber": p.phone_number.clone().unwrap_or_default(),
                    "LID": p.lid.clone().unwrap_or_default(), "IsAdmin": p.is_admin,
                    "IsSuperAdmin": p.is_super_admin, "DisplayName": "", "Error": code,
                    "AddRequest": p.add_request.as_ref().map(|a| json!({
                        "Code": a.code,
                        "Expiration": a.expiration.and_then(|e| time::OffsetDateTime::from_unix_timestamp(e).ok())
                            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
                    })),
                })
            }).collect::<Vec<_>>()),
        ),
        Flavour::WahaNoweb => json_response(
            200,
            json!(reply.iter().map(baileys_entry).collect::<Vec<_>>()),
        ),
        _ if action == Action::Add => {
            // Keyed by the id as sent (`@c.us`).
            let mut map = serde_json::Map::new();
            for (id, p) in sent.iter().zip(reply) {
                let code = match p.error.unwrap_or(0) {
                    0 => 200,
                    c => c,
                };
                // whatsapp-web.js sends the private invitation itself on
                // every privacy refusal that allows one.
                let sent = match (&p.add_request, group_of(group)) {
                    (Some(a), Ok(g)) if code == 403 => {
                        sim.private_invite(&g, &p.jid, &a.code).is_ok()
                    }
                    _ => false,
                };
                map.insert(
                    id.clone(),
                    json!({"code": code, "message": "", "isInviteV4Sent": sent}),
                );
            }
            json_response(200, Value::Object(map))
        }
        _ => json_response(200, json!({"status": 200})),
    }
}

fn c_us(jid: &str) -> String {
    match jid.strip_suffix("@s.whatsapp.net") {
        Some(d) => format!("{d}@c.us"),
        None => jid.to_string(),
    }
}

/// whatsmeow's `GroupInfo` (GOWS).
fn gows_group(g: &Group) -> Value {
    json!({
        "JID": g.jid, "OwnerJID": g.owner.clone().unwrap_or_default(), "OwnerPN": "",
        "Name": g.name, "NameSetAt": g.created_at, "NameSetBy": "",
        "Topic": g.topic.clone().unwrap_or_default(), "TopicID": "", "TopicSetAt": "0001-01-01T00:00:00Z",
        "TopicDeleted": false, "IsLocked": g.is_locked, "IsAnnounce": g.is_announce,
        "AnnounceVersionID": "", "IsEphemeral": false, "DisappearingTimer": 0, "IsIncognito": false,
        "IsParent": g.is_community.unwrap_or(false), "DefaultMembershipApprovalMode": "",
        "LinkedParentJID": g.parent_jid.clone().unwrap_or_default(), "IsDefaultSubGroup": g.is_announcement_group.unwrap_or(false),
        "IsJoinApprovalRequired": g.join_approval.unwrap_or(false), "AddressingMode": "pn",
        "ParticipantCount": g.members_count,
        "GroupCreated": g.created_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        "ParticipantVersionID": "", "MemberAddMode": "admin_add",
        "Participants": g.participants.as_ref().map(|list| list.iter().map(|m| json!({
            "JID": m.jid, "PhoneNumber": m.phone_number.clone().unwrap_or_default(),
            "LID": m.lid.clone().unwrap_or_default(), "IsAdmin": m.is_admin,
            "IsSuperAdmin": m.is_super_admin, "DisplayName": "", "Error": 0, "AddRequest": null,
        })).collect::<Vec<_>>()),
    })
}

/// whatsapp-web.js's `GroupChat` (WEBJS).
fn webjs_chat(g: &Group) -> Value {
    let wid = |jid: &str| {
        let jid = c_us(jid);
        let (user, server) = jid.split_once('@').unwrap_or((&jid, ""));
        json!({"server": server, "user": user, "_serialized": jid})
    };
    let mut meta = json!({
        "id": wid(&g.jid), "creation": epoch_of(&g.created_at),
        "owner": g.owner.as_deref().map(wid), "subject": g.name, "subjectTime": epoch_of(&g.created_at),
        "restrict": g.is_locked, "announce": g.is_announce,
        "membershipApprovalMode": g.join_approval.unwrap_or(false), "size": g.members_count,
        "isParentGroup": g.is_community.unwrap_or(false), "pendingParticipants": [],
    });
    if let Some(t) = &g.topic {
        meta["desc"] = json!(t);
    }
    if let Some(p) = &g.parent_jid {
        meta["parentGroup"] = wid(p);
    }
    if g.is_announcement_group == Some(true) {
        meta["defaultSubgroup"] = json!(true);
    }
    if let Some(list) = &g.participants {
        meta["participants"] = json!(
            list.iter()
                .map(|m| json!({
                    "id": wid(&m.jid), "isAdmin": m.is_admin, "isSuperAdmin": m.is_super_admin,
                }))
                .collect::<Vec<_>>()
        );
    }
    json!({"id": wid(&g.jid), "name": g.name, "isGroup": true, "unreadCount": 0,
           "timestamp": epoch_of(&g.created_at), "groupMetadata": meta})
}

/// A group as WAHA's internal engine renders it.
fn waha_group(f: Flavour, g: &Group) -> Value {
    match f {
        Flavour::WahaGows => gows_group(g),
        Flavour::WahaNoweb => baileys_group(g, g.participants.is_some()),
        _ => webjs_chat(g),
    }
}

/// WAHA's session routes that name no group (create, list, join), and
/// the invite preview (`join-info`).
fn waha_session_routes(
    f: Flavour,
    sim: &Simulator,
    req: &Request<'_>,
    tail: &[&str],
) -> Option<Response> {
    let v: Value = serde_json::from_str(req.body).unwrap_or_default();
    Some(match (req.method, tail) {
        ("POST", []) => {
            let ids: Option<Vec<ParticipantJid>> = v["participants"].as_array().and_then(|list| {
                list.iter()
                    .map(|p| from_waha_id(p["id"].as_str()?))
                    .collect()
            });
            let (Some(name), Some(participants)) = (v["name"].as_str(), ids) else {
                return Some(f.bad_request());
            };
            let new = NewGroup {
                name: name.to_string(),
                participants: participants.clone(),
                options: GroupOptions::default(),
            };
            match sim.create_group(&new) {
                Ok(g) if f == Flavour::WahaWebjs => {
                    let members: Vec<&str> = g
                        .participants
                        .iter()
                        .flatten()
                        .map(|m| m.jid.as_str())
                        .collect();
                    let mut results = serde_json::Map::new();
                    for p in &participants {
                        let code = if members.contains(&p.as_str()) {
                            200
                        } else {
                            403
                        };
                        results.insert(c_us(p.as_str()), json!({"statusCode": code, "message": "", "isGroupCreator": false, "isInviteV4Sent": code == 403}));
                    }
                    let (user, server) = g.jid.split_once('@').unwrap_or((&g.jid, ""));
                    json_response(
                        201,
                        json!({"title": g.name, "gid": {"server": server, "user": user, "_serialized": g.jid},
                               "participants": results}),
                    )
                }
                Ok(g) => json_response(201, waha_group(f, &g)),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", []) => {
            let exclude = req.query("exclude").as_deref() == Some("participants");
            match sim.list() {
                Ok(groups) if f == Flavour::WahaNoweb => {
                    let mut map = serde_json::Map::new();
                    for g in &groups {
                        let mut v = baileys_group(g, !exclude);
                        if exclude {
                            v.as_object_mut().map(|o| o.remove("participants"));
                        }
                        map.insert(g.jid.clone(), v);
                    }
                    json_response(200, Value::Object(map))
                }
                Ok(groups) => json_response(
                    200,
                    json!(groups.iter().map(|g| waha_group(f, g)).collect::<Vec<_>>()),
                ),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", ["join-info"]) => {
            let code = req.query("code").unwrap_or_default();
            let code = code.rsplit('/').next().unwrap_or("").to_string();
            match sim.invite_info(&code) {
                Ok(g) => json_response(
                    200,
                    match f {
                        Flavour::WahaWebjs => webjs_chat(&g)["groupMetadata"].clone(),
                        _ => waha_group(f, &g),
                    },
                ),
                Err(e) => f.refuse(e),
            }
        }
        ("POST", ["join"]) => {
            let code = v["code"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            match sim.join(&Join::Link { code }) {
                Ok(j) => json_response(200, json!({"id": j.group_jid})),
                Err(e) => f.refuse(e),
            }
        }
        _ => return None,
    })
}

/// An error in session-service terms, as this engine renders it.
pub(super) fn error(err: &Canonical<'_>) -> Response {
    let code = err.code.unwrap_or("");
    let exception = |text: &str| {
        json_response(
            500,
            json!({"statusCode": 500, "timestamp": "2026-06-15T13:45:02Z",
                   "exception": {"message": text, "name": "Error"}}),
        )
    };
    match code {
        "unauthorized" => json_response(401, json!({"statusCode": 401, "message": "Unauthorized"})),
        "session_not_found" => json_response(
            404,
            json!({"statusCode": 404, "error": "Not Found",
                   "message": format!("We didn't find a session with name '{ENGINE_SESSION}'.\nPlease start it first by using POST /api/sessions/{ENGINE_SESSION}/start request")}),
        ),
        "session_not_connected" => json_response(
            422,
            json!({"error": "Session status is not as expected. Try again later or restart the session",
                   "session": ENGINE_SESSION, "status": "STARTING", "expected": ["WORKING"]}),
        ),
        "group_not_found" | "not_a_community" => exception("item-not-found"),
        "connection_closed" => exception("Connection Closed"),
        "not_acceptable" => exception("not-acceptable"),
        "not_admin" | "forbidden" => exception("not-authorized"),
        "rate_limited" => exception("rate-overlimit"),
        "bad_request" => json_response(
            400,
            json!({"statusCode": 400, "message": ["participants must be an array"], "error": "Bad Request"}),
        ),
        _ => json_response(
            err.status,
            json!({"statusCode": err.status, "timestamp": "2026-06-15T13:45:02Z",
                   "exception": {"message": "2 UNKNOWN: server returned error 500", "name": "Error"}}),
        ),
    }
}
