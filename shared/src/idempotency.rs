//! `Idempotency-Key` on mutating endpoints: the first request with a key claims
//! it (tenant-scoped) and stores its final answer for 24 h; a repeat of the same
//! request replays that answer without calling WUTS; the same key on a different
//! request is refused (422), and so is one while the first is in progress (409).
//!
//! What is stored follows how far the engine call got (`engine::Reach`):
//! every answer once the engine may have acted (a success; a timeout, a
//! dropped connection, an answer we cannot read or a 5xx, whose envelopes say
//! `"outcome": "unknown"`). Such a request is never sent again under its key.
//! Every other answer (refused before the engine, or by it) releases the key,
//! so a retry under it runs.
//!
//! Bodies are stored as they are up to [`MAX_STORED_BODY`], else deflated,
//! else compacted (see [`stored_body`]): a completed request is always
//! replayable.

use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::config::IDEMPOTENCY_RETENTION_SECS;
use crate::context::RequestCtx;
use crate::engine::Engine;
use crate::error::{ApiError, FieldError};
use crate::routes::Route;
use crate::state::AppState;
use crate::store::{Claim, IdempotencyRecord, IdempotencyState, Store, StoredAnswer, StoredBody};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// The headers that are part of what an answer says, and so are stored and
/// replayed with it (a replay is the first answer verbatim). Every other
/// header is the transport's or names the request (`x-request-id`).
pub const KEPT_HEADERS: &[&str] = &["x-partial-update", "location"];
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

/// A request's identity for key reuse: the route and its validated,
/// normalised command, serialised (JSON, fields in declaration order; no
/// maps, so the form is canonical), not the raw bytes. `…%40g.us` and
/// `…@g.us`, `{}` and no body, `+55 11 88888-8888` and
/// `5511888888888@s.whatsapp.net` are the same request. Derived from the
/// command's type: a field added to a command is in its fingerprint.
pub fn fingerprint<C: serde::Serialize + ?Sized>(route: &Route, command: &C) -> String {
    let mut hash = Sha256::new();
    for part in [route.method, route.path] {
        hash.update(part.as_bytes());
        hash.update(b"\n");
    }
    // A command is plain data (strings, numbers, options): serialising it
    // cannot fail; if it ever did, the hash would still differ from any
    // successful form.
    match serde_json::to_vec(command) {
        Ok(bytes) => hash.update(&bytes),
        Err(e) => hash.update(e.to_string().as_bytes()),
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

pub(crate) async fn claim<E: Engine + ?Sized, S: Store + ?Sized>(
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
            IdempotencyState::Completed(answer) => {
                Ok(Outcome::Replay(replay(answer, &ctx.request_id)?))
            }
        },
    }
}

fn replay(answer: StoredAnswer, request_id: &str) -> Result<Response<Body>, ApiError> {
    let body = match answer.body {
        StoredBody::Text(text) => text,
        StoredBody::Deflated(bytes) => {
            inflate(&bytes).ok_or_else(|| ApiError::internal("a stored answer does not inflate"))?
        }
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = crate::http::text_json_response(status, body, request_id);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        // Only a header this build keeps, with a value it can send.
        let Some(name) = KEPT_HEADERS.iter().find(|kept| **kept == name) else {
            continue;
        };
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(*name, value);
        }
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    Ok(response)
}

/// The [`KEPT_HEADERS`] an answer carries, as text.
fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some(((*name).to_string(), value.to_string()))
        })
        .collect()
}

fn body_text(response: &Response<Body>) -> String {
    match response.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// The most of an answer's body an idempotency item holds: DynamoDB's 400 KB
/// item, less room for the key (tenant and up to 255 characters), the
/// fingerprint, the owner and the attribute names.
pub const MAX_STORED_BODY: usize = 384 * 1024;
/// Strings longer than this are what a compacted answer drops.
const COMPACT_STRING_CHARS: usize = 256;

/// An answer's body as it will be stored, always under [`MAX_STORED_BODY`]:
/// 1. the text as it is, when it fits;
/// 2. else the text deflated, when that fits (replayed byte for byte);
/// 3. else the JSON with every string over 256 characters (what an engine
///    put in a field, never ours) set to `null`, and
///    `"stored_answer": "compacted"` added;
/// 4. else `success`, `request_id`, `error_code` and
///    `"stored_answer": "omitted"`.
pub fn stored_body(text: String) -> StoredBody {
    if text.len() <= MAX_STORED_BODY {
        return StoredBody::Text(text);
    }
    if let Some(deflated) = deflate(text.as_bytes())
        && deflated.len() <= MAX_STORED_BODY
    {
        return StoredBody::Deflated(deflated);
    }
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut compacted = value.clone();
    drop_long_strings(&mut compacted);
    if let serde_json::Value::Object(map) = &mut compacted {
        map.insert("stored_answer".into(), "compacted".into());
    }
    let compacted = compacted.to_string();
    if compacted.len() <= MAX_STORED_BODY {
        return StoredBody::Text(compacted);
    }
    let keep = |name: &str| value.get(name).cloned().unwrap_or_default();
    StoredBody::Text(
        serde_json::json!({
            "success": keep("success"),
            "request_id": keep("request_id"),
            "error_code": keep("error_code"),
            "stored_answer": "omitted",
        })
        .to_string(),
    )
}

fn drop_long_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) if s.chars().count() > COMPACT_STRING_CHARS => {
            *value = serde_json::Value::Null;
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_long_strings),
        serde_json::Value::Object(map) => map.values_mut().for_each(drop_long_strings),
        _ => {}
    }
}

