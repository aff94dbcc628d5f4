//! `PATCH /groups/{jid}`: updates a group's properties, at least one of
//! `{name, topic (or its alias description), announcement, locked,
//! join_approval, member_add_mode}` → `{success, applied, group}` (the
//! group refreshed). An engine with one call per property gets them in a
//! fixed order (`GroupChange::split`); the first failure stops the rest,
//! and the answer says what was applied and what was not — it never
//! claims a change that did not happen.

use lambda_http::Request;
use serde::Serialize;
use serde_json::json;

use super::fields::{self, finish};
use super::path_jid;
use crate::engine::groups::{Group, GroupChange, MemberAddMode};
use crate::engine::{Engine, Reach};
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct UpdateGroup;

#[derive(Serialize)]
pub struct UpdateCommand {
    pub group: GroupJid,
    pub change: GroupChange,
}

const FIELDS: [&str; 7] = [
    "name",
    "topic",
    "description",
    "announcement",
    "locked",
    "join_approval",
    "member_add_mode",
];

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    applied: &'a [&'static str],
    /// Absent when the refresh after the change failed (the change stands).
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a Group>,
}

pub fn parse_body(bytes: &[u8]) -> Result<GroupChange, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let map = fields::object(bytes, &FIELDS, &mut errors)?;
    let mut change = GroupChange::default();
    if map.contains_key("name") {
        change.name = fields::name(map.get("name"), "name", &mut errors);
    }
    let topic = map
        .get("topic")
        .and_then(|v| fields::topic(v, "topic", &mut errors));
    let description = map
        .get("description")
        .and_then(|v| fields::topic(v, "description", &mut errors));
    change.topic = match (topic, description) {
        (Some(t), Some(d)) if t != d => {
            errors.push(FieldError::new(
                "description",
                "is the topic under another name; send one of topic and description",
            ));
            None
        }
        (t, d) => t.or(d),
    };
    change.announcement = fields::switch(&map, "announcement", &mut errors);
    change.locked = fields::switch(&map, "locked", &mut errors);
    change.join_approval = fields::switch(&map, "join_approval", &mut errors);
    change.member_add_mode = match map.get("member_add_mode") {
        None => None,
        Some(v) => match v.as_str() {
            Some("admin") => Some(MemberAddMode::Admin),
            Some("all_members") => Some(MemberAddMode::AllMembers),
            _ => {
                errors.push(
                    FieldError::new("member_add_mode", "must be \"admin\" or \"all_members\"")
                        .with_value(&v.to_string()),
                );
                None
            }
        },
    };
    if errors.is_empty() && change.is_empty() {
        errors.push(FieldError::new(
            "body",
            format!("at least one field is required: {}", FIELDS.join(", ")),
        ));
    }
    finish(errors, Some(change))
}

impl Operation for UpdateGroup {
    const ROUTE: Route = Route::write("PATCH", "/groups/{jid}", "update-group");
    type Command = UpdateCommand;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<UpdateCommand, ApiError> {
        let group = path_jid(params.get("jid"))?;
        let bytes = super::json_body(req)?;
        Ok(UpdateCommand {
            group,
            change: parse_body(bytes)?,
        })
    }

    fn subject(command: &UpdateCommand) -> Subject<'_> {
        Subject {
            action: "update_group",
            group: Some(&command.group),
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        command: &UpdateCommand,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let group = &command.group;
        // An engine that cannot do a part of it: 501 before anything is sent.
        let steps = on.engine.update_steps(on.target, &command.change)?;
        // Every step and the refresh are paid for at once, before the first.
        let cost = u32::try_from(steps.len()).unwrap_or(u32::MAX);
        on.prepay(&[(crate::pacing::Class::Settings, cost)]).await?;
        let mut applied: Vec<&'static str> = Vec::new();
        let mut refreshed: Option<Group> = None;
        for (i, step) in steps.iter().enumerate() {
            let call = crate::engine::calls::UpdateGroup {
                group: group.clone(),
                step: step.clone(),
            };
            let result = on.call(call).await;
            match result {
                Ok(group) => {
                    applied.extend(step.fields());
                    refreshed = group;
                }
                Err(e) if applied.is_empty() => {
                    return Err(if step.name.is_some() {
                        fields::name_refused(e)
                    } else {
                        e.into()
                    });
                }
                Err(e) => {
                    let unknown = e.reach() == Reach::MayHaveActed;
                    // A step never sent (no time left in the deadline, no
                    // connection) did not fail: it was not attempted.
                    let sent = e.reach() > Reach::NotSent;
                    let failed = if sent { step.fields() } else { Vec::new() };
                    let first_unsent = if sent { i + 1 } else { i };
                    let not_attempted: Vec<&str> = steps[first_unsent..]
                        .iter()
                        .flat_map(GroupChange::fields)
                        .collect();
                    let err: ApiError = e.into();
                    let mut extra = serde_json::Map::new();
                    extra.insert("applied".into(), json!(applied));
                    extra.insert("failed".into(), json!(failed));
                    extra.insert("not_attempted".into(), json!(not_attempted));
                    let (_, _, message) = err.parts();
                    if !failed.is_empty() {
                        extra.insert(
                            "validation".into(),
                            json!(
                                failed
                                    .iter()
                                    .map(|f| FieldError::new(*f, message.clone()))
                                    .collect::<Vec<_>>()
                            ),
                        );
                    }
                    let mut response = err.to_response_with(&on.ctx.request_id, unknown, extra);
                    // Stored under an Idempotency-Key like a success: what
                    // was applied must not be sent again.
                    response.headers_mut().insert(
                        "x-partial-update",
                        lambda_http::http::HeaderValue::from_static("true"),
                    );
                    return Ok(Executed::plain(response));
                }
            }
        }
        let group_now = match refreshed {
            Some(g) => Some(g),
            None => {
                let call = crate::engine::calls::GroupInfo {
                    group: group.clone(),
                };
                on.call(call).await.ok()
            }
        };
        let reply = Reply {
            success: true,
            applied: &applied,
            group: group_now.as_ref(),
        };
        on.ok(&reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let c =
            parse_body(br#"{"description":"About us","locked":true,"member_add_mode":"admin"}"#)
                .unwrap();
        assert_eq!(c.topic.as_deref(), Some("About us"));
        assert_eq!(c.fields(), ["topic", "locked", "member_add_mode"]);
        assert!(parse_body(br#"{"topic":"a","description":"a"}"#).is_ok());
        for (bad, field) in [
            ("{}", "body"),
            (r#"{"name":""}"#, "name"),
            (r#"{"topic":"a","description":"b"}"#, "description"),
            (r#"{"locked":"yes"}"#, "locked"),
            (r#"{"member_add_mode":"everyone"}"#, "member_add_mode"),
            (r#"{"owner":"x"}"#, "owner"),
        ] {
            match parse_body(bad.as_bytes()) {
                Err(ApiError::Validation { fields, .. }) => {
                    assert!(fields.iter().any(|f| f.field == field), "{bad}: {fields:?}")
                }
                _ => panic!("{bad} accepted"),
            }
        }
    }
}
