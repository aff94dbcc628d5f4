//! `GET /pacing`: the caller's lane (its WhatsApp number: the tenant and
//! its engine session) as the pacing guard sees it — each class's budget,
//! what is available now, today's count against the cap, and a pause with
//! its reason (`pacing.md`). No engine call.

use lambda_http::Request;

use super::{body_bytes, invite::check_no_body};
use crate::engine::Engine;
use crate::error::ApiError;
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

pub struct GetPacing;

impl Operation for GetPacing {
    const ROUTE: Route = Route::read("GET", "/pacing", "get-pacing").without_engine();
    type Command = ();

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<(), ApiError> {
        check_no_body(body_bytes(req)?)
    }

    fn subject(_: &()) -> Subject<'_> {
        Subject {
            action: "get_pacing",
            group: None,
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(_: &(), on: On<'_, E>) -> Result<Executed, ApiError> {
        let mut reply = on.guard.view(crate::pacing::now_ms()).await?;
        reply["success"] = serde_json::json!(true);
        on.ok(&reply)
    }
}
