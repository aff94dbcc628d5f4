//! In-memory store: the fake for unit tests and the embedded local default.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;

use shared::jobs::{Job, JobEntry, JobPage, JobStatus, JobStore, StatusChange, Tally};
use shared::pacing::{Acquired, Ask, Class, LaneState, LaneStore};

use shared::store::{
    AuditRecord, AuditStore, Claim, IdempotencyRecord, IdempotencyState, IdempotencyStore,
    MAX_ITEM_BYTES, StoreError, StoredAnswer, Tenant, TenantStatus, TenantStore, TokenRecord,
    TokenStatus, TokenStore,
};

/// A job and its entries.
type StoredJob = (Job, Vec<JobEntry>);

#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, TokenRecord>>,
    tenants: Mutex<HashMap<String, Tenant>>,
    idempotency: Mutex<HashMap<String, IdempotencyRecord>>,
    audit: Mutex<Vec<AuditRecord>>,
    lanes: Mutex<HashMap<(String, Class), LaneState>>,
    /// Each job and its entries, by tenant and id.
    jobs: Mutex<HashMap<(String, String), StoredJob>>,
    /// Hooks by token hash.
    hooks: Mutex<HashMap<String, shared::events::Hook>>,
    /// Each tenant's events, oldest first, and the dedupe keys seen (with
    /// when).
    events: Mutex<HashMap<String, Vec<shared::events::Event>>>,
    dedupe: Mutex<HashMap<(String, String), i64>>,
    /// Endpoints and dead letters, by tenant.
    endpoints: Mutex<BTreeMap<(String, String), shared::events::delivery::Endpoint>>,
    failures: Mutex<Vec<shared::events::Failure>>,
    /// How many reads reached the store (tests assert on it).
    reads: AtomicUsize,
    /// When set, audit writes fail (tests of "a failed audit write is logged").
    fail_audit: AtomicBool,
}

impl MemoryStore {
    pub fn new() -> Self {
        crate::mark();
        Self::default()
    }

    /// Number of `get_token` / `get_tenant` calls served so far.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// Makes every later audit write fail.
    pub fn fail_audit_writes(&self, fail: bool) {
        self.fail_audit.store(fail, Ordering::SeqCst);
    }
}

fn poisoned() -> StoreError {
    StoreError::Other("memory store lock poisoned".into())
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn get_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let tokens = self.tokens.lock().map_err(|_| poisoned())?;
        Ok(tokens.get(token_hash).cloned())
    }

    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let mut tokens = self.tokens.lock().map_err(|_| poisoned())?;
        if tokens.contains_key(&record.token_hash) {
            return Err(StoreError::Other("token already exists".into()));
        }
        tokens.insert(record.token_hash.clone(), record.clone());
        Ok(())
    }

    async fn revoke_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let mut tokens = self.tokens.lock().map_err(|_| poisoned())?;
        Ok(tokens.get_mut(token_hash).map(|t| {
            t.status = TokenStatus::Revoked;
            t.clone()
        }))
    }

    async fn list_tokens(&self, tenant_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
        let tokens = self.tokens.lock().map_err(|_| poisoned())?;
        let mut list: Vec<TokenRecord> = tokens
            .values()
            .filter(|t| t.tenant_id == tenant_id)
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.token_id).cmp(&(b.created_at, &b.token_id)));
        Ok(list)
    }
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let tenants = self.tenants.lock().map_err(|_| poisoned())?;
        Ok(tenants.get(tenant_id).cloned())
    }

    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let mut tenants = self.tenants.lock().map_err(|_| poisoned())?;
        tenants.insert(tenant.tenant_id.clone(), tenant.clone());
        Ok(())
    }

    async fn set_tenant_status(
        &self,
        tenant_id: &str,
        status: TenantStatus,
    ) -> Result<Option<Tenant>, StoreError> {
        let mut tenants = self.tenants.lock().map_err(|_| poisoned())?;
        Ok(tenants.get_mut(tenant_id).map(|t| {
            t.status = status;
            t.clone()
        }))
    }
}

