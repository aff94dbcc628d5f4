//! The whole `main` of an engine's ingress function: logging, the store
//! (DynamoDB; no engine client) and the deliveries' queue
//! (`EVENTS_QUEUE_URL`), then the runtime loop calling [`serve_hook`] for
//! that engine's dialect only.

use std::sync::Arc;

use super::ingress::{EngineHooks, serve_hook};
use super::outbox::EventQueue;
use crate::store::dynamo::{DynamoStore, client_for_config, sdk_config_for_lambda};

pub async fn run_ingress<H: EngineHooks>() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let wired = async {
        let tables = crate::config::tables_from_lookup(&|k: &str| std::env::var(k).ok())?;
        let aws = sdk_config_for_lambda()?;
        let store = DynamoStore::new(client_for_config(&aws), tables);
        // The deliveries' queue; without one, events are stored, not sent.
        let queue: Arc<dyn EventQueue> = match super::sqs::SqsEventQueue::from_sdk_config(&aws) {
            Some(q) => Arc::new(q),
            None => Arc::new(super::outbox::NoEventQueue),
        };
        Ok::<_, crate::config::ConfigError>((Arc::new(store), queue))
    };
    let (store, queue) = match wired.await {
        Ok(wired) => wired,
        Err(err) => {
            tracing::error!(error = %err, "configuration error; cannot start");
            return Err(err.into());
        }
    };
    lambda_http::run(lambda_http::service_fn(move |req| {
        let (store, queue) = (store.clone(), queue.clone());
        async move {
            Ok::<_, std::convert::Infallible>(
                serve_hook::<H, _>(store.as_ref(), queue.as_ref(), req).await,
            )
        }
    }))
    .await
}
