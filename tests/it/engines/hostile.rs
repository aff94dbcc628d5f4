//! Issue 21: hostile engines and hostile bodies. An engine behind each
//! engine kind that answers what it should not (a proxy's HTML page on a
//! 2xx, an empty 2xx, out-of-range dates, texts that are raised before and
//! after a request leaves, slow answers, huge lists), and bodies that read
//! differently to different parsers. Each test fails without its fix: a
//! retry never makes a change twice, no answer claims a change that did not
//! happen, nothing grows without bound. (A module of the `engine_outcomes`
//! test binary: one link of the AWS SDK fewer.)

use shared::engine::{AnyCall, AnyReply};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use testkit::events::{self, RequestEdit};
use testkit::fakes::Flavour;
use testkit::harness::*;

use super::outcomes::{audit, outcome_unknown, replayed, state_for};
use crate::support::stores;
use lambda_http::Request;
use serde_json::{Value, json};
use shared::AppState;
use shared::engine::groups::Group;
use shared::engine::{CallMeta, Engine, EngineError, EngineKind, EngineTarget};
use shared::operations::ROUTES;
use shared::store::Store;
use testkit::sim::{DEMO_GROUP, DEMO_MEMBERS, SimGroup, Simulator};
use testkit::wuts_fake::{Fault, WutsFake};

async fn audit_count(store: &dyn Store) -> usize {
    audit(store).await.len()
}

const CREATED_JID: &str = "120363012000000000@g.us";

/// Each engine's create reply, its creation time out of range.
fn create_reply_with_a_date_out_of_range(f: Flavour) -> Option<(u16, Value)> {
    let member = "5511999999999@s.whatsapp.net";
    Some(match f {
        Flavour::SessionService => return None,
        Flavour::Wuts => (
            201,
            json!({"success": true, "group": {"jid": CREATED_JID, "name": "G",
                   "created_at": "9999-12-31T23:59:59-23:59",
                   "participants": [{"jid": member}]}}),
        ),
        Flavour::Evolution | Flavour::WahaNoweb => (
            201,
            json!({"id": CREATED_JID, "subject": "G", "creation": 99_999_999_999_999_i64,
                   "size": -3, "participants": [{"id": member, "admin": null}]}),
        ),
        Flavour::WahaGows => (
            201,
            json!({"JID": CREATED_JID, "GroupCreated": "9999-12-31T23:59:59-23:59",
                   "ParticipantCount": 18_446_744_073_709_551_615_u64}),
        ),
        Flavour::WahaWebjs => (
            201,
            json!({"title": "G", "gid": {"_serialized": CREATED_JID},
                   "participants": {"5511999999999@c.us": {"statusCode": 200}}}),
        ),
    })
}

/// Item 1: the reply that panicked (`to_offset` on a date whose UTC form is
/// in year 10000) is read, its date absent; the key keeps the answer, so a
/// retry replays it and the engine is called once.
#[tokio::test]
async fn a_create_with_a_date_out_of_range_is_read_and_never_made_twice() {
    for f in Flavour::ALL {
        let Some((status, body)) = create_reply_with_a_date_out_of_range(f) else {
            continue;
        };
        for (store_name, store) in stores("hostile_dates").await {
            let fake = WutsFake::start_engine(f).await;
            let state = state_for(f, store.clone(), &fake.base_url(), true).await;
            fake.push_fault(Fault::Raw {
                status,
                content_type: "application/json",
                body: body.to_string().into_bytes(),
            });
            let create =
                || events::load("create-group.json").with_header("idempotency-key", "date-create");
            let a = send(&state, create()).await;
            let name = format!("{store_name}/{}", f.name());
            assert_eq!(a.status, 201, "{name}: {}", a.body);
            assert_eq!(a.body["group"]["jid"], CREATED_JID, "{name}");
            assert!(a.body["group"]["created_at"].is_null(), "{name}");
            let b = send(&state, create()).await;
            assert!(replayed(&b), "{name}: {}", b.body);
            assert_eq!(fake.calls().len(), 1, "{name}: one create");
            assert_eq!(audit_count(store.as_ref()).await, 1, "{name}");
        }
    }
}

/// An engine whose reply reader panics, after or before the request was
/// handed to its transport.
struct PanickingEngine {
    handed_over_first: bool,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl Engine for PanickingEngine {
    async fn call(
        &self,
        _: &EngineTarget,
        _: AnyCall,
        meta: CallMeta,
    ) -> Result<AnyReply, EngineError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.handed_over_first {
            meta.handed_over.mark();
        }
        panic!("a reader bug");
    }
}

