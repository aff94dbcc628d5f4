//! DynamoDB adapter for the token and tenant ports.
//!
//! Tables (names from `TOKENS_TABLE` / `TENANTS_TABLE`):
//! - tokens: partition key `token_hash` (S); attributes `token_id`, `tenant_id`,
//!   `user_id`, `status`, `created_at` (N), optional `expires_at` (N, the TTL
//!   attribute); GSI `by_tenant` (`tenant_id` S, `created_at` N) for listings.
//! - tenants: partition key `tenant_id` (S); attributes `status`, `name`,
//!   `wuts_base_url`, `wuts_session_id`, `wuts_api_key`.
//! - idempotency: partition key `id` (S, `{tenant_id}#{key}`); attributes
//!   `fingerprint`, `owner`, `state` (`in_progress`/`completed`), `lease_until`
//!   (N), `response_status` (N), `response_body` (S) or, for an answer stored
//!   deflated, `response_body_deflate` (B), optional `response_headers` (M of
//!   S: the answer's kept headers), `expires_at` (N, TTL).
//! - audit: partition key `tenant_id` (S), sort key `sk` (S, `{at}#{request_id}`,
//!   so a tenant's records sort by time); the record's fields, `participants`
//!   as a JSON string, `expires_at` (N, TTL, optional).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ReturnValue, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};

use super::{
    AuditParticipant, AuditRecord, AuditStore, Claim, IdempotencyRecord, IdempotencyState,
    IdempotencyStore, StoreError, StoredAnswer, StoredBody, Tenant, TenantStatus, TenantStore,
    TokenRecord, TokenStatus, TokenStore,
};
use crate::config::Tables;
use crate::engine::EngineKind;
use crate::net::SdkHttpClient;

pub const TOKENS_BY_TENANT_INDEX: &str = "by_tenant";
pub const TOKENS_TTL_ATTRIBUTE: &str = "expires_at";
/// The TTL attribute of the idempotency and audit tables too.
pub const TTL_ATTRIBUTE: &str = "expires_at";

