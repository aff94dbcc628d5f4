//! The original `session-service` contract: participants and invites.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::*;

pub(super) fn handle(f: Flavour, sim: &Simulator, req: &Request<'_>) -> Response {
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

/// An error in session-service terms, as this engine renders it.
pub(super) fn error(err: &Canonical<'_>) -> Response {
    match err.code {
        Some(code) => json_response(
            err.status,
            json!({"error": code.replace('_', " "), "code": code}),
        ),
        None => StatusCode::from_u16(err.status).unwrap().into_response(),
    }
}
