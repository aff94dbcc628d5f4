//! The transport: how every engine call is sent and read, whatever the
//! engine. Each adapter states, per call ([`Speaks`], `engine/adapter.rs`),
//! how the request is addressed and how a success reads, or that it cannot;
//! this module picks the tenant's adapter (the one `match` on the engine
//! kind) and is the one place that checks an answer's status and content
//! type.
//! [`http::HttpEngine`] carries the requests over reqwest and checks their
//! size and deadline.

#[cfg(feature = "adapters")]
pub mod http;

#[cfg(feature = "adapters")]
pub use http::HttpEngine;

use super::adapter::Speaks;
use super::adapters::{Evolution, SessionService, Waha, Wuts};
use super::calls::{Call, UpdateGroup};
use super::groups::GroupChange;
use super::wire::{Outgoing, Reply};
use super::{EngineError, EngineKind, EngineTarget};

/// Something done with the adapter of a call's engine (a visitor: Rust has
/// no closures generic over a type).
pub trait WithAdapter<C: Call> {
    type Out;
    fn with<A: Speaks<C>>(self) -> Self::Out;
}

/// A call every adapter has said something about: each makes it, or says
/// it cannot.
pub trait EngineCall: Call + Sized {
    /// Runs `job` with `engine`'s adapter.
    fn on<J: WithAdapter<Self>>(engine: EngineKind, job: J) -> J::Out;
}

impl<C: Call> EngineCall for C
where
    SessionService: Speaks<C>,
    Wuts: Speaks<C>,
    Evolution: Speaks<C>,
    Waha: Speaks<C>,
{
    fn on<J: WithAdapter<C>>(engine: EngineKind, job: J) -> J::Out {
        match engine {
            EngineKind::SessionService => job.with::<SessionService>(),
            EngineKind::Wuts => job.with::<Wuts>(),
            EngineKind::Evolution => job.with::<Evolution>(),
            EngineKind::Waha => job.with::<Waha>(),
        }
    }
}

/// `call` as the target's engine sends it, on `base`; or the engine's
/// refusal to make it (nothing is sent).
pub fn request<C: EngineCall>(
    base: &str,
    target: &EngineTarget,
    call: &C,
) -> Result<Outgoing, EngineError> {
    struct Build<'a, C>(&'a EngineTarget, &'a C);
    impl<C: Call> WithAdapter<C> for Build<'_, C> {
        type Out = Result<Outgoing, EngineError>;
        fn with<A: Speaks<C>>(self) -> Self::Out {
            A::request(self.0, self.1)
        }
    }
    let mut out = C::on(target.engine, Build(target, call))?;
    out.url.insert_str(0, base);
    Ok(out)
}

/// `engine`'s complete answer to `call`: an error answer in the canonical
/// form, a success read into the call's reply. A success must be what the
/// engine documents: JSON where the engine always answers JSON (a proxy's
/// HTML login page is not a success), and a body the call's reader reads.
pub fn read<C: EngineCall>(
    engine: EngineKind,
    call: &C,
    reply: &Reply,
) -> Result<C::Reply, EngineError> {
    struct Read<'a, C>(&'a C, &'a Reply);
    impl<C: Call> WithAdapter<C> for Read<'_, C> {
        type Out = Result<C::Reply, EngineError>;
        fn with<A: Speaks<C>>(self) -> Self::Out {
            let Read(call, reply) = self;
            if !reply.is_success() {
                return Err(A::refused(call, reply));
            }
            if A::ANSWERS_JSON
                && !reply.body.iter().all(u8::is_ascii_whitespace)
                && !reply.is_json()
            {
                return Err(EngineError::InvalidResponse(format!(
                    "status {}: a {} reply where the engine answers JSON",
                    reply.status,
                    reply.content_type.as_deref().unwrap_or("typeless")
                )));
            }
            A::reply(call, reply)
        }
    }
    C::on(engine, Read(call, reply))
}

/// The [`UpdateGroup`] steps `engine` needs for `change`
/// (`Adapter::update_steps`).
pub fn update_steps(
    engine: EngineKind,
    change: &GroupChange,
) -> Result<Vec<GroupChange>, EngineError> {
    struct Steps<'a>(&'a GroupChange);
    impl WithAdapter<UpdateGroup> for Steps<'_> {
        type Out = Result<Vec<GroupChange>, EngineError>;
        fn with<A: Speaks<UpdateGroup>>(self) -> Self::Out {
            A::update_steps(self.0)
        }
    }
    UpdateGroup::on(engine, Steps(change))
}