type Item = HashMap<String, AttributeValue>;

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
    let config = loader
        .http_client(
            SdkHttpClient::new(connect_timeout)
                .map_err(|e| crate::config::ConfigError::HttpClient(e.to_string()))?
                .shared(),
        )
        .timeout_config(timeouts)
        .load()
        .await;
    Ok(client_for_config(&config))
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
        builder.set_endpoint_url(
            config
                .endpoint_url()
                .filter(|url| !url.trim().is_empty())
                .map(str::to_string),
        );
    }
    Client::from_conf(builder.build())
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

    /// GetItem by a single string key.
    async fn get(
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
    async fn put(&self, table: &str, item: Item) -> Result<(), StoreError> {
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
    async fn set_status(
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
    if let Some(scopes) = t.scopes.as_ref().filter(|s| !s.is_empty()) {
        let names = scopes.iter().map(|s| s.as_str().to_string()).collect();
        item.insert("scopes".to_string(), AttributeValue::Ss(names));
    }
    item
}

/// `scopes`: a string set; absent = a token from before scopes (all).
fn scopes_from_item(item: &Item) -> Result<Option<Vec<crate::scope::Scope>>, StoreError> {
    let names = match item.get("scopes") {
        None => return Ok(None),
        Some(AttributeValue::Ss(names)) => names,
        Some(AttributeValue::L(list)) => {
            return list
                .iter()
                .map(|v| match v {
                    AttributeValue::S(name) => parse_scope(name),
                    _ => Err(StoreError::Corrupt(
                        "attribute scopes holds a non-string".into(),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some);
        }
        Some(_) => {
            return Err(StoreError::Corrupt(
                "attribute scopes is not a string set".into(),
            ));
        }
    };
    let mut scopes = names
        .iter()
        .map(|n| parse_scope(n))
        .collect::<Result<Vec<_>, _>>()?;
    scopes.sort();
    Ok(Some(scopes))
}

fn parse_scope(name: &str) -> Result<crate::scope::Scope, StoreError> {
    crate::scope::Scope::parse(name)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown scope {name:?}")))
}

/// Attributes added after the documented data model (`token_id`, `scopes`)
/// are optional on read.
fn token_from_item(item: &Item) -> Result<TokenRecord, StoreError> {
    let status = get_s(item, "status")?;
    let token_hash = get_s(item, "token_hash")?;
    Ok(TokenRecord {
        token_id: opt_s(item, "token_id")?
            .unwrap_or_else(|| TokenRecord::derived_token_id(&token_hash)),
        token_hash,
        tenant_id: get_s(item, "tenant_id")?,
        user_id: get_s(item, "user_id")?,
        status: TokenStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown token status {status:?}")))?,
        expires_at: opt_n(item, TOKENS_TTL_ATTRIBUTE)?,
        created_at: opt_n(item, "created_at")?.unwrap_or(0),
        scopes: scopes_from_item(item)?,
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
    // Absent means session-service: records written before engines existed
    // read as they always did, and such tenants are written the same way.
    if t.engine != EngineKind::SessionService {
        item.insert("engine".to_string(), s(t.engine.as_str()));
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
        engine: match opt_s(item, "engine")? {
            None => EngineKind::SessionService,
            Some(name) => EngineKind::parse(&name)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown engine {name:?}")))?,
        },
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
        self.get(&self.tables.tokens, "token_hash", token_hash, false)
            .await?
            .as_ref()
            .map(token_from_item)
            .transpose()
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
        let revoked = TokenStatus::Revoked.as_str();
        self.set_status(&self.tables.tokens, "token_hash", token_hash, revoked)
            .await?
            .as_ref()
            .map(token_from_item)
            .transpose()
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
        self.get(&self.tables.tenants, "tenant_id", tenant_id, false)
            .await?
            .as_ref()
            .map(tenant_from_item)
            .transpose()
    }

    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.put(&self.tables.tenants, tenant_to_item(tenant)).await
    }

    async fn set_tenant_status(
        &self,
        tenant_id: &str,
        status: TenantStatus,
    ) -> Result<Option<Tenant>, StoreError> {
        self.set_status(
            &self.tables.tenants,
            "tenant_id",
            tenant_id,
            status.as_str(),
        )
        .await?
        .as_ref()
        .map(tenant_from_item)
        .transpose()
    }
}

fn idempotency_from_item(item: &Item) -> Result<IdempotencyRecord, StoreError> {
    let state = match get_s(item, "state")?.as_str() {
        "in_progress" => IdempotencyState::InProgress {
            lease_until: opt_n(item, "lease_until")?.unwrap_or(0),
        },
        "completed" => IdempotencyState::Completed(StoredAnswer {
            status: opt_n(item, "response_status")?
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| StoreError::Corrupt("response_status".into()))?,
            body: match item.get("response_body_deflate") {
                Some(AttributeValue::B(blob)) => StoredBody::Deflated(blob.clone().into_inner()),
                Some(_) => return Err(StoreError::Corrupt("response_body_deflate".into())),
                None => StoredBody::Text(get_s(item, "response_body")?),
            },
            headers: match item.get("response_headers") {
                None => Vec::new(),
                Some(AttributeValue::M(map)) => {
                    let mut headers = map
                        .iter()
                        .map(|(name, value)| match value {
                            AttributeValue::S(v) => Ok((name.clone(), v.clone())),
                            _ => Err(StoreError::Corrupt("response_headers".into())),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    headers.sort();
                    headers
                }
                Some(_) => return Err(StoreError::Corrupt("response_headers".into())),
            },
        }),
        other => return Err(StoreError::Corrupt(format!("idempotency state {other:?}"))),
    };
    Ok(IdempotencyRecord {
        id: get_s(item, "id")?,
        fingerprint: get_s(item, "fingerprint")?,
        owner: get_s(item, "owner")?,
        state,
        expires_at: opt_n(item, TTL_ATTRIBUTE)?.unwrap_or(0),
    })
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(&self, record: &IdempotencyRecord, now: i64) -> Result<Claim, StoreError> {
        let IdempotencyState::InProgress { lease_until } = record.state else {
            return Err(StoreError::Other(
                "claim takes an in-progress record".into(),
            ));
        };
        // A record deleted between the failed put and the read: try again.
        for _ in 0..3 {
            let put = self
                .client
                .put_item()
                .table_name(&self.tables.idempotency)
                .item("id", s(&record.id))
                .item("fingerprint", s(&record.fingerprint))
                .item("owner", s(&record.owner))
                .item("state", s("in_progress"))
                .item("lease_until", n(lease_until))
                .item(TTL_ATTRIBUTE, n(record.expires_at))
                .condition_expression(
                    "attribute_not_exists(id) OR expires_at <= :now \
                     OR (#state = :in_progress AND lease_until <= :now)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":in_progress", s("in_progress"))
                .send()
                .await;
            match put {
                Ok(_) => return Ok(Claim::Claimed),
                Err(e) if is_conditional_failure(&e) => {}
                Err(e) => return Err(classify("PutItem idempotency", e)),
            }
            let existing = self
                .get(&self.tables.idempotency, "id", &record.id, true)
                .await?;
            if let Some(item) = existing {
                return Ok(Claim::Existing(idempotency_from_item(&item)?));
            }
        }
        Err(StoreError::Unavailable(
            "idempotency record kept changing".into(),
        ))
    }

    async fn complete(
        &self,
        id: &str,
        owner: &str,
        answer: &StoredAnswer,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let (set, unset, value) = match &answer.body {
            StoredBody::Text(text) => ("response_body", "response_body_deflate", s(text)),
            StoredBody::Deflated(bytes) => (
                "response_body_deflate",
                "response_body",
                AttributeValue::B(aws_smithy_types::Blob::new(bytes.clone())),
            ),
        };
        // The kept headers, when there are any: a map of name to value.
        let (headers_set, headers_unset) = if answer.headers.is_empty() {
            ("", ", response_headers")
        } else {
            (", response_headers = :headers", "")
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.idempotency)
            .key("id", s(id))
            .update_expression(format!(
                "SET #state = :completed, response_status = :status, {set} = :body, \
                 expires_at = :exp{headers_set} REMOVE lease_until, {unset}{headers_unset}"
            ))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":completed", s("completed"))
            .expression_attribute_values(":status", n(i64::from(answer.status)))
            .expression_attribute_values(":body", value)
            .expression_attribute_values(":exp", n(expires_at))
            .expression_attribute_values(":owner", s(owner));
        if !answer.headers.is_empty() {
            let map = answer
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), s(value)))
                .collect();
            update = update.expression_attribute_values(":headers", AttributeValue::M(map));
        }
        let result = update.send().await;
        match result {
            Ok(_) => Ok(()),
            // Taken over after our lease passed: the new owner answers.
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(classify("UpdateItem idempotency", e)),
        }
    }

    async fn release(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.idempotency)
            .key("id", s(id))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(classify("DeleteItem idempotency", e)),
        }
    }
}

fn audit_to_item(r: &AuditRecord) -> Result<Item, StoreError> {
    let participants = serde_json::to_string(&r.participants)
        .map_err(|e| StoreError::Other(format!("encoding participants: {e}")))?;
    let mut item = HashMap::from([
        ("tenant_id".to_string(), s(&r.tenant_id)),
        ("sk".to_string(), s(&format!("{}#{}", r.at, r.request_id))),
        ("at".to_string(), s(&r.at)),
        ("request_id".to_string(), s(&r.request_id)),
        ("user_id".to_string(), s(&r.user_id)),
        ("token_id".to_string(), s(&r.token_id)),
        ("route".to_string(), s(&r.route)),
        ("action".to_string(), s(&r.action)),
        ("group_jid".to_string(), s(&r.group_jid)),
        ("participants".to_string(), s(&participants)),
        ("status".to_string(), n(i64::from(r.status))),
    ]);
    if let Some(code) = &r.error_code {
        item.insert("error_code".to_string(), s(code));
    }
    if let Some(ms) = r.upstream_ms {
        item.insert("upstream_ms".to_string(), n(ms as i64));
    }
    if let Some(exp) = r.expires_at {
        item.insert(TTL_ATTRIBUTE.to_string(), n(exp));
    }
    Ok(item)
}

fn audit_from_item(item: &Item) -> Result<AuditRecord, StoreError> {
    let participants: Vec<AuditParticipant> =
        serde_json::from_str(&get_s(item, "participants")?)
            .map_err(|e| StoreError::Corrupt(format!("participants: {e}")))?;
    Ok(AuditRecord {
        tenant_id: get_s(item, "tenant_id")?,
        at: get_s(item, "at")?,
        request_id: get_s(item, "request_id")?,
        user_id: get_s(item, "user_id")?,
        token_id: get_s(item, "token_id")?,
        route: get_s(item, "route")?,
        action: get_s(item, "action")?,
        group_jid: get_s(item, "group_jid")?,
        participants,
        status: opt_n(item, "status")?
            .and_then(|v| u16::try_from(v).ok())
            .ok_or_else(|| StoreError::Corrupt("status".into()))?,
        error_code: opt_s(item, "error_code")?,
        upstream_ms: opt_n(item, "upstream_ms")?.and_then(|v| u64::try_from(v).ok()),
        expires_at: opt_n(item, TTL_ATTRIBUTE)?,
    })
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.put(&self.tables.audit, audit_to_item(record)?).await
    }

    async fn list_audit(
        &self,
        tenant_id: &str,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        while records.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.tables.audit)
                .expression_attribute_values(":t", s(tenant_id))
                .scan_index_forward(true)
                .limit(i32::try_from(limit - records.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match since {
                Some(since) => query
                    .key_condition_expression("tenant_id = :t AND sk >= :since")
                    .expression_attribute_values(":since", s(since)),
                None => query.key_condition_expression("tenant_id = :t"),
            };
            let out = query.send().await.map_err(|e| classify("Query audit", e))?;
            for item in out.items() {
                records.push(audit_from_item(item)?);
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        records.truncate(limit);
        Ok(records)
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

    // On-demand, string partition key, optional string sort key.
    let table = |name: &str, hash: &str, range: Option<&str>| {
        let mut request = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(hash, ScalarAttributeType::S)?)
            .key_schema(key(hash, KeyType::Hash)?);
        if let Some(range) = range {
            request = request
                .attribute_definitions(attr(range, ScalarAttributeType::S)?)
                .key_schema(key(range, KeyType::Range)?);
        }
        Ok::<_, StoreError>(request)
    };
    let tokens = table(&tables.tokens, "token_hash", None)?
        .attribute_definitions(attr("tenant_id", ScalarAttributeType::S)?)
        .attribute_definitions(attr("created_at", ScalarAttributeType::N)?)
        .global_secondary_indexes(by_tenant);
    let tenants = table(&tables.tenants, "tenant_id", None)?;
    let idempotency = table(&tables.idempotency, "id", None)?;
    let audit = table(&tables.audit, "tenant_id", Some("sk"))?;

    let mut reports = Vec::new();
    for (name, request) in [
        (&tables.tokens, tokens),
        (&tables.tenants, tenants),
        (&tables.idempotency, idempotency),
        (&tables.audit, audit),
    ] {
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
    for table in [&tables.tokens, &tables.idempotency, &tables.audit] {
        enable_ttl(client, table).await?;
    }
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

async fn enable_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| classify("DescribeTimeToLive", e))?;
    let enabled = current
        .time_to_live_description()
        .and_then(|d| d.attribute_name())
        .is_some_and(|a| a == TTL_ATTRIBUTE);
    if enabled {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .attribute_name(TTL_ATTRIBUTE)
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
            scopes: Some(vec![crate::scope::Scope::GroupsRead]),
        };
        assert_eq!(token_from_item(&token_to_item(&token)).unwrap(), token);
        // The documented data model: no token_id, no scopes.
        let mut legacy = token_to_item(&TokenRecord {
            scopes: None,
            ..token.clone()
        });
        legacy.remove("token_id");
        let read = token_from_item(&legacy).unwrap();
        assert_eq!(read.token_id, TokenRecord::derived_token_id("h"));
        assert_eq!(read.scopes, None);
        let tenant = Tenant {
            tenant_id: "t".into(),
            status: TenantStatus::Suspended,
            name: None,
            engine: EngineKind::SessionService,
            wuts_base_url: Some("https://w".into()),
            wuts_session_id: "s".into(),
            wuts_api_key: "k".into(),
        };
        let item = tenant_to_item(&tenant);
        assert!(
            !item.contains_key("engine"),
            "session-service is the default"
        );
        assert_eq!(tenant_from_item(&item).unwrap(), tenant);
        for engine in EngineKind::ALL {
            let t = Tenant {
                engine,
                ..tenant.clone()
            };
            assert_eq!(tenant_from_item(&tenant_to_item(&t)).unwrap(), t);
        }
        let mut odd = tenant_to_item(&tenant);
        odd.insert("engine".into(), s("baileys"));
        assert!(matches!(
            tenant_from_item(&odd),
            Err(StoreError::Corrupt(_))
        ));
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
            scopes: None,
        });
        item.insert(
            "scopes".into(),
            AttributeValue::Ss(vec!["groups:admin".into()]),
        );
        assert!(matches!(
            token_from_item(&item),
            Err(StoreError::Corrupt(_))
        ));
        item.remove("scopes");
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
