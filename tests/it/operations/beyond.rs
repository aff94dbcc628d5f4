//! Beyond the WUTS Groups page (issue 26), on every engine's fake: join
//! requests (list, approve, reject), the invite preview, a community's
//! groups, and the private-invite fallback on adds (the participants routes
//! and paced jobs). Where an engine cannot, the answer is 501 with nothing
//! sent; where it can, the simulator's state says the change happened.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use shared::AppState;
use shared::jobs::worker::{Limits, work};
use shared::jobs::{JobMessage, JobStatus};
use shared::pacing::Pacing;
use shared::store::AuditStore;
use testkit::events::{self, RequestEdit};
use testkit::fakes::Flavour;
use testkit::harness::*;
use testkit::memory::MemoryStore;
use testkit::sim::{
    DEMO_ANNOUNCEMENT_GROUP, DEMO_APPROVAL_GROUP, DEMO_COMMUNITY, DEMO_GROUP, DEMO_JOINABLE_GROUP,
    DEMO_LINKED_GROUP, DEMO_REQUESTERS, Simulator,
};

use crate::support::stores;

async fn for_every_engine<F, Fut>(scenario: F)
where
    F: Fn(Flavour) -> Fut,
    Fut: Future<Output = ()>,
{
    futures_util::future::join_all(Flavour::ALL.map(scenario)).await;
}

fn answer_requests(body: Value) -> lambda_http::Request {
    events::load("answer-join-requests.json").with_body(&body.to_string())
}

fn invite_info(query: &str) -> lambda_http::Request {
    events::load("get-invite-info.json").with_path(&format!("/groups/invite-info?{query}"))
}

fn add(group: &str, body: Value) -> lambda_http::Request {
    events::load("add-group-participants.json")
        .with_path(&format!("/groups/{group}/participants"))
        .with_body(&body.to_string())
}

/// The pending requests as the simulator holds them.
fn pending(h: &Harness) -> Vec<String> {
    let group = h.fake.sim.group(DEMO_APPROVAL_GROUP).unwrap();
    group.join_requests.keys().cloned().collect()
}

