//! The one route table: method + path pattern → endpoint, and the Lambda
//! function that serves it. `local-api`, the Lambda binaries, template.yaml
//! and the tests all agree with this table.

use lambda_http::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    RemoveGroupParticipants,
    RemoveCommunityParticipants,
    ResetGroupInviteLink,
    GetGroupInviteLink,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub endpoint: Endpoint,
    pub method: &'static str,
    /// API Gateway route syntax; `{jid}` is the only parameter.
    pub path: &'static str,
    /// The workspace binary (and SAM function directory) that serves it.
    pub binary: &'static str,
}

/// The binary behind API Gateway's `$default` route: it answers every request
/// no route of [`ROUTES`] matches (404, or 405 with `Allow`).
pub const UNMATCHED_BINARY: &str = "unmatched-route";

pub const ROUTES: [Route; 4] = [
    Route {
        endpoint: Endpoint::RemoveGroupParticipants,
        method: "DELETE",
        path: "/groups/{jid}/participants",
        binary: "remove-group-participants",
    },
    Route {
        endpoint: Endpoint::RemoveCommunityParticipants,
        method: "DELETE",
        path: "/communities/{jid}/participants",
        binary: "remove-community-participants",
    },
    Route {
        endpoint: Endpoint::ResetGroupInviteLink,
        method: "POST",
        path: "/groups/{jid}/invite/reset",
        binary: "reset-group-invite-link",
    },
    Route {
        endpoint: Endpoint::GetGroupInviteLink,
        method: "GET",
        path: "/groups/{jid}/invite",
        binary: "get-group-invite-link",
    },
];

impl Endpoint {
    pub fn route(self) -> &'static Route {
        ROUTES
            .iter()
            .find(|r| r.endpoint == self)
            .unwrap_or(&ROUTES[0])
    }

    /// `METHOD /path` for logs.
    pub fn name(self) -> String {
        let r = self.route();
        format!("{} {}", r.method, r.path)
    }
}

/// What the table says about one request line.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution<'p> {
    /// The route, and the raw (still percent-encoded) `{jid}` segment.
    Found(Endpoint, &'p str),
    /// The path is known, the method is not; carries the `Allow` value.
    MethodNotAllowed(&'static str),
    NotFound,
}

/// Matches `path` against one pattern; returns the raw `{jid}` segment.
fn match_pattern<'p>(pattern: &str, path: &'p str) -> Option<&'p str> {
    let mut jid = None;
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return jid,
            (Some("{jid}"), Some(seg)) if !seg.is_empty() => jid = Some(seg),
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

pub fn resolve<'p>(method: &Method, path: &'p str) -> Resolution<'p> {
    let mut allow: Option<&'static str> = None;
    for route in &ROUTES {
        if let Some(jid) = match_pattern(route.path, path) {
            if method.as_str() == route.method {
                return Resolution::Found(route.endpoint, jid);
            }
            allow = Some(route.method);
        }
    }
    match allow {
        Some(allow) => Resolution::MethodNotAllowed(allow),
        None => Resolution::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_each_route() {
        assert_eq!(
            resolve(&Method::DELETE, "/groups/1@g.us/participants"),
            Resolution::Found(Endpoint::RemoveGroupParticipants, "1@g.us")
        );
        assert_eq!(
            resolve(&Method::DELETE, "/communities/2@g.us/participants"),
            Resolution::Found(Endpoint::RemoveCommunityParticipants, "2@g.us")
        );
        assert_eq!(
            resolve(&Method::POST, "/groups/..%2Fx/invite/reset"),
            Resolution::Found(Endpoint::ResetGroupInviteLink, "..%2Fx")
        );
        assert_eq!(
            resolve(&Method::GET, "/groups/1@g.us/invite"),
            Resolution::Found(Endpoint::GetGroupInviteLink, "1@g.us")
        );
    }

    #[test]
    fn wrong_method_and_unknown_paths() {
        assert_eq!(
            resolve(&Method::GET, "/groups/1@g.us/participants"),
            Resolution::MethodNotAllowed("DELETE")
        );
        assert_eq!(
            resolve(&Method::DELETE, "/groups/1@g.us/invite/reset"),
            Resolution::MethodNotAllowed("POST")
        );
        for path in [
            "/",
            "/groups//participants",
            "/groups/1@g.us/participants/",
            "/groups/1@g.us/../participants",
            "/groups/1/2/participants",
            "/prefix/groups/1@g.us/participants",
        ] {
            assert_eq!(
                resolve(&Method::DELETE, path),
                Resolution::NotFound,
                "{path}"
            );
        }
    }

    #[test]
    fn every_endpoint_has_one_route() {
        for e in [
            Endpoint::RemoveGroupParticipants,
            Endpoint::RemoveCommunityParticipants,
            Endpoint::ResetGroupInviteLink,
            Endpoint::GetGroupInviteLink,
        ] {
            assert_eq!(ROUTES.iter().filter(|r| r.endpoint == e).count(), 1);
            assert_eq!(e.route().endpoint, e);
        }
    }
}
