//! Evolution API v2 webhooks (2.3.7; `docs/research/evolution-events.md`):
//! one JSON envelope per event, `{event, instance, data, date_time, sender,
//! …}`, the event name dotted and lower-case (`group-participants.update`;
//! the upper-snake form is read too).
//! - `group-participants.update`: `data = {id, author, authorPn,
//!   participants, action}`; participants are JID strings up to 2.3.5 and
//!   `{id, phoneNumber?, lid?, admin}` objects from 2.3.6. Our own number
//!   (`sender`) among the removed is `group.left`, among the added
//!   `group.joined`.
//! - `groups.update`: an array of partial groups, one changed field each
//!   (`subject`, `desc`, `announce`, `restrict`, `inviteCode`,
//!   `memberAddMode`, `joinApprovalMode`); an element with the full group
//!   (`participants`, `creation`) is a refresh, not a change.
//! - `groups.upsert`: an array of full groups: a group created with us in
//!   it, `group.joined`.
//!
//! `date_time` is the server's local time labelled UTC (hours off under
//! the official image's `TZ`), so it is not the event's time: it is only the
//! dedupe stamp (it stays the same on Evolution's retries).

use serde_json::Value;

use super::{
    actor, flag, membership_event, number, participants_event, people, text, update_event,
};
use crate::events::{Actor, Changes, EventType, Normalised, Parsed, person_jid};

