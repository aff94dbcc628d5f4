//! Mapping a 50-participant reply, per engine: the engine's reply bytes →
//! its participant entries (`transport::read`) → one outcome per
//! requested participant → our JSON body. What each engine adds to a warm
//! request besides the network.

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use shared::engine::transport;
use shared::engine::wire::Reply;
use shared::engine::{Action, EngineKind, GroupKind, UpdateParticipants};
use shared::jid::{GroupJid, ParticipantJid};
use shared::operations::participants::{ReplyIndex, outcome};

fn jid(i: usize) -> String {
    format!("55119000{i:05}@s.whatsapp.net")
}

/// Every fifth participant refused by privacy (with an add request), every
/// seventh already a member; the rest added.
fn code(i: usize) -> i64 {
    if i.is_multiple_of(5) {
        403
    } else if i.is_multiple_of(7) {
        409
    } else {
        0
    }
}

fn reply(engine: &str) -> Value {
    let entries = (0..50).map(|i| {
        let (j, c) = (jid(i), code(i));
        let add = (c == 403).then_some(("AbCdEfGhIjKlMnOp", 1_900_000_000));
        match engine {
            "session-service" | "wuts" => json!({
                "jid": j, "phone_number": j, "is_admin": false, "is_super_admin": false,
                "error": c, "add_request": add.map(|(code, exp)| json!({"code": code, "expiration": exp})),
            }),
            "evolution" | "waha/NOWEB" => {
                let mut content = json!({"tag": "participant", "attrs": {"jid": j}});
                if let Some((code, exp)) = add {
                    content["content"] = json!([{"tag": "add_request", "attrs": {"code": code, "expiration": exp.to_string()}}]);
                }
                json!({"status": if c == 0 { "200".to_string() } else { c.to_string() }, "jid": j, "content": content})
            }
            "waha/GOWS" => json!({
                "JID": j, "PhoneNumber": j, "LID": "", "IsAdmin": false, "IsSuperAdmin": false,
                "DisplayName": "", "Error": c,
                "AddRequest": add.map(|(code, _)| json!({"Code": code, "Expiration": "2026-04-09T11:44:32+03:00"})),
            }),
            _ => unreachable!(),
        }
    });
    let list: Vec<Value> = entries.collect();
    match engine {
        "session-service" => json!({"participants": list}),
        "wuts" => json!({"success": true, "participants": list}),
        "evolution" => json!({"updateParticipants": list}),
        _ => Value::Array(list),
    }
}

fn webjs_reply() -> Value {
    let mut map = serde_json::Map::new();
    for i in 0..50 {
        let id = jid(i).replace("@s.whatsapp.net", "@c.us");
        let c = match code(i) {
            0 => 200,
            c => c,
        };
        map.insert(
            id,
            json!({"code": c, "message": "", "isInviteV4Sent": false}),
        );
    }
    Value::Object(map)
}

fn bench(c: &mut Criterion) {
    let call = UpdateParticipants {
        kind: GroupKind::Group,
        group: GroupJid::parse("120363039000000000@g.us").unwrap(),
        action: Action::Add,
        participants: (0..50)
            .map(|i| ParticipantJid::normalise(&jid(i)).unwrap())
            .collect(),
        invite_on_privacy: false,
    };
    let cases = [
        (
            "session-service",
            EngineKind::SessionService,
            reply("session-service"),
        ),
        ("wuts", EngineKind::Wuts, reply("wuts")),
        ("evolution", EngineKind::Evolution, reply("evolution")),
        ("waha/GOWS", EngineKind::Waha, reply("waha/GOWS")),
        ("waha/NOWEB", EngineKind::Waha, reply("waha/NOWEB")),
        ("waha/WEBJS", EngineKind::Waha, webjs_reply()),
    ];
    for (name, engine, body) in cases {
        let reply = Reply {
            status: 200,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: body.to_string().into_bytes(),
        };
        // Every participant is accounted for, as each engine reports it.
        let parsed = transport::read(engine, &call, &reply).unwrap();
        assert_eq!(parsed.len(), 50, "{name}");
        c.bench_function(&format!("map 50-participant reply: {name}"), |b| {
            b.iter(|| {
                let parsed = transport::read(engine, &call, &reply).unwrap();
                let index = ReplyIndex::new(&parsed);
                let entries: Vec<_> = call
                    .participants
                    .iter()
                    .map(|p| outcome(p, call.action, &index))
                    .collect();
                let body = serde_json::to_string(&entries).unwrap();
                assert!(body.len() > 1000);
                body
            });
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
