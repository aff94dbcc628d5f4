//! `DELETE /communities/{jid}/groups/{group_jid}`: unlinks the group from
//! the community → `{success, community_jid, group_jid}`.

use lambda_http::Request;

use super::community_link::{self, LinkCommand};
use super::{body_bytes, invite::check_no_body, path_jid, path_jid_named};
use crate::context::RequestCtx;
use crate::engine::{Engine, EngineTarget};
use crate::error::{ApiError, FieldError};
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};

pub struct UnlinkCommunityGroup;

impl Operation for UnlinkCommunityGroup {
    const ROUTE: Route = Route::write(
        "DELETE",
        "/communities/{jid}/groups/{group_jid}",
        "unlink-community-group",
    );
    type Command = LinkCommand;

    fn prepare(params: &Params<'_>, req: &Request) -> Result<LinkCommand, ApiError> {
        let community = path_jid(params.get("jid"))?;
        let group = path_jid_named(params.get("group_jid"), "group_jid")?;
        // As on link: a community is never a group of itself.
        if group == community {
            return Err(ApiError::validation(
                "invalid group JID in the path",
                vec![FieldError::new(
                    "group_jid",
                    "is the community itself; name a group to unlink",
                )],
            ));
        }
        check_no_body(body_bytes(req)?)?;
        Ok(LinkCommand { community, group })
    }

    fn subject(command: &LinkCommand) -> Subject<'_> {
        community_link::subject(command, "unlink_group")
    }

    async fn execute<E: Engine + ?Sized>(
        command: &LinkCommand,
        engine: &E,
        target: &EngineTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        community_link::execute(command, false, engine, target, ctx).await
    }
}
