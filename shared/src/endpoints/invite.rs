//! `POST /groups/{jid}/invite/reset` and `GET /groups/{jid}/invite`.

use lambda_http::Request;
use serde_json::{Value, json};

use super::{Executed, body_bytes, ok, path_jid, timed};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::handler::RequestCtx;
use crate::jid::GroupJid;

/// Validates the path and the (absent) body.
pub(crate) fn prepare(raw_jid: &str, req: &Request) -> Result<GroupJid, ApiError> {
    let group = path_jid(raw_jid)?;
    check_no_body(body_bytes(req)?)?;
    Ok(group)
}

/// One WUTS call: the current link, or (`reset`) a new one. A reset is never
/// retried: every success revokes the previous link.
pub(crate) async fn execute(
    state: &AppState,
    ctx: &mut RequestCtx,
    principal: &Principal,
    group: &GroupJid,
    reset: bool,
) -> Result<Executed, ApiError> {
    let target = principal.wuts_target();
    let request_id = ctx.request_id.clone();
    let invite_link = if reset {
        timed(ctx, state.wuts.reset_invite(&target, group, &request_id)).await?
    } else {
        timed(ctx, state.wuts.get_invite(&target, group, &request_id)).await?
    };
    let mut body = json!({
        "success": true,
        "group_jid": group.as_str(),
        "invite_link": invite_link,
    });
    if reset {
        // WhatsApp gives no time: ours, right after WUTS confirmed.
        body["reset_at"] = json!(crate::clock::now_rfc3339());
    }
    Ok(Executed::plain(ok(ctx, &body)?))
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
