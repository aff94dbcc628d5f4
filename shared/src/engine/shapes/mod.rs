//! The reply shapes several adapters read: the objects an engine passes on
//! from the WhatsApp library inside it. Baileys' (Evolution API, WAHA on
//! NOWEB), whatsmeow's (WAHA on GOWS) and whatsapp-web.js's (WAHA on
//! WEBJS). Pure functions over `serde_json::Value`: a field we cannot read
//! is absent, never a panic.

pub mod baileys;
pub mod webjs;
pub mod whatsmeow;

use serde_json::Value;

use super::groups::{Group, Member};

pub(crate) fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub(crate) fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// An id in our form: `@c.us` is `@s.whatsapp.net`, a `:device` suffix goes.
pub fn our_id(id: &str) -> String {
    let (user, server) = id.split_once('@').unwrap_or((id, ""));
    let user = user.split(':').next().unwrap_or(user);
    match server {
        "c.us" => format!("{user}@s.whatsapp.net"),
        "" => user.to_string(),
        other => format!("{user}@{other}"),
    }
}

pub(crate) fn member(
    jid: String,
    phone: Option<String>,
    lid: Option<String>,
    admin: bool,
    sup: bool,
) -> Member {
    let phone_number = phone
        .map(|p| our_id(&p))
        .or_else(|| jid.ends_with("@s.whatsapp.net").then(|| jid.clone()));
    let lid = lid
        .map(|l| our_id(&l))
        .or_else(|| jid.ends_with("@lid").then(|| jid.clone()));
    Member {
        jid,
        phone_number,
        lid,
        is_admin: admin || sup,
        is_super_admin: sup,
    }
}

pub(crate) fn count(v: &Value, key: &str) -> u32 {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

/// Any of the shapes above, told apart by their keys (WAHA passes its
/// internal engine's object on as it is).
pub fn from_any(v: &Value) -> Option<Group> {
    if v.get("JID").is_some() {
        whatsmeow::group(v)
    } else if v.get("gid").is_some() {
        webjs::created(v)
    } else if v.get("groupMetadata").is_some() {
        webjs::chat(v)
    } else if v.get("id").is_some_and(Value::is_object) {
        // WA-Web's bare group metadata (WAHA on WEBJS's invite preview):
        // the `groupMetadata` of a chat, its `id` a wid object.
        webjs::chat(&serde_json::json!({ "groupMetadata": v }))
    } else {
        baileys::group(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn baileys_metadata() {
        let g = baileys::group(&json!({
            "id": "120363000000000001@g.us", "subject": "Team", "desc": "About",
            "owner": "5511999999999@s.whatsapp.net", "creation": 1715000000,
            "announce": true, "restrict": false, "joinApprovalMode": true, "size": 2,
            "participants": [
                {"id": "1234@lid", "phoneNumber": "5511999999999@s.whatsapp.net", "admin": "superadmin"},
                {"id": "5511888888888@s.whatsapp.net", "admin": null}
            ],
            "isCommunity": false, "linkedParent": "120363000000000009@g.us"
        }))
        .unwrap()
        .checked()
        .unwrap();
        assert_eq!(g.name, "Team");
        assert_eq!(g.topic.as_deref(), Some("About"));
        assert_eq!(g.created_at.as_deref(), Some("2024-05-06T12:53:20Z"));
        assert!(g.is_announce && !g.is_locked && g.join_approval == Some(true));
        assert_eq!(g.members_count, 2);
        let p = g.participants.unwrap();
        assert!(p[0].is_super_admin && p[0].is_admin);
        assert_eq!(p[0].lid.as_deref(), Some("1234@lid"));
        assert_eq!(
            p[0].phone_number.as_deref(),
            Some("5511999999999@s.whatsapp.net")
        );
        assert!(!p[1].is_admin);
        assert_eq!(g.parent_jid.as_deref(), Some("120363000000000009@g.us"));
    }

    #[test]
    fn gows_group_info() {
        let g = from_any(&json!({
            "JID": "120363000000000001@g.us", "OwnerJID": "2803@lid",
            "OwnerPN": "1845@s.whatsapp.net", "Name": "N", "Topic": "",
            "IsLocked": true, "IsAnnounce": false, "IsJoinApprovalRequired": false,
            "GroupCreated": "2025-11-22T00:00:34+07:00", "IsParent": false, "LinkedParentJID": "",
            "Participants": [{"JID": "2803@lid", "PhoneNumber": "1845@s.whatsapp.net",
                              "IsAdmin": true, "IsSuperAdmin": true}]
        }))
        .unwrap()
        .checked()
        .unwrap();
        assert_eq!(g.owner.as_deref(), Some("1845@s.whatsapp.net"));
        assert_eq!(g.created_at.as_deref(), Some("2025-11-21T17:00:34Z"));
        assert_eq!(g.topic, None);
        assert_eq!(g.parent_jid, None);
        assert!(g.is_locked);
        assert_eq!(g.members_count, 1);
    }

    #[test]
    fn webjs_shapes() {
        let chat = from_any(&json!({
            "id": {"_serialized": "120363000000000001@g.us"}, "name": "xxx",
            "groupMetadata": {"id": {"_serialized": "120363000000000001@g.us"},
              "subject": "xxx", "creation": 1732526981, "owner": {"_serialized": "852@c.us"},
              "membershipApprovalMode": true, "size": 6,
              "participants": [{"id": {"_serialized": "852@c.us"}, "isAdmin": true, "isSuperAdmin": false}]}
        }))
        .unwrap();
        assert_eq!(chat.owner.as_deref(), Some("852@s.whatsapp.net"));
        assert_eq!(chat.join_approval, Some(true));
        assert_eq!(chat.members_count, 6);
        let created = from_any(&json!({
            "title": "Group name", "gid": {"_serialized": "120363000000000002@g.us"},
            "participants": {"123@c.us": {"statusCode": 200}, "456@c.us": {"statusCode": 403}}
        }))
        .unwrap();
        assert_eq!(created.name, "Group name");
        assert_eq!(created.participants.unwrap().len(), 1);
    }
}
