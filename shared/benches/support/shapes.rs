//! Engine replies of a given size in each engine's shape, for the groups
//! bench and the memory measurement.

#![allow(dead_code)]

use serde_json::{Value, json};
use shared::engine::EngineKind;

fn group_jid(i: usize) -> String {
    format!("1203630{i:011}@g.us")
}

fn member(i: usize) -> String {
    format!("55119{i:08}@s.whatsapp.net")
}

const CREATED: i64 = 1_715_000_000;

fn wuts_group(i: usize, members: usize) -> Value {
    let mut g = json!({
        "jid": group_jid(i), "name": format!("Group number {i}"), "topic": "Weekly planning and news",
        "owner": member(0), "created_at": "2024-05-06T12:53:20Z", "is_announce": false,
        "is_locked": i.is_multiple_of(3), "join_approval": false, "members_count": 42,
    });
    if members > 0 {
        g["participants"] = json!((0..members).map(|m| json!({
            "jid": member(m), "phone_number": member(m), "is_admin": m == 0, "is_super_admin": m == 0,
        })).collect::<Vec<_>>());
    }
    g
}

fn baileys_group(i: usize, members: usize) -> Value {
    let mut g = json!({
        "id": group_jid(i), "subject": format!("Group number {i}"), "subjectOwner": member(0),
        "subjectTime": CREATED, "pictureUrl": format!("https://pps.whatsapp.net/v/t61.24694-24/{i}_n.jpg?ccb=11-4&oh=01_Q5AaIAbCdEfGhIjKlMnOp&oe=6700AAAA&_nc_sid=5e03e0"),
        "size": 42, "creation": CREATED, "owner": member(0), "desc": "Weekly planning and news",
        "descId": "3EB0C0A1B2C3D4E5", "restrict": i.is_multiple_of(3), "announce": false,
        "isCommunity": false, "isCommunityAnnounce": false,
    });
    if members > 0 {
        g["participants"] = json!((0..members).map(|m| json!({
            "id": member(m), "admin": if m == 0 { Value::from("superadmin") } else { Value::Null },
        })).collect::<Vec<_>>());
    }
    g
}

fn gows_group(i: usize, members: usize) -> Value {
    json!({
        "JID": group_jid(i), "OwnerJID": member(0), "OwnerPN": member(0), "Name": format!("Group number {i}"),
        "NameSetAt": "2024-05-06T12:53:20Z", "NameSetBy": member(0), "Topic": "Weekly planning and news",
        "TopicID": "3EB0C0A1B2C3D4E5", "TopicSetAt": "2024-05-06T12:53:20Z", "TopicDeleted": false,
        "IsLocked": i.is_multiple_of(3), "IsAnnounce": false, "AnnounceVersionID": "1715000000000000",
        "IsEphemeral": false, "DisappearingTimer": 0, "IsIncognito": false, "IsParent": false,
        "DefaultMembershipApprovalMode": "", "LinkedParentJID": "", "IsDefaultSubGroup": false,
        "IsJoinApprovalRequired": false, "AddressingMode": "pn", "GroupCreated": "2024-05-06T12:53:20Z",
        "ParticipantVersionID": "1715000000000000", "MemberAddMode": "admin_add",
        "Participants": (0..members).map(|m| json!({
            "JID": member(m), "PhoneNumber": member(m), "LID": "", "IsAdmin": m == 0,
            "IsSuperAdmin": m == 0, "DisplayName": "", "Error": 0, "AddRequest": null,
        })).collect::<Vec<_>>(),
    })
}

