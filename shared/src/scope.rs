//! Token scopes (`api.md`, "Token scopes"): `groups:read` for every `GET`,
//! `groups:write` for every other route. A token issued before scopes existed
//! has none stored and keeps full access.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Scope {
    #[serde(rename = "groups:read")]
    GroupsRead,
    #[serde(rename = "groups:write")]
    GroupsWrite,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Self::GroupsRead, Self::GroupsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GroupsRead => "groups:read",
            Self::GroupsWrite => "groups:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Parses a comma-separated list (`groups:read,groups:write`); sorted,
    /// without duplicates. Empty or unknown entries are an error naming them.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, String> {
        let mut scopes = Vec::new();
        for part in list.split(',').map(str::trim) {
            let scope = Self::parse(part).ok_or_else(|| {
                format!("unknown scope {part:?}; known: groups:read, groups:write")
            })?;
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }
}

/// What a token may do: `None` is a token from before scopes (everything).
pub fn allows(granted: Option<&[Scope]>, needed: Scope) -> bool {
    granted.is_none_or(|scopes| scopes.contains(&needed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_strictly() {
        assert_eq!(
            Scope::parse_list("groups:write, groups:read,groups:read").unwrap(),
            vec![Scope::GroupsRead, Scope::GroupsWrite]
        );
        assert_eq!(
            Scope::parse_list("groups:read").unwrap(),
            vec![Scope::GroupsRead]
        );
        for bad in ["", "groups:admin", "groups:read,", "GROUPS:READ"] {
            assert!(Scope::parse_list(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn legacy_tokens_have_every_scope() {
        assert!(allows(None, Scope::GroupsWrite));
        assert!(allows(Some(&[Scope::GroupsWrite]), Scope::GroupsWrite));
        assert!(!allows(Some(&[Scope::GroupsRead]), Scope::GroupsWrite));
    }
}
