//! Configuration, read from the environment once per cold start.

use std::time::Duration;

pub const DEFAULT_ENGINE_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_AUTH_CACHE_TTL_SECS: u64 = 30;
/// API Gateway gives up after 29 s; the upstream deadline must stay below it.
pub const MAX_ENGINE_TIMEOUT_MS: u64 = 28_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub tokens: String,
    pub tenants: String,
    pub idempotency: String,
    pub audit: String,
    /// The pacing lanes (`pacing.md`).
    pub lanes: String,
    /// Paced bulk jobs and their results (`pacing.md`).
    pub jobs: String,
    /// Engine hooks, group events and their dedupe keys (`events.md`).
    pub events: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub tables: Tables,
    pub engine: EngineConfig,
    pub auth_cache_ttl: Duration,
    pub settings: Settings,
}

pub const DEFAULT_AUDIT_TTL_DAYS: u64 = 90;
pub const DEFAULT_IDEMPOTENCY_LEASE_SECS: u64 = 60;
/// Each request's deadline, shared by every phase (README, "Time budget").
/// Below the function's 15 s timeout, with room for the runtime.
pub const DEFAULT_REQUEST_DEADLINE_MS: u64 = 12_000;
/// Below API Gateway's 30 s integration limit; the idempotency lease (at
/// least 30 s) always outlives it.
pub const MAX_REQUEST_DEADLINE_MS: u64 = 25_000;
/// How long a completed idempotency record is replayed.
pub const IDEMPOTENCY_RETENTION_SECS: i64 = 24 * 3600;

/// Behaviour knobs beyond wiring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long audit records are kept; `None` keeps them.
    pub audit_ttl_days: Option<u64>,
    /// How long an in-progress idempotency record blocks its key before another
    /// request may take it over (a function that died mid-request). Always
    /// longer than `request_deadline`.
    pub idempotency_lease_secs: u64,
    /// Every phase of a request draws from this one deadline.
    pub request_deadline: Duration,
}

impl Settings {
    /// When an audit record written at `now_epoch` expires (TTL), if ever.
    pub fn audit_expiry(&self, now_epoch: i64) -> Option<i64> {
        self.audit_ttl_days
            .map(|days| now_epoch + i64::try_from(days).unwrap_or(0) * 86_400)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            audit_ttl_days: Some(DEFAULT_AUDIT_TTL_DAYS),
            idempotency_lease_secs: DEFAULT_IDEMPOTENCY_LEASE_SECS,
            request_deadline: Duration::from_millis(DEFAULT_REQUEST_DEADLINE_MS),
        }
    }
}

pub fn settings_from_lookup(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let audit_days = parse_u64(lookup, "AUDIT_TTL_DAYS", DEFAULT_AUDIT_TTL_DAYS, 0..=36_500)?;
    Ok(Settings {
        audit_ttl_days: (audit_days > 0).then_some(audit_days),
        idempotency_lease_secs: parse_u64(
            lookup,
            "IDEMPOTENCY_LEASE_SECS",
            DEFAULT_IDEMPOTENCY_LEASE_SECS,
            30..=900,
        )?,
        request_deadline: Duration::from_millis(parse_u64(
            lookup,
            "REQUEST_DEADLINE_MS",
            DEFAULT_REQUEST_DEADLINE_MS,
            1_000..=MAX_REQUEST_DEADLINE_MS,
        )?),
    })
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Default endpoint for tenants whose record names none.
    pub default_base_url: Option<String>,
    pub timeout: Duration,
    /// Whether tenants' engine URLs may use plain `http://`.
    pub allow_http: bool,
    /// `ENGINE_CA_BUNDLE`: a PEM file of extra CAs to trust for engines,
    /// read once when the engine client is built (only when set).
    pub ca_bundle: Option<std::path::PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            default_base_url: None,
            timeout: Duration::from_millis(DEFAULT_ENGINE_TIMEOUT_MS),
            allow_http: false,
            ca_bundle: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// The TLS/HTTP stack could not be set up (not the caller's settings).
    #[error("building the HTTP client: {0}")]
    HttpClient(String),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            tables: tables_from_lookup(&lookup)?,
            engine: engine_from_lookup(&lookup)?,
            auth_cache_ttl: Duration::from_secs(parse_u64(
                &lookup,
                "AUTH_CACHE_TTL_SECS",
                DEFAULT_AUTH_CACHE_TTL_SECS,
                0..=3600,
            )?),
            settings: settings_from_lookup(&lookup)?,
        })
    }
}

