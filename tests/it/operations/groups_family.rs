//! The rest of the Groups family (issue 15), on every engine's fake: a
//! group's whole life across routes (create → list → info → update → add →
//! picture → leave → gone), joining, communities and their links, a PATCH
//! that fails half-way, WhatsApp's 406 on a name, the picture's own limits,
//! 20 concurrent identical creates per store, and the bounded list.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use shared::AppState;
use shared::store::AuditStore;
use testkit::events::{self, RequestEdit};
use testkit::fakes::Flavour;
use testkit::harness::*;
use testkit::memory::MemoryStore;
use testkit::sim::{
    DEMO_COMMUNITY, DEMO_GROUP, DEMO_JOINABLE_GROUP, DEMO_MEMBERS, SimGroup, Simulator,
};
use testkit::wuts_fake::{Fault, WutsFake};

async fn for_every_engine<F, Fut>(scenario: F)
where
    F: Fn(Flavour) -> Fut,
    Fut: Future<Output = ()>,
{
    futures_util::future::join_all(Flavour::ALL.map(scenario)).await;
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut image = vec![0xFF, 0xD8, 0xFF, 0xE0];
    image.resize(len, 0x42);
    image
}

fn picture_body(image: &[u8]) -> Value {
    json!({ "image_base64": base64::engine::general_purpose::STANDARD.encode(image) })
}

