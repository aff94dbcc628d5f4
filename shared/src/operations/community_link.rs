//! What linking and unlinking a group share: the community in the path, the
//! group in the body (link) or the path (unlink), one engine call, and
//! `{success, community_jid, group_jid}` back.

use serde::Serialize;

use super::ok;
use crate::context::RequestCtx;
use crate::engine::{Engine, EngineTarget};
use crate::error::ApiError;
use crate::jid::GroupJid;
use crate::operation::{Executed, Subject};

#[derive(Serialize)]
pub struct LinkCommand {
    pub community: GroupJid,
    pub group: GroupJid,
}

#[derive(Serialize)]
struct Reply<'a> {
    success: bool,
    community_jid: &'a str,
    group_jid: &'a str,
}

pub fn subject<'a>(command: &'a LinkCommand, action: &'static str) -> Subject<'a> {
    Subject {
        action,
        group: Some(&command.community),
        participants: &[],
    }
}

pub async fn execute<E: Engine + ?Sized>(
    command: &LinkCommand,
    link: bool,
    engine: &E,
    target: &EngineTarget,
    ctx: &mut RequestCtx,
) -> Result<Executed, ApiError> {
    let call = crate::engine::calls::LinkGroup {
        community: command.community.clone(),
        group: command.group.clone(),
        link,
    };
    super::engine_call(ctx, engine, target, call).await?;
    let reply = Reply {
        success: true,
        community_jid: command.community.as_str(),
        group_jid: command.group.as_str(),
    };
    Ok(Executed::plain(ok(ctx, &reply)?))
}
