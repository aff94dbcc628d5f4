//! The participants body parser/validator: never panics; whatever it accepts
//! is 1..=50 distinct participants that re-validate to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::operations::participants::{MAX_PARTICIPANTS, parse_body};
use shared::jid::ParticipantJid;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = parse_body(data) {
        assert!(!body.participants.is_empty() && body.participants.len() <= MAX_PARTICIPANTS);
        for (i, p) in body.participants.iter().enumerate() {
            assert_eq!(ParticipantJid::normalise(p.as_str()).as_ref(), Ok(p));
            assert!(!body.participants[..i].contains(p), "duplicate {p}");
        }
    }
});
