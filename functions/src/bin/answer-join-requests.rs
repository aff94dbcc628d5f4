//! Lambda: `POST /groups/{jid}/join-requests`. All logic lives in the shared crate; this
//! binary links that one operation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda::<shared::operations::AnswerJoinRequests>().await
}
