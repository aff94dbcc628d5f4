//! The floor for cold-start comparisons: a hello-world `lambda_runtime`
//! function built with the same profile as the real ones (docs/PERFORMANCE.md).

use lambda_http::lambda_runtime::{self, Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": "{\"hello\":\"world\"}"
        }))
    }))
    .await
}
