//! One fake per engine, over the WUTS fake's HTTP server and the shared
//! simulator: each reads its engine's requests (routes, auth header,
//! session, body) and answers in its engine's wire format (replies and
//! error shapes, as `docs/ENGINES.md` records them from the engines'
//! sources). Faults are given in session-service terms (`Canonical`) and
//! rendered as each engine renders that error.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use shared::jid::ParticipantJid;
use shared::wuts::sim::Simulator;
use shared::wuts::{Action, EngineKind, GroupKind, WutsError, WutsParticipant};

use crate::wuts_fake::{
    API_KEY, SESSION_ID, apply, group_of, json_response, read_participants, segments,
};

/// The Evolution instance and WAHA session of the test tenant.
pub const ENGINE_SESSION: &str = "acme-main";

/// An engine as a fake speaks it; WAHA in each of its internal engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    SessionService,
    Wuts,
    Evolution,
    WahaGows,
    WahaNoweb,
    WahaWebjs,
}

/// An error in session-service terms.
#[derive(Debug, Clone, Copy)]
pub struct Canonical<'a> {
    pub status: u16,
    pub code: Option<&'a str>,
}

pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a str,
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn query(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    }
}

impl Flavour {
    pub const ALL: [Flavour; 6] = [
        Self::SessionService,
        Self::Wuts,
        Self::Evolution,
        Self::WahaGows,
        Self::WahaNoweb,
        Self::WahaWebjs,
    ];

    pub fn engine(self) -> EngineKind {
        match self {
            Self::SessionService => EngineKind::SessionService,
            Self::Wuts => EngineKind::Wuts,
            Self::Evolution => EngineKind::Evolution,
            Self::WahaGows | Self::WahaNoweb | Self::WahaWebjs => EngineKind::Waha,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::SessionService => "session-service",
            Self::Wuts => "wuts",
            Self::Evolution => "evolution",
            Self::WahaGows => "waha/GOWS",
            Self::WahaNoweb => "waha/NOWEB",
            Self::WahaWebjs => "waha/WEBJS",
        }
    }