fn jids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|g| g["jid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_group_lives_through_every_route_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        let created = h
            .send(request(
                "create-group",
                "POST",
                "/groups",
                Some(json!({"name": "  Lifecycle  ", "participants": [DEMO_MEMBERS[0], "+55 11 90000-0008"]})),
            ))
            .await;
        if !f.supports("create-group") {
            assert_error(&created, 501, "NOT_SUPPORTED");
            assert!(h.fake.calls().is_empty(), "{engine}: nothing sent");
            return;
        }
        assert_eq!(created.status, 201, "{engine}: {}", created.body);
        let group = &created.body["group"];
        assert_eq!(group["name"], "Lifecycle", "{engine}: trimmed");
        let jid = group["jid"].as_str().unwrap().to_string();
        assert!(
            jids(&group["participants"]).contains(&DEMO_MEMBERS[0].to_string()),
            "{engine}: {group}"
        );
        assert!(h.fake.sim.group(&jid).is_some(), "{engine}: created upstream");

        // Listed, without participants.
        let list = h.send(events::load("list-groups.json")).await;
        assert_eq!(list.status, 200, "{engine}: {}", list.body);
        assert!(jids(&list.body["groups"]).contains(&jid), "{engine}");
        assert!(list.body["groups"][0].get("participants").is_none(), "{engine}");
        assert!(list.body["next_cursor"].is_null(), "{engine}: one page");

        // Info, with participants.
        let path = format!("/groups/{jid}");
        let info = h.send(request("get-group", "GET", &path, None)).await;
        assert_eq!(info.status, 200, "{engine}: {}", info.body);
        assert_eq!(info.body["group"]["members_count"], 2, "{engine}: {}", info.body);

        // Update: every field this engine can set.
        let mut change = json!({"name": "Renamed", "topic": "About us", "locked": true});
        if f != Flavour::Evolution {
            change["join_approval"] = json!(true);
        }
        let updated = h.send(request("update-group", "PATCH", &path, Some(change))).await;
        assert_eq!(updated.status, 200, "{engine}: {}", updated.body);
        let applied: Vec<&str> = updated.body["applied"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut want = vec!["name", "topic", "locked"];
        if f != Flavour::Evolution {
            want.push("join_approval");
        }
        assert_eq!(applied, want, "{engine}");
        assert_eq!(updated.body["group"]["name"], "Renamed", "{engine}: refreshed");
        let sim = h.fake.sim.group(&jid).unwrap();
        assert_eq!(sim.name, "Renamed");
        assert_eq!(sim.topic.as_deref(), Some("About us"));
        assert!(sim.locked);
        assert_eq!(sim.join_approval, f != Flavour::Evolution);

        // Add a participant, set the picture.
        let added = h
            .send(request(
                "add-group-participants",
                "POST",
                &format!("/groups/{jid}/participants"),
                Some(json!({"participants": ["+55 11 90000-0009"]})),
            ))
            .await;
        assert_eq!(added.status, 200, "{engine}: {}", added.body);
        let info = h.send(request("get-group", "GET", &path, None)).await;
        assert_eq!(info.body["group"]["members_count"], 3, "{engine}: {}", info.body);
        assert_eq!(info.body["group"]["is_locked"], true, "{engine}");
        let pic = h
            .send(request(
                "set-group-picture",
                "POST",
                &format!("/groups/{jid}/picture"),
                Some(picture_body(&jpeg(64))),
            ))
            .await;
        assert_eq!(pic.status, 200, "{engine}: {}", pic.body);
        assert!(h.fake.sim.group(&jid).unwrap().picture_id.is_some());
        if f == Flavour::Wuts {
            assert!(pic.body["picture_id"].is_string(), "{}", pic.body);
        } else {
            assert!(pic.body["picture_id"].is_null(), "{engine}: no id to pass on");
        }

        // Leave: gone from the list, and from info.
        let left = h
            .send(request("leave-group", "DELETE", &format!("/groups/{jid}/leave"), None))
            .await;
        assert_eq!(left.status, 200, "{engine}: {}", left.body);
        let list = h.send(events::load("list-groups.json")).await;
        assert!(!jids(&list.body["groups"]).contains(&jid), "{engine}");
        let gone = h.send(request("get-group", "GET", &path, None)).await;
        assert_error(&gone, 404, "NOT_FOUND");

        // Every mutating call that reached the engine is audited, the
        // create under the group it made.
        let audit = h.store.list_audit("acme", None, 100).await.unwrap();
        let create = audit.iter().find(|r| r.action == "create_group").unwrap();
        assert_eq!(create.group_jid, jid, "{engine}");
        assert_eq!(create.status, 201);
        let actions: Vec<&str> = audit.iter().map(|r| r.action.as_str()).collect();
        for action in ["create_group", "update_group", "add", "set_picture", "leave"] {
            assert!(actions.contains(&action), "{engine}: {actions:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn joining_by_link_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        let a = h.send(events::load("join-group.json")).await;
        if !f.supports("join-group") {
            assert_error(&a, 501, "NOT_SUPPORTED");
            return;
        }
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        assert_eq!(a.body["group_jid"], DEMO_JOINABLE_GROUP, "{engine}");
        // WAHA names the group even for a mere request: not known (null),
        // never a guessed false (issue 21).
        let want = if f.engine() == shared::engine::EngineKind::Waha {
            Value::Null
        } else {
            json!(false)
        };
        assert_eq!(a.body["pending_approval"], want, "{engine}");
        let list = h.send(events::load("list-groups.json")).await;
        assert!(jids(&list.body["groups"]).contains(&DEMO_JOINABLE_GROUP.to_string()));
        // A private invitation: WUTS only.
        let invite = request(
            "join-group",
            "POST",
            "/groups/join",
            Some(
                json!({"code": "AbCdEfGhIjKl", "group_jid": DEMO_JOINABLE_GROUP,
                        "inviter_jid": "+55 11 98888-7777"}),
            ),
        );
        let before = h.fake.calls().len();
        let a = h.send(invite).await;
        if f == Flavour::Wuts {
            assert_error(&a, 404, "NOT_FOUND");
            assert_eq!(h.fake.calls().len(), before + 1);
        } else {
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert_eq!(h.fake.calls().len(), before, "{engine}: nothing sent");
        }
    })
    .await;
}

#[tokio::test]
async fn a_group_with_approval_files_a_request() {
    for f in [Flavour::Wuts, Flavour::Evolution] {
        let sim = Simulator::demo();
        let mut asks = SimGroup::new(&DEMO_MEMBERS[..1]);
        asks.join_approval = true;
        sim.put_joinable("AskFirstCode1234567890", "120363039000000004@g.us", asks);
        let h = harness_for_sim(f, sim, Duration::from_secs(30)).await;
        let a = h
            .send(request(
                "join-group",
                "POST",
                "/groups/join",
                Some(json!({"link": "https://chat.whatsapp.com/AskFirstCode1234567890"})),
            ))
            .await;
        assert_eq!(a.status, 200, "{}: {}", f.name(), a.body);
        assert_eq!(a.body["pending_approval"], true, "{}", f.name());
        assert!(h.fake.sim.group("120363039000000004@g.us").is_none());
    }
}

#[tokio::test]
async fn communities_and_their_links() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        // A community is never a group of itself: 400 on link and unlink,
        // on every engine, before anything is sent.
        let self_link = h
            .send(request(
                "link-community-group",
                "POST",
                &format!("/communities/{DEMO_COMMUNITY}/groups"),
                Some(json!({"group_jid": DEMO_COMMUNITY})),
            ))
            .await;
        let self_unlink = h
            .send(request(
                "unlink-community-group",
                "DELETE",
                &format!("/communities/{DEMO_COMMUNITY}/groups/{DEMO_COMMUNITY}"),
                None,
            ))
            .await;
        for answer in [&self_link, &self_unlink] {
            assert_error(answer, 400, "VALIDATION_ERROR");
            assert_eq!(
                answer.body["validation"][0]["field"], "group_jid",
                "{engine}"
            );
        }
        assert!(h.fake.calls().is_empty(), "{engine}: nothing sent");
        let created = h.send(events::load("create-community.json")).await;
        if !f.supports("create-community") {
            for function in [
                "create-community",
                "link-community-group",
                "unlink-community-group",
            ] {
                let a = h.send(events::load(&format!("{function}.json"))).await;
                assert_error(&a, 501, "NOT_SUPPORTED");
            }
            assert!(h.fake.calls().is_empty(), "{engine}: nothing sent");
            return;
        }
        assert_eq!(created.status, 201, "{engine}: {}", created.body);
        assert_eq!(created.body["community"]["is_community"], true);
        assert_eq!(created.body["community"]["topic"], "News from the street");
        let community = created.body["community"]["jid"]
            .as_str()
            .unwrap()
            .to_string();
        let linked = h
            .send(request(
                "link-community-group",
                "POST",
                &format!("/communities/{community}/groups"),
                Some(json!({"group_jid": DEMO_GROUP})),
            ))
            .await;
        assert_eq!(linked.status, 200, "{}", linked.body);
        let info = h
            .send(request(
                "get-group",
                "GET",
                &format!("/groups/{DEMO_GROUP}"),
                None,
            ))
            .await;
        assert_eq!(info.body["group"]["parent_jid"], community.as_str());
        let unlinked = h
            .send(request(
                "unlink-community-group",
                "DELETE",
                &format!("/communities/{community}/groups/{DEMO_GROUP}"),
                None,
            ))
            .await;
        assert_eq!(unlinked.status, 200, "{}", unlinked.body);
        assert_eq!(h.fake.sim.group(DEMO_GROUP).unwrap().parent, None);
        // Unlinking again: not linked, 404; a plain group is no community.
        let again = h
            .send(request(
                "unlink-community-group",
                "DELETE",
                &format!("/communities/{community}/groups/{DEMO_GROUP}"),
                None,
            ))
            .await;
        assert_error(&again, 404, "NOT_FOUND");
        let not_community = h
            .send(request(
                "link-community-group",
                "POST",
                &format!("/communities/{DEMO_GROUP}/groups"),
                Some(json!({"group_jid": DEMO_COMMUNITY})),
            ))
            .await;
        assert_error(&not_community, 404, "NOT_FOUND");
    })
    .await;
}

