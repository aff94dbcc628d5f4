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

/// Builds the AWS SDK config and DynamoDB client once (cold start), by the
/// SDK's default chains: see [`sdk_config_from_env`].
pub async fn client_from_env() -> Result<Client, crate::config::ConfigError> {
    Ok(client_for_config(&sdk_config_from_env().await?))
}

/// The SDK's timeouts: the connect timeout is the HTTP client's (set once),
/// an attempt and an operation are bounded here.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);

fn timeouts() -> aws_types::sdk_config::TimeoutConfig {
    aws_types::sdk_config::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_millis(2_000))
        .operation_timeout(Duration::from_millis(5_000))
        .build()
}

fn sdk_http_client() -> Result<SdkHttpClient, crate::config::ConfigError> {
    let http =
        SdkHttpClient::new(CONNECT_TIMEOUT).map_err(crate::config::ConfigError::HttpClient)?;
    crate::net::keep_sdk_client(&http);
    Ok(http)
}

/// The AWS SDK configuration of the tools (`admin`, `local-api`) and the
/// tests: the SDK's default chains (environment, profile files, SSO, web
/// identity, IMDS), as any AWS tool on a developer's machine. It does not
/// block on credentials or the network: both are resolved lazily by the SDK.
/// Honours `AWS_ENDPOINT_URL_DYNAMODB` by itself. Requests go through
/// [`crate::net::SdkHttpClient`].
///
/// Credentials and a region in the environment are named directly, which
/// skips building the rest of the chains at run time. The Lambda functions
/// do not use this: see [`sdk_config_for_lambda`].
pub async fn sdk_config_from_env() -> Result<aws_types::SdkConfig, crate::config::ConfigError> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if let Some(region) = env("AWS_REGION") {
        loader = loader.region(aws_config::Region::new(region));
    }
    let config = loader
        .http_client(sdk_http_client()?.shared())
        .timeout_config(timeouts())
        .load()
        .await;
    Ok(config)
}

/// The AWS SDK configuration of a Lambda function, built once per cold start
/// and shared by all its clients (DynamoDB, and SQS where jobs or events are
/// queued). Lambda gives every function its role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and
/// its region (`AWS_REGION`) in the environment, for the life of the
/// execution environment, and that is all this reads, with the endpoint
/// overrides `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL` (empty
/// meaning unset; `sam local` and the tests point DynamoDB and SQS at moto
/// with them).
///
/// Not calling the SDK's config loader keeps its other chains (profile files,
/// SSO, STS for web identity, IMDS) out of the function binaries: ~1 MB and
/// ~3,800 load-time relocations less, which is part of Init (issue 27,
/// docs/PERFORMANCE.md, session 15). Without credentials or a region in the
/// environment, the cold start ends naming the missing variable.
pub fn sdk_config_for_lambda() -> Result<aws_types::SdkConfig, crate::config::ConfigError> {
    sdk_config_for_lambda_from(|key| std::env::var(key).ok())
}

