//! In-memory store: the fake for unit tests and the embedded local default.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::{StoreError, Tenant, TenantStatus, TenantStore, TokenRecord, TokenStatus, TokenStore};

#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, TokenRecord>>,
    tenants: Mutex<HashMap<String, Tenant>>,
    /// How many reads reached the store (tests assert on it).
    reads: AtomicUsize,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of `get_token` / `get_tenant` calls served so far.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
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
