//! Baileys' shapes (Evolution API, WAHA on NOWEB).

use serde_json::Value;

use super::{count, flag, member, our_id, text};
use crate::engine::groups::{Group, epoch_to_rfc3339};
use crate::engine::wire::expiration;
use crate::engine::{AddRequest, EngineParticipant};

/// Baileys' `GroupMetadata` (Evolution's create reply and projections,
/// WAHA on NOWEB): `{id, subject, desc, owner, creation, announce,
/// restrict, joinApprovalMode, size, participants: [{id, phoneNumber?,
/// lid?, admin}], isCommunity, linkedParent}`.
pub fn group(v: &Value) -> Option<Group> {
    let jid = text(v, "id")?;
    let participants = v.get("participants").and_then(Value::as_array).map(|list| {
        list.iter()
            .filter_map(|p| {
                let id = our_id(p.get("id")?.as_str()?);
                let admin = p.get("admin").and_then(Value::as_str);
                Some(member(
                    id,
                    text(p, "phoneNumber"),
                    text(p, "lid"),
                    admin == Some("admin"),
                    admin == Some("superadmin"),
                ))
            })
            .collect::<Vec<_>>()
    });
    Some(Group {
        jid,
        name: text(v, "subject").unwrap_or_default(),
        topic: text(v, "desc"),
        owner: text(v, "owner").map(|o| our_id(&o)),
        created_at: epoch_to_rfc3339(v.get("creation")),
        is_announce: flag(v, "announce"),
        is_locked: flag(v, "restrict"),
        join_approval: v.get("joinApprovalMode").and_then(Value::as_bool),
        members_count: count(v, "size"),
        participants,
        is_community: v.get("isCommunity").and_then(Value::as_bool),
        parent_jid: text(v, "linkedParent"),
        is_announcement_group: v
            .get("isCommunityAnnounce")
            .and_then(Value::as_bool)
            .filter(|a| *a),
    })
}

/// One entry of Baileys' `groupParticipantsUpdate` result (Evolution, and
/// WAHA on NOWEB): `{status: "<code>", jid, content: <participant node>}`.
pub fn participant(v: &Value) -> Option<EngineParticipant> {
    let jid = v.get("jid")?.as_str()?.to_string();
    let status: i64 = match v.get("status")? {
        Value::String(s) => s.trim().parse().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    let content = v.get("content");
    let attrs = content.and_then(|c| c.get("attrs"));
    let phone_number = attrs
        .and_then(|a| a.get("phone_number"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let add_request = content
        .and_then(|c| c.get("content"))
        .and_then(Value::as_array)
        .and_then(|children| {
            children
                .iter()
                .find(|c| c.get("tag").and_then(Value::as_str) == Some("add_request"))
        })
        .and_then(|node| {
            let attrs = node.get("attrs")?;
            Some(AddRequest {
                code: attrs.get("code")?.as_str()?.to_string(),
                expiration: attrs.get("expiration").and_then(expiration),
            })
        });
    Some(EngineParticipant {
        lid: jid.ends_with("@lid").then(|| jid.clone()),
        phone_number: phone_number
            .or_else(|| jid.ends_with("@s.whatsapp.net").then(|| jid.clone())),
        jid,
        is_admin: false,
        is_super_admin: false,
        error: (status != 200).then_some(status),
        add_request,
        invite_sent: None,
    })
}
