//! A stateful WUTS fake speaking the contract over real HTTP on loopback.
//! State and WhatsApp behaviour come from `crate::sim::Simulator`;
//! this layer adds the wire format, the API-key check, a record of every call
//! and scripted faults (statuses, garbage, slow answers).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sim::Simulator;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use shared::engine::{Action, EngineError, EngineKind, GroupKind, UpdateParticipants};
use shared::jid::{GroupJid, ParticipantJid};

pub use crate::fakes::Flavour;
use crate::fakes::{Canonical, Request as EngineRequest};

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
    /// An error in session-service terms (status and code,
    /// `upstream-wuts.md`), rendered as the fake's engine renders that
    /// error; no code: the engine's bare status.
    Status {
        status: u16,
        code: Option<&'static str>,
        retry_after: Option<&'static str>,
    },
    /// 200 with this exact body.
    Raw200(String),
    /// This status, content type and exact body (a proxy's login page, an
    /// empty 2xx, a huge reply).
    Raw {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer the headers at once, then stall the (normal) body this long.
    SlowBody(Duration),
    /// Answer normally (a fault for a later call).
    Pass,
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<RecordedCall>>,
    faults: Mutex<VecDeque<Fault>>,
}

pub struct WutsFake {
    pub addr: SocketAddr,
    pub sim: Arc<Simulator>,
    pub engine: EngineKind,
    shared: Arc<Shared>,
}

impl WutsFake {
    /// Starts a session-service fake on 127.0.0.1 with the simulator's demo data.
    pub async fn start() -> Self {
        Self::start_with(Simulator::demo()).await
    }

    pub async fn start_with(sim: Simulator) -> Self {
        Self::start_engine_with(Flavour::SessionService, sim).await
    }

    /// A fake of `flavour`'s engine, with the demo data.
    pub async fn start_engine(flavour: Flavour) -> Self {
        Self::start_engine_with(flavour, Simulator::demo()).await
    }

    pub async fn start_engine_with(flavour: Flavour, sim: Simulator) -> Self {
        let sim = Arc::new(sim);
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(handle)
            .with_state((sim.clone(), shared.clone(), flavour));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            sim,
            engine: flavour.engine(),
            shared,
        }
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

type AppState = (Arc<Simulator>, Arc<Shared>, Flavour);

async fn handle(State((sim, shared, flavour)): State<AppState>, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let body = to_bytes(req.into_body(), 4 << 20).await.unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    shared.calls.lock().unwrap().push(RecordedCall {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });

    let fault = shared.faults.lock().unwrap().pop_front();
    let mut stall = None;
    match fault {
        Some(Fault::Status {
            status,
            code,
            retry_after,
        }) => {
            let mut resp = flavour.error(&Canonical { status, code });
            if let Some(ra) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", ra.parse().unwrap());
            }
            return resp;
        }
        Some(Fault::Raw200(text)) => {
            return (StatusCode::OK, [("content-type", "application/json")], text).into_response();
        }
        Some(Fault::Raw {
            status,
            content_type,
            body,
        }) => {
            return (
                StatusCode::from_u16(status).unwrap(),
                [("content-type", content_type)],
                body,
            )
                .into_response();
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::SlowBody(d)) => stall = Some(d),
        Some(Fault::Pass) | None => {}
    }

    let request = EngineRequest {
        method: &method,
        path: &path,
        query: &query,
        headers: &headers,
        body: &body,
    };
    let resp = flavour.handle(&sim, &request);
    match stall {
        None => resp,
        Some(d) => {
            let (parts, body) = resp.into_parts();
            let bytes = to_bytes(body, 1 << 21).await.unwrap_or_default();
            let stream = futures_util::stream::once(async move {
                tokio::time::sleep(d).await;
                Ok::<_, std::io::Error>(bytes)
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
    }
}

/// The path's segments, percent-decoded.
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// A participants body's action (or `default`) and participants, as the
/// session-service and WUTS fakes read it.
pub fn read_participants(
    body: &str,
    default: Option<Action>,
) -> Option<(Action, Vec<ParticipantJid>)> {
    let value = serde_json::from_str::<Value>(body).ok()?;
    let action = match value.get("action") {
        None => default?,
        Some(a) => Action::parse(a.as_str()?)?,
    };
    let list: Vec<ParticipantJid> = value["participants"]
        .as_array()?
        .iter()
        .map(|p| p.as_str().and_then(|s| ParticipantJid::normalise(s).ok()))
        .collect::<Option<_>>()?;
    Some((action, list))
}

/// Runs one participant update on the simulator.
pub fn apply(
    sim: &Simulator,
    kind: GroupKind,
    jid: &str,
    action: Action,
    participants: Vec<ParticipantJid>,
) -> Result<Vec<shared::engine::EngineParticipant>, EngineError> {
    let group = group_of(jid)?;
    sim.apply(&UpdateParticipants {
        kind,
        group,
        action,
        participants,
        invite_on_privacy: false,
    })
}

/// The group an invite call names, or a 400.
pub fn group_of(jid: &str) -> Result<GroupJid, EngineError> {
    GroupJid::parse(jid).map_err(|_| EngineError::Status {
        settled: true,
        status: 400,
        code: Some("bad_request".into()),
        retry_after: None,
    })
}

pub fn json_response(status: u16, value: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(value)).into_response()
}
