//! Provisioning (`admin`'s token and tenant commands) over the store ports.

use shared::auth::hash_token;
use shared::engine::EngineKind;
use shared::provision::{
    NewTenant, ProvisionError, check_session, issue_token, put_tenant, revoke_token,
};
use shared::store::{TenantStatus, TokenStatus, TokenStore};
use testkit::memory::MemoryStore;

fn acme() -> NewTenant {
    NewTenant {
        tenant_id: "acme".into(),
        name: None,
        status: TenantStatus::Active,
        engine: EngineKind::SessionService,
        wuts_base_url: Some("http://127.0.0.1:9".into()),
        wuts_session_id: "s".into(),
        wuts_api_key: "k".into(),
        pacing: Default::default(),
    }
}

#[tokio::test]
async fn issue_stores_only_the_hash_and_revoke_finds_it() {
    let store = MemoryStore::new();
    assert!(matches!(
        put_tenant(&store, acme(), false).await,
        Err(ProvisionError::Invalid(_))
    ));
    put_tenant(&store, acme(), true).await.unwrap();
    assert!(matches!(
        issue_token(&store, "ghost", "u", None, None).await,
        Err(ProvisionError::NotFound(_))
    ));
    // The URL is stored as it is used: trimmed, no trailing `/`.
    let mut spaced = acme();
    spaced.wuts_base_url = Some(" http://127.0.0.1:8080/ ".into());
    let stored = put_tenant(&store, spaced, true).await.unwrap();
    assert_eq!(
        stored.wuts_base_url.as_deref(),
        Some("http://127.0.0.1:8080")
    );
    let issued = issue_token(&store, "acme", "alice", Some(30), None)
        .await
        .unwrap();
    assert_eq!(issued.record.token_hash, hash_token(&issued.token));
    assert_ne!(issued.record.token_hash, issued.token);
    let exp = issued.record.expires_at.unwrap() - issued.record.created_at;
    assert_eq!(exp, 30 * 86_400);
    let revoked = revoke_token(&store, &format!("Bearer {}", issued.token.to_uppercase()))
        .await
        .unwrap();
    assert_eq!(revoked.status, TokenStatus::Revoked);
    assert!(matches!(
        revoke_token(&store, &uuid::Uuid::new_v4().to_string()).await,
        Err(ProvisionError::NotFound(_))
    ));
    assert!(matches!(
        revoke_token(&store, "nope").await,
        Err(ProvisionError::Invalid(_))
    ));
    assert_eq!(store.list_tokens("acme").await.unwrap().len(), 1);
}

#[test]
fn session_names_are_checked_per_engine() {
    for engine in [
        EngineKind::SessionService,
        EngineKind::Evolution,
        EngineKind::Waha,
    ] {
        for good in ["default", "acme-1", "Inst_2.b", "5511999999999"] {
            assert!(check_session(engine, good).is_ok(), "{engine} {good}");
        }
        for bad in [
            "", "../x", "a/b", "..", ".hidden", "a b", "a?b", "a#b", "a%2fb",
        ] {
            assert!(check_session(engine, bad).is_err(), "{engine} {bad:?}");
        }
        assert!(check_session(engine, &"a".repeat(101)).is_err());
    }
    assert!(check_session(EngineKind::Wuts, "").is_ok());
    assert!(check_session(EngineKind::Wuts, "device-1").is_err());
}
