//! Operator actions on the store, shared by the `admin` CLI and the embedded
//! local default: issuing and revoking tokens, creating tenants.

use crate::auth::{hash_token, normalise_token};
use crate::engine::{EngineKind, check_base_url};
use crate::store::{Store, StoreError, Tenant, TenantStatus, TokenRecord, TokenStatus};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A freshly issued token: the clear value (shown once) and what is stored.
pub struct IssuedToken {
    pub token: String,
    pub record: TokenRecord,
}

pub struct NewTenant {
    pub tenant_id: String,
    pub name: Option<String>,
    pub status: TenantStatus,
    pub engine: EngineKind,
    pub wuts_base_url: Option<String>,
    pub wuts_session_id: String,
    pub wuts_api_key: String,
    /// A new tenant's pacing (an existing one keeps its own).
    pub pacing: crate::pacing::Pacing,
}

fn check_id(what: &str, value: &str) -> Result<(), ProvisionError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ProvisionError::Invalid(format!(
            "{what} must be 1-128 characters of letters, digits, '-', '_', '.', '@'"
        )))
    }
}

/// The engine's session (instance) name, checked when written: it goes
/// into the engine's URL paths (percent-encoded there too). 1 to 100 of
/// letters, digits, `-`, `_` and `.`, not starting with `.`: no `/`, `..`,
/// `?`, `#`, `%` or space can pass. `wuts` takes none (its key names the
/// device).
pub fn check_session(engine: EngineKind, session: &str) -> Result<(), ProvisionError> {
    let Some(what) = engine.session_name() else {
        return if session.is_empty() {
            Ok(())
        } else {
            Err(ProvisionError::Invalid(format!(
                "the {engine} engine takes no session: its key names the device"
            )))
        };
    };
    let ok = !session.is_empty()
        && session.len() <= 100
        && !session.starts_with('.')
        && session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ProvisionError::Invalid(format!(
            "the {engine} {what} must be 1-100 letters, digits, '-', '_' or '.', not starting with '.'"
        )))
    }
}

/// Validates and stores a tenant (create or replace).
pub async fn put_tenant(
    store: &dyn Store,
    new: NewTenant,
    allow_http: bool,
) -> Result<Tenant, ProvisionError> {
    check_id("tenant id", &new.tenant_id)?;
    let wuts_base_url = match &new.wuts_base_url {
        Some(url) => {
            check_base_url(url.trim(), allow_http)
                .map_err(|e| ProvisionError::Invalid(format!("--wuts-base-url: {e}")))?;
            // Stored as it is used: no surrounding space, no trailing `/`.
            Some(crate::engine::normalise_base_url(url))
        }
        None => None,
    };
    check_session(new.engine, &new.wuts_session_id)?;
    if new.wuts_api_key.trim().is_empty() {
        return Err(ProvisionError::Invalid(
            "the engine's API key is empty".into(),
        ));
    }
    // Replacing a tenant keeps its pacing settings (`tenant pacing` owns them).
    let pacing = match store.get_tenant(&new.tenant_id).await? {
        Some(existing) => existing.pacing,
        None => new.pacing,
    };
    let tenant = Tenant {
        tenant_id: new.tenant_id,
        status: new.status,
        name: new.name,
        engine: new.engine,
        wuts_base_url,
        wuts_session_id: new.wuts_session_id,
        wuts_api_key: new.wuts_api_key,
        pacing,
    };
    store.put_tenant(&tenant).await?;
    Ok(tenant)
}

/// A change to a tenant's pacing (`admin tenant pacing`).
#[derive(Debug, Clone, Default)]
pub struct PacingChange {
    /// `Some(true)`: off; `Some(false)`: on.
    pub off: Option<bool>,
    /// One class's override; unset fields keep what is there.
    pub class: Option<(crate::pacing::Class, crate::pacing::Override)>,
}

