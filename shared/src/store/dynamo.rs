//! DynamoDB adapter for the token and tenant ports.
//!
//! Tables (names from `TOKENS_TABLE` / `TENANTS_TABLE`):
//! - tokens: partition key `token_hash` (S); attributes `token_id`, `tenant_id`,
//!   `user_id`, `status`, `created_at` (N), optional `expires_at` (N, the TTL
//!   attribute); GSI `by_tenant` (`tenant_id` S, `created_at` N) for listings.
//! - tenants: partition key `tenant_id` (S); attributes `status`, `name`,
//!   `wuts_base_url`, `wuts_session_id`, `wuts_api_key`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ReturnValue, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};

use super::{StoreError, Tenant, TenantStatus, TenantStore, TokenRecord, TokenStatus, TokenStore};
use crate::config::Tables;

pub const TOKENS_BY_TENANT_INDEX: &str = "by_tenant";
pub const TOKENS_TTL_ATTRIBUTE: &str = "expires_at";

type Item = HashMap<String, AttributeValue>;

/// Builds the AWS SDK config and DynamoDB client once (cold start). It does not
/// block on credentials or the network: both are resolved lazily by the SDK.
/// Honours `AWS_ENDPOINT_URL_DYNAMODB` by itself.
pub async fn client_from_env() -> Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1_000))
        .operation_attempt_timeout(Duration::from_millis(2_000))
        .operation_timeout(Duration::from_millis(5_000))
        .build();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await;
    Client::new(&config)
}

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }
}

/// Sorts SDK failures into "retry later" (503) and everything else.
fn classify<E, R>(op: &str, err: SdkError<E, R>) -> StoreError
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

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn get_s(item: &Item, key: &str) -> Result<String, StoreError> {
    opt_s(item, key)?.ok_or_else(|| StoreError::Corrupt(format!("attribute {key} is missing")))
}

fn opt_s(item: &Item, key: &str) -> Result<Option<String>, StoreError> {
    match item.get(key) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {key} is not a string"
        ))),
    }
}

fn opt_n(item: &Item, key: &str) -> Result<Option<i64>, StoreError> {
    match item.get(key) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Corrupt(format!("attribute {key} is not an integer"))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {key} is not a number"
        ))),
    }
}

fn token_to_item(t: &TokenRecord) -> Item {
    let mut item = HashMap::from([
        ("token_hash".to_string(), s(&t.token_hash)),
        ("token_id".to_string(), s(&t.token_id)),
        ("tenant_id".to_string(), s(&t.tenant_id)),
        ("user_id".to_string(), s(&t.user_id)),
        ("status".to_string(), s(t.status.as_str())),
        ("created_at".to_string(), n(t.created_at)),
    ]);
    if let Some(exp) = t.expires_at {
        item.insert(TOKENS_TTL_ATTRIBUTE.to_string(), n(exp));
    }
    item
}

fn token_from_item(item: &Item) -> Result<TokenRecord, StoreError> {
    let status = get_s(item, "status")?;
    Ok(TokenRecord {
        token_hash: get_s(item, "token_hash")?,
        token_id: get_s(item, "token_id")?,
        tenant_id: get_s(item, "tenant_id")?,
        user_id: get_s(item, "user_id")?,
        status: TokenStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown token status {status:?}")))?,
        expires_at: opt_n(item, TOKENS_TTL_ATTRIBUTE)?,
        created_at: opt_n(item, "created_at")?.unwrap_or(0),
    })
}

fn tenant_to_item(t: &Tenant) -> Item {
    let mut item = HashMap::from([
        ("tenant_id".to_string(), s(&t.tenant_id)),
        ("status".to_string(), s(t.status.as_str())),
        ("wuts_session_id".to_string(), s(&t.wuts_session_id)),
        ("wuts_api_key".to_string(), s(&t.wuts_api_key)),
    ]);
    if let Some(name) = &t.name {
        item.insert("name".to_string(), s(name));
    }
    if let Some(url) = &t.wuts_base_url {
        item.insert("wuts_base_url".to_string(), s(url));
    }
    item
}

fn tenant_from_item(item: &Item) -> Result<Tenant, StoreError> {
    let status = get_s(item, "status")?;
    Ok(Tenant {
        tenant_id: get_s(item, "tenant_id")?,
        status: TenantStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown tenant status {status:?}")))?,
        name: opt_s(item, "name")?,
        wuts_base_url: opt_s(item, "wuts_base_url")?,
        wuts_session_id: get_s(item, "wuts_session_id")?,
        wuts_api_key: get_s(item, "wuts_api_key")?,
    })
}

fn is_conditional_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(err, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

#[async_trait]
impl TokenStore for DynamoStore {
    async fn get_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.tokens)
            .key("token_hash", s(token_hash))
            .send()
            .await
            .map_err(|e| classify("GetItem tokens", e))?;
        out.item().map(token_from_item).transpose()
    }

    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.tokens)
            .set_item(Some(token_to_item(record)))
            .condition_expression("attribute_not_exists(token_hash)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => {
                Err(StoreError::Other("token already exists".into()))
            }
            Err(e) => Err(classify("PutItem tokens", e)),
        }
    }

    async fn revoke_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.tokens)
            .key("token_hash", s(token_hash))
            .update_expression("SET #s = :revoked")
            .condition_expression("attribute_exists(token_hash)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":revoked", s(TokenStatus::Revoked.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes().map(token_from_item).transpose(),
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(classify("UpdateItem tokens", e)),
        }
    }

    async fn list_tokens(&self, tenant_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
        let mut tokens = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.tokens)
                .index_name(TOKENS_BY_TENANT_INDEX)
                .key_condition_expression("tenant_id = :t")
                .expression_attribute_values(":t", s(tenant_id))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query tokens", e))?;
            for item in out.items() {
                tokens.push(token_from_item(item)?);
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        tokens.sort_by(|a, b| (a.created_at, &a.token_id).cmp(&(b.created_at, &b.token_id)));
        Ok(tokens)
    }
}

