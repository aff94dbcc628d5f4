//! `GET /groups`: the groups the account has joined, without participants:
//! `{success, groups, count, truncated}`. No engine paginates this, so the
//! answer is bounded instead: at most [`MAX_GROUPS`] groups, sorted by
//! JID; `truncated` says whether there were more (`count` is the total).

use lambda_http::Request;
use serde::Serialize;

use super::{body_bytes, invite::check_no_body, ok};
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::operation::{Executed, Operation, Subject};
use crate::routes::{Params, Route};
use crate::scope::Scope;
use crate::wuts::groups::Group;
use crate::wuts::{WutsClient, WutsTarget};

/// The most groups one answer carries: ~300 bytes each, so the answer
/// stays far below Lambda's 6 MB response limit.
pub const MAX_GROUPS: usize = 10_000;

pub struct ListGroups;

#[derive(Serialize)]
pub struct Reply<'a> {
    pub success: bool,
    pub count: usize,
    pub truncated: bool,
    pub groups: &'a [Group],
}

/// The answer for `groups` (already sorted and checked by the adapter).
pub fn reply(groups: &[Group]) -> Reply<'_> {
    let shown = &groups[..groups.len().min(MAX_GROUPS)];
    Reply {
        success: true,
        count: groups.len(),
        truncated: shown.len() < groups.len(),
        groups: shown,
    }
}

impl Operation for ListGroups {
    const ROUTE: Route = Route {
        method: "GET",
        path: "/groups",
        function: "list-groups",
        scope: Scope::GroupsRead,
        mutating: false,
    };
    type Command = ();

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<(), ApiError> {
        check_no_body(body_bytes(req)?)
    }

    fn subject(_: &()) -> Subject<'_> {
        Subject {
            action: "list_groups",
            group: None,
            participants: &[],
        }
    }

    async fn execute<E: WutsClient + ?Sized>(
        _: &(),
        engine: &E,
        target: &WutsTarget,
        ctx: &mut RequestCtx,
    ) -> Result<Executed, ApiError> {
        let mut groups = super::engine_call(ctx, |meta| engine.list_groups(target, meta)).await?;
        // Adapters sort; the simulator and any other port may not.
        if !groups.is_sorted_by(|a, b| a.jid <= b.jid) {
            groups.sort_unstable_by(|a, b| a.jid.cmp(&b.jid));
        }
        Ok(Executed::plain(ok(ctx, &reply(&groups))?))
    }
}
