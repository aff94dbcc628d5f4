//! The store contract: one suite, run against the in-memory fake and against
//! DynamoDB (moto). Each assertion is something an adapter could get wrong.

use shared::store::{Store, StoreError, Tenant, TenantStatus, TokenRecord, TokenStatus};

fn token(hash: &str, tenant: &str, created_at: i64) -> TokenRecord {
    TokenRecord {
        token_hash: hash.to_string(),
        token_id: format!("id-{hash}"),
        tenant_id: tenant.to_string(),
        user_id: format!("user-{hash}"),
        status: TokenStatus::Active,
        expires_at: None,
        created_at,
    }
}

fn tenant(id: &str) -> Tenant {
    Tenant {
        tenant_id: id.to_string(),
        status: TenantStatus::Active,
        name: Some(format!("Tenant {id}")),
        wuts_base_url: Some("https://wuts.example".into()),
        wuts_session_id: "sess".into(),
        wuts_api_key: "key".into(),
    }
}

pub async fn run_store_contract(store: &dyn Store) {
    tokens(store).await;
    tenants(store).await;
}

async fn tokens(store: &dyn Store) {
    assert_eq!(store.get_token("missing").await.unwrap(), None);

    let mut a = token("aaa", "t1", 100);
    a.expires_at = Some(4_102_444_800);
    store.put_token(&a).await.unwrap();
    assert_eq!(store.get_token("aaa").await.unwrap(), Some(a.clone()));

    // Hashes are unique: a second put with the same hash is refused and the
    // first record is untouched.
    let mut clash = token("aaa", "t2", 1);
    clash.user_id = "intruder".into();
    assert!(matches!(
        store.put_token(&clash).await,
        Err(StoreError::Other(_))
    ));
    assert_eq!(store.get_token("aaa").await.unwrap(), Some(a.clone()));

    let revoked = store.revoke_token("aaa").await.unwrap().unwrap();
    assert_eq!(revoked.status, TokenStatus::Revoked);
    assert_eq!(revoked.user_id, a.user_id);
    assert_eq!(
        store.get_token("aaa").await.unwrap().unwrap().status,
        TokenStatus::Revoked
    );
    assert_eq!(store.revoke_token("nope").await.unwrap(), None);
    assert_eq!(
        store.get_token("nope").await.unwrap(),
        None,
        "revoke must not create"
    );

    store.put_token(&token("ccc", "t1", 300)).await.unwrap();
    store.put_token(&token("bbb", "t1", 200)).await.unwrap();
    store.put_token(&token("ddd", "t2", 150)).await.unwrap();
    let listed: Vec<String> = store
        .list_tokens("t1")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.token_hash)
        .collect();
    assert_eq!(listed, vec!["aaa", "bbb", "ccc"]);
    assert!(store.list_tokens("t9").await.unwrap().is_empty());
}

async fn tenants(store: &dyn Store) {
    assert_eq!(store.get_tenant("acme").await.unwrap(), None);
    let mut acme = tenant("acme");
    store.put_tenant(&acme).await.unwrap();
    assert_eq!(store.get_tenant("acme").await.unwrap(), Some(acme.clone()));

    // put replaces, including clearing optional fields.
    acme.name = None;
    acme.wuts_base_url = None;
    acme.wuts_api_key = "rotated".into();
    store.put_tenant(&acme).await.unwrap();
    assert_eq!(store.get_tenant("acme").await.unwrap(), Some(acme.clone()));

    let suspended = store
        .set_tenant_status("acme", TenantStatus::Suspended)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(suspended.status, TenantStatus::Suspended);
    assert_eq!(suspended.wuts_api_key, "rotated");
    assert_eq!(
        store.get_tenant("acme").await.unwrap().unwrap().status,
        TenantStatus::Suspended
    );
    assert_eq!(
        store
            .set_tenant_status("ghost", TenantStatus::Active)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_tenant("ghost").await.unwrap(),
        None,
        "status change must not create"
    );
}
