//! Lambda: API Gateway's `$default` route. Whatever matched no route answers
//! the 404 / 405 envelope from the shared route table; no state is built.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run_unmatched().await
}
