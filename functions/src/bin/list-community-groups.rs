//! Lambda: `GET /communities/{jid}/groups`. All logic lives in the shared crate; this
//! binary links that one operation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run_lambda::<shared::operations::ListCommunityGroups>().await
}
