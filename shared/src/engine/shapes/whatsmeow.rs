//! whatsmeow's shapes as GOWS sends them (WAHA on GOWS; Go field names).

use serde_json::Value;

use super::{count, flag, member, our_id, text};
use crate::engine::groups::{Group, rfc3339_utc};
use crate::engine::wire::expiration;
use crate::engine::{AddRequest, EngineParticipant};

/// whatsmeow's `types.GroupInfo` as GOWS sends it (Go field names).
pub fn group(v: &Value) -> Option<Group> {
    let jid = text(v, "JID")?;
    let participants = v.get("Participants").and_then(Value::as_array).map(|list| {
        list.iter()
            .filter_map(|p| {
                Some(member(
                    our_id(p.get("JID")?.as_str()?),
                    text(p, "PhoneNumber"),
                    text(p, "LID"),
                    flag(p, "IsAdmin"),
                    flag(p, "IsSuperAdmin"),
                ))
            })
            .collect::<Vec<_>>()
    });
    Some(Group {
        jid,
        name: text(v, "Name").unwrap_or_default(),
        topic: text(v, "Topic"),
        owner: text(v, "OwnerPN")
            .or_else(|| text(v, "OwnerJID"))
            .map(|o| our_id(&o)),
        created_at: rfc3339_utc(v.get("GroupCreated")),
        is_announce: flag(v, "IsAnnounce"),
        is_locked: flag(v, "IsLocked"),
        join_approval: v.get("IsJoinApprovalRequired").and_then(Value::as_bool),
        members_count: count(v, "ParticipantCount"),
        participants,
        is_community: v.get("IsParent").and_then(Value::as_bool),
        parent_jid: text(v, "LinkedParentJID"),
        is_announcement_group: v
            .get("IsDefaultSubGroup")
            .and_then(Value::as_bool)
            .filter(|a| *a),
    })
}

/// whatsmeow's `types.GroupParticipant`, Go field names as they are.
pub fn participant(v: &Value) -> Option<EngineParticipant> {
    let name = |key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(our_id)
    };
    let jid = name("JID")?;
    let add_request = v.get("AddRequest").filter(|a| !a.is_null()).and_then(|a| {
        Some(AddRequest {
            code: a.get("Code")?.as_str()?.to_string(),
            expiration: a.get("Expiration").and_then(expiration),
        })
    });
    // An `Error` we cannot read makes the entry unreadable: never "done".
    let error = match v.get("Error") {
        None | Some(Value::Null) => 0,
        Some(e) => e.as_i64()?,
    };
    Some(EngineParticipant {
        phone_number: name("PhoneNumber"),
        lid: name("LID").or_else(|| jid.ends_with("@lid").then(|| jid.clone())),
        jid,
        is_admin: v.get("IsAdmin").and_then(Value::as_bool).unwrap_or(false),
        is_super_admin: v
            .get("IsSuperAdmin")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        error: (error != 0).then_some(error),
        add_request,
        invite_sent: None,
    })
}
