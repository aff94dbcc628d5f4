//! Delivery to the tenant's endpoints (`events.md`, "Delivery"): who gets
//! which event, the Standard Webhooks v1 signature, the retry schedule, and
//! the endpoint URL rules (https only; no private, loopback or link-local
//! address unless the endpoint was added with `allow_private`), checked when
//! an endpoint is added and again at each delivery, against the addresses
//! the request then connects to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::signature::sign_standard_webhook;
use super::{Event, EventType};

/// How long a rotated-out secret still signs (a second signature).
pub const ROTATION_OVERLAP_SECS: i64 = 24 * 3_600;
/// One delivery's time limit.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// After the first attempt fails: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h.
pub const RETRY_SCHEDULE_SECS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 86_400];
/// The longest wait a `Retry-After` may ask for (a day, the schedule's last).
pub const MAX_RETRY_AFTER_SECS: u64 = 86_400;

/// A secret the endpoint no longer gets, still signing until `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub secret: String,
    /// Epoch seconds.
    pub until: i64,
}

/// One of the tenant's subscribed endpoints.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub tenant_id: String,
    pub url: String,
    /// Event types or `prefix.*` patterns; empty: every type.
    #[serde(default)]
    pub types: Vec<String>,
    /// `whsec_` + base64 of 32 random bytes.
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousSecret>,
    /// Tests and receivers inside a VPC: plain http and private addresses.
    #[serde(default)]
    pub allow_private: bool,
    /// Why deliveries stopped (`410 Gone` from the endpoint); none: active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<String>,
    pub created_at: i64,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("url", &self.url)
            .field("types", &self.types)
            .field("allow_private", &self.allow_private)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Whether the endpoint subscribed to `kind` (and is active).
    pub fn wants(&self, kind: EventType) -> bool {
        self.disabled.is_none()
            && (self.types.is_empty() || self.types.iter().any(|t| type_matches(t, kind.as_str())))
    }

    /// What `admin webhook list` shows: everything but the secrets.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "endpoint_id": self.id,
            "tenant_id": self.tenant_id,
            "url": self.url,
            "types": self.types,
            "allow_private": self.allow_private,
            "disabled": self.disabled,
            "rotating_until": self.previous.as_ref().map(|p| p.until),
            "created_at": self.created_at,
        })
    }

    /// The `webhook-signature` value for `body`: the current secret's, and
    /// the previous one's while it is still valid.
    pub fn signature(&self, event_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut out = sign_standard_webhook(&self.secret, event_id, timestamp, body);
        if let Some(prev) = self.previous.as_ref().filter(|p| p.until > timestamp) {
            out.push(' ');
            out += &sign_standard_webhook(&prev.secret, event_id, timestamp, body);
        }
        out
    }
}

/// `*`, an exact type, or `prefix.*` (any type under the prefix).
pub fn type_matches(pattern: &str, kind: &str) -> bool {
    let pattern = pattern.trim();
    pattern == "*"
        || pattern == kind
        || pattern
            .strip_suffix(".*")
            .is_some_and(|prefix| kind.starts_with(prefix) && kind[prefix.len()..].starts_with('.'))
}

/// The types a subscription may name: the event types and their prefixes.
pub fn valid_type_pattern(pattern: &str) -> bool {
    let p = pattern.trim();
    p == "*"
        || EventType::ALL.iter().any(|t| {
            let t = t.as_str();
            t == p
                || p.strip_suffix(".*")
                    .is_some_and(|pre| t.starts_with(&format!("{pre}.")))
        })
}

/// A new endpoint secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

pub fn new_endpoint_id() -> String {
    format!("ep_{}", uuid::Uuid::new_v4().simple())
}

/// The wait before attempt `done + 1`, after `done` failed attempts (1 =
/// the first failed): the schedule's step with ±10% jitter (`jitter` in
/// [0, 1)), or a longer `Retry-After`; `None` when the schedule is spent.
pub fn next_delay(done: u32, jitter: f64, retry_after: Option<Duration>) -> Option<Duration> {
    let step = *RETRY_SCHEDULE_SECS.get(done.checked_sub(1)? as usize)?;
    let factor = 0.9 + 0.2 * jitter.clamp(0.0, 1.0);
    let scheduled = Duration::from_secs_f64(step as f64 * factor);
    Some(match retry_after {
        Some(asked) => scheduled.max(asked.min(Duration::from_secs(MAX_RETRY_AFTER_SECS))),
        None => scheduled,
    })
}

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("not a valid absolute URL")]
    Invalid,
    #[error("the URL must use https (or the endpoint be added with --allow-private)")]
    NotHttps,
    #[error("the URL must not carry credentials")]
    Credentials,
    #[error("the host does not resolve")]
    Unresolved,
    #[error(
        "the host resolves to {0}, a private, loopback or link-local address (allowed only with --allow-private)"
    )]
    Private(IpAddr),
}

