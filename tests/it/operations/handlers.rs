//! Handler tests: the `events/*.json` API Gateway events, fed to the same
//! `shared::serve` the Lambda binaries run, against the WUTS fake on loopback.

use shared::engine::{AnyCall, AnyReply};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use shared::AppState;
use shared::auth::hash_token;
use shared::config::EngineConfig;
use shared::engine::transport::HttpEngine;
use shared::engine::{CallMeta, Engine, EngineError, EngineTarget};
use shared::operations::resolve;
use shared::operations::{
    GetGroupInviteLink, RemoveCommunityParticipants, RemoveGroupParticipants, ResetGroupInviteLink,
};
use shared::routes::Resolution;
use shared::store::{AuditStore, TenantStatus, TenantStore, TokenStatus, TokenStore};
use testkit::events::{self, RequestEdit};
use testkit::harness::*;
use testkit::memory::MemoryStore;
use testkit::sim::{DEMO_COMMUNITY, DEMO_GROUP, DEMO_MEMBERS, SimGroup};
use testkit::wuts_fake::{API_KEY, Fault, WutsFake};
use testkit::{moto, moto_or_skip};

// ---------- the event files themselves ----------

#[test]
fn every_event_is_a_payload_2_event_for_a_known_route() {
    let names = events::event_names();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let raw: Value = serde_json::from_str(&events::raw(&name)).unwrap();
        assert_eq!(raw["version"], "2.0", "{name}");
        let req = events::load(&name);
        let resolution = resolve(req.method(), req.uri().path());
        if raw["routeKey"] == "$default" {
            // The unmatched-route function's events: no route matches them.
            assert!(
                !matches!(resolution, Resolution::Found(..)),
                "{name} is for $default but matches a route"
            );
        } else if let Some(engine) = shared::events::ingress::hook_engine(req.uri().path()) {
            // An engine's ingress: its own route, outside the bearer table.
            assert_eq!(
                raw["routeKey"],
                format!("POST {}", shared::events::ingress::route_path_of(engine)),
                "{name}"
            );
        } else {
            assert!(
                matches!(resolution, Resolution::Found(..)),
                "{name} does not match a route"
            );
        }
    }
}

// ---------- success paths ----------

