//! Issue 15's numbers: mapping a 5,000-group list reply, and a
//! 50-participant create reply, per engine shape — the engine's bytes →
//! our `Group`s (`transport::read` of a `ListGroups` / a create) → our JSON answer.
//! Peak memory for the same list: `cargo run --release -p shared --example
//! list_rss`.

use criterion::{Criterion, criterion_group, criterion_main};
use shared::engine::ListPage;
use shared::engine::calls::ListGroups;
use shared::engine::groups::NewGroup;
use shared::engine::transport;
use shared::engine::wire::Reply;
use shared::operations::list_groups;

#[path = "support/shapes.rs"]
mod shapes;

fn bench(c: &mut Criterion) {
    for (name, engine, bytes) in shapes::lists(5_000) {
        let reply = Reply {
            status: 200,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: bytes,
        };
        // The default page (500) and the largest (1,000) of a 5,000-group
        // reply: the whole reply is read either way.
        for limit in [list_groups::DEFAULT_LIMIT, list_groups::MAX_LIMIT] {
            let page = ListPage { after: None, limit };
            let got = transport::read(engine, &ListGroups { page: page.clone() }, &reply).unwrap();
            assert_eq!(got.groups.len(), limit);
            assert!(got.more);
            c.bench_function(&format!("list 5000 groups, page of {limit}: {name}"), |b| {
                b.iter(|| {
                    let got = transport::read(engine, &ListGroups { page: page.clone() }, &reply)
                        .unwrap();
                    serde_json::to_string(&list_groups::reply(&got.groups, got.more)).unwrap()
                })
            });
        }
    }
    // What the reply answers; the readers do not look at it.
    let create = NewGroup {
        name: "bench".into(),
        participants: vec![],
        options: Default::default(),
    };
    for (name, engine, bytes) in shapes::creates(50) {
        let reply = Reply {
            status: 201,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: bytes,
        };
        let g = transport::read(engine, &create, &reply).unwrap();
        assert_eq!(g.participants.as_ref().map(Vec::len), Some(50), "{name}");
        c.bench_function(&format!("create with 50 participants: {name}"), |b| {
            b.iter(|| {
                let group = transport::read(engine, &create, &reply).unwrap();
                serde_json::to_string(&serde_json::json!({"success": true, "group": group}))
                    .unwrap()
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
