//! `POST /groups/{jid}/participants`: adds participants to a group (default action `add`; the body's `action` overrides it). An `add` is never retried once it may have reached the engine.

use lambda_http::Request;

use super::participants::{self, PLAIN};
use crate::context::RequestCtx;
use crate::engine::{Action, Engine, EngineTarget, GroupKind, UpdateParticipants};
use crate::error::ApiError;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;

pub struct AddGroupParticipants;

impl Operation for AddGroupParticipants {
    const ROUTE: Route = Route {
        method: "POST",
        path: "/groups/{jid}/participants",
        function: "add-group-participants",
        scope: Scope::GroupsWrite,
        mutating: true,
    };
    type Command = UpdateParticipants;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<UpdateParticipants, ApiError> {
        participants::prepare(GroupKind::Group, Action::Add, params, req)
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
