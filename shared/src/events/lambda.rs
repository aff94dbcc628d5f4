//! The whole `main` of an engine's ingress function: logging, the store
//! (DynamoDB; no engine client, no SQS), then the runtime loop calling
//! [`serve_hook`] for that engine's dialect only.

use std::sync::Arc;

use super::ingress::{EngineHooks, serve_hook};
use crate::store::dynamo::{DynamoStore, client_from_env};

pub async fn run_ingress<H: EngineHooks>() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let wired = async {
        let tables = crate::config::tables_from_lookup(&|k: &str| std::env::var(k).ok())?;
        Ok::<_, crate::config::ConfigError>(DynamoStore::new(client_from_env().await?, tables))
    };
    let store = match wired.await {
        Ok(store) => Arc::new(store),
        Err(err) => {
            tracing::error!(error = %err, "configuration error; cannot start");
            return Err(err.into());
        }
    };
    lambda_http::run(lambda_http::service_fn(move |req| {
        let store = store.clone();
        // Deliveries through SQS are the next step (issue 25): until then
        // the ingress stores events and queues nothing.
        async move {
            Ok::<_, std::convert::Infallible>(
                serve_hook::<H, _>(store.as_ref(), &super::outbox::NoEventQueue, req).await,
            )
        }
    }))
    .await
}
