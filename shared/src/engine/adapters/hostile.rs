//! Hostile values for every engine's reply readers (issue 21): each
//! engine's shapes with every date and number field set to an out-of-range
//! date, a huge or a negative number. Shared by the readers' unit test and
//! the `engine_replies` fuzz target; test data, linked by neither function.

/// What a date or number field is set to.
pub const VALUES: [&str; 12] = [
    "\"9999-12-31T23:59:59-23:59\"",
    "\"-9999-01-01T00:00:00+23:59\"",
    "\"0001-01-01T00:00:00Z\"",
    "18446744073709551615",
    "-9223372036854775808",
    "9223372036854775807",
    "1e308",
    "-1",
    "\"99999999999999999999999\"",
    "\"-5\"",
    "253402300800",
    "null",
];

/// Each engine's reply shapes; `V` marks the fields set to a hostile value.
pub const TEMPLATES: [&str; 7] = [
    r#"{"JID":"1@g.us","GroupCreated":V,"ParticipantCount":V,"Participants":[{"JID":"1@lid","Error":V,"AddRequest":{"Code":"c","Expiration":V}}]}"#,
    r#"[{"JID":"1@g.us","GroupCreated":V,"ParticipantCount":V,"Error":V,"AddRequest":{"Code":"c","Expiration":V}}]"#,
    r#"{"id":"1@g.us","creation":V,"size":V,"participants":[{"id":"1@lid","admin":V}]}"#,
    r#"[{"id":"1@g.us","creation":V,"size":V},{"groupMetadata":{"id":"2@g.us","creation":V,"size":V}}]"#,
    r#"{"success":true,"group":{"jid":"1@g.us","created_at":V,"members_count":V},"groups":[{"jid":"1@g.us","created_at":V,"members_count":V}],"participants":[{"jid":"1@lid","error":V}]}"#,
    r#"{"updateParticipants":[{"status":V,"jid":"1@lid","content":{"content":[{"tag":"add_request","attrs":{"code":"c","expiration":V}}]}}]}"#,
    r#"{"gid":"1@g.us","participants":{"1@c.us":{"statusCode":V}}}"#,
];

/// `template` with its fields set to `value`.
pub fn body(template: &str, value: &str) -> Vec<u8> {
    template.replace('V', value).into_bytes()
}
