//! `POST /groups/join`: joins a group by invite, `{link}` (a
//! `https://chat.whatsapp.com/<code>` link, never fetched) or `{code,
//! group_jid, inviter_jid}` (a private invitation) → `{success, group_jid,
//! pending_approval}`. Not idempotent upstream: an `Idempotency-Key` makes a
//! retry replay the first answer.

use lambda_http::Request;
use serde::Serialize;
use serde_json::Value;

use super::fields::{self, finish};
use crate::engine::Engine;
use crate::engine::groups::Join;
use crate::error::{ApiError, FieldError};
use crate::jid::ParticipantJid;
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct JoinGroup;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    group_jid: Option<&'a str>,
    /// `null` where the engine's answer does not tell.
    pending_approval: Option<bool>,
}

const LINK_PREFIX: &str = "https://chat.whatsapp.com/";

/// The code of an invite link (`https://chat.whatsapp.com/<code>`, the
/// code 10 to 40 letters and digits), or `None`. The link is never fetched.
pub fn code_of_link(link: &str) -> Option<&str> {
    link.trim()
        .strip_prefix(LINK_PREFIX)
        .filter(|c| valid_code(c))
}

/// What a link that is not one says.
pub const LINK_RULE: &str =
    "must be https://chat.whatsapp.com/<code>, the code 10 to 40 letters and digits";

/// An invite code: 10 to 40 letters and digits.
pub fn valid_code(code: &str) -> bool {
    (10..=40).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn code(value: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    match value.as_str().map(str::trim) {
        Some(c) if valid_code(c) => Some(c.to_string()),
        _ => {
            errors.push(
                FieldError::new(field, "must be an invite code: 10 to 40 letters and digits")
                    .with_value(&value.to_string()),
            );
            None
        }
    }
}

pub fn parse_body(bytes: &[u8]) -> Result<Join, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let map = fields::object(
        bytes,
        &["link", "code", "group_jid", "inviter_jid"],
        &mut errors,
    )?;
    let by_invite = ["code", "group_jid", "inviter_jid"]
        .iter()
        .any(|k| map.contains_key(*k));
    let join = match (map.get("link"), by_invite) {
        (Some(_), true) => {
            errors.push(FieldError::new(
                "link",
                "send either link, or code with group_jid and inviter_jid",
            ));
            None
        }
        (Some(link), false) => match link.as_str().and_then(code_of_link) {
            Some(c) => Some(Join::Link {
                code: c.to_string(),
            }),
            None => {
                errors.push(FieldError::new("link", LINK_RULE).with_value(&link.to_string()));
                None
            }
        },
        (None, true) => {
            let mut required = |key: &str| {
                let v = map.get(key);
                if v.is_none() {
                    errors.push(FieldError::new(key, "is required with code"));
                }
                v
            };
            let c = required("code");
            let g = required("group_jid");
            let i = required("inviter_jid");
            let c = c.and_then(|v| code(v, "code", &mut errors));
            let g = g.and_then(|v| fields::group_jid(v, "group_jid", &mut errors));
            let i = i.and_then(|v| match v.as_str().map(ParticipantJid::normalise) {
                Some(Ok(jid)) => Some(jid),
                _ => {
                    errors.push(
                        FieldError::new("inviter_jid", "must be a phone number, phone JID or LID")
                            .with_value(&v.to_string()),
                    );
                    None
                }
            });
            match (c, g, i) {
                (Some(code), Some(group), Some(inviter)) => Some(Join::Invite {
                    code,
                    group,
                    inviter,
                }),
                _ => None,
            }
        }
        (None, false) => {
            errors.push(FieldError::new(
                "link",
                "is required (or code with group_jid and inviter_jid)",
            ));
            None
        }
    };
    finish(errors, join)
}

impl Operation for JoinGroup {
    const ROUTE: Route = Route::write("POST", "/groups/join", "join-group");
    type Command = Join;

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<Join, ApiError> {
        let bytes = super::json_body(req)?;
        parse_body(bytes)
    }

    fn subject(join: &Join) -> Subject<'_> {
        Subject {
            action: "join",
            group: match join {
                Join::Invite { group, .. } => Some(group),
                Join::Link { .. } => None,
            },
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        join: &Join,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let joined = on.call(join.clone()).await?;
        let reply = Reply {
            success: true,
            group_jid: joined.group_jid.as_deref(),
            pending_approval: joined.pending_approval,
        };
        Ok(on.ok(&reply)?.on_group(joined.group_jid.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert_eq!(
            parse_body(br#"{"link":"https://chat.whatsapp.com/DemoJoinCode1234567890"}"#).unwrap(),
            Join::Link {
                code: "DemoJoinCode1234567890".into()
            }
        );
        assert!(matches!(
            parse_body(
                br#"{"code":"AbCdEfGhIjKl","group_jid":"120363039000000003@g.us","inviter_jid":"+55 11 98888-7777"}"#
            )
            .unwrap(),
            Join::Invite { .. }
        ));
        for bad in [
            r#"{}"#,
            r#"{"link":"http://chat.whatsapp.com/DemoJoinCode1234567890"}"#,
            r#"{"link":"https://evil.example/DemoJoinCode1234567890"}"#,
            r#"{"link":"https://chat.whatsapp.com/DemoJoinCode1234567890?x=1"}"#,
            r#"{"link":"https://chat.whatsapp.com/short"}"#,
            r#"{"link":"https://chat.whatsapp.com/Demo-Join_Code1234567890"}"#,
            r#"{"link":"https://chat.whatsapp.com/DemoJoinCode1234567890","code":"AbCdEfGhIjKl"}"#,
            r#"{"code":"AbCdEfGhIjKl","group_jid":"120363039000000003@g.us"}"#,
            r#"{"code":"AbCdEfGhIjKl","group_jid":"x","inviter_jid":"5511988887777"}"#,
        ] {
            assert!(parse_body(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
