//! Delivery to the tenant's endpoints (`events.md`, "Delivery"): each
//! attempt signed as Standard Webhooks v1 and verified, unchanged, by the
//! official `standardwebhooks` Python package as the receiver; the same
//! `webhook-id` on every retry; 410 disables; `Retry-After` read; redirects
//! not followed; private addresses refused when the endpoint is added and
//! again at delivery; rotation signing with both secrets; replay of dead
//! letters. On the memory store and on DynamoDB (moto).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use shared::events::delivery::{self, Attempt, Endpoint, UrlRefusal};
use shared::events::{Event, EventData, EventType, Failure};
use shared::store::Store;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::support::stores;

/// The Python with `standardwebhooks` (scripts/test.sh's venv), if any.
pub fn python() -> Option<String> {
    if let Ok(p) = std::env::var("TEST_PYTHON") {
        return Some(p);
    }
    let moto = std::env::var("MOTO_SERVER_BIN").ok()?;
    let python = std::path::Path::new(&moto).with_file_name("python");
    python
        .exists()
        .then(|| python.to_string_lossy().into_owned())
}

/// The receiver: `tests/fixtures/webhook_receiver.py` verifying with
/// `secret` and answering by `plan`.
pub struct Receiver {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub url: String,
}

impl Receiver {
    pub async fn start(python: &str, secret: &str, plan: &str) -> Self {
        let script = crate::support::root().join("tests/fixtures/webhook_receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(secret)
            .arg(plan)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting the receiver");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the receiver starts")
            .unwrap()
            .expect("the receiver prints its port");
        let port = first
            .strip_prefix("listening on ")
            .expect("listening on PORT");
        Self {
            _child: child,
            lines,
            url: format!("http://127.0.0.1:{port}/hook"),
        }
    }

    /// The next request the receiver saw.
    pub async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
            .await
            .expect("a request reached the receiver")
            .unwrap()
            .unwrap();
        serde_json::from_str(&line).unwrap()
    }
}

fn event(tenant: &str) -> Event {
    Event {
        id: shared::events::new_event_id(),
        kind: EventType::ParticipantsRemoved,
        timestamp: "2026-12-04T12:00:03Z".into(),
        tenant_id: tenant.into(),
        data: EventData {
            group_jid: Some("120363039000000000@g.us".into()),
            actor: None,
            participants: vec![
                shared::events::EventParticipant::from_engine("5511888888888@s.whatsapp.net")
                    .unwrap(),
            ],
            changes: None,
            engine: "waha".into(),
            session: "main".into(),
            job_id: None,
            job: None,
        },
    }
}

async fn tenant(store: &Arc<dyn Store>, id: &str) {
    let mut t = testkit::harness::tenant("https://engine.example");
    t.tenant_id = id.into();
    store.put_tenant(&t).await.unwrap();
}

/// An endpoint of `tenant` at `url` (loopback: `allow_private`).
async fn endpoint(store: &Arc<dyn Store>, tenant: &str, url: &str) -> Endpoint {
    delivery::add_endpoint(
        store.as_ref(),
        tenant,
        url,
        Vec::new(),
        true,
        shared::clock::now_epoch(),
    )
    .await
    .unwrap()
}