/// Item 1, the rule: a panic after the request was handed to the transport
/// may have reached the engine: 502 with `outcome: unknown`, audited,
/// stored under the key (the retry replays it). Before the hand-over:
/// 500, nothing audited, the key released.
#[tokio::test]
async fn a_panic_after_the_hand_over_is_an_unknown_outcome_kept_under_the_key() {
    for (store_name, store) in stores("hostile_panic").await {
        store
            .put_tenant(&tenant("https://engine.example"))
            .await
            .unwrap();
        store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
        for handed_over in [true, false] {
            let engine = Arc::new(PanickingEngine {
                handed_over_first: handed_over,
                calls: Default::default(),
            });
            let state = AppState::new(store.clone(), engine.clone(), Duration::from_secs(30));
            let key = format!("panic-{handed_over}");
            let reset = || {
                events::load("reset-group-invite-link.json").with_header("idempotency-key", &key)
            };
            let before = audit_count(store.as_ref()).await;
            let a = send(&state, reset()).await;
            let b = send(&state, reset()).await;
            let calls = engine.calls.load(std::sync::atomic::Ordering::SeqCst);
            let audited = audit_count(store.as_ref()).await - before;
            if handed_over {
                assert_error(&a, 502, "UPSTREAM_ERROR");
                assert!(outcome_unknown(&a), "{store_name}: {}", a.body);
                assert!(replayed(&b), "{store_name}: the key keeps it");
                assert_eq!(calls, 1, "{store_name}: never sent again");
                assert_eq!(audited, 1, "{store_name}");
            } else {
                assert_error(&a, 500, "INTERNAL_ERROR");
                assert!(!outcome_unknown(&a));
                assert!(!replayed(&b), "{store_name}: the key was released");
                assert_eq!(calls, 2, "{store_name}");
                assert_eq!(audited, 0, "{store_name}");
            }
        }
    }
}

/// Item 2: texts an engine raises before and also after a request leaves
/// (Baileys' "Connection Closed", a 5xx) keep the key: the retry replays,
/// the engine is called once. Evolution's 400 `["Error: Connection Closed"]`
/// on a create is the issue's case.
#[tokio::test]
async fn ambiguous_engine_failures_keep_the_key() {
    for f in Flavour::ALL {
        for (store_name, store) in stores("hostile_ambiguous").await {
            let name = format!("{store_name}/{}", f.name());
            let fake = WutsFake::start_engine(f).await;
            let state = state_for(f, store.clone(), &fake.base_url(), true).await;
            fake.push_fault(Fault::Status {
                status: 500,
                code: Some("connection_closed"),
                retry_after: None,
            });
            let reset = || {
                events::load("reset-group-invite-link.json")
                    .with_header("idempotency-key", "ambiguous")
            };
            let a = send(&state, reset()).await;
            assert!(a.status >= 500, "{name}: {}", a.body);
            assert!(outcome_unknown(&a), "{name}: {}", a.body);
            let b = send(&state, reset()).await;
            assert!(replayed(&b), "{name}: {}", b.body);
            assert_eq!(fake.calls().len(), 1, "{name}");
            assert_eq!(audit_count(store.as_ref()).await, 1, "{name}");
        }
    }
    let fake = WutsFake::start_engine(Flavour::Evolution).await;
    let store: Arc<dyn Store> = Arc::new(testkit::memory::MemoryStore::new());
    let state = state_for(Flavour::Evolution, store, &fake.base_url(), true).await;
    fake.push_fault(Fault::Raw {
        status: 400,
        content_type: "application/json",
        body: json!({"status": 400, "error": "Bad Request",
                     "response": {"message": ["Error: Connection Closed"]}})
        .to_string()
        .into_bytes(),
    });
    let create = || events::load("create-group.json").with_header("idempotency-key", "evo-cc");
    let a = send(&state, create()).await;
    assert_error(&a, 503, "DEVICE_NOT_READY");
    assert!(outcome_unknown(&a), "{}", a.body);
    let b = send(&state, create()).await;
    assert!(replayed(&b), "{}", b.body);
    assert_eq!(fake.calls().len(), 1, "never created twice");
}

/// The routes whose success carries no data, with their requests.
fn done_routes() -> Vec<(&'static str, Request)> {
    let jpeg = {
        let mut image = vec![0xFF, 0xD8, 0xFF, 0xE0];
        image.resize(64, 0x42);
        image
    };
    use base64::Engine as _;
    let picture = json!({"image_base64": base64::engine::general_purpose::STANDARD.encode(jpeg)});
    vec![
        ("leave-group", events::load("leave-group.json")),
        (
            "set-group-picture",
            events::load("set-group-picture.json").with_body(&picture.to_string()),
        ),
        (
            "update-group",
            request(
                "update-group",
                "PATCH",
                &format!("/groups/{DEMO_GROUP}"),
                Some(json!({"name": "Renamed", "announcement": true})),
            ),
        ),
    ]
}

