//! The store contract: one suite, run against the in-memory fake and against
//! DynamoDB (moto). Each assertion is something an adapter could get wrong.

use shared::engine::EngineKind;
use shared::store::{
    AuditParticipant, AuditRecord, Claim, IdempotencyRecord, IdempotencyState, MAX_ITEM_BYTES,
    Store, StoreError, StoredAnswer, StoredBody, Tenant, TenantStatus, TokenRecord, TokenStatus,
};

fn token(hash: &str, tenant: &str, created_at: i64) -> TokenRecord {
    TokenRecord {
        token_hash: hash.to_string(),
        token_id: format!("id-{hash}"),
        scopes: None,
        tenant_id: tenant.to_string(),
        user_id: format!("user-{hash}"),
        status: TokenStatus::Active,
        expires_at: None,
        created_at,
    }
}

fn answer(status: u16, body: StoredBody) -> StoredAnswer {
    StoredAnswer::new(status, body)
}

fn tenant(id: &str) -> Tenant {
    Tenant {
        tenant_id: id.to_string(),
        status: TenantStatus::Active,
        name: Some(format!("Tenant {id}")),
        engine: EngineKind::SessionService,
        wuts_base_url: Some("https://wuts.example".into()),
        wuts_session_id: "sess".into(),
        wuts_api_key: "key".into(),
        pacing: Default::default(),
    }
}

pub async fn run_store_contract(store: &dyn Store) {
    tokens(store).await;
    tenants(store).await;
    idempotency(store).await;
    audit(store).await;
    lanes(store).await;
    events(store).await;
}

/// Hooks and events: a hook found by its hash, replaced (and the old one
/// gone) when the tenant gets a new one; an event stored once per dedupe
/// key until the window passes; a tenant's events newest first, paged by
/// cursor, never another tenant's.
async fn events(store: &dyn Store) {
    use shared::engine::EngineKind;
    use shared::events::{
        DEDUPE_SECS, Event, EventData, EventType, Hook, Stored, hook_hash, new_event_id,
    };
    let events = store.events();
    let tenant = format!("ev-{}", uuid::Uuid::new_v4().simple());
    let hook = Hook {
        tenant_id: tenant.clone(),
        engine: EngineKind::Waha,
        session: "main".into(),
        engine_secret: Some("s3cret".into()),
        created_at: 1_780_000_000,
    };
    let (first, second) = (hook_hash("hk_first"), hook_hash("hk_second"));
    events.put_hook(&first, &hook).await.unwrap();
    assert_eq!(events.get_hook(&first).await.unwrap(), Some(hook.clone()));
    events.put_hook(&second, &hook).await.unwrap();
    assert_eq!(
        events.get_hook(&first).await.unwrap(),
        None,
        "the old hook is gone"
    );
    assert_eq!(events.get_hook(&second).await.unwrap(), Some(hook.clone()));
    assert_eq!(events.get_hook(&hook_hash("hk_other")).await.unwrap(), None);

    let event = |tenant: &str| Event {
        id: new_event_id(),
        kind: EventType::GroupLeft,
        timestamp: "2026-06-15T12:00:00Z".into(),
        tenant_id: tenant.into(),
        data: EventData {
            group_jid: Some("120363039000000000@g.us".into()),
            actor: None,
            participants: Vec::new(),
            changes: None,
            engine: "waha".into(),
            session: "main".into(),
            job_id: None,
            job: None,
        },
    };
    let now = 1_780_000_000;
    let a = event(&tenant);
    assert_eq!(events.put_event(&a, "k1", now).await.unwrap(), Stored::New);
    let again = event(&tenant);
    assert_eq!(
        events.put_event(&again, "k1", now + 60).await.unwrap(),
        Stored::Duplicate
    );
    let b = event(&tenant);
    assert_eq!(events.put_event(&b, "k2", now).await.unwrap(), Stored::New);
    // Past the window the same key is new again (a TTL not yet applied
    // does not count).
    let c = event(&tenant);
    assert_eq!(
        events
            .put_event(&c, "k1", now + DEDUPE_SECS + 1)
            .await
            .unwrap(),
        Stored::New
    );
    let other = format!("{tenant}-other");
    events.put_event(&event(&other), "k1", now).await.unwrap();

    let ids = |list: Vec<Event>| list.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let all = ids(events.list_events(&tenant, 10, None).await.unwrap());
    assert_eq!(
        all,
        [c.id.clone(), b.id.clone(), a.id.clone()],
        "newest first, own only"
    );
    let page = ids(events.list_events(&tenant, 2, None).await.unwrap());
    assert_eq!(page, [c.id.clone(), b.id.clone()]);
    let rest = ids(events.list_events(&tenant, 2, Some(&b.id)).await.unwrap());
    assert_eq!(rest.as_slice(), std::slice::from_ref(&a.id));
    let stored = events.list_events(&tenant, 1, None).await.unwrap();
    assert_eq!(stored[0], c, "stored as given");
}