pub fn tables_from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Tables, ConfigError> {
    Ok(Tables {
        tokens: required(lookup, "TOKENS_TABLE")?,
        tenants: required(lookup, "TENANTS_TABLE")?,
        idempotency: required(lookup, "IDEMPOTENCY_TABLE")?,
        audit: required(lookup, "AUDIT_TABLE")?,
        lanes: required(lookup, "LANES_TABLE")?,
        jobs: required(lookup, "JOBS_TABLE")?,
        events: required(lookup, "EVENTS_TABLE")?,
    })
}

/// The engine settings' names: each `ENGINE_*` name, and the `WUTS_*` name
/// it had when WUTS was the only engine (still read, documented as an alias).
pub const ENGINE_BASE_URL: (&str, &str) = ("ENGINE_BASE_URL", "WUTS_BASE_URL");
pub const ENGINE_TIMEOUT_MS: (&str, &str) = ("ENGINE_TIMEOUT_MS", "WUTS_TIMEOUT_MS");
pub const ENGINE_ALLOW_HTTP: (&str, &str) = ("ENGINE_ALLOW_HTTP", "WUTS_ALLOW_HTTP");

pub fn engine_from_lookup(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<EngineConfig, ConfigError> {
    let (name, allow_http) = aliased(lookup, ENGINE_ALLOW_HTTP)?;
    let allow_http = match allow_http.as_deref() {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => true,
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => false,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("expected true or false, got {other:?}"),
            });
        }
    };
    let (name, default_base_url) = aliased(lookup, ENGINE_BASE_URL)?;
    if let Some(url) = &default_base_url {
        crate::engine::check_base_url(url, allow_http)
            .map_err(|reason| ConfigError::Invalid { name, reason })?;
    }
    let (name, _) = aliased(lookup, ENGINE_TIMEOUT_MS)?;
    let timeout_ms = parse_u64(
        &|key: &str| if key == name { lookup(name) } else { None },
        name,
        DEFAULT_ENGINE_TIMEOUT_MS,
        1..=MAX_ENGINE_TIMEOUT_MS,
    )?;
    Ok(EngineConfig {
        default_base_url,
        timeout: Duration::from_millis(timeout_ms),
        allow_http,
        ca_bundle: non_empty(lookup, "ENGINE_CA_BUNDLE").map(Into::into),
    })
}

/// A setting read under its name or its alias: the name it was found under
/// (the name when neither is set) and its value. Both set to different
/// values is an error rather than a silent choice.
fn aliased(
    lookup: &impl Fn(&str) -> Option<String>,
    (name, alias): (&'static str, &'static str),
) -> Result<(&'static str, Option<String>), ConfigError> {
    match (non_empty(lookup, name), non_empty(lookup, alias)) {
        (Some(a), Some(b)) if a != b => Err(ConfigError::Invalid {
            name,
            reason: format!("{name} and its alias {alias} are both set, to different values"),
        }),
        (Some(a), _) => Ok((name, Some(a))),
        (None, Some(b)) => Ok((alias, Some(b))),
        (None, None) => Ok((name, None)),
    }
}

fn non_empty(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    non_empty(lookup, name).ok_or(ConfigError::Missing(name))
}

