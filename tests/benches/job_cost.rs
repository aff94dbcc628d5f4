//! What a paced job costs (docs/PERFORMANCE.md): the DynamoDB requests of
//! its creation and per participant as the worker runs it, counted at the
//! client against moto, and the worker's runs (Lambda invocations) and SQS
//! requests, at the *shape* of the default add pace (a burst of 4, then one
//! per interval, each wait longer than the worker sleeps through) with the
//! interval scaled down so the run takes seconds. A measurement, not a test:
//! `MOTO_URL=… cargo bench -p integration-tests --bench job_cost`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use shared::AppState;
use shared::jobs::JobMessage;
use shared::jobs::lambda::RENEW_AFTER_RECEIVES;
use shared::jobs::worker::{Limits, Next, work};
use shared::pacing::{Class, Override, Pacing, lane_id};
use shared::store::Store;
use shared::store::dynamo::DynamoStore;
use testkit::events::{self, RequestEdit};
use testkit::harness::{http_wuts, seed, send, tenant};
use testkit::wuts_fake::{SESSION_ID, WutsFake};

fn main() {
    let Some(url) = testkit::moto::moto_url() else {
        eprintln!("job_cost bench: MOTO_URL is not set (start moto_server)");
        return;
    };
    let n: usize = std::env::var("JOB_COST_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
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
        // The default add budget's shape (burst 4, daily cap off for the
        // run), one per 2 s instead of 12 s: either way longer than the
        // worker sleeps through, and than one chunk takes against moto.
        let mut t = tenant(&fake.base_url());
        let mut pacing = Pacing::default();
        pacing.classes.insert(
            Class::Add,
            Override {
                interval_ms: Some(2_000),
                burst: Some(4),
                daily: Some(1_000_000),
            },
        );
        t.pacing = pacing;
        store.put_tenant(&t).await.unwrap();
        let state = testkit::memory::holding(AppState::new(
            store.clone(),
            http_wuts(),
            Duration::from_secs(3600),
        ));
        let participants: Vec<String> = (0..n).map(|i| format!("55119333{i:05}")).collect();
        let before = requests.snapshot();
        let a = send(
            &state,
            events::load("create-group-participants-job.json")
                .with_body(&json!({ "participants": participants }).to_string()),
        )
        .await;
        assert_eq!(a.status, 202, "{}", a.body);
        let created = diff(&before, &requests.snapshot());
        println!("create, {n} participants: DynamoDB {created:?}");

        let message = JobMessage {
            tenant_id: "acme".into(),
            job_id: a.body["job"]["id"].as_str().unwrap().into(),
            lane: lane_id("acme", SESSION_ID),
        };
        let before = requests.snapshot();
        let ticks = testkit::cpu_ticks();
        let started = std::time::Instant::now();
        // The Lambda worker's runs, as the queue would deliver them: a wait
        // longer than it sleeps through ends the run (at the default pace,
        // every participant after the burst).
        let (mut runs, mut laters, mut continuations) = (0, 0, 0);
        loop {
            runs += 1;
            let limits = Limits {
                until: tokio::time::Instant::now() + Duration::from_secs(600),
                sleep_max: Duration::ZERO,
            };
            match work(state.as_ref(), &message, limits).await.unwrap() {
                Next::Done => break,
                Next::Continue => continuations += 1,
                Next::Later(at) => {
                    laters += 1;
                    let ms = u64::try_from(at - shared::pacing::now_ms()).unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            }
        }
        let wall = started.elapsed();
        let cpu = testkit::cpu_ticks() - ticks;
        let ran = diff(&before, &requests.snapshot());
        let total: usize = ran.iter().map(|(_, c)| c).sum();
        let job = store
            .jobs()
            .get_job(&message.tenant_id, &message.job_id)
            .await
            .unwrap()
            .unwrap();
        let job = format!(
            "{:?}: ok {}, failed {}, unconfirmed {}",
            job.status, job.ok, job.failed, job.unconfirmed
        );
        println!(
            "run: {runs} worker runs ({laters} waits ended a run, {continuations} continuations), \
             {total} DynamoDB requests = {:.2} per participant: {ran:?}; job {job}",
            total as f64 / n as f64
        );
        // SQS per run that waited: ChangeMessageVisibility; per delivery the
        // poller's ReceiveMessage; every RENEW_AFTER_RECEIVES-th wait a
        // continuation (SendMessage) and the delete of the old message.
        let sqs = laters + runs + 2 * (laters / RENEW_AFTER_RECEIVES as usize) + 1;
        println!(
            "SQS (from the worker's protocol): {sqs} requests = {:.2} per participant",
            sqs as f64 / n as f64
        );
        println!(
            "worker CPU in this process (pipeline, SDK, the fake): {:.1} ms per participant; wall {:.1} s",
            cpu as f64 * 10.0 / n as f64,
            wall.as_secs_f64()
        );
    });
}

fn diff(
    before: &std::collections::BTreeMap<&'static str, usize>,
    after: &std::collections::BTreeMap<&'static str, usize>,
) -> Vec<(&'static str, usize)> {
    after
        .iter()
        .map(|(k, v)| (*k, v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}
