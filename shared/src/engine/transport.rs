//! The reqwest (rustls) adapter for every engine: it carries the requests
//! the engine modules build (`dialect`) and brings back their replies,
//! under one deadline, classifying every failure (`EngineError::reach`). It
//! follows no redirect and never sends a call twice once it may have
//! reached the engine.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use tokio::time::Instant;

use super::dialect::{self, Auth, Done, InviteCall, Outgoing, Reply};
use super::groups::{Group, GroupChange, Join, Joined, NewCommunity, NewGroup};
use super::{
    CallMeta, Engine, EngineError, EngineKind, EngineParticipant, EngineTarget, GroupPage,
    ListPage, ParticipantsCall, check_base_url,
};
use crate::config::EngineConfig;
use crate::jid::GroupJid;

/// Largest engine reply we read; anything bigger is not a documented reply.
const MAX_REPLY_BYTES: usize = 1 << 20;

/// Largest group list we read: 5,000 groups are ~1.5 MB in the bulkiest
/// engine shape (Evolution's, with picture URLs); 16 MiB leaves room for
/// ten times that. `GET /groups` bounds what it answers itself.
pub const MAX_LIST_REPLY_BYTES: usize = 16 << 20;

/// Built once per cold start; holds the connection pool.
pub struct HttpEngine {
    client: reqwest::Client,
    config: EngineConfig,
    connect_timeout: Duration,
}

/// What a try needs beyond its connect timeout to start (see `call`).
const CONNECT_MARGIN: Duration = Duration::from_millis(250);

impl HttpEngine {
    /// The client, once per cold start. With `ENGINE_CA_BUNDLE` set, its
    /// PEM file is read here, and its CAs are trusted besides the
    /// compiled-in roots; unset, nothing is read.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        let builder = match &config.ca_bundle {
            None => crate::net::client_builder(),
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    EngineError::Config(format!("ENGINE_CA_BUNDLE {}: {e}", path.display()))
                })?;
                let tls = crate::net::tls_config_with_bundle(&pem).map_err(|e| {
                    EngineError::Config(format!("ENGINE_CA_BUNDLE {}: {e}", path.display()))
                })?;
                crate::net::client_builder_with(tls)
            }
        };
        // DNS, TCP and TLS of one try: at most 2 s, and at most a quarter of
        // the upstream deadline, so both tries fit with time to answer.
        let connect_timeout = (config.timeout / 4).min(Duration::from_secs(2));
        let client = builder
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| EngineError::Config(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            client,
            config,
            connect_timeout,
        })
    }

    fn base_url<'a>(&'a self, target: &'a EngineTarget) -> Result<&'a str, EngineError> {
        let base = if target.base_url.is_empty() {
            self.config.default_base_url.as_deref().ok_or_else(|| {
                EngineError::Config("tenant has no engine URL and ENGINE_BASE_URL is unset".into())
            })?
        } else {
            target.base_url.as_str()
        };
        // Records written before URLs were stored normalised may carry
        // surrounding space or a trailing `/`.
        let base = base.trim();
        check_base_url(base, self.config.allow_http).map_err(EngineError::Config)?;
        Ok(base.trim_end_matches('/'))
    }

    /// The request `build` makes, on the tenant's base URL. The engine's
    /// own refusals (an operation it cannot do: 501; a value it would
    /// refuse: 400) come first, before the configuration is looked at: an
    /// engine that cannot do something never answers a configuration fault.
    fn outgoing(
        &self,
        target: &EngineTarget,
        build: impl FnOnce(&str) -> Result<Outgoing, EngineError>,
    ) -> Result<Outgoing, EngineError> {
        let mut out = build("")?;
        out.url.insert_str(0, self.base_url(target)?);
        Ok(out)
    }

    async fn invite(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        which: InviteCall,
        meta: CallMeta,
    ) -> Result<String, EngineError> {
        let out = self.outgoing(target, |b| dialect::invite_request(b, target, group, which))?;
        let reply = self.call(out, target, meta).await?;
        dialect::invite_reply(target.engine, &reply)
    }

    /// One call, over by the earlier of `meta.deadline` and `now + timeout`
    /// (connect, the one retry, headers and body), bringing back the whole
    /// reply whatever its status. Every failure lands on one side of
    /// [`EngineError::reach`]:
    /// - not sent: an invalid request (`Config`), no connection after the
    ///   one retry (`Connect`), or too little time left to try (`OutOfTime`);
    /// - may have acted: anything once a connection is up (`Timeout`,
    ///   `Dropped`), never sent again.
    ///
    /// A try starts only with a whole connect timeout (plus a margin) left,
    /// so a connect that never finishes fails on its own, as `Connect`,
    /// before the deadline: when the deadline passes, the connection was up
    /// and the request may have been written.
    async fn call(
        &self,
        out: Outgoing,
        target: &EngineTarget,
        meta: CallMeta,
    ) -> Result<Reply, EngineError> {
        self.call_limited(out, target, meta, MAX_REPLY_BYTES).await
    }

    /// [`Self::call`], reading a reply of up to `max_reply` bytes.
    async fn call_limited(
        &self,
        out: Outgoing,
        target: &EngineTarget,
        meta: CallMeta,
        max_reply: usize,
    ) -> Result<Reply, EngineError> {
        let deadline = meta.deadline.min(Instant::now() + self.config.timeout);
        let body = out.body.map(|b| b.to_string().into_bytes());
        let method = Method::from_bytes(out.method.as_str().as_bytes())
            .map_err(|_| EngineError::Config("an unknown method".into()))?;
        let mut last_connect_error = None;
        let response = loop {
            if deadline.saturating_duration_since(Instant::now())
                < self.connect_timeout + CONNECT_MARGIN
            {
                return Err(match last_connect_error {
                    None => EngineError::OutOfTime,
                    Some(e) => EngineError::Connect(e),
                });
            }
            let mut request = self.client.request(method.clone(), &out.url);
            request = match out.auth {
                Auth::Bearer => request.bearer_auth(&target.api_key),
                Auth::Header(name) => request.header(name, &target.api_key),
            };
            request = request
                .header(ACCEPT, "application/json")
                .header("x-request-id", meta.request_id.as_str());
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            // From here on, whatever happens may have reached the engine.
            meta.handed_over.mark();
            match tokio::time::timeout_at(deadline, request.send()).await {
                Err(_) => return Err(EngineError::Timeout),
                Ok(Ok(response)) => break response,
                // Refused by reqwest before anything was sent (say, a key
                // that is not a valid header value). The message names no
                // header value.
                Ok(Err(e)) if e.is_builder() => {
                    return Err(EngineError::Config("the request could not be built".into()));
                }
                Ok(Err(e)) if e.is_connect() => {
                    let e = e.without_url().to_string();
                    if last_connect_error.is_some() {
                        return Err(EngineError::Connect(e));
                    }
                    tracing::warn!(request_id = %meta.request_id, error = %e, "engine connection failed; retrying once");
                    last_connect_error = Some(e);
                }
                Ok(Err(e)) if e.is_timeout() => return Err(EngineError::Timeout),
                Ok(Err(e)) => return Err(EngineError::Dropped(e.without_url().to_string())),
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| super::retry_after_secs(v, std::time::SystemTime::now()));
        let body = tokio::time::timeout_at(deadline, read_limited(response, max_reply))
            .await
            .map_err(|_| EngineError::Timeout)??;
        let reply = Reply {
            status,
            retry_after,
            content_type,
            body,
        };
        // A 2xx is a success only in the engine's documented form: the
        // engines that always answer JSON must declare it (a proxy's HTML
        // login page is not a success). WAHA answers text for strings and
        // booleans (NestJS), so its adapter reads the body itself.
        if reply.is_success()
            && target.engine != EngineKind::Waha
            && !reply.body.iter().all(u8::is_ascii_whitespace)
            && !reply.is_json()
        {
            return Err(EngineError::InvalidResponse(format!(
                "status {status}: a {} reply where the engine answers JSON",
                reply.content_type.as_deref().unwrap_or("typeless")
            )));
        }
        Ok(reply)
    }
}

