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
use shared::engine::calls::{
    GroupInfo, Invite, InviteCall, Leave, LinkGroup, ListGroups, SetEphemeral, SetPicture,
    UpdateGroup,
};
use shared::engine::groups::{GroupChange, Join, NewCommunity, NewGroup};
use shared::engine::transport::read;
use shared::engine::wire::Reply;
use shared::engine::{Action, EngineKind, GroupKind, ListPage, UpdateParticipants};

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
    let call = UpdateParticipants {
        kind: GroupKind::Group,
        group: GroupJid::parse("120363039000000000@g.us").unwrap(),
        action: Action::Add,
        participants: vec![ParticipantJid::normalise("5511888888888").unwrap()],
        invite_on_privacy: false,
    };
    let group = GroupJid::parse("120363039000000000@g.us").unwrap();
    let new_group = NewGroup {
        name: "n".into(),
        participants: vec![],
        options: Default::default(),
    };
    let step = GroupChange {
        name: Some("n".into()),
        ..GroupChange::default()
    };
    for engine in EngineKind::ALL {
        let _ = read(engine, &call, &reply);
        let invite = Invite {
            group: group.clone(),
            which: InviteCall::Get,
        };
        if let Ok(link) = read(engine, &invite, &reply) {
            assert!(link.starts_with("https://chat.whatsapp.com/"), "{link}");
            let code = &link["https://chat.whatsapp.com/".len()..];
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
        }
        let info = GroupInfo {
            group: group.clone(),
        };
        for got in [read(engine, &info, &reply), read(engine, &new_group, &reply)] {
            if let Ok(group) = got {
                assert!(GroupJid::parse(&group.jid).is_ok(), "{}", group.jid);
            }
        }
        let page = ListPage {
            after: None,
            limit: 3,
        };
        if let Ok(got) = read(engine, &ListGroups { page }, &reply) {
            assert!(got.groups.len() <= 3);
            assert!(got.groups.iter().all(|g| GroupJid::parse(&g.jid).is_ok()));
            assert!(got.groups.iter().all(|g| g.participants.is_none()));
            assert!(got.groups.is_sorted_by(|a, b| a.jid < b.jid));
        }
        let join = Join::Link {
            code: "AbCdEfGhIjKlMnOpQrStUv".into(),
        };
        let _ = read(engine, &join, &reply);
        let update = UpdateGroup {
            group: group.clone(),
            step: step.clone(),
        };
        let _ = read(engine, &update, &reply);
        let picture = SetPicture {
            group: group.clone(),
            base64: String::new(),
        };
        let _ = read(engine, &picture, &reply);
        let community = NewCommunity {
            name: "n".into(),
            participants: vec![],
            description: None,
        };
        let _ = read(engine, &community, &reply);
        let _ = read(engine, &Leave { group: group.clone() }, &reply);
        let ephemeral = SetEphemeral {
            group: group.clone(),
            seconds: 0,
        };
        let _ = read(engine, &ephemeral, &reply);
        let link = LinkGroup {
            community: group.clone(),
            group: group.clone(),
            link: true,
        };
        let _ = read(engine, &link, &reply);
        // Issue 26's readers: every JID they hand on is a valid one.
        let requests = shared::engine::calls::JoinRequests {
            group: group.clone(),
        };
        if let Ok(list) = read(engine, &requests, &reply) {
            assert!(
                list.iter()
                    .all(|r| ParticipantJid::normalise(&r.jid).is_ok_and(|p| p.as_str() == r.jid))
            );
        }
        let answer = shared::engine::calls::AnswerJoinRequests {
            group: group.clone(),
            approve: true,
            participants: vec![ParticipantJid::normalise("5511888888888").unwrap()],
        };
        let _ = read(engine, &answer, &reply);
        let preview = shared::engine::calls::InviteInfo {
            code: "AbCdEfGhIjKlMnOpQrStUv".into(),
        };
        if let Ok(g) = read(engine, &preview, &reply) {
            assert!(GroupJid::parse(&g.jid).is_ok(), "{}", g.jid);
            assert!(g.participants.is_none());
        }
        let linked = shared::engine::calls::CommunityGroups {
            community: group.clone(),
        };
        if let Ok(groups) = read(engine, &linked, &reply) {
            assert!(groups.iter().all(|g| GroupJid::parse(&g.jid).is_ok()));
            assert!(groups.iter().all(|g| g.jid != group.as_str()));
        }
    }
}
