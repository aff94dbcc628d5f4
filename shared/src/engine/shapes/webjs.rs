//! whatsapp-web.js's shapes (WAHA on WEBJS).

use serde_json::Value;

use super::{count, flag, member, our_id, text};
use crate::engine::groups::{Group, Member, epoch_to_rfc3339};

/// whatsapp-web.js's serialised id: `{_serialized}` or a bare string.
fn wid(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(our_id(s)),
        Value::Object(o) => o
            .get("_serialized")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(our_id),
        _ => None,
    }
}

/// whatsapp-web.js's `GroupChat` (WAHA on WEBJS): `{id, name,
/// groupMetadata: {id, subject, desc, owner, creation, announce, restrict,
/// membershipApprovalMode, size, participants: [{id, isAdmin,
/// isSuperAdmin}], isParentGroup, parentGroup}}`.
pub fn chat(v: &Value) -> Option<Group> {
    let meta = v.get("groupMetadata").unwrap_or(&Value::Null);
    let jid = wid(meta.get("id")).or_else(|| wid(v.get("id")))?;
    let participants = meta
        .get("participants")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some(member(
                        wid(p.get("id"))?,
                        None,
                        None,
                        flag(p, "isAdmin"),
                        flag(p, "isSuperAdmin"),
                    ))
                })
                .collect::<Vec<_>>()
        });
    Some(Group {
        jid,
        name: text(meta, "subject")
            .or_else(|| text(v, "name"))
            .unwrap_or_default(),
        topic: text(meta, "desc"),
        owner: wid(meta.get("owner")),
        created_at: epoch_to_rfc3339(meta.get("creation")),
        is_announce: flag(meta, "announce"),
        is_locked: flag(meta, "restrict"),
        join_approval: meta.get("membershipApprovalMode").and_then(Value::as_bool),
        members_count: count(meta, "size"),
        participants,
        is_community: meta.get("isParentGroup").and_then(Value::as_bool),
        parent_jid: wid(meta.get("parentGroup")),
        is_announcement_group: meta
            .get("defaultSubgroup")
            .and_then(Value::as_bool)
            .filter(|a| *a),
    })
}

/// whatsapp-web.js's `CreateGroupResult` (WAHA on WEBJS): `{title, gid,
/// participants: {"<id>": {statusCode, …}}}`; those added (200) are the
/// members known.
pub fn created(v: &Value) -> Option<Group> {
    let jid = wid(v.get("gid"))?;
    let members: Vec<Member> = v
        .get("participants")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter(|(_, r)| r.get("statusCode").and_then(Value::as_i64) == Some(200))
                .map(|(id, _)| member(our_id(id), None, None, false, false))
                .collect()
        })
        .unwrap_or_default();
    Some(Group {
        jid,
        name: text(v, "title").unwrap_or_default(),
        members_count: u32::try_from(members.len()).unwrap_or(u32::MAX),
        participants: Some(members),
        ..Group::default()
    })
}
