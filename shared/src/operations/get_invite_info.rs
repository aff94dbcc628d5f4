//! `GET /groups/invite-info?link=…` (or `?code=…`): the group an invite
//! leads to, read without joining it, `{success, group}` (no participants).
//! The link is never fetched: only its code goes to the engine. The path
//! is never a group called `invite-info` (the most specific route wins).

use lambda_http::Request;
use serde::Serialize;

use super::join_group::{LINK_RULE, code_of_link, valid_code};
use super::{body_bytes, invite::check_no_body};
use crate::engine::Engine;
use crate::engine::calls::InviteInfo;
use crate::engine::groups::Group;
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct GetInviteInfo;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    group: &'a Group,
}

/// The invite code from `?link=` or `?code=` (exactly one of them).
pub fn code_of(req: &Request) -> Result<String, ApiError> {
    let params = super::jobs::query_params(req, &["link", "code"])?;
    let fail = |field: &'static str, message: &str, value: Option<&str>| {
        let mut e = FieldError::new(field, message);
        if let Some(v) = value {
            e = e.with_value(v);
        }
        ApiError::validation("invalid query parameters", vec![e])
    };
    match (params.get("link"), params.get("code")) {
        (Some(_), Some(_)) => Err(fail("link", "send either link or code, not both", None)),
        (Some(link), None) => code_of_link(link)
            .map(str::to_string)
            .ok_or_else(|| fail("link", LINK_RULE, Some(link))),
        (None, Some(code)) => {
            let code = code.trim();
            if valid_code(code) {
                Ok(code.to_string())
            } else {
                Err(fail(
                    "code",
                    "must be an invite code: 10 to 40 letters and digits",
                    Some(code),
                ))
            }
        }
        (None, None) => Err(fail("link", "is required (or code)", None)),
    }
}

impl Operation for GetInviteInfo {
    const ROUTE: Route = Route::read("GET", "/groups/invite-info", "get-invite-info");
    /// The invite code.
    type Command = String;

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<String, ApiError> {
        check_no_body(body_bytes(req)?)?;
        code_of(req)
    }

    fn subject(_code: &String) -> Subject<'_> {
        Subject {
            action: "invite_info",
            group: None,
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        code: &String,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let group = on.call(InviteInfo { code: code.clone() }).await?;
        let group = group.without_participants();
        on.ok(&Reply {
            success: true,
            group: &group,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> Request {
        lambda_http::http::Request::builder()
            .uri(format!("https://x/groups/invite-info?{query}"))
            .body(lambda_http::Body::Empty)
            .unwrap()
    }

    fn field(query: &str) -> String {
        match code_of(&request(query)).unwrap_err() {
            ApiError::Validation { fields, .. } => fields[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_link_or_a_code() {
        let link = "link=https%3A%2F%2Fchat.whatsapp.com%2FDemoJoinCode1234567890";
        assert_eq!(code_of(&request(link)).unwrap(), "DemoJoinCode1234567890");
        assert_eq!(
            code_of(&request("code=DemoJoinCode1234567890")).unwrap(),
            "DemoJoinCode1234567890"
        );
        assert_eq!(field(""), "link");
        assert_eq!(
            field(&format!("{link}&code=DemoJoinCode1234567890")),
            "link"
        );
        assert_eq!(
            field("link=http%3A%2F%2Fchat.whatsapp.com%2FDemoJoinCode1234567890"),
            "link"
        );
        assert_eq!(
            field("link=https%3A%2F%2Fevil.example%2FDemoJoinCode1234567890"),
            "link"
        );
        assert_eq!(field("code=short"), "code");
        assert_eq!(field("code=Demo%2F..%2FJoinCode123"), "code");
        assert_eq!(field("code=a&code=b"), "code");
        assert_eq!(field("group=1"), "query");
    }
}
