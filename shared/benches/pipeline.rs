//! The in-process cost of one request, warm: event → `lambda_http::Request`
//! parse, auth-cache hit, validation and normalisation, the (in-process) WUTS
//! simulator, per-participant mapping and JSON serialisation. The network and
//! DynamoDB are not in it; those are measured end to end (docs/PERFORMANCE.md).

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use shared::provision::{self, NewTenant};
use shared::routes::Endpoint;
use shared::store::TenantStatus;
use shared::store::memory::MemoryStore;
use shared::wuts::sim::{DEMO_GROUP, SimGroup, Simulator};
use shared::{AppState, serve};

const EVENT: &str = include_str!("../../events/remove-group-participants.json");

fn event_with(token: &str, participants: &[String]) -> String {
    let mut event: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    event["headers"]["authorization"] = format!("Bearer {token}").into();
    let body = serde_json::json!({ "participants": participants, "action": "promote" });
    event["body"] = body.to_string().into();
    event.to_string()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let token = rt.block_on(async {
        provision::put_tenant(
            store.as_ref(),
            NewTenant {
                tenant_id: "bench".into(),
                name: None,
                status: TenantStatus::Active,
                wuts_base_url: None,
                wuts_session_id: "s".into(),
                wuts_api_key: "k".into(),
            },
            true,
        )
        .await
        .unwrap();
        provision::issue_token(store.as_ref(), "bench", "u", None)
            .await
            .unwrap()
            .token
    });
    let members: Vec<String> = (0..50)
        .map(|i| format!("55119{i:08}@s.whatsapp.net"))
        .collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let sim = Simulator::new();
    sim.put_group(DEMO_GROUP, SimGroup::new(&refs));
    let state = AppState::new(store, Arc::new(sim), Duration::from_secs(3600));

    for n in [1usize, 50] {
        let event = event_with(&token, &members[..n]);
        // Warm the auth cache, as a warm container would have it.
        let warm = lambda_http::request::from_str(&event).unwrap();
        let status = rt.block_on(serve(&state, Some(Endpoint::RemoveGroupParticipants), warm));
        assert_eq!(status.status(), 200);
        c.bench_function(&format!("remove_participants_{n}"), |b| {
            b.iter(|| {
                let req = lambda_http::request::from_str(&event).unwrap();
                let resp = rt.block_on(serve(&state, Some(Endpoint::RemoveGroupParticipants), req));
                assert_eq!(resp.status(), 200);
                resp
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