#[async_trait]
impl TenantStore for DynamoStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.tenants)
            .key("tenant_id", s(tenant_id))
            .send()
            .await
            .map_err(|e| classify("GetItem tenants", e))?;
        out.item().map(tenant_from_item).transpose()
    }

    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.tenants)
            .set_item(Some(tenant_to_item(tenant)))
            .send()
            .await
            .map_err(|e| classify("PutItem tenants", e))?;
        Ok(())
    }

    async fn set_tenant_status(
        &self,
        tenant_id: &str,
        status: TenantStatus,
    ) -> Result<Option<Tenant>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.tenants)
            .key("tenant_id", s(tenant_id))
            .update_expression("SET #s = :status")
            .condition_expression("attribute_exists(tenant_id)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes().map(tenant_from_item).transpose(),
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(classify("UpdateItem tenants", e)),
        }
    }
}

/// What `create_tables` did with one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableReport {
    pub name: String,
    pub created: bool,
}

/// Creates every table the service uses (existing ones are fine) and waits
/// until each is ACTIVE, polling `DescribeTable` (the SDK waiter polls far too
/// slowly for tests and the CLI).
pub async fn create_tables(
    client: &Client,
    tables: &Tables,
    wait_for: Duration,
) -> Result<Vec<TableReport>, StoreError> {
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))
    };
    let attr = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))
    };

    let by_tenant = GlobalSecondaryIndex::builder()
        .index_name(TOKENS_BY_TENANT_INDEX)
        .key_schema(key("tenant_id", KeyType::Hash)?)
        .key_schema(key("created_at", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| StoreError::Other(e.to_string()))?;

    let tokens = client
        .create_table()
        .table_name(&tables.tokens)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("token_hash", ScalarAttributeType::S)?)
        .attribute_definitions(attr("tenant_id", ScalarAttributeType::S)?)
        .attribute_definitions(attr("created_at", ScalarAttributeType::N)?)
        .key_schema(key("token_hash", KeyType::Hash)?)
        .global_secondary_indexes(by_tenant);
    let tenants = client
        .create_table()
        .table_name(&tables.tenants)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("tenant_id", ScalarAttributeType::S)?)
        .key_schema(key("tenant_id", KeyType::Hash)?);

    let mut reports = Vec::new();
    for (name, request) in [(&tables.tokens, tokens), (&tables.tenants, tenants)] {
        let created = match request.send().await {
            Ok(_) => true,
            Err(e)
                if matches!(&e, SdkError::ServiceError(se)
                    if se.err().code() == Some("ResourceInUseException")) =>
            {
                false
            }
            Err(e) => return Err(classify("CreateTable", e)),
        };
        reports.push(TableReport {
            name: name.clone(),
            created,
        });
    }
    for report in &reports {
        wait_active(client, &report.name, wait_for).await?;
    }
    enable_token_ttl(client, &tables.tokens).await?;
    Ok(reports)
}

async fn wait_active(client: &Client, table: &str, wait_for: Duration) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + wait_for;
    loop {
        let out = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| classify("DescribeTable", e))?;
        let status = out.table().and_then(|t| t.table_status().cloned());
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(format!(
                "table {table} not ACTIVE after {wait_for:?} (status {status:?})"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn enable_token_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| classify("DescribeTimeToLive", e))?;
    let enabled = current
        .time_to_live_description()
        .and_then(|d| d.attribute_name())
        .is_some_and(|a| a == TOKENS_TTL_ATTRIBUTE);
    if enabled {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .attribute_name(TOKENS_TTL_ATTRIBUTE)
        .enabled(true)
        .build()
        .map_err(|e| StoreError::Other(e.to_string()))?;
    match client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // Already enabled (a race with another create-tables run).
        Err(e) if matches!(&e, SdkError::ServiceError(se) if se.err().code() == Some("ValidationException")) => {
            Ok(())
        }
        Err(e) => Err(classify("UpdateTimeToLive", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip() {
        let token = TokenRecord {
            token_hash: "h".into(),
            token_id: "id".into(),
            tenant_id: "t".into(),
            user_id: "u".into(),
            status: TokenStatus::Active,
            expires_at: Some(5),
            created_at: 1,
        };
        assert_eq!(token_from_item(&token_to_item(&token)).unwrap(), token);
        let tenant = Tenant {
            tenant_id: "t".into(),
            status: TenantStatus::Suspended,
            name: None,
            wuts_base_url: Some("https://w".into()),
            wuts_session_id: "s".into(),
            wuts_api_key: "k".into(),
        };
        assert_eq!(tenant_from_item(&tenant_to_item(&tenant)).unwrap(), tenant);
    }

    #[test]
    fn corrupt_items_are_errors_not_panics() {
        let mut item = token_to_item(&TokenRecord {
            token_hash: "h".into(),
            token_id: "id".into(),
            tenant_id: "t".into(),
            user_id: "u".into(),
            status: TokenStatus::Active,
            expires_at: None,
            created_at: 1,
        });
        item.insert("status".into(), s("weird"));
        assert!(matches!(
            token_from_item(&item),
            Err(StoreError::Corrupt(_))
        ));
        item.insert("status".into(), AttributeValue::N("1".into()));
        assert!(matches!(
            token_from_item(&item),
            Err(StoreError::Corrupt(_))
        ));
        item.remove("status");
        assert!(matches!(
            token_from_item(&item),
            Err(StoreError::Corrupt(_))
        ));
    }
}
