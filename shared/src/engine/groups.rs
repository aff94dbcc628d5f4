//! The rest of the Groups family on the engine side: the one group model
//! every engine's reply is read into (and our API answers with), the
//! validated commands, and the checked time conversions. The readers for
//! the raw shapes engines pass on are in `shapes/`.

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
    /// A community's announcement group (WhatsApp's default subgroup);
    /// set where the engine marks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_announcement_group: Option<bool>,
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

/// A pending request to join a group (`GET /groups/{jid}/join-requests`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub jid: String,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lid: Option<String>,
    /// RFC 3339, UTC; `null` where the engine does not say.
    #[serde(default)]
    pub requested_at: Option<String>,
    /// How the request was made: `invite_link`, `linked_group_join` or
    /// `non_admin_add`, where the engine says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

impl JoinRequest {
    /// A request as an engine named it: `jid` and the other names folded
    /// to ours (`@c.us` → `@s.whatsapp.net`), the method to our words.
    pub fn new(
        jid: &str,
        phone_number: Option<&str>,
        requested_at: Option<String>,
        method: Option<&str>,
    ) -> Option<JoinRequest> {
        // Our form, validated: a phone-number JID or a LID, never a bare
        // number or anything else an engine put there.
        let ours = |id: &str| {
            let id = super::shapes::our_id(id);
            id.contains('@')
                .then(|| ParticipantJid::normalise(&id).ok())
                .flatten()
                .map(|p| p.as_str().to_string())
        };
        let jid = ours(jid)?;
        let phone_number = phone_number
            .and_then(ours)
            .filter(|p| p.ends_with("@s.whatsapp.net"))
            .or_else(|| jid.ends_with("@s.whatsapp.net").then(|| jid.clone()));
        let lid = jid.ends_with("@lid").then(|| jid.clone());
        Some(JoinRequest {
            jid,
            phone_number,
            lid,
            requested_at,
            method: method.and_then(request_method).map(str::to_string),
        })
    }
}

/// An engine's word for how a join request was made, in ours.
pub fn request_method(raw: &str) -> Option<&'static str> {
    match raw.to_ascii_lowercase().replace(['_', '-'], "").as_str() {
        "invitelink" => Some("invite_link"),
        "linkedgroupjoin" => Some("linked_group_join"),
        "nonadminadd" => Some("non_admin_add"),
        _ => None,
    }
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
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewGroup {
    pub name: String,
    pub participants: Vec<ParticipantJid>,
    pub options: GroupOptions,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewCommunity {
    pub name: String,
    pub participants: Vec<ParticipantJid>,
    pub description: Option<String>,
}

/// `PATCH /groups/{jid}`, validated: at least one field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
