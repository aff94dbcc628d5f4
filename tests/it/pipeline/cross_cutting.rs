//! What every route shares, checked on every route of the table (not one):
//! authentication (401), tenant status (403), scopes (403
//! INSUFFICIENT_SCOPE), 405 with `Allow`, the envelope and `X-Request-Id`,
//! bad input refused before any upstream call, and the upstream status and
//! timeout mapping. A route's valid request is its own `events/<function>.json`.
//! Every test runs against every engine's fake (`Flavour::ALL`).

use std::time::Duration;

use lambda_http::Request;
use shared::operations::ROUTES;
use shared::routes::Route;
use shared::scope::Scope;
use shared::store::{AuditStore, TenantStatus, TenantStore, TokenStore};
use testkit::events::{self, RequestEdit};
use testkit::fakes::Flavour;
use testkit::harness::*;
use testkit::wuts_fake::Fault;

/// A token of the `acme` tenant that holds only `scope`.
const READ_ONLY_TOKEN: &str = "1c0a4a5e-3f1b-4c2d-9e7f-1a2b3c4d5e6f";
const WRITE_ONLY_TOKEN: &str = "2c0a4a5e-3f1b-4c2d-9e7f-1a2b3c4d5e6f";

fn valid(route: &Route) -> Request {
    events::load(&format!("{}.json", route.function))
}

