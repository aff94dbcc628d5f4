//! Engine webhooks are untrusted: whatever bytes an engine (or anyone with
//! a hook URL) posts, each engine's payload reader never panics, and every
//! event that comes out names a valid group JID, valid person JIDs (as this
//! API writes them), a participants event has participants, and a
//! `group.updated` has changes. Besides the raw bytes, each reader gets the
//! fuzzed JSON value inside its own engine's envelopes, so the fuzzer
//! reaches past the first `event` check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use shared::events::engines::{evolution, session_service, waha, wuts};
use shared::events::{EventType, Parsed};
use shared::jid::{GroupJid, ParticipantJid};

fn check(parsed: &Parsed) {
    for e in &parsed.events {
        GroupJid::parse(&e.group_jid).expect("a valid group JID");
        for p in &e.participants {
            let normal = ParticipantJid::normalise(&p.jid).expect("a valid person JID");
            assert_eq!(normal.as_str(), p.jid, "normalised as everywhere else");
        }
        if let Some(a) = &e.actor {
            ParticipantJid::normalise(&a.jid).expect("a valid actor JID");
        }
        match e.kind {
            EventType::ParticipantsAdded
            | EventType::ParticipantsRemoved
            | EventType::ParticipantsPromoted
            | EventType::ParticipantsDemoted => assert!(!e.participants.is_empty()),
            EventType::GroupUpdated => {
                assert!(e.changes.as_ref().is_some_and(|c| !c.is_empty()))
            }
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let readers: [fn(&Value) -> Parsed; 4] =
        [evolution::parse, waha::parse, wuts::parse, session_service::parse];
    for read in readers {
        check(&read(&value));
    }
    let g = "120363039000000000@g.us";
    let wrapped = [
        json!({"event": "group-participants.update", "instance": "x", "sender": "5511999990000@s.whatsapp.net", "data": value}),
        json!({"event": "groups.update", "data": value}),
        json!({"event": "groups.upsert", "data": [value]}),
        json!({"event": "group.v2.participants", "engine": "GOWS", "me": {"id": "5511999990000@c.us", "lid": "1@lid"}, "payload": value}),
        json!({"event": "group.v2.update", "engine": "WEBJS", "payload": {"group": value, "_data": value}}),
        json!({"event": "group.v2.update", "engine": "NOWEB", "payload": {"group": value}}),
        json!({"event": "group.info", "data": value}),
        json!({"type": "GroupInfo", "event": value}),
        json!({"events": [value, {"type": "group.updated", "data": {"group_jid": g, "changes": value}}]}),
    ];
    for v in &wrapped {
        for read in readers {
            check(&read(v));
        }
    }
});
