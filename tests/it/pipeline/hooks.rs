//! Engine webhooks in (`events.md`), on the memory store and on DynamoDB
//! (moto): each engine's payload to the right normalised event, each
//! engine's signature (a forged call is 401 and stores nothing), engine
//! retries deduplicated, replays past the window ignored, one tenant's hook
//! never writing another's events, and the refusals (404, 405, 400, 413).

use std::sync::Arc;

use serde_json::{Value, json};
use shared::engine::EngineKind;
use shared::events::signature::{hmac_sha256, hmac_sha512_hex, sign_standard_webhook};
use shared::events::{EventType, Hook, hook_hash};
use shared::store::Store;
use testkit::events::RequestEdit;
use testkit::harness::{Answer, answer};

use crate::support::stores;

const GROUP: &str = "120363039000000000@g.us";
const SECRET: &str = "engine-s3cret-0123456789abcdef0123";

/// A hook of `tenant` on `engine` (session `session`), with the engine's
/// signing secret or none; its clear token.
async fn hook(
    store: &dyn Store,
    tenant: &str,
    engine: EngineKind,
    session: &str,
    secret: Option<&str>,
) -> String {
    let token = shared::events::new_hook_token();
    store
        .events()
        .put_hook(
            &hook_hash(&token),
            &Hook {
                tenant_id: tenant.into(),
                engine,
                session: session.into(),
                engine_secret: secret.map(str::to_string),
                created_at: shared::clock::now_epoch(),
            },
        )
        .await
        .unwrap();
    token
}

/// A POST of `body` to `/hooks/<engine>/<token>` with `headers`, through
/// the whole-table server (as `local-api` serves it).
async fn post(
    store: &Arc<dyn Store>,
    engine: EngineKind,
    token: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = testkit::events::load("hooks-wuts.json")
        .with_path(&format!("/hooks/{}/{token}", engine.as_str()))
        .with_body(body)
        .without_header("content-type");
    for (k, v) in headers {
        req = req.with_header(k, v);
    }
    answer(
        shared::events::ingress::serve_any_hook(
            store.as_ref(),
            &shared::events::outbox::NoEventQueue,
            req,
        )
        .await,
    )
}

fn now_ms() -> i64 {
    shared::clock::now_ms()
}

/// One fresh payload per engine (from each engine's source:
/// docs/research/*-events.md), the headers its signing adds, and what it
/// must become.
fn samples(now: i64) -> Vec<(EngineKind, &'static str, Value, EventType, &'static str)> {
    let rfc = shared::clock::format_epoch_ms(now);
    vec![
        (
            EngineKind::Evolution,
            "acme-main",
            json!({"event": "group-participants.update", "instance": "acme-main",
                   "sender": "5511999990000@s.whatsapp.net", "date_time": rfc,
                   "data": {"id": GROUP, "author": "11111111111111@lid",
                            "authorPn": "5511988887777@s.whatsapp.net",
                            "participants": [{"id": "22222222222222@lid",
                                              "phoneNumber": "5511977776666@s.whatsapp.net", "admin": null}],
                            "action": "demote"}}),
            EventType::ParticipantsDemoted,
            "22222222222222@lid",
        ),
        (
            EngineKind::Waha,
            "acme-main",
            json!({"id": "evt_01jxyz", "timestamp": now, "event": "group.v2.participants",
                   "session": "acme-main", "me": {"id": "5511999990000@c.us"},
                   "payload": {"group": {"id": GROUP}, "type": "join", "timestamp": now,
                               "participants": [{"id": "5511977776666@c.us", "role": "participant"}]},
                   "engine": "NOWEB"}),
            EventType::ParticipantsAdded,
            "5511977776666@s.whatsapp.net",
        ),
        (
            EngineKind::Wuts,
            "",
            json!({"event": "group.info", "data": {"JID": GROUP, "Timestamp": rfc,
                   "SenderPN": "5511988887777@s.whatsapp.net",
                   "Leave": ["5511977776666:3@s.whatsapp.net"], "Join": null}}),
            EventType::ParticipantsRemoved,
            "5511977776666@s.whatsapp.net",
        ),
        (
            EngineKind::SessionService,
            "sess-acme-1",
            json!({"type": "group.participants.promoted", "timestamp": rfc,
                   "data": {"group_jid": GROUP, "participants": [{"jid": "95511977776666@lid"}]}}),
            EventType::ParticipantsPromoted,
            "95511977776666@lid",
        ),
    ]
}

