//! DynamoDB on moto's server. The test command starts `moto_server` and
//! exports `MOTO_URL`; tests use unique table names so they can run in parallel.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use shared::config::Tables;
use shared::net::SdkHttpClient;
use shared::store::dynamo::{DynamoStore, create_tables};

pub fn moto_url() -> String {
    std::env::var("MOTO_URL").unwrap_or_else(|_| {
        panic!("MOTO_URL is not set: run the tests with scripts/test.sh, which starts moto_server")
    })
}

/// A client for `endpoint` with dummy credentials and short timeouts.
pub fn client_for(endpoint: &str) -> Client {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_millis(2_000))
        .operation_timeout(Duration::from_millis(5_000))
        .build();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(
            SdkHttpClient::new(Duration::from_millis(500))
                .expect("building the HTTP client")
                .shared(),
        )
        .timeout_config(timeouts)
        .build();
    Client::from_conf(config)
}

pub fn unique_tables() -> Tables {
    let id = uuid::Uuid::new_v4().simple().to_string();
    Tables {
        tokens: format!("tokens-{id}"),
        tenants: format!("tenants-{id}"),
        idempotency: format!("idempotency-{id}"),
        audit: format!("audit-{id}"),
    }
}

/// A DynamoStore on fresh, ACTIVE tables in moto.
pub async fn fresh_store() -> DynamoStore {
    let client = client_for(&moto_url());
    let tables = unique_tables();
    create_tables(&client, &tables, Duration::from_secs(30))
        .await
        .expect("creating tables in moto");
    DynamoStore::new(client, tables)
}
