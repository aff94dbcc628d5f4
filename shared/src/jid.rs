//! Identifiers: group/community JIDs from the path, participants from the body.
//! Everything that reaches the WUTS client has passed through here.

use std::fmt;

use percent_encoding::percent_decode_str;

/// A validated group or community JID: `<digits>@g.us` or `<digits>-<digits>@g.us`.
/// It contains only ASCII digits, at most one `-`, `@`, `g`, `.`, `u`, `s`,
/// so it is safe in a URL path segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct GroupJid(String);

const GROUP_SERVER: &str = "@g.us";
const USER_SERVER: &str = "@s.whatsapp.net";
const LID_SERVER: &str = "@lid";
const MAX_ID_DIGITS: usize = 32;

impl GroupJid {
    /// Parses a raw (still percent-encoded) path segment: decoded exactly once,
    /// then checked strictly.
    pub fn from_path_segment(raw: &str) -> Result<Self, String> {
        let decoded = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| "group JID is not valid UTF-8".to_string())?;
        Self::parse(&decoded)
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let invalid = || {
            "must be a group JID such as 120363039000000000@g.us (or the legacy <digits>-<digits>@g.us)"
                .to_string()
        };
        let user = s.strip_suffix(GROUP_SERVER).ok_or_else(invalid)?;
        let ok = match user.split_once('-') {
            Some((a, b)) => is_id_digits(a) && is_id_digits(b),
            None => is_id_digits(user),
        };
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupJid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_id_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_DIGITS && s.bytes().all(|b| b.is_ascii_digit())
}

/// A participant as sent upstream: `<digits>@s.whatsapp.net` or `<digits>@lid`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ParticipantJid(String);

impl ParticipantJid {
    /// Accepts a phone-number JID, a LID, or a phone number (optional `+`,
    /// digits with spaces, dashes, dots or parentheses, 7–15 digits), and
    /// normalises to a JID. The server part is matched case-insensitively.
    pub fn normalise(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if let Some(at) = s.find('@') {
            let (user, server) = s.split_at(at);
            let server = server.to_ascii_lowercase();
            if server == USER_SERVER || server == LID_SERVER {
                if is_id_digits(user) {
                    return Ok(Self(format!("{user}{server}")));
                }
                return Err(format!(
                    "the part before {server} must be 1 to {MAX_ID_DIGITS} digits"
                ));
            }
            return Err("must be a phone number, <digits>@s.whatsapp.net or <digits>@lid".into());
        }
        normalise_phone(s).map(|digits| Self(format!("{digits}{USER_SERVER}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The phone-number JID, when this participant is addressed by phone.
    pub fn phone_number(&self) -> Option<&str> {
        self.0.ends_with(USER_SERVER).then_some(self.0.as_str())
    }
}

impl fmt::Display for ParticipantJid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn normalise_phone(s: &str) -> Result<String, String> {
    let rest = s.strip_prefix('+').unwrap_or(s);
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(
                    "must be a phone number, <digits>@s.whatsapp.net or <digits>@lid".into(),
                );
            }
        }
    }
    if !(7..=15).contains(&digits.len()) {
        return Err("a phone number must have 7 to 15 digits (E.164)".into());
    }
    if digits.starts_with('0') {
        return Err(
            "a phone number must be in international form, starting with the country code".into(),
        );
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_jids() {
        for ok in [
            "120363039000000000@g.us",
            "5511999999999-1600000000@g.us",
            "1@g.us",
        ] {
            assert_eq!(GroupJid::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "@g.us",
            "abc@g.us",
            "123@s.whatsapp.net",
            "123@lid",
            "123@G.US",
            "1-2-3@g.us",
            "-1@g.us",
            "1-@g.us",
            "123@g.us/../x",
            "../123@g.us",
            "123 @g.us",
            "123@g.us?x=1",
            "123@g.us#x",
            "１２３@g.us",
            &format!("{}@g.us", "1".repeat(33)),
        ] {
            assert!(GroupJid::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn hostile_path_segments() {
        for bad in [
            "..%2F..%2Fx@g.us",
            "%2e%2e%2f123@g.us",
            "%00@g.us",
            "123%00@g.us",
            "123@s.whatsapp.net",
            "123%40g.us%2F..",
            "123%2540g.us",
            "%ff@g.us",
            "123@g.us%3Fa=b",
            "123@g.us%23frag",
        ] {
            assert!(
                GroupJid::from_path_segment(bad).is_err(),
                "{bad:?} accepted"
            );
        }
        // Decoded exactly once: %40 is '@'.
        assert_eq!(
            GroupJid::from_path_segment("120363%40g.us")
                .unwrap()
                .as_str(),
            "120363@g.us"
        );
    }

    #[test]
    fn participants_normalise() {
        let cases = [
            (
                "5511888888888@s.whatsapp.net",
                "5511888888888@s.whatsapp.net",
            ),
            (
                "5511888888888@S.WhatsApp.NET",
                "5511888888888@s.whatsapp.net",
            ),
            ("123456789@lid", "123456789@lid"),
            ("+55 (11) 98888-8888", "5511988888888@s.whatsapp.net"),
            ("55.11.98888.8888", "5511988888888@s.whatsapp.net"),
            ("  +14155550123 ", "14155550123@s.whatsapp.net"),
            ("1234567", "1234567@s.whatsapp.net"),
            ("123456789012345", "123456789012345@s.whatsapp.net"),
        ];
        for (input, want) in cases {
            assert_eq!(
                ParticipantJid::normalise(input).unwrap().as_str(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn participants_rejected() {
        for bad in [
            "",
            "   ",
            "123456",
            "1234567890123456",
            "0800123456",
            "++5511988888888",
            "55 11 9888x8888",
            "5511@c.us",
            "abc@s.whatsapp.net",
            "@lid",
            "123@g.us",
            "1@lid@lid",
            "5511988888888@s.whatsapp.net/../x",
            "+",
            "٥٥١١٩٨٨٨٨٨٨٨٨",
        ] {
            assert!(ParticipantJid::normalise(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn phone_number_only_for_phone_jids() {
        let p = ParticipantJid::normalise("+5511988888888").unwrap();
        assert_eq!(p.phone_number(), Some("5511988888888@s.whatsapp.net"));
        let l = ParticipantJid::normalise("99@lid").unwrap();
        assert_eq!(l.phone_number(), None);
    }
}