#[tokio::test]
async fn a_patch_that_fails_half_way_says_what_was_applied() {
    for f in [
        Flavour::Evolution,
        Flavour::WahaGows,
        Flavour::WahaNoweb,
        Flavour::WahaWebjs,
    ] {
        let engine = f.name();
        let h = harness_for(f).await;
        let patch = || {
            request(
                "update-group",
                "PATCH",
                &format!("/groups/{DEMO_GROUP}"),
                Some(json!({"announcement": true, "name": "Half", "topic": "Never set"})),
            )
            .with_header("idempotency-key", "half-1")
        };
        h.fake.push_fault(Fault::Pass);
        h.fake.push_fault(Fault::Status {
            status: 403,
            code: Some("not_admin"),
            retry_after: None,
        });
        let a = h.send(patch()).await;
        assert_error(&a, 403, "FORBIDDEN");
        assert_eq!(a.body["applied"], json!(["name"]), "{engine}: {}", a.body);
        assert_eq!(a.body["failed"], json!(["topic"]), "{engine}");
        assert_eq!(a.body["not_attempted"], json!(["announcement"]), "{engine}");
        assert_eq!(a.body["validation"][0]["field"], "topic");
        assert_eq!(a.headers["x-partial-update"], "true");
        assert!(
            a.body.get("outcome").is_none(),
            "{engine}: a refusal is known"
        );
        let sim = h.fake.sim.group(DEMO_GROUP).unwrap();
        assert_eq!(sim.name, "Half", "{engine}: the name was applied");
        assert_eq!(sim.topic, None, "{engine}: the topic was not");
        assert!(!sim.announce, "{engine}: announcement was never sent");
        assert_eq!(h.fake.calls().len(), 2, "{engine}: stopped at the failure");
        // The retry replays it: the name is not sent again.
        let again = h.send(patch()).await;
        assert_eq!(again.status, 403);
        assert_eq!(again.body, a.body);
        assert_eq!(again.headers["idempotent-replayed"], "true");
        assert_eq!(
            again
                .headers
                .get("x-partial-update")
                .and_then(|v| v.to_str().ok()),
            Some("true"),
            "{engine}: a replay is the first answer, its header included"
        );
        assert_eq!(h.fake.calls().len(), 2, "{engine}");
        let audit = h.store.list_audit("acme", None, 10).await.unwrap();
        assert_eq!(audit.len(), 1, "{engine}");
        assert_eq!(audit[0].status, 403);

        // A failure whose outcome is unknown says so.
        h.fake.push_fault(Fault::Pass);
        h.fake.push_fault(Fault::Status {
            status: 500,
            code: None,
            retry_after: None,
        });
        let a = h
            .send(request(
                "update-group",
                "PATCH",
                &format!("/groups/{DEMO_GROUP}"),
                Some(json!({"name": "Second", "locked": true})),
            ))
            .await;
        assert_error(&a, 502, "UPSTREAM_ERROR");
        assert_eq!(a.body["applied"], json!(["name"]));
        assert_eq!(a.body["outcome"], "unknown", "{engine}: {}", a.body);
    }
}

