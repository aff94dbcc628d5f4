//! What the pacing guard adds to a warm request against DynamoDB (moto on
//! loopback): the process's CPU time (user + system, from /proc/self/stat)
//! per request, with pacing off and on, and the DynamoDB requests each
//! sends (counted at the client). A measurement for docs/PERFORMANCE.md, not
//! a test: `MOTO_URL=… cargo bench -p integration-tests --bench guard`.

use std::sync::Arc;
use std::time::Duration;

use shared::AppState;
use shared::pacing::{Class, Override, Pacing};
use shared::store::Store;
use shared::store::dynamo::DynamoStore;
use testkit::events;
use testkit::harness::{http_wuts, seed, send, tenant};
use testkit::wuts_fake::WutsFake;

fn main() {
    let Some(url) = testkit::moto::moto_url() else {
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
            &testkit::moto::client_for(&url),
            &tables,
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        let (client, requests) = testkit::moto::counting_client_for(&url);
        let store: Arc<dyn Store> = Arc::new(DynamoStore::new(client, tables));
        let fake = WutsFake::start().await;
        seed(store.as_ref(), &fake.base_url()).await;
        let n = 2_000;
        // (pacing, auth cache): the third run reads the token and tenant from
        // DynamoDB on every request: what two GetItems cost, for scale.
        for (on, cached) in [(false, true), (true, true), (false, false)] {
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
            for _ in 0..20 {
                let a = send(&fresh, events::load("get-group-invite-link.json")).await;
                assert_eq!(a.status, 200, "{}", a.body);
            }
            let before_requests = requests.total();
            let before = testkit::cpu_ticks();
            let started = std::time::Instant::now();
            for _ in 0..n {
                let a = send(&fresh, events::load("get-group-invite-link.json")).await;
                assert_eq!(a.status, 200, "{}", a.body);
            }
            let ticks = testkit::cpu_ticks() - before;
            let wall = started.elapsed();
            let dynamo = requests.total() - before_requests;
            println!(
                "pacing {:3}, auth cache {:3}: {:6.1} µs CPU/request (this process: client, pipeline, the fake), {:6.1} µs wall/request, {:.2} DynamoDB requests/request",
                if on { "on" } else { "off" },
                if cached { "on" } else { "off" },
                ticks as f64 * 10_000.0 / n as f64,
                wall.as_secs_f64() * 1e6 / n as f64,
                dynamo as f64 / n as f64
            );
        }
    });
}
