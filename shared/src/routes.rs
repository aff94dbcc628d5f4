//! Routing types and matching: method + path pattern → an index into a route
//! table. The table itself, `operations::ROUTES`, is generated from the one
//! list of operations; `local-api`, the Lambda binaries, template.yaml,
//! openapi.yaml and the tests all agree with it. This module knows no
//! operation.

use lambda_http::http::Method;

use crate::scope::Scope;

/// One operation's place in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// API Gateway route syntax: literal segments and `{name}` parameters.
    pub path: &'static str,
    /// The workspace binary (and SAM function directory) that serves it.
    pub function: &'static str,
    /// The scope a token needs for it.
    pub scope: Scope,
    /// Whether it changes something upstream (Idempotency-Key, audit).
    pub mutating: bool,
    /// Whether it calls the tenant's engine (false: it answers from this
    /// API's own data, on every engine, `GET /pacing`).
    pub engine: bool,
    /// Whether it queues paced jobs (its function sends to `JOBS_QUEUE_URL`).
    pub queues_jobs: bool,
}

impl Route {
    /// A route that changes something upstream (scope `groups:write`,
    /// `Idempotency-Key`, audit).
    pub const fn write(method: &'static str, path: &'static str, function: &'static str) -> Self {
        Self {
            method,
            path,
            function,
            scope: Scope::GroupsWrite,
            mutating: true,
            engine: true,
            queues_jobs: false,
        }
    }

    /// A route that only reads (scope `groups:read`).
    pub const fn read(method: &'static str, path: &'static str, function: &'static str) -> Self {
        Self {
            method,
            path,
            function,
            scope: Scope::GroupsRead,
            mutating: false,
            engine: true,
            queues_jobs: false,
        }
    }

    /// The route answers from this API's own data: no engine call, so
    /// nothing an engine does (or cannot do) changes its answer.
    pub const fn without_engine(self) -> Self {
        Self {
            engine: false,
            ..self
        }
    }

    /// The route queues paced jobs: its function needs `JOBS_QUEUE_URL`.
    pub const fn queueing_jobs(self) -> Self {
        Self {
            queues_jobs: true,
            ..self
        }
    }

    /// `METHOD /path`, API Gateway's route key; for logs and audit records.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The binary behind API Gateway's `$default` route: it answers every request
/// no route of the table matches (404, or 405 with `Allow`).
pub const UNMATCHED_BINARY: &str = "unmatched-route";

/// Most a pattern has.
const MAX_PARAMS: usize = 4;

/// A matched route's path parameters, raw (still percent-encoded).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params<'p> {
    entries: Vec<(&'static str, &'p str)>,
}

impl<'p> Params<'p> {
    /// The raw segment for `{name}`; empty if the pattern has no such name.
    pub fn get(&self, name: &str) -> &'p str {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v)
    }
}

/// What the table says about one request line.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution<'p> {
    /// The route (an index into the table) and its raw parameters.
    Found(usize, Params<'p>),
    /// The path is known, the method is not; carries the `Allow` value.
    MethodNotAllowed(String),
    NotFound,
}

/// Matches `path` against one pattern.
pub fn match_pattern<'p>(pattern: &'static str, path: &'p str) -> Option<Params<'p>> {
    let mut params = Params::default();
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(seg)) if w.starts_with('{') && w.ends_with('}') => {
                if seg.is_empty() || params.entries.len() == MAX_PARAMS {
                    return None;
                }
                params.entries.push((&w[1..w.len() - 1], seg));
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// Resolves a request line against `routes` (the API's: `operations::resolve`).
///
/// Where several patterns match, the most specific wins (the most literal
/// segments, as API Gateway chooses): `/groups/join` is the join route's,
/// never a group called `join`, whatever the method.
pub fn resolve_in<'p>(routes: &[Route], method: &Method, path: &'p str) -> Resolution<'p> {
    let literals = |pattern: &str| pattern.split('/').filter(|s| !s.starts_with('{')).count();
    let best = routes
        .iter()
        .filter(|r| match_pattern(r.path, path).is_some())
        .map(|r| literals(r.path))
        .max();
    let mut allow: Vec<&'static str> = Vec::new();
    for (index, route) in routes.iter().enumerate() {
        if Some(literals(route.path)) != best {
            continue;
        }
        if let Some(params) = match_pattern(route.path, path) {
            if method.as_str() == route.method {
                return Resolution::Found(index, params);
            }
            if !allow.contains(&route.method) {
                allow.push(route.method);
            }
        }
    }
    if allow.is_empty() {
        Resolution::NotFound
    } else {
        allow.sort_unstable();
        Resolution::MethodNotAllowed(allow.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::{ROUTES, resolve};

    fn found(method: Method, path: &str) -> (&'static str, String) {
        match resolve(&method, path) {
            Resolution::Found(i, params) => (ROUTES[i].function, params.get("jid").to_string()),
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn literal_segments_win() {
        assert_eq!(found(Method::POST, "/groups/join").0, "join-group");
        assert_eq!(
            resolve(&Method::PATCH, "/groups/join"),
            Resolution::MethodNotAllowed("POST".into())
        );
        assert_eq!(found(Method::PATCH, "/groups/1@g.us").0, "update-group");
        assert_eq!(
            resolve(&Method::DELETE, "/groups"),
            Resolution::MethodNotAllowed("GET, POST".into())
        );
    }

    #[test]
    fn resolves_each_route() {
        assert_eq!(
            found(Method::DELETE, "/groups/1@g.us/participants"),
            ("remove-group-participants", "1@g.us".into())
        );
        assert_eq!(
            found(Method::POST, "/groups/1@g.us/participants"),
            ("add-group-participants", "1@g.us".into())
        );
        assert_eq!(
            found(Method::DELETE, "/communities/2@g.us/participants"),
            ("remove-community-participants", "2@g.us".into())
        );
        assert_eq!(
            found(Method::POST, "/communities/2@g.us/participants"),
            ("add-community-participants", "2@g.us".into())
        );
        assert_eq!(
            found(Method::POST, "/groups/..%2Fx/invite/reset"),
            ("reset-group-invite-link", "..%2Fx".into())
        );
        assert_eq!(
            found(Method::GET, "/groups/1@g.us/invite"),
            ("get-group-invite-link", "1@g.us".into())
        );
    }

    #[test]
    fn wrong_method_and_unknown_paths() {
        assert_eq!(
            resolve(&Method::GET, "/groups/1@g.us/participants"),
            Resolution::MethodNotAllowed("DELETE, POST".into())
        );
        assert_eq!(
            resolve(&Method::DELETE, "/groups/1@g.us/invite/reset"),
            Resolution::MethodNotAllowed("POST".into())
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
    fn two_parameters() {
        let params = match_pattern(
            "/communities/{jid}/groups/{group_jid}",
            "/communities/1@g.us/groups/2@g.us",
        )
        .unwrap();
        assert_eq!(
            (params.get("jid"), params.get("group_jid")),
            ("1@g.us", "2@g.us")
        );
        assert!(
            match_pattern(
                "/communities/{jid}/groups/{group_jid}",
                "/communities/1@g.us/groups/"
            )
            .is_none()
        );
    }

    #[test]
    fn every_route_is_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(a.key() != b.key(), "{} twice", a.key());
                assert_ne!(a.function, b.function);
            }
            assert_eq!(
                a.scope,
                if a.method == "GET" {
                    Scope::GroupsRead
                } else {
                    Scope::GroupsWrite
                },
                "{}: GETs read, the rest write",
                a.key()
            );
            assert_eq!(a.mutating, a.method != "GET", "{}", a.key());
        }
    }
}