/// Whether `ip` is an address an endpoint must not reach without
/// `allow_private`: private, loopback, link-local, CGNAT, unique-local,
/// unspecified, multicast, documentation and benchmarking ranges, and the
/// IPv4 forms inside IPv6.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return private_v4(v4);
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 (embeds IPv4)
                || (s[0] == 0x2002) // 6to4 (embeds IPv4)
                || v6 == Ipv6Addr::from([0, 0, 0, 0, 0, 0, 0, 1])
        }
    }
}

fn private_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64.0.0/10
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || o[0] >= 240 // reserved
}

/// The URL, checked for its scheme and credentials (no DNS yet).
pub fn check_url_form(url: &str, allow_private: bool) -> Result<url::Url, UrlRefusal> {
    let parsed = url::Url::parse(url).map_err(|_| UrlRefusal::Invalid)?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UrlRefusal::Invalid);
    }
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(UrlRefusal::NotHttps),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefusal::Credentials);
    }
    Ok(parsed)
}

/// The addresses a delivery to `url` may connect to: every address its host
/// resolves to must be public (unless `allow_private`). The request is then
/// pinned to these addresses, so a second lookup cannot swap them.
pub async fn resolve_endpoint(
    url: &str,
    allow_private: bool,
) -> Result<(url::Url, Vec<SocketAddr>), UrlRefusal> {
    let parsed = check_url_form(url, allow_private)?;
    let port = parsed.port_or_known_default().ok_or(UrlRefusal::Invalid)?;
    let addrs: Vec<SocketAddr> = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(host)) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| UrlRefusal::Unresolved)?
            .collect(),
        None => return Err(UrlRefusal::Invalid),
    };
    if addrs.is_empty() {
        return Err(UrlRefusal::Unresolved);
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
        return Err(UrlRefusal::Private(bad.ip()));
    }
    Ok((parsed, addrs))
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx.
    Delivered { status: u16 },
    /// `410 Gone`: the endpoint is disabled, nothing is retried.
    Gone,
    /// Anything else: retried on the schedule (`Retry-After` honoured on
    /// 429 and 503).
    Failed {
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// The body every endpoint gets for `event`: its JSON.
pub fn body_of(event: &Event) -> Vec<u8> {
    serde_json::to_vec(event).expect("an event serialises")
}

/// The three Standard Webhooks headers of a delivery at `timestamp`.
pub fn headers_for(
    endpoint: &Endpoint,
    event: &Event,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", event.id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            endpoint.signature(&event.id, timestamp, body),
        ),
    ]
}

/// A `Retry-After` (seconds, or an HTTP date) as a wait from `now`.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// One delivery attempt of `event` to `endpoint`: the URL checked again
/// and the connection pinned to the checked addresses, the Standard
/// Webhooks headers, no redirects, [`DELIVERY_TIMEOUT`].
#[cfg(feature = "adapters")]
pub async fn deliver(endpoint: &Endpoint, event: &Event, now_secs: i64) -> Attempt {
    let (url, addrs) = match resolve_endpoint(&endpoint.url, endpoint.allow_private).await {
        Ok(ok) => ok,
        Err(refusal) => {
            return Attempt::Failed {
                status: None,
                reason: refusal.to_string(),
                retry_after: None,
            };
        }
    };
    let host = url.host_str().unwrap_or_default().to_string();
    // The TLS settings (root store, provider) are built once per process;
    // the client is per delivery, pinned to the addresses just checked.
    static TLS: std::sync::OnceLock<rustls::ClientConfig> = std::sync::OnceLock::new();
    let tls = TLS.get_or_init(crate::net::tls_config).clone();
    let client = match crate::net::client_builder_with(tls)
        .resolve_to_addrs(&host, &addrs)
        .timeout(DELIVERY_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return Attempt::Failed {
                status: None,
                reason: format!("building the client: {e}"),
                retry_after: None,
            };
        }
    };
    let body = body_of(event);
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.clone());
    for (name, value) in headers_for(endpoint, event, now_secs, &body) {
        req = req.header(name, value);
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                Attempt::Delivered { status }
            } else if status == 410 {
                Attempt::Gone
            } else {
                let retry_after = if status == 429 || status == 503 {
                    resp.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
                } else {
                    None
                };
                Attempt::Failed {
                    status: Some(status),
                    reason: format!("the endpoint answered {status}"),
                    retry_after,
                }
            }
        }
        Err(e) => Attempt::Failed {
            status: None,
            reason: if e.is_timeout() {
                "no answer within 15 s".into()
            } else {
                "the endpoint could not be reached".into()
            },
            retry_after: None,
        },
    }
}