pub fn parse(body: &Value) -> Parsed {
    let mut parsed = Parsed::default();
    let kind = text(body, "event")
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace(['_', '-'], ".");
    let session = text(body, "instance");
    let own = text(body, "sender").and_then(person_jid);
    let stamp = text(body, "date_time").map(str::to_string);
    let data = body.get("data");
    let mut events = match (kind.as_str(), data) {
        ("group.participants.update", Some(d)) => participants(d, own.as_deref(), session),
        ("groups.update", Some(d)) => each(d).filter_map(|g| update(g, session)).collect(),
        ("groups.upsert", Some(d)) => each(d)
            .filter_map(|g| {
                membership_event(
                    EventType::GroupJoined,
                    text(g, "id"),
                    author(g),
                    None,
                    session,
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    for e in &mut events {
        e.stamp.clone_from(&stamp);
    }
    if events.is_empty() {
        parsed.ignored = 1;
    }
    parsed.events = events;
    parsed
}

/// `data` as a list of groups (an array, or one object).
fn each(data: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match data {
        Value::Array(list) => Box::new(list.iter()),
        Value::Object(_) => Box::new(std::iter::once(data)),
        _ => Box::new(std::iter::empty()),
    }
}

/// Who acted: `author` / `authorPn`, the phone-number form preferred.
fn author(d: &Value) -> Option<Actor> {
    let a = actor(d.get("author"));
    let pn = actor(d.get("authorPn"));
    match (a, pn) {
        (Some(a), Some(pn)) if !a.jid.ends_with("@s.whatsapp.net") => Some(pn),
        (Some(a), _) => Some(a),
        (None, pn) => pn,
    }
}

fn participants(d: &Value, own: Option<&str>, session: Option<&str>) -> Vec<Normalised> {
    let Some(kind) = text(d, "action").and_then(EventType::of_action) else {
        return Vec::new();
    };
    let group = text(d, "id");
    let who = author(d);
    let mut people = people(d.get("participants"));
    let mut out = Vec::new();
    let is_own = |p: &crate::events::EventParticipant| {
        own.is_some_and(|o| p.jid == o || p.phone_number.as_deref() == Some(o))
    };
    if people.iter().any(is_own) {
        let mine = match kind {
            EventType::ParticipantsAdded => Some(EventType::GroupJoined),
            EventType::ParticipantsRemoved => Some(EventType::GroupLeft),
            _ => None,
        };
        if let Some(mine) = mine {
            out.extend(membership_event(mine, group, who.clone(), None, session));
            people.retain(|p| !is_own(p));
        }
    }
    out.extend(participants_event(kind, group, people, who, None, session));
    out
}

fn update(g: &Value, session: Option<&str>) -> Option<Normalised> {
    if g.get("participants").is_some() || g.get("creation").is_some() {
        return None;
    }
    let changes = Changes {
        name: text(g, "subject").map(str::to_string),
        topic: g.get("desc").and_then(Value::as_str).map(str::to_string),
        announcement: flag(g, "announce"),
        locked: flag(g, "restrict"),
        join_approval: flag(g, "joinApprovalMode"),
        member_add_mode: flag(g, "memberAddMode")
            .map(|all| if all { "all_member_add" } else { "admin_add" }.to_string()),
        ephemeral_seconds: number(g, "ephemeralDuration"),
        invite_reset: text(g, "inviteCode").map(|_| true),
    };
    update_event(text(g, "id"), changes, author(g), None, session)
}

/// Evolution's ingress. Evolution does not sign bodies; with an engine
/// secret the hook takes either its JWT (`jwt_key` in the webhook's
/// headers: `Authorization: Bearer <HS256 JWT>`, checked with the secret;
/// `exp` is 10 minutes and Evolution resends the same token on retries
/// for up to ~20 minutes, so 30 minutes past it are allowed) or the secret
/// itself in a configured `X-Webhook-Secret` header.
pub struct Evolution;

impl crate::events::ingress::EngineHooks for Evolution {
    const ENGINE: crate::engine::EngineKind = crate::engine::EngineKind::Evolution;

    fn verify(
        headers: &lambda_http::http::HeaderMap,
        _body: &[u8],
        secret: &str,
        now_secs: i64,
    ) -> Result<(), crate::events::signature::SignatureError> {
        use crate::events::ingress::header;
        use crate::events::signature::{check_jwt_hs256, check_shared_secret};
        match (
            header(headers, "authorization"),
            header(headers, "x-webhook-secret"),
        ) {
            (Some(auth), _) if auth.matches('.').count() == 2 => check_jwt_hs256(
                "authorization",
                Some(auth),
                secret.as_bytes(),
                now_secs,
                1_800,
            ),
            (_, Some(given)) => check_shared_secret("x-webhook-secret", Some(given), secret),
            (auth, None) => check_shared_secret("authorization", auth, secret),
        }
    }

    fn parse(body: &Value) -> Parsed {
        parse(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GROUP: &str = "120363041234567890@g.us";

    fn envelope(event: &str, data: Value) -> Value {
        json!({"event": event, "instance": "acme", "sender": "5511999990000@s.whatsapp.net",
               "date_time": "2026-01-10T09:15:02.117Z", "destination": "https://hooks.example/evo",
               "server_url": "https://evo.example", "apikey": null, "data": data})
    }

    #[test]
    fn participants_as_objects_2_3_7() {
        let parsed = parse(&envelope(
            "group-participants.update",
            json!({
            "id": GROUP, "author": "11111111111111@lid", "authorPn": "5511988887777@s.whatsapp.net",
            "participants": [{"id": "22222222222222@lid", "phoneNumber": "5511977776666@s.whatsapp.net", "admin": null}],
            "action": "add",
            "participantsData": [{"jid": {"id": "22222222222222@lid"}, "phoneNumber": "[object Object]"}]}),
        ));
        assert_eq!(parsed.events.len(), 1);
        let e = &parsed.events[0];
        assert_eq!(e.kind, EventType::ParticipantsAdded);
        assert_eq!(e.group_jid, GROUP);
        assert_eq!(
            e.actor.as_ref().unwrap().jid,
            "5511988887777@s.whatsapp.net"
        );
        assert_eq!(e.participants[0].jid, "22222222222222@lid");
        assert_eq!(
            e.participants[0].phone_number.as_deref(),
            Some("5511977776666@s.whatsapp.net")
        );
        assert_eq!(e.session.as_deref(), Some("acme"));
        assert_eq!(e.stamp.as_deref(), Some("2026-01-10T09:15:02.117Z"));
        assert_eq!(e.at_ms, None);
    }

    #[test]
    fn participants_as_strings_2_3_5_and_our_own_removal() {
        let parsed = parse(&envelope(
            "GROUP_PARTICIPANTS_UPDATE",
            json!({
            "id": GROUP, "author": "5511988887777@s.whatsapp.net",
            "participants": ["5511999990000@s.whatsapp.net", "5511977776666@s.whatsapp.net"],
            "action": "remove"}),
        ));
        let kinds: Vec<EventType> = parsed.events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [EventType::GroupLeft, EventType::ParticipantsRemoved]
        );
        assert_eq!(parsed.events[1].participants.len(), 1);
        assert_eq!(
            parsed.events[1].participants[0].jid,
            "5511977776666@s.whatsapp.net"
        );
    }

    #[test]
    fn updates_upserts_refreshes_and_the_rest() {
        let parsed = parse(&envelope(
            "groups.update",
            json!([
                {"id": GROUP, "subject": "Team B", "author": "11111111111111@lid"},
                {"id": GROUP, "announce": true, "memberAddMode": false},
                {"id": GROUP, "subject": "All", "participants": [], "creation": 1767950000}
            ]),
        ));
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(
            parsed.events[0].changes.as_ref().unwrap().name.as_deref(),
            Some("Team B")
        );
        let second = parsed.events[1].changes.as_ref().unwrap();
        assert_eq!(second.announcement, Some(true));
        assert_eq!(second.member_add_mode.as_deref(), Some("admin_add"));
        let joined = parse(&envelope(
            "groups.upsert",
            json!([{"id": GROUP, "subject": "Team A",
            "participants": [], "creation": 1767950000, "author": "11111111111111@lid"}]),
        ));
        assert_eq!(joined.events[0].kind, EventType::GroupJoined);
        assert_eq!(parse(&envelope("messages.upsert", json!({}))).ignored, 1);
        assert_eq!(
            parse(&envelope("group-participants.update", json!({"id": GROUP, "participants": ["5511977776666@s.whatsapp.net"], "action": "modify"}))).ignored,
            1
        );
    }
}
