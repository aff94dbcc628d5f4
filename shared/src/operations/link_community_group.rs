//! `POST /communities/{jid}/groups` `{group_jid}`: links an existing group
//! to the community → `{success, community_jid, group_jid}`.

use lambda_http::Request;

use super::community_link::{self, LinkCommand};
use super::fields::{self, finish};
use super::path_jid;
use crate::context::RequestCtx;
use crate::engine::{Engine, EngineTarget};
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};

pub struct LinkCommunityGroup;

impl Operation for LinkCommunityGroup {
    const ROUTE: Route = Route::write("POST", "/communities/{jid}/groups", "link-community-group");
    type Command = LinkCommand;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<LinkCommand, ApiError> {
        let community = path_jid(params.get("jid"))?;
        let bytes = super::json_body(req)?;
        let mut errors: Vec<FieldError> = Vec::new();
        let map = fields::object(bytes, &["group_jid"], &mut errors)?;
        let group = match map.get("group_jid") {
            None => {
                errors.push(FieldError::new("group_jid", "is required"));
                None
            }
            Some(v) => fields::group_jid(v, "group_jid", &mut errors),
        };
        if group.as_ref() == Some(&community) {
            errors.push(FieldError::new(
                "group_jid",
                "is the community itself; name a group to link",
            ));
        }
        let group = finish(errors, group)?;
        Ok(LinkCommand { community, group })
    }

    fn subject(command: &LinkCommand) -> Subject<'_> {
        community_link::subject(command, "link_group")
    }

    async fn execute<E: Engine + ?Sized>(
        command: &LinkCommand,
        engine: &E,
        target: &EngineTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        community_link::execute(command, true, engine, target, ctx).await
    }
}
