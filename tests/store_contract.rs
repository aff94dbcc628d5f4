//! The same store contract against the in-memory fake and DynamoDB (moto).

use integration_tests::contract::run_store_contract;
use integration_tests::moto;
use shared::store::memory::MemoryStore;

#[tokio::test]
async fn memory_store_meets_the_contract() {
    run_store_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn dynamo_store_meets_the_contract() {
    let store = moto::fresh_store().await;
    run_store_contract(&store).await;
}

#[tokio::test]
async fn create_tables_is_idempotent() {
    let client = moto::client_for(&moto::moto_url());
    let tables = moto::unique_tables();
    let wait = std::time::Duration::from_secs(30);
    let first = shared::store::dynamo::create_tables(&client, &tables, wait)
        .await
        .unwrap();
    assert!(first.iter().all(|r| r.created), "{first:?}");
    let second = shared::store::dynamo::create_tables(&client, &tables, wait)
        .await
        .unwrap();
    assert!(second.iter().all(|r| !r.created), "{second:?}");
    let ttl = client
        .describe_time_to_live()
        .table_name(&tables.tokens)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expires_at")
    );
}

#[tokio::test]
async fn unreachable_dynamodb_is_unavailable() {
    use shared::store::{StoreError, TokenStore};
    let store = shared::store::dynamo::DynamoStore::new(
        moto::client_for("http://127.0.0.1:9"),
        moto::unique_tables(),
    );
    let err = store.get_token("x").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}
