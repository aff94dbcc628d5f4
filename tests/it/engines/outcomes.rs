//! Every way an engine call can end lands on one side of one rule
//! (`shared::engine::Reach`): a call that may have reached the engine is audited,
//! its answer is stored under its `Idempotency-Key` and replayed, never sent
//! again, and its envelope says `"outcome": "unknown"` when it failed; a call
//! that never left is not audited and releases the key. Plus the request's one
//! deadline, a caller that goes away, and answers too large for one item.
//!
//! Each case runs against the memory store and, when the test command started
//! moto, against DynamoDB on moto. Outcomes only (status, stored record,
//! upstream calls): no timing assertions.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use shared::AppState;
use shared::store::dynamo::DynamoStore;
use shared::store::{
    AuditRecord, AuditStore, Claim, IdempotencyRecord, IdempotencyStore, Store, StoreError,
    StoredAnswer, Tenant, TenantStatus, TenantStore, TokenRecord, TokenStore,
};
use testkit::events::{self, RequestEdit};
use testkit::fakes::Flavour;
use testkit::harness::*;
use testkit::memory::MemoryStore;
use testkit::moto;
use testkit::wuts_fake::{Fault, WutsFake};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Fails the test if `fut` hangs (a guard, not a timing assertion).
async fn no_hang<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("the request hung")
}

use crate::support::stores;

async fn state_on(store: Arc<dyn Store>, base_url: &str, allow_http: bool) -> AppState {
    state_for(Flavour::SessionService, store, base_url, allow_http).await
}

/// A state whose tenant runs `flavour`'s engine at `base_url`.
pub(super) async fn state_for(
    flavour: Flavour,
    store: Arc<dyn Store>,
    base_url: &str,
    allow_http: bool,
) -> AppState {
    store
        .put_tenant(&tenant_for(flavour, base_url))
        .await
        .unwrap();
    store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
    AppState::new(
        store,
        http_engine(allow_http, UPSTREAM_DEADLINE),
        Duration::from_secs(30),
    )
}

fn reset(key: &str) -> lambda_http::Request {
    events::load("reset-group-invite-link.json").with_header("idempotency-key", key)
}

pub(super) async fn audit(store: &dyn Store) -> Vec<AuditRecord> {
    store.list_audit("acme", None, 1000).await.unwrap()
}

