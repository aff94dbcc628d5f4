//! The in-process cost of one request, warm: event → `lambda_http::Request`
//! parse, auth-cache hit, validation and normalisation, the (in-process) WUTS
//! simulator, per-participant mapping and JSON serialisation. The network and
//! DynamoDB are not in it; those are measured end to end (docs/PERFORMANCE.md).

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use shared::operations::{AddGroupParticipants, RemoveGroupParticipants};
use shared::pacing::{Class, Override, Pacing};
use shared::provision::{self, NewTenant};
use shared::store::TenantStatus;
use shared::{AppState, Operation, serve_operation};
use testkit::memory::MemoryStore;
use testkit::sim::{DEMO_GROUP, SimGroup, Simulator};

const EVENT: &str = include_str!("../../../events/remove-group-participants.json");

/// The remove event, as `method` on the same path; the body names the action
/// for a remove (promote: nobody leaves between iterations) and not for an
/// add (the route's default).
fn event_with(token: &str, method: &str, participants: &[String]) -> String {
    let mut event: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    event["headers"]["authorization"] = format!("Bearer {token}").into();
    event["requestContext"]["http"]["method"] = method.into();
    event["routeKey"] = format!("{method} /groups/{{jid}}/participants").into();
    let body = if method == "DELETE" {
        serde_json::json!({ "participants": participants, "action": "promote" })
    } else {
        serde_json::json!({ "participants": participants })
    };
    event["body"] = body.to_string().into();
    event.to_string()
}

fn run<Op: Operation>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    state: &AppState<Simulator, MemoryStore>,
    name: &str,
    event: &str,
) {
    // Warm the auth cache, as a warm container would have it.
    let warm = lambda_http::request::from_str(event).unwrap();
    let status = rt.block_on(serve_operation::<Op, _, _>(state, warm));
    assert_eq!(status.status(), 200);
    c.bench_function(name, |b| {
        b.iter(|| {
            let req = lambda_http::request::from_str(event).unwrap();
            let resp = rt.block_on(serve_operation::<Op, _, _>(state, req));
            assert_eq!(resp.status(), 200);
            resp
        })
    });
}

/// A tenant on the session-service engine, and a token of it.
async fn tenant_token(store: &MemoryStore, tenant_id: &str, pacing: Pacing) -> String {
    provision::put_tenant(
        store,
        NewTenant {
            tenant_id: tenant_id.into(),
            name: None,
            status: TenantStatus::Active,
            engine: shared::engine::EngineKind::SessionService,
            wuts_base_url: None,
            wuts_session_id: "s".into(),
            wuts_api_key: "k".into(),
            pacing,
        },
        true,
    )
    .await
    .unwrap();
    provision::issue_token(store, tenant_id, "u", None, None)
        .await
        .unwrap()
        .token
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let token = rt.block_on(tenant_token(&store, "bench", Pacing::off()));
    // The guard on, with a change budget that never runs out, so every
    // iteration is granted.
    let mut paced = Pacing::default();
    paced.classes.insert(
        Class::Change,
        Override {
            interval_ms: Some(1),
            burst: Some(1_000_000),
            daily: Some(u32::MAX),
        },
    );
    let paced_token = rt.block_on(tenant_token(&store, "paced", paced));
    let members: Vec<String> = (0..50)
        .map(|i| format!("55119{i:08}@s.whatsapp.net"))
        .collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let sim = Simulator::new();
    sim.put_group(DEMO_GROUP, SimGroup::new(&refs));
    // A concrete engine, as in a Lambda binary: static calls.
    let state = AppState::with_engine(store, Arc::new(sim), Duration::from_secs(3600));

    for n in [1usize, 50] {
        let event = event_with(&token, "DELETE", &members[..n]);
        let name = format!("remove_participants_{n}");
        run::<RemoveGroupParticipants>(c, &rt, &state, &name, &event);
    }
    // 50 numbers to add; from the second iteration on each is already a
    // member, which is a per-participant outcome, not an error.
    let newcomers: Vec<String> = (0..50)
        .map(|i| format!("55219{i:08}@s.whatsapp.net"))
        .collect();
    let event = event_with(&token, "POST", &newcomers);
    run::<AddGroupParticipants>(c, &rt, &state, "add_participants_50", &event);

    // The same remove with the pacing guard on: the difference to
    // remove_participants_1 is the guard's in-process cost (the engine's
    // pre-send check, the GCRA, the lane key) over the memory store.
    let event = event_with(&paced_token, "DELETE", &members[..1]);
    run::<RemoveGroupParticipants>(c, &rt, &state, "remove_participants_1_paced", &event);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
