//! The rest of the Groups family on the engine side: the one group model
//! every engine's reply is read into (and our API answers with), the
//! validated commands, and the readers for the raw shapes engines pass on
//! (Baileys' `GroupMetadata`, whatsmeow's `GroupInfo`, whatsapp-web.js's
//! `GroupChat`). Pure functions over `serde_json::Value`: an engine field
//! we cannot read is absent, never a panic.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::EngineError;
use crate::jid::{GroupJid, ParticipantJid};

/// A group (or community) as our API shows it (`api.md`, `Group`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub jid: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_announce: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_locked: bool,
    /// Whether new members need an admin's approval; `null` where the
    /// engine does not say (Evolution).
    #[serde(default)]
    pub join_approval: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub members_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<Member>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_community: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_jid: Option<String>,
}

/// One member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub jid: String,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lid: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_admin: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_super_admin: bool,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Group {
    /// The group as an engine gave it, checked: its JID must be a group
    /// JID (else the reply is not one we pass on).
    pub fn checked(mut self) -> Result<Group, EngineError> {
        GroupJid::parse(&self.jid).map_err(|_| {
            EngineError::InvalidResponse("the engine named a group with no valid group JID".into())
        })?;
        // RFC 3339 UTC, whatever the engine wrote (WUTS passes its own
        // text): out of range or unreadable is absent.
        self.created_at = self.created_at.as_deref().and_then(rfc3339_text_utc);
        if let Some(members) = &self.participants
            && self.members_count == 0
        {
            self.members_count = u32::try_from(members.len()).unwrap_or(u32::MAX);
        }
        Ok(self)
    }

    /// The list entry: no participants.
    pub fn without_participants(mut self) -> Group {
        if let Some(members) = self.participants.take()
            && self.members_count == 0
        {
            self.members_count = u32::try_from(members.len()).unwrap_or(u32::MAX);
        }
        self
    }
}

/// The groups of a list reply that carry a valid group JID, sorted by JID
/// (engines list in no stable order), without participants.
pub fn list(groups: impl IntoIterator<Item = Group>) -> Vec<Group> {
    let mut out: Vec<Group> = groups
        .into_iter()
        .filter_map(|g| g.checked().ok())
        .map(Group::without_participants)
        .collect();
    out.sort_unstable_by(|a, b| a.jid.cmp(&b.jid));
    out.dedup_by(|a, b| a.jid == b.jid);
    out
}

/// Who may add members: WhatsApp's `admin_add` / `all_member_add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberAddMode {
    Admin,
    AllMembers,
}

impl MemberAddMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::AllMembers => "all_members",
        }
    }
}

/// `POST /groups`, validated.
#[derive(Debug, Clone, Default)]
pub struct NewGroup {
    pub name: String,
    pub participants: Vec<ParticipantJid>,
    pub options: GroupOptions,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupOptions {
    pub announcement: bool,
    pub locked: bool,
    pub join_approval: bool,
    /// Create it as a community.
    pub community: bool,
    /// Create it inside this community.
    pub parent_jid: Option<GroupJid>,
}

impl GroupOptions {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// `POST /communities`, validated.
#[derive(Debug, Clone, Default)]
pub struct NewCommunity {
    pub name: String,
    pub participants: Vec<ParticipantJid>,
    pub description: Option<String>,
}

/// `PATCH /groups/{jid}`, validated: at least one field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupChange {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub announcement: Option<bool>,
    pub locked: Option<bool>,
    pub join_approval: Option<bool>,
    pub member_add_mode: Option<MemberAddMode>,
}

impl GroupChange {
    /// The fields set, in the fixed order a multi-call engine applies them.
    pub fn fields(&self) -> Vec<&'static str> {
        self.split().iter().map(GroupChange::first_field).collect()
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// One change per field, in the fixed order: name, topic,
    /// announcement, locked, join_approval, member_add_mode.
    pub fn split(&self) -> Vec<GroupChange> {
        let none = GroupChange::default;
        let mut out = Vec::new();
        if let Some(v) = &self.name {
            out.push(GroupChange {
                name: Some(v.clone()),
                ..none()
            });
        }
        if let Some(v) = &self.topic {
            out.push(GroupChange {
                topic: Some(v.clone()),
                ..none()
            });
        }
        if let Some(v) = self.announcement {
            out.push(GroupChange {
                announcement: Some(v),
                ..none()
            });
        }
        if let Some(v) = self.locked {
            out.push(GroupChange {
                locked: Some(v),
                ..none()
            });
        }
        if let Some(v) = self.join_approval {
            out.push(GroupChange {
                join_approval: Some(v),
                ..none()
            });
        }
        if let Some(v) = self.member_add_mode {
            out.push(GroupChange {
                member_add_mode: Some(v),
                ..none()
            });
        }
        out
    }

    /// The first field set, in the fixed order (the field of a one-field
    /// change).
    pub fn first_field(&self) -> &'static str {
        if self.name.is_some() {
            "name"
        } else if self.topic.is_some() {
            "topic"
        } else if self.announcement.is_some() {
            "announcement"
        } else if self.locked.is_some() {
            "locked"
        } else if self.join_approval.is_some() {
            "join_approval"
        } else {
            "member_add_mode"
        }
    }
}