/// The lanes: the GCRA's idle and busy branches, a refusal's wait without
/// a read, the daily cap across a UTC day, a strike's pause, the listing.
async fn lanes(store: &dyn Store) {
    use shared::pacing::{Acquired, Ask, Budget, Class, MS_PER_DAY, Refusal};
    let lanes = store.lanes();
    let lane = format!("lane-{}", uuid::Uuid::new_v4().simple());
    let t0: i64 = 1_780_000_000_000 - 1_780_000_000_000 % MS_PER_DAY + 3_600_000;
    let budget = Budget {
        interval_ms: 1_000,
        burst: 3,
        daily: Some(5),
    };
    let ask = |class: Class, budget: Budget, cost: u32, now_ms: i64| Ask {
        class,
        budget,
        cost,
        now_ms,
    };
    let take = async |cost: u32, at: i64| {
        lanes
            .acquire(&lane, &ask(Class::Add, budget, cost, at))
            .await
    };
    assert_eq!(
        take(2, t0).await.unwrap(),
        Acquired::Granted { busy: false }
    );
    assert_eq!(take(1, t0).await.unwrap(), Acquired::Granted { busy: true });
    assert_eq!(
        take(1, t0).await.unwrap(),
        Acquired::Refused {
            why: Refusal::Rate,
            retry_after_ms: 1_000
        }
    );
    // 1.5 s later one unit is back; two fit half a second later.
    assert_eq!(
        take(2, t0 + 1_500).await.unwrap(),
        Acquired::Refused {
            why: Refusal::Rate,
            retry_after_ms: 500
        }
    );
    assert_eq!(
        take(1, t0 + 1_500).await.unwrap(),
        Acquired::Granted { busy: true }
    );
    // Idle again, but the day's cap (5) leaves one.
    let later = t0 + 60_000;
    assert!(matches!(
        take(2, later).await.unwrap(),
        Acquired::Refused {
            why: Refusal::DailyCap,
            ..
        }
    ));
    assert_eq!(
        take(1, later).await.unwrap(),
        Acquired::Granted { busy: false }
    );
    // The next UTC day starts afresh.
    let tomorrow = t0 - t0 % MS_PER_DAY + MS_PER_DAY + 1;
    assert_eq!(
        take(3, tomorrow).await.unwrap(),
        Acquired::Granted { busy: false }
    );
    // A strike pauses the class (and only it).
    let until = lanes
        .strike(&lane, Class::Add, tomorrow + 10)
        .await
        .unwrap();
    assert_eq!(until, tomorrow + 10 + 60_000);
    assert_eq!(
        take(1, tomorrow + 20_010).await.unwrap(),
        Acquired::Refused {
            why: Refusal::Paused,
            retry_after_ms: 40_000
        }
    );
    assert!(matches!(
        lanes
            .acquire(
                &lane,
                &ask(
                    Class::Read,
                    Class::Read.default_budget(),
                    1,
                    tomorrow + 20_010
                )
            )
            .await
            .unwrap(),
        Acquired::Granted { .. }
    ));
    let seen = lanes.lane(&lane).await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[&Class::Add].paused_until, tomorrow + 10 + 60_000);
    assert_eq!(seen[&Class::Add].count, 3);
    assert_eq!(seen[&Class::Add].strikes, 1);
    assert!(lanes.lane("no-such-lane").await.unwrap().is_empty());
}