#[tokio::test]
async fn remove_group_participants_event() {
    let h = harness().await;
    let a = h.send(events::load("remove-group-participants.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["x-request-id"], "evt-remove-group-participants");
    assert_eq!(
        a.body,
        json!({"success": true, "participants": [
            {"jid": "5511888888888@s.whatsapp.net", "phone_number": "5511888888888@s.whatsapp.net",
             "is_admin": false, "is_super_admin": false, "status": "ok"},
            {"jid": "5511777777777@s.whatsapp.net", "phone_number": "5511777777777@s.whatsapp.net",
             "is_admin": false, "is_super_admin": false, "status": "ok"}]})
    );
    let calls = h.fake.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(
        call.path,
        "/v1/sessions/sess-acme-1/groups/120363039000000000%40g.us/participants"
    );
    assert_eq!(call.headers["authorization"], format!("Bearer {API_KEY}"));
    assert_eq!(
        call.headers["x-request-id"],
        "evt-remove-group-participants"
    );
    assert_eq!(call.headers["content-type"], "application/json");
    assert_eq!(call.headers["accept"], "application/json");
    let sent: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(
        sent,
        json!({"action": "remove", "participants": ["5511888888888@s.whatsapp.net", "5511777777777@s.whatsapp.net"]})
    );
    let group = h.fake.sim.group(DEMO_GROUP).unwrap();
    assert!(!group.members.contains_key(DEMO_MEMBERS[0]));
    assert!(!group.members.contains_key(DEMO_MEMBERS[1]));
    assert!(group.members.contains_key(DEMO_MEMBERS[2]));
}

#[tokio::test]
async fn explicit_action_overrides_the_default() {
    let h = harness().await;
    let a = h
        .send(events::load("remove-group-participants-promote.json"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["participants"][0]["is_admin"], true);
    assert_eq!(a.body["participants"][0]["status"], "ok");
    let sent: Value = serde_json::from_str(&h.fake.calls()[0].body).unwrap();
    assert_eq!(sent["action"], "promote");
    assert!(h.fake.sim.group(DEMO_GROUP).unwrap().members[DEMO_MEMBERS[0]].is_admin);
}

#[tokio::test]
async fn remove_community_participants_event() {
    let h = harness().await;
    let a = h
        .send(events::load("remove-community-participants.json"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["participants"][1]["jid"], "123456789@lid");
    assert_eq!(a.body["participants"][1]["lid"], "123456789@lid");
    assert_eq!(a.body["participants"][1]["phone_number"], Value::Null);
    assert_eq!(
        h.fake.calls()[0].path,
        "/v1/sessions/sess-acme-1/communities/120363099000000000%40g.us/participants"
    );
    assert!(h.fake.sim.group(DEMO_COMMUNITY).unwrap().members.len() == 1);

    // A plain group on the community route: WUTS says not_a_community.
    let req = events::load("remove-community-participants.json")
        .with_path(&format!("/communities/{DEMO_GROUP}/participants"));
    assert_error(&h.send(req).await, 404, "NOT_FOUND");
}

#[tokio::test]
async fn reset_group_invite_link_event() {
    let h = harness().await;
    let before = h.fake.sim.group(DEMO_GROUP).unwrap().invite_code;
    let a = h.send(events::load("reset-group-invite-link.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["success"], true);
    assert_eq!(a.body["group_jid"], DEMO_GROUP);
    let after = h.fake.sim.group(DEMO_GROUP).unwrap().invite_code;
    assert_ne!(before, after);
    assert_eq!(
        a.body["invite_link"],
        format!("https://chat.whatsapp.com/{after}")
    );
    let reset_at = a.body["reset_at"].as_str().unwrap();
    assert_eq!(reset_at.len(), 20);
    assert!(reset_at.ends_with('Z'));
    let calls = h.fake.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].path,
        "/v1/sessions/sess-acme-1/groups/120363039000000000%40g.us/invite/reset"
    );
    assert_eq!(calls[0].body, "");

    // `{}` is accepted as "no body" too.
    let a = h
        .send(events::load("reset-group-invite-link.json").with_body("{}"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn per_participant_outcomes_end_to_end() {
    let h = harness().await;
    h.fake
        .sim
        .set_privacy_restricted("5511000000001@s.whatsapp.net");
    let req = events::load("remove-group-participants.json").with_body(
        r#"{"action":"add","participants":["5511888888888@s.whatsapp.net","+5511000000001","5511000000002"]}"#,
    );
    let a = h.send(req).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let p = &a.body["participants"];
    assert_eq!(p[0]["status"], "failed");
    assert_eq!(
        p[0]["error"],
        json!({"code": 409, "reason": "already_member"})
    );
    assert_eq!(p[1]["error"]["reason"], "privacy_restricted");
    assert!(p[1]["error"]["add_request"]["code"].is_string());
    assert_eq!(p[2]["status"], "ok");

    // Every participant failing is still a 200 with success: true.
    let req = events::load("remove-group-participants.json")
        .with_body(r#"{"participants":["5511222222222","5511333333333"]}"#);
    let a = h.send(req).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["success"], true);
    for entry in a.body["participants"].as_array().unwrap() {
        assert_eq!(entry["error"]["reason"], "not_a_member");
    }

    // A participant WUTS does not mention is unconfirmed, never ok.
    h.fake.push_fault(Fault::Raw200(
        r#"{"participants":[{"jid":"5511888888888@s.whatsapp.net","error":0}]}"#.into(),
    ));
    let a = h.send(events::load("remove-group-participants.json")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["participants"][0]["status"], "ok");
    assert_eq!(a.body["participants"][1]["status"], "unconfirmed");

    // Unknown WhatsApp codes pass through as failures.
    h.fake.push_fault(Fault::Raw200(
        r#"{"participants":[{"jid":"5511888888888@s.whatsapp.net","error":500},{"jid":"5511777777777@s.whatsapp.net","error":408}]}"#.into(),
    ));
    let a = h.send(events::load("remove-group-participants.json")).await;
    assert_eq!(
        a.body["participants"][0]["error"],
        json!({"code": 500, "reason": "unknown"})
    );
    assert_eq!(
        a.body["participants"][1]["error"]["reason"],
        "recently_left"
    );
}

#[tokio::test]
async fn duplicates_are_sent_once() {
    let h = harness().await;
    let req = events::load("remove-group-participants.json").with_body(
        r#"{"participants":["+55 11 88888-8888","5511888888888@s.whatsapp.net","5511888888888"]}"#,
    );
    let a = h.send(req).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["participants"].as_array().unwrap().len(), 1);
    let sent: Value = serde_json::from_str(&h.fake.calls()[0].body).unwrap();
    assert_eq!(
        sent["participants"],
        json!(["5511888888888@s.whatsapp.net"])
    );
}

#[tokio::test]
async fn named_stage_prefix_is_understood() {
    let h = harness().await;
    let raw = events::raw("remove-group-participants.json")
        .replace("\"$default\"", "\"prod\"")
        .replace("\"rawPath\": \"/groups", "\"rawPath\": \"/prod/groups");
    let req = lambda_http::request::from_str(&raw).unwrap();
    assert!(req.uri().path().starts_with("/prod/groups/"));
    let a = send_to::<RemoveGroupParticipants>(&h.state, req).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn get_group_invite_link_event() {
    let h = harness().await;
    let code = h.fake.sim.group(DEMO_GROUP).unwrap().invite_code;
    let a = h.send(events::load("get-group-invite-link.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body,
        json!({"success": true, "group_jid": DEMO_GROUP,
               "invite_link": format!("https://chat.whatsapp.com/{code}")})
    );
    assert_eq!(
        h.fake.sim.group(DEMO_GROUP).unwrap().invite_code,
        code,
        "not regenerated"
    );
    let calls = h.fake.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "GET");
    assert_eq!(
        calls[0].path,
        "/v1/sessions/sess-acme-1/groups/120363039000000000%40g.us/invite"
    );
    let a = h
        .send(events::load("get-group-invite-link.json").with_path("/groups/9@g.us/invite"))
        .await;
    assert_error(&a, 404, "NOT_FOUND");
    let a = h
        .send(events::load("get-group-invite-link.json").with_path("/groups/9@lid/invite"))
        .await;
    assert_error(&a, 400, "VALIDATION_ERROR");
    assert_eq!(h.fake.calls().len(), 2);
}

// ---------- validation: 4xx and nothing upstream ----------

#[tokio::test]
async fn validation_failures_never_reach_wuts() {
    let h = harness().await;
    let a = h
        .send(events::load("remove-group-participants-invalid-jid.json"))
        .await;
    assert_error(&a, 400, "VALIDATION_ERROR");
    assert_eq!(a.body["validation"][0]["field"], "jid");

    let a = h
        .send(events::load("remove-group-participants-unknown-field.json"))
        .await;
    assert_error(&a, 400, "VALIDATION_ERROR");
    assert_eq!(a.body["validation"][0]["field"], "actions");

    let base = || events::load("remove-group-participants.json");
    for path in [
        "/groups/%00@g.us/participants",
        "/groups/123@s.whatsapp.net/participants",
        "/groups/%2e%2e%2f123@g.us/participants",
        "/groups/123%40g.us%2F..%2F..%2Fadmin/participants",
        "/groups/123%2540g.us/participants",
        "/groups/12a@g.us/participants",
    ] {
        let a = h.send(base().with_path(path)).await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        assert_eq!(a.body["validation"][0]["field"], "jid", "{path}");
    }
    let fifty_one: Vec<String> = (0..51).map(|i| format!("\"{}@lid\"", i + 1)).collect();
    let fifty_one = format!(r#"{{"participants":[{}]}}"#, fifty_one.join(","));
    for body in [
        "",
        "not json",
        "[]",
        r#"{"participants":[]}"#,
        r#"{"participants":["5511888888888@s.whatsapp.net"],"action":"kick"}"#,
        r#"{"participants":["hello"]}"#,
        r#"{"participants":[12345678]}"#,
        fifty_one.as_str(),
    ] {
        let a = h.send(base().with_body(body)).await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        assert!(a.body["validation"].is_array(), "{body}: {}", a.body);
    }
    let a = h
        .send(base().with_body(r#"{"participants":["5511888888888","nope"]}"#))
        .await;
    assert_eq!(a.body["validation"][0]["field"], "participants[1]");
    assert_eq!(a.body["validation"][0]["value"], "nope");

    let reset = events::load("reset-group-invite-link.json").with_body(r#"{"expire":true}"#);
    assert_error(&h.send(reset).await, 400, "VALIDATION_ERROR");
    let reset =
        events::load("reset-group-invite-link.json").with_path("/groups/x@g.us/invite/reset");
    assert_error(&h.send(reset).await, 400, "VALIDATION_ERROR");

    let big = format!(r#"{{"participants":["{}"]}}"#, "1".repeat(17 * 1024));
    assert_error(
        &h.send(base().with_body(&big)).await,
        413,
        "PAYLOAD_TOO_LARGE",
    );
    let form = base().with_header("content-type", "application/x-www-form-urlencoded");
    assert_error(&h.send(form).await, 415, "UNSUPPORTED_MEDIA_TYPE");
    let charset = base().with_header("content-type", "application/json; charset=utf-8");
    assert_eq!(h.send(charset).await.status, 200);

    assert_eq!(
        h.fake.calls().len(),
        1,
        "only the last, valid request reached WUTS"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let h = harness().await;
    let a = h
        .send(events::load("remove-group-participants.json").with_method("GET"))
        .await;
    assert_error(&a, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(a.headers["allow"], "DELETE, POST");
    let a = h
        .send(events::load("remove-group-participants.json").with_path("/chats"))
        .await;
    assert_error(&a, 404, "NOT_FOUND");
    // A Lambda serves only its own route.
    let a =
        send_to::<ResetGroupInviteLink>(&h.state, events::load("remove-group-participants.json"))
            .await;
    assert_error(&a, 404, "NOT_FOUND");
    assert!(h.fake.calls().is_empty());
}

// ---------- authentication ----------

#[tokio::test]
async fn malformed_credentials_are_401_without_a_store_read() {
    let h = harness().await;
    let base = || events::load("remove-group-participants.json");
    let cases = vec![
        events::load("remove-group-participants-no-auth.json"),
        base().with_header("authorization", &format!("Basic {TOKEN}")),
        base().with_header("authorization", "Bearer not-a-uuid"),
        base().with_header(
            "authorization",
            "Bearer 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        ),
        base().with_header("authorization", ""),
        base().without_header("authorization"),
    ];
    for req in cases {
        assert_error(&h.send(req).await, 401, "UNAUTHORIZED");
    }
    assert_eq!(h.store.reads(), 0);
    assert!(h.fake.calls().is_empty());

    // The bare-UUID and lower-case forms are accepted.
    for value in [
        TOKEN.to_string(),
        format!("bearer {}", TOKEN.to_uppercase()),
    ] {
        let a = h.send(base().with_header("authorization", &value)).await;
        assert_eq!(a.status, 200, "{value}: {}", a.body);
    }
}

#[tokio::test]
async fn unknown_revoked_and_expired_tokens_look_the_same() {
    let h = harness_with_ttl(Duration::ZERO).await;
    let revoked = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
    let expired = "2b4e28ba-2fa1-41d2-883f-0016d3cca427";
    let unknown = "3b4e28ba-2fa1-41d2-883f-0016d3cca427";
    let mut r = token_record(revoked, "acme");
    r.status = TokenStatus::Revoked;
    h.store.put_token(&r).await.unwrap();
    let mut e = token_record(expired, "acme");
    e.expires_at = Some(shared::clock::now_epoch() - 1);
    h.store.put_token(&e).await.unwrap();

    let mut messages = Vec::new();
    for token in [revoked, expired, unknown] {
        let req = events::load("remove-group-participants.json")
            .with_header("authorization", &format!("Bearer {token}"));
        let a = h.send(req).await;
        assert_error(&a, 401, "UNAUTHORIZED");
        assert!(!a.body.to_string().contains(token));
        messages.push(a.body["error"].clone());
    }
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn suspended_or_missing_tenant_is_403() {
    let h = harness_with_ttl(Duration::ZERO).await;
    h.store
        .set_tenant_status("acme", TenantStatus::Suspended)
        .await
        .unwrap();
    let a = h.send(events::load("reset-group-invite-link.json")).await;
    assert_error(&a, 403, "FORBIDDEN");

    let orphan = "4b4e28ba-2fa1-41d2-883f-0016d3cca427";
    h.store
        .put_token(&token_record(orphan, "ghost"))
        .await
        .unwrap();
    let req = events::load("reset-group-invite-link.json")
        .with_header("authorization", &format!("Bearer {orphan}"));
    assert_error(&h.send(req).await, 403, "FORBIDDEN");
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn warm_cache_hit_costs_no_store_read() {
    let h = harness().await;
    for _ in 0..3 {
        let a = h
            .send(events::load("remove-group-participants-promote.json"))
            .await;
        assert_eq!(a.status, 200);
    }
    assert_eq!(
        h.store.reads(),
        2,
        "one token read and one tenant read, then cache hits"
    );

    let h = harness_with_ttl(Duration::ZERO).await;
    for _ in 0..3 {
        h.send(events::load("remove-group-participants-promote.json"))
            .await;
    }
    assert_eq!(h.store.reads(), 6, "TTL 0 disables the cache");
    h.store.revoke_token(&hash_token(TOKEN)).await.unwrap();
    let a = h
        .send(events::load("remove-group-participants-promote.json"))
        .await;
    assert_error(&a, 401, "UNAUTHORIZED");
}

// ---------- upstream failures ----------

#[tokio::test]
async fn upstream_statuses_are_mapped() {
    let h = harness().await;
    let cases: Vec<(Fault, u16, &str)> = vec![
        (
            Fault::Status {
                status: 400,
                code: Some("bad_request"),
                retry_after: None,
            },
            400,
            "VALIDATION_ERROR",
        ),
        (
            Fault::Status {
                status: 401,
                code: Some("unauthorized"),
                retry_after: None,
            },
            502,
            "UPSTREAM_ERROR",
        ),
        (
            Fault::Status {
                status: 403,
                code: Some("not_admin"),
                retry_after: None,
            },
            403,
            "FORBIDDEN",
        ),
        (
            Fault::Status {
                status: 404,
                code: Some("group_not_found"),
                retry_after: None,
            },
            404,
            "NOT_FOUND",
        ),
        (
            Fault::Status {
                status: 404,
                code: Some("session_not_found"),
                retry_after: None,
            },
            503,
            "DEVICE_NOT_READY",
        ),
        (
            Fault::Status {
                status: 409,
                code: Some("session_not_connected"),
                retry_after: None,
            },
            503,
            "DEVICE_NOT_READY",
        ),
        (
            Fault::Status {
                status: 429,
                code: Some("rate_limited"),
                retry_after: Some("17"),
            },
            429,
            "RATE_LIMITED",
        ),
        (
            Fault::Status {
                status: 500,
                code: None,
                retry_after: None,
            },
            502,
            "UPSTREAM_ERROR",
        ),
        (
            Fault::Status {
                status: 503,
                code: Some("x"),
                retry_after: None,
            },
            502,
            "UPSTREAM_ERROR",
        ),
        (
            Fault::Raw200("<html>oops</html>".into()),
            502,
            "UPSTREAM_ERROR",
        ),
        (
            Fault::Raw200(r#"{"participants":"nope"}"#.into()),
            502,
            "UPSTREAM_ERROR",
        ),
        (
            Fault::Raw200(r#"{"participants":[{"jid":"5511888888888@s.whatsapp.net""#.into()),
            502,
            "UPSTREAM_ERROR",
        ),
        (
            Fault::Delay(UPSTREAM_DEADLINE + Duration::from_secs(1)),
            504,
            "UPSTREAM_TIMEOUT",
        ),
    ];
    for (i, (fault, status, code)) in cases.into_iter().enumerate() {
        h.fake.push_fault(fault.clone());
        let a = h.send(events::load("remove-group-participants.json")).await;
        assert_error(&a, status, code);
        assert_eq!(
            h.fake.calls().len(),
            i + 1,
            "{fault:?} was sent exactly once"
        );
        if status == 429 {
            assert_eq!(a.headers["retry-after"], "17");
        }
        assert!(!a.body.to_string().contains(API_KEY));
    }

    // The simulator's own refusals, through the real wire format.
    h.fake.sim.set_connected(false);
    let a = h.send(events::load("reset-group-invite-link.json")).await;
    assert_error(&a, 503, "DEVICE_NOT_READY");
    h.fake.sim.set_connected(true);
    let mut g = SimGroup::new(&DEMO_MEMBERS);
    g.we_are_admin = false;
    h.fake.sim.put_group(DEMO_GROUP, g);
    let a = h.send(events::load("remove-group-participants.json")).await;
    assert_error(&a, 403, "FORBIDDEN");
}

#[tokio::test]
async fn invite_reset_is_sent_once_even_on_timeout() {
    let h = harness().await;
    h.fake
        .push_fault(Fault::Delay(UPSTREAM_DEADLINE + Duration::from_secs(1)));
    let a = h.send(events::load("reset-group-invite-link.json")).await;
    assert_error(&a, 504, "UPSTREAM_TIMEOUT");
    h.fake
        .push_fault(Fault::SlowBody(UPSTREAM_DEADLINE + Duration::from_secs(1)));
    let a = h.send(events::load("reset-group-invite-link.json")).await;
    assert_error(&a, 504, "UPSTREAM_TIMEOUT");
    h.fake.push_fault(Fault::Status {
        status: 502,
        code: None,
        retry_after: None,
    });
    let a = h.send(events::load("reset-group-invite-link.json")).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");
    assert_eq!(
        h.fake.calls().len(),
        3,
        "one upstream call per request, no retries"
    );
}

#[tokio::test]
async fn unreachable_wuts_is_502() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), &closed).await;
    let state = AppState::new(store, http_wuts(), Duration::from_secs(30));
    let a = send(&state, events::load("remove-group-participants.json")).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");

    // A tenant with a plain-http URL where http is not allowed is refused
    // before any connection is made.
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), &closed).await;
    let https_only = Arc::new(HttpEngine::new(EngineConfig::default()).unwrap());
    let state = AppState::new(store, https_only, Duration::from_secs(30));
    let a = send(&state, events::load("reset-group-invite-link.json")).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");
}

// ---------- the panic guard ----------

struct PanickingWuts;

#[async_trait]
impl Engine for PanickingWuts {
    async fn call(
        &self,
        _: &EngineTarget,
        _: AnyCall,
        _: CallMeta,
    ) -> Result<AnyReply, EngineError> {
        panic!("deliberate panic in a fake");
    }
}

#[tokio::test]
async fn a_panic_still_answers_with_the_envelope() {
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), "https://unused.example").await;
    let state = AppState::new(store, Arc::new(PanickingWuts), Duration::from_secs(30));
    for event in [
        "remove-group-participants.json",
        "reset-group-invite-link.json",
        "get-group-invite-link.json",
    ] {
        let a = send(&state, events::load(event)).await;
        assert_error(&a, 500, "INTERNAL_ERROR");
        assert!(!a.body.to_string().contains("deliberate"));
    }
}

// ---------- concurrency ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_through_one_state() {
    let h = harness().await;
    let members: Vec<String> = (0..50)
        .map(|i| format!("55119{i:08}@s.whatsapp.net"))
        .collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    h.fake.sim.put_group(DEMO_GROUP, SimGroup::new(&refs));
    let mut tasks = Vec::new();
    for member in members.clone() {
        let state = h.state.clone();
        tasks.push(tokio::spawn(async move {
            let req = events::load("remove-group-participants.json")
                .with_body(&format!(r#"{{"participants":["{member}"]}}"#));
            send(&state, req).await
        }));
    }
    for task in tasks {
        let a = task.await.unwrap();
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["participants"][0]["status"], "ok");
    }
    assert_eq!(h.fake.calls().len(), 50);
    assert!(h.fake.sim.group(DEMO_GROUP).unwrap().members.is_empty());
}

// ---------- DynamoDB behind the handler ----------

#[tokio::test]
async fn events_succeed_on_dynamodb() {
    let fake = WutsFake::start().await;
    let store = Arc::new(crate::support::fresh_store(&moto_or_skip!()).await);
    seed(store.as_ref(), &fake.base_url()).await;
    let state = AppState::new(store.clone(), http_wuts(), Duration::from_secs(30));
    let answers = [
        send_to::<RemoveGroupParticipants>(&state, events::load("remove-group-participants.json"))
            .await,
        send_to::<RemoveCommunityParticipants>(
            &state,
            events::load("remove-community-participants.json"),
        )
        .await,
        send_to::<ResetGroupInviteLink>(&state, events::load("reset-group-invite-link.json")).await,
        send_to::<GetGroupInviteLink>(&state, events::load("get-group-invite-link.json")).await,
    ];
    for a in answers {
        assert_eq!(a.status, 200, "{}", a.body);
    }
    assert_eq!(fake.calls().len(), 4);
}

#[tokio::test]
async fn unreachable_dynamodb_is_503() {
    let fake = WutsFake::start().await;
    let store = Arc::new(shared::store::dynamo::DynamoStore::new(
        moto::client_for("http://127.0.0.1:9"),
        moto::unique_tables(),
    ));
    let state = AppState::new(store, http_wuts(), Duration::from_secs(30));
    let a = send(&state, events::load("remove-group-participants.json")).await;
    assert_error(&a, 503, "SERVICE_UNAVAILABLE");
    assert!(fake.calls().is_empty());
}

/// A token item with exactly the attributes `operations.md` documents (no
/// `token_id`, no `scopes`: both came later) works on every route: full
/// access, and a public id derived from the hash.
#[tokio::test]
async fn a_token_in_the_documented_data_model_works_on_every_route() {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let url = moto_or_skip!();
    // The WUTS engine: it serves the most routes (the rest answer 501, after
    // the token passed).
    let flavour = testkit::fakes::Flavour::Wuts;
    let fake = WutsFake::start_engine(flavour).await;
    let store = Arc::new(crate::support::fresh_store(&url).await);
    let tenant = tenant_for(flavour, &fake.base_url());
    store.put_tenant(&tenant).await.unwrap();
    testkit::harness::seed_sample_job(store.as_ref(), &tenant).await;
    store
        .client()
        .put_item()
        .table_name(&store.tables().tokens)
        .item("token_hash", S(hash_token(TOKEN)))
        .item("tenant_id", S("acme".into()))
        .item("user_id", S("alice".into()))
        .item("status", S("active".into()))
        .item("created_at", N("1700000000".into()))
        .send()
        .await
        .unwrap();
    let state = testkit::memory::holding(AppState::new(
        store.clone(),
        http_wuts(),
        Duration::from_secs(30),
    ));
    for route in shared::operations::ROUTES {
        let a = send(&state, events::load(&format!("{}.json", route.function))).await;
        let want = if flavour.supports(route.function) {
            testkit::fakes::success_status(route.function)
        } else {
            501
        };
        assert_eq!(a.status, want, "{}: {}", route.key(), a.body);
    }
    let audit = store.list_audit("acme", None, 100).await.unwrap();
    let derived = shared::store::TokenRecord::derived_token_id(&hash_token(TOKEN));
    assert!(!audit.is_empty());
    assert!(audit.iter().all(|r| r.token_id == derived), "{audit:?}");
}

#[tokio::test]
async fn add_routes_default_to_add_and_shape_their_replies() {
    let h = harness().await;
    let a = h.send(events::load("add-group-participants.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["success", "participants"]
    );
    assert_eq!(
        a.body["participants"][0]["jid"],
        "5511966660001@s.whatsapp.net"
    );
    assert_eq!(a.body["participants"][0]["status"], "ok", "{}", a.body);
    let sent: Value = serde_json::from_str(&h.fake.calls()[0].body).unwrap();
    assert_eq!(
        sent["action"], "add",
        "the route's default action went upstream"
    );
    assert!(
        h.fake
            .sim
            .group(DEMO_GROUP)
            .unwrap()
            .members
            .contains_key("5511966660001@s.whatsapp.net"),
        "the simulator's group gained the member"
    );

    let a = h
        .send(events::load("add-community-participants.json"))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["success", "jid", "action", "participants"]
    );
    assert_eq!(a.body["jid"], DEMO_COMMUNITY);
    assert_eq!(a.body["action"], "add");
    assert!(
        h.fake.calls()[1].path.contains("/communities/"),
        "{:?}",
        h.fake.calls()[1].path
    );

    // An explicit action overrides the default, on the add route too.
    let a = h
        .send(
            events::load("add-group-participants.json")
                .with_body(r#"{"participants":["+55 11 96666-0001"],"action":"promote"}"#),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let sent: Value = serde_json::from_str(&h.fake.calls()[2].body).unwrap();
    assert_eq!(sent["action"], "promote");
    // Adding someone already there is a per-participant outcome, not an error.
    let a = h.send(events::load("add-group-participants.json")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["participants"][0]["status"], "failed", "{}", a.body);
    assert_eq!(
        a.body["participants"][0]["error"]["reason"],
        "already_member"
    );
}

/// An engine that cannot do anything: every route answers `501
/// NOT_SUPPORTED`, and as nothing was sent, nothing is audited.
struct UnsupportingEngine;

#[async_trait]
impl Engine for UnsupportingEngine {
    async fn call(
        &self,
        _: &EngineTarget,
        _: AnyCall,
        _: CallMeta,
    ) -> Result<AnyReply, EngineError> {
        Err(EngineError::NotSupported {
            operation: "do anything",
        })
    }
}

#[tokio::test]
async fn an_operation_the_engine_cannot_do_is_501_and_unaudited() {
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), "https://unused.example").await;
    let state = AppState::new(
        store.clone(),
        Arc::new(UnsupportingEngine),
        Duration::from_secs(30),
    );
    for route in shared::operations::ROUTES.iter().filter(|r| r.engine) {
        let a = send(&state, events::load(&format!("{}.json", route.function))).await;
        assert_error(&a, 501, "NOT_SUPPORTED");
    }
    assert!(
        store
            .list_audit("acme", None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}
