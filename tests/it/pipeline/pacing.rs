//! The pacing guard (`pacing.md`) through the whole pipeline, on the memory
//! store and on DynamoDB (moto): a lane's budget, `429 PACING_LIMITED` with
//! nothing sent and the key released, `422 USE_A_JOB`, WhatsApp's own limit
//! pausing the class, concurrent requests never past the burst, and
//! `GET /pacing`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use shared::AppState;
use shared::pacing::Pacing;
use shared::store::Store;
use testkit::events::{self, RequestEdit};
use testkit::harness::*;
use testkit::wuts_fake::{Fault, WutsFake};

use crate::support::stores;

/// A tenant with pacing on (the production default) on a fresh fake.
async fn paced(store: &Arc<dyn Store>) -> (AppState, WutsFake) {
    let fake = WutsFake::start().await;
    seed(store.as_ref(), &fake.base_url()).await;
    let mut t = tenant(&fake.base_url());
    t.pacing = Pacing::default();
    store.put_tenant(&t).await.unwrap();
    let state = AppState::new(store.clone(), http_wuts(), Duration::ZERO);
    (state, fake)
}

fn phones(from: usize, n: usize) -> Value {
    json!(
        (from..from + n)
            .map(|i| format!("55119666{i:05}"))
            .collect::<Vec<_>>()
    )
}

fn add(from: usize, n: usize) -> lambda_http::Request {
    events::load("add-group-participants.json")
        .with_body(&json!({ "participants": phones(from, n) }).to_string())
}

fn remove(from: usize, n: usize) -> lambda_http::Request {
    events::load("remove-group-participants.json")
        .with_body(&json!({ "participants": phones(from, n) }).to_string())
}