/// Item 3: a 2xx that is not the engine's documented reply (a proxy's HTML
/// login page; an empty body where the engine always answers JSON) is a
/// 502 whose outcome is unknown, kept under the key; `applied` never names
/// a step whose reply did not parse.
#[tokio::test]
async fn a_2xx_that_is_not_the_documented_reply_is_never_a_success() {
    let mut checked = 0;
    for f in Flavour::ALL {
        for (i, (function, req)) in done_routes().into_iter().enumerate() {
            if !f.supports(function) {
                continue;
            }
            let bodies: Vec<(&str, &[u8])> =
                if f.engine() == EngineKind::Waha && function != "set-group-picture" {
                    // WAHA's documented answer to these is an empty body.
                    vec![("text/html", b"<html>login</html>")]
                } else {
                    vec![
                        ("text/html", b"<html>login</html>"),
                        ("application/json", b""),
                    ]
                };
            // On an engine with one call per property, the hostile answer
            // is the second call's: the first is applied, the second not.
            let multi_call = function == "update-group" && f.engine() != EngineKind::Wuts;
            for (j, (content_type, body)) in bodies.into_iter().enumerate() {
                let h = harness_for(f).await;
                if multi_call {
                    h.fake.push_fault(Fault::Pass);
                }
                h.fake.push_fault(Fault::Raw {
                    status: 200,
                    content_type,
                    body: body.to_vec(),
                });
                let key = format!("html-{i}-{j}");
                let req = clone_request(&req).with_header("idempotency-key", &key);
                let a = h.send(clone_request(&req)).await;
                let what = format!("{} {function} {content_type} {:?}", f.name(), body.len());
                assert_error(&a, 502, "UPSTREAM_ERROR");
                assert!(outcome_unknown(&a), "{what}: {}", a.body);
                assert_ne!(a.body["success"], true, "{what}");
                if multi_call {
                    assert_eq!(a.body["applied"], json!(["name"]), "{what}: {}", a.body);
                    assert_eq!(a.body["failed"], json!(["announcement"]), "{what}");
                } else {
                    assert!(a.body.get("applied").is_none(), "{what}: {}", a.body);
                }
                let b = h.send(req).await;
                assert!(replayed(&b), "{what}: kept under the key");
                let calls = if multi_call { 2 } else { 1 };
                assert_eq!(h.fake.calls().len(), calls, "{what}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "{checked}");
}

/// A request's copy (events are cheap to load, but edits must carry over).
fn clone_request(req: &Request) -> Request {
    let mut out = Request::new(req.body().clone());
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.headers_mut() = req.headers().clone();
    *out.extensions_mut() = req.extensions().clone();
    out
}

/// Item 4: a slow engine (one call per property: Evolution, WAHA): when the request's
/// deadline ends the run before a step is sent, that step is
/// `not_attempted`, never `failed`.
#[tokio::test]
async fn a_step_the_deadline_left_unsent_is_not_attempted() {
    for f in [
        Flavour::Evolution,
        Flavour::WahaGows,
        Flavour::WahaNoweb,
        Flavour::WahaWebjs,
    ] {
        let h = harness_for(f).await;
        let mut state = harness_on(&h, Duration::from_secs(30));
        // Each call takes 1 s; 2 s of the deadline are kept for the audit
        // and the key: the third step has no time left to be sent.
        state.settings.request_deadline = Duration::from_millis(4_300);
        for _ in 0..4 {
            h.fake
                .push_fault(Fault::Delay(Duration::from_millis(1_000)));
        }
        let a = send(
            &state,
            request(
                "update-group",
                "PATCH",
                &format!("/groups/{DEMO_GROUP}"),
                Some(json!({"name": "Slow", "topic": "t", "announcement": true, "locked": true})),
            ),
        )
        .await;
        let what = f.name();
        assert_eq!(a.headers["x-partial-update"], "true", "{what}: {}", a.body);
        assert_eq!(
            a.body["applied"],
            json!(["name", "topic"]),
            "{what}: {}",
            a.body
        );
        assert_eq!(a.body["failed"], json!([]), "{what}: nothing sent failed");
        assert_eq!(
            a.body["not_attempted"],
            json!(["announcement", "locked"]),
            "{what}"
        );
        assert_eq!(h.fake.calls().len(), 2, "{what}: two calls sent");
    }
}

/// Item 6: 10,000 groups with 1,200-character topics: every page stays
/// under Lambda's 6 MB, and the pages show every group once.
#[tokio::test]
async fn no_page_of_a_large_list_passes_lambdas_limit() {
    let sim = Simulator::new();
    let topic = "t".repeat(1_200);
    for i in 0..10_000 {
        let mut g = SimGroup::new(&DEMO_MEMBERS[..1]);
        g.topic = Some(topic.clone());
        sim.put_group(&format!("1203630{i:011}@g.us"), g);
    }
    let h = harness_for_sim(Flavour::Wuts, sim, Duration::from_secs(30)).await;
    let mut state = harness_on(&h, Duration::from_secs(30));
    state.settings.request_deadline = Duration::from_secs(60);
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let path = format!("/groups?limit=1000{cursor}");
        let resp = shared::serve(&state, events::load("list-groups.json").with_path(&path)).await;
        let len = match resp.body() {
            lambda_http::Body::Text(t) => t.len(),
            _ => panic!("a text body"),
        };
        assert!(len <= 6_000_000, "{len} bytes");
        let a = answer(resp);
        assert_eq!(a.status, 200, "{}", a.body);
        seen += a.body["count"].as_u64().unwrap();
        match a.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, 10_000);
}

/// Item 7: a body of 2 MB of distinct unknown keys, and a single key of
/// 2 MiB (the picture route takes bodies that large): at most 20 entries,
/// every echo cut to 100 characters.
#[tokio::test]
async fn validation_echoes_are_bounded() {
    let h = harness_for(Flavour::Wuts).await;
    let mut many = String::from("{");
    let mut i = 0;
    while many.len() < 2_000_000 {
        many.push_str(&format!("\"unknown_key_{i}\":1,"));
        i += 1;
    }
    many.push_str("\"x\":1}");
    let long_key = format!("{{\"{}\":1}}", "k".repeat((2 << 20) - 16));
    for body in [many, long_key] {
        let a = h
            .send(events::load("set-group-picture.json").with_body(&body))
            .await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        let entries = a.body["validation"].as_array().unwrap();
        assert!(entries.len() <= 20, "{}", entries.len());
        for e in entries {
            for key in ["field", "message", "value"] {
                if let Some(text) = e[key].as_str() {
                    assert!(text.chars().count() <= 101, "{key}: {} chars", text.len());
                }
            }
        }
        assert!(
            a.body.to_string().len() < 20_000,
            "{}",
            a.body.to_string().len()
        );
    }
    assert!(h.fake.calls().is_empty());
}

/// Item 8: a duplicate key, at any depth, is a 400 naming it, on every
/// route, before anything is sent.
#[tokio::test]
async fn a_body_with_a_duplicate_key_is_refused_on_every_route() {
    let h = harness_for(Flavour::Wuts).await;
    for route in ROUTES {
        let event = format!("{}.json", route.function);
        for (body, field) in [
            (
                r#"{"participants":["5511988887777"],"action":"promote","action":"remove"}"#,
                "action",
            ),
            (
                r#"{"options":{"locked":true,"locked":false}}"#,
                "options.locked",
            ),
        ] {
            let a = h.send(events::load(&event).with_body(body)).await;
            assert_error(&a, 400, "VALIDATION_ERROR");
            assert_eq!(a.body["validation"][0]["field"], field, "{}", route.key());
        }
    }
    assert!(h.fake.calls().is_empty(), "nothing reached the engine");
}

/// Item 9: what an engine cannot do is a 501 before the configuration is
/// looked at: a plain-http URL while http is not allowed does not turn it
/// into a 502.
#[tokio::test]
async fn not_supported_comes_before_a_configuration_fault() {
    let mut checked = 0;
    for f in Flavour::ALL {
        let fake = WutsFake::start_engine(f).await;
        let store: Arc<dyn Store> = Arc::new(testkit::memory::MemoryStore::new());
        store
            .put_tenant(&tenant_for(f, &fake.base_url()))
            .await
            .unwrap();
        store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
        let state = AppState::new(store, http_engine(false, UPSTREAM_DEADLINE), Duration::ZERO);
        for route in ROUTES.iter().filter(|r| r.engine) {
            let a = send(&state, events::load(&format!("{}.json", route.function))).await;
            if f.supports(route.function) {
                assert_error(&a, 502, "UPSTREAM_ERROR");
            } else {
                assert_error(&a, 501, "NOT_SUPPORTED");
                checked += 1;
            }
        }
        assert!(fake.calls().is_empty());
    }
    assert!(checked >= 20, "{checked}");
}

/// Items 10, 12, 13: the wire facts of the audit, on the wire.
#[tokio::test]
async fn wire_facts_from_the_engines_sources() {
    // WUTS unlink: the community in the path, the child group in the body.
    let h = harness_for(Flavour::Wuts).await;
    let a = h.send(events::load("unlink-community-group.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let call = &h.fake.calls()[0];
    assert_eq!(call.method, "DELETE");
    assert!(
        call.path
            .ends_with("/communities/120363099000000000@g.us/groups"),
        "{}",
        call.path
    );
    assert_eq!(
        serde_json::from_str::<Value>(&call.body).unwrap(),
        json!({"group_jid": "120363039000000002@g.us"})
    );

    // Evolution joins only with 22-character codes; its info and list do not
    // say whether joining needs approval.
    let h = harness_for(Flavour::Evolution).await;
    let a = h
        .send(events::load("join-group.json").with_body(
            &json!({"link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUvWxY"}).to_string(),
        ))
        .await;
    assert_error(&a, 400, "VALIDATION_ERROR");
    assert_eq!(a.body["validation"][0]["field"], "link");
    assert!(h.fake.calls().is_empty());
    let info = h
        .send(request(
            "get-group",
            "GET",
            &format!("/groups/{DEMO_GROUP}"),
            None,
        ))
        .await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert!(
        info.body["group"]["join_approval"].is_null(),
        "{}",
        info.body
    );
    let list = h.send(events::load("list-groups.json")).await;
    assert!(
        list.body["groups"][0]["join_approval"].is_null(),
        "{}",
        list.body
    );

    // WAHA: clearing the topic is refused before the first call of a PATCH.
    for f in [Flavour::WahaGows, Flavour::WahaNoweb, Flavour::WahaWebjs] {
        let h = harness_for(f).await;
        let a = h
            .send(request(
                "update-group",
                "PATCH",
                &format!("/groups/{DEMO_GROUP}"),
                Some(json!({"name": "First", "topic": ""})),
            ))
            .await;
        assert_error(&a, 501, "NOT_SUPPORTED");
        assert!(h.fake.calls().is_empty(), "{}", f.name());
    }
}

/// An engine whose group list is whatever the test gives.
struct ListOf(Vec<Group>);

#[async_trait]
impl Engine for ListOf {
    async fn call(
        &self,
        _: &EngineTarget,
        call: AnyCall,
        _: CallMeta,
    ) -> Result<AnyReply, EngineError> {
        let AnyCall::ListGroups(c) = call else {
            unreachable!("only the group list is asked of ListOf")
        };
        let mut collector = shared::engine::listing::PageCollector::new(&c.page);
        for group in &self.0 {
            collector.offer(group.clone());
        }
        Ok(AnyReply::ListGroups(collector.finish()))
    }
}

/// Item 6, the backstop: whatever an engine names (a 5 MB topic), no
/// answer passes 6,000,000 bytes; it becomes a 502 in the envelope.
#[tokio::test]
async fn no_answer_passes_six_million_bytes() {
    let store: Arc<dyn Store> = Arc::new(testkit::memory::MemoryStore::new());
    seed(store.as_ref(), "https://engine.example").await;
    let huge = Group {
        jid: "1@g.us".into(),
        topic: Some("\u{1}".repeat(1_100_000)),
        ..Group::default()
    };
    let state = AppState::new(store, Arc::new(ListOf(vec![huge])), Duration::ZERO);
    let resp = shared::serve(&state, events::load("list-groups.json")).await;
    let len = match resp.body() {
        lambda_http::Body::Text(t) => t.len(),
        _ => 0,
    };
    assert!(len <= 6_000_000, "{len}");
    let a = answer(resp);
    assert_error(&a, 502, "UPSTREAM_ERROR");
}

/// Huge replies: a group list over the 16 MiB the adapter reads is a 502
/// (nothing is parsed), on every engine that lists.
#[tokio::test]
async fn a_list_reply_over_16_mib_is_a_502() {
    let mut body = b"[".to_vec();
    while body.len() < (16 << 20) + 10 {
        body.extend_from_slice(b"0,");
    }
    body.extend_from_slice(b"0]");
    for f in Flavour::ALL {
        if !f.supports("list-groups") {
            continue;
        }
        let h = harness_for(f).await;
        h.fake.push_fault(Fault::Raw {
            status: 200,
            content_type: "application/json",
            body: body.clone(),
        });
        let a = h.send(events::load("list-groups.json")).await;
        assert_error(&a, 502, "UPSTREAM_ERROR");
        assert_eq!(h.fake.calls().len(), 1, "{}", f.name());
    }
}
