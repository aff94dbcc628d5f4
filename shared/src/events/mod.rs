//! Group events (`events.md`): every engine's webhooks in, one normalised
//! event out. This module holds the normalised model and the port that
//! stores hooks and events; [`engines`] reads each engine's payloads,
//! [`signature`] checks each engine's own signing, [`ingress`] is the
//! `POST /hooks/{engine}/{hook_token}` route.

pub mod delivery;
pub mod engines;
pub mod ingress;
#[cfg(feature = "adapters")]
pub mod lambda;
pub mod outbox;
pub mod signature;
#[cfg(feature = "adapters")]
pub mod sqs;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::EngineKind;
use crate::store::StoreError;

/// How long an engine's retry of the same event is recognised (and so how
/// old an engine event may be and still be taken).
pub const DEDUPE_SECS: i64 = 48 * 3_600;
/// How long stored events are kept (TTL).
pub const EVENT_RETENTION_SECS: i64 = 30 * 86_400;
/// The largest engine webhook body taken.
pub const MAX_HOOK_BODY_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "group.participants.added")]
    ParticipantsAdded,
    #[serde(rename = "group.participants.removed")]
    ParticipantsRemoved,
    #[serde(rename = "group.participants.promoted")]
    ParticipantsPromoted,
    #[serde(rename = "group.participants.demoted")]
    ParticipantsDemoted,
    #[serde(rename = "group.updated")]
    GroupUpdated,
    #[serde(rename = "group.joined")]
    GroupJoined,
    #[serde(rename = "group.left")]
    GroupLeft,
    #[serde(rename = "job.completed")]
    JobCompleted,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        Self::ParticipantsAdded,
        Self::ParticipantsRemoved,
        Self::ParticipantsPromoted,
        Self::ParticipantsDemoted,
        Self::GroupUpdated,
        Self::GroupJoined,
        Self::GroupLeft,
        Self::JobCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ParticipantsAdded => "group.participants.added",
            Self::ParticipantsRemoved => "group.participants.removed",
            Self::ParticipantsPromoted => "group.participants.promoted",
            Self::ParticipantsDemoted => "group.participants.demoted",
            Self::GroupUpdated => "group.updated",
            Self::GroupJoined => "group.joined",
            Self::GroupLeft => "group.left",
            Self::JobCompleted => "job.completed",
        }
    }

    /// The participants event for an engine's action word (`add`,
    /// `remove`, `promote`, `demote`, and the spellings engines use).
    pub fn of_action(action: &str) -> Option<Self> {
        match action.to_ascii_lowercase().as_str() {
            "add" | "added" | "join" | "joined" | "invite" => Some(Self::ParticipantsAdded),
            "remove" | "removed" | "leave" | "left" | "kick" => Some(Self::ParticipantsRemoved),
            "promote" | "promoted" => Some(Self::ParticipantsPromoted),
            "demote" | "demoted" => Some(Self::ParticipantsDemoted),
            _ => None,
        }
    }
}

/// A participant named by an event: the JID the engine gave, normalised,
/// and what else it knew of the person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventParticipant {
    pub jid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lid: Option<String>,
}

impl EventParticipant {
    /// From whatever JID an engine wrote (`…@s.whatsapp.net`, `…@c.us`,
    /// `…@lid`, a device suffix `:12`); `None` when it is not a person.
    pub fn from_engine(raw: &str) -> Option<Self> {
        let jid = person_jid(raw)?;
        Some(Self::with(jid, None, None))
    }

    /// `jid` plus the phone-number and LID forms an engine gave beside it.
    pub fn with(jid: String, phone_number: Option<&str>, lid: Option<&str>) -> Self {
        let phone_number = phone_number
            .and_then(person_jid)
            .filter(|p| p.ends_with("@s.whatsapp.net"))
            .or_else(|| jid.ends_with("@s.whatsapp.net").then(|| jid.clone()));
        let lid = lid
            .and_then(person_jid)
            .filter(|l| l.ends_with("@lid"))
            .or_else(|| jid.ends_with("@lid").then(|| jid.clone()));
        Self {
            jid,
            phone_number,
            lid,
        }
    }
}

/// A person's JID as this API writes it everywhere: `<digits>@s.whatsapp.net`
/// or `<digits>@lid`; engines' `@c.us` and device suffixes folded in.
pub fn person_jid(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (user, server) = raw.split_once('@')?;
    let user = user.split(':').next().unwrap_or(user);
    let server = match server.to_ascii_lowercase().as_str() {
        "s.whatsapp.net" | "c.us" => "@s.whatsapp.net",
        "lid" => "@lid",
        _ => return None,
    };
    crate::jid::ParticipantJid::normalise(&format!("{user}{server}"))
        .ok()
        .map(|p| p.as_str().to_string())
}

/// A group's JID from an engine, or `None` when it is not one.
pub fn group_jid(raw: &str) -> Option<String> {
    crate::jid::GroupJid::parse(raw.trim())
        .ok()
        .map(|g| g.as_str().to_string())
}

