//! What the two invite-link operations share: a path JID, no body, one
//! engine call, and the `{success, group_jid, invite_link}` answer.

use lambda_http::Request;
use serde::Serialize;
use serde_json::Value;

use super::{body_bytes, ok, path_jid};
use crate::context::RequestCtx;
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::{Executed, Subject};
use crate::routes::Params;

/// Validates the path and the (absent) body.
pub fn prepare(params: &Params<'_>, req: &Request) -> Result<GroupJid, ApiError> {
    let group = path_jid(params.get("jid"))?;
    check_no_body(body_bytes(req)?)?;
    Ok(group)
}

pub fn subject<'a>(group: &'a GroupJid, action: &'static str) -> Subject<'a> {
    Subject {
        action,
        group: Some(group),
        participants: &[],
    }
}

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    group_jid: &'a str,
    invite_link: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reset_at: Option<String>,
}

/// The answer for `group`'s link; `reset_at` only for a reset.
pub fn answer(
    ctx: &RequestCtx,
    group: &GroupJid,
    invite_link: &str,
    reset_at: Option<String>,
) -> Result<Executed, ApiError> {
    let reply = Reply {
        success: true,
        group_jid: group.as_str(),
        invite_link,
        reset_at,
    };
    Ok(Executed::plain(ok(ctx, &reply)?))
}

/// The endpoint takes no body: empty, or `{}`, is accepted.
pub fn check_no_body(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(o)) if o.is_empty() => Ok(()),
        _ => Err(ApiError::validation(
            "this endpoint takes no body",
            vec![FieldError::new("body", "must be empty or {}")],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        for ok in ["", "  \n", "{}", " { } "] {
            assert!(check_no_body(ok.as_bytes()).is_ok(), "{ok:?}");
        }
        for bad in ["{\"a\":1}", "[]", "null", "x", "{"] {
            assert!(check_no_body(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