async fn pacing_view(state: &AppState) -> Value {
    let a = send(state, events::load("get-pacing.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_budget_is_429_with_nothing_sent_the_key_released_and_no_audit() {
    for (name, store) in stores("pacing limits").await {
        let (state, fake) = paced(&store).await;
        // The add burst is 4: two adds of two fit.
        for i in 0..2 {
            let a = send(&state, add(i * 2, 2)).await;
            assert_eq!(a.status, 200, "{name}: {}", a.body);
        }
        let audited = store.list_audit("acme", None, 100).await.unwrap().len();
        let a = send(&state, add(10, 1).with_header("idempotency-key", "k-paced")).await;
        assert_error(&a, 429, "PACING_LIMITED");
        let secs = a.body["retry_after_seconds"].as_u64().unwrap();
        assert!((1..=12).contains(&secs), "{name}: {secs}");
        assert_eq!(a.headers["retry-after"].to_str().unwrap(), secs.to_string());
        assert_eq!(fake.calls().len(), 2, "{name}: nothing sent");
        assert_eq!(
            store.list_audit("acme", None, 100).await.unwrap().len(),
            audited,
            "{name}: no audit record"
        );
        // The key was released: the retry is paced again, not "in progress".
        let a = send(&state, add(10, 1).with_header("idempotency-key", "k-paced")).await;
        assert_error(&a, 429, "PACING_LIMITED");
        // Another class has its own budget.
        let a = send(&state, remove(0, 1)).await;
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        let view = pacing_view(&state).await;
        assert_eq!(view["pacing"], "on");
        assert_eq!(view["classes"]["add"]["available"], 0, "{name}: {view}");
        assert_eq!(view["classes"]["add"]["today"], 4);
        assert_eq!(view["classes"]["change"]["today"], 1);
        assert_eq!(view["classes"]["change"]["available"], 7);
        assert_eq!(view["classes"]["add"]["daily_cap"], 300);
    }
}

#[tokio::test]
async fn more_than_the_burst_at_once_is_422_use_a_job() {
    for (name, store) in stores("use a job").await {
        let (state, fake) = paced(&store).await;
        let a = send(&state, add(0, 5)).await;
        assert_error(&a, 422, "USE_A_JOB");
        assert!(
            a.body["error"]
                .as_str()
                .unwrap()
                .contains("/participants/jobs"),
            "{name}: names the jobs route: {}",
            a.body
        );
        assert!(fake.calls().is_empty(), "{name}: nothing sent");
        // And it took no budget.
        let view = pacing_view(&state).await;
        assert_eq!(view["classes"]["add"]["available"], 4, "{name}: {view}");
    }
}

#[tokio::test]
async fn whatsapps_own_limit_pauses_the_class() {
    for (name, store) in stores("rate limit pauses").await {
        let (state, fake) = paced(&store).await;
        fake.push_fault(Fault::Status {
            status: 429,
            code: Some("rate_limited"),
            retry_after: None,
        });
        let a = send(&state, add(0, 1)).await;
        assert_error(&a, 429, "RATE_LIMITED");
        // The class is paused: the next add is held back, nothing sent.
        let a = send(&state, add(1, 1)).await;
        assert_error(&a, 429, "PACING_LIMITED");
        let secs = a.body["retry_after_seconds"].as_u64().unwrap();
        assert!((50..=60).contains(&secs), "{name}: a 60 s pause, {secs}");
        assert_eq!(fake.calls().len(), 1, "{name}");
        let view = pacing_view(&state).await;
        assert_eq!(view["classes"]["add"]["pause_reason"], "rate_limited");
        assert!(view["classes"]["add"]["paused_until"].is_string(), "{view}");
        assert_eq!(view["classes"]["add"]["available"], 0);
        // Other classes go on.
        assert!(view["classes"]["change"]["paused_until"].is_null());
        let a = send(&state, remove(0, 1)).await;
        assert_eq!(a.status, 200, "{name}: {}", a.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_adds_never_pass_the_burst() {
    for (name, store) in stores("concurrent adds").await {
        let (state, fake) = paced(&store).await;
        let state = Arc::new(state);
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let state = state.clone();
                tokio::spawn(async move { send(&state, add(100 + i, 1)).await })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            let a = task.await.unwrap();
            match a.status {
                200 => ok += 1,
                429 => assert_eq!(a.body["error_code"], "PACING_LIMITED", "{name}"),
                other => panic!("{name}: {other} {}", a.body),
            }
        }
        // Counted where it matters: at the engine.
        assert_eq!(fake.calls().len(), 4, "{name}: the burst, no more");
        assert_eq!(ok, 4, "{name}");
    }
}

#[tokio::test]
async fn what_the_engine_cannot_do_takes_no_budget_and_pacing_off_lets_all_by() {
    for (name, store) in stores("no budget for a 501").await {
        let (state, fake) = paced(&store).await;
        // session-service cannot create groups: 501 before any budget.
        let a = send(&state, events::load("create-group.json")).await;
        assert_error(&a, 501, "NOT_SUPPORTED");
        let view = pacing_view(&state).await;
        assert_eq!(view["classes"]["create"]["today"], 0, "{name}: {view}");
        assert_eq!(view["classes"]["add"]["today"], 0, "{name}: {view}");
        // Pacing off: six adds in a row all go.
        let mut t = tenant(&fake.base_url());
        t.pacing = Pacing::off();
        store.put_tenant(&t).await.unwrap();
        for i in 0..6 {
            let a = send(&state, add(200 + i, 1)).await;
            assert_eq!(a.status, 200, "{name}: {}", a.body);
        }
        assert_eq!(pacing_view(&state).await["pacing"], "off");
    }
}

/// What the guard costs in DynamoDB, counted at the client: one conditional
/// `UpdateItem` per request once the process has seen the lane, and no read.
#[tokio::test]
async fn a_paced_request_costs_one_dynamodb_write() {
    let url = testkit::moto_or_skip!();
    let tables = testkit::moto::unique_tables();
    tools::tables::create_tables(
        &testkit::moto::client_for(&url),
        &tables,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let (client, requests) = testkit::moto::counting_client_for(&url);
    let store: Arc<dyn Store> = Arc::new(shared::store::dynamo::DynamoStore::new(client, tables));
    let fake = WutsFake::start().await;
    seed(store.as_ref(), &fake.base_url()).await;
    let mut t = tenant(&fake.base_url());
    t.pacing = Pacing::default();
    store.put_tenant(&t).await.unwrap();
    // A warm container: the token and tenant come from the auth cache.
    let state = AppState::new(store.clone(), http_wuts(), Duration::from_secs(60));
    let a = send(&state, events::load("get-group-invite-link.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    for i in 0..5 {
        let before = requests.snapshot();
        let a = send(&state, events::load("get-group-invite-link.json")).await;
        assert_eq!(a.status, 200, "{i}: {}", a.body);
        let after = requests.snapshot();
        let spent: Vec<(&str, usize)> = after
            .iter()
            .map(|(op, n)| (*op, n - before.get(op).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        assert_eq!(spent, vec![("UpdateItem", 1)], "request {i}");
    }
    assert_eq!(fake.calls().len(), 6);
}
