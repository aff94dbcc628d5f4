//! Paced bulk jobs (`pacing.md`) on the memory store and on DynamoDB
//! (moto): a worker killed mid-chunk (nothing sent twice, nothing lost),
//! cancel, two lanes while one is paused, bad bodies, other tenants.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use shared::AppState;
use shared::engine::{AnyCall, AnyReply, CallMeta, Engine, EngineError, EngineTarget};
use shared::jobs::worker::{Limits, Next, work};
use shared::jobs::{JobMessage, JobStatus};
use shared::pacing::{Class, Override, Pacing};
use shared::store::Store;
use testkit::events::{self, RequestEdit};
use testkit::harness::*;
use testkit::sim::Simulator;

use crate::support::stores;

/// The simulator, recording every participant an update sends, and
/// hanging forever (after the engine got it) on the call numbered `hang`.
struct Recording {
    sim: Simulator,
    sent: Mutex<Vec<String>>,
    calls: AtomicUsize,
    hang: Option<usize>,
    /// Answer every update with this engine error (after recording it).
    refuse: Option<EngineError>,
}

impl Recording {
    fn new(hang: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            sim: Simulator::demo(),
            sent: Mutex::new(Vec::new()),
            calls: AtomicUsize::new(0),
            hang,
            refuse: None,
        })
    }

    fn sent(&self) -> Vec<String> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Engine for Recording {
    async fn call(
        &self,
        target: &EngineTarget,
        call: AnyCall,
        meta: CallMeta,
    ) -> Result<AnyReply, EngineError> {
        if let AnyCall::UpdateParticipants(c) = &call {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            self.sent
                .lock()
                .unwrap()
                .extend(c.participants.iter().map(|p| p.as_str().to_string()));
            if self.hang == Some(n) {
                meta.handed_over.mark();
                std::future::pending::<()>().await;
            }
            if let Some(EngineError::Status {
                status,
                code,
                retry_after,
                settled,
            }) = &self.refuse
            {
                meta.handed_over.mark();
                return Err(EngineError::Status {
                    status: *status,
                    code: code.clone(),
                    retry_after: *retry_after,
                    settled: *settled,
                });
            }
        }
        self.sim.call(target, call, meta).await
    }
}

fn phones(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("55119555{i:05}")).collect()
}

fn create(participants: &[String]) -> lambda_http::Request {
    events::load("create-group-participants-job.json")
        .with_body(&json!({ "participants": participants }).to_string())
}

async fn tenant_with(store: &dyn Store, pacing: Pacing) {
    seed(store, "http://127.0.0.1:9").await;
    let mut t = tenant("http://127.0.0.1:9");
    t.pacing = pacing;
    store.put_tenant(&t).await.unwrap();
}

fn state(store: &Arc<dyn Store>, engine: Arc<Recording>) -> Arc<AppState> {
    testkit::memory::holding(AppState::new(store.clone(), engine, Duration::ZERO))
}

fn message(job: &Value) -> JobMessage {
    JobMessage {
        tenant_id: "acme".into(),
        job_id: job["id"].as_str().unwrap().into(),
        lane: shared::pacing::lane_id("acme", testkit::wuts_fake::SESSION_ID),
    }
}

fn limits() -> Limits {
    Limits {
        until: tokio::time::Instant::now() + Duration::from_secs(600),
        sleep_max: Duration::from_secs(5),
    }
}