/// The headers an engine's signing puts on `body` with [`SECRET`].
fn signed(engine: EngineKind, body: &str) -> Vec<(String, String)> {
    let now = shared::clock::now_epoch();
    match engine {
        EngineKind::Waha => vec![
            (
                "x-webhook-hmac".into(),
                hmac_sha512_hex(SECRET.as_bytes(), body.as_bytes()),
            ),
            ("x-webhook-hmac-algorithm".into(), "sha512".into()),
        ],
        EngineKind::Wuts => vec![(
            "x-hmac-signature".into(),
            hmac_sha256(SECRET.as_bytes(), &[body.as_bytes()])
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )],
        EngineKind::Evolution => {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let head = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            let claims = b64.encode(
                json!({"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook"})
                    .to_string(),
            );
            let signing = format!("{head}.{claims}");
            let sig = b64.encode(hmac_sha256(SECRET.as_bytes(), &[signing.as_bytes()]));
            vec![("authorization".into(), format!("Bearer {signing}.{sig}"))]
        }
        EngineKind::SessionService => vec![
            ("webhook-id".into(), "msg_1".into()),
            ("webhook-timestamp".into(), now.to_string()),
            (
                "webhook-signature".into(),
                sign_standard_webhook(SECRET, "msg_1", now, body.as_bytes()),
            ),
        ],
    }
}