/// Creates (or rotates) the tenant's engine-webhook ingress token: the
/// hook names the tenant and its engine session; `engine_secret` is the
/// engine's own signing secret, checked where the engine signs. Returns the
/// path to give the engine, `/hooks/<engine>/<token>`, the only time the
/// token is seen: it is stored hashed, and the previous one stops working.
pub async fn create_hook(
    store: &dyn Store,
    tenant_id: &str,
    engine_secret: Option<String>,
) -> Result<String, ProvisionError> {
    let tenant = store
        .get_tenant(tenant_id)
        .await?
        .ok_or_else(|| ProvisionError::NotFound(format!("no tenant {tenant_id:?}")))?;
    if engine_secret
        .as_deref()
        .is_some_and(|s| s.trim().is_empty())
    {
        return Err(ProvisionError::Invalid(
            "--engine-secret must not be empty".into(),
        ));
    }
    let token = crate::events::new_hook_token();
    let hook = crate::events::Hook {
        tenant_id: tenant.tenant_id.clone(),
        engine: tenant.engine,
        session: tenant.engine_target().session_id,
        engine_secret,
        created_at: crate::clock::now_epoch(),
    };
    store
        .events()
        .put_hook(&crate::events::hook_hash(&token), &hook)
        .await?;
    Ok(format!("/hooks/{}/{token}", tenant.engine.as_str()))
}

/// The hook token the sample events (`events/hooks-<engine>.json`) name for
/// an engine: fixed, so demos and the sample-event runs can seed it.
pub fn sample_hook_token(engine: crate::engine::EngineKind) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "hk_{}",
        hex::encode(Sha256::digest(format!("sample-hook-{}", engine.as_str())))
    )
}

/// Stores the sample hook of the tenant's engine (no engine secret): what
/// `admin sample-hook` and the test harness seed.
pub async fn seed_sample_hook(
    store: &dyn Store,
    tenant: &Tenant,
) -> Result<String, ProvisionError> {
    let token = sample_hook_token(tenant.engine);
    let hook = crate::events::Hook {
        tenant_id: tenant.tenant_id.clone(),
        engine: tenant.engine,
        session: tenant.engine_target().session_id,
        engine_secret: None,
        created_at: crate::clock::now_epoch(),
    };
    store
        .events()
        .put_hook(&crate::events::hook_hash(&token), &hook)
        .await?;
    Ok(format!("/hooks/{}/{token}", tenant.engine.as_str()))
}

/// Applies `change` to the tenant's pacing; the tenant as stored.
pub async fn set_tenant_pacing(
    store: &dyn Store,
    tenant_id: &str,
    change: PacingChange,
) -> Result<Tenant, ProvisionError> {
    let mut tenant = store
        .get_tenant(tenant_id)
        .await?
        .ok_or_else(|| ProvisionError::NotFound(format!("no tenant {tenant_id:?}")))?;
    if let Some(off) = change.off {
        tenant.pacing.off = off;
    }
    if let Some((class, o)) = change.class {
        if o.burst == Some(0) || o.interval_ms == Some(0) {
            return Err(ProvisionError::Invalid(
                "--burst and --interval-ms must be at least 1".into(),
            ));
        }
        let entry = tenant.pacing.classes.entry(class).or_default();
        entry.interval_ms = o.interval_ms.or(entry.interval_ms);
        entry.burst = o.burst.or(entry.burst);
        entry.daily = o.daily.or(entry.daily);
    }
    store.put_tenant(&tenant).await?;
    Ok(tenant)
}

pub async fn set_tenant_status(
    store: &dyn Store,
    tenant_id: &str,
    status: TenantStatus,
) -> Result<Tenant, ProvisionError> {
    store
        .set_tenant_status(tenant_id, status)
        .await?
        .ok_or_else(|| ProvisionError::NotFound(format!("no tenant {tenant_id:?}")))
}

