//! The stores: ports (traits) for tokens, tenants, idempotency records and the
//! audit trail, and the records they hold.
//! Adapters: [`dynamo::DynamoStore`] (production) and the `testkit` crate's
//! `MemoryStore` (tests, local runs). Both pass the same contract suite.

#[cfg(feature = "adapters")]
pub mod dynamo;

use async_trait::async_trait;

use crate::events::EventStore;
use crate::jobs::JobStore;
use crate::pacing::LaneStore;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    Active,
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A token as stored: keyed by the hex SHA-256 of the normalised token.
/// The clear token is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub token_hash: String,
    /// A public identifier for the token (safe to log and to show in listings).
    pub token_id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub status: TokenStatus,
    /// Epoch seconds; `None` means the token does not expire.
    pub expires_at: Option<i64>,
    /// Epoch seconds.
    pub created_at: i64,
    /// `None`: issued before scopes existed, so every scope.
    pub scopes: Option<Vec<crate::scope::Scope>>,
}

impl TokenRecord {
    /// The public id of a record that has none stored (written to the data
    /// model `operations.md` documents, before `token_id` existed): derived
    /// from the hash, so it is stable and reveals nothing of the token.
    pub fn derived_token_id(token_hash: &str) -> String {
        format!("tok_{}", token_hash.get(..16).unwrap_or(token_hash))
    }

    pub fn is_usable_at(&self, now_epoch: i64) -> bool {
        self.status == TokenStatus::Active && self.expires_at.is_none_or(|exp| now_epoch < exp)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }
}

/// A tenant and its engine. `Debug` hides the engine's key.
#[derive(Clone, PartialEq, Eq)]
pub struct Tenant {
    pub tenant_id: String,
    pub status: TenantStatus,
    pub name: Option<String>,
    /// Which session service the tenant runs (attribute `engine`; a record
    /// without one is `session-service`).
    pub engine: crate::engine::EngineKind,
    /// The engine's URL. `None`: the deployment's default `ENGINE_BASE_URL`.
    pub wuts_base_url: Option<String>,
    /// The engine's session: the session-service session id, the Evolution
    /// instance, the WAHA session; empty for `wuts` (the key names the device).
    pub wuts_session_id: String,
    /// The engine's key (Bearer token, `apikey`, `X-Api-Key`).
    pub wuts_api_key: String,
    /// The lane's pacing (`pacing.md`): on, with the default budgets,
    /// unless `admin tenant pacing` said otherwise.
    pub pacing: crate::pacing::Pacing,
}

impl Tenant {
    /// Where and how to reach the tenant's engine.
    pub fn engine_target(&self) -> crate::engine::EngineTarget {
        crate::engine::EngineTarget {
            engine: self.engine,
            base_url: self.wuts_base_url.clone().unwrap_or_default(),
            session_id: self.wuts_session_id.clone(),
            api_key: self.wuts_api_key.clone(),
        }
    }
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("tenant_id", &self.tenant_id)
            .field("status", &self.status)
            .field("name", &self.name)
            .field("engine", &self.engine)
            .field("wuts_base_url", &self.wuts_base_url)
            .field("wuts_session_id", &self.wuts_session_id)
            .field("wuts_api_key", &"<redacted>")
            .field("pacing", &self.pacing)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached, or throttled us after retries.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A record exists but cannot be read as the expected shape.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// Anything else (missing table, access denied, ...).
    #[error("store error: {0}")]
    Other(String),
}

impl From<StoreError> for crate::error::ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(detail) => Self::ServiceUnavailable { detail },
            other => Self::internal(other.to_string()),
        }
    }
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn get_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Creates the record; fails with `Other` if the hash already exists.
    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError>;
    /// Marks the token revoked; `Ok(None)` if no such token.
    async fn revoke_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// All tokens of a tenant (any status), oldest first.
    async fn list_tokens(&self, tenant_id: &str) -> Result<Vec<TokenRecord>, StoreError>;
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError>;
    /// Creates or replaces.
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// Sets the status of an existing tenant; `Ok(None)` if no such tenant.
    async fn set_tenant_status(
        &self,
        tenant_id: &str,
        status: TenantStatus,
    ) -> Result<Option<Tenant>, StoreError>;
}

