//! What the engines share on the wire, and the one place that turns an
//! engine's request and reply into ours: each engine module (under
//! `engines/`) builds its [`Outgoing`] request and reads its [`Reply`]; the
//! reqwest adapter (`http.rs`) only carries them. Pure functions: no
//! sockets, so the mapping is fuzzed and benchmarked as it is.

use lambda_http::http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;

use super::adapters::{evolution, session_service, waha, wuts};
use super::groups::{Group, GroupChange, Join, Joined, NewCommunity, NewGroup};
use super::{
    EngineError, EngineKind, EngineParticipant, EngineTarget, GroupPage, ListPage,
    ParticipantsCall, listing,
};
use crate::jid::GroupJid;

/// How the engine's key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key as the value of this header (`apikey`, `X-Api-Key`).
    Header(&'static str),
}

/// One request to an engine, ready to send. The key itself is added by the
/// adapter, never held here.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: Method,
    pub url: String,
    pub auth: Auth,
    pub body: Option<serde_json::Value>,
}

/// An engine's complete answer.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    /// `Retry-After`, already in seconds.
    pub retry_after: Option<u64>,
    /// The `Content-Type` essence, lower-cased (`application/json`).
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the reply declares JSON (`application/json`, `*/*+json`).
    pub fn is_json(&self) -> bool {
        self.content_type.as_deref().is_some_and(|t| {
            t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
        })
    }
}

/// What a call whose success carries no content was (its reply is read per
/// engine: each engine's documented answer to that call, nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Leave,
    Ephemeral,
    /// One `PATCH` step; its (first) field.
    Update(&'static str),
    Picture,
    Link,
}

/// Which invite call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteCall {
    Get,
    Reset,
}

/// RFC 3986 unreserved characters stay as they are; everything else is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment or query value, percent-encoded.
pub fn enc(s: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(s, SEGMENT)
}

/// The participant update as `engine` sends it, or `NotSupported` (nothing
/// is sent).
pub fn participants_request(
    base: &str,
    target: &EngineTarget,
    call: &ParticipantsCall,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Ok(session_service::participants(base, target, call)),
        EngineKind::Wuts => Ok(wuts::participants(base, call)),
        EngineKind::Evolution => evolution::participants(base, target, call),
        EngineKind::Waha => waha::participants(base, target, call),
    }
}

/// The engine's reply to a participant update: one entry per participant
/// the engine accounted for (the rest are `unconfirmed` to our caller).
pub fn participants_reply(
    engine: EngineKind,
    call: &ParticipantsCall,
    reply: &Reply,
) -> Result<Vec<EngineParticipant>, EngineError> {
    match engine {
        EngineKind::SessionService => session_service::participants_reply(reply),
        EngineKind::Wuts => wuts::participants_reply(call, reply),
        EngineKind::Evolution => evolution::participants_reply(call, reply),
        EngineKind::Waha => waha::participants_reply(call, reply),
    }
}

pub fn invite_request(
    base: &str,
    target: &EngineTarget,
    group: &GroupJid,
    which: InviteCall,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Ok(session_service::invite(base, target, group, which)),
        EngineKind::Wuts => Ok(wuts::invite(base, group, which)),
        EngineKind::Evolution => Ok(evolution::invite(base, target, group, which)),
        EngineKind::Waha => Ok(waha::invite(base, target, group, which)),
    }
}

/// The invite link from the engine's reply, checked (see [`invite_link`]).
pub fn invite_reply(engine: EngineKind, reply: &Reply) -> Result<String, EngineError> {
    match engine {
        EngineKind::SessionService => session_service::invite_reply(reply),
        EngineKind::Wuts => wuts::invite_reply(reply),
        EngineKind::Evolution => evolution::invite_reply(reply),
        EngineKind::Waha => waha::invite_reply(reply),
    }
}

/// The account leaving the group, as `engine` sends it.
pub fn leave_request(
    base: &str,
    target: &EngineTarget,
    group: &GroupJid,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: "leave a group (the session-service contract has no such call)",
        }),
        EngineKind::Wuts => Ok(wuts::leave(base, group)),
        EngineKind::Evolution => Ok(evolution::leave(base, target, group)),
        EngineKind::Waha => Ok(waha::leave(base, target, group)),
    }
}

