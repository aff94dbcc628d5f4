//! Group JIDs from the path and participant normalisation: never panic; every
//! accepted value re-validates to itself and is safe in a URL path segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::jid::{GroupJid, ParticipantJid};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(group) = GroupJid::from_path_segment(s) {
        assert_eq!(GroupJid::parse(group.as_str()).as_ref(), Ok(&group));
        assert!(group.as_str().bytes().all(|b| b.is_ascii_digit() || b"-@g.us".contains(&b)));
    }
    if let Ok(p) = ParticipantJid::normalise(s) {
        assert_eq!(ParticipantJid::normalise(p.as_str()).as_ref(), Ok(&p));
        assert!(p.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"@.".contains(&b)));
    }
});
