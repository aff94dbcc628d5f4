//! What an adapter is: the contract each engine module keeps, and the two
//! ways it states a call — [`speaks!`] (how the request is addressed, how the
//! reply reads) and [`cannot!`] (why not; nothing is sent). The transport
//! (`engine/transport`) picks the adapter and sends; adapters know nothing
//! of it, nor of each other.

use super::calls::Call;
use super::groups::GroupChange;
use super::wire::{Outgoing, Reply};
use super::{EngineError, EngineTarget};

/// What an adapter is, whatever the call.
pub trait Adapter {
    /// Whether every success of this engine declares JSON. WAHA's answers
    /// text for strings and booleans (NestJS), so its adapter reads the body
    /// itself.
    const ANSWERS_JSON: bool = true;

    /// An error answer (any status outside 2xx) in the canonical form.
    fn error(reply: &Reply) -> EngineError;

    /// How this engine applies `change`: the `UpdateGroup` calls, in
    /// order (one for an engine that takes them all at once, one per
    /// property otherwise), or `NotSupported` if any part cannot be done
    /// (then nothing is sent).
    fn update_steps(change: &GroupChange) -> Result<Vec<GroupChange>, EngineError>;
}

/// How an adapter makes call `C`.
pub trait Speaks<C: Call>: Adapter {
    /// The request, its URL relative to the engine's base URL; or why this
    /// engine cannot make it (`NotSupported`, `Invalid`): then nothing is
    /// sent.
    fn request(target: &EngineTarget, call: &C) -> Result<Outgoing, EngineError>;

    /// A success (2xx, of the declared type) read into the call's reply. A
    /// success that does not read is `InvalidResponse`: an answer whose
    /// outcome is unknown, never a success.
    fn reply(call: &C, reply: &Reply) -> Result<C::Reply, EngineError>;

    /// An error answer to this call; the adapter's [`Adapter::error`]
    /// unless the call reads some answer its own way.
    fn refused(_call: &C, reply: &Reply) -> EngineError {
        Self::error(reply)
    }
}

/// How an adapter makes a call, in one statement: `speaks!(Wuts: Leave =>
/// request(target, call) <the request>; reply(call, reply) <the reply read>);`
/// (the [`Speaks`] impl, with the default reading of error answers).
macro_rules! speaks {
    ($adapter:ty: $call:ty =>
     request($target:pat, $c:pat) $request:expr;
     reply($rc:pat, $reply:pat) $read:expr) => {
        impl $crate::engine::adapter::Speaks<$call> for $adapter {
            fn request(
                $target: &$crate::engine::EngineTarget,
                $c: &$call,
            ) -> Result<$crate::engine::wire::Outgoing, $crate::engine::EngineError> {
                $request
            }

            fn reply(
                $rc: &$call,
                $reply: &$crate::engine::wire::Reply,
            ) -> Result<<$call as $crate::engine::calls::Call>::Reply, $crate::engine::EngineError>
            {
                $read
            }
        }
    };
}
pub(crate) use speaks;

/// "This engine cannot make these calls": each `request` answers
/// `NotSupported` with the reason (nothing is sent), so the operation
/// answers `501 NOT_SUPPORTED`.
macro_rules! cannot {
    ($adapter:ty: $($call:ty),+ => $why:expr) => {$(
        impl $crate::engine::adapter::Speaks<$call> for $adapter {
            fn request(
                _: &$crate::engine::EngineTarget,
                _: &$call,
            ) -> Result<$crate::engine::wire::Outgoing, $crate::engine::EngineError> {
                Err($crate::engine::EngineError::NotSupported { operation: $why })
            }

            fn reply(
                _: &$call,
                reply: &$crate::engine::wire::Reply,
            ) -> Result<<$call as $crate::engine::calls::Call>::Reply, $crate::engine::EngineError>
            {
                Err(<$adapter as $crate::engine::adapter::Adapter>::error(reply))
            }
        }
    )+};
}
pub(crate) use cannot;