async fn read_limited(
    mut response: reqwest::Response,
    max_reply: usize,
) -> Result<Vec<u8>, EngineError> {
    if response
        .content_length()
        .is_some_and(|len| len > max_reply as u64)
    {
        return Err(EngineError::InvalidResponse("reply too large".into()));
    }
    // One allocation of the declared size (checked above), not a doubling
    // Vec whose growth briefly holds one and a half copies of a large reply.
    let declared = response.content_length().unwrap_or(0) as usize;
    let mut bytes = Vec::with_capacity(declared.min(max_reply));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > max_reply {
                    return Err(EngineError::InvalidResponse("reply too large".into()));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) if e.is_timeout() => return Err(EngineError::Timeout),
            Err(e) => {
                return Err(EngineError::Dropped(format!(
                    "reading the reply: {}",
                    e.without_url()
                )));
            }
        }
    }
}

#[async_trait]
impl Engine for HttpEngine {
    async fn update_participants(
        &self,
        target: &EngineTarget,
        call: &ParticipantsCall,
        meta: CallMeta,
    ) -> Result<Vec<EngineParticipant>, EngineError> {
        let out = self.outgoing(target, |b| dialect::participants_request(b, target, call))?;
        let reply = self.call(out, target, meta).await?;
        dialect::participants_reply(target.engine, call, &reply)
    }

    async fn reset_invite(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        meta: CallMeta,
    ) -> Result<String, EngineError> {
        self.invite(target, group, InviteCall::Reset, meta).await
    }

    async fn get_invite(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        meta: CallMeta,
    ) -> Result<String, EngineError> {
        self.invite(target, group, InviteCall::Get, meta).await
    }

    async fn leave_group(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        meta: CallMeta,
    ) -> Result<(), EngineError> {
        let out = self.outgoing(target, |b| dialect::leave_request(b, target, group))?;
        let reply = self.call(out, target, meta).await?;
        dialect::done_reply(target.engine, Done::Leave, &reply)
    }

