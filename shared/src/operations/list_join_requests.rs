//! `GET /groups/{jid}/join-requests`: the pending requests to join a group
//! that needs an admin's approval, `{success, requests: [{jid,
//! phone_number, lid?, requested_at, method?}]}`, oldest first.

use serde::Serialize;

use crate::engine::groups::JoinRequest;

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    requests: &'a [JoinRequest],
}

super::invite::group_operation! {
    ListJoinRequests: "GET" "/groups/{jid}/join-requests" => "list-join-requests", read,
    action: "list_join_requests",
    execute(group, on) {
        let call = crate::engine::calls::JoinRequests { group: group.clone() };
        let mut requests = on.call(call).await?;
        // One entry per requester (an engine may list a device twice),
        // oldest first; an unknown time sorts last.
        let mut seen = std::collections::HashSet::new();
        requests.retain(|r| seen.insert(r.jid.clone()));
        requests.sort_by(|a, b| match (&a.requested_at, &b.requested_at) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        on.ok(&Reply {
            success: true,
            requests: &requests,
        })
    }
}
