//! Issue 22: the real Evolution API 2.3.7 (its router, `apikey` guard,
//! JSON-schema validation and session layer), run by `scripts/evolution.sh`
//! with an instance that never connects (there is no WhatsApp here), checks
//! every request the Evolution adapter sends, through the product's own
//! pipeline (an evolution tenant on DynamoDB on moto, the handler as the
//! Lambda and `local-api` run it).
//!
//! Between the adapter and Evolution sits a recording proxy on loopback: it
//! counts what reached Evolution and records each exchange (no keys).
//! `EVOLUTION_RECORD=1` writes them to `tests/fixtures/evolution-2.3.7/`
//! (re-recording is one command: `EVOLUTION_RECORD=1 scripts/evolution.sh
//! run -- cargo test -p integration-tests --test engine_outcomes
//! real_evolution`); `the_evolution_fake_answers_what_evolution_answered`
//! replays them against the Evolution fake the rest of the suite uses.
//!
//! Evolution API is by Evolution Foundation (Apache 2.0 with conditions;
//! `docs/ENGINES.md`). Skipped, with one line, when `EVOLUTION_URL` is not
//! set (the test command sets it).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use shared::AppState;
use shared::engine::EngineKind;
use shared::operations::ROUTES;
use shared::store::{Store, Tenant, TenantStatus};
use testkit::events::{self, RequestEdit};
use testkit::fakes::{ENGINE_SESSION, Flavour};
use testkit::harness::*;
use testkit::moto;
use testkit::sim::Simulator;
use testkit::wuts_fake::{API_KEY, WutsFake};

/// One request our adapter sent and Evolution's answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Exchange {
    /// What the test was doing (the fixture's file name).
    pub name: String,
    /// `never-connected`, `wrong-key` or `unknown-instance`.
    pub situation: String,
    pub method: String,
    pub path: String,
    pub query: String,
    /// The JSON body sent, if any.
    pub body: Option<Value>,
    pub status: u16,
    pub content_type: Option<String>,
    /// Evolution's answer: JSON where it is JSON, else the text.
    pub answer: Value,
}

#[derive(Default)]
struct Recorder {
    label: Mutex<(String, String)>,
    exchanges: Mutex<Vec<Exchange>>,
}

/// A proxy on loopback that forwards every request to `upstream` and
/// records it.
async fn recording_proxy(upstream: String, recorder: Arc<Recorder>) -> String {
    use axum::body::to_bytes;
    use axum::extract::Request;
    use axum::response::IntoResponse;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let app = axum::Router::new().fallback(move |req: Request| {
        let client = client.clone();
        let upstream = upstream.clone();
        let recorder = recorder.clone();
        async move {
            let method = req.method().clone();
            let path = req.uri().path().to_string();
            let query = req.uri().query().unwrap_or("").to_string();
            let headers = req.headers().clone();
            let body = to_bytes(req.into_body(), 8 << 20).await.unwrap();
            let url = if query.is_empty() {
                format!("{upstream}{path}")
            } else {
                format!("{upstream}{path}?{query}")
            };
            let mut out = client.request(method.clone(), url).body(body.clone());
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    out = out.header(name, value);
                }
            }
            let response = out.send().await.unwrap();
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let answer_bytes = response.bytes().await.unwrap();
            let (name, situation) = recorder.label.lock().unwrap().clone();
            recorder.exchanges.lock().unwrap().push(Exchange {
                name,
                situation,
                method: method.to_string(),
                path,
                query,
                body: serde_json::from_slice(&body).ok(),
                status: status.as_u16(),
                content_type: content_type.clone(),
                answer: serde_json::from_slice(&answer_bytes).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(&answer_bytes).into_owned())
                }),
            });
            let mut resp = (status, answer_bytes).into_response();
            if let Some(ct) = content_type {
                resp.headers_mut()
                    .insert("content-type", ct.parse().unwrap());
            }
            resp
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/evolution-2.3.7")
}

fn evolution_tenant(id: &str, url: &str, instance: &str, key: &str) -> Tenant {
    Tenant {
        tenant_id: id.into(),
        status: TenantStatus::Active,
        name: None,
        engine: EngineKind::Evolution,
        wuts_base_url: Some(url.into()),
        wuts_session_id: instance.into(),
        wuts_api_key: key.into(),
        pacing: shared::pacing::Pacing::off(),
    }
}

/// The request of `function`'s event.
fn event(function: &str) -> lambda_http::Request {
    events::load(&format!("{function}.json"))
}

/// `function`'s event with another body.
fn with_body(function: &str, body: Value) -> lambda_http::Request {
    event(function).with_body(&body.to_string())
}

