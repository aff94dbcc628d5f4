//! One fake per engine, over the WUTS fake's HTTP server and the shared
//! simulator: each reads its engine's requests (routes, auth header,
//! session, body) and answers in its engine's wire format (replies and
//! error shapes, as `docs/ENGINES.md` records them from the engines'
//! sources). Faults are given in session-service terms (`Canonical`) and
//! rendered as each engine renders that error.

use crate::sim::Simulator;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use shared::engine::groups::{
    Group, GroupChange, GroupOptions, Join, MemberAddMode, NewCommunity, NewGroup,
};
use shared::engine::{Action, EngineError, EngineKind, EngineParticipant, GroupKind};
use shared::jid::{GroupJid, ParticipantJid};

use crate::wuts_fake::{
    API_KEY, SESSION_ID, apply, group_of, json_response, read_participants, segments,
};

/// The status a route's success answers with: 201 for a create.
pub fn success_status(function: &str) -> u16 {
    match function {
        "create-group" | "create-community" => 201,
        _ => 200,
    }
}

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
            // The four calls of the session-service contract.
            "remove-group-participants"
            | "add-group-participants"
            | "remove-community-participants"
            | "add-community-participants"
            | "reset-group-invite-link"
            | "get-group-invite-link"
                if engine == EngineKind::SessionService =>
            {
                true
            }
            _ if engine == EngineKind::SessionService => false,
            f if f.contains("community") => self.supports_communities(),
            "set-group-ephemeral" => matches!(engine, EngineKind::Wuts | EngineKind::Evolution),
            _ => true,
        }
    }

    /// The engine calls the event of `function` takes: a PATCH on an engine
    /// with one call per property is that call and the refresh.
    pub fn calls_for(self, function: &str) -> usize {
        if function == "update-group"
            && matches!(self.engine(), EngineKind::Evolution | EngineKind::Waha)
        {
            2
        } else {
            1
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
                    "connection_closed" => (500, "INTERNAL_ERROR"),
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
        }
    }

    fn refuse(self, err: EngineError) -> Response {
        match err {
            EngineError::Status { status, code, .. } => self.error(&Canonical {
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

/// Baileys' participant result, as Evolution and WAHA/NOWEB pass it on.
fn baileys_entry(p: &EngineParticipant) -> Value {
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
            Ok(reply) => waha_reply(f, action, &sent, &reply),
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

impl Flavour {
    fn bad_request(self) -> Response {
        self.error(&Canonical {
            status: 400,
            code: Some("bad_request"),
        })
    }
}

fn b64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn jid_list(v: &Value) -> Option<Vec<ParticipantJid>> {
    v.as_array()?
        .iter()
        .map(|p| ParticipantJid::normalise(p.as_str()?).ok())
        .collect()
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

/// A change from a body with our field names (`name_key`, `topic_key`).
fn change_of(v: &Value, name_key: &str, topic_key: &str) -> Option<GroupChange> {
    let change = GroupChange {
        name: v[name_key].as_str().map(str::to_string),
        topic: v[topic_key].as_str().map(str::to_string),
        announcement: v["announcement"].as_bool(),
        locked: v["locked"].as_bool(),
        join_approval: v["join_approval"].as_bool(),
        member_add_mode: match v["member_add_mode"].as_str() {
            Some("admin") => Some(MemberAddMode::Admin),
            Some("all_members") => Some(MemberAddMode::AllMembers),
            Some(_) => return None,
            None => None,
        },
    };
    (!change.is_empty()).then_some(change)
}

fn epoch_of(created_at: &Option<String>) -> i64 {
    created_at
        .as_deref()
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or(0, |t| t.unix_timestamp())
}

/// Baileys' `GroupMetadata` (Evolution; WAHA on NOWEB).
pub fn baileys_group(g: &Group, with_participants: bool) -> Value {
    let mut v = json!({
        "id": g.jid, "subject": g.name, "subjectOwner": g.owner, "subjectTime": epoch_of(&g.created_at),
        "size": g.members_count, "creation": epoch_of(&g.created_at), "owner": g.owner,
        "restrict": g.is_locked, "announce": g.is_announce, "isCommunity": g.is_community.unwrap_or(false),
        "isCommunityAnnounce": false, "joinApprovalMode": g.join_approval, "memberAddMode": false,
        "pictureUrl": null,
    });
    if let Some(t) = &g.topic {
        v["desc"] = json!(t);
        v["descId"] = json!("3EB0C0A1B2C3D4E5");
    }
    if let Some(p) = &g.parent_jid {
        v["linkedParent"] = json!(p);
    }
    if with_participants {
        v["participants"] = json!(
            g.participants
                .iter()
                .flatten()
                .map(|m| {
                    let admin = if m.is_super_admin {
                        json!("superadmin")
                    } else if m.is_admin {
                        json!("admin")
                    } else {
                        Value::Null
                    };
                    let mut p = json!({"id": m.jid, "admin": admin});
                    if m.jid.ends_with("@lid")
                        && let Some(pn) = &m.phone_number
                    {
                        p["phoneNumber"] = json!(pn);
                    }
                    p
                })
                .collect::<Vec<_>>()
        );
    }
    v
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
        "LinkedParentJID": g.parent_jid.clone().unwrap_or_default(), "IsDefaultSubGroup": false,
        "IsJoinApprovalRequired": g.join_approval.unwrap_or(false), "AddressingMode": "pn",
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

fn text(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "text/html; charset=utf-8")],
        body,
    )
        .into_response()
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
        _ => return None,
    })
}

/// WAHA's session routes that name no group (create, list, join), and
/// refusing the id WAHA does not route (`join-info`, `count`).
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