/// `POST /groups/join`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Join {
    /// By link: the code of `https://chat.whatsapp.com/<code>`.
    Link { code: String },
    /// By a private invitation (an add request): its code, the group and
    /// who sent it.
    Invite {
        code: String,
        group: GroupJid,
        inviter: ParticipantJid,
    },
}

impl Join {
    pub fn code(&self) -> &str {
        match self {
            Self::Link { code } | Self::Invite { code, .. } => code,
        }
    }
}

/// What joining gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The group joined, when the engine names it.
    pub group_jid: Option<String>,
    /// Whether only a membership request was filed (the group asks admins
    /// to approve new members); `None` where the engine's answer does not
    /// tell (never a guessed `false`).
    pub pending_approval: Option<bool>,
}

/// Epoch seconds (a number or numeric string) as RFC 3339, UTC; 0 and
/// anything unreadable are absent.
pub fn epoch_to_rfc3339(v: Option<&Value>) -> Option<String> {
    let secs = match v? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    epoch_secs_to_rfc3339(secs)
}

/// Epoch seconds as RFC 3339 UTC, checked: 0, negative and out-of-range
/// values (beyond year 9999) are absent, never a panic.
pub fn epoch_secs_to_rfc3339(secs: i64) -> Option<String> {
    if secs <= 0 {
        return None;
    }
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// An RFC 3339 time as whatsmeow writes it (`0001-01-01T00:00:00Z` is
/// Go's zero: absent), normalised to UTC.
pub fn rfc3339_utc(v: Option<&Value>) -> Option<String> {
    rfc3339_text_utc(v?.as_str()?)
}

/// The same for a text. Checked: a time whose UTC form is out of range
/// (`9999-12-31T23:59:59-23:59` is in year 10000) is absent, never a panic.
pub fn rfc3339_text_utc(s: &str) -> Option<String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    if t.year() <= 1970 {
        return None;
    }
    t.checked_to_offset(time::UtcOffset::UTC)?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn flag(v: &Value, key: &str) -> bool {
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

fn member(
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

fn count(v: &Value, key: &str) -> u32 {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

/// Baileys' `GroupMetadata` (Evolution's create reply and projections,
/// WAHA on NOWEB): `{id, subject, desc, owner, creation, announce,
/// restrict, joinApprovalMode, size, participants: [{id, phoneNumber?,
/// lid?, admin}], isCommunity, linkedParent}`.
pub fn from_baileys(v: &Value) -> Option<Group> {
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
    })
}

/// whatsmeow's `types.GroupInfo` as GOWS sends it (Go field names).
pub fn from_gows(v: &Value) -> Option<Group> {
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
    })
}

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
pub fn from_webjs_chat(v: &Value) -> Option<Group> {
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
    })
}

/// whatsapp-web.js's `CreateGroupResult` (WAHA on WEBJS): `{title, gid,
/// participants: {"<id>": {statusCode, …}}}`; those added (200) are the
/// members known.
pub fn from_webjs_created(v: &Value) -> Option<Group> {
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

/// Any of the shapes above, told apart by their keys (WAHA passes its
/// internal engine's object on as it is).
pub fn from_any(v: &Value) -> Option<Group> {
    if v.get("JID").is_some() {
        from_gows(v)
    } else if v.get("gid").is_some() {
        from_webjs_created(v)
    } else if v.get("groupMetadata").is_some() {
        from_webjs_chat(v)
    } else {
        from_baileys(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn baileys_metadata() {
        let g = from_baileys(&json!({
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

    #[test]
    fn lists_keep_valid_groups_sorted_without_participants() {
        let groups = list([
            Group {
                jid: "2@g.us".into(),
                participants: Some(vec![Member::default(), Member::default()]),
                ..Group::default()
            },
            Group {
                jid: "not a group".into(),
                ..Group::default()
            },
            Group {
                jid: "1@g.us".into(),
                ..Group::default()
            },
        ]);
        let jids: Vec<_> = groups.iter().map(|g| g.jid.as_str()).collect();
        assert_eq!(jids, ["1@g.us", "2@g.us"]);
        assert!(groups[1].participants.is_none());
        assert_eq!(groups[1].members_count, 2);
    }

    #[test]
    fn changes_split_in_fixed_order() {
        let change = GroupChange {
            member_add_mode: Some(MemberAddMode::Admin),
            name: Some("n".into()),
            locked: Some(true),
            ..GroupChange::default()
        };
        assert_eq!(change.fields(), ["name", "locked", "member_add_mode"]);
        assert_eq!(change.split().len(), 3);
        assert!(GroupChange::default().is_empty());
    }

    #[test]
    fn times() {
        assert_eq!(epoch_to_rfc3339(Some(&json!(0))), None);
        assert_eq!(
            epoch_to_rfc3339(Some(&json!("1715000000"))).as_deref(),
            Some("2024-05-06T12:53:20Z")
        );
        assert_eq!(rfc3339_utc(Some(&json!("0001-01-01T00:00:00Z"))), None);
        // Out of range once in UTC (issue 21): absent, no panic.
        assert_eq!(rfc3339_utc(Some(&json!("9999-12-31T23:59:59-23:59"))), None);
        assert_eq!(epoch_to_rfc3339(Some(&json!(i64::MAX))), None);
        assert_eq!(epoch_to_rfc3339(Some(&json!(-5))), None);
        assert_eq!(epoch_to_rfc3339(Some(&json!(u64::MAX))), None);
    }
}
