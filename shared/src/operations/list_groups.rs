//! `GET /groups`: the groups the account has joined, without participants,
//! one page at a time: `?limit=` (1–1,000, default 500) and an opaque
//! `?cursor=` from the previous page's `next_cursor`; groups sorted by JID;
//! `{success, groups, count, next_cursor}`. No engine paginates its list:
//! the adapter reads the engine's whole reply (streaming, typed) and keeps
//! only the page. A page also stops before its JSON would pass
//! [`MAX_PAGE_BYTES`], so an answer never nears Lambda's 6 MB limit
//! whatever the engine's names and topics (`next_cursor` then continues it).

use base64::Engine as _;
use lambda_http::Request;
use serde::Serialize;

use super::{body_bytes, invite::check_no_body};
use crate::engine::calls;
use crate::engine::groups::Group;
use crate::engine::{Engine, ListPage};
use crate::error::{ApiError, FieldError};
use crate::jid::GroupJid;
use crate::operation::{Executed, On, Operation, Subject};
use crate::routes::{Params, Route};

/// Groups per page unless `?limit=` says otherwise.
pub const DEFAULT_LIMIT: usize = 500;
/// The largest `?limit=`.
pub const MAX_LIMIT: usize = 1_000;
/// A page's groups stop before their JSON passes this (the envelope adds a
/// few hundred bytes): far below Lambda's 6,000,000-byte response limit.
pub const MAX_PAGE_BYTES: usize = 4_000_000;

pub struct ListGroups;

#[derive(Serialize)]
pub struct Reply<'a> {
    pub success: bool,
    /// Groups on this page.
    pub count: usize,
    pub groups: &'a [Group],
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A cursor: the last JID of a page, opaque to clients.
pub fn cursor_for(jid: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("g1:{jid}"))
}

fn jid_of_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let jid = text.strip_prefix("g1:")?;
    GroupJid::parse(jid).ok()?;
    Some(jid.to_string())
}

/// `?limit=` and `?cursor=`, validated; any other parameter, or one given
/// twice, is a 400.
pub fn page_of(req: &Request) -> Result<ListPage, ApiError> {
    let mut errors = Vec::new();
    let mut page = ListPage {
        after: None,
        limit: DEFAULT_LIMIT,
    };
    let (mut limit, mut cursor) = (None, None);
    let query = req.uri().query().unwrap_or("");
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "limit" => &mut limit,
            "cursor" => &mut cursor,
            other => {
                errors.push(
                    FieldError::new("query", "unknown parameter; allowed: limit, cursor")
                        .with_value(other),
                );
                continue;
            }
        };
        if slot.is_some() {
            errors.push(FieldError::new(key.to_string(), "given more than once"));
        }
        *slot = Some(value.into_owned());
    }
    if let Some(raw) = &limit {
        match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => page.limit = n,
            _ => errors.push(
                FieldError::new("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))
                    .with_value(raw),
            ),
        }
    }
    if let Some(raw) = &cursor {
        match jid_of_cursor(raw) {
            Some(jid) => page.after = Some(jid),
            None => {
                errors.push(FieldError::new("cursor", "not a cursor this API gave").with_value(raw))
            }
        }
    }
    if errors.is_empty() {
        Ok(page)
    } else {
        Err(ApiError::validation("invalid query parameters", errors))
    }
}

/// The page's answer: the groups that fit [`MAX_PAGE_BYTES`], and the
/// cursor after the last one shown when more exist.
pub fn reply(groups: &[Group], more: bool) -> Reply<'_> {
    let mut bytes = 0usize;
    let mut shown = groups.len();
    for (i, group) in groups.iter().enumerate() {
        let len = serde_json::to_vec(group).map_or(usize::MAX, |v| v.len() + 1);
        bytes = bytes.saturating_add(len);
        // Always at least one group, so a page makes progress.
        if bytes > MAX_PAGE_BYTES && i > 0 {
            shown = i;
            break;
        }
    }
    let shown_groups = &groups[..shown];
    let next_cursor = (more || shown < groups.len())
        .then(|| shown_groups.last().map(|g| cursor_for(&g.jid)))
        .flatten();
    Reply {
        success: true,
        count: shown_groups.len(),
        groups: shown_groups,
        next_cursor,
    }
}

impl Operation for ListGroups {
    const ROUTE: Route = Route::read("GET", "/groups", "list-groups");
    type Command = ListPage;

    fn prepare(_params: &Params<'_>, req: &Request) -> Result<ListPage, ApiError> {
        check_no_body(body_bytes(req)?)?;
        page_of(req)
    }

    fn subject(_: &ListPage) -> Subject<'_> {
        Subject {
            action: "list_groups",
            group: None,
            participants: &[],
        }
    }

    async fn execute<E: Engine + ?Sized>(
        page: &ListPage,
        mut on: On<'_, E>,
    ) -> Result<Executed, ApiError> {
        let mut got = on.call(calls::ListGroups { page: page.clone() }).await?;
        // Adapters sort; any other port may not.
        if !got.groups.is_sorted_by(|a, b| a.jid <= b.jid) {
            got.groups.sort_unstable_by(|a, b| a.jid.cmp(&b.jid));
        }
        on.ok(&reply(&got.groups, got.more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(jid: &str, topic_len: usize) -> Group {
        Group {
            jid: jid.into(),
            topic: Some("x".repeat(topic_len)),
            ..Group::default()
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_what_we_did_not_give() {
        let c = cursor_for("120363000000000001@g.us");
        assert_eq!(
            jid_of_cursor(&c).as_deref(),
            Some("120363000000000001@g.us")
        );
        for bad in ["", "x", "g1:1@g.us", &cursor_for("not a jid")] {
            assert_eq!(jid_of_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_page_stops_before_its_byte_budget() {
        let groups: Vec<Group> = (0..1000)
            .map(|i| group(&format!("{i:06}@g.us"), 6_000))
            .collect();
        let r = reply(&groups, false);
        assert!(r.count < 1000 && r.count > 600, "{}", r.count);
        assert_eq!(
            jid_of_cursor(r.next_cursor.as_deref().unwrap()).as_deref(),
            Some(groups[r.count - 1].jid.as_str())
        );
        assert!(serde_json::to_vec(&r).unwrap().len() <= MAX_PAGE_BYTES + 1_000);
        let small = reply(&groups[..3], false);
        assert_eq!((small.count, small.next_cursor), (3, None));
        let more = reply(&groups[..3], true);
        assert_eq!(
            jid_of_cursor(more.next_cursor.as_deref().unwrap()).as_deref(),
            Some("000002@g.us")
        );
    }
}
