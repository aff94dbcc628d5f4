//! `DELETE /groups/{jid}/participants`: removes participants from a group (default action `remove`; the body's `action` overrides it).

use lambda_http::Request;

use super::participants::{self, PLAIN};
use crate::context::RequestCtx;
use crate::engine::{Action, Engine, EngineTarget, GroupKind, UpdateParticipants};
use crate::error::ApiError;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;

pub struct RemoveGroupParticipants;

impl Operation for RemoveGroupParticipants {
    const ROUTE: Route = Route {
        method: "DELETE",
        path: "/groups/{jid}/participants",
        function: "remove-group-participants",
        scope: Scope::GroupsWrite,
        mutating: true,
    };
    type Command = UpdateParticipants;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<UpdateParticipants, ApiError> {
        participants::prepare(GroupKind::Group, Action::Remove, params, req)
    }

    fn subject(call: &UpdateParticipants) -> Subject<'_> {
        participants::subject(call)
    }

    async fn execute<E: Engine + ?Sized>(
        call: &UpdateParticipants,
        engine: &E,
        target: &EngineTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        participants::execute::<PLAIN, E>(call, engine, target, ctx).await
    }
}
