//! Lambda: the paced jobs worker, on the jobs queue's SQS events (not an
//! API route). All logic lives in the shared crate.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::jobs::lambda::run_worker_lambda().await
}