#[tokio::test]
async fn join_requests_are_listed_approved_and_rejected_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        let list = h.send(events::load("list-join-requests.json")).await;
        if !f.supports("list-join-requests") {
            assert_error(&list, 501, "NOT_SUPPORTED");
            let a = h
                .send(answer_requests(
                    json!({"participants": [DEMO_REQUESTERS[0]], "action": "approve"}),
                ))
                .await;
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert!(h.fake.calls().is_empty(), "{engine}: nothing sent");
            assert_eq!(pending(&h).len(), 2, "{engine}");
            return;
        }
        assert_eq!(list.status, 200, "{engine}: {}", list.body);
        let requests = list.body["requests"].as_array().unwrap();
        let jids: Vec<&str> = requests
            .iter()
            .map(|r| r["jid"].as_str().unwrap())
            .collect();
        // Oldest first, each in our JID form (WAHA sends `@c.us`).
        assert_eq!(jids, DEMO_REQUESTERS, "{engine}: {}", list.body);
        assert_eq!(requests[0]["phone_number"], DEMO_REQUESTERS[0], "{engine}");
        assert_eq!(
            requests[0]["requested_at"], "2026-06-16T08:53:20Z",
            "{engine}"
        );
        assert_eq!(requests[1]["lid"], DEMO_REQUESTERS[1], "{engine}");
        assert_eq!(requests[1]["phone_number"], Value::Null, "{engine}");
        // GOWS's list (whatsmeow's) does not say how a request was made.
        if f == Flavour::WahaGows {
            assert!(requests[0].get("method").is_none(), "{engine}");
        } else {
            assert_eq!(requests[0]["method"], "invite_link", "{engine}");
        }

        // Approve one with a request and one without: one entry each.
        let a = h
            .send(answer_requests(json!({
                "participants": ["+55 11 66666-6666", "5511000000009"], "action": "approve"
            })))
            .await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        assert_eq!(a.body["action"], "approve");
        let entries = a.body["participants"].as_array().unwrap();
        assert_eq!(entries[0]["jid"], DEMO_REQUESTERS[0]);
        assert_eq!(entries[0]["status"], "ok", "{engine}: {}", a.body);
        assert_eq!(entries[1]["status"], "failed", "{engine}: {}", a.body);
        assert_eq!(entries[1]["error"]["reason"], "no_pending_request");
        let group = h.fake.sim.group(DEMO_APPROVAL_GROUP).unwrap();
        assert!(
            group.members.contains_key(DEMO_REQUESTERS[0]),
            "{engine}: a member now"
        );
        assert_eq!(pending(&h), [DEMO_REQUESTERS[1]], "{engine}");
        // WAHA is sent its own id form, never an empty list.
        let sent: Value = serde_json::from_str(&h.fake.calls().last().unwrap().body).unwrap();
        assert_eq!(
            sent["participants"][0]["id"], "5511666666666@c.us",
            "{engine}"
        );

        let a = h
            .send(answer_requests(
                json!({"participants": [DEMO_REQUESTERS[1]], "action": "reject"}),
            ))
            .await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        assert_eq!(a.body["participants"][0]["status"], "ok", "{engine}");
        assert!(pending(&h).is_empty(), "{engine}");
        let group = h.fake.sim.group(DEMO_APPROVAL_GROUP).unwrap();
        assert!(
            !group.members.contains_key(DEMO_REQUESTERS[1]),
            "{engine}: rejected"
        );
        let list = h.send(events::load("list-join-requests.json")).await;
        assert_eq!(list.body["requests"], json!([]), "{engine}");

        // Each answer is audited with its outcomes.
        let audit = h.store.list_audit("acme", None, 10).await.unwrap();
        let approve = audit
            .iter()
            .find(|r| r.action == "approve_join_requests")
            .unwrap_or_else(|| panic!("{engine}: {audit:?}"));
        assert_eq!(approve.group_jid, DEMO_APPROVAL_GROUP);
        let statuses: Vec<_> = approve
            .participants
            .iter()
            .map(|p| p.status.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(statuses, ["ok", "failed"], "{engine}");
        assert!(audit.iter().any(|r| r.action == "reject_join_requests"));
        assert!(
            !audit.iter().any(|r| r.action == "list_join_requests"),
            "reads are not audited"
        );
    })
    .await;
}

#[tokio::test]
async fn bad_join_request_answers_send_nothing() {
    let h = harness_for(Flavour::WahaGows).await;
    for body in [
        json!({"participants": [DEMO_REQUESTERS[0]]}),
        json!({"participants": [], "action": "approve"}),
        json!({"participants": [DEMO_REQUESTERS[0]], "action": "accept"}),
        json!({"participants": ["not a number"], "action": "reject"}),
        json!({"participants": [DEMO_REQUESTERS[0]], "action": "approve", "all": true}),
    ] {
        let a = h.send(answer_requests(body.clone())).await;
        assert_error(&a, 400, "VALIDATION_ERROR");
    }
    let a = h
        .send(events::load("list-join-requests.json").with_path("/groups/nope/join-requests"))
        .await;
    assert_error(&a, 400, "VALIDATION_ERROR");
    assert!(h.fake.calls().is_empty());
    assert_eq!(pending(&h).len(), 2);
}

