//! The jobs worker on SQS: the Lambda function's handler (an SQS event
//! source with `ReportBatchItemFailures`) and the same handling as a poll
//! loop for `local-api --worker`.
//!
//! Per message: keep it invisible while working (a `ChangeMessageVisibility`
//! heartbeat), run the job ([`worker::work`]); then delete it (done), send a
//! continuation (the run's time is up), or leave it and make it visible
//! again when the lane allows (`ChangeMessageVisibility`, ≤ 12 h).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tokio::time::Instant;

use super::sqs::{SqsQueue, sqs_error};
use super::worker::{self, Limits, Next};
use super::{JobMessage, JobQueue};
use crate::engine::Engine;
use crate::pacing::now_ms;
use crate::state::AppState;
use crate::store::Store;

/// How long the heartbeat keeps a message invisible each time, and how
/// often it beats.
pub const VISIBILITY_SECS: i32 = 60;
const HEARTBEAT: Duration = Duration::from_secs(20);
/// Waits up to this long are slept through; a longer one (the add class's
/// 12 s, a pause, a daily cap) ends the run and the message comes back
/// when the lane allows: sleeping costs GB-seconds, a receive does not.
pub const SLEEP_MAX: Duration = Duration::from_secs(5);
/// Kept free at the end of an invocation.
const END_MARGIN: Duration = Duration::from_secs(5);
/// SQS's longest visibility timeout.
const MAX_VISIBILITY_SECS: i64 = 12 * 3600;
/// A message received this often is replaced by a fresh one (a
/// continuation) rather than made visible again: the dead-letter queue's
/// `maxReceiveCount` counts failures, not waits.
pub const RENEW_AFTER_RECEIVES: u32 = 5;
/// After this many failed runs of one message the job is `failed` (the
/// message then goes to the dead-letter queue, `maxReceiveCount`).
pub const MAX_RECEIVES: u32 = 10;

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Delete it.
    Done,
    /// Leave it: it comes back when its visibility ends.
    Keep,
}

/// The whole `main` of the worker binary.
pub async fn run_worker_lambda() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let wired = async {
        let aws = crate::store::dynamo::sdk_config_for_lambda()?;
        let mut state = AppState::from_sdk_config(&aws)?;
        let queue = SqsQueue::from_sdk_config(&aws)?;
        state.queue = Arc::new(queue.clone());
        // A finished job's `job.completed` goes to the tenant's endpoints.
        if let Some(events) = crate::events::sqs::SqsEventQueue::from_sdk_config(&aws) {
            state.events_queue = Arc::new(events);
        }
        Ok::<_, crate::config::ConfigError>((Arc::new(state), queue))
    }
    .await;
    let (state, queue) = match wired {
        Ok(wired) => wired,
        Err(err) => {
            tracing::error!(error = %err, "configuration error; cannot start");
            return Err(err.into());
        }
    };
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<SqsEvent>| {
            let (state, queue) = (state.clone(), queue.clone());
            async move {
                let until = invocation_end(event.context.deadline);
                Ok::<_, std::convert::Infallible>(
                    handle_batch(state.as_ref(), &queue, event.payload, until).await,
                )
            }
        },
    ))
    .await
}

/// When this invocation's work must end: its deadline less a margin.
fn invocation_end(deadline_ms: u64) -> Instant {
    let left = u64::try_from(i64::try_from(deadline_ms).unwrap_or(0) - now_ms()).unwrap_or(0);
    Instant::now() + Duration::from_millis(left).saturating_sub(END_MARGIN)
}