fn webjs_chat(i: usize, members: usize) -> Value {
    let wid = |jid: String| {
        let jid = jid.replace("@s.whatsapp.net", "@c.us");
        let (user, server) = jid.split_once('@').unwrap();
        json!({"server": server, "user": user, "_serialized": jid})
    };
    let mut meta = json!({
        "id": wid(group_jid(i)), "creation": CREATED, "owner": wid(member(0)),
        "subject": format!("Group number {i}"), "subjectTime": CREATED, "desc": "Weekly planning and news",
        "restrict": i.is_multiple_of(3), "announce": false, "membershipApprovalMode": false, "size": 42,
        "isParentGroup": false,
    });
    if members > 0 {
        meta["participants"] = json!(
            (0..members)
                .map(|m| json!({
                    "id": wid(member(m)), "isAdmin": m == 0, "isSuperAdmin": m == 0,
                }))
                .collect::<Vec<_>>()
        );
    }
    json!({"id": wid(group_jid(i)), "name": format!("Group number {i}"), "isGroup": true,
           "unreadCount": 0, "timestamp": CREATED, "archived": false, "pinned": false,
           "groupMetadata": meta})
}

/// A list of `n` groups (no participants) in each engine's reply shape.
pub fn lists(n: usize) -> Vec<(&'static str, EngineKind, Vec<u8>)> {
    ["wuts", "evolution", "waha/GOWS", "waha/NOWEB", "waha/WEBJS"]
        .iter()
        .filter_map(|name| list_of(name, n))
        .collect()
}

/// One engine shape's list of `n` groups.
pub fn list_of(name: &str, n: usize) -> Option<(&'static str, EngineKind, Vec<u8>)> {
    let bytes = |v: Value| serde_json::to_vec(&v).unwrap();
    Some(match name {
        "wuts" => (
            "wuts",
            EngineKind::Wuts,
            bytes(
                json!({"success": true, "groups": (0..n).map(|i| wuts_group(i, 0)).collect::<Vec<_>>()}),
            ),
        ),
        "evolution" => (
            "evolution",
            EngineKind::Evolution,
            bytes(json!(
                (0..n).map(|i| baileys_group(i, 0)).collect::<Vec<_>>()
            )),
        ),
        "waha/GOWS" => (
            "waha/GOWS",
            EngineKind::Waha,
            bytes(json!((0..n).map(|i| gows_group(i, 0)).collect::<Vec<_>>())),
        ),
        "waha/NOWEB" => (
            "waha/NOWEB",
            EngineKind::Waha,
            bytes(Value::Object(
                (0..n)
                    .map(|i| (group_jid(i), baileys_group(i, 0)))
                    .collect(),
            )),
        ),
        "waha/WEBJS" => (
            "waha/WEBJS",
            EngineKind::Waha,
            bytes(json!((0..n).map(|i| webjs_chat(i, 0)).collect::<Vec<_>>())),
        ),
        _ => return None,
    })
}

/// A create reply with `members` participants in each engine's shape.
pub fn creates(members: usize) -> Vec<(&'static str, EngineKind, Vec<u8>)> {
    let bytes = |v: Value| serde_json::to_vec(&v).unwrap();
    let mut webjs = serde_json::Map::new();
    for m in 0..members {
        webjs.insert(
            member(m).replace("@s.whatsapp.net", "@c.us"),
            json!({"statusCode": 200, "message": "The participant was added successfully",
                   "isGroupCreator": false, "isInviteV4Sent": false}),
        );
    }
    vec![
        (
            "wuts",
            EngineKind::Wuts,
            bytes(json!({"success": true, "group": wuts_group(1, members)})),
        ),
        (
            "evolution",
            EngineKind::Evolution,
            bytes(baileys_group(1, members)),
        ),
        ("waha/GOWS", EngineKind::Waha, bytes(gows_group(1, members))),
        (
            "waha/NOWEB",
            EngineKind::Waha,
            bytes(baileys_group(1, members)),
        ),
        (
            "waha/WEBJS",
            EngineKind::Waha,
            bytes(json!({"title": "Group number 1",
                         "gid": {"server": "g.us", "user": "120363000000000001", "_serialized": group_jid(1)},
                         "participants": webjs})),
        ),
    ]
}
