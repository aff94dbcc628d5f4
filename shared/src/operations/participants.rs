//! What the four participant operations share: the body, its validation, the
//! engine call and the per-participant outcomes. Each route is its own file
//! (`add_group_participants.rs`, ...); they differ in route, default action,
//! the WUTS route (group or community) and the reply's shape.

use std::collections::{HashMap, HashSet};

use lambda_http::Request;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{ok, path_jid};
use crate::engine::{Action, AddRequest, Engine, EngineParticipant, GroupKind, UpdateParticipants};
use crate::error::{ApiError, FieldError};
use crate::jid::ParticipantJid;
use crate::operation::{Executed, On, Subject};
use crate::routes::Params;
use crate::store::AuditParticipant;

pub const MAX_PARTICIPANTS: usize = 50;

/// One participant operation: its route, the kind of group its engine call
/// names, its default action and its reply (`PLAIN`, or
/// `WITH_JID_AND_ACTION`). Everything else (validation, the call, the
/// per-participant outcomes) is this module's, shared by the four.
macro_rules! participants_operation {
    ($(#[$doc:meta])* $name:ident: $method:literal $path:literal => $function:literal,
     $kind:ident, $action:ident, $reply:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::operation::Operation for $name {
            const ROUTE: $crate::routes::Route =
                $crate::routes::Route::write($method, $path, $function);
            type Command = $crate::engine::UpdateParticipants;

            fn prepare(
                params: &$crate::routes::Params<'_>,
                req: &lambda_http::Request,
            ) -> Result<Self::Command, $crate::error::ApiError> {
                $crate::operations::participants::prepare(
                    $crate::engine::GroupKind::$kind,
                    $crate::engine::Action::$action,
                    params,
                    req,
                )
            }

            fn subject(call: &Self::Command) -> $crate::operation::Subject<'_> {
                $crate::operations::participants::subject(call)
            }

            async fn execute<E: $crate::engine::Engine + ?Sized>(
                call: &Self::Command,
                on: $crate::operation::On<'_, E>,
            ) -> Result<$crate::operation::Executed, $crate::error::ApiError> {
                $crate::operations::participants::execute::<
                    { $crate::operations::participants::$reply },
                    E,
                >(call, on)
                .await
            }
        }
    };
}
pub(crate) use participants_operation;

/// A validated body: the action and the de-duplicated, normalised participants
/// in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantsBody {
    pub action: Action,
    pub participants: Vec<ParticipantJid>,
    /// `invite_on_privacy` (an add only).
    pub invite_on_privacy: bool,
}

/// Validates the path and body into the upstream call; `default` is the
/// route's action when the body names none.
pub fn prepare(
    kind: GroupKind,
    default: Action,
    params: &Params<'_>,
    req: &Request,
) -> Result<UpdateParticipants, ApiError> {
    let limits = (MAX_PARTICIPANTS, super::MAX_BODY_BYTES);
    prepare_up_to(kind, default, params, req, limits)
}

/// [`prepare`] with its own limits: (participants, body bytes).
pub fn prepare_up_to(
    kind: GroupKind,
    default: Action,
    params: &Params<'_>,
    req: &Request,
    (max, body_limit): (usize, usize),
) -> Result<UpdateParticipants, ApiError> {
    let group = path_jid(params.get("jid"))?;
    let bytes = super::json_body_up_to(req, body_limit)?;
    let body = parse_body_up_to(bytes, default, max)?;
    Ok(UpdateParticipants {
        kind,
        group,
        action: body.action,
        participants: body.participants,
        invite_on_privacy: body.invite_on_privacy,
    })
}

pub fn subject(call: &UpdateParticipants) -> Subject<'_> {
    Subject {
        action: call.action.as_str(),
        group: Some(&call.group),
        participants: &call.participants,
    }
}

/// The reply's shape, a constant of each operation (so a binary compiles only
/// its own): `PLAIN` is `{success, participants}`; `WITH_JID_AND_ACTION` (the
/// community add route) also names the community and the action.
pub const PLAIN: bool = false;
pub const WITH_JID_AND_ACTION: bool = true;

