//! `GET /groups` replies, read typed and streaming. No engine paginates its
//! group list, so a reply can be large (up to 16 MiB) and hostile (`[0,0,…]`,
//! `[{},{},…]`). Nothing here builds a `serde_json::Value` tree: each entry
//! is read into a small typed struct of lenient fields (a field of the
//! wrong type is absent, never an error, never a panic), turned into a
//! [`Group`], and offered to a [`PageCollector`] that keeps only the page
//! asked for. Memory is the reply's bytes plus one page.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::groups::Group;
use super::shapes::our_id;
use super::{EngineError, GroupPage, ListPage};
use crate::jid::GroupJid;

/// Which engine's list shape a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// WUTS: `{"success": true, "groups": [Group…]}` in our own field names.
    Wuts,
    /// Evolution: a bare array of Baileys `GroupMetadata` projections
    /// (which carry no join-approval flag).
    Evolution,
    /// WAHA: an array (GOWS `GroupInfo`, WEBJS `GroupChat`) or an object
    /// keyed by id (NOWEB, Baileys metadata); each entry told by its keys.
    Waha,
}

/// Keeps the `limit` smallest JIDs after `after` (and one more, to know
/// whether there are more), each once, without participants.
pub struct PageCollector {
    after: Option<String>,
    limit: usize,
    kept: BTreeMap<String, Group>,
}

impl PageCollector {
    pub fn new(page: &ListPage) -> Self {
        Self {
            after: page.after.clone(),
            limit: page.limit,
            kept: BTreeMap::new(),
        }
    }

    /// Offers one group; kept if its JID is a group JID and it belongs on
    /// the page.
    pub fn offer(&mut self, group: Group) {
        if GroupJid::parse(&group.jid).is_err() {
            return;
        }
        if self
            .after
            .as_deref()
            .is_some_and(|a| group.jid.as_str() <= a)
        {
            return;
        }
        if self.kept.len() > self.limit
            && self
                .kept
                .last_key_value()
                .is_some_and(|(last, _)| group.jid >= *last)
        {
            return;
        }
        if self.kept.contains_key(&group.jid) {
            return;
        }
        let group = group.without_participants();
        self.kept.insert(group.jid.clone(), group);
        if self.kept.len() > self.limit + 1 {
            self.kept.pop_last();
        }
    }

    pub fn finish(self) -> GroupPage {
        let more = self.kept.len() > self.limit;
        let groups: Vec<Group> = self.kept.into_values().take(self.limit).collect();
        GroupPage { groups, more }
    }
}

/// What the reader offers each group of a list to.
pub trait Offer {
    fn offer(&mut self, group: Group);
}

impl Offer for PageCollector {
    fn offer(&mut self, group: Group) {
        PageCollector::offer(self, group)
    }
}

/// One page of a list reply's groups.
pub fn read(bytes: &[u8], shape: Shape, page: &ListPage) -> Result<GroupPage, EngineError> {
    let mut collector = PageCollector::new(page);
    read_into(bytes, shape, &mut collector)?;
    Ok(collector.finish())
}

/// Reads a list reply, offering each group to `sink`.
pub fn read_into(bytes: &[u8], shape: Shape, sink: &mut dyn Offer) -> Result<(), EngineError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let top = Top { shape, sink };
    top.deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| EngineError::InvalidResponse(format!("the group list: {e}")))
}

/// A community's linked groups, read from the account's group list (the
/// engines that expose no list of a community's groups): the groups whose
/// parent is `community`, sorted by JID. The community must be in the list
/// (else no such community, as far as the account can see), and be one.
pub struct CommunityCollector {
    community: String,
    /// Whether the list had the community: `Some(is_community)`.
    seen: Option<Option<bool>>,
    linked: BTreeMap<String, Group>,
}

impl CommunityCollector {
    pub fn new(community: &GroupJid) -> Self {
        Self {
            community: community.as_str().to_string(),
            seen: None,
            linked: BTreeMap::new(),
        }
    }

