//! `session-service` (`upstream-wuts.md`) posts the normalised shape
//! itself: one event `{type, timestamp?, session?, data: {group_jid,
//! actor?, participants?, changes?}}`, or `{events: [...]}` of them. Types
//! and fields are this API's own (`events.md`); JIDs are normalised as
//! from any engine.

use serde_json::Value;

use super::{actor, people, text, when_ms};
use crate::events::{Changes, EventType, Normalised, Parsed, group_jid};

pub fn parse(body: &Value) -> Parsed {
    let items: Vec<&Value> = match body.get("events") {
        Some(Value::Array(list)) => list.iter().collect(),
        _ => vec![body],
    };
    let mut parsed = Parsed::default();
    for item in items {
        match one(item) {
            Some(event) => parsed.events.push(event),
            None => parsed.ignored += 1,
        }
    }
    parsed
}

fn one(item: &Value) -> Option<Normalised> {
    let kind: EventType = serde_json::from_value(item.get("type")?.clone()).ok()?;
    if kind == EventType::JobCompleted {
        // Jobs are this API's own: no engine reports them.
        return None;
    }
    let data = item.get("data")?;
    let changes: Option<Changes> = data
        .get("changes")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .filter(|c: &Changes| !c.is_empty());
    let participants = people(data.get("participants"));
    let needs_people = !matches!(
        kind,
        EventType::GroupUpdated | EventType::GroupJoined | EventType::GroupLeft
    );
    if (needs_people && participants.is_empty())
        || (kind == EventType::GroupUpdated && changes.is_none())
    {
        return None;
    }
    Some(Normalised {
        kind,
        group_jid: group_jid(text(data, "group_jid")?)?,
        actor: actor(data.get("actor")),
        participants,
        changes: if kind == EventType::GroupUpdated {
            changes
        } else {
            None
        },
        at_ms: item.get("timestamp").and_then(when_ms),
        stamp: None,
        session: text(item, "session")
            .or_else(|| text(data, "session"))
            .map(str::to_string),
    })
}

/// session-service's ingress: Standard Webhooks v1 (`webhook-id`,
/// `webhook-timestamp` within 5 minutes, `webhook-signature`), the same
/// scheme this API signs its own deliveries with; the engine secret is the
/// `whsec_…` secret.
pub struct SessionService;

impl crate::events::ingress::EngineHooks for SessionService {
    const ENGINE: crate::engine::EngineKind = crate::engine::EngineKind::SessionService;

    fn verify(
        headers: &lambda_http::http::HeaderMap,
        body: &[u8],
        secret: &str,
        now_secs: i64,
    ) -> Result<(), crate::events::signature::SignatureError> {
        use crate::events::ingress::header;
        crate::events::signature::check_standard_webhook(
            header(headers, "webhook-id"),
            header(headers, "webhook-timestamp"),
            header(headers, "webhook-signature"),
            secret,
            body,
            now_secs,
            300,
        )
    }

    fn parse(body: &Value) -> Parsed {
        parse(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_normalised_shape_in_and_out() {
        let parsed = parse(&json!({"events": [
            {"type": "group.participants.removed", "timestamp": "2026-12-04T12:00:03Z",
             "data": {"group_jid": "120363039000000000@g.us",
                      "actor": {"jid": "5511999999999@s.whatsapp.net"},
                      "participants": [{"jid": "5511888888888:3@s.whatsapp.net"}]}},
            {"type": "group.updated", "data": {"group_jid": "120363039000000000@g.us",
             "changes": {"name": "New name"}}},
            {"type": "group.updated", "data": {"group_jid": "120363039000000000@g.us", "changes": {}}},
            {"type": "job.completed", "data": {"group_jid": "120363039000000000@g.us"}},
            {"type": "group.exploded", "data": {}}
        ]}));
        assert_eq!(parsed.ignored, 3);
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.events[0].kind, EventType::ParticipantsRemoved);
        assert_eq!(
            parsed.events[0].participants[0].jid,
            "5511888888888@s.whatsapp.net"
        );
        assert_eq!(
            parsed.events[0].actor.as_ref().unwrap().jid,
            "5511999999999@s.whatsapp.net"
        );
        assert_eq!(parsed.events[0].at_ms, Some(1_796_385_603_000));
        assert_eq!(
            parsed.events[1].changes.as_ref().unwrap().name.as_deref(),
            Some("New name")
        );
    }
}