#[tokio::test]
async fn an_invite_is_previewed_without_joining_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        let a = h.send(events::load("get-invite-info.json")).await;
        if !f.supports("get-invite-info") {
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert!(h.fake.calls().is_empty(), "{engine}: nothing sent");
            return;
        }
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        let group = &a.body["group"];
        assert_eq!(group["jid"], DEMO_JOINABLE_GROUP, "{engine}: {}", a.body);
        assert_eq!(group["name"], "Open group", "{engine}");
        assert_eq!(group["members_count"], 1, "{engine}");
        assert!(group.get("participants").is_none(), "{engine}: {group}");
        // The engine's preview route (the fake found the group by the code
        // alone), and nothing was joined.
        let call = h.fake.calls().last().unwrap().clone();
        assert_eq!(call.method, "GET", "{engine}");
        assert!(
            call.path.ends_with("/groups/join-info") || call.path.starts_with("/group/inviteInfo/"),
            "{engine}: {}",
            call.path
        );
        assert!(h.fake.sim.group(DEMO_JOINABLE_GROUP).is_none(), "{engine}: not joined");

        // The bare code; one of the account's own groups by its link.
        let a = h.send(invite_info("code=DemoJoinCode1234567890")).await;
        assert_eq!(a.body["group"]["jid"], DEMO_JOINABLE_GROUP, "{engine}");
        let own = h.fake.sim.group(DEMO_GROUP).unwrap().invite_code;
        let a = h.send(invite_info(&format!("code={own}"))).await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        assert_eq!(a.body["group"]["jid"], DEMO_GROUP, "{engine}");
        // A code that leads nowhere.
        let a = h.send(invite_info("code=NoSuchCode123456789012")).await;
        assert_error(&a, 404, "NOT_FOUND");

        // Bad links and codes: 400 before anything is sent.
        let before = h.fake.calls().len();
        for query in [
            "",
            "link=https%3A%2F%2Fevil.example%2FDemoJoinCode1234567890",
            "link=http%3A%2F%2Fchat.whatsapp.com%2FDemoJoinCode1234567890",
            "code=Demo%2F..%2FJoin",
            "code=DemoJoinCode1234567890&link=https%3A%2F%2Fchat.whatsapp.com%2FDemoJoinCode1234567890",
            "group=1",
        ] {
            let a = h.send(invite_info(query)).await;
            assert_error(&a, 400, "VALIDATION_ERROR");
        }
        // Evolution takes 22-character codes only: refused before sending.
        let a = h.send(invite_info("code=AbCdEfGhIjKl")).await;
        if f == Flavour::Evolution {
            assert_error(&a, 400, "VALIDATION_ERROR");
            assert_eq!(a.body["validation"][0]["field"], "code");
            assert_eq!(h.fake.calls().len(), before, "{engine}");
        } else {
            assert_error(&a, 404, "NOT_FOUND");
            assert_eq!(h.fake.calls().len(), before + 1, "{engine}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_communitys_groups_mark_its_announcement_group_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        let a = h.send(events::load("list-community-groups.json")).await;
        if !f.supports("list-community-groups") {
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert!(h.fake.calls().is_empty(), "{engine}: nothing sent");
            return;
        }
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        let groups = a.body["groups"].as_array().unwrap();
        let jids: Vec<&str> = groups.iter().map(|g| g["jid"].as_str().unwrap()).collect();
        assert_eq!(
            jids,
            [DEMO_LINKED_GROUP, DEMO_ANNOUNCEMENT_GROUP],
            "{engine}: {}",
            a.body
        );
        assert_eq!(groups[0]["is_announcement_group"], false, "{engine}");
        assert_eq!(
            groups[1]["is_announcement_group"], true,
            "{engine}: {}",
            a.body
        );
        assert!(
            groups.iter().all(|g| g["parent_jid"] == DEMO_COMMUNITY),
            "{engine}"
        );
        assert!(
            groups.iter().all(|g| g.get("participants").is_none()),
            "{engine}"
        );

        // A group linked later is listed; a plain group is not a community.
        let link = events::load("link-community-group.json")
            .with_body(&json!({"group_jid": DEMO_GROUP}).to_string());
        if f.supports("link-community-group") {
            let a = h.send(link).await;
            assert_eq!(a.status, 200, "{engine}: {}", a.body);
            let a = h.send(events::load("list-community-groups.json")).await;
            assert_eq!(a.body["groups"].as_array().unwrap().len(), 3, "{engine}");
        }
        let a = h
            .send(
                events::load("list-community-groups.json")
                    .with_path("/communities/120363039000000001@g.us/groups"),
            )
            .await;
        assert_error(&a, 404, "NOT_FOUND");
        let a = h
            .send(
                events::load("list-community-groups.json")
                    .with_path("/communities/120363000000000777@g.us/groups"),
            )
            .await;
        assert_error(&a, 404, "NOT_FOUND");
    })
    .await;
}