/// What changed in a `group.updated`: only the fields that changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_approval: Option<bool>,
    /// `admin_add` or `all_member_add`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_add_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_reset: Option<bool>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Who made a change, where the engine says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub jid: String,
}

/// One change an engine reported, in our terms, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalised {
    pub kind: EventType,
    pub group_jid: String,
    pub actor: Option<Actor>,
    pub participants: Vec<EventParticipant>,
    pub changes: Option<Changes>,
    /// When the engine says it happened (ms since the epoch), where its
    /// clock can be trusted.
    pub at_ms: Option<i64>,
    /// The engine's own mark of this delivery that stays the same on its
    /// retries (its timestamp text, say), for the dedupe key when `at_ms`
    /// is not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<String>,
    /// The engine session the payload names, when it names one.
    pub session: Option<String>,
}

/// What one engine payload held.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub events: Vec<Normalised>,
    /// Kinds this API does not turn into events (answered 200, counted).
    pub ignored: u32,
}

/// The event's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_jid: Option<String>,
    pub actor: Option<Actor>,
    #[serde(default)]
    pub participants: Vec<EventParticipant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    pub engine: String,
    pub session: String,
    pub job_id: Option<String>,
    /// `job.completed`: the job's counts and status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<serde_json::Value>,
}

/// A normalised event as stored and delivered (Standard Webhooks' `type`,
/// `timestamp`, `data`, plus our `id` and tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// RFC 3339, UTC.
    pub timestamp: String,
    pub tenant_id: String,
    pub data: EventData,
}

pub fn new_event_id() -> String {
    format!("evt_{}", uuid::Uuid::now_v7().simple())
}

/// The ingress's hook: which tenant and engine session a hook token names,
/// and the engine's own signing secret to check, where it signs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    pub tenant_id: String,
    pub engine: EngineKind,
    pub session: String,
    pub engine_secret: Option<String>,
    pub created_at: i64,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("tenant_id", &self.tenant_id)
            .field("engine", &self.engine)
            .field("session", &self.session)
            .field(
                "engine_secret",
                &self.engine_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The stored form of a hook token: the hex SHA-256 of the token, as API
/// tokens are kept.
pub fn hook_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new hook token: 256 random bits, URL-safe.
pub fn new_hook_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("hk_{}", hex::encode(bytes))
}

/// The dedupe key of an engine event: engine, session, group, kind, the
/// sorted participants, the engine's timestamp and the changes.
pub fn content_hash(engine: EngineKind, session: &str, event: &Normalised) -> String {
    let mut participants: Vec<&str> = event.participants.iter().map(|p| p.jid.as_str()).collect();
    participants.sort_unstable();
    let material = serde_json::json!([
        engine.as_str(),
        session,
        event.group_jid,
        event.kind.as_str(),
        participants,
        event.at_ms,
        event.stamp,
        event.changes,
    ]);
    hex::encode(Sha256::digest(material.to_string().as_bytes()))
}

/// What storing one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// The same content was stored in the last [`DEDUPE_SECS`].
    Duplicate,
}

/// A delivery that used up its retries: the dead letter `admin webhook
/// failures` lists and `admin webhook replay` sends again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub tenant_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub reason: String,
    /// Epoch seconds.
    pub failed_at: i64,
}

/// Hooks, events, the tenant's endpoints and their dead letters.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Creates the tenant's hook under `token_hash`, replacing (and
    /// invalidating) the tenant's previous one.
    async fn put_hook(&self, token_hash: &str, hook: &Hook) -> Result<(), StoreError>;
    async fn get_hook(&self, token_hash: &str) -> Result<Option<Hook>, StoreError>;
    /// Stores `event` unless an event with `dedupe` (a [`content_hash`]) was
    /// stored for the tenant within [`DEDUPE_SECS`] of `now_secs`.
    async fn put_event(
        &self,
        event: &Event,
        dedupe: &str,
        now_secs: i64,
    ) -> Result<Stored, StoreError>;
    /// A tenant's events, newest first, after `cursor` (an event id).
    async fn list_events(
        &self,
        tenant_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Vec<Event>, StoreError>;
    async fn get_event(&self, tenant_id: &str, id: &str) -> Result<Option<Event>, StoreError>;
    /// Creates or replaces an endpoint.
    async fn put_endpoint(&self, endpoint: &delivery::Endpoint) -> Result<(), StoreError>;
    /// A tenant's endpoints, oldest first.
    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<delivery::Endpoint>, StoreError>;
    /// Whether there was such an endpoint.
    async fn delete_endpoint(&self, tenant_id: &str, id: &str) -> Result<bool, StoreError>;
    async fn put_failure(&self, failure: &Failure) -> Result<(), StoreError>;
    /// A tenant's dead letters, oldest first.
    async fn list_failures(&self, tenant_id: &str) -> Result<Vec<Failure>, StoreError>;
    async fn delete_failure(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        event_id: &str,
    ) -> Result<(), StoreError>;
}
