//! What an engine event costs: the ingress's CPU per event (the thread
//! that runs it; `testkit::thread_cpu_ns`) and its DynamoDB requests and
//! queued deliveries, then a delivery's DynamoDB requests, against DynamoDB
//! on moto. A measurement for docs/PERFORMANCE.md, not a test:
//! `MOTO_URL=… cargo bench -p integration-tests --bench events_cost`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shared::events::outbox::{DeliveryMessage, EventQueue};
use shared::store::{Store, StoreError};
use testkit::events::RequestEdit;

/// Counts what would be SQS `SendMessage`s, and keeps the messages.
#[derive(Default)]
struct Counting {
    sent: AtomicUsize,
    kept: std::sync::Mutex<Vec<DeliveryMessage>>,
}

#[async_trait]
impl EventQueue for Counting {
    async fn send(&self, message: &DeliveryMessage, _: Duration) -> Result<(), StoreError> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.kept.lock().unwrap().push(message.clone());
        Ok(())
    }
}

fn main() {
    let Some(url) = testkit::moto::moto_url() else {
        eprintln!("events_cost bench: MOTO_URL is not set (start moto_server)");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tables = testkit::moto::unique_tables();
        tools::tables::create_tables(&testkit::moto::client_for(&url), &tables, Duration::from_secs(30))
            .await
            .unwrap();
        let (client, requests) = testkit::moto::counting_client_for(&url);
        let store: Arc<dyn Store> =
            Arc::new(shared::store::dynamo::DynamoStore::new(client, tables));
        let mut t = testkit::harness::tenant("https://engine.example");
        t.engine = shared::engine::EngineKind::Waha;
        t.wuts_session_id = "main".into();
        store.put_tenant(&t).await.unwrap();
        let path = shared::provision::seed_sample_hook(store.as_ref(), &t).await.unwrap();
        // A receiver that answers 200 at once, and two endpoints on it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let app = axum::Router::new().fallback(|| async { "ok" });
            axum::serve(listener, app).await.unwrap();
        });
        for _ in 0..2 {
            shared::events::delivery::add_endpoint(store.as_ref(), "acme", &receiver, Vec::new(), true, 0)
                .await
                .unwrap();
        }
        let queue = Counting::default();
        let n = 200;
        let raw = testkit::events::raw("hooks-waha.json");
        let before_requests = requests.total();
        let before = testkit::thread_cpu_ns();
        for i in 0..n {
            let now = shared::clock::now_ms();
            let body = serde_json::json!({"id": format!("evt_{i}"), "timestamp": now, "event": "group.v2.participants",
                "session": "main", "payload": {"group": {"id": "120363039000000000@g.us"}, "type": "join",
                "timestamp": now, "participants": [{"id": format!("55119{i:08}@c.us"), "role": "participant"}]}});
            let req = lambda_http::request::from_str(&raw)
                .unwrap()
                .with_path(&path)
                .with_body(&body.to_string());
            let a = testkit::harness::answer(
                shared::events::ingress::serve_any_hook(store.as_ref(), &queue, req).await,
            );
            assert_eq!(a.body["stored"], 1, "{}", a.body);
        }
        let cpu = testkit::thread_cpu_ns() - before;
        let dynamo = requests.total() - before_requests;
        println!(
            "ingress: {:.1} µs CPU/event (this thread), {:.2} DynamoDB requests/event, {:.2} SQS SendMessage/event (2 endpoints)",
            cpu as f64 / 1_000.0 / n as f64,
            dynamo as f64 / n as f64,
            queue.sent.load(Ordering::SeqCst) as f64 / n as f64
        );
        let messages = queue.kept.lock().unwrap().clone();
        let before_requests = requests.total();
        let before = testkit::thread_cpu_ns();
        let retry = Counting::default();
        for m in &messages {
            shared::events::outbox::process(store.as_ref(), &retry, m, shared::clock::now_epoch())
                .await
                .unwrap();
        }
        let cpu = testkit::thread_cpu_ns() - before;
        println!(
            "delivery (2xx): {:.1} µs CPU/delivery (this thread, the receiver included), {:.2} DynamoDB requests/delivery, {} retries queued",
            cpu as f64 / 1_000.0 / messages.len() as f64,
            (requests.total() - before_requests) as f64 / messages.len() as f64,
            retry.sent.load(Ordering::SeqCst)
        );
        println!("{:?}", requests.snapshot());
    });
}
