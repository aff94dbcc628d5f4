//! Each engine's webhook payloads, read into [`Normalised`] changes. Pure
//! functions over `serde_json::Value`: a payload shape this code does not
//! know is counted as ignored, never an error (the engine would retry it
//! forever). Sources and commits are in `docs/ENGINES.md` ("Webhooks").

pub mod evolution;
pub mod session_service;
pub mod waha;
pub mod wuts;

use serde_json::Value;

use super::{Actor, Changes, EventParticipant, EventType, Normalised, group_jid, person_jid};

/// The text at `key`, when it is a non-empty string.
pub(crate) fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The first of `keys` that holds a non-empty string.
pub(crate) fn first_text<'v>(v: &'v Value, keys: &[&str]) -> Option<&'v str> {
    keys.iter().find_map(|k| text(v, k))
}

/// A boolean at `key`: `true`/`false`, or the strings and numbers engines
/// use for them.
pub(crate) fn flag(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "on" | "1" => Some(true),
            "false" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A non-negative whole number at `key` (number or numeric string).
pub(crate) fn number(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An engine timestamp in ms: seconds or milliseconds since the epoch (a
/// number under 10^11 is seconds), or RFC 3339 text (any offset).
pub(crate) fn when_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            let n = n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?;
            (n > 0).then(|| if n < 100_000_000_000 { n * 1_000 } else { n })
        }
        Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return when_ms(&Value::from(n));
            }
            let at = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()?;
            // Go's zero time means "not set".
            (at.year() > 1970).then(|| (at.unix_timestamp_nanos() / 1_000_000) as i64)
        }
        _ => None,
    }
}

/// The people in a participants list: JID strings, or objects naming the
/// person under one of the usual keys (with their phone-number and LID
/// forms beside it where the engine gives them).
pub(crate) fn people(list: Option<&Value>) -> Vec<EventParticipant> {
    let Some(Value::Array(items)) = list else {
        return Vec::new();
    };
    let mut out: Vec<EventParticipant> = items.iter().filter_map(person).collect();
    out.sort();
    out.dedup();
    out
}

/// One participant: a JID string, or an object.
pub(crate) fn person(item: &Value) -> Option<EventParticipant> {
    match item {
        Value::String(s) => EventParticipant::from_engine(s),
        Value::Object(_) => {
            let id = first_text(item, &["id", "jid", "JID", "participant"])
                .or_else(|| item.get("id").and_then(|id| text(id, "_serialized")));
            let pn = first_text(item, &["phoneNumber", "phone_number", "pn", "PhoneNumber"]);
            let lid = first_text(item, &["lid", "LID"]);
            let jid = id
                .and_then(person_jid)
                .or_else(|| pn.and_then(person_jid))
                .or_else(|| lid.and_then(person_jid))?;
            Some(EventParticipant::with(jid, pn, lid))
        }
        _ => None,
    }
}

/// An actor from a JID (string or `{id}` object), when it is a person.
pub(crate) fn actor(v: Option<&Value>) -> Option<Actor> {
    let v = v?;
    let raw = match v {
        Value::String(s) => s.as_str(),
        Value::Object(_) => first_text(v, &["id", "jid", "JID", "_serialized"])?,
        _ => return None,
    };
    person_jid(raw).map(|jid| Actor { jid })
}

/// A participants change, when the group and at least one person are there.
pub(crate) fn participants_event(
    kind: EventType,
    group: Option<&str>,
    participants: Vec<EventParticipant>,
    actor: Option<Actor>,
    at_ms: Option<i64>,
    session: Option<&str>,
) -> Option<Normalised> {
    let group_jid = group_jid(group?)?;
    if participants.is_empty() {
        return None;
    }
    Some(Normalised {
        kind,
        group_jid,
        actor,
        participants,
        changes: None,
        at_ms,
        stamp: None,
        session: session.map(str::to_string),
    })
}

/// A `group.updated`, when something changed.
pub(crate) fn update_event(
    group: Option<&str>,
    changes: Changes,
    actor: Option<Actor>,
    at_ms: Option<i64>,
    session: Option<&str>,
) -> Option<Normalised> {
    let group_jid = group_jid(group?)?;
    if changes.is_empty() {
        return None;
    }
    Some(Normalised {
        kind: EventType::GroupUpdated,
        group_jid,
        actor,
        participants: Vec::new(),
        changes: Some(changes),
        at_ms,
        stamp: None,
        session: session.map(str::to_string),
    })
}

/// A `group.joined` / `group.left` of this account.
pub(crate) fn membership_event(
    kind: EventType,
    group: Option<&str>,
    actor: Option<Actor>,
    at_ms: Option<i64>,
    session: Option<&str>,
) -> Option<Normalised> {
    Some(Normalised {
        kind,
        group_jid: group_jid(group?)?,
        actor,
        participants: Vec::new(),
        changes: None,
        at_ms,
        stamp: None,
        session: session.map(str::to_string),
    })
}

/// `admin_add` / `all_member_add` from the spellings engines use.
pub(crate) fn member_add_mode(raw: &str) -> Option<String> {
    match raw.to_ascii_lowercase().as_str() {
        "admin_add" | "admins" | "admin" => Some("admin_add".into()),
        "all_member_add" | "all" | "all_members" | "everyone" => Some("all_member_add".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_in_seconds_milliseconds_and_text() {
        assert_eq!(when_ms(&json!(1_733_300_000)), Some(1_733_300_000_000));
        assert_eq!(
            when_ms(&json!(1_733_300_000_123i64)),
            Some(1_733_300_000_123)
        );
        assert_eq!(when_ms(&json!("1733300000")), Some(1_733_300_000_000));
        assert_eq!(
            when_ms(&json!("2024-12-04T05:13:20-03:00")),
            Some(1_733_300_000_000)
        );
        assert_eq!(when_ms(&json!("0001-01-01T00:00:00Z")), None);
        assert_eq!(when_ms(&json!(null)), None);
    }

    #[test]
    fn people_from_strings_and_objects() {
        let list = json!([
            "5511999999999:12@s.whatsapp.net",
            "5511888888888@c.us",
            {"id": "95511888888888@lid", "phoneNumber": "5511888888888@s.whatsapp.net", "admin": null},
            {"id": {"_serialized": "5511777777777@c.us"}},
            "120363039000000000@g.us",
            42
        ]);
        let got = people(Some(&list));
        let jids: Vec<&str> = got.iter().map(|p| p.jid.as_str()).collect();
        assert_eq!(
            jids,
            [
                "5511777777777@s.whatsapp.net",
                "5511888888888@s.whatsapp.net",
                "5511999999999@s.whatsapp.net",
                "95511888888888@lid"
            ]
        );
        let lid = got.iter().find(|p| p.jid.ends_with("@lid")).unwrap();
        assert_eq!(
            lid.phone_number.as_deref(),
            Some("5511888888888@s.whatsapp.net")
        );
        assert_eq!(lid.lid.as_deref(), Some("95511888888888@lid"));
    }
}