fn parse_u64(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(raw) = non_empty(lookup, name) else {
        return Ok(default);
    };
    let value: u64 = raw.parse().map_err(|_| ConfigError::Invalid {
        name,
        reason: format!("expected a whole number, got {raw:?}"),
    })?;
    if !range.contains(&value) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("{value} is outside {}..={}", range.start(), range.end()),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Every table variable.
    const TABLES: [(&str, &str); 7] = [
        ("TOKENS_TABLE", "t"),
        ("TENANTS_TABLE", "n"),
        ("IDEMPOTENCY_TABLE", "i"),
        ("AUDIT_TABLE", "a"),
        ("LANES_TABLE", "l"),
        ("JOBS_TABLE", "j"),
        ("EVENTS_TABLE", "e"),
    ];

    /// `pairs` and every table variable.
    fn with_tables(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        lookup(&[&TABLES[..], pairs].concat())
    }

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_apply() {
        let cfg = Config::from_lookup(with_tables(&[])).unwrap();
        assert_eq!(cfg.engine.timeout, Duration::from_millis(10_000));
        assert_eq!(cfg.auth_cache_ttl, Duration::from_secs(30));
        assert!(!cfg.engine.allow_http);
        assert_eq!(cfg.engine.default_base_url, None);
        assert_eq!(cfg.settings, Settings::default());
    }

    #[test]
    fn missing_tables_are_named() {
        let err = Config::from_lookup(lookup(&[("TENANTS_TABLE", "n")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("TOKENS_TABLE"));
        assert!(err.to_string().contains("TOKENS_TABLE"));
    }

    #[test]
    fn bad_values_are_rejected() {
        let base = [
            ("TOKENS_TABLE", "t"),
            ("TENANTS_TABLE", "n"),
            ("IDEMPOTENCY_TABLE", "i"),
            ("AUDIT_TABLE", "a"),
            ("LANES_TABLE", "l"),
            ("JOBS_TABLE", "j"),
            ("EVENTS_TABLE", "e"),
        ];
        for (k, v) in [
            ("WUTS_TIMEOUT_MS", "abc"),
            ("ENGINE_TIMEOUT_MS", "abc"),
            ("WUTS_TIMEOUT_MS", "0"),
            ("WUTS_TIMEOUT_MS", "30000"),
            ("WUTS_ALLOW_HTTP", "maybe"),
            ("ENGINE_ALLOW_HTTP", "maybe"),
            ("AUTH_CACHE_TTL_SECS", "-1"),
            ("AUDIT_TTL_DAYS", "x"),
            ("IDEMPOTENCY_LEASE_SECS", "5"),
            ("REQUEST_DEADLINE_MS", "500"),
            ("REQUEST_DEADLINE_MS", "26000"),
            ("WUTS_BASE_URL", "http://wuts.internal"),
            ("WUTS_BASE_URL", "not a url"),
            ("ENGINE_BASE_URL", "not a url"),
        ] {
            let mut pairs = base.to_vec();
            pairs.push((k, v));
            let err = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { name, .. } if name == k),
                "{k}={v}"
            );
        }
    }

    #[test]
    fn http_base_url_needs_allow_http() {
        let cfg = Config::from_lookup(with_tables(&[
            ("WUTS_BASE_URL", "http://127.0.0.1:9000"),
            ("WUTS_ALLOW_HTTP", "true"),
        ]))
        .unwrap();
        assert_eq!(
            cfg.engine.default_base_url.as_deref(),
            Some("http://127.0.0.1:9000")
        );
    }

    /// The `ENGINE_*` names and their `WUTS_*` aliases read the same; both
    /// set to different values is refused, naming the setting.
    #[test]
    fn engine_names_and_their_wuts_aliases() {
        let tables = TABLES;
        for (timeout, allow, base) in [
            ("ENGINE_TIMEOUT_MS", "ENGINE_ALLOW_HTTP", "ENGINE_BASE_URL"),
            ("WUTS_TIMEOUT_MS", "WUTS_ALLOW_HTTP", "WUTS_BASE_URL"),
        ] {
            let mut pairs = tables.to_vec();
            pairs.extend([
                (timeout, "2500"),
                (allow, "true"),
                (base, "http://127.0.0.1:9000"),
            ]);
            let cfg = Config::from_lookup(lookup(&pairs)).unwrap();
            assert_eq!(cfg.engine.timeout, Duration::from_millis(2500), "{timeout}");
            assert!(cfg.engine.allow_http, "{allow}");
            assert_eq!(
                cfg.engine.default_base_url.as_deref(),
                Some("http://127.0.0.1:9000")
            );
        }
        let mut same = tables.to_vec();
        same.extend([("ENGINE_TIMEOUT_MS", "2500"), ("WUTS_TIMEOUT_MS", "2500")]);
        assert!(Config::from_lookup(lookup(&same)).is_ok());
        let mut both = tables.to_vec();
        both.extend([("ENGINE_TIMEOUT_MS", "2500"), ("WUTS_TIMEOUT_MS", "3000")]);
        let err = Config::from_lookup(lookup(&both)).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "ENGINE_TIMEOUT_MS",
                    ..
                }
            ),
            "{err}"
        );
    }
}