pub(super) fn replayed(a: &Answer) -> bool {
    a.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

pub(super) fn outcome_unknown(a: &Answer) -> bool {
    a.body["outcome"] == "unknown"
}

#[tokio::test]
async fn answers_we_cannot_read_are_kept_and_never_sent_again() {
    let too_large = format!(
        r#"{{"invite_link":"https://chat.whatsapp.com/{}"}}"#,
        "A".repeat((1 << 20) + 1)
    );
    let faults = [
        ("garbage", Fault::Raw200("<html>garbage</html>".into())),
        ("over 1 MiB", Fault::Raw200(too_large)),
        (
            "a link that is not https",
            Fault::Raw200(r#"{"invite_link":"http://chat.whatsapp.com/x"}"#.into()),
        ),
        (
            "500",
            Fault::Status {
                status: 500,
                code: None,
                retry_after: None,
            },
        ),
        (
            "503",
            Fault::Status {
                status: 503,
                code: Some("unavailable"),
                retry_after: None,
            },
        ),
    ];
    for flavour in Flavour::ALL {
        for (store_name, store) in stores("answers_we_cannot_read").await {
            let name = format!("{store_name}/{}", flavour.name());
            let fake = WutsFake::start_engine(flavour).await;
            let state = state_for(flavour, store.clone(), &fake.base_url(), true).await;
            for (i, (fault, fault_value)) in faults.iter().enumerate() {
                fake.push_fault(fault_value.clone());
                let key = format!("garbage-{i}");
                let first = no_hang(send(&state, reset(&key))).await;
                assert_error(&first, 502, "UPSTREAM_ERROR");
                assert!(outcome_unknown(&first), "{name}/{fault}: {}", first.body);
                assert!(!replayed(&first));
                let again = no_hang(send(&state, reset(&key))).await;
                assert_eq!(again.status, 502, "{name}/{fault}");
                assert!(replayed(&again), "{name}/{fault}: the same key replays");
                assert_eq!(again.body, first.body, "{name}/{fault}");
                assert_eq!(
                    fake.calls().len(),
                    i + 1,
                    "{name}/{fault}: one reset upstream, never a second"
                );
            }
            let records = audit(store.as_ref()).await;
            assert_eq!(records.len(), faults.len(), "{name}: one record per call");
            assert!(records.iter().all(|r| r.status == 502), "{name}");
        }
    }
}

/// A server that reads each request, then closes the connection without a
/// word: the request was sent, and WUTS may well have acted on it.
async fn hang_up_server(calls: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let calls = calls.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                if socket.read(&mut buf).await.is_ok_and(|n| n > 0) {
                    calls.fetch_add(1, Ordering::SeqCst);
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_connection_dropped_after_sending_is_kept_and_never_sent_again() {
    for flavour in Flavour::ALL {
        for (store_name, store) in stores("a_connection_dropped_after_sending").await {
            let name = format!("{store_name}/{}", flavour.name());
            let calls = Arc::new(AtomicUsize::new(0));
            let url = hang_up_server(calls.clone()).await;
            let state = state_for(flavour, store.clone(), &url, true).await;
            let answers = [
                no_hang(send(&state, reset("dropped-1"))).await,
                no_hang(send(&state, reset("dropped-1"))).await,
                no_hang(send(&state, reset("dropped-1"))).await,
            ];
            assert_error(&answers[0], 502, "UPSTREAM_ERROR");
            assert!(outcome_unknown(&answers[0]), "{name}: {}", answers[0].body);
            assert!(replayed(&answers[1]) && replayed(&answers[2]), "{name}");
            assert_eq!(
                calls.load(Ordering::SeqCst),
                1,
                "{name}: one call, no retry"
            );
            assert_eq!(audit(store.as_ref()).await.len(), 1, "{name}");
        }
    }
}

#[tokio::test]
async fn calls_that_never_left_release_the_key_and_are_not_audited() {
    for flavour in Flavour::ALL {
        for (store_name, store) in stores("calls_that_never_left").await {
            let name = format!("{store_name}/{}", flavour.name());
            // A plain-http engine URL while ENGINE_ALLOW_HTTP is false: refused
            // before sending.
            let fake = WutsFake::start_engine(flavour).await;
            let state = state_for(flavour, store.clone(), &fake.base_url(), false).await;
            for _ in 0..2 {
                let a = no_hang(send(&state, reset("never-sent-1"))).await;
                assert_error(&a, 502, "UPSTREAM_ERROR");
                assert!(!outcome_unknown(&a), "{name}: {}", a.body);
                assert!(!replayed(&a), "{name}: the key was released");
            }
            assert!(fake.calls().is_empty());

            // Nothing listening: the connection is never established.
            let closed = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                format!("http://{}", l.local_addr().unwrap())
            };
            store
                .put_tenant(&tenant_for(flavour, &closed))
                .await
                .unwrap();
            let state = AppState::new(
                store.clone(),
                http_engine(true, UPSTREAM_DEADLINE),
                Duration::ZERO,
            );
            for _ in 0..2 {
                let a = no_hang(send(&state, reset("never-sent-2"))).await;
                assert_error(&a, 502, "UPSTREAM_ERROR");
                assert!(!outcome_unknown(&a), "{name}: {}", a.body);
                assert!(!replayed(&a), "{name}: the key was released");
            }
            assert!(
                audit(store.as_ref()).await.is_empty(),
                "{name}: nothing reached an engine, nothing is audited"
            );
        }
    }
}

#[tokio::test]
async fn refusals_are_audited_and_release_the_key() {
    for flavour in Flavour::ALL {
        for (store_name, store) in stores("refusals").await {
            let name = format!("{store_name}/{}", flavour.name());
            let fake = WutsFake::start_engine(flavour).await;
            let state = state_for(flavour, store.clone(), &fake.base_url(), true).await;
            fake.push_fault(Fault::Status {
                status: 409,
                code: Some("session_not_connected"),
                retry_after: None,
            });
            let a = no_hang(send(&state, reset("refused-1"))).await;
            assert_error(&a, 503, "DEVICE_NOT_READY");
            assert!(!outcome_unknown(&a));
            let b = no_hang(send(&state, reset("refused-1"))).await;
            assert_eq!(b.status, 200, "{name}: {}", b.body);
            assert!(!replayed(&b), "{name}");
            assert_eq!(fake.calls().len(), 2);
            let statuses: Vec<u16> = audit(store.as_ref())
                .await
                .iter()
                .map(|r| r.status)
                .collect();
            assert_eq!(statuses, vec![503, 200], "{name}");
        }
    }
}

#[tokio::test]
async fn a_slow_engine_is_cut_at_the_request_deadline_and_kept() {
    for (name, store) in stores("a_slow_engine").await {
        let fake = WutsFake::start().await;
        seed(store.as_ref(), &fake.base_url()).await;
        // The engine's own timeout is long; the request's deadline is what
        // ends the call, leaving time to audit and store the answer.
        // (4 s: connect tries of 1 s; the engine window is 3.5 s less the
        // 2 s kept for the audit and the key.)
        let mut state = AppState::new(
            store.clone(),
            http_engine(true, Duration::from_secs(4)),
            Duration::from_secs(30),
        );
        state.settings.request_deadline = Duration::from_millis(3_500);
        fake.push_fault(Fault::Delay(Duration::from_secs(8)));
        let a = no_hang(send(&state, reset("slow-1"))).await;
        assert_error(&a, 504, "UPSTREAM_TIMEOUT");
        assert!(outcome_unknown(&a), "{name}: {}", a.body);
        let b = no_hang(send(&state, reset("slow-1"))).await;
        assert!(replayed(&b), "{name}: the timeout was stored: {}", b.body);
        assert_eq!(b.body, a.body);
        assert_eq!(fake.calls().len(), 1, "{name}");
        let records = audit(store.as_ref()).await;
        assert_eq!(records.len(), 1, "{name}");
        assert_eq!(records[0].status, 504);
        assert_eq!(records[0].error_code.as_deref(), Some("UPSTREAM_TIMEOUT"));
    }
}

/// A DynamoDB endpoint that accepts connections and never answers.
async fn hanging_dynamodb() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_hanging_dynamodb_ends_at_the_deadline_before_the_engine() {
    let fake = WutsFake::start().await;
    let store = Arc::new(DynamoStore::new(
        moto::client_for(&hanging_dynamodb().await),
        moto::unique_tables(),
    ));
    let mut state = AppState::new(store, http_wuts(), Duration::from_secs(30));
    state.settings.request_deadline = Duration::from_millis(1_500);
    let a = no_hang(send(&state, reset("hang-1"))).await;
    assert_error(&a, 503, "SERVICE_UNAVAILABLE");
    assert!(fake.calls().is_empty(), "nothing was sent");
}

/// A store whose chosen operations never return (a table that hangs), over
/// the memory store.
struct Hanging {
    inner: MemoryStore,
    claim: AtomicBool,
    complete: AtomicBool,
    audit: AtomicBool,
}

impl Hanging {
    fn new() -> Self {
        Self {
            inner: MemoryStore::new(),
            claim: AtomicBool::new(false),
            complete: AtomicBool::new(false),
            audit: AtomicBool::new(false),
        }
    }
}

async fn hang_if(flag: &AtomicBool) {
    if flag.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
}

#[async_trait]
impl TokenStore for Hanging {
    async fn get_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.get_token(hash).await
    }
    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError> {
        self.inner.put_token(record).await
    }
    async fn revoke_token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.revoke_token(hash).await
    }
    async fn list_tokens(&self, tenant: &str) -> Result<Vec<TokenRecord>, StoreError> {
        self.inner.list_tokens(tenant).await
    }
}

#[async_trait]
impl TenantStore for Hanging {
    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        self.inner.get_tenant(id).await
    }
    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.inner.put_tenant(tenant).await
    }
    async fn set_tenant_status(
        &self,
        id: &str,
        status: TenantStatus,
    ) -> Result<Option<Tenant>, StoreError> {
        self.inner.set_tenant_status(id, status).await
    }
}