#[tokio::test]
async fn invite_on_privacy_reports_each_invitation_on_every_engine() {
    const REFUSES: &str = "5511000000001@s.whatsapp.net";
    const JOINS: &str = "5511000000002@s.whatsapp.net";
    for_every_engine(|f| async move {
        let sim = Simulator::demo();
        sim.set_privacy_restricted(REFUSES);
        let h = harness_for_sim(f, sim, Duration::from_secs(30)).await;
        let engine = f.name();
        let body = json!({"participants": [REFUSES, JOINS], "invite_on_privacy": true});
        let a = h.send(add(DEMO_GROUP, body)).await;
        if f.engine() != shared::engine::EngineKind::Waha {
            // No route sends the invitation: refused before the add.
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert!(
                a.body["error"]
                    .as_str()
                    .unwrap()
                    .contains("private invitation")
            );
            assert!(h.fake.calls().is_empty(), "{engine}: nothing sent");
            let group = h.fake.sim.group(DEMO_GROUP).unwrap();
            assert!(!group.members.contains_key(JOINS), "{engine}: not added");
            return;
        }
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        let refused = &a.body["participants"][0];
        assert_eq!(refused["status"], "failed", "{engine}");
        assert_eq!(refused["error"]["reason"], "privacy_restricted", "{engine}");
        if f == Flavour::WahaWebjs {
            // whatsapp-web.js sent it itself and said so.
            assert_eq!(refused["invite_sent"], true, "{engine}: {refused}");
            assert!(refused.get("invite_error").is_none());
            assert_eq!(
                h.fake.sim.invites_sent(),
                [(DEMO_GROUP.into(), REFUSES.into())]
            );
        } else {
            // GOWS and NOWEB hand back the add request; WAHA cannot send it.
            assert_eq!(refused["invite_sent"], false, "{engine}: {refused}");
            assert_eq!(refused["invite_error"], "not_supported", "{engine}");
            assert!(h.fake.sim.invites_sent().is_empty(), "{engine}");
        }
        let added = &a.body["participants"][1];
        assert!(
            added.get("invite_sent").is_none(),
            "{engine}: none due: {added}"
        );
        assert_eq!(h.fake.calls().len(), 1, "{engine}: the add alone");

        // Only with an add; the flag is part of the request.
        let a = h
            .send(add(
                DEMO_GROUP,
                json!({"participants": [JOINS], "action": "remove", "invite_on_privacy": true}),
            ))
            .await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        assert_eq!(a.body["validation"][0]["field"], "invite_on_privacy");
        let a = h
            .send(add(
                DEMO_GROUP,
                json!({"participants": [JOINS], "invite_on_privacy": "yes"}),
            ))
            .await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        assert_eq!(h.fake.calls().len(), 1, "{engine}: nothing more sent");
    })
    .await;
}