/// Why an endpoint operation was refused (one line for `admin`).
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Subscribes an endpoint of `tenant_id` (which must exist): the URL is
/// checked now (and again at each delivery), the types must name event
/// types or their prefixes. Returns the endpoint, its secret included (shown
/// once by `admin`).
pub async fn add_endpoint(
    store: &dyn crate::store::Store,
    tenant_id: &str,
    url: &str,
    types: Vec<String>,
    allow_private: bool,
    now_secs: i64,
) -> Result<Endpoint, EndpointError> {
    if store.get_tenant(tenant_id).await?.is_none() {
        return Err(EndpointError::NotFound(format!("no tenant {tenant_id:?}")));
    }
    if let Some(bad) = types.iter().find(|t| !valid_type_pattern(t)) {
        return Err(EndpointError::Invalid(format!(
            "--types: {bad:?} is not an event type or a prefix of one (group.*, job.completed, ...)"
        )));
    }
    resolve_endpoint(url, allow_private)
        .await
        .map_err(|e| EndpointError::Invalid(format!("--url: {e}")))?;
    let endpoint = Endpoint {
        id: new_endpoint_id(),
        tenant_id: tenant_id.to_string(),
        url: url.to_string(),
        types: types.into_iter().map(|t| t.trim().to_string()).collect(),
        secret: new_secret(),
        previous: None,
        allow_private,
        disabled: None,
        created_at: now_secs,
    };
    store.events().put_endpoint(&endpoint).await?;
    Ok(endpoint)
}