#[async_trait]
impl IdempotencyStore for Hanging {
    async fn claim(&self, record: &IdempotencyRecord, now: i64) -> Result<Claim, StoreError> {
        hang_if(&self.claim).await;
        self.inner.claim(record, now).await
    }
    async fn complete(
        &self,
        id: &str,
        owner: &str,
        answer: &StoredAnswer,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        hang_if(&self.complete).await;
        self.inner.complete(id, owner, answer, expires_at).await
    }
    async fn release(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        self.inner.release(id, owner).await
    }
}

#[async_trait]
impl AuditStore for Hanging {
    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        hang_if(&self.audit).await;
        self.inner.put_audit(record).await
    }
    async fn list_audit(
        &self,
        tenant: &str,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.inner.list_audit(tenant, since, limit).await
    }
}

#[async_trait]
impl shared::pacing::LaneStore for Hanging {
    async fn acquire(
        &self,
        lane: &str,
        ask: &shared::pacing::Ask,
    ) -> Result<shared::pacing::Acquired, StoreError> {
        self.inner.acquire(lane, ask).await
    }

    async fn strike(
        &self,
        lane: &str,
        class: shared::pacing::Class,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        self.inner.strike(lane, class, now_ms).await
    }

    async fn lane(
        &self,
        lane: &str,
    ) -> Result<
        std::collections::BTreeMap<shared::pacing::Class, shared::pacing::LaneState>,
        StoreError,
    > {
        self.inner.lane(lane).await
    }
}

