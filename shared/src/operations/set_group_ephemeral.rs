//! `PUT /groups/{jid}/ephemeral`: the group's disappearing-message timer,
//! `{duration_seconds: 0 | 86400 | 604800 | 7776000}` (off, 24 h, 7 d, 90 d).

use lambda_http::Request;
use serde::Serialize;
use serde_json::Value;

use super::path_jid;
use crate::engine::Engine;
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

/// The timers WhatsApp offers: off, 24 hours, 7 days, 90 days.
pub const DURATIONS: [u32; 4] = [0, 86_400, 604_800, 7_776_000];

pub struct SetGroupEphemeral;

#[derive(Serialize)]
pub struct EphemeralCommand {
    pub group: GroupJid,
    pub duration_seconds: u32,
}

#[derive(Serialize)]
struct Reply {
    success: bool,
    duration_seconds: u32,
}

/// `{"duration_seconds": <one of DURATIONS>}` and nothing else.
pub fn parse_body(bytes: &[u8]) -> Result<u32, ApiError> {
    let fail = |fields: Vec<FieldError>| ApiError::validation("validation failed", fields);
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(fail(vec![FieldError::new(
            "body",
            "a JSON object with duration_seconds is required",
        )]));
    };
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|k| k.as_str() != "duration_seconds")
        .map(|k| FieldError::new(k.as_str(), "unknown field; allowed: duration_seconds"))
        .collect();
    let duration = match object.get("duration_seconds") {
        None => {
            errors.push(FieldError::new("duration_seconds", "is required"));
            None
        }
        Some(v) => {
            let d = v
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| DURATIONS.contains(d));
            if d.is_none() {
                errors.push(
                    FieldError::new(
                        "duration_seconds",
                        "must be one of 0 (off), 86400, 604800, 7776000",
                    )
                    .with_value(&v.to_string()),
                );
            }
            d
        }
    };
    match duration {
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(fail(errors)),
    }
}

impl Operation for SetGroupEphemeral {
    const ROUTE: Route = Route::write("PUT", "/groups/{jid}/ephemeral", "set-group-ephemeral");
    type Command = EphemeralCommand;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<EphemeralCommand, ApiError> {
        let group = path_jid(params.get("jid"))?;
        let bytes = super::json_body(req)?;
        Ok(EphemeralCommand {
            group,
            duration_seconds: parse_body(bytes)?,
        })
    }

    fn subject(command: &EphemeralCommand) -> Subject<'_> {
        Subject {
            action: "set_ephemeral",
            group: Some(&command.group),
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        command: &EphemeralCommand,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let seconds = command.duration_seconds;
        let call = crate::engine::calls::SetEphemeral {
            group: command.group.clone(),
            seconds,
        };
        on.call(call).await?;
        let reply = Reply {
            success: true,
            duration_seconds: seconds,
        };
        on.ok(&reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        for (body, want) in [
            (r#"{"duration_seconds":0}"#, 0),
            (r#"{"duration_seconds":86400}"#, 86_400),
            (r#"{"duration_seconds":7776000}"#, 7_776_000),
        ] {
            assert_eq!(parse_body(body.as_bytes()).unwrap(), want, "{body}");
        }
        for bad in [
            "",
            "{}",
            "[]",
            r#"{"duration_seconds":3600}"#,
            r#"{"duration_seconds":"86400"}"#,
            r#"{"duration_seconds":-1}"#,
            r#"{"duration_seconds":86400,"x":1}"#,
            r#"{"duration":86400}"#,
        ] {
            assert!(parse_body(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
