//! Where a tenant's engine is, which it is and as whom to call it: the
//! target every call goes to, and the checks its URL passes when it is
//! stored and when it is used.

use super::EngineKind;

/// Where, on which engine and as whom to call: resolved from the tenant
/// record. `Debug` hides the key.
#[derive(Clone)]
pub struct EngineTarget {
    pub engine: EngineKind,
    pub base_url: String,
    /// The engine's session (instance) name; empty for `wuts`.
    pub session_id: String,
    pub api_key: String,
}

impl std::fmt::Debug for EngineTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineTarget")
            .field("engine", &self.engine)
            .field("base_url", &self.base_url)
            .field("session_id", &self.session_id)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// An engine's `Retry-After`, either form (RFC 9110): delay-seconds, or an
/// HTTP date, turned into the seconds from `now` (0 if it has passed). We pass
/// it on as seconds. Anything else is dropped.
pub fn retry_after_secs(value: &str, now: std::time::SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or_default();
    // Round up: "retry after 1.2 s" must not become "after 1 s".
    Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

/// A base URL as stored and used: parsed (which trims surrounding
/// whitespace) and serialised, without a trailing `/` (paths are appended
/// as `/v1/...`). Call after [`check_base_url`].
pub fn normalise_base_url(url: &str) -> String {
    match url::Url::parse(url.trim()) {
        Ok(parsed) => parsed.as_str().trim_end_matches('/').to_string(),
        Err(_) => url.trim().trim_end_matches('/').to_string(),
    }
}

/// Checks a WUTS base URL: https (http only when allowed), a host, no
/// credentials, query or fragment.
pub fn check_base_url(url: &str, allow_http: bool) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err("plain http is only allowed with ENGINE_ALLOW_HTTP=true".into()),
        other => return Err(format!("scheme {other:?} is not https")),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("credentials in the URL are not allowed".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("a query or fragment is not allowed".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_both_forms() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_784_116_800);
        assert_eq!(retry_after_secs("7", now), Some(7));
        assert_eq!(retry_after_secs(" 120 ", now), Some(120));
        // 2026-07-15T12:00:00Z is `now`; 90 s later, and one already past.
        assert_eq!(
            retry_after_secs("Wed, 15 Jul 2026 12:01:30 GMT", now),
            Some(90)
        );
        assert_eq!(
            retry_after_secs("Wed, 15 Jul 2026 11:00:00 GMT", now),
            Some(0)
        );
        for bad in ["", "soon", "-3", "1.5"] {
            assert_eq!(retry_after_secs(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn base_urls_are_stored_normalised() {
        assert_eq!(
            normalise_base_url("http://127.0.0.1:8080/ "),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalise_base_url(" https://wuts.example.com/api/"),
            "https://wuts.example.com/api"
        );
        assert_eq!(
            normalise_base_url("https://WUTS.example.com"),
            "https://wuts.example.com"
        );
    }

    #[test]
    fn base_urls() {
        assert!(check_base_url("https://wuts.example.com", false).is_ok());
        assert!(check_base_url("https://wuts.example.com/api/", false).is_ok());
        assert!(check_base_url("http://127.0.0.1:8080", false).is_err());
        assert!(check_base_url("http://127.0.0.1:8080", true).is_ok());
        assert!(check_base_url("ftp://x", true).is_err());
        assert!(check_base_url("https://u:p@x", false).is_err());
        assert!(check_base_url("https://x/?a=b", false).is_err());
        assert!(check_base_url("nonsense", true).is_err());
    }

    #[test]
    fn target_debug_hides_key() {
        let t = EngineTarget {
            engine: EngineKind::default(),
            base_url: "https://w".into(),
            session_id: "s".into(),
            api_key: "super-secret".into(),
        };
        assert!(!format!("{t:?}").contains("super-secret"));
    }
}