/// The in-process simulator makes the invitation call itself (the path an
/// engine with such a route takes): the add, then one invitation per
/// refusal with an add request.
#[tokio::test]
async fn invite_on_privacy_sends_the_invitation_after_the_add() {
    const REFUSES: &str = "5511000000001@s.whatsapp.net";
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), "http://127.0.0.1:9").await;
    let sim = Arc::new(Simulator::demo());
    sim.set_privacy_restricted(REFUSES);
    let state = AppState::new(store.clone(), sim.clone(), Duration::from_secs(30));
    let body = json!({"participants": [REFUSES], "invite_on_privacy": true});
    let a = send(
        &state,
        add(DEMO_GROUP, body.clone()).with_header("idempotency-key", "k1"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["participants"][0]["invite_sent"], true, "{}", a.body);
    assert_eq!(sim.invites_sent(), [(DEMO_GROUP.into(), REFUSES.into())]);
    // A retry replays; the same key without the flag is another request.
    let again = send(
        &state,
        add(DEMO_GROUP, body).with_header("idempotency-key", "k1"),
    )
    .await;
    assert_eq!(again.body, a.body);
    assert_eq!(sim.invites_sent().len(), 1, "never sent twice");
    let other = send(
        &state,
        add(DEMO_GROUP, json!({"participants": [REFUSES]})).with_header("idempotency-key", "k1"),
    )
    .await;
    assert_error(&other, 422, "IDEMPOTENCY_KEY_REUSED");
    // Without the flag: the refusal, its add request, no invitation.
    let a = send(&state, add(DEMO_GROUP, json!({"participants": [REFUSES]}))).await;
    let entry = &a.body["participants"][0];
    assert!(entry["error"]["add_request"]["code"].is_string(), "{entry}");
    assert!(entry.get("invite_sent").is_none(), "{entry}");
    assert_eq!(sim.invites_sent().len(), 1);
}

#[tokio::test]
async fn a_job_with_invite_on_privacy_invites_each_refusal() {
    for (name, store) in stores("a job with invite_on_privacy").await {
        seed(store.as_ref(), "http://127.0.0.1:9").await;
        let mut t = tenant("http://127.0.0.1:9");
        t.pacing = Pacing::off();
        shared::store::TenantStore::put_tenant(store.as_ref(), &t)
            .await
            .unwrap();
        let sim = Arc::new(Simulator::demo());
        let refusing = [
            "5511000000001@s.whatsapp.net",
            "5511000000003@s.whatsapp.net",
        ];
        for r in refusing {
            sim.set_privacy_restricted(r);
        }
        let state =
            testkit::memory::holding(AppState::new(store.clone(), sim.clone(), Duration::ZERO));
        let participants = [refusing[0], "5511000000002@s.whatsapp.net", refusing[1]];
        let a = send(
            &state,
            events::load("create-group-participants-job.json").with_body(
                &json!({"participants": participants, "invite_on_privacy": true}).to_string(),
            ),
        )
        .await;
        assert_eq!(a.status, 202, "{name}: {}", a.body);
        assert_eq!(a.body["job"]["invite_on_privacy"], true, "{name}");
        let message = JobMessage {
            tenant_id: "acme".into(),
            job_id: a.body["job"]["id"].as_str().unwrap().into(),
            lane: shared::pacing::lane_id("acme", testkit::wuts_fake::SESSION_ID),
        };
        let limits = Limits {
            until: tokio::time::Instant::now() + Duration::from_secs(600),
            sleep_max: Duration::from_secs(5),
        };
        work(state.as_ref(), &message, limits).await.unwrap();
        let job = store
            .jobs()
            .get_job("acme", &message.job_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.status, JobStatus::Completed, "{name}");
        let results = send(
            &state,
            events::load("get-job.json").with_path(&format!("/jobs/{}?results=1", message.job_id)),
        )
        .await;
        let entries = results.body["results"].as_array().unwrap();
        assert_eq!(entries[0]["invite_sent"], true, "{name}: {}", results.body);
        assert_eq!(entries[1]["status"], "ok", "{name}");
        assert!(entries[1].get("invite_sent").is_none(), "{name}");
        assert_eq!(entries[2]["invite_sent"], true, "{name}");
        let mut sent = sim.invites_sent();
        sent.sort();
        assert_eq!(sent.len(), 2, "{name}: {sent:?}");
        // Over HTTP to the tenant's session-service, which has no such
        // call: refused when the job is asked for, nothing queued.
        let http =
            testkit::memory::holding(AppState::new(store.clone(), http_wuts(), Duration::ZERO));
        let a = send(
            &http,
            events::load("create-group-participants-job.json")
                .with_header("idempotency-key", "another-request")
                .with_body(
                    &json!({"participants": participants, "invite_on_privacy": true}).to_string(),
                ),
        )
        .await;
        assert_error(&a, 501, "NOT_SUPPORTED");
    }
}
