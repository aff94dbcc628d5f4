//! The WUTS public API: no version prefix, the token names the device.

use axum::response::Response;
use serde_json::{Value, json};

use super::*;

/// The WUTS public API: no version prefix, the token names the device.
pub(super) fn handle(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
    if req.header("authorization") != Some(&format!("Bearer {API_KEY}")) {
        return f.error(&Canonical {
            status: 401,
            code: Some("unauthorized"),
        });
    }
    let segments = segments(req.path);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (req.method, segs.as_slice()) {
        (method @ ("POST" | "DELETE"), ["", kind, jid, "participants"]) => {
            let Some(kind) = kind_of(kind) else {
                return f.error(&Canonical {
                    status: 404,
                    code: Some("not_found"),
                });
            };
            let default = if method == "POST" {
                Action::Add
            } else {
                Action::Remove
            };
            let Some((action, list)) = read_participants(req.body, Some(default)) else {
                return f.error(&Canonical {
                    status: 400,
                    code: Some("bad_request"),
                });
            };
            match apply(sim, kind, jid, action, list) {
                Ok(reply) => {
                    let entries: Vec<Value> = reply.iter().map(wuts_entry).collect();
                    let mut body = json!({"success": true, "participants": entries});
                    if kind == GroupKind::Community {
                        body["jid"] = json!(jid);
                        body["action"] = json!(action.as_str());
                    }
                    json_response(200, body)
                }
                Err(e) => f.refuse(e),
            }
        }
        ("POST", ["", "groups", jid, "invite", "reset"]) => {
            match group_of(jid).and_then(|g| sim.reset(&g)) {
                Ok(link) => json_response(
                    200,
                    json!({"success": true, "group_jid": jid, "invite_link": link,
                           "reset_at": "2026-06-15T10:05:00Z"}),
                ),
                Err(e) => f.refuse(e),
            }
        }
        ("DELETE", ["", "groups", jid, "leave"]) => match group_of(jid).and_then(|g| sim.leave(&g))
        {
            Ok(()) => json_response(200, json!({"success": true})),
            Err(e) => f.refuse(e),
        },
        ("PUT", ["", "groups", jid, "ephemeral"]) => {
            let seconds = serde_json::from_str::<Value>(req.body)
                .ok()
                .and_then(|v| v["duration_seconds"].as_u64())
                .and_then(|d| u32::try_from(d).ok());
            let Some(seconds) = seconds else {
                return f.error(&Canonical {
                    status: 400,
                    code: Some("bad_request"),
                });
            };
            match group_of(jid).and_then(|g| sim.set_ephemeral(&g, seconds)) {
                Ok(()) => json_response(200, json!({"success": true, "duration_seconds": seconds})),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", ["", "groups", jid, "invite"]) => {
            match group_of(jid).and_then(|g| sim.current_invite(&g)) {
                Ok(link) => json_response(
                    200,
                    json!({"success": true, "group_jid": jid, "invite_link": link}),
                ),
                Err(e) => f.refuse(e),
            }
        }
        ("POST", ["", "groups"]) => {
            let Some(new) = wuts_new_group(req.body) else {
                return f.bad_request();
            };
            match sim.create_group(&new) {
                Ok(g) => json_response(201, json!({"success": true, "group": g})),
                Err(e) => f.refuse(e),
            }
        }
        ("POST", ["", "communities"]) => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let new = NewCommunity {
                name: v["name"].as_str().unwrap_or_default().to_string(),
                participants: jid_list(&v["participants"]).unwrap_or_default(),
                description: v["description"].as_str().map(str::to_string),
            };
            match sim.create_community(&new) {
                Ok(g) => json_response(201, json!({"success": true, "community": g})),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", ["", "groups"]) => match sim.list() {
            Ok(groups) => json_response(200, json!({"success": true, "groups": groups})),
            Err(e) => f.refuse(e),
        },
        ("POST", ["", "groups", "join"]) => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let join = match (v["link"].as_str(), v["code"].as_str()) {
                (Some(link), None) => Join::Link {
                    code: link.rsplit('/').next().unwrap_or("").to_string(),
                },
                (None, Some(code)) => {
                    let (Ok(group), Some(Ok(inviter))) = (
                        GroupJid::parse(v["group_jid"].as_str().unwrap_or("")),
                        v["inviter_jid"].as_str().map(ParticipantJid::normalise),
                    ) else {
                        return f.bad_request();
                    };
                    Join::Invite {
                        code: code.to_string(),
                        group,
                        inviter,
                    }
                }
                _ => return f.bad_request(),
            };
            match sim.join(&join) {
                Ok(j) => json_response(
                    200,
                    json!({"success": true, "group_jid": j.group_jid, "pending_approval": j.pending_approval}),
                ),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", ["", "groups", jid]) => match group_of(jid).and_then(|g| sim.info(&g)) {
            Ok(g) => json_response(200, json!({"success": true, "group": g})),
            Err(e) => f.refuse(e),
        },
        ("PATCH", ["", "groups", jid]) => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let Some(change) = change_of(&v, "name", "topic") else {
                return f.bad_request();
            };
            match group_of(jid).and_then(|g| sim.update(&g, &change)) {
                Ok(g) => json_response(200, json!({"success": true, "group": g})),
                Err(e) => f.refuse(e),
            }
        }
        ("POST", ["", "groups", jid, "picture"]) => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let Some(jpeg) = v["image_base64"].as_str().and_then(b64) else {
                return f.bad_request();
            };
            match group_of(jid).and_then(|g| sim.set_picture(&g, &jpeg)) {
                Ok(id) => json_response(200, json!({"success": true, "picture_id": id})),
                Err(e) => f.refuse(e),
            }
        }
        // Link and unlink: the community in the path, the child group in
        // the body (the WUTS documentation, engines.md's audit of 2026-12).
        (method @ ("POST" | "DELETE"), ["", "communities", community, "groups"]) => {
            let v: Value = serde_json::from_str(req.body).unwrap_or_default();
            let Ok(group) = GroupJid::parse(v["group_jid"].as_str().unwrap_or("")) else {
                return f.bad_request();
            };
            let link = method == "POST";
            match group_of(community).and_then(|c| sim.link(&c, &group, link)) {
                Ok(()) => json_response(
                    200,
                    json!({"success": true, "community_jid": community, "group_jid": group.as_str()}),
                ),
                Err(e) => f.refuse(e),
            }
        }
        _ => f.error(&Canonical {
            status: 404,
            code: Some("not_found"),
        }),
    }
}