/// Where an idempotency record stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyState {
    /// A request holds the key until `lease_until` (epoch seconds).
    InProgress { lease_until: i64 },
    /// The final answer, replayed to later requests with the same key.
    Completed(StoredAnswer),
}

/// A completed request's answer as kept for replay: its status, its body,
/// and the few headers that are part of what it says (see
/// `idempotency::KEPT_HEADERS`, e.g. `x-partial-update`), as lower-case
/// name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: StoredBody,
    pub headers: Vec<(String, String)>,
}

impl StoredAnswer {
    /// An answer with no kept header.
    pub fn new(status: u16, body: StoredBody) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// The bytes the answer takes in an item, attribute names left out.
    pub fn len(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// DynamoDB's limit on one item (names and values), which the memory store
/// keeps too.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// A completed request's body as stored: the JSON text, or that text
/// deflated (RFC 1951) when the text alone would not fit in an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredBody {
    Text(String),
    Deflated(Vec<u8>),
}

impl StoredBody {
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Deflated(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One `Idempotency-Key` of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// `{tenant_id}#{key}`: keys are tenant-scoped.
    pub id: String,
    /// Hex SHA-256 of the operation and its normalised command.
    pub fingerprint: String,
    /// The request that holds (or held) the key.
    pub owner: String,
    pub state: IdempotencyState,
    /// Epoch seconds; the record is gone (TTL) or ignored after this.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is now held by the caller.
    Claimed,
    /// Someone else's live record.
    Existing(IdempotencyRecord),
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `record.id` for `record.owner` (state in progress) unless a live
    /// record exists: a missing one, one past `expires_at`, or one whose lease
    /// passed is taken. Otherwise returns the existing record.
    async fn claim(&self, record: &IdempotencyRecord, now: i64) -> Result<Claim, StoreError>;
    /// Stores the final answer, if `owner` still holds the key. An item over
    /// [`MAX_ITEM_BYTES`] is refused (`Other`), as DynamoDB refuses it.
    async fn complete(
        &self,
        id: &str,
        owner: &str,
        answer: &StoredAnswer,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Gives the key up (nothing worth replaying happened), if `owner` holds it.
    async fn release(&self, id: &str, owner: &str) -> Result<(), StoreError>;
}

/// What happened to one participant, as the audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditParticipant {
    pub jid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
}

/// One mutating call that was sent to WUTS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditRecord {
    pub tenant_id: String,
    /// RFC 3339 UTC with milliseconds; with `request_id`, the sort key.
    pub at: String,
    pub request_id: String,
    pub user_id: String,
    pub token_id: String,
    pub route: String,
    /// `add`/`remove`/`promote`/`demote`, or `reset_invite`.
    pub action: String,
    pub group_jid: String,
    pub participants: Vec<AuditParticipant>,
    /// The HTTP status answered to the caller.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_ms: Option<u64>,
    /// Epoch seconds (TTL); `None` keeps the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The paced job this engine call was part of (`pacing.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError>;
    /// A tenant's records at or after `since` (RFC 3339), oldest first.
    async fn list_audit(
        &self,
        tenant_id: &str,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}

/// Every port, as one object the application state can hold.
pub trait Store:
    TokenStore + TenantStore + IdempotencyStore + AuditStore + LaneStore + JobStore + EventStore
{
    /// The pacing lanes, as the guard takes them.
    fn lanes(&self) -> &dyn LaneStore;
    /// The paced jobs.
    fn jobs(&self) -> &dyn JobStore;
    /// Engine hooks and group events.
    fn events(&self) -> &dyn EventStore;
}

impl<
    T: TokenStore + TenantStore + IdempotencyStore + AuditStore + LaneStore + JobStore + EventStore,
> Store for T
{
    fn events(&self) -> &dyn EventStore {
        self
    }

    fn lanes(&self) -> &dyn LaneStore {
        self
    }

    fn jobs(&self) -> &dyn JobStore {
        self
    }
}
