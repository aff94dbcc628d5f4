//! Lambda: `DELETE /groups/{jid}/participants`. All logic lives in the shared crate.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda(shared::Endpoint::RemoveGroupParticipants).await
}
