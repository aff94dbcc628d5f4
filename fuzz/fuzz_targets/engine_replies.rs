//! Engine replies are untrusted: whatever bytes and status an engine sends,
//! reading them as each engine's participants or invite reply never panics,
//! and an invite link that comes out is always a chat.whatsapp.com link; a
//! group that comes out of a create, info or list reply always has a valid
//! group JID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::jid::{GroupJid, ParticipantJid};
use shared::wuts::dialect::{self, Reply};
use shared::wuts::{Action, EngineKind, GroupKind, ParticipantsCall};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = [200u16, 201, 400, 401, 403, 404, 409, 422, 429, 500, 501, 503][usize::from(first) % 12];
    let reply = Reply {
        status,
        retry_after: None,
        body: body.to_vec(),
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
            assert!(code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
        if let Ok(group) = dialect::group_reply(engine, &reply) {
            assert!(GroupJid::parse(&group.jid).is_ok(), "{}", group.jid);
        }
        if let Ok(groups) = dialect::list_reply(engine, &reply) {
            assert!(groups.iter().all(|g| GroupJid::parse(&g.jid).is_ok()));
            assert!(groups.iter().all(|g| g.participants.is_none()));
        }
        let _ = dialect::join_reply(engine, &reply);
        let _ = dialect::update_reply(engine, &reply);
        let _ = dialect::picture_reply(engine, &reply);
        let _ = dialect::community_reply(engine, &reply);
    }
});