fn deflate(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

fn inflate(bytes: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(bytes)
        .take(8 << 20)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

impl Held {
    /// Stores the answer (or, for an error, releases the key) by the
    /// request's deadline, and hands the answer on. `Ok` is every answer
    /// that is kept: a success, or a failure after the engine may have
    /// acted (already rendered as such by the pipeline).
    pub(crate) async fn finish<E: Engine + ?Sized, S: Store + ?Sized>(
        self,
        state: &AppState<E, S>,
        ctx: &RequestCtx,
        answer: Result<Response<Body>, ApiError>,
    ) -> Result<Response<Body>, ApiError> {
        let response = match answer {
            Ok(response) => response,
            Err(err) => {
                let release = state.store.release(&self.id, &self.owner);
                by_deadline(ctx, release, "releasing the idempotency key").await;
                return Err(err);
            }
        };
        let expires_at = crate::clock::now_epoch() + IDEMPOTENCY_RETENTION_SECS;
        let answer = StoredAnswer {
            status: response.status().as_u16(),
            body: stored_body(body_text(&response)),
            headers: kept_headers(response.headers()),
        };
        let store = state
            .store
            .complete(&self.id, &self.owner, &answer, expires_at);
        by_deadline(ctx, store, "storing the idempotent answer").await;
        Ok(response)
    }
}

/// Runs one store step by the request's deadline; a failure is logged (the
/// answer goes out regardless: the key expires, or the retry finds it held).
async fn by_deadline(
    ctx: &RequestCtx,
    step: impl Future<Output = Result<(), crate::store::StoreError>>,
    what: &str,
) {
    match tokio::time::timeout_at(ctx.deadline, step).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(request_id = %ctx.request_id, error = %e, "{what} failed");
        }
        Err(_) => {
            tracing::error!(request_id = %ctx.request_id, "{what} timed out");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jid::GroupJid;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HEADER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn stored_bodies_always_fit() {
        let small = r#"{"success":true}"#.to_string();
        assert_eq!(stored_body(small.clone()), StoredBody::Text(small));

        let repetitive = serde_json::json!({"success": true, "x": "A".repeat(1 << 20)}).to_string();
        let StoredBody::Deflated(bytes) = stored_body(repetitive.clone()) else {
            panic!("a compressible body is deflated");
        };
        assert!(bytes.len() <= MAX_STORED_BODY);
        assert_eq!(inflate(&bytes).unwrap(), repetitive);

        // Incompressible: the long strings go, the rest stays.
        let mut x = 1u64;
        let mut noise = |len: usize| -> String {
            (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    char::from(b'!' + ((x >> 33) % 90) as u8)
                })
                .collect()
        };
        let entries: Vec<_> = (0..50)
            .map(|i| serde_json::json!({"jid": format!("{i}@lid"), "code": noise(20_000)}))
            .collect();
        let big = serde_json::json!({"success": true, "request_id": "r1", "participants": entries});
        let StoredBody::Text(text) = stored_body(big.to_string()) else {
            panic!("noise does not deflate enough");
        };
        assert!(text.len() <= MAX_STORED_BODY);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["stored_answer"], "compacted");
        assert_eq!(v["request_id"], "r1");
        assert_eq!(v["participants"][49]["jid"], "49@lid");
        assert_eq!(v["participants"][49]["code"], serde_json::Value::Null);

        // Too many short strings to compact: the bare minimum.
        let many: Vec<String> = (0..6_000).map(|_| noise(100)).collect();
        let huge = serde_json::json!({"success": false, "request_id": "r2", "error_code": "X", "many": many});
        let StoredBody::Text(text) = stored_body(huge.to_string()) else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"success": false, "request_id": "r2", "error_code": "X", "stored_answer": "omitted"})
        );
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

    /// The fingerprint is the typed command's: every field counts (a name,
    /// an option), an image counts by its digest, and the route tells two
    /// operations on the same command apart.
    #[test]
    fn fingerprints_come_from_the_command() {
        use crate::Operation;
        use crate::engine::groups::NewGroup;
        use crate::operations::set_group_picture::PictureCommand;
        use crate::operations::{CreateGroup, SetGroupPicture};
        let group = |name: &str, announcement: bool| {
            let mut new = NewGroup {
                name: name.into(),
                participants: vec![
                    crate::jid::ParticipantJid::normalise("+55 11 88888-8888").unwrap(),
                ],
                options: Default::default(),
            };
            new.options.announcement = announcement;
            fingerprint(&CreateGroup::ROUTE, &new)
        };
        assert_eq!(group("Team", false), group("Team", false));
        assert_ne!(group("Team", false), group("Team 2", false));
        assert_ne!(group("Team", false), group("Team", true));
        let picture = |jpeg: &[u8], digest: &str| {
            let command = PictureCommand {
                group: GroupJid::parse("120363039000000000@g.us").unwrap(),
                jpeg: jpeg.to_vec(),
                digest: digest.into(),
            };
            fingerprint(&SetGroupPicture::ROUTE, &command)
        };
        assert_eq!(
            picture(b"a", "d1"),
            picture(b"b", "d1"),
            "the bytes stand by their digest"
        );
        assert_ne!(picture(b"a", "d1"), picture(b"a", "d2"));
        let jid = GroupJid::parse("120363039000000000@g.us").unwrap();
        assert_ne!(
            fingerprint(&CreateGroup::ROUTE, &jid),
            fingerprint(&SetGroupPicture::ROUTE, &jid)
        );
    }
}
