//! `DELETE /communities/{jid}/groups/{group_jid}`: unlinks the group from
//! the community → `{success, community_jid, group_jid}`.

use lambda_http::Request;

use super::community_link::{LinkCommand, link_operation};
use super::{body_bytes, invite::check_no_body, path_jid, path_jid_named};
use crate::error::{ApiError, FieldError};
use crate::routes::Params;

link_operation! {
    UnlinkCommunityGroup: "DELETE" "/communities/{jid}/groups/{group_jid}" => "unlink-community-group",
    action: "unlink_group", link: false, prepare: prepare
}

/// The community and the group in the path; no body.
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