/// One engine call; one response entry per requested participant.
pub async fn execute<const WITH_JID_AND_ACTION: bool, E: Engine + ?Sized>(
    call: &UpdateParticipants,
    mut on: On<'_, E>,
) -> Result<Executed, ApiError> {
    let reply = on.call(call.clone()).await?;
    let invited = private_invites(&mut on, call, &reply).await;
    let index = ReplyIndex::new(&reply);
    let entries: Vec<Entry> = call
        .participants
        .iter()
        .map(|p| outcome(p, call.action, &index).invited(&invited))
        .collect();
    let outcomes = entries.iter().map(Entry::audit).collect();
    let response = if WITH_JID_AND_ACTION {
        ok(
            on.ctx,
            &CommunityReply {
                success: true,
                jid: call.group.as_str(),
                action: call.action.as_str(),
                participants: &entries,
            },
        )?
    } else {
        ok(
            on.ctx,
            &Reply {
                success: true,
                participants: &entries,
            },
        )?
    };
    Ok(Executed {
        response,
        outcomes,
        audit_group: None,
    })
}

/// `POST /communities/{jid}/participants`'s body.
#[derive(Serialize)]
struct CommunityReply<'a> {
    success: bool,
    jid: &'a str,
    action: &'a str,
    participants: &'a [Entry<'a>],
}

/// The success body.
#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    participants: &'a [Entry<'a>],
}

/// One entry of the response's `participants`, per requested participant.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    pub jid: &'a str,
    pub phone_number: Option<&'a str>,
    pub is_admin: bool,
    pub is_super_admin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lid: Option<&'a str>,
    pub status: EntryStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryError<'a>>,
    /// Whether the private invitation went to a participant WhatsApp's
    /// privacy settings refused (`invite_on_privacy`, or an engine that
    /// sends it on its own); absent where none was due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_sent: Option<bool>,
    /// Why it was not sent (or, alone, why whether it went is unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_error: Option<&'static str>,
    /// The engine's name for the participant, where its reply had one.
    #[serde(skip)]
    pub engine_jid: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    Ok,
    Failed,
    /// WUTS's reply did not mention the participant.
    Unconfirmed,
}

impl EntryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Unconfirmed => "unconfirmed",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EntryError<'a> {
    pub code: i64,
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_request: Option<&'a AddRequest>,
}

/// What became of one private invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invited {
    /// `Some(true)` sent, `Some(false)` not; `None`: it may have gone.
    pub sent: Option<bool>,
    pub error: Option<&'static str>,
}

impl Invited {
    const SENT: Invited = Invited {
        sent: Some(true),
        error: None,
    };

    fn not(reason: &'static str) -> Invited {
        Invited {
            sent: Some(false),
            error: Some(reason),
        }
    }
}

/// The private invitations an add with `invite_on_privacy` owes, by the
/// engine's JID for the participant: one for each privacy refusal (403)
/// the engine did not answer itself (WAHA on WEBJS sends its own and says
/// so), sent one after the other within the request's deadline. A refusal
/// without an `add_request`, or with an expired one, cannot be answered.
pub async fn private_invites<E: Engine + ?Sized>(
    on: &mut On<'_, E>,
    call: &UpdateParticipants,
    reply: &[EngineParticipant],
) -> HashMap<String, Invited> {
    let mut out = HashMap::new();
    if !call.invite_on_privacy || call.action != Action::Add {
        return out;
    }
    let now = crate::clock::now_epoch();
    for p in reply {
        if p.error != Some(403) || p.invite_sent.is_some() {
            continue;
        }
        let invited = match &p.add_request {
            None => Invited::not("no_add_request"),
            Some(r) if r.expiration.is_some_and(|e| e <= now) => Invited::not("expired"),
            Some(r) => {
                let invite = crate::engine::calls::PrivateInvite {
                    group: call.group.clone(),
                    participant: p.jid.clone(),
                    code: r.code.clone(),
                    expiration: r.expiration,
                };
                match on.call(invite).await {
                    Ok(()) => Invited::SENT,
                    Err(e) => invite_failure(&e),
                }
            }
        };
        out.insert(p.jid.clone(), invited);
    }
    out
}