/// The event's request id: what `X-Request-Id` and `request_id` must say.
fn request_id(route: &Route) -> String {
    let raw: serde_json::Value =
        serde_json::from_str(&events::raw(&format!("{}.json", route.function))).unwrap();
    raw["requestContext"]["requestId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The route's path with `{jid}` (and any other parameter) filled in.
/// The route's path with `jid` as its `{jid}`; a second parameter (the
/// linked group of `/communities/{jid}/groups/{group_jid}`) is the demo
/// linked group, so the two never name the same group.
fn path_with_jid(route: &Route, jid: &str) -> String {
    route
        .path
        .split('/')
        .map(|seg| match seg {
            "{jid}" => jid,
            // Another job than the sample's.
            "{id}" => "job_0192f0c0aa0070008000000000000002",
            s if s.starts_with('{') => testkit::sim::DEMO_LINKED_GROUP,
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The same route with another request: another group in the path, or
/// (for a route without one) another name or invite link in the body.
fn another_request(route: &Route) -> Request {
    if route.path.contains('{') {
        return valid(route).with_path(&path_with_jid(route, "120363000000000777@g.us"));
    }
    let raw: serde_json::Value =
        serde_json::from_str(&events::raw(&format!("{}.json", route.function))).unwrap();
    let mut body: serde_json::Value =
        serde_json::from_str(raw["body"].as_str().unwrap_or("{}")).unwrap();
    if body.get("name").is_some() {
        body["name"] = "Another name".into();
    } else if body.get("link").is_some() {
        body["link"] = "https://chat.whatsapp.com/AnotherCode1234567890".into();
    } else {
        panic!("{}: no way to vary the request", route.key());
    }
    valid(route).with_body(&body.to_string())
}

/// Whether `flavour`'s engine can serve `route` at all (Evolution and WAHA
/// have no community routes: those answer 501 with no upstream call).
fn serves(flavour: Flavour, route: &Route) -> bool {
    flavour.supports(route.function)
}

async fn scoped_harness(flavour: Flavour) -> Harness {
    let h = harness_for_with_ttl(flavour, Duration::ZERO).await;
    for (token, scope) in [
        (READ_ONLY_TOKEN, Scope::GroupsRead),
        (WRITE_ONLY_TOKEN, Scope::GroupsWrite),
    ] {
        let mut record = token_record(token, "acme");
        record.scopes = Some(vec![scope]);
        h.store.put_token(&record).await.unwrap();
    }
    h
}

#[tokio::test]
async fn every_route_succeeds_with_its_event() {
    futures_util::future::join_all(Flavour::ALL.map(every_route_succeeds_with_its_event_on)).await;
}

async fn every_route_succeeds_with_its_event_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    let engine = flavour.name();
    for route in ROUTES {
        let before = h.fake.calls().len();
        let a = h.send(valid(&route)).await;
        if !serves(flavour, &route) {
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert_eq!(h.fake.calls().len(), before, "{engine} {}", route.key());
            continue;
        }
        let want = testkit::fakes::success_status(route.function);
        assert_eq!(a.status, want, "{engine} {}: {}", route.key(), a.body);
        assert_eq!(a.body["success"], true, "{}", route.key());
        assert_eq!(a.headers["x-request-id"], request_id(&route).as_str());
        assert_eq!(
            h.fake.calls().len(),
            before + flavour.calls_for(route.function),
            "{engine} {}: its upstream calls",
            route.key()
        );
    }
}

#[tokio::test]
async fn every_route_authenticates() {
    futures_util::future::join_all(Flavour::ALL.map(every_route_authenticates_on)).await;
}

async fn every_route_authenticates_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    for route in ROUTES {
        let key = route.key();
        let a = h.send(valid(&route).without_header("authorization")).await;
        assert_error(&a, 401, "UNAUTHORIZED");
        assert_eq!(
            a.headers["x-request-id"],
            request_id(&route).as_str(),
            "{key}"
        );
        for bad in [
            "Bearer not-a-token".to_string(),
            format!("Basic {TOKEN}"),
            format!("Bearer {}", uuid::Uuid::new_v4()),
        ] {
            let a = h
                .send(valid(&route).with_header("authorization", &bad))
                .await;
            assert_error(&a, 401, "UNAUTHORIZED");
        }
    }
    assert!(
        h.fake.calls().is_empty(),
        "no upstream call without a valid token"
    );
}

#[tokio::test]
async fn every_route_refuses_a_suspended_tenant() {
    futures_util::future::join_all(Flavour::ALL.map(every_route_refuses_a_suspended_tenant_on))
        .await;
}

async fn every_route_refuses_a_suspended_tenant_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    h.store
        .set_tenant_status("acme", TenantStatus::Suspended)
        .await
        .unwrap();
    for route in ROUTES {
        let a = h.send(valid(&route)).await;
        assert_error(&a, 403, "FORBIDDEN");
    }
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn every_route_checks_its_scope() {
    futures_util::future::join_all(Flavour::ALL.map(every_route_checks_its_scope_on)).await;
}

async fn every_route_checks_its_scope_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    for route in ROUTES {
        let key = route.key();
        let (allowed, refused) = match route.scope {
            Scope::GroupsRead => (READ_ONLY_TOKEN, WRITE_ONLY_TOKEN),
            Scope::GroupsWrite => (WRITE_ONLY_TOKEN, READ_ONLY_TOKEN),
        };
        let before = h.fake.calls().len();
        let a = h
            .send(valid(&route).with_header("authorization", &format!("Bearer {refused}")))
            .await;
        assert_error(&a, 403, "INSUFFICIENT_SCOPE");
        assert!(
            a.body["error"]
                .as_str()
                .unwrap()
                .contains(route.scope.as_str()),
            "{key}: the error names the scope: {}",
            a.body
        );
        assert_eq!(h.fake.calls().len(), before, "{key}: no upstream call");
        let a = h
            .send(valid(&route).with_header("authorization", &format!("Bearer {allowed}")))
            .await;
        let want = if serves(flavour, &route) { 2 } else { 5 };
        assert_eq!(
            a.status / 100,
            want,
            "{} {key} with its scope: {}",
            flavour.name(),
            a.body
        );
    }
    // Refused requests leave no audit record; the allowed mutating ones
    // that reached the engine do.
    let audit = h.store.list_audit("acme", None, 100).await.unwrap();
    let mutating = ROUTES
        .iter()
        .filter(|r| r.mutating && r.engine && serves(flavour, r))
        .count();
    assert_eq!(audit.len(), mutating, "{audit:?}");
    assert!(
        audit.iter().all(|r| (200..300).contains(&r.status)),
        "{audit:?}"
    );
}

#[tokio::test]
async fn every_route_answers_405_for_other_methods() {
    futures_util::future::join_all(Flavour::ALL.map(every_route_answers_405_for_other_methods_on))
        .await;
}

async fn every_route_answers_405_for_other_methods_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    for route in ROUTES {
        let key = route.key();
        // The methods of this very pattern (`/groups/join` is never a
        // `/groups/{jid}`: the most specific pattern wins).
        let allowed: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.path == route.path)
            .map(|r| r.method)
            .collect();
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if allowed.contains(&method) {
                continue;
            }
            let a = h.send(valid(&route).with_method(method)).await;
            assert_error(&a, 405, "METHOD_NOT_ALLOWED");
            let allow = a.headers["allow"].to_str().unwrap();
            for m in &allowed {
                assert!(allow.contains(m), "{key}: Allow {allow:?} lacks {m}");
            }
        }
    }
    assert!(h.fake.calls().is_empty());
}

#[tokio::test]
async fn every_route_refuses_bad_input_before_any_upstream_call() {
    futures_util::future::join_all(
        Flavour::ALL.map(every_route_refuses_bad_input_before_any_upstream_call_on),
    )
    .await;
}

