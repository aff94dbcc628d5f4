//! WUTS (docs.wuts.com.br) webhooks: `group.info` and `group.joined`,
//! whatsmeow's `events.GroupInfo` / `events.JoinedGroup` (Go field names as
//! JSON keys: `JID`, `Sender`, `Join[]`, `Leave[]`, `Promote[]`,
//! `Demote[]`, `Name{Name}`, `Topic{Topic}`, …). The WUTS pages stored for
//! this project stop before the envelope's description, so the envelope is
//! read leniently: the kind under `event`, `type` or `event_type` (whatsmeow's
//! own names `GroupInfo` / `JoinedGroup` too, as wuzapi posts them), the
//! struct under `data`, `payload` or `event`, or the body itself.

use serde_json::Value;

use super::{
    actor, first_text, flag, member_add_mode, membership_event, number, participants_event, people,
    text, update_event, when_ms,
};
use crate::events::{Changes, EventType, Normalised, Parsed};

pub fn parse(body: &Value) -> Parsed {
    let mut parsed = Parsed::default();
    let kind = first_text(body, &["event", "type", "event_type"]).unwrap_or("");
    let data = ["data", "payload", "event"]
        .iter()
        .find_map(|k| body.get(*k).filter(|v| v.is_object()))
        .unwrap_or(body);
    match kind {
        "group.info" | "GroupInfo" => parsed.events = group_info(data),
        "group.joined" | "JoinedGroup" => {
            let at = data.get("Timestamp").and_then(when_ms);
            parsed.events = membership_event(
                EventType::GroupJoined,
                text(data, "JID"),
                actor(
                    data.get("SenderPN")
                        .filter(|v| !v.is_null())
                        .or(data.get("Sender")),
                ),
                at,
                None,
            )
            .into_iter()
            .collect();
        }
        _ => parsed.ignored = 1,
    }
    if parsed.events.is_empty() && parsed.ignored == 0 {
        parsed.ignored = 1;
    }
    parsed
}

/// One `GroupInfo`: a participants event per non-empty list, and a
/// `group.updated` with whatever else changed.
fn group_info(d: &Value) -> Vec<Normalised> {
    let group = text(d, "JID");
    let at = d.get("Timestamp").and_then(when_ms);
    let who = actor(
        d.get("SenderPN")
            .filter(|v| !v.is_null())
            .or(d.get("Sender")),
    );
    let mut out: Vec<Normalised> = [
        ("Join", EventType::ParticipantsAdded),
        ("Leave", EventType::ParticipantsRemoved),
        ("Promote", EventType::ParticipantsPromoted),
        ("Demote", EventType::ParticipantsDemoted),
    ]
    .into_iter()
    .filter_map(|(key, kind)| {
        participants_event(kind, group, people(d.get(key)), who.clone(), at, None)
    })
    .collect();
    let nested = |key: &str| d.get(key).filter(|v| v.is_object());
    let mut changes = Changes {
        name: nested("Name")
            .and_then(|n| text(n, "Name"))
            .map(str::to_string),
        topic: nested("Topic").map(|t| {
            if flag(t, "TopicDeleted") == Some(true) {
                String::new()
            } else {
                text(t, "Topic").unwrap_or("").to_string()
            }
        }),
        locked: nested("Locked").and_then(|l| flag(l, "IsLocked")),
        announcement: nested("Announce").and_then(|a| flag(a, "IsAnnounce")),
        join_approval: nested("MembershipApprovalMode")
            .and_then(|m| flag(m, "IsJoinApprovalRequired")),
        ephemeral_seconds: nested("Ephemeral").map(|e| {
            if flag(e, "IsEphemeral") == Some(false) {
                0
            } else {
                number(e, "DisappearingTimer").unwrap_or(0)
            }
        }),
        invite_reset: text(d, "NewInviteLink").map(|_| true),
        member_add_mode: text(d, "MemberAddMode").and_then(member_add_mode),
    };
    if changes.topic.as_deref() == Some("") && nested("Topic").is_none() {
        changes.topic = None;
    }
    out.extend(update_event(group, changes, who, at, None));
    out
}

/// WUTS's ingress. The stored WUTS pages stop before the signature's
/// description; the hook takes an HMAC-SHA256 of the body in hex (the
/// scheme of wuzapi, the other whatsmeow service: `X-Hmac-Signature`, or
/// `X-Webhook-Signature`, `sha256=` prefix allowed) or the secret itself in
/// a configured `X-Webhook-Secret` header (WUTS sends configured headers).
pub struct Wuts;

impl crate::events::ingress::EngineHooks for Wuts {
    const ENGINE: crate::engine::EngineKind = crate::engine::EngineKind::Wuts;

    fn verify(
        headers: &lambda_http::http::HeaderMap,
        body: &[u8],
        secret: &str,
        _now_secs: i64,
    ) -> Result<(), crate::events::signature::SignatureError> {
        use crate::events::ingress::header;
        use crate::events::signature::{check_hmac_sha256_hex, check_shared_secret};
        if let Some(given) = header(headers, "x-webhook-secret") {
            return check_shared_secret("x-webhook-secret", Some(given), secret);
        }
        let (name, given) = match header(headers, "x-hmac-signature") {
            Some(g) => ("x-hmac-signature", Some(g)),
            None => (
                "x-webhook-signature",
                header(headers, "x-webhook-signature"),
            ),
        };
        check_hmac_sha256_hex(name, given, secret.as_bytes(), body)
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
    fn group_info_with_joins_and_an_announce_change() {
        let body = json!({"event": "group.info", "data": {
            "JID": "120363041234567890@g.us", "Notify": "Ana",
            "Sender": "98765432101234@lid", "SenderPN": "5511999990000@s.whatsapp.net",
            "Timestamp": "2026-06-15T07:05:00-03:00",
            "Name": null, "Topic": null, "Locked": null,
            "Announce": {"IsAnnounce": true, "AnnounceVersionID": "171"},
            "Ephemeral": null, "MembershipApprovalMode": null, "NewInviteLink": null,
            "Join": ["12345678901234@lid"], "Leave": null, "Promote": null, "Demote": null}});
        let parsed = parse(&body);
        assert_eq!(parsed.ignored, 0);
        assert_eq!(parsed.events.len(), 2, "{:?}", parsed.events);
        let added = &parsed.events[0];
        assert_eq!(added.kind, EventType::ParticipantsAdded);
        assert_eq!(added.participants[0].jid, "12345678901234@lid");
        assert_eq!(
            added.actor.as_ref().unwrap().jid,
            "5511999990000@s.whatsapp.net"
        );
        assert_eq!(added.at_ms, Some(1_781_517_900_000));
        let updated = &parsed.events[1];
        assert_eq!(updated.kind, EventType::GroupUpdated);
        assert_eq!(
            updated.changes,
            Some(Changes {
                announcement: Some(true),
                ..Changes::default()
            })
        );
    }

    #[test]
    fn joined_group_and_unknown_kinds() {
        let joined = parse(&json!({"type": "JoinedGroup", "event": {
            "Reason": "invite", "JID": "120363041234567890@g.us", "Sender": null,
            "Name": "Vendas", "Participants": []}}));
        assert_eq!(joined.events.len(), 1);
        assert_eq!(joined.events[0].kind, EventType::GroupJoined);
        assert_eq!(
            parse(&json!({"event": "message.received", "data": {}})).ignored,
            1
        );
        // A change with nothing in it is ignored, not an empty event.
        assert_eq!(
            parse(&json!({"event": "group.info", "data": {"JID": "120363041234567890@g.us"}}))
                .ignored,
            1
        );
    }
}
