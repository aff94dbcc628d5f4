//! WAHA webhooks (`docs/research/waha-events.md`): `{id, timestamp, event,
//! session, me, payload, engine, …}`; `id` stays the same on WAHA's retries.
//! - `group.v2.participants`: `payload = {group: {id}, type: join | leave |
//!   promote | demote, timestamp, participants: [{id, pn?, role}], _data}`;
//!   the actor only in the engine's raw `_data` (`author` on WEBJS and
//!   NOWEB, whatsmeow's `SenderPN` / `Sender` on GOWS).
//! - `group.v2.update`: `payload.group` holds the changed fields on GOWS and
//!   NOWEB (`subject`, `description`, `invite`, `membersCanSendMessages`,
//!   `newMembersApprovalRequired`, NOWEB's `membersCanAddNewMember`); WEBJS
//!   sends the whole group, so there only what `_data.type` names is taken.
//!   `membersCanSendMessages` is WhatsApp's `announce` itself on NOWEB (a
//!   WAHA mislabel) and its negation on GOWS.
//! - `group.v2.join` / `group.v2.leave`: this account joined or left.
//!
//! `payload.timestamp` is seconds on WEBJS and milliseconds on NOWEB and
//! GOWS; [`super::when_ms`] tells them apart by size.

use serde_json::Value;

use super::{
    actor, flag, membership_event, participants_event, people, text, update_event, when_ms,
};
use crate::events::{Actor, Changes, EventType, Normalised, Parsed, person_jid};

pub fn parse(body: &Value) -> Parsed {
    let mut parsed = Parsed::default();
    let kind = text(body, "event").unwrap_or("");
    let session = text(body, "session");
    let engine = text(body, "engine").unwrap_or("").to_ascii_uppercase();
    let Some(p) = body.get("payload").filter(|p| p.is_object()) else {
        parsed.ignored = 1;
        return parsed;
    };
    let group = p.get("group").and_then(|g| text(g, "id"));
    let at = p
        .get("timestamp")
        .and_then(when_ms)
        .or_else(|| body.get("timestamp").and_then(when_ms));
    let who = raw_actor(p.get("_data"));
    let mut events: Vec<Normalised> = match kind {
        "group.v2.participants" => {
            let me = body.get("me");
            let own: Vec<String> = ["id", "lid", "jid"]
                .iter()
                .filter_map(|k| me.and_then(|m| text(m, k)).and_then(person_jid))
                .collect();
            let by_lid = me.and_then(|m| text(m, "lid")).and_then(person_jid);
            let by_phone = me.and_then(|m| text(m, "id")).and_then(person_jid);
            let Some(change) = p
                .get("type")
                .and_then(Value::as_str)
                .and_then(EventType::of_action)
            else {
                parsed.ignored = 1;
                return parsed;
            };
            let mut list = people(p.get("participants"));
            let mut out = Vec::new();
            let mine = |x: &crate::events::EventParticipant| {
                own.iter()
                    .any(|o| x.jid == *o || x.phone_number.as_deref() == Some(o))
            };
            // WAHA sends group.v2.join / group.v2.leave for this account
            // when it matches it by phone; a LID-addressed group can miss
            // that (devlikeapro/waha#2206): then this event says it.
            let matched_by_phone = list.iter().any(|x| {
                by_phone
                    .as_deref()
                    .is_some_and(|o| x.jid == o || x.phone_number.as_deref() == Some(o))
            });
            let matched_by_lid = list
                .iter()
                .any(|x| by_lid.as_deref().is_some_and(|o| x.jid == o));
            if matched_by_lid && !matched_by_phone {
                let membership = match change {
                    EventType::ParticipantsAdded => Some(EventType::GroupJoined),
                    EventType::ParticipantsRemoved => Some(EventType::GroupLeft),
                    _ => None,
                };
                if let Some(m) = membership {
                    out.extend(membership_event(m, group, who.clone(), at, session));
                }
            }
            if matches!(
                change,
                EventType::ParticipantsAdded | EventType::ParticipantsRemoved
            ) {
                list.retain(|x| !mine(x));
            }
            out.extend(participants_event(change, group, list, who, at, session));
            out
        }
        "group.v2.update" => p
            .get("group")
            .and_then(|g| update(g, p.get("_data"), &engine, group, who, at, session))
            .into_iter()
            .collect(),
        "group.v2.join" => membership_event(EventType::GroupJoined, group, who, at, session)
            .into_iter()
            .collect(),
        "group.v2.leave" => membership_event(EventType::GroupLeft, group, who, at, session)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let stamp = text(body, "id").map(str::to_string);
    for e in &mut events {
        e.stamp.clone_from(&stamp);
    }
    if events.is_empty() {
        parsed.ignored = 1;
    }
    parsed.events = events;
    parsed
}

/// The actor in the engine's raw event: `author` (WEBJS, NOWEB) or
/// whatsmeow's `SenderPN` / `Sender` (GOWS).
fn raw_actor(data: Option<&Value>) -> Option<Actor> {
    let d = data?;
    ["SenderPN", "Sender", "authorPn", "author"]
        .iter()
        .find_map(|k| actor(d.get(*k).filter(|v| !v.is_null())))
}

fn update(
    g: &Value,
    data: Option<&Value>,
    engine: &str,
    group: Option<&str>,
    who: Option<Actor>,
    at: Option<i64>,
    session: Option<&str>,
) -> Option<Normalised> {
    let mut changes = Changes::default();
    if engine == "WEBJS" {
        // The whole group, refetched: only the change `_data.type` names.
        match data.and_then(|d| text(d, "type")).unwrap_or("") {
            "subject" => changes.name = text(g, "subject").map(str::to_string),
            "description" => changes.topic = Some(text(g, "description").unwrap_or("").to_string()),
            _ => {}
        }
    } else {
        changes.name = text(g, "subject").map(str::to_string);
        changes.topic = g
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string);
        changes.invite_reset = text(g, "invite").map(|_| true);
        changes.join_approval = flag(g, "newMembersApprovalRequired");
        changes.announcement =
            flag(g, "membersCanSendMessages").map(|v| if engine == "GOWS" { !v } else { v });
        if engine == "NOWEB" {
            changes.member_add_mode = flag(g, "membersCanAddNewMember")
                .map(|all| if all { "all_member_add" } else { "admin_add" }.to_string());
        }
    }
    update_event(group, changes, who, at, session)
}

