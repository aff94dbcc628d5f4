//! `admin create-tables`: every table the service uses, created on demand
//! (existing ones are fine), with the tokens table's `by_tenant` index and
//! TTL on `expires_at`. The functions never create tables; the template
//! declares them for a deployment, and this is for local runs and tests.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use shared::config::Tables;
use shared::store::StoreError;
use shared::store::dynamo::{TOKENS_BY_TENANT_INDEX, TTL_ATTRIBUTE, classify};

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
    let lanes = table(&tables.lanes, "lane", Some("class"))?;
    let jobs = table(&tables.jobs, "tenant_id", Some("sk"))?;
    let events = table(&tables.events, "pk", Some("sk"))?;

    let mut reports = Vec::new();
    for (name, request) in [
        (&tables.tokens, tokens),
        (&tables.tenants, tenants),
        (&tables.idempotency, idempotency),
        (&tables.audit, audit),
        (&tables.lanes, lanes),
        (&tables.jobs, jobs),
        (&tables.events, events),
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
    for table in [
        &tables.tokens,
        &tables.idempotency,
        &tables.audit,
        &tables.jobs,
        &tables.events,
    ] {
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

/// A queue and its dead-letter queue, as `create_queues` or
/// `create_event_queues` made (or found) them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queues {
    pub url: String,
    pub dead_letter_url: String,
}

/// Creates the paced jobs' SQS FIFO queue, named after the jobs table
/// (`<JOBS_TABLE>.fifo`), and its dead-letter queue (`<JOBS_TABLE>-dlq.fifo`,
/// after 10 receives), as `template.yaml` declares them; the visibility
/// timeout is 30 s (the worker's heartbeat keeps a message while it works).
/// Existing queues with these attributes are fine. For local stand-ins
/// (`AWS_ENDPOINT_URL_SQS`).
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    jobs_table: &str,
) -> Result<Queues, StoreError> {
    queue_pair(
        client,
        &format!("{jobs_table}.fifo"),
        &format!("{jobs_table}-dlq.fifo"),
        true,
        "30",
    )
    .await
}

/// The event deliveries' queues on a local SQS stand-in (in AWS, the
/// template's): a standard queue (`<EVENTS_TABLE>-deliveries`, visibility
/// 60 s) and its dead-letter queue, after 10 receives.
pub async fn create_event_queues(
    client: &aws_sdk_sqs::Client,
    events_table: &str,
) -> Result<Queues, StoreError> {
    queue_pair(
        client,
        &format!("{events_table}-deliveries"),
        &format!("{events_table}-deliveries-dlq"),
        false,
        "60",
    )
    .await
}

/// A queue and its dead-letter queue (10 receives), FIFO or standard.
async fn queue_pair(
    client: &aws_sdk_sqs::Client,
    name: &str,
    dlq_name: &str,
    fifo: bool,
    visibility_secs: &str,
) -> Result<Queues, StoreError> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let fail = |op: &str, e: &dyn std::fmt::Display| StoreError::Other(format!("SQS {op}: {e}"));
    let create = |name: &str| {
        let request = client.create_queue().queue_name(name);
        if fifo {
            request.attributes(A::FifoQueue, "true")
        } else {
            request
        }
    };
    let dlq = create(dlq_name)
        .send()
        .await
        .map_err(|e| fail("CreateQueue", &aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    let dead_letter_url = dlq.queue_url().unwrap_or_default().to_string();
    let arn = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .map_err(|e| {
            fail(
                "GetQueueAttributes",
                &aws_sdk_sqs::error::DisplayErrorContext(e),
            )
        })?
        .attributes()
        .and_then(|a| a.get(&A::QueueArn).cloned())
        .unwrap_or_default();
    let redrive = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"10"}}"#);
    let queue = create(name)
        .attributes(A::VisibilityTimeout, visibility_secs)
        .attributes(A::RedrivePolicy, redrive)
        .send()
        .await
        .map_err(|e| fail("CreateQueue", &aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    Ok(Queues {
        url: queue.queue_url().unwrap_or_default().to_string(),
        dead_letter_url,
    })
}