/// The disappearing-message timer, as `engine` sends it.
pub fn ephemeral_request(
    base: &str,
    target: &EngineTarget,
    group: &GroupJid,
    seconds: u32,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: "set the disappearing-message timer (the session-service contract has no such call)",
        }),
        EngineKind::Wuts => Ok(wuts::ephemeral(base, group, seconds)),
        EngineKind::Evolution => Ok(evolution::ephemeral(base, target, group, seconds)),
        EngineKind::Waha => Err(EngineError::NotSupported {
            operation: "set the disappearing-message timer (WAHA has no such route)",
        }),
    }
}

/// An engine's error reply in the canonical form.
pub fn error(engine: EngineKind, reply: &Reply) -> EngineError {
    match engine {
        EngineKind::SessionService => session_service::error(reply),
        EngineKind::Wuts => wuts::error(reply),
        EngineKind::Evolution => evolution::error(reply),
        EngineKind::Waha => waha::error(reply),
    }
}

/// The reply to a call whose success has no content (leave, ephemeral,
/// one property, a link): the engine's documented answer to that call, or
/// an `InvalidResponse` (a proxy's login page, an empty body where the
/// engine always answers JSON, a body saying it was not done).
pub fn done_reply(engine: EngineKind, call: Done, reply: &Reply) -> Result<(), EngineError> {
    if !reply.is_success() {
        return Err(error(engine, reply));
    }
    match engine {
        EngineKind::Wuts => wuts::done_reply(reply).map(|_| ()),
        EngineKind::Evolution => evolution::done_reply(call, reply),
        EngineKind::Waha => waha::done_reply(call, reply),
        EngineKind::SessionService => Err(error(engine, reply)),
    }
}

/// A 2xx body as a JSON object, or `InvalidResponse`.
pub fn json_object(
    reply: &Reply,
) -> Result<serde_json::Map<String, serde_json::Value>, EngineError> {
    match json::<serde_json::Value>(reply)? {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(EngineError::InvalidResponse(format!(
            "status {}: not a JSON object",
            reply.status
        ))),
    }
}

/// A 2xx body that must be an object whose `key` is `want`.
pub fn json_says(reply: &Reply, key: &str, want: &serde_json::Value) -> Result<(), EngineError> {
    let map = json_object(reply)?;
    if map.get(key) == Some(want) {
        Ok(())
    } else {
        Err(EngineError::InvalidResponse(format!(
            "status {}: the reply does not say {key}: {want}",
            reply.status
        )))
    }
}

const SESSION_SERVICE_HAS_NO_SUCH_CALL: &str =
    "do this (the session-service contract has no such call)";

pub fn create_group_request(
    base: &str,
    target: &EngineTarget,
    new: &NewGroup,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Wuts => Ok(wuts::create_group(base, new)),
        EngineKind::Evolution => evolution::create_group(base, target, new),
        EngineKind::Waha => waha::create_group(base, target, new),
    }
}

/// The group asked for (info); a `null` or empty answer is no such group.
pub fn group_reply(engine: EngineKind, reply: &Reply) -> Result<Group, EngineError> {
    match engine {
        EngineKind::Wuts => wuts::group_reply(reply, "group"),
        EngineKind::Evolution => evolution::group_reply(reply, false),
        EngineKind::Waha => waha::group_reply(reply, false),
        EngineKind::SessionService => Err(error(engine, reply)),
    }
}

/// The group a create made. A 2xx that does not carry it (empty, `null`,
/// not a group) is an unreadable answer to a call that may have created
/// one: outcome unknown, never "no such group" (which would release the
/// key, and a retry would create a second group).
pub fn created_reply(engine: EngineKind, reply: &Reply) -> Result<Group, EngineError> {
    match engine {
        EngineKind::Wuts => wuts::group_reply(reply, "group"),
        EngineKind::Evolution => evolution::group_reply(reply, true),
        EngineKind::Waha => waha::group_reply(reply, true),
        EngineKind::SessionService => Err(error(engine, reply)),
    }
}

