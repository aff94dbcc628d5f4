//! Engine replies are untrusted: whatever bytes and status an engine sends,
//! reading them as each engine's participants or invite reply never panics
//! (besides the raw bytes, every reader also gets each engine's shapes with
//! a field set to an out-of-range date, a huge or a negative number),
//! and an invite link that comes out is always a chat.whatsapp.com link; a
//! group that comes out of a create, info or list reply always has a valid
//! group JID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::jid::{GroupJid, ParticipantJid};
use shared::engine::dialect::{self, Done, Reply};
use shared::engine::groups::GroupChange;
use shared::engine::{Action, EngineKind, GroupKind, ListPage, ParticipantsCall};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = [
        200u16, 201, 400, 401, 403, 404, 409, 422, 429, 500, 501, 503,
    ][usize::from(first) % 12];
    let mut bodies = vec![body.to_vec()];
    // Each engine's shapes, with the fuzzed bytes' first byte choosing a
    // hostile value for every date and number field.
    use shared::engine::adapters::hostile;
    let v =
        hostile::VALUES[usize::from(body.first().copied().unwrap_or(0)) % hostile::VALUES.len()];
    // One template per input (the second byte chooses), to keep the run fast.
    let template = hostile::TEMPLATES
        [usize::from(body.get(1).copied().unwrap_or(0)) % hostile::TEMPLATES.len()];
    bodies.push(hostile::body(template, v));
    for body in bodies {
        read_all(status, body);
    }
});

fn read_all(status: u16, body: Vec<u8>) {
    let reply = Reply {
        status,
        retry_after: None,
        content_type: Some("application/json".into()),
        body,
    };
    let call = ParticipantsCall {
        kind: GroupKind::Group,
        group: GroupJid::parse("120363039000000000@g.us").unwrap(),
        action: Action::Add,
        participants: vec![ParticipantJid::normalise("5511888888888").unwrap()],
    };
    for engine in EngineKind::ALL {
        let _ = dialect::participants_reply(engine, &call, &reply);
        if let Ok(link) = dialect::invite_reply(engine, &reply) {
            assert!(link.starts_with("https://chat.whatsapp.com/"), "{link}");
            let code = &link["https://chat.whatsapp.com/".len()..];
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
        }
        for read in [dialect::group_reply, dialect::created_reply] {
            if let Ok(group) = read(engine, &reply) {
                assert!(GroupJid::parse(&group.jid).is_ok(), "{}", group.jid);
            }
        }
        let page = ListPage {
            after: None,
            limit: 3,
        };
        if let Ok(got) = dialect::list_reply(engine, &reply, &page) {
            assert!(got.groups.len() <= 3);
            assert!(got.groups.iter().all(|g| GroupJid::parse(&g.jid).is_ok()));
            assert!(got.groups.iter().all(|g| g.participants.is_none()));
            assert!(got.groups.is_sorted_by(|a, b| a.jid < b.jid));
        }
        let _ = dialect::join_reply(engine, &reply);
        let step = GroupChange {
            name: Some("n".into()),
            ..GroupChange::default()
        };
        let _ = dialect::update_reply(engine, &step, &reply);
        let _ = dialect::picture_reply(engine, &reply);
        let _ = dialect::community_reply(engine, &reply);
        for call in [
            Done::Leave,
            Done::Ephemeral,
            Done::Link,
            Done::Picture,
            Done::Update("locked"),
        ] {
            let _ = dialect::done_reply(engine, call, &reply);
        }
    }
}
