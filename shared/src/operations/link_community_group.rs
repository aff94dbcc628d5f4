//! `POST /communities/{jid}/groups` `{group_jid}`: links an existing group
//! to the community → `{success, community_jid, group_jid}`.

use lambda_http::Request;

use super::community_link::{LinkCommand, link_operation};
use super::fields::{self, finish};
use super::path_jid;
use crate::error::{ApiError, FieldError};
use crate::routes::Params;

link_operation! {
    LinkCommunityGroup: "POST" "/communities/{jid}/groups" => "link-community-group",
    action: "link_group", link: true, prepare: prepare
}

/// The community in the path, the group in the body.
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
