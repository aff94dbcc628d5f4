//! DynamoDB on moto's server. The test command starts `moto_server` and
//! exports `MOTO_URL`; tests use unique table names so they can run in parallel.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use shared::config::Tables;
use shared::net::SdkHttpClient;

/// moto's URL when the test command started it (`MOTO_URL`).
pub fn moto_url() -> Option<String> {
    std::env::var("MOTO_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// The line a moto-backed test prints when it skips.
pub fn skip_line(what: &str, why: &str) -> String {
    format!("SKIPPED {what}: {why} (scripts/test.sh starts moto_server and sets it)")
}

/// Prints the skip line past libtest's output capture (which only takes the
/// print macros), so it shows in a normal `cargo test` run.
pub fn say_skipped(what: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{}", skip_line(what, why));
}

/// moto's URL, or: print one line naming the test and return from it.
#[macro_export]
macro_rules! moto_or_skip {
    () => {
        match $crate::moto::moto_url() {
            Some(url) => url,
            None => {
                $crate::moto::say_skipped(
                    &format!("{}:{}", file!(), line!()),
                    "MOTO_URL is not set",
                );
                return;
            }
        }
    };
}

/// A client for `endpoint` with dummy credentials and short timeouts.
pub fn client_for(endpoint: &str) -> Client {
    client_with(endpoint, None)
}

/// DynamoDB requests a client sent, by operation (a benchmark's and a
/// test's count of what a request costs).
#[derive(Debug, Default)]
pub struct Requests(std::sync::Mutex<std::collections::BTreeMap<&'static str, usize>>);

impl Requests {
    pub fn snapshot(&self) -> std::collections::BTreeMap<&'static str, usize> {
        self.0.lock().unwrap().clone()
    }

    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }
}

#[derive(Debug)]
struct Count(std::sync::Arc<Requests>);

impl aws_sdk_dynamodb::config::Intercept for Count {
    fn name(&self) -> &'static str {
        "request counter"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use aws_sdk_dynamodb::operation::{
            get_item::GetItemInput, put_item::PutItemInput, query::QueryInput,
            update_item::UpdateItemInput,
        };
        let input = context.input();
        let op = if input.downcast_ref::<GetItemInput>().is_some() {
            "GetItem"
        } else if input.downcast_ref::<UpdateItemInput>().is_some() {
            "UpdateItem"
        } else if input.downcast_ref::<PutItemInput>().is_some() {
            "PutItem"
        } else if input.downcast_ref::<QueryInput>().is_some() {
            "Query"
        } else {
            "other"
        };
        *self.0.0.lock().unwrap().entry(op).or_default() += 1;
        Ok(())
    }
}

/// [`client_for`], counting every request it sends.
pub fn counting_client_for(endpoint: &str) -> (Client, std::sync::Arc<Requests>) {
    let requests = std::sync::Arc::new(Requests::default());
    (
        client_with(endpoint, Some(Count(requests.clone()))),
        requests,
    )
}

fn client_with(endpoint: &str, count: Option<Count>) -> Client {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(Duration::from_millis(2_000))
        .operation_timeout(Duration::from_millis(5_000))
        .build();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(
            SdkHttpClient::new(Duration::from_millis(500))
                .expect("building the HTTP client")
                .shared(),
        )
        .timeout_config(timeouts);
    let config = match count {
        Some(count) => config.interceptor(count),
        None => config,
    };
    Client::from_conf(config.build())
}

/// An SQS client on moto (its SQS, FIFO queues too).
pub fn sqs_client_for(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(endpoint)
        .http_client(
            SdkHttpClient::new(Duration::from_millis(500))
                .expect("building the HTTP client")
                .shared(),
        );
    aws_sdk_sqs::Client::from_conf(config.build())
}

pub fn unique_tables() -> Tables {
    let id = uuid::Uuid::new_v4().simple().to_string();
    Tables {
        tokens: format!("tokens-{id}"),
        tenants: format!("tenants-{id}"),
        idempotency: format!("idempotency-{id}"),
        audit: format!("audit-{id}"),
        lanes: format!("lanes-{id}"),
        jobs: format!("jobs-{id}"),
        events: format!("events-{id}"),
    }
}
