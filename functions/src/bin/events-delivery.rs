//! Lambda: the event deliveries' worker, on the SQS queue `EVENTS_QUEUE_URL`
//! (each message one delivery of one event to one endpoint). All logic
//! lives in the shared crate.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::events::sqs::run_delivery_lambda().await
}
