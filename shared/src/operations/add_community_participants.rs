//! `POST /communities/{jid}/participants`: adds participants at the community (parent) level (default action `add`); the reply also names the community and the action.

use lambda_http::Request;

use super::participants::{self, WITH_JID_AND_ACTION};
use crate::context::RequestCtx;
use crate::engine::{Action, Engine, EngineTarget, GroupKind, UpdateParticipants};
use crate::error::ApiError;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;

pub struct AddCommunityParticipants;

impl Operation for AddCommunityParticipants {
    const ROUTE: Route = Route {
        method: "POST",
        path: "/communities/{jid}/participants",
        function: "add-community-participants",
        scope: Scope::GroupsWrite,
        mutating: true,
    };
    type Command = UpdateParticipants;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<UpdateParticipants, ApiError> {
        participants::prepare(GroupKind::Community, Action::Add, params, req)
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
        participants::execute::<WITH_JID_AND_ACTION, E>(call, engine, target, ctx).await
    }
}