/// One SQS batch: each message in order; a message kept makes every later
/// one of its group kept too (FIFO order within a lane).
pub async fn handle_batch<E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    queue: &SqsQueue,
    event: SqsEvent,
    until: Instant,
) -> SqsBatchResponse {
    let mut blocked = HashSet::new();
    let mut failures = Vec::new();
    for record in event.records {
        let group = record.attributes.get("MessageGroupId").cloned();
        let handled = if group.as_ref().is_some_and(|g| blocked.contains(g)) {
            Handled::Keep
        } else {
            handle(state, queue, &record, until).await
        };
        if handled == Handled::Keep {
            blocked.extend(group);
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

/// One message.
pub async fn handle<E: Engine + ?Sized, S: Store + ?Sized>(
    state: &AppState<E, S>,
    queue: &SqsQueue,
    record: &SqsMessage,
    until: Instant,
) -> Handled {
    let receives: u32 = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let Some(message) = record
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<JobMessage>(b).ok())
    else {
        // Never a job: the dead-letter queue takes it after its receives.
        tracing::error!(message_id = ?record.message_id, "a jobs queue message that is not a job");
        return Handled::Keep;
    };
    let receipt = record.receipt_handle.clone().unwrap_or_default();
    let heartbeat = {
        let (client, url, receipt) = (
            queue.client().clone(),
            queue.url().to_string(),
            receipt.clone(),
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let _ = client
                    .change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(&receipt)
                    .visibility_timeout(VISIBILITY_SECS)
                    .send()
                    .await;
            }
        })
    };
    let limits = Limits {
        until,
        sleep_max: SLEEP_MAX,
    };
    let result = worker::work(state, &message, limits).await;
    heartbeat.abort();
    match result {
        Ok(Next::Done) => Handled::Done,
        Ok(Next::Continue) => continue_later(queue, &message).await,
        Ok(Next::Later(_)) if receives >= RENEW_AFTER_RECEIVES => {
            continue_later(queue, &message).await
        }
        Ok(Next::Later(at)) => {
            let secs = ((at - now_ms()) / 1000 + 1).clamp(1, MAX_VISIBILITY_SECS);
            if let Err(e) = queue
                .client()
                .change_message_visibility()
                .queue_url(queue.url())
                .receipt_handle(&receipt)
                .visibility_timeout(i32::try_from(secs).unwrap_or(i32::MAX))
                .send()
                .await
            {
                // It comes back after the heartbeat's visibility instead.
                tracing::warn!(job_id = %message.job_id, error = %sqs_error("ChangeMessageVisibility", e), "could not delay the job's message");
            }
            Handled::Keep
        }
        Err(e) => {
            tracing::error!(job_id = %message.job_id, receives, error = %e, "job run failed");
            if receives + 1 >= MAX_RECEIVES {
                let _ = worker::fail(state, &message, "the job's worker failed repeatedly").await;
            }
            Handled::Keep
        }
    }
}

/// A continuation: the job's next run as a new message (this one is
/// deleted); if it cannot be sent, this one stays.
async fn continue_later(queue: &SqsQueue, message: &JobMessage) -> Handled {
    match queue.enqueue(message).await {
        Ok(()) => Handled::Done,
        Err(e) => {
            tracing::error!(job_id = %message.job_id, error = %e, "could not send the job's continuation");
            Handled::Keep
        }
    }
}

/// `local-api --worker`: receives from the queue and handles each message
/// as the Lambda worker would, deleting what is done. Runs until the
/// process ends.
pub async fn poll<E: Engine + ?Sized, S: Store + ?Sized>(
    state: Arc<AppState<E, S>>,
    queue: SqsQueue,
) {
    loop {
        let received = queue
            .client()
            .receive_message()
            .queue_url(queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %sqs_error("ReceiveMessage", e), "jobs queue unreachable");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        for m in messages {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id.clone();
            record.receipt_handle = m.receipt_handle.clone();
            record.body = m.body.clone();
            for (k, v) in m.attributes.unwrap_or_default() {
                record.attributes.insert(k.as_str().to_string(), v);
            }
            let until = Instant::now() + Duration::from_secs(900);
            if handle(state.as_ref(), &queue, &record, until).await == Handled::Done {
                let _ = queue
                    .client()
                    .delete_message()
                    .queue_url(queue.url())
                    .receipt_handle(m.receipt_handle.unwrap_or_default())
                    .send()
                    .await;
            }
        }
    }
}
