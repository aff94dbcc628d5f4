//! The `main` of every Lambda binary: logging, state once per cold start,
//! then the runtime loop.

use std::sync::Arc;

use crate::engine::transport::HttpEngine;
use crate::operation::Operation;
use crate::pipeline::{serve_operation, serve_unmatched};
use crate::state::AppState;
use crate::store::dynamo::DynamoStore;
use crate::telemetry;

/// The state an operation's Lambda builds once per cold start, from the
/// Lambda environment: one SDK configuration for the process's clients, and
/// an SQS client only where `Op` queues jobs (the other functions do not
/// link it).
pub fn lambda_state<Op: Operation>()
-> Result<AppState<HttpEngine, DynamoStore>, crate::config::ConfigError> {
    let aws = crate::store::dynamo::sdk_config_for_lambda()?;
    let mut state = AppState::from_sdk_config(&aws)?;
    if Op::ROUTE.queues_jobs {
        state.queue = Arc::new(crate::jobs::sqs::SqsQueue::from_sdk_config(&aws)?);
    }
    Ok(state)
}

/// The whole `main` of an operation's Lambda binary: logging, state once
/// ([`lambda_state`]), then the runtime loop calling [`serve_operation`] for
/// `Op`. Missing configuration ends the cold start with one clear log line.
pub async fn run_lambda<Op: Operation>() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let state = match lambda_state::<Op>() {
        Ok(state) => Arc::new(state),
        Err(err) => {
            tracing::error!(error = %err, "configuration error; cannot start");
            return Err(err.into());
        }
    };
    // Init has a whole CPU, an invocation of a small function a fraction:
    // with `WARM_UP=on` (the template's default), the TLS stack's first use
    // and the DynamoDB connection happen here.
    crate::warm::cold_start(state.store.client(), state.engine.default_engine()).await;
    lambda_http::run(lambda_http::service_fn(move |req| {
        let state = state.clone();
        async move {
            Ok::<_, std::convert::Infallible>(
                serve_operation::<Op, HttpEngine, DynamoStore>(&state, req).await,
            )
        }
    }))
    .await
}

/// The whole `main` of the `$default`-route function: logging, then the
/// runtime loop calling [`serve_unmatched`]. It builds no state (no AWS
/// configuration, no HTTP client), so its cold start is the runtime's own.
pub async fn run_unmatched() -> Result<(), lambda_http::Error> {
    telemetry::init();
    lambda_http::run(lambda_http::service_fn(|req| async move {
        Ok::<_, std::convert::Infallible>(serve_unmatched(req))
    }))
    .await
}