/// A record that no longer blocks its key.
fn is_stale(record: &IdempotencyRecord, now: i64) -> bool {
    record.expires_at <= now
        || matches!(record.state, IdempotencyState::InProgress { lease_until } if lease_until <= now)
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(&self, record: &IdempotencyRecord, now: i64) -> Result<Claim, StoreError> {
        let mut records = self.idempotency.lock().map_err(|_| poisoned())?;
        match records.get(&record.id) {
            Some(existing) if !is_stale(existing, now) => Ok(Claim::Existing(existing.clone())),
            _ => {
                records.insert(record.id.clone(), record.clone());
                Ok(Claim::Claimed)
            }
        }
    }

    async fn complete(
        &self,
        id: &str,
        owner: &str,
        answer: &StoredAnswer,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut records = self.idempotency.lock().map_err(|_| poisoned())?;
        if let Some(record) = records.get_mut(id).filter(|r| r.owner == owner) {
            // DynamoDB's size: attribute names and values (numbers counted
            // generously). Refused like an oversized UpdateItem.
            let size = ["id", "fingerprint", "owner", "state", "response_status"]
                .iter()
                .map(|n| n.len())
                .sum::<usize>()
                + "response_body".len()
                + "expires_at".len()
                + record.id.len()
                + record.fingerprint.len()
                + record.owner.len()
                + "completed".len()
                + 2 * 21
                + if answer.headers.is_empty() {
                    0
                } else {
                    "response_headers".len()
                }
                + answer.len();
            if size > MAX_ITEM_BYTES {
                return Err(StoreError::Other(format!(
                    "item size {size} exceeds the maximum allowed size"
                )));
            }
            record.state = IdempotencyState::Completed(answer.clone());
            record.expires_at = expires_at;
        }
        Ok(())
    }

    async fn release(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        let mut records = self.idempotency.lock().map_err(|_| poisoned())?;
        if records.get(id).is_some_and(|r| r.owner == owner) {
            records.remove(id);
        }
        Ok(())
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        if self.fail_audit.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("audit writes disabled".into()));
        }
        let mut audit = self.audit.lock().map_err(|_| poisoned())?;
        audit.push(record.clone());
        Ok(())
    }

    async fn list_audit(
        &self,
        tenant_id: &str,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let audit = self.audit.lock().map_err(|_| poisoned())?;
        let mut list: Vec<AuditRecord> = audit
            .iter()
            .filter(|r| r.tenant_id == tenant_id && since.is_none_or(|s| r.at.as_str() >= s))
            .cloned()
            .collect();
        list.sort_by(|a, b| (&a.at, &a.request_id).cmp(&(&b.at, &b.request_id)));
        list.truncate(limit);
        Ok(list)
    }
}

/// The same arithmetic as the DynamoDB lanes (`LaneState`), under a lock.
#[async_trait]
impl LaneStore for MemoryStore {
    async fn acquire(&self, lane: &str, ask: &Ask) -> Result<Acquired, StoreError> {
        let mut lanes = self.lanes.lock().map_err(|_| poisoned())?;
        Ok(lanes
            .entry((lane.to_string(), ask.class))
            .or_default()
            .acquire(&ask.budget, ask.cost, ask.now_ms))
    }

    async fn strike(&self, lane: &str, class: Class, now_ms: i64) -> Result<i64, StoreError> {
        let mut lanes = self.lanes.lock().map_err(|_| poisoned())?;
        let state = lanes.entry((lane.to_string(), class)).or_default();
        state.strike(now_ms);
        Ok(state.paused_until)
    }

    async fn lane(&self, lane: &str) -> Result<BTreeMap<Class, LaneState>, StoreError> {
        let lanes = self.lanes.lock().map_err(|_| poisoned())?;
        Ok(lanes
            .iter()
            .filter(|((l, _), _)| l == lane)
            .map(|((_, class), state)| (*class, state.clone()))
            .collect())
    }
}