pub fn create_community_request(
    base: &str,
    target: &EngineTarget,
    new: &NewCommunity,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::Wuts => Ok(wuts::create_community(base, new)),
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Evolution => Err(EngineError::NotSupported {
            operation: "create a community (Evolution API has no community routes)",
        }),
        EngineKind::Waha => Err(EngineError::NotSupported {
            operation: "create a community (WAHA has no community routes)",
        }),
    }
}

pub fn community_reply(engine: EngineKind, reply: &Reply) -> Result<Group, EngineError> {
    match engine {
        EngineKind::Wuts => wuts::group_reply(reply, "community"),
        _ => Err(error(engine, reply)),
    }
}

pub fn list_request(base: &str, target: &EngineTarget) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Wuts => Ok(wuts::list(base)),
        EngineKind::Evolution => Ok(evolution::list(base, target)),
        EngineKind::Waha => Ok(waha::list(base, target)),
    }
}

/// One page of the engine's group list, read typed and streaming
/// ([`super::listing`]): only the page is kept in memory.
pub fn list_reply(
    engine: EngineKind,
    reply: &Reply,
    page: &ListPage,
) -> Result<GroupPage, EngineError> {
    if !reply.is_success() {
        return Err(error(engine, reply));
    }
    let shape = match engine {
        EngineKind::Wuts => listing::Shape::Wuts,
        EngineKind::Evolution => listing::Shape::Evolution,
        EngineKind::Waha => listing::Shape::Waha,
        EngineKind::SessionService => return Err(error(engine, reply)),
    };
    listing::read(&reply.body, shape, page)
}

pub fn info_request(
    base: &str,
    target: &EngineTarget,
    group: &GroupJid,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Wuts => Ok(wuts::info(base, group)),
        EngineKind::Evolution => Ok(evolution::info(base, target, group)),
        EngineKind::Waha => Ok(waha::info(base, target, group)),
    }
}

/// The calls `engine` needs for `change`, in order; `NotSupported` (nothing
/// sent) if any part cannot be done.
pub fn update_steps(
    engine: EngineKind,
    change: &GroupChange,
) -> Result<Vec<GroupChange>, EngineError> {
    match engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Wuts => Ok(vec![change.clone()]),
        EngineKind::Evolution => evolution::update_steps(change),
        EngineKind::Waha => waha::update_steps(change),
    }
}

pub fn update_request(
    base: &str,
    target: &EngineTarget,
    group: &GroupJid,
    step: &GroupChange,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Wuts => Ok(wuts::update(base, group, step)),
        EngineKind::Evolution => Ok(evolution::update(base, target, group, step)),
        EngineKind::Waha => Ok(waha::update(base, target, group, step)),
    }
}

/// One update call's reply: the refreshed group where the engine sends it.
pub fn update_reply(
    engine: EngineKind,
    step: &GroupChange,
    reply: &Reply,
) -> Result<Option<Group>, EngineError> {
    match engine {
        EngineKind::Wuts => wuts::update_reply(reply),
        EngineKind::Evolution => evolution::update_reply(step, reply).map(|()| None),
        _ => done_reply(engine, Done::Update(step.first_field()), reply).map(|()| None),
    }
}

pub fn join_request(
    base: &str,
    target: &EngineTarget,
    join: &Join,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Wuts => Ok(wuts::join(base, join)),
        EngineKind::Evolution => evolution::join(base, target, join),
        EngineKind::Waha => waha::join(base, target, join),
    }
}

pub fn join_reply(engine: EngineKind, reply: &Reply) -> Result<Joined, EngineError> {
    match engine {
        EngineKind::Wuts => wuts::join_reply(reply),
        EngineKind::Evolution => evolution::join_reply(reply),
        EngineKind::Waha => waha::join_reply(reply),
        EngineKind::SessionService => Err(error(engine, reply)),
    }
}

pub fn picture_request(
    base: &str,
    target: &EngineTarget,
    group: &GroupJid,
    base64: &str,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Wuts => Ok(wuts::picture(base, group, base64)),
        EngineKind::Evolution => Ok(evolution::picture(base, target, group, base64)),
        EngineKind::Waha => Ok(waha::picture(base, target, group, base64)),
    }
}

pub fn picture_reply(engine: EngineKind, reply: &Reply) -> Result<Option<String>, EngineError> {
    match engine {
        EngineKind::Wuts => wuts::picture_reply(reply),
        _ => done_reply(engine, Done::Picture, reply).map(|()| None),
    }
}

