//! The same store contract against the in-memory fake and DynamoDB (moto).

use testkit::contract::run_store_contract;
use testkit::memory::MemoryStore;
use testkit::{moto, moto_or_skip};

#[tokio::test]
async fn memory_store_meets_the_contract() {
    run_store_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn dynamo_store_meets_the_contract() {
    let store = crate::support::fresh_store(&moto_or_skip!()).await;
    run_store_contract(&store).await;
}

#[tokio::test]
async fn create_tables_is_idempotent() {
    let client = moto::client_for(&moto_or_skip!());
    let tables = moto::unique_tables();
    let wait = std::time::Duration::from_secs(30);
    let first = tools::tables::create_tables(&client, &tables, wait)
        .await
        .unwrap();
    assert!(first.iter().all(|r| r.created), "{first:?}");
    let second = tools::tables::create_tables(&client, &tables, wait)
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

/// What `AWS_ENDPOINT_URL_DYNAMODB=""` (how template.yaml declares it, so that
/// `sam local --env-vars` may set it) gives the SDK: a service endpoint of
/// `""`. It must mean "not set": the client still reaches the endpoint it
/// would have used without the variable (here the global one, moto).
#[tokio::test]
async fn an_empty_dynamodb_endpoint_variable_means_unset() {
    let url = moto_or_skip!();
    use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

    #[derive(Debug)]
    struct EmptyDynamoEndpoint;
    impl LoadServiceConfig for EmptyDynamoEndpoint {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            (key.service_id() == "DynamoDB" && key.env() == "AWS_ENDPOINT_URL").then(String::new)
        }
    }

    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .http_client(
            shared::net::SdkHttpClient::new(std::time::Duration::from_millis(500))
                .unwrap()
                .shared(),
        )
        .load()
        .await
        .to_builder()
        .endpoint_url(url)
        .service_config(EmptyDynamoEndpoint)
        .build();
    let client = shared::store::dynamo::client_for_config(&sdk);
    client
        .list_tables()
        .limit(1)
        .send()
        .await
        .expect("the empty service endpoint is ignored and moto is reached");
}

/// A Lambda function's SDK configuration (the environment only, no config
/// loader) reaches DynamoDB and SQS where `AWS_ENDPOINT_URL_<SERVICE>` points,
/// signing with the environment's credentials: what every function's cold
/// start builds (issue 27).
#[tokio::test]
async fn a_lambda_sdk_configuration_reaches_dynamodb_and_sqs_at_their_endpoints() {
    let url = moto_or_skip!();
    let vars = [
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("AWS_SESSION_TOKEN", "test-token".to_string()),
        // The general endpoint goes nowhere: the services' own win.
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_string()),
        ("AWS_ENDPOINT_URL_DYNAMODB", url.clone()),
        ("AWS_ENDPOINT_URL_SQS", url.clone()),
    ];
    let sdk = shared::store::dynamo::sdk_config_for_lambda_from(|key| {
        vars.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    })
    .unwrap();
    let dynamodb = shared::store::dynamo::client_for_config(&sdk);
    let tables = moto::unique_tables();
    tools::tables::create_tables(&dynamodb, &tables, std::time::Duration::from_secs(30))
        .await
        .expect("moto is reached through AWS_ENDPOINT_URL_DYNAMODB");
    let described = dynamodb
        .describe_table()
        .table_name(&tables.tokens)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.table().and_then(|t| t.table_name()),
        Some(tables.tokens.as_str())
    );

    let sqs = shared::jobs::sqs::client_for_config(&sdk);
    let name = format!("lambda-config-{}", uuid::Uuid::new_v4());
    let created = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("moto is reached through AWS_ENDPOINT_URL_SQS");
    assert!(
        created.queue_url().is_some_and(|u| u.ends_with(&name)),
        "{created:?}"
    );
}