macro_rules! python_or_skip {
    () => {
        match python() {
            Some(p) => p,
            None => {
                testkit::moto::say_skipped(
                    module_path!(),
                    "no Python with standardwebhooks (TEST_PYTHON; scripts/test.sh installs it)",
                );
                return;
            }
        }
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_library_verifies_every_delivery_and_retries_keep_the_id() {
    let python = python_or_skip!();
    for (backend, store) in stores("delivery").await {
        tenant(&store, "acme").await;
        // Added first to learn the secret, then pointed at the receiver.
        let mut ep = endpoint(&store, "acme", "http://127.0.0.1:9/hook").await;
        let mut rx = Receiver::start(&python, &ep.secret, "500,503,200").await;
        ep.url = rx.url.clone();
        store.events().put_endpoint(&ep).await.unwrap();
        let e = event("acme");
        let now = shared::clock::now_epoch();
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            outcomes.push(
                delivery::attempt(store.as_ref(), &ep, &e, now)
                    .await
                    .unwrap(),
            );
        }
        assert!(
            matches!(
                outcomes[0],
                Attempt::Failed {
                    status: Some(500),
                    ..
                }
            ),
            "{backend}: {outcomes:?}"
        );
        assert!(matches!(
            outcomes[1],
            Attempt::Failed {
                status: Some(503),
                ..
            }
        ));
        assert_eq!(outcomes[2], Attempt::Delivered { status: 200 }, "{backend}");
        for _ in 0..3 {
            let seen = rx.next().await;
            assert_eq!(seen["verified"], true, "{backend}: {seen}");
            assert_eq!(
                seen["webhook_id"],
                e.id.as_str(),
                "the same id on every retry"
            );
        }
        // Rotation: a receiver still on the old secret verifies during the
        // overlap, as does one on the new secret.
        let old = ep.secret.clone();
        let rotated = delivery::rotate_endpoint(store.as_ref(), "acme", &ep.id, now)
            .await
            .unwrap();
        assert_ne!(rotated.secret, old);
        for secret in [old.as_str(), rotated.secret.as_str()] {
            let mut rx = Receiver::start(&python, secret, "204").await;
            let mut at = rotated.clone();
            at.url = rx.url.clone();
            let got = delivery::attempt(store.as_ref(), &at, &e, now)
                .await
                .unwrap();
            assert_eq!(got, Attempt::Delivered { status: 204 }, "{backend}");
            assert_eq!(rx.next().await["verified"], true, "{backend}");
        }
        // A receiver on some other secret does not verify it.
        let mut rx = Receiver::start(&python, &delivery::new_secret(), "200").await;
        let mut at = rotated.clone();
        at.url = rx.url.clone();
        delivery::attempt(store.as_ref(), &at, &e, now)
            .await
            .unwrap();
        assert_eq!(rx.next().await["verified"], false, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_retry_after_is_read_and_redirects_are_not_followed() {
    let python = python_or_skip!();
    for (backend, store) in stores("delivery answers").await {
        tenant(&store, "acme").await;
        let mut ep = endpoint(&store, "acme", "http://127.0.0.1:9/hook").await;
        let mut rx = Receiver::start(&python, &ep.secret, "429:120,302,410").await;
        ep.url = rx.url.clone();
        store.events().put_endpoint(&ep).await.unwrap();
        let e = event("acme");
        let now = shared::clock::now_epoch();
        let limited = delivery::attempt(store.as_ref(), &ep, &e, now)
            .await
            .unwrap();
        assert_eq!(
            limited,
            Attempt::Failed {
                status: Some(429),
                reason: "the endpoint answered 429".into(),
                retry_after: Some(Duration::from_secs(120)),
            },
            "{backend}"
        );
        let redirected = delivery::attempt(store.as_ref(), &ep, &e, now)
            .await
            .unwrap();
        assert!(
            matches!(
                redirected,
                Attempt::Failed {
                    status: Some(302),
                    ..
                }
            ),
            "{backend}"
        );
        let gone = delivery::attempt(store.as_ref(), &ep, &e, now)
            .await
            .unwrap();
        assert_eq!(gone, Attempt::Gone);
        for _ in 0..3 {
            assert_eq!(
                rx.next().await["path"],
                "/hook",
                "{backend}: only the endpoint's own URL"
            );
        }
        let stored = store.events().list_endpoints("acme").await.unwrap();
        assert!(stored[0].disabled.is_some(), "{backend}: 410 disables");
        assert!(!stored[0].wants(EventType::ParticipantsRemoved));
        // Rotation brings it back.
        let back = delivery::rotate_endpoint(store.as_ref(), "acme", &ep.id, now)
            .await
            .unwrap();
        assert!(back.wants(EventType::ParticipantsRemoved));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_when_added_and_when_delivering() {
    for (backend, store) in stores("delivery ssrf").await {
        tenant(&store, "acme").await;
        let now = shared::clock::now_epoch();
        for (url, allow) in [
            ("http://93.184.216.34/hook", false),
            ("https://127.0.0.1/hook", false),
            ("https://169.254.169.254/latest/meta-data", false),
            ("https://[::1]/hook", false),
            ("https://10.0.0.7/hook", false),
            ("https://localhost/hook", false),
            ("ftp://127.0.0.1/hook", true),
        ] {
            let refused =
                delivery::add_endpoint(store.as_ref(), "acme", url, Vec::new(), allow, now).await;
            assert!(refused.is_err(), "{backend}: {url} was accepted");
        }
        assert!(
            delivery::add_endpoint(
                store.as_ref(),
                "acme",
                "https://x.example/",
                vec!["groups.*".into()],
                false,
                now
            )
            .await
            .is_err(),
            "an unknown type pattern"
        );
        assert!(
            delivery::add_endpoint(
                store.as_ref(),
                "nobody",
                "https://93.184.216.34/",
                Vec::new(),
                false,
                now
            )
            .await
            .is_err(),
            "an unknown tenant"
        );
        assert!(
            store
                .events()
                .list_endpoints("acme")
                .await
                .unwrap()
                .is_empty()
        );
        // An endpoint that reached the store pointing at loopback without
        // allow_private (say, its DNS changed since): refused at delivery,
        // nothing sent.
        let forged = Endpoint {
            id: delivery::new_endpoint_id(),
            tenant_id: "acme".into(),
            url: "https://127.0.0.1:9/hook".into(),
            types: Vec::new(),
            secret: delivery::new_secret(),
            previous: None,
            allow_private: false,
            disabled: None,
            created_at: now,
        };
        let got = delivery::attempt(store.as_ref(), &forged, &event("acme"), now)
            .await
            .unwrap();
        let Attempt::Failed {
            status: None,
            reason,
            ..
        } = got
        else {
            panic!("{backend}: {got:?}");
        };
        assert_eq!(
            reason,
            UrlRefusal::Private("127.0.0.1".parse().unwrap()).to_string()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_replayed() {
    let python = python_or_skip!();
    for (backend, store) in stores("delivery replay").await {
        tenant(&store, "acme").await;
        let mut ep = endpoint(&store, "acme", "http://127.0.0.1:9/hook").await;
        let mut rx = Receiver::start(&python, &ep.secret, "500,200").await;
        ep.url = rx.url.clone();
        store.events().put_endpoint(&ep).await.unwrap();
        let e = event("acme");
        let now = shared::clock::now_epoch();
        store.events().put_event(&e, "k", now).await.unwrap();
        store
            .events()
            .put_failure(&Failure {
                tenant_id: "acme".into(),
                endpoint_id: ep.id.clone(),
                event_id: e.id.clone(),
                kind: e.kind,
                attempts: 8,
                last_status: Some(500),
                reason: "the endpoint answered 500".into(),
                failed_at: now,
            })
            .await
            .unwrap();
        let first = delivery::replay(store.as_ref(), "acme", None, now)
            .await
            .unwrap();
        assert!(
            first[0]["result"]
                .as_str()
                .unwrap()
                .starts_with("failed again"),
            "{backend}: {first:?}"
        );
        let left = store.events().list_failures("acme").await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].attempts, 9, "{backend}");
        let second = delivery::replay(store.as_ref(), "acme", Some(&ep.id), now)
            .await
            .unwrap();
        assert_eq!(second[0]["result"], "delivered (200)", "{backend}");
        assert!(
            store
                .events()
                .list_failures("acme")
                .await
                .unwrap()
                .is_empty()
        );
        for _ in 0..2 {
            let seen = rx.next().await;
            assert_eq!(
                (seen["verified"].clone(), seen["webhook_id"].clone()),
                (Value::Bool(true), Value::from(e.id.clone()))
            );
        }
        // Another tenant sees none of it.
        assert!(
            store
                .events()
                .list_failures("globex")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .events()
                .list_endpoints("globex")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// A hook of `tenant` on WAHA (session `main`); its token.
async fn waha_hook(store: &Arc<dyn Store>, tenant: &str) -> String {
    let token = shared::events::new_hook_token();
    store
        .events()
        .put_hook(
            &shared::events::hook_hash(&token),
            &shared::events::Hook {
                tenant_id: tenant.into(),
                engine: shared::engine::EngineKind::Waha,
                session: "main".into(),
                engine_secret: None,
                created_at: shared::clock::now_epoch(),
            },
        )
        .await
        .unwrap();
    token
}

/// A WAHA participants change of now, posted to the ingress.
async fn post_change(
    store: &Arc<dyn Store>,
    queue: &dyn shared::events::outbox::EventQueue,
    token: &str,
    who: &str,
) {
    use testkit::events::RequestEdit;
    let now = shared::clock::now_ms();
    let body = serde_json::json!({"id": format!("evt_{who}"), "timestamp": now, "event": "group.v2.participants",
        "session": "main", "payload": {"group": {"id": "120363039000000000@g.us"}, "type": "join",
        "timestamp": now, "participants": [{"id": format!("{who}@c.us"), "role": "participant"}]}});
    let req = testkit::events::load("hooks-waha.json")
        .with_path(&format!("/hooks/waha/{token}"))
        .with_body(&body.to_string());
    let a = testkit::harness::answer(
        shared::events::ingress::serve_any_hook(store.as_ref(), queue, req).await,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stored"], 1, "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_change_reaches_each_subscribed_endpoint_and_is_retried_then_dead_lettered() {
    let python = python_or_skip!();
    for (backend, store) in stores("delivery fan-out").await {
        // The schedule shrunk a million times: 24 h is 86 ms.
        let queue = shared::events::outbox::LocalEventQueue::new(store.clone(), 1e-6);
        tenant(&store, "acme").await;
        tenant(&store, "globex").await;
        let token = waha_hook(&store, "acme").await;
        // Subscribed and failing twice; subscribed to another type only;
        // another tenant's; one that never succeeds.
        let mut flaky = endpoint(&store, "acme", "http://127.0.0.1:9/a").await;
        let mut rx = Receiver::start(&python, &flaky.secret, "500,500,200").await;
        flaky.url = rx.url.clone();
        store.events().put_endpoint(&flaky).await.unwrap();
        let mut other_type = delivery::add_endpoint(
            store.as_ref(),
            "acme",
            "http://127.0.0.1:9/b",
            vec!["group.updated".into()],
            true,
            0,
        )
        .await
        .unwrap();
        let mut rx_type = Receiver::start(&python, &other_type.secret, "200").await;
        other_type.url = rx_type.url.clone();
        store.events().put_endpoint(&other_type).await.unwrap();
        let mut globex = endpoint(&store, "globex", "http://127.0.0.1:9/c").await;
        let mut rx_globex = Receiver::start(&python, &globex.secret, "200").await;
        globex.url = rx_globex.url.clone();
        store.events().put_endpoint(&globex).await.unwrap();
        let mut dead = endpoint(&store, "acme", "http://127.0.0.1:9/d").await;
        let mut rx_dead = Receiver::start(&python, &dead.secret, "500").await;
        dead.url = rx_dead.url.clone();
        store.events().put_endpoint(&dead).await.unwrap();

        post_change(&store, &queue, &token, "5511977776666").await;
        let stored = store.events().list_events("acme", 1, None).await.unwrap();
        let id = stored[0].id.clone();
        for _ in 0..3 {
            let seen = rx.next().await;
            assert_eq!(seen["verified"], true, "{backend}");
            assert_eq!(
                seen["webhook_id"],
                id.as_str(),
                "{backend}: the same id on each retry"
            );
        }
        // Eight attempts (the first and seven retries), then a dead letter.
        for _ in 0..8 {
            assert_eq!(rx_dead.next().await["webhook_id"], id.as_str());
        }
        let mut failures = Vec::new();
        for _ in 0..100 {
            failures = store.events().list_failures("acme").await.unwrap();
            if !failures.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(failures.len(), 1, "{backend}");
        assert_eq!(
            (
                failures[0].endpoint_id.as_str(),
                failures[0].event_id.as_str(),
                failures[0].attempts,
                failures[0].last_status
            ),
            (dead.id.as_str(), id.as_str(), 8, Some(500)),
            "{backend}"
        );
        // Nothing for the other type's endpoint, nor for another tenant's.
        for (what, rx) in [("other type", &mut rx_type), ("globex", &mut rx_globex)] {
            let got = tokio::time::timeout(Duration::from_millis(300), rx.lines.next_line()).await;
            assert!(
                got.is_err(),
                "{backend}: the {what} endpoint got a delivery: {got:?}"
            );
        }
        assert!(
            store
                .events()
                .list_failures("globex")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenants_stuck_endpoint_never_holds_up_another_tenants_delivery() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for (backend, store) in stores("delivery isolation").await {
        let queue = shared::events::outbox::LocalEventQueue::new(store.clone(), 1e-6);
        tenant(&store, "acme").await;
        tenant(&store, "globex").await;
        // Acme's receiver does not answer until globex's has been reached:
        // were deliveries run one after the other, globex's would wait for
        // acme's, which waits for globex's.
        let globex_reached = Arc::new(tokio::sync::Notify::new());
        let acme_calls = Arc::new(AtomicUsize::new(0));
        let serve = |app: axum::Router| async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/hook", listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            url
        };
        let (reached, calls) = (globex_reached.clone(), acme_calls.clone());
        let acme_url = serve(axum::Router::new().fallback(move || {
            let (reached, calls) = (reached.clone(), calls.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                reached.notified().await;
                "late"
            }
        }))
        .await;
        let reached = globex_reached.clone();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let globex_url = serve(axum::Router::new().fallback(
            move |headers: axum::http::HeaderMap| {
                let (reached, tx) = (reached.clone(), tx.clone());
                async move {
                    let id = headers["webhook-id"].to_str().unwrap().to_string();
                    tx.send(id).unwrap();
                    reached.notify_waiters();
                    "ok"
                }
            },
        ))
        .await;
        endpoint(&store, "acme", &acme_url).await;
        endpoint(&store, "globex", &globex_url).await;
        let (a, g) = (event("acme"), event("globex"));
        let now = shared::clock::now_epoch();
        for e in [&a, &g] {
            store.events().put_event(e, &e.id, now).await.unwrap();
        }
        // Acme's delivery first, and stuck at its receiver…
        shared::events::outbox::fan_out(store.as_ref(), &queue, &a)
            .await
            .unwrap();
        for _ in 0..200 {
            if acme_calls.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(
            acme_calls.load(Ordering::SeqCst),
            1,
            "{backend}: acme's was sent"
        );
        // …then globex's, which arrives while acme's still waits.
        shared::events::outbox::fan_out(store.as_ref(), &queue, &g)
            .await
            .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("globex's delivery was held up by acme's stuck endpoint")
            .unwrap();
        assert_eq!(got, g.id, "{backend}");
    }
}
