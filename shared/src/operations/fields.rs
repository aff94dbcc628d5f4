//! What the bodies of the rest of the Groups family share: a JSON object
//! with known fields only, names, topics, switches, each problem collected
//! as a `validation` entry (`api.md`, "Rules for these routes").

use serde_json::{Map, Value};

use crate::engine::EngineError;
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;

/// An engine error on a call that carries a name: WhatsApp's 406 (older
/// servers refuse names over 25 characters) is a 400 naming `name`.
pub fn name_refused(err: EngineError) -> ApiError {
    match err {
        EngineError::Status { status: 406, .. } => ApiError::validation(
            "WhatsApp refused the name",
            vec![FieldError::new(
                "name",
                "not acceptable to WhatsApp (406); some servers take at most 25 characters",
            )],
        ),
        other => other.into(),
    }
}

/// A name's length after trimming (WhatsApp's subject limit).
pub const MAX_NAME_CHARS: usize = 100;
/// A topic's (description's) length.
pub const MAX_TOPIC_CHARS: usize = 2048;

/// The body as a JSON object whose keys are all in `allowed`; unknown keys
/// are added to `errors`.
pub fn object(
    bytes: &[u8],
    allowed: &[&str],
    errors: &mut Vec<FieldError>,
) -> Result<Map<String, Value>, ApiError> {
    let fail = |message: &str| {
        ApiError::validation(
            "validation failed",
            vec![FieldError::new("body", message.to_string())],
        )
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail("a JSON object is required"));
    }
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return Err(fail("body is not valid JSON"));
    };
    let Value::Object(map) = value else {
        return Err(fail("body must be a JSON object"));
    };
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            errors.push(FieldError::new(
                key.as_str(),
                format!("unknown field; allowed: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(map)
}

/// The collected problems as one 400, or `value`.
pub fn finish<T>(errors: Vec<FieldError>, value: Option<T>) -> Result<T, ApiError> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(ApiError::validation("validation failed", errors)),
    }
}

fn control(c: char, newline_ok: bool) -> bool {
    c.is_control() && !(newline_ok && c == '\n')
}

/// A group or community name: a string, 1 to 100 characters after
/// trimming, no control characters. Trimmed.
pub fn name(value: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let Some(value) = value else {
        errors.push(FieldError::new(field, "is required"));
        return None;
    };
    let Value::String(raw) = value else {
        errors.push(FieldError::new(field, "must be a string"));
        return None;
    };
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        errors.push(
            FieldError::new(
                field,
                format!("must be 1 to {MAX_NAME_CHARS} characters after trimming (got {chars})"),
            )
            .with_value(raw),
        );
        return None;
    }
    if trimmed.chars().any(|c| control(c, false)) {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
        return None;
    }
    Some(trimmed.to_string())
}

/// A topic or description: a string of at most 2048 characters; line
/// breaks are allowed (WhatsApp descriptions have them), other control
/// characters are not. Kept as given, trailing whitespace trimmed.
pub fn topic(value: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let Value::String(raw) = value else {
        errors.push(FieldError::new(field, "must be a string"));
        return None;
    };
    let text = raw.trim_end();
    let chars = text.chars().count();
    if chars > MAX_TOPIC_CHARS {
        errors.push(FieldError::new(
            field,
            format!("must be at most {MAX_TOPIC_CHARS} characters (got {chars})"),
        ));
        return None;
    }
    if text.chars().any(|c| control(c, true)) {
        errors.push(FieldError::new(
            field,
            "must not contain control characters other than line breaks",
        ));
        return None;
    }
    Some(text.to_string())
}

/// An optional `true`/`false`.
pub fn switch(map: &Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) -> Option<bool> {
    match map.get(field)? {
        Value::Bool(b) => Some(*b),
        other => {
            errors.push(
                FieldError::new(field, "must be true or false").with_value(&other.to_string()),
            );
            None
        }
    }
}

/// A group JID in a body field.
pub fn group_jid(value: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<GroupJid> {
    let Value::String(s) = value else {
        errors.push(FieldError::new(field, "must be a group JID string"));
        return None;
    };
    match GroupJid::parse(s.trim()) {
        Ok(jid) => Some(jid),
        Err(message) => {
            errors.push(FieldError::new(field, message).with_value(s));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        let mut errors = Vec::new();
        assert_eq!(
            name(Some(&json!("  Team  ")), "name", &mut errors).as_deref(),
            Some("Team")
        );
        assert_eq!(
            name(Some(&json!("é".repeat(100))), "name", &mut errors).map(|n| n.chars().count()),
            Some(100)
        );
        assert!(errors.is_empty());
        for bad in [
            json!(""),
            json!("   "),
            json!("x".repeat(101)),
            json!("a\u{0}b"),
            json!("a\nb"),
            json!(5),
        ] {
            let mut errors = Vec::new();
            assert!(name(Some(&bad), "name", &mut errors).is_none(), "{bad}");
            assert_eq!(errors[0].field, "name");
        }
        let mut errors = Vec::new();
        assert!(name(None, "name", &mut errors).is_none());
    }

    #[test]
    fn topics() {
        let mut errors = Vec::new();
        assert_eq!(
            topic(&json!("line one\nline two"), "topic", &mut errors).as_deref(),
            Some("line one\nline two")
        );
        assert_eq!(topic(&json!(""), "topic", &mut errors).as_deref(), Some(""));
        assert!(errors.is_empty());
        for bad in [json!("x".repeat(2049)), json!("a\u{7}b"), json!(null)] {
            let mut errors = Vec::new();
            assert!(topic(&bad, "topic", &mut errors).is_none(), "{bad}");
        }
    }

    #[test]
    fn objects_refuse_unknown_fields() {
        let mut errors = Vec::new();
        let map = object(br#"{"name":"x","zzz":1}"#, &["name"], &mut errors).unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(errors[0].field, "zzz");
        for bad in ["", "[]", "{", "null"] {
            assert!(
                object(bad.as_bytes(), &["name"], &mut Vec::new()).is_err(),
                "{bad:?}"
            );
        }
    }
}
