//! What the pacing guard adds to a warm request against DynamoDB: the CPU
//! time of the thread that runs the request (client, pipeline and the engine
//! fake; `testkit::thread_cpu_ns`) and the DynamoDB requests it sends
//! (counted at the client). A measurement for docs/PERFORMANCE.md, not a
//! test: `MOTO_URL=… cargo bench -p integration-tests --bench guard`.
//!
//! Two ways to reach DynamoDB, because this machine (a VM) charges a thread
//! that wakes from an idle wait 2–4× the CPU for the same work (cold caches;
//! `plain reqwest` below shows it without the SDK). Moto answers in ~50 ms,
//! so every request through it pays that penalty:
//! - `instant`: a front on its own thread answers the guard's `UpdateItem`
//!   at once (`{}`: granted) and forwards everything else to moto: what the
//!   guard's request costs its caller on a hot thread;
//! - `moto`: the guard's `UpdateItem` goes to moto (through the same front).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use shared::AppState;
use shared::pacing::{Class, Override, Pacing};
use shared::store::Store;
use shared::store::dynamo::DynamoStore;
use testkit::events;
use testkit::harness::{http_wuts, seed, send, tenant};
use testkit::wuts_fake::WutsFake;

/// Starts a front; returns its URL. `here`: on the calling thread's runtime
/// (its CPU counted with the request's), else on a thread of its own.
fn front(moto: String, here: bool) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serve = async move {
        let upstream = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let upstream = upstream.clone();
            let moto = moto.clone();
            async move {
                let target = headers
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let instant = INSTANT.load(std::sync::atomic::Ordering::Relaxed);
                if instant && target.ends_with(".UpdateItem") {
                    return (StatusCode::OK, Bytes::from_static(b"{}"));
                }
                let mut req = upstream.post(&moto).body(body);
                for (k, v) in &headers {
                    if k != "host" && k != "content-length" {
                        req = req.header(k, v);
                    }
                }
                let reply = req.send().await.unwrap();
                let status = StatusCode::from_u16(reply.status().as_u16()).unwrap();
                (status, reply.bytes().await.unwrap())
            }
        });
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    };
    if here {
        tokio::spawn(serve);
    } else {
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(serve)
        });
    }
    url
}

static INSTANT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn main() {
    let Some(moto) = testkit::moto::moto_url() else {
        eprintln!("guard bench: MOTO_URL is not set (start moto_server)");
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tables = testkit::moto::unique_tables();
        tools::tables::create_tables(
            &testkit::moto::client_for(&moto),
            &tables,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        let fake = WutsFake::start().await;
        // Through a front on this thread (the instant rows) or its own.
        let mut stores = Vec::new();
        for here in [true, false] {
            let (client, requests) =
                testkit::moto::counting_client_for(&front(moto.clone(), here));
            let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client, tables.clone()));
            stores.push((store, requests));
        }
        seed(stores[0].0.as_ref(), &fake.base_url()).await;
        // (pacing, auth cache, the guard's UpdateItem answered at once, the
        // front on this thread, n). The instant front on this thread counts
        // its own work (axum's) with the request's: an overestimate. The last
        // row reads the token and tenant from DynamoDB on every request: what
        // two GetItems cost through moto, for scale.
        let rows = [
            (false, true, false, true, 5_000),
            (true, true, true, true, 5_000),
            (true, true, true, false, 5_000),
            (true, true, false, false, 300),
            (false, false, false, false, 300),
        ];
        for (on, cached, instant, here, n) in rows {
            INSTANT.store(instant, std::sync::atomic::Ordering::Relaxed);
            let (store, requests) = &stores[usize::from(!here)];
            let mut t = tenant(&fake.base_url());
            t.pacing = if on {
                // A read budget that never runs out: every request is granted.
                let mut p = Pacing::default();
                p.classes.insert(
                    Class::Read,
                    Override {
                        interval_ms: Some(1),
                        burst: Some(1_000_000),
                        daily: None,
                    },
                );
                p
            } else {
                Pacing::off()
            };
            store.put_tenant(&t).await.unwrap();
            let ttl = if cached { 3600 } else { 0 };
            let fresh = AppState::new(store.clone(), http_wuts(), Duration::from_secs(ttl));
            // The event parsed per request, as the runtime does (not read from disk).
            let raw = events::raw("get-group-invite-link.json");
            let event = || lambda_http::request::from_str(&raw).unwrap();
            for _ in 0..50 {
                let a = send(&fresh, event()).await;
                assert_eq!(a.status, 200, "{}", a.body);
            }
            let before_requests = requests.total();
            let before = testkit::thread_cpu_ns();
            let started = Instant::now();
            for _ in 0..n {
                let a = send(&fresh, event()).await;
                assert_eq!(a.status, 200, "{}", a.body);
            }
            let cpu = testkit::thread_cpu_ns() - before;
            let wall = started.elapsed();
            let dynamo = requests.total() - before_requests;
            println!(
                "pacing {:3}, auth cache {:3}, DynamoDB {:7} ({:12}): {:6.1} µs CPU/request, {:7.1} µs wall/request, {:.2} DynamoDB requests/request",
                if on { "on" } else { "off" },
                if cached { "on" } else { "off" },
                if instant { "instant" } else { "moto" },
                if here { "this thread" } else { "other thread" },
                cpu as f64 / 1_000.0 / n as f64,
                wall.as_secs_f64() * 1e6 / n as f64,
                dynamo as f64 / n as f64
            );
        }
        // The machine's idle penalty without the SDK: one plain reqwest POST
        // to the engine fake, back to back and after 20 ms of idle.
        let plain = reqwest::Client::new();
        let target = format!("{}/", fake.base_url());
        for gap in [0u64, 20] {
            let n = if gap == 0 { 3_000 } else { 200 };
            let mut cpu = 0;
            for _ in 0..n {
                if gap > 0 {
                    tokio::time::sleep(Duration::from_millis(gap)).await;
                }
                let before = testkit::thread_cpu_ns();
                let _ = plain.get(&target).send().await.unwrap().bytes().await;
                cpu += testkit::thread_cpu_ns() - before;
            }
            println!(
                "plain reqwest GET to the engine fake, {gap:2} ms idle before each: {:6.1} µs CPU/request",
                cpu as f64 / 1_000.0 / n as f64
            );
        }
    });
}
