//! `Idempotency-Key` on mutating endpoints: the first request with a key claims
//! it (tenant-scoped) and stores its final answer for 24 h; a repeat of the same
//! request replays that answer without calling WUTS; the same key on a different
//! request is refused (422), and so is one while the first is in progress (409).
//!
//! What is stored: successes, and `UPSTREAM_TIMEOUT` (the call may have reached
//! WUTS, so a blind re-send could, say, reset an invite link twice). Every other
//! error changed nothing upstream: the key is released and may be retried.

use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::config::IDEMPOTENCY_RETENTION_SECS;
use crate::context::RequestCtx;
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, Subject};
use crate::routes::Route;
use crate::state::AppState;
use crate::store::{Claim, IdempotencyRecord, IdempotencyState, Store};
use crate::wuts::WutsClient;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
const MAX_KEY_LEN: usize = 255;

/// A syntactically valid key: 1 to 255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let mut values = headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        let invalid = |message: &str| {
            ApiError::validation(
                "invalid Idempotency-Key header",
                vec![FieldError::new("Idempotency-Key", message)],
            )
        };
        if values.next().is_some() {
            return Err(invalid("send the header once"));
        }
        let key = value
            .to_str()
            .map_err(|_| invalid("must be printable ASCII"))?;
        let ok = !key.trim().is_empty()
            && key.len() <= MAX_KEY_LEN
            && key.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if ok {
            Ok(Some(Self(key.to_string())))
        } else {
            Err(invalid("must be 1 to 255 printable ASCII characters"))
        }
    }
}

/// A request's identity for key reuse: the operation and its validated,
/// normalised command (path parameters and body after normalisation), not the
/// raw bytes. `…%40g.us` and `…@g.us`, `{}` and no body, `+55 11 88888-8888`
/// and `5511888888888@s.whatsapp.net` are the same request.
pub fn fingerprint(route: &Route, subject: Subject<'_>) -> String {
    let mut hash = Sha256::new();
    for part in [
        route.method,
        route.path,
        subject.action,
        subject.group.as_str(),
    ] {
        hash.update(part.as_bytes());
        hash.update(b"\n");
    }
    for participant in subject.participants {
        hash.update(participant.as_str().as_bytes());
        hash.update(b",");
    }
    hex::encode(hash.finalize())
}

pub(crate) enum Outcome {
    Claimed(Held),
    Replay(Response<Body>),
}

/// A key this request holds until it finishes.
pub(crate) struct Held {
    id: String,
    owner: String,
}

pub(crate) async fn claim<E: WutsClient + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    ctx: &RequestCtx,
    principal: &Principal,
    key: Key,
    fingerprint: String,
) -> Result<Outcome, ApiError> {
    let now = crate::clock::now_epoch();
    let lease = i64::try_from(state.settings.idempotency_lease_secs).unwrap_or(60);
    let record = IdempotencyRecord {
        id: format!("{}#{}", principal.tenant_id(), key.0),
        fingerprint,
        owner: uuid::Uuid::new_v4().to_string(),
        state: IdempotencyState::InProgress {
            lease_until: now + lease,
        },
        expires_at: now + IDEMPOTENCY_RETENTION_SECS,
    };
    match state.store.claim(&record, now).await? {
        Claim::Claimed => Ok(Outcome::Claimed(Held {
            id: record.id,
            owner: record.owner,
        })),
        Claim::Existing(existing) if existing.fingerprint != record.fingerprint => {
            Err(ApiError::IdempotencyKeyReused)
        }
        Claim::Existing(existing) => match existing.state {
            IdempotencyState::InProgress { .. } => Err(ApiError::IdempotencyInProgress),
            IdempotencyState::Completed { status, body } => {
                Ok(Outcome::Replay(replay(status, body, &ctx.request_id)))
            }
        },
    }
}

fn replay(status: u16, body: String, request_id: &str) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = crate::http::text_json_response(status, body, request_id);
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

fn body_text(response: &Response<Body>) -> String {
    match response.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

impl Held {
    /// Stores the final answer (or releases the key) and hands the answer on.
    pub(crate) async fn finish<E: WutsClient + ?Sized, S: Store + ?Sized>(
        self,
        state: &AppState<E, S>,
        ctx: &RequestCtx,
        result: Result<Executed, ApiError>,
    ) -> Result<Response<Body>, ApiError> {
        let expires_at = crate::clock::now_epoch() + IDEMPOTENCY_RETENTION_SECS;
        let response = match result {
            Ok(executed) => executed.response,
            Err(err @ ApiError::UpstreamTimeout) => {
                tracing::error!(request_id = %ctx.request_id, error = %err, "request failed");
                err.to_response(&ctx.request_id)
            }
            Err(err) => {
                if let Err(e) = state.store.release(&self.id, &self.owner).await {
                    tracing::warn!(request_id = %ctx.request_id, error = %e, "could not release the idempotency key");
                }
                return Err(err);
            }
        };
        let stored = state
            .store
            .complete(
                &self.id,
                &self.owner,
                response.status().as_u16(),
                &body_text(&response),
                expires_at,
            )
            .await;
        if let Err(e) = stored {
            tracing::warn!(request_id = %ctx.request_id, error = %e, "could not store the idempotent response");
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HEADER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn keys() {
        assert_eq!(Key::from_headers(&HeaderMap::new()).unwrap(), None);
        assert!(
            Key::from_headers(&headers(&["order-42 retry"]))
                .unwrap()
                .is_some()
        );
        assert!(
            Key::from_headers(&headers(&[&"k".repeat(255)]))
                .unwrap()
                .is_some()
        );
        for bad in ["", "   ", &"k".repeat(256), "tab\there"] {
            assert!(Key::from_headers(&headers(&[bad])).is_err(), "{bad:?}");
        }
        assert!(Key::from_headers(&headers(&["a", "b"])).is_err());
    }
}