#[tokio::test]
async fn every_request_the_evolution_adapter_sends_reaches_evolutions_session_layer() {
    let Ok(upstream) = std::env::var("EVOLUTION_URL") else {
        moto::say_skipped(
            "the real Evolution API conformance test",
            "EVOLUTION_URL is not set (scripts/evolution.sh starts it; scripts/test.sh does)",
        );
        return;
    };
    let key = std::env::var("EVOLUTION_KEY").expect("EVOLUTION_KEY");
    let instance = std::env::var("EVOLUTION_INSTANCE").expect("EVOLUTION_INSTANCE");
    let recorder = Arc::new(Recorder::default());
    let proxy = recording_proxy(upstream.trim_end_matches('/').to_string(), recorder.clone()).await;
    let store: Arc<dyn Store> = match moto::moto_url() {
        Some(url) => Arc::new(crate::support::fresh_store(&url).await),
        None => Arc::new(testkit::memory::MemoryStore::new()),
    };
    // One tenant, `acme` (the events' token), whose record each case
    // replaces: the right key, a wrong key, an unknown instance.
    store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
    let state = |tenant: Tenant| {
        let store = store.clone();
        async move {
            store.put_tenant(&tenant).await.unwrap();
            AppState::new(
                store.clone(),
                http_engine(true, Duration::from_secs(10)),
                Duration::ZERO,
            )
        }
    };
    let good = state(evolution_tenant("acme", &proxy, &instance, &key)).await;
    let label = |name: &str, situation: &str| {
        *recorder.label.lock().unwrap() = (name.to_string(), situation.to_string());
    };
    let count = || recorder.exchanges.lock().unwrap().len();

    // Every route: each supported one reaches Evolution's session layer
    // (never its schema 400, never Express's `Cannot POST`) and answers 503
    // DEVICE_NOT_READY against the never-connected instance; the others are
    // 501 with no call. (A route without an engine call has nothing to send.)
    let flavour = Flavour::Evolution;
    for route in ROUTES.iter().filter(|r| r.engine) {
        let before = count();
        label(route.function, "never-connected");
        let a = send(&good, event(route.function)).await;
        let sent = count() - before;
        let what = route.key();
        if route.function == "get-invite-info" {
            // `inviteInfo` swallows every failure into 404 `No invite info`
            // (the never-loaded socket's TypeError included): an invite that
            // leads nowhere, as far as Evolution says.
            assert_error(&a, 404, "NOT_FOUND");
            assert_eq!(sent, 1, "{what}: one call");
            let exchange = recorder.exchanges.lock().unwrap().last().cloned().unwrap();
            assert_eq!(exchange.status, 404, "{what}");
            assert!(
                exchange.answer.to_string().contains("No invite info"),
                "{what}"
            );
        } else if flavour.supports(route.function) {
            assert_error(&a, 503, "DEVICE_NOT_READY");
            assert_eq!(sent, 1, "{what}: one call");
            let exchange = recorder.exchanges.lock().unwrap().last().cloned().unwrap();
            let text = exchange.answer.to_string();
            assert!(
                !text.contains("Cannot POST")
                    && !text.contains("Cannot GET")
                    && !text.contains("Cannot DELETE"),
                "{what}: {text}"
            );
            assert!(
                !text.contains("\"property\""),
                "{what}: a schema refusal: {text}"
            );
            assert_ne!(exchange.status, 401, "{what}: {text}");
        } else {
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert_eq!(sent, 0, "{what}: nothing sent");
        }
    }

    // The member-add mode: Evolution 2.4.0's route; 2.3.7 has none (501).
    let before = count();
    label("update-group-member-add-mode", "never-connected");
    let a = send(
        &good,
        with_body("update-group", json!({"member_add_mode": "admin"})),
    )
    .await;
    assert_error(&a, 501, "NOT_SUPPORTED");
    assert_eq!(count() - before, 1);

    // Each property of a PATCH, one call each.
    for (name, body) in [
        ("update-group-topic", json!({"topic": "About us"})),
        ("update-group-announcement", json!({"announcement": true})),
        ("update-group-locked", json!({"locked": false})),
    ] {
        let before = count();
        label(name, "never-connected");
        let a = send(&good, with_body("update-group", body)).await;
        assert_error(&a, 503, "DEVICE_NOT_READY");
        assert_eq!(count() - before, 1, "{name}");
    }
    for (name, action) in [
        ("participants-promote", "promote"),
        ("participants-demote", "demote"),
        ("participants-remove", "remove"),
    ] {
        let before = count();
        label(name, "never-connected");
        let a = send(
            &good,
            with_body(
                "add-group-participants",
                json!({"participants": ["+55 11 98888-7777", "123456789012345@lid"], "action": action}),
            ),
        )
        .await;
        assert_error(&a, 503, "DEVICE_NOT_READY");
        assert_eq!(count() - before, 1, "{name}");
    }

    // A wrong key: Evolution's guard refuses it (a configuration fault).
    let wrong = state(evolution_tenant("acme", &proxy, &instance, "not-the-key")).await;
    let before = count();
    label("wrong-key", "wrong-key");
    let a = send(&wrong, event("get-group-invite-link")).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");
    assert_eq!(count() - before, 1);
    assert_eq!(
        recorder.exchanges.lock().unwrap().last().unwrap().status,
        401
    );

    // An unknown instance: 503, the device is not there.
    let ghost = state(evolution_tenant("acme", &proxy, "ghost-instance", &key)).await;
    let before = count();
    label("unknown-instance", "unknown-instance");
    let a = send(&ghost, event("get-group-invite-link")).await;
    assert_error(&a, 503, "DEVICE_NOT_READY");
    assert_eq!(count() - before, 1);
    assert_eq!(
        recorder.exchanges.lock().unwrap().last().unwrap().status,
        404
    );

    // Bad input is ours to refuse: Evolution never sees a request we know
    // it would refuse.
    let good = state(evolution_tenant("acme", &proxy, &instance, &key)).await;
    let before = count();
    label("must-not-be-sent", "never-connected");
    let bad: Vec<(&str, lambda_http::Request)> = vec![
        (
            "a participant Evolution's pattern refuses",
            with_body("add-group-participants", json!({"participants": ["abc"]})),
        ),
        (
            "a number too long",
            with_body(
                "add-group-participants",
                json!({"participants": ["1234567890123456"]}),
            ),
        ),
        (
            "a groupJid it cannot read",
            event("get-group-invite-link").with_path("/groups/not-a-group@g.us/invite"),
        ),
        (
            "an invite code not of 22 characters",
            with_body(
                "join-group",
                json!({"link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUvWxY"}),
            ),
        ),
        (
            "an empty subject",
            with_body("update-group", json!({"name": "   "})),
        ),
        (
            "an unknown field",
            with_body(
                "create-group",
                json!({"name": "x", "participants": ["5511988887777"], "subject": "y"}),
            ),
        ),
        (
            "a duplicate key",
            event("add-group-participants").with_body(
                r#"{"participants":["5511988887777"],"action":"add","action":"remove"}"#,
            ),
        ),
        (
            "a picture that is not a JPEG",
            with_body("set-group-picture", json!({"image_base64": "aGVsbG8="})),
        ),
    ];
    for (what, req) in bad {
        let a = send(&good, req).await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        assert_eq!(count(), before, "{what} reached Evolution");
    }
    let recorded_before_raw = count();
    if let Ok(log) = std::env::var("EVOLUTION_LOG") {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        // scripts/evolution.sh logs every request Evolution receives.
        assert!(text.contains("[access]"), "the access log is on");
        assert!(
            !text.contains("not-a-group") && !text.contains("AbCdEfGhIjKlMnOpQrStUvWxY"),
            "Evolution's log names a request we refused"
        );
    }

    // Evolution's own refusals, sent straight through the proxy (not by
    // our adapter, which never sends them): the schema's 400 naming a
    // property, and the missing `groupJid`. Recorded so the fake's answers
    // to them are checked too.
    let http = reqwest::Client::new();
    for (name, path, body) in [
        (
            "schema-refusal",
            format!("/group/updateParticipant/{instance}?groupJid=120363039000000000@g.us"),
            json!({"action": "add"}),
        ),
        (
            "no-group-jid",
            format!("/group/updateParticipant/{instance}"),
            json!({"action": "add", "participants": ["5511988887777"]}),
        ),
    ] {
        label(name, "never-connected");
        let resp = http
            .post(format!("{proxy}{path}"))
            .header("apikey", &key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{name}");
    }
    let schema = recorder.exchanges.lock().unwrap()[recorded_before_raw..].to_vec();
    assert!(
        schema[0].answer.to_string().contains("\"property\""),
        "{}",
        schema[0].answer
    );

    if std::env::var("EVOLUTION_RECORD").is_ok_and(|v| v == "1") {
        let dir = fixtures_dir();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let exchanges = recorder.exchanges.lock().unwrap().clone();
        for x in &exchanges {
            let file = dir.join(format!("{}.json", x.name));
            let mut x = x.clone();
            // The instance as the fake knows it.
            x.path = x.path.replace(&instance, ENGINE_SESSION);
            std::fs::write(file, serde_json::to_string_pretty(&x).unwrap() + "\n").unwrap();
        }
        eprintln!(
            "recorded {} exchanges in {}",
            exchanges.len(),
            dir.display()
        );
    }
    let recorded = recorder.exchanges.lock().unwrap().len();
    assert!(recorded >= 15, "{recorded}");
}

/// The Evolution fake (the rest of the suite's Evolution) answers each
/// recorded request as the real server did, in the same situation.
#[tokio::test]
async fn the_evolution_fake_answers_what_evolution_answered() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures/evolution-2.3.7 exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{} fixtures", files.len());
    let client = reqwest::Client::new();
    for file in files {
        let x: Exchange = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let sim = Simulator::demo();
        sim.set_connected(false);
        let fake = WutsFake::start_engine_with(Flavour::Evolution, sim).await;
        let key = if x.situation == "wrong-key" {
            "not-the-key"
        } else {
            API_KEY
        };
        let url = if x.query.is_empty() {
            format!("{}{}", fake.base_url(), x.path)
        } else {
            format!("{}{}?{}", fake.base_url(), x.path, x.query)
        };
        let mut req = client
            .request(x.method.parse().unwrap(), url)
            .header("apikey", key);
        if let Some(body) = &x.body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(status, x.status, "{name}: {answer}");
        assert_eq!(answer, x.answer, "{name}");
    }
}