/// WAHA's ingress: `X-Webhook-Hmac`, HMAC-SHA512 of the body in hex, with
/// the webhook's `hmac.key` as the engine secret.
pub struct Waha;

impl crate::events::ingress::EngineHooks for Waha {
    const ENGINE: crate::engine::EngineKind = crate::engine::EngineKind::Waha;

    fn verify(
        headers: &lambda_http::http::HeaderMap,
        body: &[u8],
        secret: &str,
        _now_secs: i64,
    ) -> Result<(), crate::events::signature::SignatureError> {
        use crate::events::ingress::header;
        use crate::events::signature::{SignatureError, check_hmac_sha512_hex};
        if let Some(alg) = header(headers, "x-webhook-hmac-algorithm")
            && !alg.trim().eq_ignore_ascii_case("sha512")
        {
            return Err(SignatureError::Malformed("x-webhook-hmac-algorithm"));
        }
        check_hmac_sha512_hex(
            "x-webhook-hmac",
            header(headers, "x-webhook-hmac"),
            secret.as_bytes(),
            body,
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

    const GROUP: &str = "120363041234567890@g.us";

    fn envelope(event: &str, engine: &str, payload: Value) -> Value {
        json!({"id": "evt_01jabcdefghjkmnpqrstvwxyz0", "timestamp": 1733300000123i64,
               "event": event, "session": "default",
               "me": {"id": "5511999990000@c.us", "lid": "98765432101234@lid", "pushName": "Acme"},
               "payload": payload, "engine": engine, "environment": {"version": "2026.2.1"}})
    }

    #[test]
    fn participants_on_gows_in_milliseconds_with_the_actor_from_data() {
        let parsed = parse(&envelope(
            "group.v2.participants",
            "GOWS",
            json!({
            "group": {"id": GROUP}, "type": "leave", "timestamp": 1733300000456i64,
            "participants": [{"id": "5511977776666@c.us", "pn": "5511977776666@c.us", "role": "left"}],
            "_data": {"JID": GROUP, "Sender": "11111111111111@lid", "SenderPN": "5511988887777@s.whatsapp.net",
                      "Leave": ["5511977776666@s.whatsapp.net"]}}),
        ));
        assert_eq!(parsed.events.len(), 1);
        let e = &parsed.events[0];
        assert_eq!(e.kind, EventType::ParticipantsRemoved);
        assert_eq!(e.participants[0].jid, "5511977776666@s.whatsapp.net");
        assert_eq!(
            e.actor.as_ref().unwrap().jid,
            "5511988887777@s.whatsapp.net"
        );
        assert_eq!(e.at_ms, Some(1_733_300_000_456));
        assert_eq!(e.session.as_deref(), Some("default"));
    }

    #[test]
    fn webjs_seconds_and_our_own_leave_by_lid_only() {
        let parsed = parse(&envelope(
            "group.v2.participants",
            "WEBJS",
            json!({
            "group": {"id": GROUP}, "type": "promote", "timestamp": 1733300000,
            "participants": [{"id": "5511977776666@c.us", "role": "admin"}],
            "_data": {"author": "5511988887777@c.us", "type": "promote"}}),
        ));
        assert_eq!(parsed.events[0].kind, EventType::ParticipantsPromoted);
        assert_eq!(parsed.events[0].at_ms, Some(1_733_300_000_000));
        let lid_leave = parse(&envelope(
            "group.v2.participants",
            "NOWEB",
            json!({
            "group": {"id": GROUP}, "type": "leave", "timestamp": 1733300000999i64,
            "participants": [{"id": "98765432101234@lid", "role": "left"}]}),
        ));
        let kinds: Vec<EventType> = lid_leave.events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventType::GroupLeft]);
        let phone_leave = parse(&envelope(
            "group.v2.participants",
            "NOWEB",
            json!({
            "group": {"id": GROUP}, "type": "leave", "timestamp": 1733300000999i64,
            "participants": [{"id": "5511999990000@c.us", "role": "left"}]}),
        ));
        // group.v2.leave says it.
        assert_eq!(phone_leave.events.len(), 0);
        assert_eq!(phone_leave.ignored, 1);
    }