/// The jobs as the DynamoDB table keeps them: per tenant, with the same
/// conditions on each move.
#[async_trait]
impl JobStore for MemoryStore {
    async fn create_job(&self, job: &Job, entries: &[JobEntry]) -> Result<(), StoreError> {
        let mut jobs = self.jobs.lock().map_err(|_| poisoned())?;
        let key = (job.tenant_id.clone(), job.id.clone());
        if jobs.contains_key(&key) {
            return Err(StoreError::Other("the job exists".into()));
        }
        jobs.insert(key, (job.clone(), entries.to_vec()));
        Ok(())
    }

    async fn get_job(&self, tenant_id: &str, id: &str) -> Result<Option<Job>, StoreError> {
        let jobs = self.jobs.lock().map_err(|_| poisoned())?;
        Ok(jobs
            .get(&(tenant_id.to_string(), id.to_string()))
            .map(|(job, _)| job.clone()))
    }

    async fn list_jobs(
        &self,
        tenant_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<JobPage, StoreError> {
        let jobs = self.jobs.lock().map_err(|_| poisoned())?;
        let mut mine: Vec<Job> = jobs
            .values()
            .filter(|(job, _)| job.tenant_id == tenant_id)
            .filter(|(job, _)| after.is_none_or(|a| job.id.as_str() < a))
            .map(|(job, _)| job.clone())
            .collect();
        mine.sort_by(|a, b| b.id.cmp(&a.id));
        let more = mine.len() > limit as usize;
        mine.truncate(limit.max(1) as usize);
        let next = more.then(|| mine.last().map(|j| j.id.clone())).flatten();
        Ok(JobPage { jobs: mine, next })
    }

    async fn entries(
        &self,
        tenant_id: &str,
        id: &str,
        from: u32,
        limit: u32,
    ) -> Result<Vec<JobEntry>, StoreError> {
        let jobs = self.jobs.lock().map_err(|_| poisoned())?;
        Ok(jobs
            .get(&(tenant_id.to_string(), id.to_string()))
            .map(|(_, entries)| {
                entries
                    .iter()
                    .skip(from as usize)
                    .take(limit as usize)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn begin_chunk(
        &self,
        tenant_id: &str,
        id: &str,
        cursor: u32,
        n: u32,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut jobs = self.jobs.lock().map_err(|_| poisoned())?;
        let Some((job, _)) = jobs.get_mut(&(tenant_id.to_string(), id.to_string())) else {
            return Ok(false);
        };
        if job.cursor != cursor || job.inflight != 0 || !job.status.is_live() {
            return Ok(false);
        }
        job.inflight = n;
        job.status = JobStatus::Running;
        job.updated_at = now_ms;
        job.paused_until = None;
        job.pause_reason = None;
        Ok(true)
    }

    async fn commit_chunk(
        &self,
        tenant_id: &str,
        id: &str,
        cursor: u32,
        outcomes: &[JobEntry],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut jobs = self.jobs.lock().map_err(|_| poisoned())?;
        let Some((job, entries)) = jobs.get_mut(&(tenant_id.to_string(), id.to_string())) else {
            return Ok(false);
        };
        let n = outcomes.len() as u32;
        if job.cursor != cursor || (job.inflight != n && job.inflight != 0) {
            return Ok(false);
        }
        for (i, outcome) in outcomes.iter().enumerate() {
            if let Some(slot) = entries.get_mut(cursor as usize + i) {
                *slot = outcome.clone();
            }
        }
        Tally::of(outcomes).apply(job, n, now_ms);
        Ok(true)
    }

    async fn set_status(
        &self,
        tenant_id: &str,
        id: &str,
        from: &[JobStatus],
        change: &StatusChange,
    ) -> Result<Option<Job>, StoreError> {
        let mut jobs = self.jobs.lock().map_err(|_| poisoned())?;
        let Some((job, _)) = jobs.get_mut(&(tenant_id.to_string(), id.to_string())) else {
            return Ok(None);
        };
        if !from.contains(&job.status) {
            return Ok(None);
        }
        job.status = change.status;
        job.updated_at = change.now_ms;
        (job.paused_until, job.pause_reason) = match &change.paused {
            Some((until, why)) => (Some(*until), Some(why.clone())),
            None => (None, None),
        };
        if let Some(error) = &change.error {
            job.error = Some(error.clone());
        }
        Ok(Some(job.clone()))
    }

    async fn confirm_entry(
        &self,
        tenant_id: &str,
        id: &str,
        index: u32,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut jobs = self.jobs.lock().map_err(|_| poisoned())?;
        let Some((job, entries)) = jobs.get_mut(&(tenant_id.to_string(), id.to_string())) else {
            return Ok(false);
        };
        match entries.get_mut(index as usize) {
            Some(e) if e.status == shared::jobs::EntryState::Unconfirmed => {
                e.status = shared::jobs::EntryState::Ok;
                job.ok += 1;
                job.unconfirmed -= 1;
                job.updated_at = now_ms;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// `impl JobStore for $ty` by handing every call to its `$field` (a test
/// store that wraps a [`MemoryStore`] to misbehave elsewhere).
#[macro_export]
macro_rules! delegate_job_store {
    ($ty:ty, $field:ident) => {
        #[async_trait::async_trait]
        impl shared::jobs::JobStore for $ty {
            async fn create_job(
                &self,
                job: &shared::jobs::Job,
                entries: &[shared::jobs::JobEntry],
            ) -> Result<(), shared::store::StoreError> {
                self.$field.create_job(job, entries).await
            }
            async fn get_job(
                &self,
                tenant_id: &str,
                id: &str,
            ) -> Result<Option<shared::jobs::Job>, shared::store::StoreError> {
                self.$field.get_job(tenant_id, id).await
            }
            async fn list_jobs(
                &self,
                tenant_id: &str,
                after: Option<&str>,
                limit: u32,
            ) -> Result<shared::jobs::JobPage, shared::store::StoreError> {
                self.$field.list_jobs(tenant_id, after, limit).await
            }
            async fn entries(
                &self,
                tenant_id: &str,
                id: &str,
                from: u32,
                limit: u32,
            ) -> Result<Vec<shared::jobs::JobEntry>, shared::store::StoreError> {
                self.$field.entries(tenant_id, id, from, limit).await
            }
            async fn begin_chunk(
                &self,
                tenant_id: &str,
                id: &str,
                cursor: u32,
                n: u32,
                now_ms: i64,
            ) -> Result<bool, shared::store::StoreError> {
                self.$field
                    .begin_chunk(tenant_id, id, cursor, n, now_ms)
                    .await
            }
            async fn commit_chunk(
                &self,
                tenant_id: &str,
                id: &str,
                cursor: u32,
                entries: &[shared::jobs::JobEntry],
                now_ms: i64,
            ) -> Result<bool, shared::store::StoreError> {
                self.$field
                    .commit_chunk(tenant_id, id, cursor, entries, now_ms)
                    .await
            }
            async fn set_status(
                &self,
                tenant_id: &str,
                id: &str,
                from: &[shared::jobs::JobStatus],
                change: &shared::jobs::StatusChange,
            ) -> Result<Option<shared::jobs::Job>, shared::store::StoreError> {
                self.$field.set_status(tenant_id, id, from, change).await
            }
            async fn confirm_entry(
                &self,
                tenant_id: &str,
                id: &str,
                index: u32,
                now_ms: i64,
            ) -> Result<bool, shared::store::StoreError> {
                self.$field
                    .confirm_entry(tenant_id, id, index, now_ms)
                    .await
            }
        }
    };
}

/// A jobs queue that only keeps what it is given: the jobs stay `queued`
/// (tests that count engine calls; the jobs tests run them in process).
#[derive(Default)]
pub struct HeldQueue(Mutex<Vec<shared::jobs::JobMessage>>);

impl HeldQueue {
    /// The messages queued so far.
    pub fn messages(&self) -> Vec<shared::jobs::JobMessage> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl shared::jobs::JobQueue for HeldQueue {
    async fn enqueue(&self, message: &shared::jobs::JobMessage) -> Result<(), StoreError> {
        self.0.lock().map_err(|_| poisoned())?.push(message.clone());
        Ok(())
    }
}

/// `state` with a [`HeldQueue`].
pub fn holding<E, S>(mut state: shared::AppState<E, S>) -> std::sync::Arc<shared::AppState<E, S>>
where
    E: shared::engine::Engine + ?Sized,
    S: shared::store::Store + ?Sized,
{
    state.queue = std::sync::Arc::new(HeldQueue::default());
    std::sync::Arc::new(state)
}

#[async_trait]
impl shared::events::EventStore for MemoryStore {
    async fn put_hook(
        &self,
        token_hash: &str,
        hook: &shared::events::Hook,
    ) -> Result<(), StoreError> {
        let mut hooks = self.hooks.lock().map_err(|_| poisoned())?;
        hooks.retain(|_, h| h.tenant_id != hook.tenant_id);
        hooks.insert(token_hash.to_string(), hook.clone());
        Ok(())
    }

    async fn get_hook(&self, token_hash: &str) -> Result<Option<shared::events::Hook>, StoreError> {
        let hooks = self.hooks.lock().map_err(|_| poisoned())?;
        Ok(hooks.get(token_hash).cloned())
    }

    async fn put_event(
        &self,
        event: &shared::events::Event,
        dedupe: &str,
        now_secs: i64,
    ) -> Result<shared::events::Stored, StoreError> {
        let mut seen = self.dedupe.lock().map_err(|_| poisoned())?;
        let key = (event.tenant_id.clone(), dedupe.to_string());
        if seen
            .get(&key)
            .is_some_and(|at| *at + shared::events::DEDUPE_SECS > now_secs)
        {
            return Ok(shared::events::Stored::Duplicate);
        }
        seen.insert(key, now_secs);
        let mut events = self.events.lock().map_err(|_| poisoned())?;
        events
            .entry(event.tenant_id.clone())
            .or_default()
            .push(event.clone());
        Ok(shared::events::Stored::New)
    }

    async fn list_events(
        &self,
        tenant_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Vec<shared::events::Event>, StoreError> {
        let events = self.events.lock().map_err(|_| poisoned())?;
        let mut all: Vec<shared::events::Event> =
            events.get(tenant_id).cloned().unwrap_or_default();
        all.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(all
            .into_iter()
            .filter(|e| cursor.is_none_or(|c| e.id.as_str() < c))
            .take(limit as usize)
            .collect())
    }

    async fn get_event(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<shared::events::Event>, StoreError> {
        let events = self.events.lock().map_err(|_| poisoned())?;
        Ok(events
            .get(tenant_id)
            .and_then(|list| list.iter().find(|e| e.id == id).cloned()))
    }

    async fn put_endpoint(
        &self,
        endpoint: &shared::events::delivery::Endpoint,
    ) -> Result<(), StoreError> {
        let mut all = self.endpoints.lock().map_err(|_| poisoned())?;
        all.insert(
            (endpoint.tenant_id.clone(), endpoint.id.clone()),
            endpoint.clone(),
        );
        Ok(())
    }

    async fn list_endpoints(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<shared::events::delivery::Endpoint>, StoreError> {
        let all = self.endpoints.lock().map_err(|_| poisoned())?;
        let mut list: Vec<_> = all
            .values()
            .filter(|e| e.tenant_id == tenant_id)
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(list)
    }

    async fn delete_endpoint(&self, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut all = self.endpoints.lock().map_err(|_| poisoned())?;
        Ok(all
            .remove(&(tenant_id.to_string(), id.to_string()))
            .is_some())
    }

    async fn put_failure(&self, failure: &shared::events::Failure) -> Result<(), StoreError> {
        let mut all = self.failures.lock().map_err(|_| poisoned())?;
        all.retain(|f| {
            (&f.tenant_id, &f.endpoint_id, &f.event_id)
                != (&failure.tenant_id, &failure.endpoint_id, &failure.event_id)
        });
        all.push(failure.clone());
        Ok(())
    }

    async fn list_failures(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<shared::events::Failure>, StoreError> {
        let all = self.failures.lock().map_err(|_| poisoned())?;
        Ok(all
            .iter()
            .filter(|f| f.tenant_id == tenant_id)
            .cloned()
            .collect())
    }

    async fn delete_failure(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        event_id: &str,
    ) -> Result<(), StoreError> {
        let mut all = self.failures.lock().map_err(|_| poisoned())?;
        all.retain(|f| {
            (
                f.tenant_id.as_str(),
                f.endpoint_id.as_str(),
                f.event_id.as_str(),
            ) != (tenant_id, endpoint_id, event_id)
        });
        Ok(())
    }
}

/// `impl EventStore for $ty` by handing every call to its `$field`.
#[macro_export]
macro_rules! delegate_event_store {
    ($ty:ty, $field:ident) => {
        #[async_trait::async_trait]
        impl shared::events::EventStore for $ty {
            async fn put_hook(
                &self,
                token_hash: &str,
                hook: &shared::events::Hook,
            ) -> Result<(), shared::store::StoreError> {
                self.$field.put_hook(token_hash, hook).await
            }
            async fn get_hook(
                &self,
                token_hash: &str,
            ) -> Result<Option<shared::events::Hook>, shared::store::StoreError> {
                self.$field.get_hook(token_hash).await
            }
            async fn put_event(
                &self,
                event: &shared::events::Event,
                dedupe: &str,
                now_secs: i64,
            ) -> Result<shared::events::Stored, shared::store::StoreError> {
                self.$field.put_event(event, dedupe, now_secs).await
            }
            async fn list_events(
                &self,
                tenant_id: &str,
                limit: u32,
                cursor: Option<&str>,
            ) -> Result<Vec<shared::events::Event>, shared::store::StoreError> {
                self.$field.list_events(tenant_id, limit, cursor).await
            }
            async fn get_event(
                &self,
                tenant_id: &str,
                id: &str,
            ) -> Result<Option<shared::events::Event>, shared::store::StoreError> {
                self.$field.get_event(tenant_id, id).await
            }
            async fn put_endpoint(
                &self,
                endpoint: &shared::events::delivery::Endpoint,
            ) -> Result<(), shared::store::StoreError> {
                self.$field.put_endpoint(endpoint).await
            }
            async fn list_endpoints(
                &self,
                tenant_id: &str,
            ) -> Result<Vec<shared::events::delivery::Endpoint>, shared::store::StoreError> {
                self.$field.list_endpoints(tenant_id).await
            }
            async fn delete_endpoint(
                &self,
                tenant_id: &str,
                id: &str,
            ) -> Result<bool, shared::store::StoreError> {
                self.$field.delete_endpoint(tenant_id, id).await
            }
            async fn put_failure(
                &self,
                failure: &shared::events::Failure,
            ) -> Result<(), shared::store::StoreError> {
                self.$field.put_failure(failure).await
            }
            async fn list_failures(
                &self,
                tenant_id: &str,
            ) -> Result<Vec<shared::events::Failure>, shared::store::StoreError> {
                self.$field.list_failures(tenant_id).await
            }
            async fn delete_failure(
                &self,
                tenant_id: &str,
                endpoint_id: &str,
                event_id: &str,
            ) -> Result<(), shared::store::StoreError> {
                self.$field
                    .delete_failure(tenant_id, endpoint_id, event_id)
                    .await
            }
        }
    };
}
