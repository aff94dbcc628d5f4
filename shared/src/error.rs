//! The one error type of the API and its one table: variant → HTTP status →
//! `error_code` → public message. Nothing else in the crate turns a failure
//! into a status code or JSON.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

/// One field-level validation problem, as the documentation set renders it:
/// `{"field": "participants[2]", "message": "...", "value": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            value: None,
        }
    }

    /// Attaches the rejected value, cut to a length that is safe to echo.
    pub fn with_value(mut self, value: &str) -> Self {
        const MAX_ECHO: usize = 64;
        let mut shown: String = value.chars().take(MAX_ECHO).collect();
        if value.chars().count() > MAX_ECHO {
            shown.push('…');
        }
        self.value = Some(shown);
        self
    }
}

/// The most `validation` entries an envelope carries; the rest are counted
/// in `validation_truncated`.
pub const MAX_VALIDATION_ENTRIES: usize = 20;
/// The most characters of a field name, message or value an envelope
/// echoes (a body's key can be megabytes long).
pub const MAX_ECHO_CHARS: usize = 100;

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

impl FieldError {
    /// The entry as an envelope shows it: every text cut to
    /// [`MAX_ECHO_CHARS`].
    fn bounded(&self) -> FieldError {
        FieldError {
            field: cut(&self.field),
            message: cut(&self.message),
            value: self.value.as_deref().map(cut),
        }
    }
}