    /// The linked groups; 404 when the list has no such community or the
    /// group named is not one.
    pub fn finish(self) -> Result<Vec<Group>, EngineError> {
        let refused = |code: &str| EngineError::Status {
            status: 404,
            code: Some(code.into()),
            retry_after: None,
            settled: true,
        };
        match self.seen {
            None if self.linked.is_empty() => Err(refused("group_not_found")),
            Some(Some(false)) if self.linked.is_empty() => Err(refused("not_a_community")),
            _ => Ok(self.linked.into_values().collect()),
        }
    }
}

impl Offer for CommunityCollector {
    fn offer(&mut self, group: Group) {
        if GroupJid::parse(&group.jid).is_err() {
            return;
        }
        if group.jid == self.community {
            self.seen = Some(group.is_community);
        } else if group.parent_jid.as_deref() == Some(self.community.as_str()) {
            self.linked.insert(group.jid.clone(), group);
        }
    }
}

/// [`CommunityCollector`] over a whole list reply.
pub fn community_groups(
    bytes: &[u8],
    shape: Shape,
    community: &GroupJid,
) -> Result<Vec<Group>, EngineError> {
    let mut collector = CommunityCollector::new(community);
    read_into(bytes, shape, &mut collector)?;
    collector.finish()
}

/// The reply's top level: the list itself (an array, or an object of
/// entries), or for WUTS an object whose `groups` is the list.
struct Top<'a> {
    shape: Shape,
    sink: &'a mut dyn Offer,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a group list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        if self.shape == Shape::Wuts {
            return Err(de::Error::custom("WUTS lists groups in an object"));
        }
        Entries {
            shape: self.shape,
            sink: self.sink,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match self.shape {
            Shape::Wuts => {
                let mut seen = false;
                while let Some(key) = map.next_key::<Key>()? {
                    if key.0 == "groups" && !seen {
                        seen = true;
                        map.next_value_seed(Entries {
                            shape: self.shape,
                            sink: &mut *self.sink,
                        })?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                if seen {
                    Ok(())
                } else {
                    Err(de::Error::missing_field("groups"))
                }
            }
            Shape::Evolution => Err(de::Error::custom("Evolution lists groups in an array")),
            Shape::Waha => Entries {
                shape: self.shape,
                sink: self.sink,
            }
            .visit_map(map),
        }
    }
}

/// An object key, owned only when it has escapes.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                // Only the key we look for needs keeping.
                Ok(Key(if v == "groups" {
                    v.to_string()
                } else {
                    String::new()
                }))
            }
        }
        d.deserialize_str(V)
    }
}

/// The list: each entry read and offered, none kept here.
struct Entries<'a> {
    shape: Shape,
    sink: &'a mut dyn Offer,
}

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of groups")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            if let Some(group) = entry.0.and_then(|e| e.into_group(self.shape)) {
                self.sink.offer(group);
            }
        }
        Ok(())
    }

    /// NOWEB's object keyed by id: the values are the entries.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            let entry = map.next_value::<Entry>()?;
            if let Some(group) = entry.0.and_then(|e| e.into_group(self.shape)) {
                self.sink.offer(group);
            }
        }
        Ok(())
    }
}

