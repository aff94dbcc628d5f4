//! A measuring instrument, not a function to deploy: `remove-group-participants`
//! with its clients (the SDK configuration, DynamoDB, the TLS configuration
//! and the engine client) built on the first request instead of in Init.
//! `coldstart` runs it beside the real binary to show what building them in
//! Init costs Init and what it saves the first invocation (issue 27;
//! docs/PERFORMANCE.md, session 16). Configuration errors here end the first
//! request, not the cold start.
//!
//! `cargo build --release -p functions --example lazy-clients`

use std::sync::Arc;

use shared::AppState;
use shared::engine::transport::HttpEngine;
use shared::operations::RemoveGroupParticipants;
use shared::store::dynamo::DynamoStore;
use tokio::sync::OnceCell;

type State = AppState<HttpEngine, DynamoStore>;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let state: Arc<OnceCell<Arc<State>>> = Arc::new(OnceCell::new());
    lambda_http::run(lambda_http::service_fn(move |req| {
        let state = state.clone();
        async move {
            let state = state
                .get_or_try_init(|| async {
                    shared::lambda::lambda_state::<RemoveGroupParticipants>().map(Arc::new)
                })
                .await?
                .clone();
            Ok::<_, lambda_http::Error>(
                shared::serve_operation::<RemoveGroupParticipants, HttpEngine, DynamoStore>(
                    &state, req,
                )
                .await,
            )
        }
    }))
    .await
}
