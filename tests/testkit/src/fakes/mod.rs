//! One fake per engine (a module each), over the WUTS fake's HTTP server and the shared
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

mod evolution;
mod session_service;
mod waha;
mod wuts;

use crate::wuts_fake::{
    API_KEY, SESSION_ID, apply, group_of, json_response, read_participants, segments,
};

/// The status a route's success answers with: 201 for a create.
pub fn success_status(function: &str) -> u16 {
    match function {
        "create-group" | "create-community" => 201,
        "create-group-participants-job" | "create-community-participants-job" => 202,
        _ => 200,
    }
}

/// Whether the route of `function` calls the engine at all.
pub fn calls_engine(function: &str) -> bool {
    // An engine's webhooks in: the engine calls us.
    if function.starts_with("hooks-") {
        return false;
    }
    shared::operations::ROUTES
        .iter()
        .find(|r| r.function == function)
        .is_none_or(|r| r.engine)
}

/// Whether what the tenant's engine can do decides the route's answer: it
/// calls the engine, or it queues a job of engine calls (refused with 501
/// where the engine cannot make them).
pub fn depends_on_engine(function: &str) -> bool {
    calls_engine(function)
        || shared::operations::ROUTES
            .iter()
            .any(|r| r.function == function && r.queues_jobs)
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
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(super) fn query(&self, name: &str) -> Option<String> {
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
        if !depends_on_engine(function) {
            return true;
        }
        // A job makes its route's participant calls.
        let function = match function {
            "create-group-participants-job" => "add-group-participants",
            "create-community-participants-job" => "add-community-participants",
            other => other,
        };
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
            // WAHA's join-request routes (2026.8.2); no other engine has them.
            "list-join-requests" | "answer-join-requests" => engine == EngineKind::Waha,
            // WAHA's join-info and Evolution's inviteInfo.
            "get-invite-info" => matches!(engine, EngineKind::Evolution | EngineKind::Waha),
            // Read from the group list on every engine that has one.
            "list-community-groups" => true,
            f if f.contains("community") => self.supports_communities(),
            "set-group-ephemeral" => matches!(engine, EngineKind::Wuts | EngineKind::Evolution),
            _ => true,
        }
    }

    /// The engine calls the event of `function` takes: a PATCH on an engine
    /// with one call per property is that call and the refresh.
    pub fn calls_for(self, function: &str) -> usize {
        if !calls_engine(function) {
            0
        } else if function == "update-group"
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
            Self::SessionService => session_service::handle(self, sim, req),
            Self::Wuts => wuts::handle(self, sim, req),
            Self::Evolution => evolution::handle(self, sim, req),
            _ => waha::handle(self, sim, req),
        }
    }

    /// `err` as this engine renders it.
    pub fn error(self, err: &Canonical<'_>) -> Response {
        match self.engine() {
            EngineKind::SessionService => session_service::error(err),
            EngineKind::Wuts => wuts::error(err),
            EngineKind::Evolution => evolution::error(err),
            EngineKind::Waha => waha::error(err),
        }
    }

    pub(super) fn refuse(self, err: EngineError) -> Response {
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

impl Flavour {
    pub(super) fn bad_request(self) -> Response {
        self.error(&Canonical {
            status: 400,
            code: Some("bad_request"),
        })
    }
}

pub(super) fn b64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

pub(super) fn jid_list(v: &Value) -> Option<Vec<ParticipantJid>> {
    v.as_array()?
        .iter()
        .map(|p| ParticipantJid::normalise(p.as_str()?).ok())
        .collect()
}

/// A change from a body with our field names (`name_key`, `topic_key`).
pub(super) fn change_of(v: &Value, name_key: &str, topic_key: &str) -> Option<GroupChange> {
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

pub(super) fn epoch_of(created_at: &Option<String>) -> i64 {
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
        "isCommunityAnnounce": g.is_announcement_group.unwrap_or(false), "joinApprovalMode": g.join_approval, "memberAddMode": false,
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

pub(super) fn text(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Baileys' participant result, as Evolution and WAHA/NOWEB pass it on.
pub(super) fn baileys_entry(p: &EngineParticipant) -> Value {
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

pub(super) fn kind_of(segment: &str) -> Option<GroupKind> {
    match segment {
        "groups" => Some(GroupKind::Group),
        "communities" => Some(GroupKind::Community),
        _ => None,
    }
}
