//! `GET /communities/{jid}/groups`: the groups linked to a community,
//! without participants, sorted by JID, each saying whether it is the
//! community's announcement group: `{success, groups}`.

use serde::Serialize;

use crate::engine::groups::Group;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    groups: &'a [Group],
}

super::invite::group_operation! {
    ListCommunityGroups: "GET" "/communities/{jid}/groups" => "list-community-groups", read,
    action: "list_community_groups",
    execute(community, on) {
        let call = crate::engine::calls::CommunityGroups { community: community.clone() };
        let linked = on.call(call).await?;
        let groups: Vec<Group> = crate::engine::groups::list(linked)
            .into_iter()
            // The community itself is not one of its groups.
            .filter(|g| g.jid != community.as_str())
            .map(|mut g| {
                // Every entry says which one is the announcement group.
                g.is_announcement_group = Some(g.is_announcement_group.unwrap_or(false));
                g.parent_jid = Some(community.as_str().to_string());
                g
            })
            .collect();
        on.ok(&Reply {
            success: true,
            groups: &groups,
        })
    }
}
