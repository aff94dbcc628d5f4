//! Event deliveries on SQS (`EVENTS_QUEUE_URL`, a standard queue: every
//! delivery is its own message, so one tenant's failing endpoint never
//! holds up another's). A wait up to 15 minutes is the message's
//! `DelaySeconds`; a longer one (the schedule's 30 min … 24 h) hops: the
//! message carries `not_before`, and the worker sends it on again, 15
//! minutes at a time, until it is due. The delivery function
//! (`events-delivery`) takes one message per invocation.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::Client;
use serde::{Deserialize, Serialize};

use super::outbox::{DeliveryMessage, EventQueue, process};
use crate::jobs::sqs::{client_for_config, sqs_error};
use crate::store::{Store, StoreError};

/// SQS's longest `DelaySeconds`.
pub const MAX_DELAY_SECS: u64 = 900;

/// What a queue message holds: the delivery, and when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(flatten)]
    pub message: DeliveryMessage,
    /// Epoch seconds; 0: now.
    #[serde(default)]
    pub not_before: i64,
}

#[derive(Clone)]
pub struct SqsEventQueue {
    client: Client,
    url: String,
}

impl SqsEventQueue {
    pub fn new(client: Client, url: String) -> Self {
        Self { client, url }
    }

    /// The queue of `EVENTS_QUEUE_URL`, when it is set, by the SDK's default
    /// chains (the tools).
    pub async fn from_env() -> Result<Option<Self>, crate::config::ConfigError> {
        let Some(url) = Self::url_from_env() else {
            return Ok(None);
        };
        let config = crate::store::dynamo::sdk_config_from_env().await?;
        Ok(Some(Self::new(client_for_config(&config), url)))
    }

    /// The queue of `EVENTS_QUEUE_URL`, when it is set, on the process's SDK
    /// configuration.
    pub fn from_sdk_config(config: &aws_types::SdkConfig) -> Option<Self> {
        Self::url_from_env().map(|url| Self::new(client_for_config(config), url))
    }

    fn url_from_env() -> Option<String> {
        std::env::var("EVENTS_QUEUE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn put(&self, envelope: &Envelope, delay_secs: u64) -> Result<(), StoreError> {
        let body = serde_json::to_string(envelope)
            .map_err(|e| StoreError::Other(format!("a delivery message: {e}")))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay_secs.min(MAX_DELAY_SECS) as i32)
            .send()
            .await
            .map_err(|e| sqs_error("SendMessage", e))?;
        Ok(())
    }
}

#[async_trait]
impl EventQueue for SqsEventQueue {
    async fn send(&self, message: &DeliveryMessage, delay: Duration) -> Result<(), StoreError> {
        let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        let envelope = Envelope {
            message: message.clone(),
            not_before: if secs > MAX_DELAY_SECS {
                crate::clock::now_epoch() + secs as i64
            } else {
                0
            },
        };
        self.put(&envelope, secs).await
    }
}

/// One queue message: sent on if not yet due, else one delivery attempt
/// (whose retry, if any, is a new message). An error (the store
/// unreachable) leaves the message to SQS to redeliver.
pub async fn handle_message(
    store: &dyn Store,
    queue: &SqsEventQueue,
    body: &str,
    now_secs: i64,
) -> Result<(), StoreError> {
    let envelope: Envelope = match serde_json::from_str(body) {
        Ok(e) => e,
        Err(e) => {
            // Not ours: retrying cannot help.
            tracing::error!(error = %e, "an unreadable delivery message, dropped");
            return Ok(());
        }
    };
    if envelope.not_before > now_secs {
        let left = (envelope.not_before - now_secs) as u64;
        return queue.put(&envelope, left).await;
    }
    process(store, queue, &envelope.message, now_secs)
        .await
        .map(|_| ())
}

/// The whole `main` of the delivery function: the store and the queue,
/// then each SQS batch, a failed message reported alone.
pub async fn run_delivery_lambda() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let wired = async {
        let tables = crate::config::tables_from_lookup(&|k: &str| std::env::var(k).ok())?;
        let aws = crate::store::dynamo::sdk_config_for_lambda()?;
        let store = crate::store::dynamo::DynamoStore::new(
            crate::store::dynamo::client_for_config(&aws),
            tables,
        );
        let queue = SqsEventQueue::from_sdk_config(&aws)
            .ok_or(crate::config::ConfigError::Missing("EVENTS_QUEUE_URL"))?;
        Ok::<_, crate::config::ConfigError>((Arc::new(store), queue))
    };
    let (store, queue) = match wired.await {
        Ok(w) => w,
        Err(err) => {
            tracing::error!(error = %err, "configuration error; cannot start");
            return Err(err.into());
        }
    };
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<SqsEvent>| {
            let (store, queue) = (store.clone(), queue.clone());
            async move {
                Ok::<_, std::convert::Infallible>(
                    handle_batch(store.as_ref(), &queue, event.payload).await,
                )
            }
        },
    ))
    .await
}

/// Each message of a batch on its own; the ones that failed to run are
/// reported for SQS to redeliver.
pub async fn handle_batch(
    store: &dyn Store,
    queue: &SqsEventQueue,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let body = record.body.as_deref().unwrap_or("");
        if let Err(e) = handle_message(store, queue, body, crate::clock::now_epoch()).await {
            tracing::error!(error = %e, "a delivery could not run; SQS will redeliver it");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// `local-api --worker`: receives from `EVENTS_QUEUE_URL` and runs each
/// message in process, for ever.
pub async fn poll(store: Arc<dyn Store>, queue: SqsEventQueue) {
    loop {
        let received = queue
            .client()
            .receive_message()
            .queue_url(queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %sqs_error("ReceiveMessage", e), "events queue unreachable");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        for m in messages {
            let body = m.body.clone().unwrap_or_default();
            match handle_message(store.as_ref(), &queue, &body, crate::clock::now_epoch()).await {
                Ok(()) => {
                    let _ = queue
                        .client()
                        .delete_message()
                        .queue_url(queue.url())
                        .set_receipt_handle(m.receipt_handle.clone())
                        .send()
                        .await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "a delivery could not run; redelivered later")
                }
            }
        }
    }
}
