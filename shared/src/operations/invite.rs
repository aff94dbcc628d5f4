//! What the operations on one group named in the path share: the path JID,
//! no body, one engine call ([`group_operation!`]); and the invite-link
//! operations' `{success, group_jid, invite_link}` answer.

use lambda_http::Request;
use serde::Serialize;
use serde_json::Value;

use super::{body_bytes, ok, path_jid};
use crate::context::RequestCtx;
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::{Executed, Subject};
use crate::routes::Params;

/// An operation on the group its path names, without a body: its route
/// (`read` or `write`, [`crate::routes::Route`]), the action its audit
/// record names,
/// and its `execute` body (over `group` and `on`).
macro_rules! group_operation {
    ($(#[$doc:meta])* $name:ident: $method:literal $path:literal => $function:literal,
     $kind:ident, action: $action:literal,
     execute($group:ident, $on:ident) $body:block) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::operation::Operation for $name {
            const ROUTE: $crate::routes::Route =
                $crate::routes::Route::$kind($method, $path, $function);
            type Command = $crate::jid::GroupJid;

            fn prepare(
                params: &$crate::routes::Params<'_>,
                req: &lambda_http::Request,
            ) -> Result<Self::Command, $crate::error::ApiError> {
                $crate::operations::invite::prepare(params, req)
            }

            fn subject(group: &Self::Command) -> $crate::operation::Subject<'_> {
                $crate::operations::invite::subject(group, $action)
            }

            async fn execute<E: $crate::engine::Engine + ?Sized>(
                $group: &Self::Command,
                #[allow(unused_mut)] mut $on: $crate::operation::On<'_, E>,
            ) -> Result<$crate::operation::Executed, $crate::error::ApiError> $body
        }
    };
}
pub(crate) use group_operation;

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

/// The endpoint takes no body: none at all, or `{}`, is accepted. Blank
/// space alone is neither (it is not JSON): 400, as the OpenAPI document
/// says.
pub fn check_no_body(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.is_empty() {
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
        for ok in ["", "{}", " { } "] {
            assert!(check_no_body(ok.as_bytes()).is_ok(), "{ok:?}");
        }
        for bad in ["{\"a\":1}", "[]", "null", "x", "{", "\n", "  \n"] {
            assert!(check_no_body(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }
}