/// Every way a request can fail. `detail` fields are for logs only and are
/// never rendered into a response body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed: {message}")]
    Validation {
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden: {message}")]
    Forbidden { message: &'static str },
    #[error("not found: {message}")]
    NotFound { message: &'static str },
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// The token lacks the route's scope; names it.
    #[error("insufficient scope: {scope} required")]
    InsufficientScope { scope: &'static str },
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this idempotency key is in progress")]
    IdempotencyInProgress,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("rate limited")]
    RateLimited { retry_after: Option<u64> },
    #[error("upstream error: {detail}")]
    Upstream { detail: String },
    #[error("device not ready: {detail}")]
    DeviceNotReady { detail: String },
    #[error("service unavailable: {detail}")]
    ServiceUnavailable { detail: String },
    #[error("upstream timeout")]
    UpstreamTimeout,
    #[error("internal error: {detail}")]
    Internal { detail: String },
    /// The tenant's engine cannot do this operation; nothing was sent.
    #[error("not supported: {message}")]
    NotSupported { message: String },
    /// The pacing guard: the lane's budget for this class is spent for now
    /// (or paused after WhatsApp's own limit, or today's cap is reached);
    /// nothing was sent.
    #[error("pacing limited: {class} ({why:?}), retry after {retry_after_secs} s")]
    PacingLimited {
        class: crate::pacing::Class,
        why: crate::pacing::Refusal,
        retry_after_secs: u64,
    },
    /// More at once than the lane's burst allows: only a paced job can do
    /// it; nothing was sent.
    #[error("use a job: {cost} {class} at once, burst {burst}")]
    UseAJob {
        class: crate::pacing::Class,
        cost: u32,
        burst: u32,
    },
}

/// Every `error_code` the table can produce (the OpenAPI document lists these).
pub const ERROR_CODES: [&str; 19] = [
    "VALIDATION_ERROR",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "INSUFFICIENT_SCOPE",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "IDEMPOTENCY_KEY_REUSED",
    "IDEMPOTENCY_IN_PROGRESS",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "RATE_LIMITED",
    "UPSTREAM_ERROR",
    "DEVICE_NOT_READY",
    "SERVICE_UNAVAILABLE",
    "UPSTREAM_TIMEOUT",
    "INTERNAL_ERROR",
    "NOT_SUPPORTED",
    "PACING_LIMITED",
    "USE_A_JOB",
];

impl ApiError {
    pub fn validation(message: impl Into<String>, fields: Vec<FieldError>) -> Self {
        Self::Validation {
            message: message.into(),
            fields,
        }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal {
            detail: detail.into(),
        }
    }

    /// The table. Status, stable code and the message safe to show a client:
    /// one row a variant.
    #[rustfmt::skip]
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        use StatusCode as S;
        match self {
            Self::Validation { message, .. } => (S::BAD_REQUEST, "VALIDATION_ERROR", message.clone()),
            Self::Unauthorized => (S::UNAUTHORIZED, "UNAUTHORIZED", "missing or invalid API token".into()),
            Self::Forbidden { message } => (S::FORBIDDEN, "FORBIDDEN", (*message).into()),
            Self::InsufficientScope { scope } => (S::FORBIDDEN, "INSUFFICIENT_SCOPE", format!("this token lacks the {scope} scope")),
            Self::NotFound { message } => (S::NOT_FOUND, "NOT_FOUND", (*message).into()),
            Self::MethodNotAllowed { .. } => (S::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "method not allowed on this route".into()),
            Self::IdempotencyKeyReused => (S::UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request".into()),
            Self::IdempotencyInProgress => (S::CONFLICT, "IDEMPOTENCY_IN_PROGRESS", "a request with this Idempotency-Key is still in progress; retry later".into()),
            Self::PayloadTooLarge { limit } => (S::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", format!("request body exceeds {limit} bytes")),
            Self::UnsupportedMediaType => (S::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json".into()),
            Self::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "RATE_LIMITED", "WhatsApp rate limit reached; retry later".into()),
            Self::Upstream { .. } => (S::BAD_GATEWAY, "UPSTREAM_ERROR", "the tenant's WhatsApp engine failed".into()),
            Self::DeviceNotReady { .. } => (S::SERVICE_UNAVAILABLE, "DEVICE_NOT_READY", "WhatsApp session is not connected".into()),
            Self::ServiceUnavailable { .. } => (S::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", "service temporarily unavailable; retry later".into()),
            Self::UpstreamTimeout => (S::GATEWAY_TIMEOUT, "UPSTREAM_TIMEOUT", "the tenant's WhatsApp engine did not answer in time".into()),
            Self::Internal { .. } => (S::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "internal error".into()),
            Self::NotSupported { message } => (S::NOT_IMPLEMENTED, "NOT_SUPPORTED", message.clone()),
            Self::PacingLimited { class, why, .. } => (S::TOO_MANY_REQUESTS, "PACING_LIMITED", pacing_message(*class, *why)),
            Self::UseAJob { class, cost, burst } => (S::UNPROCESSABLE_ENTITY, "USE_A_JOB", format!("this request needs {cost} {class} at once and this number's burst is {burst}: send it as a paced job, POST /groups/{{jid}}/participants/jobs (or /communities/{{jid}}/participants/jobs); nothing was sent")),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    pub fn code(&self) -> &'static str {
        self.parts().1
    }

    /// Renders the error envelope. The only place an error becomes JSON.
    pub fn to_response(&self, request_id: &str) -> Response<Body> {
        self.render(request_id, false)
    }

    /// The envelope of a failure after the engine may have acted (a
    /// timeout, an answer we could not read, a 5xx): the same status and
    /// code, `"outcome": "unknown"`, and a message that says so.
    pub fn to_response_outcome_unknown(&self, request_id: &str) -> Response<Body> {
        self.render(request_id, true)
    }

    /// The envelope with `extra` fields besides the usual ones (a
    /// partly-applied update names what was and was not applied).
    pub fn to_response_with(
        &self,
        request_id: &str,
        outcome_unknown: bool,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Response<Body> {
        self.render_with(request_id, outcome_unknown, extra)
    }

    fn render(&self, request_id: &str, outcome_unknown: bool) -> Response<Body> {
        self.render_with(request_id, outcome_unknown, serde_json::Map::new())
    }

    fn render_with(
        &self,
        request_id: &str,
        outcome_unknown: bool,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Response<Body> {
        let (status, code, mut message) = self.parts();
        if outcome_unknown {
            message.push_str(
                "; the request may or may not have been carried out: check its effect \
                 before sending it again",
            );
        }
        let mut body = json!({
            "success": false,
            "error": message,
            "error_code": code,
            "timestamp": crate::clock::now_rfc3339(),
            "request_id": request_id,
        });
        if outcome_unknown {
            body["outcome"] = json!("unknown");
        }
        if let Self::Validation { fields, .. } = self
            && !fields.is_empty()
        {
            let shown: Vec<FieldError> = fields
                .iter()
                .take(MAX_VALIDATION_ENTRIES)
                .map(FieldError::bounded)
                .collect();
            body["validation"] = json!(shown);
            if fields.len() > MAX_VALIDATION_ENTRIES {
                body["validation_truncated"] = json!(fields.len() - MAX_VALIDATION_ENTRIES);
            }
        }
        if let Self::PacingLimited {
            retry_after_secs, ..
        } = self
        {
            body["retry_after_seconds"] = json!(retry_after_secs);
        }
        for (key, value) in extra {
            body[key] = value;
        }
        let mut response = crate::http::json_response(status, &body, request_id);
        let headers = response.headers_mut();
        match self {
            Self::RateLimited {
                retry_after: Some(secs),
            }
            | Self::PacingLimited {
                retry_after_secs: secs,
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// The `PACING_LIMITED` message: which budget, and why.
fn pacing_message(class: crate::pacing::Class, why: crate::pacing::Refusal) -> String {
    use crate::pacing::Refusal;
    let reason = match why {
        Refusal::Rate => "this number's pace for it is spent for now",
        Refusal::Paused => "it is paused after WhatsApp rate-limited this number",
        Refusal::DailyCap => "today's cap for it is reached",
    };
    format!("{class}: {reason}; nothing was sent, retry after Retry-After seconds")
}

/// What an engine failure means to our caller: one table, beside the
/// status table above; the port itself knows nothing of HTTP answers.
impl From<crate::engine::EngineError> for ApiError {
    fn from(err: crate::engine::EngineError) -> Self {
        let detail = err.to_string();
        match err {
            crate::engine::EngineError::Status {
                status,
                code,
                retry_after,
                ..
            } => match (status, code.as_deref()) {
                (_, Some(crate::engine::ENGINE_MISCONFIGURED)) => ApiError::Upstream {
                    detail: format!(
                        "{detail}: configuration fault, the engine does not serve this route (URL or version)"
                    ),
                },
                (_, Some(crate::engine::ENGINE_NOT_SUPPORTED)) => ApiError::NotSupported {
                    message: "the tenant's WhatsApp engine does not implement this operation; nothing was changed".into(),
                },
                (400, _) => ApiError::validation(
                    "the tenant's WhatsApp engine rejected the request",
                    vec![],
                ),
                (406, _) => ApiError::validation(
                    "WhatsApp refused a value as not acceptable (a name too long for this server?)",
                    vec![],
                ),
                (401, _) => ApiError::Upstream {
                    detail: format!(
                        "{detail}: configuration fault, the engine refused the tenant's key"
                    ),
                },
                (403, _) => ApiError::Forbidden {
                    message: "the WhatsApp account is not an admin of this group",
                },
                (404, Some("session_not_found")) => ApiError::DeviceNotReady { detail },
                (404, _) => ApiError::NotFound {
                    message: "group or community not found, or the WhatsApp account is not in it",
                },
                (409, _) => ApiError::DeviceNotReady { detail },
                (429, _) => ApiError::RateLimited { retry_after },
                _ => ApiError::Upstream { detail },
            },
            crate::engine::EngineError::Timeout => ApiError::UpstreamTimeout,
            crate::engine::EngineError::NotSupported { operation } => ApiError::NotSupported {
                message: format!(
                    "the tenant's WhatsApp engine cannot {operation}; nothing was sent"
                ),
            },
            crate::engine::EngineError::OutOfTime => ApiError::ServiceUnavailable { detail },
            crate::engine::EngineError::Invalid { field, message } => ApiError::validation(
                "the tenant's WhatsApp engine would refuse this value; nothing was sent",
                vec![FieldError::new(field, message)],
            ),
            crate::engine::EngineError::Paced(paced) => match paced {
                crate::pacing::Paced::Limited {
                    class,
                    why,
                    retry_after_secs,
                } => ApiError::PacingLimited {
                    class,
                    why,
                    retry_after_secs,
                },
                crate::pacing::Paced::UseAJob { class, cost, burst } => {
                    ApiError::UseAJob { class, cost, burst }
                }
                crate::pacing::Paced::Unavailable(detail) => {
                    ApiError::ServiceUnavailable { detail }
                }
            },
            crate::engine::EngineError::Connect(_)
            | crate::engine::EngineError::Dropped(_)
            | crate::engine::EngineError::InvalidResponse(_)
            | crate::engine::EngineError::Config(_) => ApiError::Upstream { detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_variants() -> Vec<ApiError> {
        vec![
            ApiError::validation("validation failed", vec![]),
            ApiError::Unauthorized,
            ApiError::Forbidden { message: "x" },
            ApiError::InsufficientScope {
                scope: "groups:write",
            },
            ApiError::NotFound { message: "x" },
            ApiError::MethodNotAllowed {
                allow: "DELETE".into(),
            },
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyInProgress,
            ApiError::PayloadTooLarge { limit: 16 },
            ApiError::UnsupportedMediaType,
            ApiError::RateLimited { retry_after: None },
            ApiError::Upstream { detail: "d".into() },
            ApiError::DeviceNotReady { detail: "d".into() },
            ApiError::ServiceUnavailable { detail: "d".into() },
            ApiError::UpstreamTimeout,
            ApiError::internal("d"),
            ApiError::NotSupported {
                message: "the tenant's engine cannot do this".into(),
            },
            ApiError::PacingLimited {
                class: crate::pacing::Class::Add,
                why: crate::pacing::Refusal::Rate,
                retry_after_secs: 12,
            },
            ApiError::UseAJob {
                class: crate::pacing::Class::Add,
                cost: 5,
                burst: 4,
            },
        ]
    }

    #[test]
    fn table_matches_the_contract() {
        let got: Vec<(u16, &str)> = all_variants()
            .iter()
            .map(|e| (e.status().as_u16(), e.code()))
            .collect();
        assert_eq!(
            got,
            vec![
                (400, "VALIDATION_ERROR"),
                (401, "UNAUTHORIZED"),
                (403, "FORBIDDEN"),
                (403, "INSUFFICIENT_SCOPE"),
                (404, "NOT_FOUND"),
                (405, "METHOD_NOT_ALLOWED"),
                (422, "IDEMPOTENCY_KEY_REUSED"),
                (409, "IDEMPOTENCY_IN_PROGRESS"),
                (413, "PAYLOAD_TOO_LARGE"),
                (415, "UNSUPPORTED_MEDIA_TYPE"),
                (429, "RATE_LIMITED"),
                (502, "UPSTREAM_ERROR"),
                (503, "DEVICE_NOT_READY"),
                (503, "SERVICE_UNAVAILABLE"),
                (504, "UPSTREAM_TIMEOUT"),
                (500, "INTERNAL_ERROR"),
                (501, "NOT_SUPPORTED"),
                (429, "PACING_LIMITED"),
                (422, "USE_A_JOB"),
            ]
        );
    }

    #[test]
    fn error_codes_list_is_the_table() {
        let codes: Vec<&str> = all_variants().iter().map(ApiError::code).collect();
        assert_eq!(codes, ERROR_CODES.to_vec());
    }

    #[test]
    fn envelope_never_carries_internal_detail() {
        let secret = "dynamodb said: AccessDenied for arn:aws:secret";
        for err in [
            ApiError::internal(secret),
            ApiError::Upstream {
                detail: secret.into(),
            },
            ApiError::ServiceUnavailable {
                detail: secret.into(),
            },
            ApiError::DeviceNotReady {
                detail: secret.into(),
            },
        ] {
            let resp = err.to_response("rid-1");
            let body = match resp.body() {
                Body::Text(t) => t.clone(),
                other => panic!("unexpected body {other:?}"),
            };
            assert!(!body.contains("AccessDenied"), "{body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["success"], false);
            assert_eq!(v["request_id"], "rid-1");
            assert_eq!(v["error_code"], err.code());
            let ts = v["timestamp"].as_str().unwrap();
            assert!(ts.ends_with('Z') && ts.len() == 20, "{ts}");
            assert_eq!(resp.headers()["content-type"], "application/json");
            assert_eq!(resp.headers()["x-request-id"], "rid-1");
        }
    }

    #[test]
    fn an_unknown_outcome_is_said_in_the_envelope() {
        let err = ApiError::Upstream {
            detail: "garbage".into(),
        };
        let plain = err.to_response("r");
        let unknown = err.to_response_outcome_unknown("r");
        assert_eq!(plain.status(), unknown.status());
        let body = |resp: &Response<Body>| -> serde_json::Value {
            let Body::Text(t) = resp.body() else { panic!() };
            serde_json::from_str(t).unwrap()
        };
        let (plain, unknown) = (body(&plain), body(&unknown));
        assert!(plain.get("outcome").is_none());
        assert_eq!(unknown["outcome"], "unknown");
        assert_eq!(unknown["error_code"], "UPSTREAM_ERROR");
        assert!(
            unknown["error"]
                .as_str()
                .unwrap()
                .contains("may or may not have been carried out")
        );
        assert!(!unknown.to_string().contains("garbage"));
    }

    #[test]
    fn validation_fields_and_retry_after_are_rendered() {
        let err = ApiError::validation(
            "validation failed",
            vec![FieldError::new("participants[0]", "bad").with_value(&"9".repeat(100))],
        );
        let resp = err.to_response("r");
        let Body::Text(t) = resp.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["validation"][0]["field"], "participants[0]");
        assert_eq!(
            v["validation"][0]["value"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            65
        );

        // Bounded echoes: at most 20 entries, each text cut to 100 chars.
        let many: Vec<FieldError> = (0..25)
            .map(|i| FieldError::new(format!("{i}{}", "k".repeat(5_000)), "m".repeat(500)))
            .collect();
        let resp = ApiError::validation("validation failed", many).to_response("r");
        let Body::Text(t) = resp.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["validation"].as_array().unwrap().len(), 20);
        assert_eq!(v["validation_truncated"], 5);
        let first = &v["validation"][0];
        assert_eq!(first["field"].as_str().unwrap().chars().count(), 101);
        assert_eq!(first["message"].as_str().unwrap().chars().count(), 101);
        assert!(t.len() < 10_000, "{}", t.len());

        let resp = ApiError::RateLimited {
            retry_after: Some(7),
        }
        .to_response("r");
        assert_eq!(resp.headers()["retry-after"], "7");
        let resp = ApiError::RateLimited { retry_after: None }.to_response("r");
        assert!(resp.headers().get("retry-after").is_none());
    }
}