/// The documented entry; a refused participant also carries WhatsApp's
/// `error` (and `add_request`), which the docs do not show.
fn wuts_entry(p: &EngineParticipant) -> Value {
    let mut entry = json!({
        "jid": p.jid, "phone_number": p.phone_number,
        "is_admin": p.is_admin, "is_super_admin": p.is_super_admin,
    });
    if let Some(code) = p.error.filter(|c| *c != 0) {
        entry["error"] = json!(code);
        if let Some(add) = &p.add_request {
            entry["add_request"] = json!(add);
        }
    }
    entry
}

/// WUTS's create body.
fn wuts_new_group(body: &str) -> Option<NewGroup> {
    let v: Value = serde_json::from_str(body).ok()?;
    let o = &v["options"];
    Some(NewGroup {
        name: v["name"].as_str()?.to_string(),
        participants: jid_list(&v["participants"])?,
        options: GroupOptions {
            announcement: o["announcement"].as_bool().unwrap_or(false),
            locked: o["locked"].as_bool().unwrap_or(false),
            join_approval: o["join_approval"].as_bool().unwrap_or(false),
            community: o["community"].as_bool().unwrap_or(false),
            parent_jid: o["parent_jid"]
                .as_str()
                .and_then(|p| GroupJid::parse(p).ok()),
        },
    })
}

/// An error in session-service terms, as this engine renders it.
pub(super) fn error(err: &Canonical<'_>) -> Response {
    let code = err.code.unwrap_or("");
    let (status, error_code) = match code {
        "unauthorized" => {
            return json_response(401, json!({"success": false, "error": "unauthorized"}));
        }
        "session_not_connected" | "session_not_found" => (503, "DEVICE_NOT_READY"),
        "group_not_found" | "not_a_community" => (404, "NOT_FOUND"),
        "not_admin" | "forbidden" => (403, "FORBIDDEN"),
        "rate_limited" => (429, "RATE_LIMITED"),
        "bad_request" => (400, "VALIDATION_ERROR"),
        "connection_closed" => (500, "INTERNAL_ERROR"),
        _ => (err.status, "INTERNAL_ERROR"),
    };
    json_response(
        status,
        json!({"success": false, "error": code.replace('_', " "), "error_code": error_code,
               "timestamp": "2026-06-15T13:45:02Z"}),
    )
}