testkit::delegate_job_store!(Hanging, inner);
testkit::delegate_event_store!(Hanging, inner);

#[tokio::test]
async fn a_table_that_hangs_around_the_engine_call_still_ends_by_the_deadline() {
    let fake = WutsFake::start().await;
    let store = Arc::new(Hanging::new());
    seed(store.as_ref(), &fake.base_url()).await;
    let mut state = AppState::new(store.clone(), http_wuts(), Duration::from_secs(30));
    state.settings.request_deadline = Duration::from_millis(3_000);

    // The claim hangs: 503 at the deadline, nothing sent.
    store.claim.store(true, Ordering::SeqCst);
    let a = no_hang(send(&state, reset("hang-claim"))).await;
    assert_error(&a, 503, "SERVICE_UNAVAILABLE");
    assert!(fake.calls().is_empty());
    store.claim.store(false, Ordering::SeqCst);

    // The audit and the completion hang after the engine call: the caller
    // still gets the engine's answer by the deadline. The key stays held
    // (never completed), so the retry is refused, not sent again.
    store.complete.store(true, Ordering::SeqCst);
    store.audit.store(true, Ordering::SeqCst);
    let a = no_hang(send(&state, reset("hang-after"))).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body["invite_link"].as_str().is_some());
    let b = no_hang(send(&state, reset("hang-after"))).await;
    assert_error(&b, 409, "IDEMPOTENCY_IN_PROGRESS");
    assert_eq!(fake.calls().len(), 1, "the engine was called once");
    assert!(
        store
            .inner
            .list_audit("acme", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_caller_that_goes_away_mid_call_cancels_nothing() {
    for (name, store) in stores("a_caller_that_goes_away").await {
        let fake = WutsFake::start().await;
        let state = Arc::new(state_on(store.clone(), &fake.base_url(), true).await);
        fake.push_fault(Fault::Delay(Duration::from_millis(700)));
        // The caller waits until the engine has the call, then hangs up
        // (drops the future), as local-api's server does when the client
        // disconnects.
        let call = shared::serve_detached(state.clone(), reset("gone-1"));
        tokio::select! {
            _ = call => panic!("{name}: answered before the engine was called"),
            _ = until(|| !fake.calls().is_empty()) => {}
        }
        // The request finishes on its own: audited and completed.
        no_hang(until_async(|| {
            let store = store.clone();
            async move { audit(store.as_ref()).await.len() == 1 }
        }))
        .await;
        let again = no_hang(send(&state, reset("gone-1"))).await;
        assert_eq!(again.status, 200, "{name}: {}", again.body);
        assert!(replayed(&again), "{name}: the key was completed");
        assert_eq!(fake.calls().len(), 1, "{name}: never sent twice");
    }
}

async fn until(done: impl Fn() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn until_async<F: Future<Output = bool>>(done: impl Fn() -> F) {
    while !done().await {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A reply of 50 participants, each refused by privacy settings with an
/// `add_request` code of `code(i)`.
fn big_reply(code: impl Fn(usize) -> String) -> (String, String) {
    let jids: Vec<String> = (0..50)
        .map(|i| format!("55119000000{i:02}@s.whatsapp.net"))
        .collect();
    let reply = json!({
        "participants": jids.iter().enumerate().map(|(i, jid)| json!({
            "jid": jid,
            "phone_number": jid,
            "error": 403,
            "add_request": {"code": code(i), "expiration": 1_900_000_000},
        })).collect::<Vec<_>>()
    });
    let body = json!({ "participants": jids }).to_string();
    (reply.to_string(), body)
}

/// Pseudo-random base64 text: what deflate cannot shrink much.
fn noise(seed: usize, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x = (seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % 64) as usize] as char
        })
        .collect()
}

#[tokio::test]
async fn answers_too_large_for_one_item_are_stored_and_replayed() {
    for (name, store) in stores("answers_too_large").await {
        let fake = WutsFake::start().await;
        let state = state_on(store.clone(), &fake.base_url(), true).await;
        let add = |key: &str, body: &str| {
            events::load("add-group-participants.json")
                .with_header("idempotency-key", key)
                .with_body(body)
        };

        // Large but repetitive: stored deflated, replayed byte for byte.
        let (reply, body) = big_reply(|_| "A".repeat(12_000));
        fake.push_fault(Fault::Raw200(reply));
        let a = no_hang(send(&state, add("big-1", &body))).await;
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        assert!(a.body.to_string().len() > 500_000);
        let b = no_hang(send(&state, add("big-1", &body))).await;
        assert!(replayed(&b), "{name}: {}", b.body);
        assert_eq!(b.body, a.body, "{name}: replayed whole");

        // Large and random: compacted, the outcomes kept, the codes dropped.
        let (reply, body) = big_reply(|i| noise(i, 12_000));
        fake.push_fault(Fault::Raw200(reply));
        let a = no_hang(send(&state, add("big-2", &body))).await;
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        let b = no_hang(send(&state, add("big-2", &body))).await;
        assert!(replayed(&b), "{name}: {}", b.body);
        assert_eq!(b.status, 200);
        assert_eq!(b.body["stored_answer"], "compacted", "{name}");
        assert_eq!(b.body["request_id"], a.body["request_id"]);
        let entries = b.body["participants"].as_array().unwrap();
        assert_eq!(entries.len(), 50);
        for (got, original) in entries
            .iter()
            .zip(a.body["participants"].as_array().unwrap())
        {
            assert_eq!(got["jid"], original["jid"]);
            assert_eq!(got["status"], "failed");
            assert_eq!(got["error"]["reason"], "privacy_restricted");
            assert_eq!(got["error"]["add_request"]["code"], Value::Null);
        }
        assert_eq!(fake.calls().len(), 2, "{name}: each add sent once");
    }
}
