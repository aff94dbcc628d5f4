//! `POST /groups/{jid}/join-requests` `{participants: 1–50, action:
//! "approve"|"reject"}`: answers pending requests to join, one entry per
//! requested participant (`ok`, `failed` with WhatsApp's code, or
//! `unconfirmed` where the engine's answer does not account for it), as
//! the participants routes answer.

use lambda_http::Request;
use serde::Serialize;
use serde_json::Value;

use super::participants::{Entry, ReplyIndex, outcome_with, parse_participant_list};
use super::{ok, path_jid};
use crate::engine::Engine;
use crate::engine::calls::AnswerJoinRequests as Answer;
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct AnswerJoinRequests;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    action: &'a str,
    participants: &'a [Entry<'a>],
}

/// WhatsApp's per-requester code → our stable reason.
pub fn reason(code: i64) -> &'static str {
    match code {
        400 | 404 => "no_pending_request",
        401 => "not_authorized",
        403 => "forbidden",
        408 => "temporarily_blocked",
        409 => "already_member",
        412 | 419 | 500 => "group_full",
        429 => "rate_limited",
        _ => "unknown",
    }
}

/// The path and body: both fields required (no default action: an
/// approval is never what a client gets by leaving it out).
pub fn parse(params: &Params<'_>, req: &Request) -> Result<Answer, ApiError> {
    let group = path_jid(params.get("jid"))?;
    let bytes = super::json_body(req)?;
    let mut errors: Vec<FieldError> = Vec::new();
    let map = super::fields::object(bytes, &["participants", "action"], &mut errors)?;
    let approve = match map.get("action") {
        Some(Value::String(s)) if s == "approve" => Some(true),
        Some(Value::String(s)) if s == "reject" => Some(false),
        Some(v) => {
            errors.push(
                FieldError::new("action", "must be approve or reject").with_value(&v.to_string()),
            );
            None
        }
        None => {
            errors.push(FieldError::new("action", "is required: approve or reject"));
            None
        }
    };
    let participants = match map.get("participants") {
        Some(v) => parse_participant_list(v, &mut errors),
        None => {
            errors.push(FieldError::new("participants", "is required"));
            None
        }
    };
    match (approve, participants) {
        (Some(approve), Some(participants)) if errors.is_empty() => Ok(Answer {
            group,
            approve,
            participants,
        }),
        _ => Err(ApiError::validation("validation failed", errors)),
    }
}

impl Operation for AnswerJoinRequests {
    const ROUTE: Route = Route::write(
        "POST",
        "/groups/{jid}/join-requests",
        "answer-join-requests",
    );
    type Command = Answer;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<Answer, ApiError> {
        parse(params, req)
    }

    fn subject(call: &Answer) -> Subject<'_> {
        Subject {
            action: if call.approve {
                "approve_join_requests"
            } else {
                "reject_join_requests"
            },
            group: Some(&call.group),
            participants: &call.participants,
        }
    }

    async fn execute<E: Engine + ?Sized>(
        call: &Answer,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let reply = on.call(call.clone()).await?;
        let index = ReplyIndex::new(&reply);
        let entries: Vec<Entry> = call
            .participants
            .iter()
            .map(|p| outcome_with(p, &index, reason))
            .collect();
        let outcomes = entries.iter().map(Entry::audit).collect();
        let response = ok(
            on.ctx,
            &Reply {
                success: true,
                action: call.action(),
                participants: &entries,
            },
        )?;
        Ok(Executed {
            response,
            outcomes,
            audit_group: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<String> {
        let req = lambda_http::http::Request::builder()
            .uri("https://x/groups/1@g.us/join-requests")
            .body(lambda_http::Body::Text(body.into()))
            .unwrap();
        let params = crate::routes::match_pattern(
            "/groups/{jid}/join-requests",
            "/groups/1@g.us/join-requests",
        )
        .unwrap();
        match parse(&params, &req) {
            Ok(_) => vec![],
            Err(ApiError::Validation { fields, .. }) => {
                fields.into_iter().map(|f| f.field).collect()
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn both_fields_are_required_and_checked() {
        assert!(fields(r#"{"participants":["+5511988888888"],"action":"approve"}"#).is_empty());
        assert!(fields(r#"{"participants":["9@lid"],"action":"reject"}"#).is_empty());
        assert_eq!(fields(r#"{"participants":["9@lid"]}"#), ["action"]);
        assert_eq!(fields(r#"{"action":"approve"}"#), ["participants"]);
        assert_eq!(
            fields(r#"{"participants":[],"action":"approve"}"#),
            ["participants"]
        );
        assert_eq!(
            fields(r#"{"participants":["9@lid"],"action":"add"}"#),
            ["action"]
        );
        assert_eq!(
            fields(r#"{"participants":["x"],"action":"APPROVE"}"#),
            ["action", "participants[0]"]
        );
        assert_eq!(
            fields(r#"{"participants":["9@lid"],"action":"approve","x":1}"#),
            ["x"]
        );
    }

    #[test]
    fn reasons() {
        assert_eq!(reason(404), "no_pending_request");
        assert_eq!(reason(409), "already_member");
        assert_eq!(reason(429), "rate_limited");
        assert_eq!(reason(-1), "unknown");
    }
}
