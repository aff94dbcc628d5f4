//! The in-process harness shared by the handler and failure tests: a seeded
//! store, the WUTS fake, an `AppState`, and helpers to send events and check
//! the envelope.

use crate::sim::Simulator;
use std::sync::Arc;
use std::time::Duration;

use crate::memory::MemoryStore;
use lambda_http::{Body, Request};
use serde_json::Value;
use shared::auth::hash_token;
use shared::config::EngineConfig;
use shared::engine::transport::HttpEngine;
use shared::store::{
    Store, Tenant, TenantStatus, TenantStore, TokenRecord, TokenStatus, TokenStore,
};
use shared::{AppState, Operation, serve, serve_operation};

use crate::fakes::Flavour;
use crate::wuts_fake::{API_KEY, SESSION_ID, WutsFake};

/// The token in every event file.
pub const TOKEN: &str = "8c0a4a5e-3f1b-4c2d-9e7f-1a2b3c4d5e6f";
/// Generous, so a loaded CI machine does not turn slow answers into 504s.
pub const UPSTREAM_DEADLINE: Duration = Duration::from_millis(1500);

pub struct Harness {
    pub state: Arc<AppState>,
    pub store: Arc<MemoryStore>,
    pub fake: WutsFake,
}

pub fn tenant(base_url: &str) -> Tenant {
    Tenant {
        tenant_id: "acme".into(),
        status: TenantStatus::Active,
        name: Some("Acme".into()),
        engine: shared::engine::EngineKind::SessionService,
        wuts_base_url: Some(base_url.into()),
        wuts_session_id: SESSION_ID.into(),
        wuts_api_key: API_KEY.into(),
        // The behaviour tests send what they like; the pacing tests turn it on.
        pacing: shared::pacing::Pacing::off(),
    }
}

pub fn token_record(token: &str, tenant_id: &str) -> TokenRecord {
    TokenRecord {
        token_hash: hash_token(token),
        token_id: format!("tok-{}", &token[..8]),
        scopes: None,
        tenant_id: tenant_id.into(),
        user_id: "alice".into(),
        status: TokenStatus::Active,
        expires_at: None,
        created_at: 1,
    }
}

/// The test tenant on `flavour`'s engine.
pub fn tenant_for(flavour: Flavour, base_url: &str) -> Tenant {
    Tenant {
        engine: flavour.engine(),
        wuts_session_id: flavour.session().into(),
        ..tenant(base_url)
    }
}

/// A harness whose tenant runs `flavour`'s engine, against its fake.
pub async fn harness_for(flavour: Flavour) -> Harness {
    harness_for_with_ttl(flavour, Duration::from_secs(30)).await
}

pub async fn harness_for_with_ttl(flavour: Flavour, ttl: Duration) -> Harness {
    harness_for_sim(flavour, Simulator::demo(), ttl).await
}

/// A harness whose tenant runs `flavour`'s engine over `sim`.
pub async fn harness_for_sim(flavour: Flavour, sim: Simulator, ttl: Duration) -> Harness {
    let fake = WutsFake::start_engine_with(flavour, sim).await;
    let store = Arc::new(MemoryStore::new());
    let tenant = tenant_for(flavour, &fake.base_url());
    store.put_tenant(&tenant).await.unwrap();
    store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
    seed_sample_job(store.as_ref(), &tenant).await;
    let state = crate::memory::holding(AppState::new(store.clone(), http_wuts(), ttl));
    Harness { state, store, fake }
}

/// Another state over `h`'s store, with its own token-cache TTL.
pub fn harness_on(h: &Harness, ttl: Duration) -> AppState {
    AppState::new(h.store.clone(), http_wuts(), ttl)
}

pub async fn seed(store: &dyn Store, base_url: &str) {
    store.put_tenant(&tenant(base_url)).await.unwrap();
    store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
    seed_sample_job(store, &tenant(base_url)).await;
}

/// The job the sample events name, for `tenant` (so they answer 2xx).
pub async fn seed_sample_job(store: &dyn Store, tenant: &Tenant) {
    let lane = shared::pacing::lane_id(&tenant.tenant_id, &tenant.wuts_session_id);
    shared::provision::seed_sample_job(store, &tenant.tenant_id, &lane, crate::sim::DEMO_GROUP)
        .await
        .unwrap();
}

pub fn http_wuts() -> Arc<HttpEngine> {
    http_engine(true, UPSTREAM_DEADLINE)
}

/// The reqwest engine client with its own http policy and deadline.
pub fn http_engine(allow_http: bool, timeout: Duration) -> Arc<HttpEngine> {
    Arc::new(
        HttpEngine::new(EngineConfig {
            default_base_url: None,
            timeout,
            allow_http,
            ca_bundle: None,
        })
        .unwrap(),
    )
}

pub async fn harness_with_ttl(ttl: Duration) -> Harness {
    let fake = WutsFake::start().await;
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), &fake.base_url()).await;
    let state = crate::memory::holding(AppState::new(store.clone(), http_wuts(), ttl));
    Harness { state, store, fake }
}

pub async fn harness() -> Harness {
    harness_with_ttl(Duration::from_secs(30)).await
}

pub struct Answer {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

/// Through the whole route table, as `local-api` serves it.
pub async fn send(state: &AppState, req: Request) -> Answer {
    answer(serve(state, req).await)
}

/// Through one operation's pipeline, as its Lambda binary serves it.
pub async fn send_to<Op: Operation>(state: &AppState, req: Request) -> Answer {
    answer(serve_operation::<Op, _, _>(state, req).await)
}

pub fn answer(resp: lambda_http::Response<Body>) -> Answer {
    let text = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8(b.clone()).unwrap(),
        Body::Empty => String::new(),
        _ => panic!("unexpected body"),
    };
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}")),
    }
}

impl Harness {
    pub async fn send(&self, req: Request) -> Answer {
        send(&self.state, req).await
    }
}

/// `function`'s event with `method`, `path` and `body` in place of its own.
pub fn request(function: &str, method: &str, path: &str, body: Option<Value>) -> Request {
    use crate::events::RequestEdit;
    let req = crate::events::load(&format!("{function}.json"))
        .with_method(method)
        .with_path(path);
    match body {
        Some(b) => req.with_body(&b.to_string()),
        None => req.with_body(""),
    }
}

pub fn assert_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["success"], false);
    assert_eq!(a.body["error_code"], code, "{}", a.body);
    assert!(a.body["error"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        a.body["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(a.headers["content-type"], "application/json");
    assert_eq!(
        a.headers["x-request-id"].to_str().unwrap(),
        a.body["request_id"].as_str().unwrap()
    );
}

/// A second tenant with its own token, on the same WUTS.
pub const OTHER_TOKEN: &str = "5c0a4a5e-3f1b-4c2d-9e7f-1a2b3c4d5e6f";

pub async fn seed_other_tenant(store: &dyn Store, base_url: &str) {
    let mut other = tenant(base_url);
    other.tenant_id = "globex".into();
    store.put_tenant(&other).await.unwrap();
    store
        .put_token(&token_record(OTHER_TOKEN, "globex"))
        .await
        .unwrap();
}