/// [`sdk_config_for_lambda`], reading the variables through `lookup` (so
/// tests need not touch the process environment).
pub fn sdk_config_for_lambda_from(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<aws_types::SdkConfig, crate::config::ConfigError> {
    use crate::config::ConfigError::Missing;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_types::sdk_config::{RetryConfig, SharedCredentialsProvider};
    let env = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
    let region = env("AWS_REGION").ok_or(Missing("AWS_REGION"))?;
    let access_key = env("AWS_ACCESS_KEY_ID").ok_or(Missing("AWS_ACCESS_KEY_ID"))?;
    let secret = env("AWS_SECRET_ACCESS_KEY").ok_or(Missing("AWS_SECRET_ACCESS_KEY"))?;
    let credentials = Credentials::new(
        access_key,
        secret,
        env("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    let endpoints = EnvEndpoints::from(&env);
    let mut builder = aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(sdk_http_client()?.shared())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard());
    if let Some(url) = endpoints.general.clone() {
        builder = builder.endpoint_url(url);
    }
    Ok(builder.service_config(endpoints).build())
}

/// The endpoint overrides a Lambda function honours, read once:
/// `AWS_ENDPOINT_URL_<SERVICE ID>` (`AWS_ENDPOINT_URL_DYNAMODB`,
/// `AWS_ENDPOINT_URL_SQS`), else `AWS_ENDPOINT_URL`.
#[derive(Debug)]
struct EnvEndpoints {
    general: Option<String>,
    services: Vec<(&'static str, String)>,
}

impl EnvEndpoints {
    const SERVICES: [&'static str; 2] = ["DynamoDB", "SQS"];

    fn from(env: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            general: env("AWS_ENDPOINT_URL"),
            services: Self::SERVICES
                .iter()
                .filter_map(|&id| Some((id, env(&service_env(id))?)))
                .collect(),
        }
    }
}

/// The variable of a service's endpoint, as the SDK names it.
fn service_env(service_id: &str) -> String {
    format!(
        "AWS_ENDPOINT_URL_{}",
        service_id.to_uppercase().replace(' ', "_")
    )
}

impl aws_types::service_config::LoadServiceConfig for EnvEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        self.services
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(key.service_id()))
            .map(|(_, url)| url.clone())
            .or_else(|| self.general.clone())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;
    use aws_types::service_config::ServiceConfigKey;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    const LAMBDA: [(&str, &str); 3] = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret-example"),
    ];

    fn endpoint(config: &aws_types::SdkConfig, service_id: &str) -> Option<String> {
        let key = ServiceConfigKey::builder()
            .service_id(service_id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .expect("a complete key");
        config.service_config()?.load_config(key)
    }

    #[test]
    fn a_lambda_configuration_names_what_it_misses() {
        for (missing, blank) in [
            ("AWS_REGION", false),
            ("AWS_ACCESS_KEY_ID", false),
            ("AWS_SECRET_ACCESS_KEY", true),
        ] {
            let mut vars: Vec<(&str, &str)> = LAMBDA
                .iter()
                .copied()
                .filter(|(k, _)| *k != missing)
                .collect();
            if blank {
                vars.push((missing, " "));
            }
            match sdk_config_for_lambda_from(lookup(&vars)) {
                Err(ConfigError::Missing(name)) => assert_eq!(name, missing),
                other => panic!("{missing}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_lambda_configuration_is_the_environment_s() {
        let mut vars = LAMBDA.to_vec();
        vars.push(("AWS_SESSION_TOKEN", "token-example"));
        let config = sdk_config_for_lambda_from(lookup(&vars)).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert!(config.credentials_provider().is_some());
        assert!(config.http_client().is_some());
        assert_eq!(config.retry_config().map(|r| r.max_attempts()), Some(3));
        let timeouts = config.timeout_config().unwrap();
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(5)));
        // No override: the SDK resolves the regional endpoint.
        assert_eq!(config.endpoint_url(), None);
        assert_eq!(endpoint(&config, "DynamoDB"), None);
    }

    #[test]
    fn a_service_endpoint_wins_over_the_general_one_and_empty_means_unset() {
        let mut vars = LAMBDA.to_vec();
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:1"));
        vars.push(("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2"));
        vars.push(("AWS_ENDPOINT_URL_SQS", ""));
        let config = sdk_config_for_lambda_from(lookup(&vars)).unwrap();
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:1"));
        assert_eq!(
            endpoint(&config, "DynamoDB").as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert_eq!(
            endpoint(&config, "SQS").as_deref(),
            Some("http://127.0.0.1:1")
        );
        // Only endpoints are read from the environment.
        let other = ServiceConfigKey::builder()
            .service_id("DynamoDB")
            .env("AWS_ACCOUNT_ID_ENDPOINT_MODE")
            .profile("account_id_endpoint_mode")
            .build()
            .unwrap();
        assert_eq!(config.service_config().unwrap().load_config(other), None);

        let config = sdk_config_for_lambda_from(lookup(&LAMBDA)).unwrap();
        assert_eq!(config.endpoint_url(), None);
        assert_eq!(endpoint(&config, "SQS"), None);
    }
}
