//! From a stored event to its deliveries: one message per subscribed
//! endpoint, each run on its own (one tenant's failing endpoint never holds
//! up another's), retried on [`delivery::RETRY_SCHEDULE_SECS`] and
//! dead-lettered after the last. The queue port has an in-process adapter
//! ([`LocalEventQueue`], `local-api`'s embedded default and the tests) and
//! [`NoEventQueue`] where delivery is not configured (the events are stored
//! and listed; nothing is sent).

#[cfg(feature = "adapters")]
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Event;
#[cfg(feature = "adapters")]
use super::Failure;
#[cfg(feature = "adapters")]
use super::delivery::{self, Attempt};
use crate::store::{Store, StoreError};

/// One delivery of one event to one endpoint, and how many attempts it
/// has had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub tenant_id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub attempts: u32,
}

#[async_trait]
pub trait EventQueue: Send + Sync {
    /// Runs `message` after `delay`.
    async fn send(&self, message: &DeliveryMessage, delay: Duration) -> Result<(), StoreError>;
}

/// Delivery not configured: events are stored (and listed), not sent.
pub struct NoEventQueue;

#[async_trait]
impl EventQueue for NoEventQueue {
    async fn send(&self, message: &DeliveryMessage, _: Duration) -> Result<(), StoreError> {
        tracing::debug!(event_id = %message.event_id, endpoint_id = %message.endpoint_id, "no delivery queue: not sent");
        Ok(())
    }
}

/// Deliveries run in process: a task per message, sleeping its delay
/// (times `scale`: 1 keeps the real schedule; the tests shrink it).
#[cfg(feature = "adapters")]
#[derive(Clone)]
pub struct LocalEventQueue {
    store: Arc<dyn Store>,
    scale: f64,
}

#[cfg(feature = "adapters")]
impl LocalEventQueue {
    pub fn new(store: Arc<dyn Store>, scale: f64) -> Self {
        Self { store, scale }
    }
}

#[cfg(feature = "adapters")]
#[async_trait]
impl EventQueue for LocalEventQueue {
    async fn send(&self, message: &DeliveryMessage, delay: Duration) -> Result<(), StoreError> {
        let queue = self.clone();
        let message = message.clone();
        let wait = delay.mul_f64(self.scale);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let store = queue.store.clone();
            if let Err(e) =
                process(store.as_ref(), &queue, &message, crate::clock::now_epoch()).await
            {
                tracing::error!(event_id = %message.event_id, endpoint_id = %message.endpoint_id, error = %e, "delivery failed to run");
            }
        });
        Ok(())
    }
}

/// Queues `event` for every endpoint of its tenant that wants its type;
/// how many.
pub async fn fan_out<S: Store + ?Sized>(
    store: &S,
    queue: &dyn EventQueue,
    event: &Event,
) -> Result<u32, StoreError> {
    let mut sent = 0;
    for endpoint in store.events().list_endpoints(&event.tenant_id).await? {
        if endpoint.wants(event.kind) {
            let message = DeliveryMessage {
                tenant_id: event.tenant_id.clone(),
                event_id: event.id.clone(),
                endpoint_id: endpoint.id.clone(),
                attempts: 0,
            };
            queue.send(&message, Duration::ZERO).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// A number in [0, 1) for the retry jitter.
#[cfg(feature = "adapters")]
fn jitter() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64;
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// One attempt of `message`: delivered, or queued again after the next
/// step of the schedule (or the endpoint's `Retry-After`), or, after the
/// last, a dead letter. An endpoint or event that is gone, or an endpoint
/// that is disabled, ends the delivery quietly.
#[cfg(feature = "adapters")]
pub async fn process(
    store: &dyn Store,
    queue: &dyn EventQueue,
    message: &DeliveryMessage,
    now_secs: i64,
) -> Result<Attempt, StoreError> {
    let events = store.events();
    let endpoint = delivery::find_endpoint(store, &message.tenant_id, &message.endpoint_id).await?;
    let event = events
        .get_event(&message.tenant_id, &message.event_id)
        .await?;
    let (Some(endpoint), Some(event)) = (endpoint, event) else {
        return Ok(Attempt::Gone);
    };
    if endpoint.disabled.is_some() {
        return Ok(Attempt::Gone);
    }
    let outcome = delivery::attempt(store, &endpoint, &event, now_secs).await?;
    if let Attempt::Failed {
        status,
        reason,
        retry_after,
    } = &outcome
    {
        let attempts = message.attempts + 1;
        match delivery::next_delay(attempts, jitter(), *retry_after) {
            Some(delay) => {
                let next = DeliveryMessage {
                    attempts,
                    ..message.clone()
                };
                queue.send(&next, delay).await?;
            }
            None => {
                events
                    .put_failure(&Failure {
                        tenant_id: message.tenant_id.clone(),
                        endpoint_id: message.endpoint_id.clone(),
                        event_id: message.event_id.clone(),
                        kind: event.kind,
                        attempts,
                        last_status: *status,
                        reason: reason.clone(),
                        failed_at: now_secs,
                    })
                    .await?;
            }
        }
    }
    Ok(outcome)
}

/// The `job.completed` event of a paced job that just finished: stored
/// (once per job) and queued for the tenant's endpoints. A failure is
/// logged: the job's own record is what its caller reads.
pub async fn job_completed<S: Store + ?Sized>(
    store: &S,
    queue: &dyn EventQueue,
    job: &crate::jobs::Job,
    engine: crate::engine::EngineKind,
    session: &str,
) {
    let now = crate::clock::now_epoch();
    let event = Event {
        id: super::new_event_id(),
        kind: super::EventType::JobCompleted,
        timestamp: crate::clock::now_rfc3339(),
        tenant_id: job.tenant_id.clone(),
        data: super::EventData {
            group_jid: Some(job.group_jid.clone()),
            actor: None,
            participants: Vec::new(),
            changes: None,
            engine: engine.as_str().to_string(),
            session: session.to_string(),
            job_id: Some(job.id.clone()),
            job: Some(serde_json::json!({
                "id": job.id,
                "status": job.status.as_str(),
                "action": job.action.as_str(),
                "total": job.total,
                "ok": job.ok,
                "failed": job.failed,
                "unconfirmed": job.unconfirmed,
            })),
        },
    };
    let stored = store
        .events()
        .put_event(&event, &format!("job#{}", job.id), now)
        .await;
    let result = match stored {
        Ok(super::Stored::New) => fan_out(store, queue, &event).await.map(|_| ()),
        Ok(super::Stored::Duplicate) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::error!(job_id = %job.id, error = %e, "the job.completed event was not stored or queued");
    }
}