/// A failed private invitation, in the entry's words.
fn invite_failure(e: &crate::engine::EngineError) -> Invited {
    use crate::engine::{EngineError, Reach};
    match e {
        EngineError::NotSupported { .. } => Invited::not("not_supported"),
        EngineError::OutOfTime => Invited::not("out_of_time"),
        EngineError::Status { status: 429, .. } => Invited::not("rate_limited"),
        e if e.reach() == Reach::MayHaveActed => Invited {
            sent: None,
            error: Some("outcome_unknown"),
        },
        _ => Invited::not("engine_refused"),
    }
}

impl<'a> Entry<'a> {
    /// The entry with its private invitation's outcome: the engine's own
    /// word where it sent one, else what [`private_invites`] did.
    pub fn invited(mut self, invited: &HashMap<String, Invited>) -> Entry<'a> {
        if self.invite_sent.is_some() {
            return self;
        }
        if let Some(i) = self
            .engine_jid
            .and_then(|jid| invited.get(jid))
            .or_else(|| invited.get(self.jid))
        {
            self.invite_sent = i.sent;
            self.invite_error = i.error;
        }
        self
    }

    pub fn audit(&self) -> AuditParticipant {
        AuditParticipant {
            jid: self.jid.to_string(),
            status: Some(self.status.as_str().to_string()),
            code: self.error.as_ref().map(|e| e.code),
        }
    }
}

/// WUTS's reply looked up by every name a participant goes by (JID, phone
/// number, LID). The first entry in reply order wins, as a scan would.
pub struct ReplyIndex<'a>(HashMap<&'a str, &'a EngineParticipant>);

impl<'a> ReplyIndex<'a> {
    pub fn new(reply: &'a [EngineParticipant]) -> Self {
        let mut map = HashMap::with_capacity(reply.len() * 2);
        for p in reply {
            let names = [
                Some(p.jid.as_str()),
                p.phone_number.as_deref(),
                p.lid.as_deref(),
            ];
            for name in names.into_iter().flatten() {
                map.entry(name).or_insert(p);
            }
        }
        Self(map)
    }

    fn get(&self, jid: &str) -> Option<&'a EngineParticipant> {
        self.0.get(jid).copied()
    }
}

/// Parses and validates the body of the remove routes (default `remove`).
pub fn parse_body(bytes: &[u8]) -> Result<ParticipantsBody, ApiError> {
    parse_body_with_default(bytes, Action::Remove)
}

/// Parses and validates the body, collecting every problem at once.
pub fn parse_body_with_default(
    bytes: &[u8],
    default: Action,
) -> Result<ParticipantsBody, ApiError> {
    parse_body_up_to(bytes, default, MAX_PARTICIPANTS)
}

