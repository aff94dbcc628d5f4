//! A stateful WUTS fake speaking the contract over real HTTP on loopback.
//! State and WhatsApp behaviour come from `shared::wuts::sim::Simulator`;
//! this layer adds the wire format, the API-key check, a record of every call
//! and scripted faults (statuses, garbage, slow answers).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use shared::jid::{GroupJid, ParticipantJid};
use shared::wuts::sim::Simulator;
use shared::wuts::{Action, GroupKind, ParticipantsCall, WutsError};

pub const SESSION_ID: &str = "sess-acme-1";
pub const API_KEY: &str = "wuts-key-acme-very-secret";

#[derive(Debug, Clone)]
pub struct RecordedCall {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

/// A scripted answer for the next call, in place of the simulator's.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Status with an optional JSON error code and `Retry-After`.
    Status {
        status: u16,
        code: Option<&'static str>,
        retry_after: Option<&'static str>,
    },
    /// 200 with this exact body.
    Raw200(String),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer the headers at once, then stall the body this long.
    SlowBody(Duration),
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<RecordedCall>>,
    faults: Mutex<VecDeque<Fault>>,
}

pub struct WutsFake {
    pub addr: SocketAddr,
    pub sim: Arc<Simulator>,
    shared: Arc<Shared>,
}

impl WutsFake {
    /// Starts the fake on 127.0.0.1 with the simulator's demo data.
    pub async fn start() -> Self {
        Self::start_with(Simulator::demo()).await
    }

    pub async fn start_with(sim: Simulator) -> Self {
        let sim = Arc::new(sim);
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(handle)
            .with_state((sim.clone(), shared.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, sim, shared }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.calls.lock().unwrap().clone()
    }

    pub fn push_fault(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }
}

type AppState = (Arc<Simulator>, Arc<Shared>);

fn error(status: u16, code: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        axum::Json(json!({"error": code.replace('_', " "), "code": code})),
    )
        .into_response()
}

fn from_wuts_error(err: WutsError) -> Response {
    match err {
        WutsError::Status { status, code, .. } => error(status, code.as_deref().unwrap_or("error")),
        other => error(500, &other.to_string()),
    }
}

async fn handle(State((sim, shared)): State<AppState>, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let body = to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    shared.calls.lock().unwrap().push(RecordedCall {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });

    let fault = shared.faults.lock().unwrap().pop_front();
    match fault {
        Some(Fault::Status {
            status,
            code,
            retry_after,
        }) => {
            let mut resp = match code {
                Some(code) => error(status, code),
                None => StatusCode::from_u16(status).unwrap().into_response(),
            };
            if let Some(ra) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", ra.parse().unwrap());
            }
            return resp;
        }
        Some(Fault::Raw200(text)) => {
            return (StatusCode::OK, [("content-type", "application/json")], text).into_response();
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::SlowBody(d)) => {
            let stream = futures_util::stream::once(async move {
                tokio::time::sleep(d).await;
                Ok::<_, std::io::Error>("{\"invite_link\":\"https://chat.whatsapp.com/late\"}")
            });
            return (StatusCode::OK, Body::from_stream(stream)).into_response();
        }
        None => {}
    }

    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {API_KEY}"))
    {
        return error(401, "unauthorized");
    }

    let segments: Vec<String> = path
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ["", "v1", "sessions", session, rest @ ..] = segs.as_slice() else {
        return error(404, "not_found");
    };
    if *session != SESSION_ID {
        return error(404, "session_not_found");
    }
    match (method.as_str(), rest) {
        ("POST", [kind, jid, "participants"]) => {
            let kind = match *kind {
                "groups" => GroupKind::Group,
                "communities" => GroupKind::Community,
                _ => return error(404, "not_found"),
            };
            participants(&sim, kind, jid, &body)
        }
        ("POST", ["groups", jid, "invite", "reset"]) => invite(jid, |g| sim.reset(g)),
        ("GET", ["groups", jid, "invite"]) => invite(jid, |g| sim.current_invite(g)),
        _ => error(404, "not_found"),
    }
}

/// The invite calls: `{"invite_link": ...}` or the simulator's refusal.
fn invite(jid: &str, call: impl FnOnce(&GroupJid) -> Result<String, WutsError>) -> Response {
    let Ok(group) = GroupJid::parse(jid) else {
        return error(400, "bad_request");
    };
    match call(&group) {
        Ok(link) => axum::Json(json!({ "invite_link": link })).into_response(),
        Err(e) => from_wuts_error(e),
    }
}

fn participants(sim: &Simulator, kind: GroupKind, jid: &str, body: &str) -> Response {
    let Ok(group) = GroupJid::parse(jid) else {
        return error(400, "bad_request");
    };
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return error(400, "bad_request");
    };
    let action = value["action"].as_str().and_then(Action::parse);
    let list: Option<Vec<ParticipantJid>> = value["participants"].as_array().and_then(|a| {
        a.iter()
            .map(|p| p.as_str().and_then(|s| ParticipantJid::normalise(s).ok()))
            .collect()
    });
    let (Some(action), Some(participants)) = (action, list) else {
        return error(400, "bad_request");
    };
    let call = ParticipantsCall {
        kind,
        group,
        action,
        participants,
    };
    match sim.apply(&call) {
        Ok(reply) => axum::Json(json!({ "participants": reply })).into_response(),
        Err(e) => from_wuts_error(e),
    }
}