fn pairs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_engines_payload_becomes_its_event_once() {
    for (backend, store) in stores("each_engines_payload_becomes_its_event_once").await {
        for (engine, session, payload, kind, jid) in samples(now_ms()) {
            let tenant = format!("t-{}", engine.as_str());
            let token = hook(store.as_ref(), &tenant, engine, session, None).await;
            let body = payload.to_string();
            let a = post(&store, engine, &token, &body, &[]).await;
            assert_eq!(a.status, 200, "{backend} {engine:?}: {}", a.body);
            assert_eq!(a.body["stored"], 1, "{backend} {engine:?}: {}", a.body);
            // The engine's retry of the same delivery: deduplicated.
            let again = post(&store, engine, &token, &body, &[]).await;
            assert_eq!(again.status, 200);
            assert_eq!(again.body["stored"], 0, "{backend} {engine:?}");
            assert_eq!(again.body["duplicates"], 1, "{backend} {engine:?}");
            let events = store.events().list_events(&tenant, 10, None).await.unwrap();
            assert_eq!(events.len(), 1, "{backend} {engine:?}: {events:?}");
            let e = &events[0];
            assert_eq!(e.kind, kind, "{backend} {engine:?}");
            assert_eq!(e.tenant_id, tenant);
            assert!(e.id.starts_with("evt_"));
            assert_eq!(e.data.group_jid.as_deref(), Some(GROUP));
            assert_eq!(e.data.participants[0].jid, jid, "{backend} {engine:?}");
            assert_eq!(e.data.engine, engine.as_str());
            assert_eq!(e.data.session, session);
            assert!(e.timestamp.ends_with('Z'), "{}", e.timestamp);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_and_a_forged_call_stores_nothing() {
    for (backend, store) in stores("signatures_are_checked_and_a_forged_call_stores_nothing").await
    {
        for (engine, session, payload, _, _) in samples(now_ms()) {
            let tenant = format!("s-{}", engine.as_str());
            let token = hook(store.as_ref(), &tenant, engine, session, Some(SECRET)).await;
            let body = payload.to_string();
            // Unsigned, signed over other bytes, signed with another key.
            let other = format!("{body} ");
            let forged_key = {
                let mut h = signed(engine, &body);
                for (_, v) in &mut h {
                    if v.len() > 20 {
                        // Change one character in the middle of the
                        // signature material (hex and base64 alike).
                        let mid = v.len() / 2;
                        let c = if &v[mid..=mid] == "0" { "1" } else { "0" };
                        v.replace_range(mid..=mid, c);
                    }
                }
                h
            };
            let mut cases = vec![("unsigned", Vec::new()), ("altered signature", forged_key)];
            // Evolution's JWT does not cover the body (it proves the
            // sender holds the secret); every other scheme does.
            if engine != EngineKind::Evolution {
                cases.push(("signed over other bytes", signed(engine, &other)));
            }
            for (what, headers) in cases {
                let a = post(&store, engine, &token, &body, &pairs(&headers)).await;
                assert_eq!(a.status, 401, "{backend} {engine:?} {what}: {}", a.body);
                assert_eq!(a.body["error_code"], "UNAUTHORIZED");
            }
            assert!(
                store
                    .events()
                    .list_events(&tenant, 10, None)
                    .await
                    .unwrap()
                    .is_empty(),
                "{backend} {engine:?}: a refused call stored an event"
            );
            let good = post(
                &store,
                engine,
                &token,
                &body,
                &pairs(&signed(engine, &body)),
            )
            .await;
            assert_eq!(good.status, 200, "{backend} {engine:?}: {}", good.body);
            assert_eq!(good.body["stored"], 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_token_only_ever_writes_its_own_tenants_events() {
    for (backend, store) in stores("a_hook_token_only_ever_writes_its_own_tenants_events").await {
        let a = hook(store.as_ref(), "tenant-a", EngineKind::Waha, "a-main", None).await;
        let _b = hook(store.as_ref(), "tenant-b", EngineKind::Waha, "b-main", None).await;
        let now = now_ms();
        // A payload naming tenant B's session, sent with A's token: not
        // B's event, and not A's either (another session's change).
        let body = json!({"id": "evt_x", "timestamp": now, "event": "group.v2.leave",
                          "session": "b-main", "payload": {"group": {"id": GROUP}, "timestamp": now}})
        .to_string();
        let r = post(&store, EngineKind::Waha, &a, &body, &[]).await;
        assert_eq!(r.status, 200, "{backend}");
        assert_eq!(r.body["ignored"], 1, "{backend}: {}", r.body);
        for t in ["tenant-a", "tenant-b"] {
            assert!(
                store
                    .events()
                    .list_events(t, 10, None)
                    .await
                    .unwrap()
                    .is_empty(),
                "{backend} {t}"
            );
        }
        // A's token on another engine's route is no hook at all.
        let r = post(&store, EngineKind::Evolution, &a, "{}", &[]).await;
        assert_eq!(r.status, 404, "{backend}");
        // Rotation: the old token stops working.
        let rotated = hook(store.as_ref(), "tenant-a", EngineKind::Waha, "a-main", None).await;
        let old = post(&store, EngineKind::Waha, &a, "{}", &[]).await;
        assert_eq!(old.status, 404, "{backend}: the replaced token still works");
        let new = post(&store, EngineKind::Waha, &rotated, "{}", &[]).await;
        assert_eq!(new.status, 200, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_unknown_kinds_and_bad_calls() {
    for (backend, store) in stores("replays_unknown_kinds_and_bad_calls").await {
        let token = hook(store.as_ref(), "acme", EngineKind::Waha, "acme-main", None).await;
        // A change older than the dedupe window: a replay, taken and ignored.
        let old = now_ms() - 49 * 3_600_000;
        let body = json!({"id": "evt_old", "timestamp": old, "event": "group.v2.join",
                          "session": "acme-main", "payload": {"group": {"id": GROUP}, "timestamp": old}})
        .to_string();
        let r = post(&store, EngineKind::Waha, &token, &body, &[]).await;
        assert_eq!(
            (r.status, r.body["ignored"].clone()),
            (200, json!(1)),
            "{backend}: {}",
            r.body
        );
        // A kind this API does not turn into events: 200, counted.
        let r = post(
            &store,
            EngineKind::Waha,
            &token,
            r#"{"event":"message","payload":{"body":"hi"}}"#,
            &[],
        )
        .await;
        assert_eq!(
            (r.status, r.body["ignored"].clone()),
            (200, json!(1)),
            "{backend}"
        );
        assert!(
            store
                .events()
                .list_events("acme", 10, None)
                .await
                .unwrap()
                .is_empty()
        );
        // Not JSON: 400, never an echo of what was sent.
        let r = post(
            &store,
            EngineKind::Waha,
            &token,
            "{not json SECRET-ECHO",
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{backend}");
        assert!(!r.body.to_string().contains("SECRET-ECHO"));
        // Over 256 KiB: 413.
        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(256 * 1024));
        let r = post(&store, EngineKind::Waha, &token, &big, &[]).await;
        assert_eq!(r.status, 413, "{backend}");
        // An unknown token (well formed or not): 404 envelope.
        let unknown = format!("hk_{}", "0".repeat(64));
        for t in [unknown.as_str(), "nope"] {
            let r = post(&store, EngineKind::Waha, t, "{}", &[]).await;
            assert_eq!(r.status, 404, "{backend} {t}");
            assert_eq!(r.body["error_code"], "NOT_FOUND");
        }
        // Only POST.
        let req = testkit::events::load("hooks-waha.json")
            .with_path(&format!("/hooks/waha/{token}"))
            .with_method("GET");
        let r = answer(
            shared::events::ingress::serve_any_hook(
                store.as_ref(),
                &shared::events::outbox::NoEventQueue,
                req,
            )
            .await,
        );
        assert_eq!(r.status, 405, "{backend}");
        assert_eq!(
            r.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some("POST")
        );
    }
}