/// [`parse_body_with_default`] with at most `max` participants (a paced
/// job takes up to 5,000).
pub fn parse_body_up_to(
    bytes: &[u8],
    default: Action,
    max: usize,
) -> Result<ParticipantsBody, ApiError> {
    let fail = |fields: Vec<FieldError>| ApiError::validation("validation failed", fields);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(fail(vec![FieldError::new(
            "body",
            "a JSON object with participants is required",
        )]));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|_| fail(vec![FieldError::new("body", "body is not valid JSON")]))?;
    let Value::Object(object) = value else {
        return Err(fail(vec![FieldError::new(
            "body",
            "body must be a JSON object",
        )]));
    };

    let mut errors = Vec::new();
    for key in object.keys() {
        if !["participants", "action", "invite_on_privacy"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                key.as_str(),
                "unknown field; allowed: participants, action, invite_on_privacy",
            ));
        }
    }
    let action = match object.get("action") {
        None => Some(default),
        Some(Value::String(s)) => Action::parse(s).or_else(|| {
            errors.push(
                FieldError::new("action", "must be one of add, remove, promote, demote")
                    .with_value(s),
            );
            None
        }),
        Some(_) => {
            errors.push(FieldError::new(
                "action",
                "must be one of add, remove, promote, demote",
            ));
            None
        }
    };
    let invite_on_privacy = match object.get("invite_on_privacy") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            errors.push(
                FieldError::new("invite_on_privacy", "must be true or false")
                    .with_value(&v.to_string()),
            );
            false
        }
    };
    if invite_on_privacy && action.is_some_and(|a| a != Action::Add) {
        errors.push(FieldError::new(
            "invite_on_privacy",
            "only with action add: a private invitation answers a refused add",
        ));
    }
    let participants = parse_participants(&object, &mut errors, max);
    match (action, participants) {
        (Some(action), Some(participants)) if errors.is_empty() => Ok(ParticipantsBody {
            action,
            participants,
            invite_on_privacy,
        }),
        _ => Err(fail(errors)),
    }
}

fn parse_participants(
    object: &Map<String, Value>,
    errors: &mut Vec<FieldError>,
    max: usize,
) -> Option<Vec<ParticipantJid>> {
    let Some(value) = object.get("participants") else {
        errors.push(FieldError::new("participants", "is required"));
        return None;
    };
    parse_participant_list_up_to(value, errors, max)
}

/// A `participants` value: 1 to [`MAX_PARTICIPANTS`] entries, each
/// normalised, duplicates sent once; every problem collected in `errors`.
pub fn parse_participant_list(
    value: &Value,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<ParticipantJid>> {
    parse_participant_list_up_to(value, errors, MAX_PARTICIPANTS)
}

/// [`parse_participant_list`] with at most `max` entries.
pub fn parse_participant_list_up_to(
    value: &Value,
    errors: &mut Vec<FieldError>,
    max: usize,
) -> Option<Vec<ParticipantJid>> {
    let Value::Array(items) = value else {
        errors.push(FieldError::new(
            "participants",
            "must be an array of strings",
        ));
        return None;
    };
    if items.is_empty() || items.len() > max {
        errors.push(FieldError::new(
            "participants",
            format!("must hold 1 to {max} entries (got {})", items.len()),
        ));
        return None;
    }
    let before = errors.len();
    let mut out: Vec<ParticipantJid> = Vec::with_capacity(items.len());
    let mut seen = HashSet::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = || format!("participants[{i}]");
        match item {
            Value::String(s) => match ParticipantJid::normalise(s) {
                Ok(jid) => {
                    if seen.insert(jid.clone()) {
                        out.push(jid);
                    }
                }
                Err(message) => errors.push(FieldError::new(field(), message).with_value(s)),
            },
            _ => errors.push(FieldError::new(field(), "must be a string")),
        }
    }
    (errors.len() == before).then_some(out)
}

/// WhatsApp's per-participant code → our stable reason.
pub fn reason(code: i64, action: Action) -> &'static str {
    match code {
        401 => "not_authorized",
        403 => "privacy_restricted",
        404 if action == Action::Add => "not_on_whatsapp",
        404 => "not_a_member",
        408 => "recently_left",
        409 => "already_member",
        419 => "group_full",
        429 => "rate_limited",
        _ => "unknown",
    }
}

/// One response entry for one requested participant.
pub fn outcome<'a>(
    requested: &'a ParticipantJid,
    action: Action,
    reply: &ReplyIndex<'a>,
) -> Entry<'a> {
    outcome_with(requested, reply, |code| reason(code, action))
}