#[tokio::test]
async fn parts_an_engine_cannot_do_are_refused_before_anything_is_sent() {
    let h = harness_for(Flavour::Evolution).await;
    for body in [
        json!({"name": "x", "join_approval": true}),
        json!({"topic": ""}),
    ] {
        let a = h
            .send(request(
                "update-group",
                "PATCH",
                &format!("/groups/{DEMO_GROUP}"),
                Some(body.clone()),
            ))
            .await;
        assert_error(&a, 501, "NOT_SUPPORTED");
    }
    for flavour in [Flavour::Evolution, Flavour::WahaGows] {
        let h = harness_for(flavour).await;
        let a = h
            .send(request(
                "create-group",
                "POST",
                "/groups",
                Some(json!({"name": "x", "participants": [DEMO_MEMBERS[0]], "options": {"locked": true}})),
            ))
            .await;
        assert_error(&a, 501, "NOT_SUPPORTED");
        assert!(h.fake.calls().is_empty());
    }
    assert!(h.fake.calls().is_empty());
    // The member-add mode is Evolution 2.4.0's route: sent, and a 2.3.x
    // server's `Cannot POST` there is 501 for that call (issue 21).
    let h = harness_for(Flavour::Evolution).await;
    let a = h
        .send(request(
            "update-group",
            "PATCH",
            &format!("/groups/{DEMO_GROUP}"),
            Some(json!({"member_add_mode": "all_members"})),
        ))
        .await;
    assert_error(&a, 501, "NOT_SUPPORTED");
    let calls = h.fake.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0]
            .path
            .ends_with("/group/updateMemberAddMode/acme-main")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&calls[0].body).unwrap(),
        json!({"groupJid": DEMO_GROUP, "mode": "all_member_add"})
    );
}

