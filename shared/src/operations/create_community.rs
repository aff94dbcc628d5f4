//! `POST /communities`: creates a community (WhatsApp adds its announcement
//! group), `{name, participants?, description?}` → 201 `{success,
//! community}`. Not idempotent upstream: an `Idempotency-Key` makes a retry
//! replay the first answer.

use lambda_http::Request;
use serde::Serialize;

use super::fields::{self, finish};
use super::participants::parse_participant_list;
use crate::engine::Engine;
use crate::engine::groups::{Group, NewCommunity};
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct CreateCommunity;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    community: &'a Group,
}

pub fn parse_body(bytes: &[u8]) -> Result<NewCommunity, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let map = fields::object(bytes, &["name", "participants", "description"], &mut errors)?;
    let name = fields::name(map.get("name"), "name", &mut errors);
    let participants = match map.get("participants") {
        None => Some(Vec::new()),
        Some(serde_json::Value::Array(a)) if a.is_empty() => Some(Vec::new()),
        Some(v) => parse_participant_list(v, &mut errors),
    };
    let description = map
        .get("description")
        .and_then(|v| fields::topic(v, "description", &mut errors))
        .filter(|d| !d.is_empty());
    let new = match (name, participants) {
        (Some(name), Some(participants)) => Some(NewCommunity {
            name,
            participants,
            description,
        }),
        _ => None,
    };
    finish(errors, new)
}

impl Operation for CreateCommunity {
    const ROUTE: Route = Route::write("POST", "/communities", "create-community");
    type Command = NewCommunity;

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<NewCommunity, ApiError> {
        parse_body(super::json_body(req)?)
    }

    fn subject(new: &NewCommunity) -> Subject<'_> {
        super::create_subject("create_community", &new.participants)
    }

    async fn execute<E: Engine + ?Sized>(
        new: &NewCommunity,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let community = on.call(new.clone()).await.map_err(fields::name_refused)?;
        let reply = Reply {
            success: true,
            community: &community,
        };
        super::creation(on.ctx, &new.participants, &community, &reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let c = parse_body(br#"{"name":"Neighbours","description":"Street news"}"#).unwrap();
        assert!(c.participants.is_empty());
        assert_eq!(c.description.as_deref(), Some("Street news"));
        for bad in [
            r#"{}"#,
            r#"{"name":""}"#,
            r#"{"name":"x","participants":["nope"]}"#,
            r#"{"name":"x","topic":"y"}"#,
        ] {
            assert!(parse_body(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
