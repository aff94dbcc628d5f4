//! What the tests share: the repository's root, and stores on fresh
//! tables in moto (which needs `tools`' table creation).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use shared::store::Store;
use shared::store::dynamo::DynamoStore;
use testkit::memory::MemoryStore;
use testkit::moto::{client_for, moto_url, say_skipped, unique_tables};
use tools::tables::create_tables;

/// The repository's root (the template, `events/`, `openapi.yaml`, the docs).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The memory store, and DynamoDB on moto when the test command runs it
/// (else one skip line for `test` on DynamoDB).
pub async fn stores(test: &str) -> Vec<(&'static str, Arc<dyn Store>)> {
    let mut stores: Vec<(&'static str, Arc<dyn Store>)> =
        vec![("memory", Arc::new(MemoryStore::new()))];
    match moto_url() {
        Some(url) => stores.push(("dynamodb", Arc::new(fresh_store(&url).await))),
        None => say_skipped(&format!("{test} on DynamoDB"), "MOTO_URL is not set"),
    }
    stores
}

/// A DynamoStore on fresh, ACTIVE tables in the moto at `url`.
pub async fn fresh_store(url: &str) -> DynamoStore {
    let client = client_for(url);
    let tables = unique_tables();
    create_tables(&client, &tables, Duration::from_secs(30))
        .await
        .expect("creating tables in moto");
    DynamoStore::new(client, tables)
}