#[tokio::test]
async fn a_name_whatsapp_refuses_is_a_400_naming_it() {
    for f in [
        Flavour::Wuts,
        Flavour::Evolution,
        Flavour::WahaGows,
        Flavour::WahaNoweb,
        Flavour::WahaWebjs,
    ] {
        let h = harness_for(f).await;
        for function in ["create-group", "update-group"] {
            h.fake.push_fault(Fault::Status {
                status: 406,
                code: Some("not_acceptable"),
                retry_after: None,
            });
            let a = h
                .send(
                    events::load(&format!("{function}.json"))
                        .with_header("idempotency-key", function),
                )
                .await;
            assert_error(&a, 400, "VALIDATION_ERROR");
            assert_eq!(
                a.body["validation"][0]["field"],
                "name",
                "{} {function}: {}",
                f.name(),
                a.body
            );
            // A refusal: the key is released, the retry goes through.
            let retry = h
                .send(
                    events::load(&format!("{function}.json"))
                        .with_header("idempotency-key", function),
                )
                .await;
            assert_eq!(
                retry.status / 100,
                2,
                "{} {function}: {}",
                f.name(),
                retry.body
            );
        }
    }
}

#[tokio::test]
async fn the_picture_route_has_its_own_limits() {
    let h = harness_for(Flavour::Wuts).await;
    let path = format!("/groups/{DEMO_GROUP}/picture");
    let send = |body: String| request("set-group-picture", "POST", &path, None).with_body(&body);
    // Over 2 MiB: 413, before anything else.
    let big = format!(r#"{{"image_base64":"{}"}}"#, "A".repeat(2 * 1024 * 1024));
    assert_error(&h.send(send(big)).await, 413, "PAYLOAD_TOO_LARGE");
    // Not a JPEG, not base64: 400 naming the field.
    let png = picture_body(b"\x89PNG\r\n\x1a\n0000");
    for body in [png.to_string(), r#"{"image_base64":"%%%"}"#.to_string()] {
        let a = h.send(send(body)).await;
        assert_error(&a, 400, "VALIDATION_ERROR");
        assert_eq!(a.body["validation"][0]["field"], "image_base64");
        assert!(
            !a.body.to_string().contains("UE5H"),
            "the image is not echoed"
        );
    }
    assert!(h.fake.calls().is_empty(), "nothing sent");
    // A 1.4 MiB JPEG (1.9 MiB in base64): far over 16 KiB, accepted here.
    let image = jpeg(1_400_000);
    let a = h.send(send(picture_body(&image).to_string())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let sent: Value = serde_json::from_str(&h.fake.calls()[0].body).unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(sent["image_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(decoded, image, "the engine got the image as sent");
    // The audit record names the group, never the image.
    let audit = h.store.list_audit("acme", None, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert!(!format!("{audit:?}").contains("QkJC"));
}

use crate::support::stores;

#[tokio::test]
async fn twenty_concurrent_identical_creates_make_one_on_each_store() {
    for (store_name, store) in stores("twenty concurrent creates").await {
        let fake = WutsFake::start_engine(Flavour::Wuts).await;
        store
            .put_tenant(&tenant_for(Flavour::Wuts, &fake.base_url()))
            .await
            .unwrap();
        store.put_token(&token_record(TOKEN, "acme")).await.unwrap();
        let state = Arc::new(AppState::new(
            store.clone(),
            http_engine(true, Duration::from_secs(5)),
            Duration::from_secs(30),
        ));
        for (function, path) in [
            ("create-group", "/groups"),
            ("create-community", "/communities"),
            ("join-group", "/groups/join"),
            ("reset-group-invite-link", "/groups/{jid}/invite/reset"),
        ] {
            let what = format!("{store_name} {function}");
            let groups_before = fake.sim.list().unwrap().len();
            let calls_before = fake.calls().len();
            // The first call is slow, so the others arrive while it runs.
            fake.push_fault(Fault::Delay(Duration::from_millis(400)));
            let key = format!("twenty-{function}");
            let answers = futures_util::future::join_all((0..20).map(|_| {
                let state = state.clone();
                let req =
                    events::load(&format!("{function}.json")).with_header("idempotency-key", &key);
                async move { send(&state, req).await }
            }))
            .await;
            let mut first: Option<Value> = None;
            for a in &answers {
                if a.status == 409 {
                    assert_error(a, 409, "IDEMPOTENCY_IN_PROGRESS");
                    continue;
                }
                assert_eq!(a.status / 100, 2, "{what}: {}", a.body);
                match &first {
                    None => first = Some(a.body.clone()),
                    Some(body) => assert_eq!(&a.body, body, "{what}: one answer"),
                }
            }
            let first = first.unwrap_or_else(|| panic!("{what}: no request succeeded"));
            assert_eq!(
                fake.calls().len(),
                calls_before + 1,
                "{what}: one call upstream ({path})"
            );
            // A retry after it finished replays the first answer.
            let retry = send(
                &state,
                events::load(&format!("{function}.json")).with_header("idempotency-key", &key),
            )
            .await;
            assert_eq!(retry.body, first, "{what}");
            assert_eq!(retry.headers["idempotent-replayed"], "true");
            assert_eq!(fake.calls().len(), calls_before + 1, "{what}");
            let made = fake.sim.list().unwrap().len() - groups_before;
            let want = usize::from(function != "reset-group-invite-link");
            assert_eq!(made, want, "{what}: never created twice");
        }
        let audit = store.list_audit("acme", None, 100).await.unwrap();
        assert_eq!(
            audit.len(),
            4,
            "{store_name}: one record per call that reached WUTS"
        );
    }
}

/// Issue 21: `GET /groups` is paginated (`?limit=`, default 500, at most
/// 1,000; an opaque `cursor`), sorted by JID; walking the pages shows every
/// group once.
#[tokio::test]
async fn the_group_list_is_paginated_and_sorted() {
    let sim = Simulator::new();
    let total = 2_345;
    for i in (0..total).rev() {
        sim.put_group(
            &format!("1203630{i:011}@g.us"),
            SimGroup::new(&DEMO_MEMBERS),
        );
    }
    let store = Arc::new(MemoryStore::new());
    seed(store.as_ref(), "").await;
    let state = AppState::new(store, Arc::new(sim), Duration::from_secs(30));
    for (query, per_page) in [("", 500), ("limit=1000&", 1_000), ("limit=7&", 7)] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                None => format!("/groups?{query}"),
                Some(c) => format!("/groups?{query}cursor={c}"),
            };
            let a = send(&state, events::load("list-groups.json").with_path(&path)).await;
            assert_eq!(a.status, 200, "{path}: {}", a.body);
            let groups = jids(&a.body["groups"]);
            assert_eq!(a.body["count"], groups.len());
            assert!(groups.len() <= per_page);
            seen.extend(groups);
            pages += 1;
            match a.body["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(a.body["count"], per_page, "only the last page is short");
                    cursor = Some(c.to_string());
                }
                None => {
                    assert!(a.body["next_cursor"].is_null());
                    break;
                }
            }
            assert!(pages < 1_000, "the cursor must move on");
        }
        assert_eq!(seen.len(), total, "{query}: every group once");
        assert!(seen.is_sorted(), "sorted by JID across pages");
        assert_eq!(seen[0], "120363000000000000@g.us");
        assert_eq!(pages, total.div_ceil(per_page), "{query}");
    }
    for bad in [
        "/groups?limit=0",
        "/groups?limit=1001",
        "/groups?limit=x",
        "/groups?cursor=nope",
        "/groups?limit=5&limit=6",
        "/groups?page=2",
    ] {
        let a = send(&state, events::load("list-groups.json").with_path(bad)).await;
        assert_error(&a, 400, "VALIDATION_ERROR");
    }
}