/// [`outcome`], WhatsApp's per-participant codes read by `reason`.
pub fn outcome_with<'a>(
    requested: &'a ParticipantJid,
    reply: &ReplyIndex<'a>,
    reason: impl Fn(i64) -> &'static str,
) -> Entry<'a> {
    let wanted = requested.as_str();
    let Some(p) = reply.get(wanted) else {
        return Entry {
            jid: wanted,
            phone_number: requested.phone_number(),
            is_admin: false,
            is_super_admin: false,
            lid: None,
            status: EntryStatus::Unconfirmed,
            error: None,
            invite_sent: None,
            invite_error: None,
            engine_jid: None,
        };
    };
    let error = match p.error.unwrap_or(0) {
        0 => None,
        code => Some(EntryError {
            code,
            reason: reason(code),
            add_request: p.add_request.as_ref(),
        }),
    };
    Entry {
        jid: wanted,
        phone_number: p.phone_number.as_deref().or(requested.phone_number()),
        is_admin: p.is_admin,
        is_super_admin: p.is_super_admin,
        lid: p.lid.as_deref(),
        status: if error.is_some() {
            EntryStatus::Failed
        } else {
            EntryStatus::Ok
        },
        error,
        // whatsapp-web.js's own invitation, where it says.
        invite_sent: p.invite_sent,
        invite_error: (p.invite_sent == Some(false)).then_some("engine_refused"),
        engine_jid: Some(p.jid.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation { fields, .. } => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn default_action_is_remove_and_entries_dedupe() {
        let body = parse_body(
            br#"{"participants": ["+55 11 98888-8888", "5511988888888@s.whatsapp.net", "9@lid"]}"#,
        )
        .unwrap();
        assert_eq!(body.action, Action::Remove);
        let jids: Vec<&str> = body.participants.iter().map(|p| p.as_str()).collect();
        assert_eq!(jids, vec!["5511988888888@s.whatsapp.net", "9@lid"]);
    }

    #[test]
    fn explicit_actions() {
        for a in ["add", "remove", "promote", "demote"] {
            let body =
                parse_body(format!(r#"{{"participants":["9@lid"],"action":"{a}"}}"#).as_bytes())
                    .unwrap();
            assert_eq!(body.action.as_str(), a);
        }
    }

    #[test]
    fn rejects_bad_bodies() {
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("", vec!["body"]),
            ("   ", vec!["body"]),
            ("{", vec!["body"]),
            ("[]", vec!["body"]),
            ("null", vec!["body"]),
            ("{}", vec!["participants"]),
            (r#"{"participants": []}"#, vec!["participants"]),
            (r#"{"participants": "9@lid"}"#, vec!["participants"]),
            (
                r#"{"participants": ["9@lid"], "actions": "promote"}"#,
                vec!["actions"],
            ),
            (
                r#"{"participants": ["9@lid"], "action": "PROMOTE"}"#,
                vec!["action"],
            ),
            (
                r#"{"participants": ["9@lid"], "action": 1}"#,
                vec!["action"],
            ),
            (
                r#"{"participants": ["9@lid"], "action": null}"#,
                vec!["action"],
            ),
            (
                r#"{"participants": ["9@lid", 5, "x", "123@g.us"]}"#,
                vec!["participants[1]", "participants[2]", "participants[3]"],
            ),
        ];
        for (body, want) in cases {
            let got = fields(parse_body(body.as_bytes()).unwrap_err());
            assert_eq!(got, want, "{body}");
        }
    }

    #[test]
    fn list_size_limits() {
        let list = |n: usize| {
            let items: Vec<String> = (0..n).map(|i| format!("\"{}@lid\"", i + 1)).collect();
            format!(r#"{{"participants":[{}]}}"#, items.join(","))
        };
        assert_eq!(
            parse_body(list(50).as_bytes()).unwrap().participants.len(),
            50
        );
        assert_eq!(
            fields(parse_body(list(51).as_bytes()).unwrap_err()),
            vec!["participants"]
        );
    }

    /// The entry as the client sees it.
    fn entry(requested: &ParticipantJid, action: Action, reply: &[EngineParticipant]) -> Value {
        serde_json::to_value(outcome(requested, action, &ReplyIndex::new(reply))).unwrap()
    }

    fn wuts(jid: &str, error: Option<i64>) -> EngineParticipant {
        EngineParticipant {
            jid: jid.into(),
            phone_number: jid.ends_with("@s.whatsapp.net").then(|| jid.to_string()),
            lid: None,
            is_admin: false,
            is_super_admin: false,
            error,
            add_request: None,
            invite_sent: None,
        }
    }

    #[test]
    fn outcomes() {
        let phone = ParticipantJid::normalise("5511888888888").unwrap();
        let lid = ParticipantJid::normalise("7@lid").unwrap();

        let ok = entry(&phone, Action::Remove, &[wuts(phone.as_str(), Some(0))]);
        assert_eq!(
            ok.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "jid",
                "phone_number",
                "is_admin",
                "is_super_admin",
                "status"
            ],
            "field order is the documented one"
        );
        assert_eq!(ok["status"], "ok");
        assert_eq!(ok["phone_number"], "5511888888888@s.whatsapp.net");
        assert!(ok.get("error").is_none());
        let absent_code = entry(&phone, Action::Remove, &[wuts(phone.as_str(), None)]);
        assert_eq!(absent_code["status"], "ok");

        let missing = entry(&lid, Action::Remove, &[wuts(phone.as_str(), Some(0))]);
        assert_eq!(missing["status"], "unconfirmed");
        assert_eq!(missing["phone_number"], Value::Null);
        assert_eq!(missing["is_admin"], false);
        assert!(missing.get("error").is_none() && missing.get("lid").is_none());

        let table = [
            (401, Action::Remove, "not_authorized"),
            (403, Action::Add, "privacy_restricted"),
            (404, Action::Remove, "not_a_member"),
            (404, Action::Promote, "not_a_member"),
            (404, Action::Add, "not_on_whatsapp"),
            (408, Action::Add, "recently_left"),
            (409, Action::Add, "already_member"),
            (419, Action::Add, "group_full"),
            (429, Action::Add, "rate_limited"),
            (500, Action::Remove, "unknown"),
            (-7, Action::Remove, "unknown"),
        ];
        for (code, action, want) in table {
            let e = entry(&phone, action, &[wuts(phone.as_str(), Some(code))]);
            assert_eq!(e["status"], "failed");
            assert_eq!(e["error"]["code"], code);
            assert_eq!(e["error"]["reason"], want);
        }
    }

    #[test]
    fn matches_by_lid_or_phone_and_keeps_add_request() {
        let lid = ParticipantJid::normalise("7@lid").unwrap();
        let mut p = wuts("5511888888888@s.whatsapp.net", Some(403));
        p.lid = Some("7@lid".into());
        p.add_request = Some(crate::engine::AddRequest {
            code: "abc".into(),
            expiration: Some(1_750_000_000),
        });
        let e = entry(&lid, Action::Add, &[p]);
        assert_eq!(
            e.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "jid",
                "phone_number",
                "is_admin",
                "is_super_admin",
                "lid",
                "status",
                "error"
            ],
        );
        assert_eq!(e["jid"], "7@lid");
        assert_eq!(e["lid"], "7@lid");
        assert_eq!(e["phone_number"], "5511888888888@s.whatsapp.net");
        assert_eq!(e["error"]["add_request"]["code"], "abc");
    }

    #[test]
    fn the_first_reply_entry_that_names_a_participant_wins() {
        let phone = ParticipantJid::normalise("5511888888888").unwrap();
        // The first names the participant by phone number, the second by JID.
        let mut first = wuts("1@lid", Some(403));
        first.phone_number = Some(phone.as_str().into());
        let second = wuts(phone.as_str(), Some(0));
        assert_eq!(
            entry(&phone, Action::Add, &[first, second])["status"],
            "failed"
        );
        let dup = ParticipantJid::normalise("5511888888888@s.whatsapp.net").unwrap();
        let body =
            parse_body(br#"{"participants":["+5511888888888","5511888888888@s.whatsapp.net"]}"#);
        assert_eq!(body.unwrap().participants, vec![dup]);
    }
}
