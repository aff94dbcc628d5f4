//! What linking and unlinking a group share: the community in the path, the
//! group in the body (link) or the path (unlink), one engine call, and
//! `{success, community_jid, group_jid}` back.

use serde::Serialize;

use crate::engine::Engine;
use crate::error::ApiError;
use crate::jid::GroupJid;
use crate::operation::{Executed, On, Subject};

/// A link or unlink operation: its route, the action its audit record
/// names, whether it links, and the function that reads the request into a
/// [`LinkCommand`].
macro_rules! link_operation {
    ($(#[$doc:meta])* $name:ident: $method:literal $path:literal => $function:literal,
     action: $action:literal, link: $link:literal, prepare: $prepare:path) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::operation::Operation for $name {
            const ROUTE: $crate::routes::Route =
                $crate::routes::Route::write($method, $path, $function);
            type Command = $crate::operations::community_link::LinkCommand;

            fn prepare(
                params: &$crate::routes::Params<'_>,
                req: &lambda_http::Request,
            ) -> Result<Self::Command, $crate::error::ApiError> {
                $prepare(params, req)
            }

            fn subject(command: &Self::Command) -> $crate::operation::Subject<'_> {
                $crate::operations::community_link::subject(command, $action)
            }

            async fn execute<E: $crate::engine::Engine + ?Sized>(
                command: &Self::Command,
                on: $crate::operation::On<'_, E>,
            ) -> Result<$crate::operation::Executed, $crate::error::ApiError> {
                $crate::operations::community_link::execute(command, $link, on).await
            }
        }
    };
}
pub(crate) use link_operation;

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
    mut on: On<'_, E>,
) -> Result<Executed, ApiError> {
    let call = crate::engine::calls::LinkGroup {
        community: command.community.clone(),
        group: command.group.clone(),
        link,
    };
    on.call(call).await?;
    let reply = Reply {
        success: true,
        community_jid: command.community.as_str(),
        group_jid: command.group.as_str(),
    };
    on.ok(&reply)
}