/// Issues a new token for an existing tenant. Only its hash is stored.
pub async fn issue_token(
    store: &dyn Store,
    tenant_id: &str,
    user_id: &str,
    expires_in_days: Option<u32>,
    scopes: Option<Vec<crate::scope::Scope>>,
) -> Result<IssuedToken, ProvisionError> {
    check_id("user id", user_id)?;
    if store.get_tenant(tenant_id).await?.is_none() {
        return Err(ProvisionError::NotFound(format!("no tenant {tenant_id:?}")));
    }
    if expires_in_days == Some(0) {
        return Err(ProvisionError::Invalid(
            "--expires-in-days must be at least 1".into(),
        ));
    }
    let token = uuid::Uuid::new_v4().hyphenated().to_string();
    let now = crate::clock::now_epoch();
    let record = TokenRecord {
        token_hash: hash_token(&token),
        token_id: format!("tok_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
        tenant_id: tenant_id.to_string(),
        user_id: user_id.to_string(),
        status: TokenStatus::Active,
        expires_at: expires_in_days.map(|d| now + i64::from(d) * 86_400),
        created_at: now,
        // No scopes asked for: both, stored, so `token list` shows them.
        scopes: Some(scopes.unwrap_or_else(|| crate::scope::Scope::ALL.to_vec())),
    };
    store.put_token(&record).await?;
    Ok(IssuedToken { token, record })
}

/// Revokes a token given in clear (a bare UUID or `Bearer <uuid>`).
pub async fn revoke_token(store: &dyn Store, token: &str) -> Result<TokenRecord, ProvisionError> {
    let bare = token
        .trim()
        .strip_prefix("Bearer ")
        .or_else(|| token.trim().strip_prefix("bearer "))
        .unwrap_or(token.trim());
    let normalised = normalise_token(bare.trim())
        .ok_or_else(|| ProvisionError::Invalid("the token is not a UUID v4".into()))?;
    store
        .revoke_token(&hash_token(&normalised))
        .await?
        .ok_or_else(|| ProvisionError::NotFound("no such token".into()))
}

/// The job the sample events (`events/get-job.json`, `cancel-job.json`)
/// name: seeded by the embedded demo, the test harness and `admin job
/// sample`, so every sample answers 2xx.
pub const SAMPLE_JOB_ID: &str = "job_0192f0c0aa0070008000000000000001";

/// Stores [`SAMPLE_JOB_ID`] for `tenant_id` (replacing it): a queued job
/// of two adds to `group_jid` that no queue runs, so cancelling it shows
/// what a cancel does.
pub async fn seed_sample_job(
    store: &dyn Store,
    tenant_id: &str,
    lane: &str,
    group_jid: &str,
) -> Result<(), ProvisionError> {
    use crate::jobs::{Job, JobStatus, Owner};
    let now = crate::clock::now_ms();
    let invalid = ProvisionError::Invalid;
    let call = crate::engine::UpdateParticipants {
        kind: crate::engine::GroupKind::Group,
        group: crate::jid::GroupJid::from_path_segment(group_jid).map_err(invalid)?,
        action: crate::engine::Action::Add,
        participants: ["5511777777777", "5511666666666"]
            .iter()
            .map(|p| crate::jid::ParticipantJid::normalise(p).map_err(invalid))
            .collect::<Result<_, _>>()?,
        invite_on_privacy: false,
    };
    let owner = Owner {
        tenant_id,
        user_id: "sample",
        token_id: "sample",
        lane,
    };
    let (job, entries) = Job::queued(SAMPLE_JOB_ID.to_string(), &owner, &call, now);
    let jobs = store.jobs();
    // Replacing: the memory store refuses an existing id, DynamoDB's put is
    // conditional too; a cancelled sample is set back to queued.
    if jobs.get_job(tenant_id, SAMPLE_JOB_ID).await?.is_some() {
        jobs.set_status(
            tenant_id,
            SAMPLE_JOB_ID,
            &[
                JobStatus::Cancelled,
                JobStatus::Completed,
                JobStatus::Failed,
            ],
            &crate::jobs::StatusChange::to(JobStatus::Queued, now),
        )
        .await?;
        return Ok(());
    }
    jobs.create_job(&job, &entries).await?;
    Ok(())
}