async fn every_route_refuses_bad_input_before_any_upstream_call_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    for route in ROUTES {
        let key = route.key();
        // A route without a path parameter has no JID to get wrong.
        let jids: &[&str] = if route.path.contains("{jid}") {
            &[
                "not-a-jid",
                "..%2F..%2Fx@g.us",
                "1%3Fa%3Db@g.us",
                "5511888888888@s.whatsapp.net",
            ]
        } else {
            &[]
        };
        for &jid in jids {
            let a = h
                .send(valid(&route).with_path(&path_with_jid(&route, jid)))
                .await;
            assert_error(&a, 400, "VALIDATION_ERROR");
            assert_eq!(
                a.body["validation"][0]["field"], "jid",
                "{key} {jid}: {}",
                a.body
            );
        }
        // A body that is not the route's: JSON of the wrong shape.
        let a = h
            .send(valid(&route).with_body(r#"{"unexpected": true}"#))
            .await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        let limit = if route.function == "set-group-picture" {
            shared::operations::set_group_picture::MAX_PICTURE_BODY_BYTES
        } else if route.queues_jobs {
            shared::operations::jobs::MAX_JOB_BODY_BYTES
        } else {
            shared::operations::MAX_BODY_BYTES
        };
        let a = h
            .send(valid(&route).with_body(&"x".repeat(limit + 1)))
            .await;
        assert_error(&a, 413, "PAYLOAD_TOO_LARGE");
    }
    assert!(
        h.fake.calls().is_empty(),
        "bad input never reaches the engine"
    );
}

#[tokio::test]
async fn every_route_maps_upstream_failures() {
    futures_util::future::join_all(Flavour::ALL.map(every_route_maps_upstream_failures_on)).await;
}

async fn every_route_maps_upstream_failures_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    let cases: [(Fault, u16, &str); 6] = [
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
                status: 403,
                code: Some("not_admin"),
                retry_after: None,
            },
            403,
            "FORBIDDEN",
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
                retry_after: Some("7"),
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
        (Fault::Delay(UPSTREAM_DEADLINE * 3), 504, "UPSTREAM_TIMEOUT"),
    ];
    let upstream = |r: &&Route| serves(flavour, r) && r.engine;
    let served = ROUTES.iter().filter(upstream).count();
    for route in ROUTES.iter().filter(upstream) {
        for (fault, status, code) in cases.clone() {
            h.fake.push_fault(fault);
            let a = h.send(valid(route)).await;
            assert_eq!(
                a.status,
                status,
                "{} {}: {}",
                flavour.name(),
                route.key(),
                a.body
            );
            assert_error(&a, status, code);
            assert_eq!(a.headers["x-request-id"], request_id(route).as_str());
            if status == 429 {
                assert_eq!(a.headers["retry-after"], "7", "{}", route.key());
            }
        }
    }
    assert_eq!(
        h.fake.calls().len(),
        served * 6,
        "{}: one call per case, no retry",
        flavour.name()
    );
}

#[tokio::test]
async fn every_mutating_route_is_idempotent_and_audited() {
    futures_util::future::join_all(
        Flavour::ALL.map(every_mutating_route_is_idempotent_and_audited_on),
    )
    .await;
}

async fn every_mutating_route_is_idempotent_and_audited_on(flavour: Flavour) {
    let h = scoped_harness(flavour).await;
    for route in ROUTES.iter().filter(|r| r.mutating && serves(flavour, r)) {
        let key = format!("{} {}", flavour.name(), route.key());
        let idem = format!("cc-{}", route.function);
        let with_key = || valid(route).with_header("idempotency-key", &idem);
        let before = h.fake.calls().len();
        let first = h.send(with_key()).await;
        assert_eq!(first.status / 100, 2, "{key}: {}", first.body);
        let again = h.send(with_key()).await;
        assert_eq!(again.status, first.status, "{key}");
        assert_eq!(again.body, first.body, "{key}: the stored answer, verbatim");
        assert_eq!(again.headers["idempotent-replayed"], "true", "{key}");
        let calls = flavour.calls_for(route.function);
        assert_eq!(
            h.fake.calls().len(),
            before + calls,
            "{key}: replayed, not re-sent"
        );
        let elsewhere = another_request(route).with_header("idempotency-key", &idem);
        assert_error(&h.send(elsewhere).await, 422, "IDEMPOTENCY_KEY_REUSED");
        assert_eq!(h.fake.calls().len(), before + calls, "{key}");
    }
    // One audit record per call that reached the engine: the replays and the
    // refused reuse wrote none.
    let audit = h.store.list_audit("acme", None, 100).await.unwrap();
    for route in ROUTES {
        let records = audit.iter().filter(|r| r.route == route.key()).count();
        assert_eq!(
            records,
            // A job's own engine calls are audited when it runs.
            usize::from(route.mutating && route.engine && serves(flavour, &route)),
            "{} {}: {audit:?}",
            flavour.name(),
            route.key()
        );
    }
}
