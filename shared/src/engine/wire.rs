//! What the engines share on the wire: a request ready to send
//! ([`Outgoing`]), an engine's complete answer ([`Reply`]), and the readers
//! and canonical errors every adapter builds on. Pure functions: no
//! sockets, so the mapping is fuzzed and benchmarked as it is.

use lambda_http::http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;

use super::EngineError;

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
