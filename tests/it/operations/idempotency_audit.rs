//! Idempotency-Key and the audit trail, through the same handler the Lambdas
//! run, against the WUTS fake.

use std::sync::Arc;
use std::time::Duration;

use shared::AppState;
use shared::store::AuditStore;
use testkit::events::{self, RequestEdit};
use testkit::harness::*;
use testkit::moto_or_skip;
use testkit::wuts_fake::{Fault, WutsFake};

fn with_key(event: &str, key: &str) -> lambda_http::Request {
    events::load(event).with_header("idempotency-key", key)
}

#[tokio::test]
async fn same_key_same_request_replays_without_calling_wuts() {
    let h = harness().await;
    let first = h
        .send(with_key("remove-group-participants.json", "op-1"))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = h
        .send(with_key("remove-group-participants.json", "op-1"))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body, "the stored answer, not a fresh one");
    assert_eq!(h.fake.calls().len(), 1);

    // Without a key the same request goes upstream again (and now fails per participant).
    let plain = h.send(events::load("remove-group-participants.json")).await;
    assert_eq!(plain.body["participants"][0]["status"], "failed");
    assert_eq!(h.fake.calls().len(), 2);
}

#[tokio::test]
async fn same_key_other_request_is_422_and_keys_are_per_tenant() {
    let h = harness().await;
    seed_other_tenant(h.store.as_ref(), &h.fake.base_url()).await;
    let a = h
        .send(with_key("remove-group-participants.json", "k"))
        .await;
    assert_eq!(a.status, 200);
    let other_body = with_key("remove-group-participants.json", "k")
        .with_body(r#"{"participants":["123456789@lid"]}"#);
    assert_error(&h.send(other_body).await, 422, "IDEMPOTENCY_KEY_REUSED");
    let other_route = with_key("reset-group-invite-link.json", "k");
    assert_error(&h.send(other_route).await, 422, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(h.fake.calls().len(), 1);

    let globex = with_key("reset-group-invite-link.json", "k")
        .with_header("authorization", &format!("Bearer {OTHER_TOKEN}"));
    let a = h.send(globex).await;
    assert_eq!(a.status, 200, "another tenant's key space: {}", a.body);
    assert_eq!(h.fake.calls().len(), 2);
}

#[tokio::test]
async fn bad_keys_are_400_and_reach_nothing() {
    let h = harness().await;
    for key in ["", "   ", &"x".repeat(256)] {
        let a = h.send(with_key("reset-group-invite-link.json", key)).await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        assert_eq!(a.body["validation"][0]["field"], "Idempotency-Key");
    }
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn errors_release_the_key_but_timeouts_are_kept() {
    let h = harness().await;
    h.fake.push_fault(Fault::Status {
        status: 409,
        code: Some("session_not_connected"),
        retry_after: None,
    });
    let a = h.send(with_key("reset-group-invite-link.json", "r1")).await;
    assert_error(&a, 503, "DEVICE_NOT_READY");
    let a = h.send(with_key("reset-group-invite-link.json", "r1")).await;
    assert_eq!(a.status, 200, "the key was released: {}", a.body);
    assert_eq!(h.fake.calls().len(), 2);

    // A timeout may have reset the link: the same key never sends it again.
    h.fake
        .push_fault(Fault::Delay(UPSTREAM_DEADLINE + Duration::from_secs(1)));
    let a = h.send(with_key("reset-group-invite-link.json", "r2")).await;
    assert_error(&a, 504, "UPSTREAM_TIMEOUT");
    let b = h.send(with_key("reset-group-invite-link.json", "r2")).await;
    assert_eq!(b.status, 504);
    assert_eq!(b.headers["idempotent-replayed"], "true");
    assert_eq!(b.body, a.body);
    assert_eq!(h.fake.calls().len(), 3);
}

/// 20 simultaneous identical requests with one key through one state.
async fn burst(state: Arc<AppState>, fake: &WutsFake) {
    // Hold the first call long enough for the others to arrive meanwhile.
    fake.push_fault(Fault::Delay(Duration::from_millis(300)));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            send(&state, with_key("reset-group-invite-link.json", "burst")).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(fake.calls().len(), 1, "exactly one WUTS call");
    let ok: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    let busy = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(ok.len() + busy, 20, "only 200 or 409");
    assert!(!ok.is_empty());
    for a in &ok {
        assert_eq!(a.body["invite_link"], ok[0].body["invite_link"]);
    }
    for a in answers.iter().filter(|a| a.status == 409) {
        assert_error(a, 409, "IDEMPOTENCY_IN_PROGRESS");
    }
    // Once done, every retry replays the one answer.
    let late = send(&state, with_key("reset-group-invite-link.json", "burst")).await;
    assert_eq!(late.headers["idempotent-replayed"], "true");
    assert_eq!(late.body["invite_link"], ok[0].body["invite_link"]);
    assert_eq!(fake.calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_requests_one_key_one_wuts_call() {
    let h = harness().await;
    burst(h.state.clone(), &h.fake).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_requests_one_key_on_dynamodb() {
    let fake = WutsFake::start().await;
    let store = Arc::new(crate::support::fresh_store(&moto_or_skip!()).await);
    seed(store.as_ref(), &fake.base_url()).await;
    let state = Arc::new(AppState::new(store, http_wuts(), Duration::from_secs(30)));
    burst(state, &fake).await;
}

#[tokio::test]
async fn audit_records_each_mutating_call_that_reached_wuts() {
    let h = harness().await;
    h.send(events::load("remove-group-participants.json")).await;
    h.send(events::load("reset-group-invite-link.json")).await;
    h.send(events::load("get-group-invite-link.json")).await;
    h.send(events::load("remove-group-participants-invalid-jid.json"))
        .await;
    h.send(events::load("remove-group-participants-no-auth.json"))
        .await;
    h.fake.push_fault(Fault::Status {
        status: 403,
        code: Some("not_admin"),
        retry_after: None,
    });
    h.send(events::load("remove-community-participants.json"))
        .await;

    let records = h.store.list_audit("acme", None, 100).await.unwrap();
    assert_eq!(records.len(), 3, "{records:#?}");
    let remove = &records[0];
    assert_eq!(remove.route, "DELETE /groups/{jid}/participants");
    assert_eq!(remove.action, "remove");
    assert_eq!(remove.group_jid, "120363039000000000@g.us");
    assert_eq!(remove.user_id, "alice");
    assert_eq!(remove.token_id, "tok-8c0a4a5e");
    assert_eq!(remove.request_id, "evt-remove-group-participants");
    assert_eq!(remove.status, 200);
    assert_eq!(remove.participants.len(), 2);
    assert_eq!(remove.participants[0].status.as_deref(), Some("ok"));
    assert!(remove.upstream_ms.is_some());
    assert!(remove.expires_at.is_some());
    assert_eq!(records[1].action, "reset_invite");
    let refused = &records[2];
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code.as_deref(), Some("FORBIDDEN"));
    assert_eq!(refused.participants[1].jid, "123456789@lid");
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains(TOKEN), "the token itself is never audited");
}

#[tokio::test]
async fn a_failed_audit_write_does_not_fail_the_request() {
    let h = harness().await;
    h.store.fail_audit_writes(true);
    let a = h.send(events::load("remove-group-participants.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    h.store.fail_audit_writes(false);
    assert!(
        h.store
            .list_audit("acme", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The fingerprint is over the validated, normalised command, not the raw
/// bytes: spellings of the same request replay, different requests are 422.
#[tokio::test]
async fn equal_requests_spelled_differently_replay() {
    let h = harness().await;
    let group = "120363039000000000";
    let first = h
        .send(
            with_key("remove-group-participants.json", "spelling")
                .with_body(r#"{"participants":["+55 11 88888-8888"],"action":"promote"}"#),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    for (path, body) in [
        (
            format!("/groups/{group}%40g.us/participants"),
            r#"{"participants":["5511888888888@s.whatsapp.net"],"action":"promote"}"#,
        ),
        (
            format!("/groups/{group}@g.us/participants"),
            r#"{ "action": "promote", "participants": ["5511888888888@S.WHATSAPP.NET", "+55 (11) 88888.8888"] }"#,
        ),
    ] {
        let again = h
            .send(
                with_key("remove-group-participants.json", "spelling")
                    .with_path(&path)
                    .with_body(body),
            )
            .await;
        assert_eq!(again.status, 200, "{path} {body}: {}", again.body);
        assert_eq!(
            again.headers["idempotent-replayed"], "true",
            "{path} {body}"
        );
        assert_eq!(again.body, first.body);
    }
    let other = with_key("remove-group-participants.json", "spelling")
        .with_body(r#"{"participants":["+55 11 88888-8888"],"action":"demote"}"#);
    assert_error(&h.send(other).await, 422, "IDEMPOTENCY_KEY_REUSED");

    // `{}` and no body are the same reset.
    let reset = h
        .send(with_key("reset-group-invite-link.json", "reset-1").with_body(""))
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let again = h
        .send(with_key("reset-group-invite-link.json", "reset-1").with_body("{}"))
        .await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, reset.body);
    assert_eq!(h.fake.calls().len(), 2, "one remove, one reset");
}

/// An engine's `Retry-After` as an HTTP date is passed on, as seconds.
#[tokio::test]
async fn retry_after_as_an_http_date_is_passed_on() {
    let h = harness().await;
    h.fake.push_fault(Fault::Status {
        status: 429,
        code: Some("rate_limited"),
        retry_after: Some("Fri, 01 Jan 2100 00:00:00 GMT"),
    });
    let a = h.send(events::load("remove-group-participants.json")).await;
    assert_error(&a, 429, "RATE_LIMITED");
    let secs: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(secs > 365 * 86_400, "seconds until 2100: {secs}");
}