    async fn set_ephemeral(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        seconds: u32,
        meta: CallMeta,
    ) -> Result<(), EngineError> {
        let out = self.outgoing(target, |b| {
            dialect::ephemeral_request(b, target, group, seconds)
        })?;
        let reply = self.call(out, target, meta).await?;
        dialect::done_reply(target.engine, Done::Ephemeral, &reply)
    }

    async fn create_group(
        &self,
        target: &EngineTarget,
        new: &NewGroup,
        meta: CallMeta,
    ) -> Result<Group, EngineError> {
        let out = self.outgoing(target, |b| dialect::create_group_request(b, target, new))?;
        let reply = self.call(out, target, meta).await?;
        dialect::created_reply(target.engine, &reply)
    }

    async fn create_community(
        &self,
        target: &EngineTarget,
        new: &NewCommunity,
        meta: CallMeta,
    ) -> Result<Group, EngineError> {
        let out = self.outgoing(target, |b| {
            dialect::create_community_request(b, target, new)
        })?;
        let reply = self.call(out, target, meta).await?;
        dialect::community_reply(target.engine, &reply)
    }

    async fn list_groups(
        &self,
        target: &EngineTarget,
        page: &ListPage,
        meta: CallMeta,
    ) -> Result<GroupPage, EngineError> {
        let out = self.outgoing(target, |b| dialect::list_request(b, target))?;
        let reply = self
            .call_limited(out, target, meta, MAX_LIST_REPLY_BYTES)
            .await?;
        dialect::list_reply(target.engine, &reply, page)
    }

    async fn group_info(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        meta: CallMeta,
    ) -> Result<Group, EngineError> {
        let out = self.outgoing(target, |b| dialect::info_request(b, target, group))?;
        let reply = self.call(out, target, meta).await?;
        dialect::group_reply(target.engine, &reply)
    }

    fn update_steps(
        &self,
        target: &EngineTarget,
        change: &GroupChange,
    ) -> Result<Vec<GroupChange>, EngineError> {
        dialect::update_steps(target.engine, change)
    }

    async fn update_group(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        step: &GroupChange,
        meta: CallMeta,
    ) -> Result<Option<Group>, EngineError> {
        let out = self.outgoing(target, |b| dialect::update_request(b, target, group, step))?;
        let reply = self.call(out, target, meta).await?;
        dialect::update_reply(target.engine, step, &reply)
    }

    async fn join_group(
        &self,
        target: &EngineTarget,
        join: &Join,
        meta: CallMeta,
    ) -> Result<Joined, EngineError> {
        let out = self.outgoing(target, |b| dialect::join_request(b, target, join))?;
        let reply = self.call(out, target, meta).await?;
        dialect::join_reply(target.engine, &reply)
    }

    async fn set_picture(
        &self,
        target: &EngineTarget,
        group: &GroupJid,
        jpeg: &[u8],
        meta: CallMeta,
    ) -> Result<Option<String>, EngineError> {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(jpeg);
        let out = self.outgoing(target, |b| {
            dialect::picture_request(b, target, group, &encoded)
        })?;
        let reply = self.call(out, target, meta).await?;
        dialect::picture_reply(target.engine, &reply)
    }

    async fn link_group(
        &self,
        target: &EngineTarget,
        community: &GroupJid,
        group: &GroupJid,
        link: bool,
        meta: CallMeta,
    ) -> Result<(), EngineError> {
        let out = self.outgoing(target, |b| {
            dialect::link_request(b, target, community, group, link)
        })?;
        let reply = self.call(out, target, meta).await?;
        dialect::done_reply(target.engine, Done::Link, &reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;

    fn target(engine: EngineKind, base_url: &str, session_id: &str) -> EngineTarget {
        EngineTarget {
            engine,
            base_url: base_url.into(),
            session_id: session_id.into(),
            api_key: "k".into(),
        }
    }

    #[test]
    fn urls_are_encoded_and_use_the_default_base() {
        let wuts = HttpEngine::new(EngineConfig {
            default_base_url: Some("https://wuts.example/api/".into()),
            ..EngineConfig::default()
        })
        .unwrap();
        let target = target(EngineKind::SessionService, "", "sess/../x?y");
        let group = GroupJid::parse("123-456@g.us").unwrap();
        let out = dialect::invite_request(
            wuts.base_url(&target).unwrap(),
            &target,
            &group,
            InviteCall::Get,
        )
        .unwrap();
        assert_eq!(
            out.url,
            "https://wuts.example/api/v1/sessions/sess%2F..%2Fx%3Fy/groups/123-456%40g.us/invite"
        );
    }

    #[test]
    fn http_tenant_urls_need_allow_http() {
        let wuts = HttpEngine::new(EngineConfig::default()).unwrap();
        let http = target(EngineKind::Waha, "http://127.0.0.1:1", "s");
        assert!(matches!(wuts.base_url(&http), Err(EngineError::Config(_))));
        let no_default = target(EngineKind::Waha, "", "s");
        assert!(matches!(
            wuts.base_url(&no_default),
            Err(EngineError::Config(_))
        ));
    }
}
