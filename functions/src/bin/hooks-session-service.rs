//! Lambda: `POST /hooks/session-service/{hook_token}`, the engine's webhooks in. This
//! binary links that engine's payload reader and signature check only.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::events::lambda::run_ingress::<shared::events::engines::session_service::SessionService>(
    )
    .await
}
