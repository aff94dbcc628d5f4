//! The failure matrix: upstream and DynamoDB faults that need real sockets or
//! processes. Each case must answer with its mapped envelope and must not hang
//! (a generous guard, not a timing assertion).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shared::AppState;
use shared::store::dynamo::DynamoStore;
use testkit::events;
use testkit::harness::*;
use testkit::memory::MemoryStore;
use testkit::moto;
use testkit::wuts_fake::WutsFake;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tools::tables::create_tables;

/// Fails the test if `fut` hangs: it must finish well within this guard.
async fn no_hang<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("the handler hung")
}

async fn memory_state(base_url: &str, deadline: Duration) -> AppState {
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), base_url).await;
    AppState::new(store, http_engine(true, deadline), Duration::from_secs(30))
}

#[tokio::test]
async fn dns_failure_is_502() {
    let state = memory_state("http://wuts-does-not-exist.invalid", Duration::from_secs(5)).await;
    let a = no_hang(send(&state, events::load("remove-group-participants.json"))).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");
}

/// A server that answers 200 with a Content-Length it never fulfils.
async fn truncating_server(calls: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            calls.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 8192];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"participants\":[{\"jid\":",
                )
                .await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn truncated_body_is_502_and_not_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = truncating_server(calls.clone()).await;
    let state = memory_state(&url, Duration::from_secs(5)).await;
    let a = no_hang(send(&state, events::load("remove-group-participants.json"))).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");
    let a = no_hang(send(&state, events::load("reset-group-invite-link.json"))).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A DynamoDB endpoint that always throttles, counting the attempts.
async fn throttling_dynamodb(attempts: Arc<AtomicUsize>) -> String {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(move || {
        let attempts = attempts.clone();
        async move {
            attempts.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::BAD_REQUEST,
                [("content-type", "application/x-amz-json-1.0")],
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn dynamodb_throttling_is_503_after_retries() {
    let fake = WutsFake::start().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let endpoint = throttling_dynamodb(attempts.clone()).await;
    let store = Arc::new(DynamoStore::new(
        moto::client_for(&endpoint),
        moto::unique_tables(),
    ));
    let state = AppState::new(store, http_wuts(), Duration::from_secs(30));
    let a = no_hang(send(&state, events::load("remove-group-participants.json"))).await;
    assert_error(&a, 503, "SERVICE_UNAVAILABLE");
    assert!(
        attempts.load(Ordering::SeqCst) >= 2,
        "the SDK retried before giving up"
    );
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn dynamodb_going_away_mid_test_is_503() {
    let Ok(bin) = std::env::var("MOTO_SERVER_BIN") else {
        testkit::moto::say_skipped(
            "dynamodb_going_away_mid_test_is_503",
            "MOTO_SERVER_BIN is not set",
        );
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut moto_proc = tokio::process::Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = moto::client_for(&endpoint);
    let tables = moto::unique_tables();
    let mut ready = false;
    for _ in 0..100 {
        if create_tables(&client, &tables, Duration::from_secs(10))
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "private moto_server did not start");
    let fake = WutsFake::start().await;
    let store = Arc::new(DynamoStore::new(client, tables));
    seed(store.as_ref(), &fake.base_url()).await;
    // No auth cache, so the second request must reach DynamoDB again.
    let state = AppState::new(store, http_wuts(), Duration::ZERO);
    let a = send(&state, events::load("reset-group-invite-link.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);

    moto_proc.kill().await.unwrap();
    let _ = moto_proc.wait().await;
    let a = no_hang(send(&state, events::load("reset-group-invite-link.json"))).await;
    assert_error(&a, 503, "SERVICE_UNAVAILABLE");
    assert_eq!(fake.calls().len(), 1);
}