pub fn link_request(
    base: &str,
    target: &EngineTarget,
    community: &GroupJid,
    group: &GroupJid,
    link: bool,
) -> Result<Outgoing, EngineError> {
    match target.engine {
        EngineKind::Wuts => Ok(wuts::link(base, community, group, link)),
        EngineKind::SessionService => Err(EngineError::NotSupported {
            operation: SESSION_SERVICE_HAS_NO_SUCH_CALL,
        }),
        EngineKind::Evolution => Err(EngineError::NotSupported {
            operation: "link groups to a community (Evolution API has no community routes)",
        }),
        EngineKind::Waha => Err(EngineError::NotSupported {
            operation: "link groups to a community (WAHA has no community routes)",
        }),
    }
}

const LINK_PREFIX: &str = "https://chat.whatsapp.com/";

/// An invite link from what an engine gave: a whole link on
/// `chat.whatsapp.com`, or the code alone. Either way the code must be 10
/// to 40 characters of letters, digits, `-` or `_`; anything else (another
/// host, `http`, a `/`, `?` or `#` in the code) is a 502, never a link we
/// pass on.
pub fn invite_link(link_or_code: &str) -> Result<String, EngineError> {
    let code = link_or_code
        .strip_prefix(LINK_PREFIX)
        .unwrap_or(link_or_code);
    let ok = (10..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(format!("{LINK_PREFIX}{code}"))
    } else {
        Err(EngineError::InvalidResponse(
            "the invite link is not a chat.whatsapp.com link or code".into(),
        ))
    }
}

/// An add request's expiry as engines write it: epoch seconds (a number or
/// a numeric string, Baileys) or an RFC 3339 time (whatsmeow). Checked:
/// never a panic, whatever the number or the date.
pub fn expiration(e: &serde_json::Value) -> Option<i64> {
    match e {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok().or_else(|| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|t| t.unix_timestamp())
        }),
        _ => None,
    }
}

/// A 2xx reply's body as `T`; anything else is `InvalidResponse`.
pub fn json<T: DeserializeOwned>(reply: &Reply) -> Result<T, EngineError> {
    serde_json::from_slice(&reply.body)
        .map_err(|e| EngineError::InvalidResponse(format!("status {}: {e}", reply.status)))
}

/// The canonical form every engine's error is put in: the session-service
/// status and code (`upstream-wuts.md`), which `From<EngineError> for
/// ApiError` maps to our table. A refusal is an answer that proves nothing
/// was done (the key is released).
pub fn refusal(status: u16, code: &str, reply: &Reply) -> EngineError {
    EngineError::Status {
        status,
        code: Some(code.to_string()),
        retry_after: reply.retry_after,
        settled: true,
    }
}

/// The same canonical status and code for an answer that does not prove
/// the request left no effect (Baileys' "Connection Closed", raised before
/// and after a request leaves): the outcome is unknown.
pub fn ambiguous(status: u16, code: &str, reply: &Reply) -> EngineError {
    EngineError::Status {
        status,
        code: Some(code.to_string()),
        retry_after: reply.retry_after,
        settled: false,
    }
}

/// An error status passed on as it is, with the code the body names if
/// any: not one the engine documents, so its outcome is unknown.
pub fn status_as_is(reply: &Reply, code: Option<String>) -> EngineError {
    EngineError::Status {
        status: reply.status,
        code,
        retry_after: reply.retry_after,
        settled: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_links_and_codes() {
        let code = "AbCdEfGhIjKlMnOpQrStUv";
        let link = format!("https://chat.whatsapp.com/{code}");
        assert_eq!(invite_link(code).unwrap(), link);
        assert_eq!(invite_link(&link).unwrap(), link);
        for bad in [
            "",
            "short",
            "http://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv",
            "https://evil.example/AbCdEfGhIjKlMnOpQrStUv",
            "https://chat.whatsapp.com/AbCdEfGhIj/../x",
            "AbCdEfGhIjKl?x=1",
            "AbCdEfGhIjKl#frag",
            "AbCdEfGhIjKl/KlMn",
            &"A".repeat(41),
        ] {
            assert!(invite_link(bad).is_err(), "{bad:?}");
        }
    }
}