    #[test]
    fn updates_per_engine_joins_and_leaves() {
        let gows = parse(&envelope(
            "group.v2.update",
            "GOWS",
            json!({
            "group": {"id": GROUP, "subject": "Team B", "membersCanSendMessages": false},
            "timestamp": 1733300000456i64, "_data": {"SenderPN": "5511988887777@s.whatsapp.net"}}),
        ));
        let c = gows.events[0].changes.as_ref().unwrap();
        assert_eq!(c.name.as_deref(), Some("Team B"));
        assert_eq!(c.announcement, Some(true));
        let noweb = parse(&envelope(
            "group.v2.update",
            "NOWEB",
            json!({
            "group": {"id": GROUP, "membersCanSendMessages": true}, "timestamp": 1733300000456i64}),
        ));
        assert_eq!(
            noweb.events[0].changes.as_ref().unwrap().announcement,
            Some(true)
        );
        let webjs = parse(&envelope(
            "group.v2.update",
            "WEBJS",
            json!({
            "group": {"id": GROUP, "subject": "Same", "description": "New topic", "invite": "AbC"},
            "timestamp": 1733300000, "_data": {"type": "description", "author": "5511988887777@c.us"}}),
        ));
        assert_eq!(
            webjs.events[0].changes,
            Some(Changes {
                topic: Some("New topic".into()),
                ..Changes::default()
            })
        );
        let nothing = parse(&envelope(
            "group.v2.update",
            "NOWEB",
            json!({"group": {"id": GROUP}, "timestamp": 1}),
        ));
        assert_eq!(nothing.ignored, 1);
        let join = parse(&envelope(
            "group.v2.join",
            "GOWS",
            json!({"group": {"id": GROUP, "subject": "X"}, "timestamp": 1733300000456i64}),
        ));
        assert_eq!(join.events[0].kind, EventType::GroupJoined);
        let leave = parse(&envelope(
            "group.v2.leave",
            "GOWS",
            json!({"group": {"id": GROUP}, "timestamp": 1733300000456i64}),
        ));
        assert_eq!(leave.events[0].kind, EventType::GroupLeft);
        assert_eq!(
            parse(&envelope("message", "GOWS", json!({"body": "hi"}))).ignored,
            1
        );
    }
}