/// The tenant's endpoint `id`, if there is one.
pub async fn find_endpoint(
    store: &dyn crate::store::Store,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Endpoint>, crate::store::StoreError> {
    Ok(store
        .events()
        .list_endpoints(tenant_id)
        .await?
        .into_iter()
        .find(|e| e.id == id))
}

/// The tenant's endpoint `id`.
pub async fn endpoint(
    store: &dyn crate::store::Store,
    tenant_id: &str,
    id: &str,
) -> Result<Endpoint, EndpointError> {
    find_endpoint(store, tenant_id, id)
        .await?
        .ok_or_else(|| EndpointError::NotFound(format!("no endpoint {id:?} for {tenant_id:?}")))
}

/// A new secret for the endpoint; the old one keeps signing (a second
/// signature) for [`ROTATION_OVERLAP_SECS`]. A disabled endpoint is
/// enabled again (rotation is how a receiver that answered 410 comes back).
pub async fn rotate_endpoint(
    store: &dyn crate::store::Store,
    tenant_id: &str,
    id: &str,
    now_secs: i64,
) -> Result<Endpoint, EndpointError> {
    let mut e = endpoint(store, tenant_id, id).await?;
    e.previous = Some(PreviousSecret {
        secret: std::mem::replace(&mut e.secret, new_secret()),
        until: now_secs + ROTATION_OVERLAP_SECS,
    });
    e.disabled = None;
    store.events().put_endpoint(&e).await?;
    Ok(e)
}

/// One attempt of `event` to `endpoint`, with what it means for the
/// endpoint: `410 Gone` disables it.
#[cfg(feature = "adapters")]
pub async fn attempt(
    store: &dyn crate::store::Store,
    endpoint: &Endpoint,
    event: &Event,
    now_secs: i64,
) -> Result<Attempt, crate::store::StoreError> {
    let outcome = deliver(endpoint, event, now_secs).await;
    if outcome == Attempt::Gone {
        let mut gone = endpoint.clone();
        gone.disabled = Some(format!("the endpoint answered 410 Gone at {now_secs}"));
        store.events().put_endpoint(&gone).await?;
    }
    Ok(outcome)
}

/// Sends the tenant's dead letters again (those of `endpoint_id` only, when
/// given), one attempt each: a delivered one leaves the list, a failed one
/// stays with its count and reason. What happened to each, as JSON.
#[cfg(feature = "adapters")]
pub async fn replay(
    store: &dyn crate::store::Store,
    tenant_id: &str,
    endpoint_id: Option<&str>,
    now_secs: i64,
) -> Result<Vec<serde_json::Value>, EndpointError> {
    let events = store.events();
    let endpoints = events.list_endpoints(tenant_id).await?;
    let mut out = Vec::new();
    for mut failure in events.list_failures(tenant_id).await? {
        if endpoint_id.is_some_and(|id| id != failure.endpoint_id) {
            continue;
        }
        let endpoint = endpoints.iter().find(|e| e.id == failure.endpoint_id);
        let event = events.get_event(tenant_id, &failure.event_id).await?;
        let (Some(endpoint), Some(event)) = (endpoint, event) else {
            out.push(
                serde_json::json!({"event_id": failure.event_id, "endpoint_id": failure.endpoint_id,
                "result": "dropped: the endpoint or the event is gone"}),
            );
            events
                .delete_failure(tenant_id, &failure.endpoint_id, &failure.event_id)
                .await?;
            continue;
        };
        let mut live = endpoint.clone();
        live.disabled = None;
        let result = match attempt(store, &live, &event, now_secs).await? {
            Attempt::Delivered { status } => {
                events
                    .delete_failure(tenant_id, &failure.endpoint_id, &failure.event_id)
                    .await?;
                format!("delivered ({status})")
            }
            Attempt::Gone => "the endpoint answered 410 Gone: disabled".to_string(),
            Attempt::Failed { status, reason, .. } => {
                failure.attempts += 1;
                failure.last_status = status;
                failure.reason = reason.clone();
                failure.failed_at = now_secs;
                events.put_failure(&failure).await?;
                format!("failed again: {reason}")
            }
        };
        out.push(serde_json::json!({"event_id": failure.event_id, "endpoint_id": failure.endpoint_id, "result": result}));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_by_type_and_prefix() {
        assert!(type_matches("group.*", "group.participants.added"));
        assert!(type_matches(
            "group.participants.*",
            "group.participants.added"
        ));
        assert!(!type_matches("group.participants.*", "group.updated"));
        assert!(!type_matches("group*", "group.updated"));
        assert!(!type_matches("gro.*", "group.updated"));
        assert!(type_matches("*", "job.completed"));
        assert!(valid_type_pattern("group.*") && valid_type_pattern("job.completed"));
        assert!(!valid_type_pattern("groups.*") && !valid_type_pattern("job.done"));
    }

    #[test]
    fn the_retry_schedule_with_jitter_and_retry_after() {
        let at = |done, jitter| next_delay(done, jitter, None).map(|d| d.as_secs_f64());
        assert_eq!(at(0, 0.5), None);
        assert_eq!(at(1, 0.5), Some(5.0));
        assert!((4.5..=5.5).contains(&at(1, 0.0).unwrap()));
        assert!((4.5..=5.5).contains(&at(1, 0.999).unwrap()));
        assert_eq!(at(7, 0.5), Some(86_400.0));
        assert_eq!(at(8, 0.5), None, "seven retries, then the dead letter");
        let asked = next_delay(1, 0.5, Some(Duration::from_secs(120))).unwrap();
        assert_eq!(asked, Duration::from_secs(120));
        let huge = next_delay(1, 0.5, Some(Duration::from_secs(10 * 86_400))).unwrap();
        assert_eq!(huge, Duration::from_secs(86_400));
    }

    #[test]
    fn private_addresses() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn urls_are_https_and_public_unless_allowed() {
        let r = |url: &'static str, allow| async move { resolve_endpoint(url, allow).await.map(|_| ()) };
        assert_eq!(
            r("http://93.184.216.34/hook", false).await,
            Err(UrlRefusal::NotHttps)
        );
        assert_eq!(
            r("ftp://93.184.216.34/hook", true).await,
            Err(UrlRefusal::NotHttps)
        );
        assert_eq!(
            r("https://u:p@93.184.216.34/", false).await,
            Err(UrlRefusal::Credentials)
        );
        assert_eq!(r("not a url", false).await, Err(UrlRefusal::Invalid));
        assert!(matches!(
            r("https://127.0.0.1:8443/", false).await,
            Err(UrlRefusal::Private(_))
        ));
        assert!(matches!(
            r("https://[::1]/", false).await,
            Err(UrlRefusal::Private(_))
        ));
        assert!(matches!(
            r("https://169.254.169.254/latest", false).await,
            Err(UrlRefusal::Private(_))
        ));
        assert!(matches!(
            r("https://localhost/", false).await,
            Err(UrlRefusal::Private(_))
        ));
        assert_eq!(r("https://93.184.216.34/hook", false).await, Ok(()));
        assert_eq!(r("http://127.0.0.1:9/hook", true).await, Ok(()));
    }

    #[test]
    fn rotation_signs_twice_until_the_overlap_ends() {
        let mut e = Endpoint {
            id: "ep_1".into(),
            tenant_id: "t".into(),
            url: "https://x.example/".into(),
            types: Vec::new(),
            secret: new_secret(),
            previous: None,
            allow_private: false,
            disabled: None,
            created_at: 0,
        };
        assert_eq!(e.signature("evt_1", 100, b"{}").split(' ').count(), 1);
        e.previous = Some(PreviousSecret {
            secret: new_secret(),
            until: 200,
        });
        assert_eq!(e.signature("evt_1", 100, b"{}").split(' ').count(), 2);
        assert_eq!(e.signature("evt_1", 300, b"{}").split(' ').count(), 1);
        assert!(e.secret.starts_with("whsec_"));
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&e.secret["whsec_".len()..])
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert!(
            !format!("{e:?}").contains(&e.secret),
            "Debug never shows a secret"
        );
    }
}
