//! The jobs queue on SQS FIFO (`JOBS_QUEUE_URL`): one message per run of a
//! job, `MessageGroupId` = the lane, so a lane runs one job chunk at a time
//! and lanes run side by side. `AWS_ENDPOINT_URL_SQS` points the SDK at a
//! local stand-in (moto in the tests).

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;

use super::{JobMessage, JobQueue};
use crate::store::StoreError;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: String) -> Self {
        Self { client, url }
    }

    /// The queue of `JOBS_QUEUE_URL`, by the SDK's default chains (the tools).
    pub async fn from_env() -> Result<Self, crate::config::ConfigError> {
        let url = Self::url_from_env()?;
        let config = crate::store::dynamo::sdk_config_from_env().await?;
        Ok(Self::new(client_for_config(&config), url))
    }

    /// The queue of `JOBS_QUEUE_URL`, on the process's SDK configuration.
    pub fn from_sdk_config(
        config: &aws_types::SdkConfig,
    ) -> Result<Self, crate::config::ConfigError> {
        Ok(Self::new(client_for_config(config), Self::url_from_env()?))
    }

    fn url_from_env() -> Result<String, crate::config::ConfigError> {
        std::env::var("JOBS_QUEUE_URL")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(crate::config::ConfigError::Missing("JOBS_QUEUE_URL"))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The SQS client for an SDK configuration; an empty
/// `AWS_ENDPOINT_URL_SQS` means "not set" (as for DynamoDB).
pub fn client_for_config(config: &aws_types::SdkConfig) -> Client {
    let mut builder = aws_sdk_sqs::config::Builder::from(config);
    if std::env::var("AWS_ENDPOINT_URL_SQS").is_ok_and(|v| v.trim().is_empty()) {
        builder.set_endpoint_url(crate::store::dynamo::general_endpoint(config));
    }
    Client::from_conf(builder.build())
}

pub(crate) fn sqs_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    op: &str,
    err: aws_sdk_sqs::error::SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(format!("SQS {op}: {}", DisplayErrorContext(&err)))
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn enqueue(&self, message: &JobMessage) -> Result<(), StoreError> {
        let body = serde_json::to_string(message)
            .map_err(|e| StoreError::Other(format!("a job message: {e}")))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_group_id(&message.lane)
            // Every run is its own message (a continuation is a new one).
            .message_deduplication_id(uuid::Uuid::new_v4().simple().to_string())
            .send()
            .await
            .map_err(|e| sqs_error("SendMessage", e))?;
        Ok(())
    }
}
