//! `POST /groups`: creates a group, `{name, participants, options?:
//! {announcement, locked, join_approval, community, parent_jid}}` → 201
//! `{success, group}`. Not idempotent upstream: an `Idempotency-Key` makes
//! a retry replay the first answer instead of creating a second group.

use lambda_http::Request;
use serde::Serialize;
use serde_json::Value;

use super::fields::{self, finish};
use super::participants::parse_participant_list;
use crate::engine::Engine;
use crate::engine::groups::{Group, GroupOptions, NewGroup};
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct CreateGroup;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    group: &'a Group,
}

const OPTIONS: [&str; 5] = [
    "announcement",
    "locked",
    "join_approval",
    "community",
    "parent_jid",
];

pub fn parse_body(bytes: &[u8]) -> Result<NewGroup, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let map = fields::object(bytes, &["name", "participants", "options"], &mut errors)?;
    let name = fields::name(map.get("name"), "name", &mut errors);
    let participants = match map.get("participants") {
        None => {
            errors.push(FieldError::new("participants", "is required"));
            None
        }
        Some(v) => parse_participant_list(v, &mut errors),
    };
    let mut options = GroupOptions::default();
    match map.get("options") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            for key in o.keys() {
                if !OPTIONS.contains(&key.as_str()) {
                    errors.push(FieldError::new(
                        format!("options.{key}"),
                        format!("unknown field; allowed: {}", OPTIONS.join(", ")),
                    ));
                }
            }
            let mut flag = |key: &str| {
                let field = format!("options.{key}");
                match o.get(key) {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        errors.push(FieldError::new(field, "must be true or false"));
                        false
                    }
                }
            };
            options.announcement = flag("announcement");
            options.locked = flag("locked");
            options.join_approval = flag("join_approval");
            options.community = flag("community");
            if let Some(parent) = o.get("parent_jid").filter(|v| !v.is_null()) {
                options.parent_jid = fields::group_jid(parent, "options.parent_jid", &mut errors);
            }
            if options.community && options.parent_jid.is_some() {
                errors.push(FieldError::new(
                    "options.parent_jid",
                    "a community cannot have a parent community",
                ));
            }
        }
        Some(_) => errors.push(FieldError::new("options", "must be an object")),
    }
    let new = match (name, participants) {
        (Some(name), Some(participants)) => Some(NewGroup {
            name,
            participants,
            options,
        }),
        _ => None,
    };
    finish(errors, new)
}

impl Operation for CreateGroup {
    const ROUTE: Route = Route::write("POST", "/groups", "create-group");
    type Command = NewGroup;

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<NewGroup, ApiError> {
        parse_body(super::json_body(req)?)
    }

    fn subject(new: &NewGroup) -> Subject<'_> {
        super::create_subject("create_group", &new.participants)
    }

    async fn execute<E: Engine + ?Sized>(
        new: &NewGroup,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let group = on.call(new.clone()).await.map_err(fields::name_refused)?;
        let reply = Reply {
            success: true,
            group: &group,
        };
        super::creation(on.ctx, &new.participants, &group, &reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let ok = parse_body(
            br#"{"name":" Team ","participants":["+55 11 88888-8888","5511888888888@s.whatsapp.net"],
                 "options":{"announcement":true,"parent_jid":"120363099000000000@g.us"}}"#,
        )
        .unwrap();
        assert_eq!(ok.name, "Team");
        assert_eq!(ok.participants.len(), 1, "duplicates sent once");
        assert!(ok.options.announcement);
        assert!(ok.options.parent_jid.is_some());
        for (bad, field) in [
            (r#"{"participants":["5511888888888"]}"#, "name"),
            (r#"{"name":"x"}"#, "participants"),
            (r#"{"name":"x","participants":[]}"#, "participants"),
            (r#"{"name":"x","participants":["nope"]}"#, "participants[0]"),
            (
                r#"{"name":"x","participants":["5511888888888"],"options":{"zzz":true}}"#,
                "options.zzz",
            ),
            (
                r#"{"name":"x","participants":["5511888888888"],"options":{"locked":"yes"}}"#,
                "options.locked",
            ),
            (
                r#"{"name":"x","participants":["5511888888888"],"options":{"parent_jid":"x"}}"#,
                "options.parent_jid",
            ),
            (
                r#"{"name":"x","participants":["5511888888888"],"extra":1}"#,
                "extra",
            ),
        ] {
            match parse_body(bad.as_bytes()) {
                Err(ApiError::Validation { fields, .. }) => {
                    assert!(fields.iter().any(|f| f.field == field), "{bad}: {fields:?}")
                }
                other => panic!("{bad}: {:?}", other.map(|n| n.name)),
            }
        }
    }
}
