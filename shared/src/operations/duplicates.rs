//! Duplicate object keys in a request body. `serde_json` (like most
//! parsers) keeps the last of two equal keys, while a proxy or WAF in front
//! may read the first: `{"action":"promote","action":"remove"}` would be
//! checked as a promote and run as a remove. A body with a duplicate key,
//! at any depth, is refused before anything else reads it.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The path of the first duplicate key (`action`, `options.locked`,
/// `participants[2].id`), or `None` if there is none or the body is not
/// JSON at all (the operation's own parser reports that).
pub fn first_duplicate(bytes: &[u8]) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    (Walk {
        path: String::new(),
    })
    .deserialize(&mut de)
    .unwrap_or_default()
}

/// Walks one value; `path` is where it sits.
struct Walk {
    path: String,
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut i = 0usize;
        let mut found = None;
        loop {
            if found.is_some() {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(found);
                }
                continue;
            }
            let walk = Walk {
                path: format!("{}[{i}]", self.path),
            };
            match seq.next_element_seed(walk)? {
                None => return Ok(None),
                Some(inner) => found = inner,
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if found.is_some() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !seen.insert(key) {
                found = Some(path);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            found = map.next_value_seed(Walk { path })?;
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_at_any_depth() {
        for (body, path) in [
            (
                r#"{"participants":["M"],"action":"promote","action":"remove"}"#,
                "action",
            ),
            (
                r#"{"options":{"locked":true,"locked":false}}"#,
                "options.locked",
            ),
            (r#"{"a":[{"id":1},{"id":2,"id":3}]}"#, "a[1].id"),
            (r#"[{"x":1,"x":1}]"#, "[0].x"),
            (r#"{"a\u0062":1,"ab":2}"#, "ab"),
        ] {
            assert_eq!(
                first_duplicate(body.as_bytes()).as_deref(),
                Some(path),
                "{body}"
            );
        }
        for body in [
            r#"{"participants":["M"],"action":"remove"}"#,
            r#"{"a":{"x":1},"b":{"x":1}}"#,
            "",
            "not json",
            "{\"a\":1,\"a\"",
            "[1,2,3]",
        ] {
            assert_eq!(first_duplicate(body.as_bytes()), None, "{body}");
        }
    }
}