/// One list entry: an object read into [`Fields`], anything else skipped
/// without being built.
struct Entry(Option<Box<Fields>>);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a group entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                Fields::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|f| Entry(Some(Box::new(f))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Entry(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Entry, E> {
                Ok(Entry(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Entry, E> {
                Ok(Entry(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Entry, E> {
                Ok(Entry(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Entry, E> {
                Ok(Entry(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Entry, E> {
                Ok(Entry(None))
            }
            fn visit_unit<E>(self) -> Result<Entry, E> {
                Ok(Entry(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON value read leniently: a string, a number, a boolean, or nothing
/// we use. Arrays are counted (a participant list), objects are read only
/// for whatsapp-web.js's `{_serialized}` id.
#[derive(Debug, Default, Clone, PartialEq)]
enum Loose {
    #[default]
    Absent,
    Str(String),
    Int(i64),
    Bool(bool),
    Count(u64),
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Loose;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Loose, E> {
                Ok(Loose::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Loose, E> {
                Ok(Loose::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Loose, E> {
                Ok(i64::try_from(v).map_or(Loose::Absent, Loose::Int))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Loose, E> {
                Ok(Loose::Absent)
            }
            fn visit_str<E>(self, v: &str) -> Result<Loose, E> {
                Ok(Loose::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Loose, E> {
                Ok(Loose::Str(v))
            }
            fn visit_unit<E>(self) -> Result<Loose, E> {
                Ok(Loose::Absent)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
                let mut n: u64 = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n = n.saturating_add(1);
                }
                Ok(Loose::Count(n))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
                let mut out = Loose::Absent;
                while let Some(key) = map.next_key::<SerializedKey>()? {
                    if key.0 && out == Loose::Absent {
                        out = map.next_value::<Loose>()?;
                        if !matches!(out, Loose::Str(_)) {
                            out = Loose::Absent;
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether an object key is `_serialized`.
struct SerializedKey(bool);

impl<'de> Deserialize<'de> for SerializedKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SerializedKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SerializedKey, E> {
                Ok(SerializedKey(v == "_serialized"))
            }
        }
        d.deserialize_str(V)
    }
}

impl Loose {
    fn text(&self) -> Option<String> {
        match self {
            Self::Str(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    }

    fn id(&self) -> Option<String> {
        self.text().map(|s| our_id(&s))
    }

    fn flag(&self) -> bool {
        matches!(self, Self::Bool(true))
    }

    fn maybe_flag(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn number(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            Self::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn count(&self) -> u32 {
        self.number()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    }

    fn listed(&self) -> u32 {
        match self {
            Self::Count(n) => u32::try_from(*n).unwrap_or(u32::MAX),
            _ => 0,
        }
    }

    /// Epoch seconds as RFC 3339 UTC (checked).
    fn epoch(&self) -> Option<String> {
        super::groups::epoch_secs_to_rfc3339(self.number()?)
    }

    /// An RFC 3339 time as RFC 3339 UTC (checked).
    fn rfc3339(&self) -> Option<String> {
        match self {
            Self::Str(s) => super::groups::rfc3339_text_utc(s),
            _ => None,
        }
    }
}

/// Every field any engine's list entry has that a list answer uses; all
/// lenient. Whatsapp-web.js's `groupMetadata` is read into the same struct.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields {
    // WUTS (our own names).
    jid: Loose,
    name: Loose,
    topic: Loose,
    owner: Loose,
    created_at: Loose,
    is_announce: Loose,
    is_locked: Loose,
    join_approval: Loose,
    members_count: Loose,
    is_community: Loose,
    parent_jid: Loose,
    is_announcement_group: Loose,
    participants: Loose,
    // Baileys `GroupMetadata` (and whatsapp-web.js's metadata).
    id: Loose,
    subject: Loose,
    desc: Loose,
    creation: Loose,
    announce: Loose,
    restrict: Loose,
    #[serde(rename = "joinApprovalMode")]
    join_approval_mode: Loose,
    #[serde(rename = "membershipApprovalMode")]
    membership_approval_mode: Loose,
    size: Loose,
    #[serde(rename = "isCommunity")]
    baileys_is_community: Loose,
    #[serde(rename = "linkedParent")]
    linked_parent: Loose,
    #[serde(rename = "isCommunityAnnounce")]
    is_community_announce: Loose,
    #[serde(rename = "defaultSubgroup")]
    default_subgroup: Loose,
    #[serde(rename = "isParentGroup")]
    is_parent_group: Loose,
    #[serde(rename = "parentGroup")]
    parent_group: Loose,
    // whatsmeow `GroupInfo` (GOWS).
    #[serde(rename = "JID")]
    gows_jid: Loose,
    #[serde(rename = "Name")]
    gows_name: Loose,
    #[serde(rename = "Topic")]
    gows_topic: Loose,
    #[serde(rename = "OwnerJID")]
    owner_jid: Loose,
    #[serde(rename = "OwnerPN")]
    owner_pn: Loose,
    #[serde(rename = "GroupCreated")]
    group_created: Loose,
    #[serde(rename = "IsAnnounce")]
    gows_announce: Loose,
    #[serde(rename = "IsLocked")]
    gows_locked: Loose,
    #[serde(rename = "IsJoinApprovalRequired")]
    gows_approval: Loose,
    #[serde(rename = "ParticipantCount")]
    participant_count: Loose,
    #[serde(rename = "Participants")]
    gows_participants: Loose,
    #[serde(rename = "IsParent")]
    is_parent: Loose,
    #[serde(rename = "LinkedParentJID")]
    linked_parent_jid: Loose,
    #[serde(rename = "IsDefaultSubGroup")]
    is_default_sub_group: Loose,
    // whatsapp-web.js `GroupChat`.
    #[serde(rename = "groupMetadata")]
    group_metadata: Option<Meta>,
}

/// whatsapp-web.js's `groupMetadata`, or nothing if it is not an object.
struct Meta(Option<Box<Fields>>);

impl<'de> Deserialize<'de> for Meta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Entry::deserialize(d).map(|e| Meta(e.0))
    }
}

impl Fields {
    fn into_group(self, shape: Shape) -> Option<Group> {
        match shape {
            Shape::Wuts => self.wuts(),
            // Evolution's projection does not say whether joining needs
            // approval: `null`, never a guessed `false`.
            Shape::Evolution => self.baileys().map(|g| Group {
                join_approval: None,
                ..g
            }),
            Shape::Waha if self.gows_jid != Loose::Absent => self.gows(),
            Shape::Waha if self.group_metadata.is_some() => self.webjs(),
            Shape::Waha => self.baileys(),
        }
    }

    fn wuts(self) -> Option<Group> {
        Some(Group {
            jid: self.jid.text()?,
            name: self.name.text().unwrap_or_default(),
            topic: self.topic.text(),
            owner: self.owner.text(),
            created_at: self.created_at.rfc3339(),
            is_announce: self.is_announce.flag(),
            is_locked: self.is_locked.flag(),
            join_approval: self.join_approval.maybe_flag(),
            members_count: self.members_count.count().max(self.participants.listed()),
            participants: None,
            is_community: self.is_community.maybe_flag(),
            parent_jid: self.parent_jid.text(),
            is_announcement_group: self.is_announcement_group.maybe_flag().filter(|a| *a),
        })
    }

    /// Baileys metadata (Evolution's and NOWEB's).
    fn baileys(self) -> Option<Group> {
        Some(Group {
            jid: self.id.text()?,
            name: self.subject.text().unwrap_or_default(),
            topic: self.desc.text(),
            owner: self.owner.id(),
            created_at: self.creation.epoch(),
            is_announce: self.announce.flag(),
            is_locked: self.restrict.flag(),
            join_approval: self.join_approval_mode.maybe_flag(),
            members_count: self.size.count().max(self.participants.listed()),
            participants: None,
            is_community: self.baileys_is_community.maybe_flag(),
            parent_jid: self.linked_parent.text(),
            is_announcement_group: self.is_community_announce.maybe_flag().filter(|a| *a),
        })
    }

    fn gows(self) -> Option<Group> {
        Some(Group {
            jid: self.gows_jid.text()?,
            name: self.gows_name.text().unwrap_or_default(),
            topic: self.gows_topic.text(),
            owner: self.owner_pn.id().or_else(|| self.owner_jid.id()),
            created_at: self.group_created.rfc3339(),
            is_announce: self.gows_announce.flag(),
            is_locked: self.gows_locked.flag(),
            join_approval: self.gows_approval.maybe_flag(),
            members_count: self
                .participant_count
                .count()
                .max(self.gows_participants.listed()),
            participants: None,
            is_community: self.is_parent.maybe_flag(),
            parent_jid: self.linked_parent_jid.text(),
            is_announcement_group: self.is_default_sub_group.maybe_flag().filter(|a| *a),
        })
    }

    fn webjs(self) -> Option<Group> {
        let meta = self.group_metadata.and_then(|m| m.0).unwrap_or_default();
        Some(Group {
            jid: meta.id.id().or_else(|| self.id.id())?,
            name: meta
                .subject
                .text()
                .or_else(|| self.name.text())
                .unwrap_or_default(),
            topic: meta.desc.text(),
            owner: meta.owner.id(),
            created_at: meta.creation.epoch(),
            is_announce: meta.announce.flag(),
            is_locked: meta.restrict.flag(),
            join_approval: meta.membership_approval_mode.maybe_flag(),
            members_count: meta.size.count().max(meta.participants.listed()),
            participants: None,
            is_community: meta.is_parent_group.maybe_flag(),
            parent_jid: meta.parent_group.id(),
            is_announcement_group: meta.default_subgroup.maybe_flag().filter(|a| *a),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(after: Option<&str>, limit: usize) -> ListPage {
        ListPage {
            after: after.map(str::to_string),
            limit,
        }
    }

    fn jids(p: &GroupPage) -> Vec<&str> {
        p.groups.iter().map(|g| g.jid.as_str()).collect()
    }

    #[test]
    fn pages_are_sorted_deduplicated_and_bounded() {
        let body = br#"[{"id":"3@g.us"},{"id":"1@g.us","subject":"one"},{"id":"2@g.us"},
            {"id":"1@g.us","subject":"dup"},{"id":"nope"},0,"x",[1,2],null,{}]"#;
        let p = read(body, Shape::Evolution, &page(None, 2)).unwrap();
        assert_eq!(jids(&p), ["1@g.us", "2@g.us"]);
        assert!(p.more);
        assert_eq!(p.groups[0].name, "one");
        let p = read(body, Shape::Evolution, &page(Some("2@g.us"), 2)).unwrap();
        assert_eq!(jids(&p), ["3@g.us"]);
        assert!(!p.more);
        let p = read(body, Shape::Evolution, &page(None, 3)).unwrap();
        assert!(!p.more);
    }

    #[test]
    fn every_shape_reads_leniently() {
        let wuts = br#"{"success":true,"groups":[{"jid":"1@g.us","name":5,"members_count":"7",
            "join_approval":null,"created_at":"9999-12-31T23:59:59-23:59"}]}"#;
        let p = read(wuts, Shape::Wuts, &page(None, 10)).unwrap();
        assert_eq!(p.groups[0].members_count, 7);
        assert_eq!(p.groups[0].name, "");
        assert_eq!(p.groups[0].join_approval, None);
        assert_eq!(
            p.groups[0].created_at, None,
            "out of range: absent, no panic"
        );

        let waha = br#"[{"JID":"1@g.us","Name":"G","GroupCreated":"9999-12-31T23:59:59-23:59",
              "ParticipantCount":-4,"IsJoinApprovalRequired":true},
            {"id":{"_serialized":"2@g.us"},"groupMetadata":{"id":{"_serialized":"2@g.us"},
              "subject":"W","creation":99999999999999,"membershipApprovalMode":false,"size":3}}]"#;
        let p = read(waha, Shape::Waha, &page(None, 10)).unwrap();
        assert_eq!(p.groups[0].name, "G");
        assert_eq!(p.groups[0].members_count, 0);
        assert_eq!(p.groups[0].join_approval, Some(true));
        assert_eq!(p.groups[1].name, "W");
        assert_eq!(p.groups[1].members_count, 3);
        assert_eq!(p.groups[1].created_at, None);
        let noweb = br#"{"1@g.us":{"id":"1@g.us","subject":"N","creation":"1715000000"}}"#;
        let p = read(noweb, Shape::Waha, &page(None, 10)).unwrap();
        assert_eq!(
            p.groups[0].created_at.as_deref(),
            Some("2024-05-06T12:53:20Z")
        );
    }

    #[test]
    fn shapes_that_are_not_lists_are_invalid() {
        for (body, shape) in [
            (&b"[]"[..], Shape::Wuts),
            (b"{}", Shape::Wuts),
            (b"{}", Shape::Evolution),
            (b"\"x\"", Shape::Waha),
            (b"[1,", Shape::Waha),
            (b"[] []", Shape::Waha),
            (b"<html>login</html>", Shape::Evolution),
        ] {
            assert!(
                read(body, shape, &page(None, 5)).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
