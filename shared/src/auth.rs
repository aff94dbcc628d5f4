//! Authentication: bearer parsing, token hashing, the warm-container cache and
//! the token → tenant resolution.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lambda_http::http::HeaderMap;
use lambda_http::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};

use crate::engine::EngineTarget;
use crate::error::ApiError;
use crate::store::{Store, Tenant, TenantStatus};

/// Bound on cached principals per warm container.
const MAX_CACHE_ENTRIES: usize = 10_000;

/// Who is calling, once authenticated.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    pub user_id: String,
    pub tenant: Tenant,
    /// The token's own expiry (epoch seconds), re-checked on cache hits.
    pub token_expires_at: Option<i64>,
    /// `None`: a token from before scopes, which may do everything.
    pub scopes: Option<Vec<crate::scope::Scope>>,
}

impl Principal {
    pub fn tenant_id(&self) -> &str {
        &self.tenant.tenant_id
    }

    /// `403 INSUFFICIENT_SCOPE` naming `needed` unless the token has it.
    pub fn require(&self, needed: crate::scope::Scope) -> Result<(), ApiError> {
        if crate::scope::allows(self.scopes.as_deref(), needed) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope {
                scope: needed.as_str(),
            })
        }
    }

    pub fn engine_target(&self) -> EngineTarget {
        self.tenant.engine_target()
    }
}

/// Reads the token from `Authorization` only: `Bearer <uuid>` (the word is
/// case-insensitive and optional). Returns the normalised (lower-case,
/// hyphenated) UUID v4. Never touches a store.
pub fn bearer_token(headers: &HeaderMap) -> Result<String, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::Unauthorized);
    };
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?.trim();
    let token = match value.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return Err(ApiError::Unauthorized),
        None => value,
    };
    normalise_token(token).ok_or(ApiError::Unauthorized)
}

/// A UUID v4 in hyphenated form (any case) → lower-case hyphenated.
pub fn normalise_token(token: &str) -> Option<String> {
    if token.len() != 36 {
        return None;
    }
    let uuid = uuid::Uuid::try_parse(token).ok()?;
    let is_v4 = uuid.get_version_num() == 4 && uuid.get_variant() == uuid::Variant::RFC4122;
    is_v4.then(|| uuid.hyphenated().to_string())
}

/// Hex SHA-256 of the normalised token: the only form that is stored.
pub fn hash_token(normalised: &str) -> String {
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

struct CacheEntry {
    cached_at: Instant,
    principal: Arc<Principal>,
}

/// Resolves bearer tokens to principals, with a per-container TTL cache of
/// positive answers (`AUTH_CACHE_TTL_SECS`; 0 disables it).
pub struct Authenticator<S: Store + ?Sized = dyn Store> {
    store: Arc<S>,
    ttl: Duration,
    cache: Mutex<HashMap<String, CacheEntry>>,
}

impl<S: Store + 'static> Authenticator<S> {
    /// The same authenticator (and cache) over `dyn Store`.
    pub fn into_dyn(self) -> Authenticator {
        Authenticator {
            store: self.store,
            ttl: self.ttl,
            cache: self.cache,
        }
    }
}

impl<S: Store + ?Sized> Authenticator<S> {
    pub fn new(store: Arc<S>, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Principal>, ApiError> {
        let token = bearer_token(headers)?;
        let hash = hash_token(&token);
        let now_epoch = crate::clock::now_epoch();
        if let Some(hit) = self.cached(&hash, now_epoch) {
            return Ok(hit);
        }
        let record = self
            .store
            .get_token(&hash)
            .await?
            .filter(|t| t.is_usable_at(now_epoch))
            .ok_or(ApiError::Unauthorized)?;
        let tenant = self
            .store
            .get_tenant(&record.tenant_id)
            .await?
            .filter(|t| t.status == TenantStatus::Active)
            .ok_or(ApiError::Forbidden {
                message: "the tenant of this token is suspended or does not exist",
            })?;
        let principal = Arc::new(Principal {
            token_id: record.token_id,
            user_id: record.user_id,
            tenant,
            token_expires_at: record.expires_at,
            scopes: record.scopes,
        });
        self.remember(hash, principal.clone());
        Ok(principal)
    }

    fn cached(&self, hash: &str, now_epoch: i64) -> Option<Arc<Principal>> {
        if self.ttl.is_zero() {
            return None;
        }
        let cache = self.cache.lock().ok()?;
        let entry = cache.get(hash)?;
        let fresh = entry.cached_at.elapsed() < self.ttl;
        let unexpired = entry
            .principal
            .token_expires_at
            .is_none_or(|exp| now_epoch < exp);
        (fresh && unexpired).then(|| entry.principal.clone())
    }

    fn remember(&self, hash: String, principal: Arc<Principal>) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= MAX_CACHE_ENTRIES {
            let ttl = self.ttl;
            cache.retain(|_, e| e.cached_at.elapsed() < ttl);
            if cache.len() >= MAX_CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(
            hash,
            CacheEntry {
                cached_at: Instant::now(),
                principal,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    const TOKEN: &str = "3f2b8a4e-9c1d-4e7f-8a6b-2c5d9e0f1a3b";

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn accepted_forms() {
        for v in [
            format!("Bearer {TOKEN}"),
            format!("bearer {TOKEN}"),
            format!("BEARER   {TOKEN}  "),
            TOKEN.to_string(),
            format!("Bearer {}", TOKEN.to_uppercase()),
        ] {
            assert_eq!(bearer_token(&headers(&[&v])).unwrap(), TOKEN, "{v}");
        }
    }

    #[test]
    fn rejected_forms() {
        for v in [
            "".to_string(),
            "Bearer".to_string(),
            "Bearer ".to_string(),
            format!("Basic {TOKEN}"),
            format!("Token {TOKEN}"),
            "Bearer not-a-uuid".to_string(),
            // v1 UUID
            "Bearer 6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_string(),
            // simple (unhyphenated) form
            format!("Bearer {}", TOKEN.replace('-', "")),
            // braced / urn forms
            format!("Bearer {{{TOKEN}}}"),
            format!("Bearer urn:uuid:{TOKEN}"),
            format!("Bearer {TOKEN} extra"),
        ] {
            assert!(bearer_token(&headers(&[&v])).is_err(), "{v:?} accepted");
        }
        assert!(bearer_token(&HeaderMap::new()).is_err());
        let twice = format!("Bearer {TOKEN}");
        assert!(bearer_token(&headers(&[&twice, &twice])).is_err());
    }

    #[test]
    fn hash_is_of_the_normalised_token() {
        let h = hash_token(&normalise_token(&TOKEN.to_uppercase()).unwrap());
        assert_eq!(h, hash_token(TOKEN));
        assert_eq!(h.len(), 64);
        assert!(!h.contains(TOKEN));
    }
}
