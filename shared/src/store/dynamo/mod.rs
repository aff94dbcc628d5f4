//! DynamoDB adapter for the store ports: one module per table (`tokens`,
//! `tenants`, `idempotency`, `audit`, `lanes`; each documents its attributes), every
//! item mapped by `serde_dynamo` from a struct that names its attributes.
//! Creating the tables is `admin`'s (`tools::tables`): no function carries it.

mod audit;
mod events;
mod idempotency;
mod jobs;
mod lanes;
mod tenants;
mod tokens;

pub use idempotency::TTL_ATTRIBUTE;
pub use tokens::{TOKENS_BY_TENANT_INDEX, TOKENS_TTL_ATTRIBUTE};

use std::collections::HashMap;
use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use crate::config::Tables;
use crate::net::SdkHttpClient;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Builds the AWS SDK config and DynamoDB client once (cold start). It does not
/// block on credentials or the network: both are resolved lazily by the SDK.
/// Honours `AWS_ENDPOINT_URL_DYNAMODB` by itself. Requests go through
/// [`crate::net::SdkHttpClient`].
///
/// Lambda puts the role's credentials and the region in the environment, and
/// the SDK's default chains would pick exactly those first. Naming them when
/// they are there skips building the rest of the chains (the profile files, an
/// STS client for web identity, IMDS): 0.3–0.6 ms of every cold start. Without
/// them (a developer's machine) the default chains run as usual.
pub async fn client_from_env() -> Result<Client, crate::config::ConfigError> {
    Ok(client_for_config(&sdk_config_from_env().await?))
}

/// The AWS SDK configuration every client of the process is built from
/// (DynamoDB, and SQS where jobs are queued): see [`client_from_env`].
pub async fn sdk_config_from_env() -> Result<aws_types::SdkConfig, crate::config::ConfigError> {
    let connect_timeout = Duration::from_millis(1_000);
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(connect_timeout)
        .operation_attempt_timeout(Duration::from_millis(2_000))
        .operation_timeout(Duration::from_millis(5_000))
        .build();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if let Some(region) = env("AWS_REGION") {
        loader = loader.region(aws_config::Region::new(region));
    }
    let http =
        SdkHttpClient::new(connect_timeout).map_err(crate::config::ConfigError::HttpClient)?;
    crate::net::keep_sdk_client(&http);
    let config = loader
        .http_client(http.shared())
        .timeout_config(timeouts)
        .load()
        .await;
    Ok(config)
}

/// The DynamoDB client for an SDK configuration, where an empty
/// `AWS_ENDPOINT_URL_DYNAMODB` means "not set". The template declares that
/// variable empty so `sam local --env-vars` may set it (SAM passes only
/// declared keys); the SDK alone would take `""` as the endpoint and fail
/// every call. Empty falls back to what the SDK would use without it.
pub fn client_for_config(config: &aws_types::SdkConfig) -> Client {
    use aws_types::service_config::ServiceConfigKey;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(config);
    let key = ServiceConfigKey::builder()
        .service_id("DynamoDB")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build();
    let service_endpoint = key
        .ok()
        .and_then(|key| config.service_config()?.load_config(key));
    if service_endpoint.is_some_and(|url| url.trim().is_empty())
        && !config.get_origin("endpoint_url").is_client_config()
    {
        builder.set_endpoint_url(general_endpoint(config));
    }
    Client::from_conf(builder.build())
}

/// The URL the client's requests go to: the endpoint the environment names
/// (`AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`, empty meaning
/// unset, as [`client_for_config`] reads them), else DynamoDB's regional
/// one (what the SDK's rules resolve to by default).
pub fn endpoint_of(client: &Client) -> Option<String> {
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.trim().is_empty());
    if let Some(url) = env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")) {
        return Some(url);
    }
    let region = client.config().region()?.as_ref().to_string();
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Some(format!("https://dynamodb.{region}.{suffix}"))
}

/// The endpoint every service would use without its own (`AWS_ENDPOINT_URL`),
/// empty meaning none: what an empty service endpoint falls back to.
pub fn general_endpoint(config: &aws_types::SdkConfig) -> Option<String> {
    config
        .endpoint_url()
        .filter(|url| !url.trim().is_empty())
        .map(str::to_string)
}

#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) tables: Tables,
    pub(crate) lane_hints: std::sync::Arc<lanes::LaneHints>,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self {
            client,
            tables,
            lane_hints: Default::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// GetItem by a single string key.
    pub(crate) async fn get(
        &self,
        table: &str,
        key: &str,
        value: &str,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(key, s(value))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| classify(&format!("GetItem {table}"), e))?;
        Ok(out.item().cloned())
    }

    /// An unconditional PutItem (create or replace).
    pub(crate) async fn put(&self, table: &str, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify(&format!("PutItem {table}"), e))?;
        Ok(())
    }

    /// Sets `status` on an existing item; `Ok(None)` if there is none.
    pub(crate) async fn set_status(
        &self,
        table: &str,
        key: &str,
        value: &str,
        status: &str,
    ) -> Result<Option<Item>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(table)
            .key(key, s(value))
            .update_expression("SET #s = :status")
            .condition_expression("attribute_exists(#k)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":status", s(status))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes().cloned()),
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(classify(&format!("UpdateItem {table}"), e)),
        }
    }
}

/// Sorts SDK failures into "retry later" (503) and everything else.
pub fn classify<E, R>(op: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = format!("{op}: {}", DisplayErrorContext(&err));
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => StoreError::Unavailable(detail),
        SdkError::ServiceError(service) => match service.err().code() {
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "LimitExceededException",
            ) => StoreError::Unavailable(detail),
            _ => StoreError::Other(detail),
        },
        SdkError::ResponseError(_) => StoreError::Unavailable(detail),
        _ => StoreError::Other(detail),
    }
}

pub(crate) fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An item read into its table's struct; an attribute missing or of the
/// wrong type is `Corrupt`, never a panic.
pub(crate) fn read<T: DeserializeOwned>(table: &str, item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("{table} item: {e}")))
}

/// A table's struct as an item.
pub(crate) fn write<T: Serialize>(table: &str, value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Other(format!("{table} item: {e}")))
}

pub(crate) fn is_conditional_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}
