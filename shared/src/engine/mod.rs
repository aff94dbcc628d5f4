//! The engine port: the session service a tenant runs (WUTS, Evolution
//! API, WAHA, the original `session-service`), the calls every group
//! operation makes through it, their typed replies and the one error type
//! every adapter classifies its failures into ([`Reach`]).
//! Adapters: [`transport::HttpEngine`] (reqwest, production; one module per
//! engine under [`adapters`]) and the `testkit` crate's `Simulator`
//! (in-process, stateful; local runs and tests).

pub mod adapter;
pub mod adapters;
pub mod calls;
pub mod groups;
pub mod listing;
pub mod shapes;
pub mod target;
pub mod transport;
pub mod wire;

pub use target::{EngineTarget, check_base_url, normalise_base_url, retry_after_secs};

pub use transport::EngineCall;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::jid::{GroupJid, ParticipantJid};
pub use calls::{AnyCall, AnyCallRef, AnyReply, OneCall};
use groups::{Group, GroupChange};

/// Which WUTS route a participant update goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    Group,
    Community,
}

impl GroupKind {
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::Group => "groups",
            Self::Community => "communities",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    Remove,
    Promote,
    Demote,
}

impl Action {
    pub const ALL: [Action; 4] = [Self::Add, Self::Remove, Self::Promote, Self::Demote];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Promote => "promote",
            Self::Demote => "demote",
        }
    }

    /// The pacing class it takes budget from: `add`, or `change` for the
    /// others (`pacing.md`).
    pub fn pacing_class(self) -> crate::pacing::Class {
        match self {
            Self::Add => crate::pacing::Class::Add,
            _ => crate::pacing::Class::Change,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The session service a tenant runs behind this API (`engines.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// The original `session-service` contract (`upstream-wuts.md`); what a
    /// tenant record without an engine means.
    #[default]
    SessionService,
    /// The WUTS public REST API (docs.wuts.com.br).
    Wuts,
    /// Evolution API v2.
    Evolution,
    /// WAHA.
    Waha,
}

impl EngineKind {
    pub const ALL: [EngineKind; 4] = [
        Self::SessionService,
        Self::Wuts,
        Self::Evolution,
        Self::Waha,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionService => "session-service",
            Self::Wuts => "wuts",
            Self::Evolution => "evolution",
            Self::Waha => "waha",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// What the tenant's session name is to this engine, if it takes one:
    /// the session-service session, the Evolution instance, the WAHA
    /// session. WUTS chooses the device by the key.
    pub fn session_name(self) -> Option<&'static str> {
        match self {
            Self::SessionService => Some("session id"),
            Self::Wuts => None,
            Self::Evolution => Some("instance name"),
            Self::Waha => Some("session name"),
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One participant update, already validated and normalised.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateParticipants {
    pub kind: GroupKind,
    pub group: GroupJid,
    pub action: Action,
    pub participants: Vec<ParticipantJid>,
    /// An add only: send the private invitation to whoever WhatsApp's
    /// privacy settings refused (`invite_on_privacy`). Left out of the
    /// serialisation when off, so that a request without it fingerprints
    /// as before.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invite_on_privacy: bool,
}

/// WhatsApp's pending add request, sent when privacy settings refused an add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddRequest {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
}

/// One entry of WUTS's participants reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineParticipant {
    pub jid: String,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub lid: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub is_super_admin: bool,
    /// WhatsApp's per-participant code; 0 or absent means success.
    #[serde(default)]
    pub error: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_request: Option<AddRequest>,
    /// Whether the engine sent the private invitation itself (WAHA on
    /// WEBJS does, on every privacy refusal); `None` where it does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_sent: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParticipantsReply {
    pub participants: Vec<EngineParticipant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteReply {
    pub invite_link: String,
}

/// WUTS's error body: `{"error": "...", "code": "snake_case"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WutsErrorBody {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

/// How far one engine call got, as far as this process can know. The one
/// rule every failure path follows (`EngineError::reach`): an
/// `Idempotency-Key` is released only below `MayHaveActed`, an audit record is
/// written from `Refused` up, and a call is never sent again once it may have
/// acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Reach {
    /// Nothing left the process: no connection was established, or the call
    /// was refused before sending (configuration, an engine that cannot do
    /// it, no time left in the request's deadline).
    #[default]
    NotSent,
    /// The engine answered that it did nothing: a 4xx refusal.
    Refused,
    /// The engine did the work, or may have: a success, or any failure after
    /// the request was handed to the transport that the engine's answer does
    /// not prove harmless (a timeout, a connection dropped before the answer,
    /// an answer we cannot read, a 5xx, an error text the engine also raises
    /// after the request left, a panic while reading the reply).
    MayHaveActed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// An error answer, in the canonical (session-service) status and code.
    /// `settled`: the engine's answer proves the request changed nothing
    /// (its schema validation, its own auth, an unknown or unconnected
    /// session, WhatsApp's own refusal code): the key may be released. Any
    /// other error answer may follow an effect (`docs/ENGINES.md`, "What
    /// releases an Idempotency-Key").
    #[error("the engine answered {status} (code {code:?})")]
    Status {
        status: u16,
        code: Option<String>,
        retry_after: Option<u64>,
        settled: bool,
    },
    /// The request may have been sent, and no complete answer came before
    /// the deadline.
    #[error("the engine did not answer within the deadline")]
    Timeout,
    /// No connection could be established (after the one retry): nothing
    /// was sent.
    #[error("could not connect to the engine: {0}")]
    Connect(String),
    /// The connection failed after the request may have been written, before
    /// a complete answer came back.
    #[error("the connection to the engine failed after the request was sent: {0}")]
    Dropped(String),
    #[error("the engine answered something other than its documented reply: {0}")]
    InvalidResponse(String),
    #[error("engine endpoint misconfigured: {0}")]
    Config(String),
    /// A value this engine is known to refuse (say, an invite code Evolution's
    /// schema does not take): a 400 naming `field`, nothing sent.
    #[error("the engine would refuse {field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    /// The request's deadline left too little time to call the engine;
    /// nothing was sent.
    #[error("no time left in the request's deadline to call the engine")]
    OutOfTime,
    /// The tenant's engine cannot do this operation at all; the adapter
    /// answers this without sending anything (`engines.md`).
    #[error("the engine cannot {operation}")]
    NotSupported { operation: &'static str },
    /// The pacing guard held the call back (`pacing.md`); nothing was sent.
    #[error("held back by the pacing guard: {0:?}")]
    Paced(crate::pacing::Paced),
}

impl EngineError {
    /// The classification of every failure, in one place.
    pub fn reach(&self) -> Reach {
        match self {
            Self::Connect(_)
            | Self::Config(_)
            | Self::OutOfTime
            | Self::NotSupported { .. }
            | Self::Paced(_)
            | Self::Invalid { .. } => Reach::NotSent,
            Self::Status {
                status,
                settled: true,
                ..
            } if (400..500).contains(status) => Reach::Refused,
            Self::Status { .. } | Self::Timeout | Self::Dropped(_) | Self::InvalidResponse(_) => {
                Reach::MayHaveActed
            }
        }
    }
}

/// The canonical code for an engine that answers "no such route": a wrong
/// URL or an engine version without it. A configuration fault (502), and
/// nothing was done.
pub const ENGINE_MISCONFIGURED: &str = "engine_misconfigured";

/// The canonical code for an engine that answers "not implemented by this
/// engine" (WAHA's 501): refused, nothing done, `501 NOT_SUPPORTED`.
pub const ENGINE_NOT_SUPPORTED: &str = "engine_not_supported";

/// What every engine call carries besides its arguments.
#[derive(Debug, Clone)]
pub struct CallMeta {
    /// This request's id, sent as `X-Request-Id`.
    pub request_id: String,
    /// When the call must be over, answer read. An adapter that cannot
    /// start the call with time to spare answers [`EngineError::OutOfTime`].
    pub deadline: tokio::time::Instant,
    /// Set by the adapter the moment a request is handed to its transport
    /// (or, in process, the moment it acts). Whatever goes wrong after it —
    /// a panic while reading the reply included — may have reached the
    /// engine: the pipeline reads it when a call ends without a verdict.
    pub handed_over: HandedOver,
}

/// A flag shared between a request's context and its engine calls: set
/// once a request has been handed to the transport.
#[derive(Debug, Clone, Default)]
pub struct HandedOver(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl HandedOver {
    pub fn mark(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Which page of `GET /groups` to read: groups whose JID sorts after
/// `after`, at most `limit` of them (JIDs compare as byte strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListPage {
    pub after: Option<String>,
    pub limit: usize,
}

/// One page of groups, sorted by JID, without participants; `more` says
/// whether groups after the last one exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPage {
    pub groups: Vec<Group>,
    pub more: bool,
}

/// The port: one method that carries every engine call ([`AnyCall`]) and
/// answers with its reply (the same [`AnyReply`] variant); [`send`] is its
/// typed face. Implementations never send a call again once it may have
/// reached the engine, and classify every failure by
/// [`EngineError::reach`].
#[async_trait]
pub trait Engine: Send + Sync {
    async fn call(
        &self,
        target: &EngineTarget,
        call: AnyCall,
        meta: CallMeta,
    ) -> Result<AnyReply, EngineError>;

    /// How this engine applies `change`: the [`calls::UpdateGroup`] steps,
    /// in order (one for an engine that takes them all at once, one per
    /// property otherwise), or `NotSupported` if any part cannot be done
    /// (then nothing is sent).
    fn update_steps(
        &self,
        _target: &EngineTarget,
        _change: &GroupChange,
    ) -> Result<Vec<GroupChange>, EngineError> {
        Err(EngineError::NotSupported {
            operation: "update a group",
        })
    }

    /// What the engine would answer before sending anything: `Ok` if it
    /// makes the call, else its refusal (it cannot: `NotSupported`; a value
    /// it would refuse: `Invalid`; its configuration: `Config`). Checked
    /// before the call takes pacing budget.
    fn check(&self, _target: &EngineTarget, _call: AnyCallRef<'_>) -> Result<(), EngineError> {
        Ok(())
    }
}

/// Sends one typed call through any engine; its typed reply.
pub async fn send<C: OneCall, E: Engine + ?Sized>(
    engine: &E,
    target: &EngineTarget,
    call: C,
    meta: CallMeta,
) -> Result<C::Reply, EngineError> {
    let reply = engine.call(target, call.into(), meta).await?;
    C::unwrap(reply).ok_or_else(|| {
        EngineError::InvalidResponse("the port answered another call's reply".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn status(status: u16, code: Option<&str>) -> ApiError {
        EngineError::Status {
            status,
            code: code.map(str::to_string),
            retry_after: Some(3),
            settled: true,
        }
        .into()
    }

    #[test]
    fn upstream_statuses_map_per_contract() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (status(400, Some("bad_request")), 400, "VALIDATION_ERROR"),
            (status(401, Some("unauthorized")), 502, "UPSTREAM_ERROR"),
            (status(403, Some("not_admin")), 403, "FORBIDDEN"),
            (status(403, Some("forbidden")), 403, "FORBIDDEN"),
            (status(404, Some("group_not_found")), 404, "NOT_FOUND"),
            (status(404, Some("not_a_community")), 404, "NOT_FOUND"),
            (status(404, None), 404, "NOT_FOUND"),
            (
                status(404, Some("session_not_found")),
                503,
                "DEVICE_NOT_READY",
            ),
            (
                status(409, Some("session_not_connected")),
                503,
                "DEVICE_NOT_READY",
            ),
            (status(429, Some("rate_limited")), 429, "RATE_LIMITED"),
            (status(500, None), 502, "UPSTREAM_ERROR"),
            (status(503, None), 502, "UPSTREAM_ERROR"),
            (status(418, None), 502, "UPSTREAM_ERROR"),
            (EngineError::Timeout.into(), 504, "UPSTREAM_TIMEOUT"),
            (
                EngineError::Connect("x".into()).into(),
                502,
                "UPSTREAM_ERROR",
            ),
            (
                EngineError::InvalidResponse("x".into()).into(),
                502,
                "UPSTREAM_ERROR",
            ),
            (
                EngineError::Config("x".into()).into(),
                502,
                "UPSTREAM_ERROR",
            ),
            (
                EngineError::NotSupported {
                    operation: "add community participants",
                }
                .into(),
                501,
                "NOT_SUPPORTED",
            ),
        ];
        for (err, want_status, want_code) in cases {
            assert_eq!(
                (err.status().as_u16(), err.code()),
                (want_status, want_code),
                "{err:?}"
            );
        }
        assert!(matches!(
            status(429, None),
            ApiError::RateLimited {
                retry_after: Some(3)
            }
        ));
    }

    #[test]
    fn every_failure_is_on_one_side_of_the_rule() {
        let s = |status: u16| EngineError::Status {
            status,
            code: None,
            retry_after: None,
            settled: true,
        };
        let ambiguous = |status: u16| EngineError::Status {
            status,
            code: None,
            retry_after: None,
            settled: false,
        };
        let cases = [
            (EngineError::Connect("refused".into()), Reach::NotSent),
            (EngineError::Config("http".into()), Reach::NotSent),
            (EngineError::OutOfTime, Reach::NotSent),
            (
                EngineError::NotSupported {
                    operation: "add community participants",
                },
                Reach::NotSent,
            ),
            (s(400), Reach::Refused),
            (s(401), Reach::Refused),
            (s(403), Reach::Refused),
            (s(404), Reach::Refused),
            (s(409), Reach::Refused),
            (s(429), Reach::Refused),
            (s(418), Reach::Refused),
            (s(500), Reach::MayHaveActed),
            (ambiguous(400), Reach::MayHaveActed),
            (ambiguous(409), Reach::MayHaveActed),
            (
                EngineError::Invalid {
                    field: "link",
                    message: "x",
                },
                Reach::NotSent,
            ),
            (s(502), Reach::MayHaveActed),
            (s(503), Reach::MayHaveActed),
            (s(302), Reach::MayHaveActed),
            (EngineError::Timeout, Reach::MayHaveActed),
            (EngineError::Dropped("reset".into()), Reach::MayHaveActed),
            (
                EngineError::InvalidResponse("garbage".into()),
                Reach::MayHaveActed,
            ),
        ];
        for (err, reach) in cases {
            assert_eq!(err.reach(), reach, "{err:?}");
        }
        assert!(Reach::NotSent < Reach::Refused && Reach::Refused < Reach::MayHaveActed);
        // Nothing sent: a 503 to retry, not a 504.
        let out_of_time: ApiError = EngineError::OutOfTime.into();
        assert_eq!(out_of_time.code(), "SERVICE_UNAVAILABLE");
    }
}