fn in_progress(id: &str, owner: &str, fingerprint: &str, now: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        id: id.to_string(),
        fingerprint: fingerprint.to_string(),
        owner: owner.to_string(),
        state: IdempotencyState::InProgress {
            lease_until: now + 60,
        },
        expires_at: now + 86_400,
    }
}

async fn idempotency(store: &dyn Store) {
    let now = 1_800_000_000;
    let a = in_progress("acme#k1", "owner-a", "fp1", now);
    assert_eq!(store.claim(&a, now).await.unwrap(), Claim::Claimed);

    // A second claimant sees the live record, whatever its fingerprint.
    let b = in_progress("acme#k1", "owner-b", "fp2", now);
    assert_eq!(
        store.claim(&b, now + 1).await.unwrap(),
        Claim::Existing(a.clone())
    );

    // Only the owner completes; the answer is then what others see.
    store
        .complete("acme#k1", "owner-b", &answer(500, text("nope")), now + 9)
        .await
        .unwrap();
    assert_eq!(
        store.claim(&b, now + 1).await.unwrap(),
        Claim::Existing(a.clone())
    );
    store
        .complete(
            "acme#k1",
            "owner-a",
            &answer(200, text(r#"{"success":true}"#)),
            now + 86_400,
        )
        .await
        .unwrap();
    let Claim::Existing(done) = store.claim(&b, now + 2).await.unwrap() else {
        panic!("completed record was taken over");
    };
    assert_eq!(
        done.state,
        IdempotencyState::Completed(answer(200, text(r#"{"success":true}"#)))
    );
    assert_eq!(done.owner, "owner-a");

    // Keys are per tenant: the same key of another tenant is free.
    let other = in_progress("globex#k1", "owner-c", "fp1", now);
    assert_eq!(store.claim(&other, now).await.unwrap(), Claim::Claimed);

    // A lease that passed (the holder died) may be taken over; the old owner
    // can then neither complete nor release it.
    let dead = in_progress("acme#k2", "owner-dead", "fp", now);
    assert_eq!(store.claim(&dead, now).await.unwrap(), Claim::Claimed);
    let later = now + 61;
    let heir = in_progress("acme#k2", "owner-heir", "fp", later);
    assert_eq!(store.claim(&heir, later).await.unwrap(), Claim::Claimed);
    store.release("acme#k2", "owner-dead").await.unwrap();
    store
        .complete("acme#k2", "owner-dead", &answer(200, text("stale")), later)
        .await
        .unwrap();
    assert_eq!(
        store.claim(&dead, later).await.unwrap(),
        Claim::Existing(heir.clone())
    );

    // A released key is free again; an expired completed record too.
    store.release("acme#k2", "owner-heir").await.unwrap();
    assert_eq!(store.claim(&dead, later).await.unwrap(), Claim::Claimed);
    let expired = in_progress("acme#k1", "owner-z", "fp9", now + 86_401);
    assert_eq!(
        store.claim(&expired, now + 86_401).await.unwrap(),
        Claim::Claimed
    );

    // A deflated body (binary) round-trips byte for byte.
    let big = in_progress("acme#k3", "owner-d", "fp", now);
    assert_eq!(store.claim(&big, now).await.unwrap(), Claim::Claimed);
    let deflated = StoredBody::Deflated((0..=255u8).cycle().take(300_000).collect());
    store
        .complete(
            "acme#k3",
            "owner-d",
            &answer(200, deflated.clone()),
            now + 86_400,
        )
        .await
        .unwrap();
    let probe = in_progress("acme#k3", "owner-x", "fp", now + 1);
    let Claim::Existing(done) = store.claim(&probe, now + 1).await.unwrap() else {
        panic!("completed record was taken over");
    };
    assert_eq!(
        done.state,
        IdempotencyState::Completed(answer(200, deflated))
    );

    // Kept headers round-trip with the answer; completing the same record
    // again without any (a takeover's answer) leaves none behind.
    let partial = in_progress("acme#k5", "owner-p", "fp", now);
    assert_eq!(store.claim(&partial, now).await.unwrap(), Claim::Claimed);
    let with_headers = StoredAnswer {
        status: 502,
        body: text(r#"{"success":false}"#),
        headers: vec![
            ("x-a".to_string(), "1".to_string()),
            ("x-partial-update".to_string(), "true".to_string()),
        ],
    };
    store
        .complete("acme#k5", "owner-p", &with_headers, now + 86_400)
        .await
        .unwrap();
    let probe = in_progress("acme#k5", "owner-x", "fp", now + 1);
    let Claim::Existing(done) = store.claim(&probe, now + 1).await.unwrap() else {
        panic!("completed record was taken over");
    };
    assert_eq!(done.state, IdempotencyState::Completed(with_headers));
    store
        .complete("acme#k5", "owner-p", &answer(200, text("{}")), now + 86_400)
        .await
        .unwrap();
    let Claim::Existing(done) = store.claim(&probe, now + 1).await.unwrap() else {
        panic!("completed record was taken over");
    };
    assert_eq!(
        done.state,
        IdempotencyState::Completed(answer(200, text("{}")))
    );

    // An item over DynamoDB's 400 KB is refused. (What is left of the record
    // is not asserted: moto applies part of a refused UpdateItem, DynamoDB
    // none; the pipeline never sends such an item, see `stored_body`.)
    let huge = in_progress("acme#k4", "owner-h", "fp", now);
    assert_eq!(store.claim(&huge, now).await.unwrap(), Claim::Claimed);
    let too_big = text(&"x".repeat(MAX_ITEM_BYTES + 1));
    assert!(
        store
            .complete("acme#k4", "owner-h", &answer(200, too_big), now + 86_400)
            .await
            .is_err(),
        "an item over 400 KB must be refused"
    );
}

fn text(body: &str) -> StoredBody {
    StoredBody::Text(body.to_string())
}

fn audit_record(tenant: &str, at: &str, rid: &str) -> AuditRecord {
    AuditRecord {
        tenant_id: tenant.into(),
        at: at.into(),
        request_id: rid.into(),
        user_id: "alice".into(),
        token_id: "tok_1".into(),
        route: "DELETE /groups/{jid}/participants".into(),
        action: "remove".into(),
        group_jid: "1@g.us".into(),
        participants: vec![AuditParticipant {
            jid: "5511888888888@s.whatsapp.net".into(),
            status: Some("failed".into()),
            code: Some(404),
        }],
        status: 200,
        error_code: None,
        upstream_ms: Some(12),
        expires_at: Some(1_900_000_000),
        job_id: Some("job_0192f0c0aa0070008000000000000009".into()),
    }
}

async fn audit(store: &dyn Store) {
    let r2 = audit_record("acme", "2026-11-25T10:00:02.000Z", "r2");
    let r1 = audit_record("acme", "2026-11-25T10:00:01.000Z", "r1");
    let mut r3 = audit_record("acme", "2026-11-25T10:00:03.500Z", "r3");
    r3.error_code = Some("UPSTREAM_TIMEOUT".into());
    r3.status = 504;
    r3.upstream_ms = None;
    r3.expires_at = None;
    r3.participants.clear();
    for r in [
        &r2,
        &r1,
        &r3,
        &audit_record("globex", "2026-11-25T10:00:00.000Z", "g1"),
    ] {
        store.put_audit(r).await.unwrap();
    }
    assert_eq!(
        store.list_audit("acme", None, 100).await.unwrap(),
        vec![r1.clone(), r2.clone(), r3.clone()]
    );
    assert_eq!(
        store
            .list_audit("acme", Some("2026-11-25T10:00:02"), 100)
            .await
            .unwrap(),
        vec![r2.clone(), r3.clone()]
    );
    assert_eq!(
        store.list_audit("acme", None, 2).await.unwrap(),
        vec![r1, r2]
    );
    assert!(
        store
            .list_audit("nobody", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn tokens(store: &dyn Store) {
    assert_eq!(store.get_token("missing").await.unwrap(), None);

    let mut a = token("aaa", "t1", 100);
    a.expires_at = Some(4_102_444_800);
    a.scopes = Some(vec![shared::scope::Scope::GroupsRead]);
    store.put_token(&a).await.unwrap();
    assert_eq!(store.get_token("aaa").await.unwrap(), Some(a.clone()));

    // Hashes are unique: a second put with the same hash is refused and the
    // first record is untouched.
    let mut clash = token("aaa", "t2", 1);
    clash.user_id = "intruder".into();
    assert!(matches!(
        store.put_token(&clash).await,
        Err(StoreError::Other(_))
    ));
    assert_eq!(store.get_token("aaa").await.unwrap(), Some(a.clone()));

    let revoked = store.revoke_token("aaa").await.unwrap().unwrap();
    assert_eq!(revoked.status, TokenStatus::Revoked);
    assert_eq!(revoked.user_id, a.user_id);
    assert_eq!(
        store.get_token("aaa").await.unwrap().unwrap().status,
        TokenStatus::Revoked
    );
    assert_eq!(store.revoke_token("nope").await.unwrap(), None);
    assert_eq!(
        store.get_token("nope").await.unwrap(),
        None,
        "revoke must not create"
    );

    store.put_token(&token("ccc", "t1", 300)).await.unwrap();
    store.put_token(&token("bbb", "t1", 200)).await.unwrap();
    store.put_token(&token("ddd", "t2", 150)).await.unwrap();
    let listed: Vec<String> = store
        .list_tokens("t1")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.token_hash)
        .collect();
    assert_eq!(listed, vec!["aaa", "bbb", "ccc"]);
    assert!(store.list_tokens("t9").await.unwrap().is_empty());
}

async fn tenants(store: &dyn Store) {
    assert_eq!(store.get_tenant("acme").await.unwrap(), None);
    let mut acme = tenant("acme");
    store.put_tenant(&acme).await.unwrap();
    assert_eq!(store.get_tenant("acme").await.unwrap(), Some(acme.clone()));

    // put replaces, including clearing optional fields.
    acme.name = None;
    acme.wuts_base_url = None;
    acme.wuts_api_key = "rotated".into();
    store.put_tenant(&acme).await.unwrap();
    assert_eq!(store.get_tenant("acme").await.unwrap(), Some(acme.clone()));

    // Every engine and its session round-trip; `wuts` takes no session.
    for engine in EngineKind::ALL {
        let mut t = tenant(&format!("t-{engine}"));
        t.engine = engine;
        if engine == EngineKind::Wuts {
            t.wuts_session_id = String::new();
        }
        store.put_tenant(&t).await.unwrap();
        assert_eq!(store.get_tenant(&t.tenant_id).await.unwrap(), Some(t));
    }
    // An engine changed back to session-service reads back as one.
    acme.engine = EngineKind::Evolution;
    store.put_tenant(&acme).await.unwrap();
    acme.engine = EngineKind::SessionService;
    store.put_tenant(&acme).await.unwrap();
    assert_eq!(store.get_tenant("acme").await.unwrap(), Some(acme.clone()));

    let suspended = store
        .set_tenant_status("acme", TenantStatus::Suspended)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(suspended.status, TenantStatus::Suspended);
    assert_eq!(suspended.wuts_api_key, "rotated");
    assert_eq!(
        store.get_tenant("acme").await.unwrap().unwrap().status,
        TenantStatus::Suspended
    );
    assert_eq!(
        store
            .set_tenant_status("ghost", TenantStatus::Active)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_tenant("ghost").await.unwrap(),
        None,
        "status change must not create"
    );
}
