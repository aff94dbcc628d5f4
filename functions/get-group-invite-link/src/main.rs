//! Lambda: `GET /groups/{jid}/invite`. All logic lives in the shared crate.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda(shared::Endpoint::GetGroupInviteLink).await
}