async fn results(state: &AppState, id: &str) -> Value {
    let get = events::load("get-job.json").with_path(&format!("/jobs/{id}?results=1&limit=500"));
    let a = send(state, get).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

#[tokio::test]
async fn a_job_survives_its_worker_dying_mid_chunk() {
    for (name, store) in stores("a job survives its worker dying").await {
        tenant_with(store.as_ref(), Pacing::off()).await;
        let list = phones(120);
        // The second call (participants 50..100) reaches the engine, then
        // its worker dies before storing the outcome.
        let dying = Recording::new(Some(1));
        let s = state(&store, dying.clone());
        let a = send(&s, create(&list)).await;
        assert_eq!(a.status, 202, "{name}: {}", a.body);
        let job = a.body["job"].clone();
        let msg = message(&job);
        let run = {
            let (s, msg) = (s.clone(), msg.clone());
            tokio::spawn(async move { work(s.as_ref(), &msg, limits()).await })
        };
        for _ in 0..200 {
            if dying.calls.load(Ordering::SeqCst) == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(dying.calls.load(Ordering::SeqCst), 2, "{name}");
        run.abort();
        let _ = run.await;

        // The next worker (a redelivery) resumes from the stored cursor.
        let healthy = Recording::new(None);
        let s2 = state(&store, healthy.clone());
        let next = work(s2.as_ref(), &msg, limits()).await.unwrap();
        assert_eq!(next, Next::Done, "{name}");

        let mut all = dying.sent();
        all.extend(healthy.sent());
        let mut seen = HashMap::new();
        for p in &all {
            *seen.entry(p.clone()).or_insert(0) += 1;
        }
        assert_eq!(seen.len(), 120, "{name}: none lost");
        assert!(seen.values().all(|n| *n == 1), "{name}: none sent twice");
        assert_eq!(
            healthy.sent().len(),
            20,
            "{name}: only the last chunk is left"
        );

        let body = results(&s2, job["id"].as_str().unwrap()).await;
        assert_eq!(body["job"]["status"], "completed", "{name}");
        let counts = &body["job"]["counts"];
        assert_eq!(counts["ok"], 70, "{name}: {counts}");
        assert_eq!(counts["unconfirmed"], 50, "{name}: {counts}");
        assert_eq!(counts["pending"], 0, "{name}: {counts}");
        let entries = body["results"].as_array().unwrap();
        assert_eq!(entries.len(), 120);
        for (i, e) in entries.iter().enumerate() {
            let want = if (50..100).contains(&i) {
                "unconfirmed"
            } else {
                "ok"
            };
            assert_eq!(e["status"], want, "{name}: entry {i}: {e}");
        }
        // Every engine call of the job is audited with its job_id.
        let audit = store.list_audit("acme", None, 100).await.unwrap();
        let of_job: Vec<_> = audit
            .iter()
            .filter(|r| r.job_id.as_deref() == job["id"].as_str())
            .collect();
        assert_eq!(of_job.len(), 2, "{name}: the first and the last chunk");
        // The job's end is an event for the tenant's endpoints, once.
        let events = store.events().list_events("acme", 10, None).await.unwrap();
        let done: Vec<_> = events
            .iter()
            .filter(|e| e.kind == shared::events::EventType::JobCompleted)
            .collect();
        assert_eq!(done.len(), 1, "{name}: {events:?}");
        assert_eq!(done[0].data.job_id.as_deref(), job["id"].as_str());
        let counts = done[0].data.job.as_ref().unwrap();
        assert_eq!(
            (
                counts["ok"].as_u64(),
                counts["unconfirmed"].as_u64(),
                counts["total"].as_u64()
            ),
            (Some(70), Some(50), Some(120)),
            "{name}: {counts}"
        );
        // The engine's webhook then reports one of the unconfirmed adds:
        // its event names the job, and that outcome is confirmed.
        let t = store.get_tenant("acme").await.unwrap().unwrap();
        assert_eq!(t.engine, shared::engine::EngineKind::SessionService);
        let path = shared::provision::seed_sample_hook(store.as_ref(), &t)
            .await
            .unwrap();
        let group = job["group_jid"].as_str().unwrap();
        let job_id = job["id"].as_str().unwrap();
        let report = |jid: &str| {
            let body = json!({"type": "group.participants.added",
                "data": {"group_jid": group, "participants": [{"jid": jid}]}});
            events::load("hooks-session-service.json")
                .with_path(&path)
                .with_body(&body.to_string())
        };
        let none = shared::events::outbox::NoEventQueue;
        let r = answer(
            shared::events::ingress::serve_any_hook(
                store.as_ref(),
                &none,
                report("5511955500060@s.whatsapp.net"),
            )
            .await,
        );
        assert_eq!(r.body["stored"], 1, "{name}: {}", r.body);
        let latest = store.events().list_events("acme", 1, None).await.unwrap();
        assert_eq!(latest[0].kind, shared::events::EventType::ParticipantsAdded);
        assert_eq!(latest[0].data.job_id.as_deref(), Some(job_id), "{name}");
        let a = send(
            &s,
            events::load("get-job.json").with_path(&format!("/jobs/{job_id}")),
        )
        .await;
        let counts = &a.body["job"]["counts"];
        assert_eq!(
            (counts["ok"].as_u64(), counts["unconfirmed"].as_u64()),
            (Some(71), Some(49)),
            "{name}: {counts}"
        );
        let entry = &store.jobs().entries("acme", job_id, 60, 1).await.unwrap()[0];
        assert_eq!(entry.status, shared::jobs::EntryState::Ok, "{name}");
        // A change no job made names none.
        answer(
            shared::events::ingress::serve_any_hook(
                store.as_ref(),
                &none,
                report("5511944400001@s.whatsapp.net"),
            )
            .await,
        );
        let latest = store.events().list_events("acme", 1, None).await.unwrap();
        assert_eq!(latest[0].data.job_id, None, "{name}");
    }
}

#[tokio::test]
async fn cancel_stops_sends_and_marks_the_rest_cancelled() {
    for (name, store) in stores("cancel stops sends").await {
        tenant_with(store.as_ref(), Pacing::off()).await;
        let engine = Recording::new(None);
        let s = state(&store, engine.clone());
        let a = send(&s, create(&phones(6))).await;
        assert_eq!(a.status, 202, "{name}: {}", a.body);
        let location = a.headers["location"].to_str().unwrap().to_string();
        let id = a.body["job"]["id"].as_str().unwrap().to_string();
        assert_eq!(location, format!("/jobs/{id}"));
        let cancel = events::load("cancel-job.json").with_path(&location);
        let c = send(&s, cancel).await;
        assert_eq!(c.status, 200, "{name}: {}", c.body);
        assert_eq!(c.body["job"]["status"], "cancelled");
        assert_eq!(c.body["job"]["counts"]["cancelled"], 6);
        // The queued message still comes: the worker sends nothing.
        let next = work(s.as_ref(), &message(&a.body["job"]), limits())
            .await
            .unwrap();
        assert_eq!(next, Next::Done);
        assert!(engine.sent().is_empty(), "{name}: nothing sent");
        let body = results(&s, &id).await;
        assert!(
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["status"] == "cancelled"),
            "{name}: {body}"
        );
        // Another tenant's job is not found, on every jobs route.
        seed_other_tenant(store.as_ref(), "http://127.0.0.1:9").await;
        let other = events::load("get-job.json")
            .with_path(&location)
            .with_header("authorization", &format!("Bearer {OTHER_TOKEN}"));
        let o = send(&s, other).await;
        assert_eq!(o.status, 404, "{name}: {}", o.body);
    }
}

#[tokio::test]
async fn two_lanes_progress_while_one_is_paused() {
    for (name, store) in stores("two lanes, one paused").await {
        // Fast lanes: one add per 20 ms, two at once.
        let mut pacing = Pacing::default();
        pacing.classes.insert(
            Class::Add,
            Override {
                interval_ms: Some(20),
                burst: Some(2),
                daily: None,
            },
        );
        tenant_with(store.as_ref(), pacing.clone()).await;
        seed_other_tenant(store.as_ref(), "http://127.0.0.1:9").await;
        let mut other = store.get_tenant("globex").await.unwrap().unwrap();
        other.pacing = pacing;
        store.put_tenant(&other).await.unwrap();
        // WhatsApp rate-limited acme's number a moment ago.
        let acme_lane = shared::pacing::lane_id("acme", testkit::wuts_fake::SESSION_ID);
        let now = shared::pacing::now_ms();
        store.strike(&acme_lane, Class::Add, now).await.unwrap();

        let engine = Recording::new(None);
        let s =
            shared::jobs::in_process(AppState::new(store.clone(), engine.clone(), Duration::ZERO));
        let acme_list = phones(5);
        let other_list: Vec<String> = (0..5).map(|i| format!("55119444{i:05}")).collect();
        let a = send(&s, create(&acme_list)).await;
        assert_eq!(a.status, 202, "{}", a.body);
        let o = send(
            &s,
            create(&other_list).with_header("authorization", &format!("Bearer {OTHER_TOKEN}")),
        )
        .await;
        assert_eq!(o.status, 202, "{}", o.body);
        let other_id = o.body["job"]["id"].as_str().unwrap().to_string();
        let acme_id = a.body["job"]["id"].as_str().unwrap().to_string();
        let mut other_done = false;
        for _ in 0..300 {
            let job = store.get_job("globex", &other_id).await.unwrap().unwrap();
            if job.status == JobStatus::Completed {
                other_done = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(other_done, "{name}: the other lane ran its job");
        let sent = engine.sent();
        for p in &other_list {
            let jid = format!("{p}@s.whatsapp.net");
            assert_eq!(sent.iter().filter(|s| **s == jid).count(), 1, "{name}");
        }
        assert!(
            acme_list
                .iter()
                .all(|p| !sent.contains(&format!("{p}@s.whatsapp.net"))),
            "{name}: nothing sent on the paused lane"
        );
        let acme = store.get_job("acme", &acme_id).await.unwrap().unwrap();
        assert_eq!(acme.status, JobStatus::Paused, "{name}: {acme:?}");
        assert_eq!(acme.pause_reason.as_deref(), Some("rate_limited"));
        assert!(acme.paused_until.unwrap() >= now + 59_000, "{acme:?}");
        let view = results(&s, &acme_id).await;
        assert_eq!(view["job"]["status"], "paused");
        assert!(view["job"]["paused_until"].is_string(), "{view}");
        // Tidy: the paused lane's task would wait a minute.
        let cancel = events::load("cancel-job.json").with_path(&format!("/jobs/{acme_id}"));
        assert_eq!(send(&s, cancel).await.status, 200);
    }
}

#[tokio::test]
async fn bad_job_bodies_are_refused_and_nothing_is_stored() {
    let store: Arc<dyn Store> = Arc::new(testkit::memory::MemoryStore::new());
    tenant_with(store.as_ref(), Pacing::off()).await;
    let s = state(&store, Recording::new(None));
    let cases = [
        json!({ "participants": [] }),
        json!({ "participants": phones(5_001) }),
        json!({ "participants": phones(2), "speed": "fast" }),
        json!({ "participants": phones(2), "action": "kick" }),
    ];
    for body in cases {
        let req = events::load("create-group-participants-job.json").with_body(&body.to_string());
        let a = send(&s, req).await;
        assert_eq!(a.status, 400, "{}", a.body);
        assert_eq!(a.body["error_code"], "VALIDATION_ERROR");
    }
    let a = send(&s, create(&phones(5_000))).await;
    assert_eq!(a.status, 202, "5,000 is allowed: {}", a.body);
    let page = store.list_jobs("acme", None, 10).await.unwrap();
    // The seeded sample job and the one accepted.
    assert_eq!(page.jobs.len(), 2, "{page:?}");
    // A read-only token cannot create or cancel.
    let mut record = token_record(READ_ONLY, "acme");
    record.scopes = Some(vec![shared::scope::Scope::GroupsRead]);
    store.put_token(&record).await.unwrap();
    let ro = create(&phones(2)).with_header("authorization", &format!("Bearer {READ_ONLY}"));
    let a = send(&s, ro).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(a.body["error_code"], "INSUFFICIENT_SCOPE");
}

#[tokio::test]
async fn a_call_the_engine_refuses_fails_the_job_with_what_was_done_kept() {
    for (name, store) in stores("a refused call fails the job").await {
        tenant_with(store.as_ref(), Pacing::off()).await;
        // The engine says the group does not exist: every chunk would be
        // refused the same way.
        let engine = Arc::new(Recording {
            sim: Simulator::demo(),
            sent: Mutex::new(Vec::new()),
            calls: AtomicUsize::new(0),
            hang: None,
            refuse: Some(EngineError::Status {
                status: 404,
                code: Some("group_not_found".into()),
                retry_after: None,
                settled: true,
            }),
        });
        let s = state(&store, engine.clone());
        let a = send(&s, create(&phones(3))).await;
        assert_eq!(a.status, 202, "{name}: {}", a.body);
        let next = work(s.as_ref(), &message(&a.body["job"]), limits())
            .await
            .unwrap();
        assert_eq!(next, Next::Done);
        assert_eq!(engine.sent().len(), 3, "{name}: sent once, not retried");
        let body = results(&s, a.body["job"]["id"].as_str().unwrap()).await;
        assert_eq!(body["job"]["status"], "failed", "{name}: {body}");
        let error = body["job"]["error"].as_str().unwrap();
        assert!(
            !error.is_empty() && !error.contains("upstream error"),
            "{error}"
        );
        assert_eq!(body["job"]["counts"]["failed"], 3, "{name}: {body}");
        assert!(
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["status"] == "failed" && e["error"]["code"] == 404),
            "{name}: {body}"
        );
    }
}

const READ_ONLY: &str = "3c0a4a5e-3f1b-4c2d-9e7f-1a2b3c4d5e6f";