    /// The tenant's session for this engine.
    pub fn session(self) -> &'static str {
        match self.engine() {
            EngineKind::SessionService => SESSION_ID,
            EngineKind::Wuts => "",
            EngineKind::Evolution | EngineKind::Waha => ENGINE_SESSION,
        }
    }

    pub fn supports_communities(self) -> bool {
        matches!(self.engine(), EngineKind::SessionService | EngineKind::Wuts)
    }

    /// Whether this engine can serve the route of function binary
    /// `function` (else `501 NOT_SUPPORTED`, nothing sent): docs/ENGINES.md.
    pub fn supports(self, function: &str) -> bool {
        let engine = self.engine();
        match function {
            f if f.contains("community") => self.supports_communities(),
            "leave-group" => engine != EngineKind::SessionService,
            "set-group-ephemeral" => matches!(engine, EngineKind::Wuts | EngineKind::Evolution),
            _ => true,
        }
    }

    /// Whether the engine reports each participant's outcome for `action`
    /// (WAHA on WEBJS does not for remove, promote and demote).
    pub fn reports_outcomes(self, action: Action) -> bool {
        !(self == Self::WahaWebjs && action != Action::Add)
    }

    /// Answers one request as the engine would.
    pub fn handle(self, sim: &Simulator, req: &Request<'_>) -> Response {
        match self {
            Self::SessionService => session_service(self, sim, req),
            Self::Wuts => wuts(self, sim, req),
            Self::Evolution => evolution(self, sim, req),
            _ => waha(self, sim, req),
        }
    }

    /// `err` as this engine renders it.
    pub fn error(self, err: &Canonical<'_>) -> Response {
        let code = err.code.unwrap_or("");
        match self.engine() {
            EngineKind::SessionService => match err.code {
                Some(code) => json_response(
                    err.status,
                    json!({"error": code.replace('_', " "), "code": code}),
                ),
                None => StatusCode::from_u16(err.status).unwrap().into_response(),
            },
            EngineKind::Wuts => {
                let (status, error_code) = match code {
                    "unauthorized" => {
                        return json_response(
                            401,
                            json!({"success": false, "error": "unauthorized"}),
                        );
                    }
                    "session_not_connected" | "session_not_found" => (503, "DEVICE_NOT_READY"),
                    "group_not_found" | "not_a_community" => (404, "NOT_FOUND"),
                    "not_admin" | "forbidden" => (403, "FORBIDDEN"),
                    "rate_limited" => (429, "RATE_LIMITED"),
                    "bad_request" => (400, "VALIDATION_ERROR"),
                    _ => (err.status, "INTERNAL_ERROR"),
                };
                json_response(
                    status,
                    json!({"success": false, "error": code.replace('_', " "), "error_code": error_code,
                           "timestamp": "2026-06-15T13:45:02Z"}),
                )
            }
            EngineKind::Evolution => {
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
                    "session_not_connected" => baileys("Connection Closed"),
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
            EngineKind::Waha => {
                let exception = |text: &str| {
                    json_response(
                        500,
                        json!({"statusCode": 500, "timestamp": "2026-06-15T13:45:02Z",
                               "exception": {"message": text, "name": "Error"}}),
                    )
                };
                match code {
                    "unauthorized" => {
                        json_response(401, json!({"statusCode": 401, "message": "Unauthorized"}))
                    }
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
        }
    }

    fn refuse(self, err: WutsError) -> Response {
        match err {
            WutsError::Status { status, code, .. } => self.error(&Canonical {
                status,
                code: code.as_deref(),
            }),
            _ => self.error(&Canonical {
                status: 500,
                code: None,
            }),
        }
    }
}

fn session_service(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
    if req.header("authorization") != Some(&format!("Bearer {API_KEY}")) {
        return f.error(&Canonical {
            status: 401,
            code: Some("unauthorized"),
        });
    }
    let segments = segments(req.path);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ["", "v1", "sessions", session, rest @ ..] = segs.as_slice() else {
        return f.error(&Canonical {
            status: 404,
            code: Some("not_found"),
        });
    };
    if *session != SESSION_ID {
        return f.error(&Canonical {
            status: 404,
            code: Some("session_not_found"),
        });
    }
    match (req.method, rest) {
        ("POST", [kind, jid, "participants"]) => {
            let Some(kind) = kind_of(kind) else {
                return f.error(&Canonical {
                    status: 404,
                    code: Some("not_found"),
                });
            };
            let Some((action, list)) = read_participants(req.body, None) else {
                return f.error(&Canonical {
                    status: 400,
                    code: Some("bad_request"),
                });
            };
            match apply(sim, kind, jid, action, list) {
                Ok(reply) => json_response(200, json!({ "participants": reply })),
                Err(e) => f.refuse(e),
            }
        }
        ("POST", ["groups", jid, "invite", "reset"]) => {
            match group_of(jid).and_then(|g| sim.reset(&g)) {
                Ok(link) => json_response(200, json!({ "invite_link": link })),
                Err(e) => f.refuse(e),
            }
        }
        ("GET", ["groups", jid, "invite"]) => {
            match group_of(jid).and_then(|g| sim.current_invite(&g)) {
                Ok(link) => json_response(200, json!({ "invite_link": link })),
                Err(e) => f.refuse(e),
            }
        }
        _ => f.error(&Canonical {
            status: 404,
            code: Some("not_found"),
        }),
    }
}

fn kind_of(segment: &str) -> Option<GroupKind> {
    match segment {
        "groups" => Some(GroupKind::Group),
        "communities" => Some(GroupKind::Community),
        _ => None,
    }
}

/// The WUTS public API: no version prefix, the token names the device.
fn wuts(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
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
        _ => f.error(&Canonical {
            status: 404,
            code: Some("not_found"),
        }),
    }
}

/// The documented entry; a refused participant also carries WhatsApp's
/// `error` (and `add_request`), which the docs do not show.
fn wuts_entry(p: &WutsParticipant) -> Value {
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

/// Baileys' participant result, as Evolution and WAHA/NOWEB pass it on.
fn baileys_entry(p: &WutsParticipant) -> Value {
    let code = p.error.filter(|c| *c != 0);
    let mut attrs = json!({"jid": p.jid});
    if let Some(code) = code {
        attrs["error"] = json!(code.to_string());
    }
    if p.jid.ends_with("@lid") && p.phone_number.is_some() {
        attrs["phone_number"] = json!(p.phone_number);
    }
    let mut content = json!({"tag": "participant", "attrs": attrs});
    if let Some(add) = &p.add_request {
        content["content"] = json!([{"tag": "add_request", "attrs": {
            "code": add.code, "expiration": add.expiration.map(|e| e.to_string()),
        }}]);
    }
    json!({"status": code.unwrap_or(200).to_string(), "jid": p.jid, "content": content})
}

/// Evolution API v2: the instance exists before the key is checked.
fn evolution(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
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
        return f.error(&Canonical {
            status: 404,
            code: Some("session_not_found"),
        });
    }
    if req.header("apikey") != Some(API_KEY) {
        return f.error(&Canonical {
            status: 401,
            code: Some("unauthorized"),
        });
    }
    // `groupJid` from the body first, then the query (Evolution's `groupValidate`).
    let from_body = serde_json::from_str::<Value>(req.body)
        .ok()
        .and_then(|v| v["groupJid"].as_str().map(str::to_string));
    let Some(group) = from_body.or_else(|| req.query("groupJid")) else {
        return json_response(
            400,
            json!({"status": 400, "error": "Bad Request",
                   "response": {"message": ["The group id needs to be informed in the query"]}}),
        );
    };
    match (req.method, *route) {
        ("POST", "updateParticipant") => {
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
                Err(e) => f.refuse(e),
            }
        }
        ("GET", "inviteCode") => match group_of(&group).and_then(|g| sim.current_invite(&g)) {
            Ok(link) => {
                let code = link.rsplit('/').next().unwrap_or("").to_string();
                json_response(200, json!({"inviteUrl": link, "inviteCode": code}))
            }
            Err(e) => f.refuse(e),
        },
        ("DELETE", "leaveGroup") => match group_of(&group).and_then(|g| sim.leave(&g)) {
            Ok(()) => json_response(200, json!({"groupJid": group, "leave": true})),
            Err(e) => f.refuse(e),
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
                Err(e) => f.refuse(e),
            }
        }
        ("POST", "revokeInviteCode") => match group_of(&group).and_then(|g| sim.reset(&g)) {
            Ok(link) => {
                let code = link.rsplit('/').next().unwrap_or("").to_string();
                json_response(201, json!({"revoked": true, "inviteCode": code}))
            }
            Err(e) => f.refuse(e),
        },
        _ => json_response(
            404,
            json!({"status": 404, "error": "Not Found",
                   "response": {"message": [format!("Cannot {} {}", req.method, req.path)]}}),
        ),
    }
}

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
fn waha(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
    if req.header("x-api-key") != Some(API_KEY) {
        return f.error(&Canonical {
            status: 401,
            code: Some("unauthorized"),
        });
    }
    let segments = segments(req.path);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
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
            Ok(reply) => waha_reply(f, action, &sent, &reply),
            Err(e) => f.refuse(e),
        };
    }
    let text = |status: u16, body: String| {
        (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "text/html; charset=utf-8")],
            body,
        )
            .into_response()
    };
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

fn waha_reply(f: Flavour, action: Action, sent: &[String], reply: &[WutsParticipant]) -> Response {
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
                map.insert(
                    id.clone(),
                    json!({"code": code, "message": "", "isInviteV4Sent": false}),
                );
            }
            json_response(200, Value::Object(map))
        }
        _ => json_response(200, json!({"status": 200})),
    }
}
