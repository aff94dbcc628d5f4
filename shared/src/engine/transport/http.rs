//! The reqwest (rustls) carrier for every engine: it sends the requests the
//! adapters address (`transport::request`) and brings back their replies
//! for them to read (`transport::read`), under one deadline and a size
//! bound, classifying every failure (`EngineError::reach`). It follows no
//! redirect and never sends a call twice once it may have reached the
//! engine.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use tokio::time::Instant;

use super::EngineCall;
use crate::config::EngineConfig;
use crate::engine::groups::GroupChange;
use crate::engine::wire::{Auth, Outgoing, Reply};
use crate::engine::{
    AnyCall, AnyCallRef, AnyReply, CallMeta, Engine, EngineError, EngineTarget, check_base_url,
};

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

    /// The pooled client and `ENGINE_BASE_URL`, where one is set: the one
    /// engine a cold start can connect to before it knows its tenant.
    pub fn default_engine(&self) -> Option<(&reqwest::Client, &str)> {
        self.config
            .default_base_url
            .as_deref()
            .map(|base| (&self.client, base))
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

    /// One engine call: addressed by the tenant's adapter, sent, and read
    /// by it. The engine's own refusals (a call it cannot make: 501; a value
    /// it would refuse: 400) come first, before the configuration is looked
    /// at: an engine that cannot do something never answers a
    /// configuration fault.
    async fn send<C: EngineCall>(
        &self,
        target: &EngineTarget,
        call: &C,
        meta: CallMeta,
    ) -> Result<C::Reply, EngineError> {
        let mut out = super::request("", target, call)?;
        out.url.insert_str(0, self.base_url(target)?);
        let reply = self.exchange(out, target, meta, C::MAX_REPLY).await?;
        super::read(target.engine, call, &reply)
    }

    /// One request, over by the earlier of `meta.deadline` and `now +
    /// timeout` (connect, the one retry, headers and body), bringing back
    /// the whole reply (at most `max_reply` bytes) whatever its status.
    /// Every failure lands on one side of [`EngineError::reach`]:
    /// - not sent: an invalid request (`Config`), no connection after the
    ///   one retry (`Connect`), or too little time left to try (`OutOfTime`);
    /// - may have acted: anything once a connection is up (`Timeout`,
    ///   `Dropped`), never sent again.
    ///
    /// A try starts only with a whole connect timeout (plus a margin) left,
    /// so a connect that never finishes fails on its own, as `Connect`,
    /// before the deadline: when the deadline passes, the connection was up
    /// and the request may have been written.
    async fn exchange(
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
                    // With its causes: a refused certificate says why.
                    let e = crate::net::error_chain(&e.without_url());
                    if last_connect_error.is_some() {
                        return Err(EngineError::Connect(e));
                    }
                    tracing::warn!(request_id = %meta.request_id, error = %e, "engine connection failed; retrying once");
                    last_connect_error = Some(e);
                }
                Ok(Err(e)) if e.is_timeout() => return Err(EngineError::Timeout),
                Ok(Err(e)) => {
                    return Err(EngineError::Dropped(crate::net::error_chain(
                        &e.without_url(),
                    )));
                }
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
            .and_then(|v| crate::engine::retry_after_secs(v, std::time::SystemTime::now()));
        let body = tokio::time::timeout_at(deadline, read_limited(response, max_reply))
            .await
            .map_err(|_| EngineError::Timeout)??;
        Ok(Reply {
            status,
            retry_after,
            content_type,
            body,
        })
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

macro_rules! dispatch {
    ($($call:ident),+ $(,)?) => {
        /// Every call addressed as it would be sent, nothing sent.
        fn check(
            engine: &HttpEngine,
            target: &EngineTarget,
            call: AnyCallRef<'_>,
        ) -> Result<(), EngineError> {
            let base = engine.base_url(target)?;
            match call {
                $(AnyCallRef::$call(call) => super::request(base, target, call).map(|_| ()),)+
            }
        }

        /// Every call through [`HttpEngine::send`], its reply wrapped back.
        async fn dispatch(
            engine: &HttpEngine,
            target: &EngineTarget,
            call: AnyCall,
            meta: CallMeta,
        ) -> Result<AnyReply, EngineError> {
            match call {
                $(AnyCall::$call(call) => engine
                    .send(target, &call, meta)
                    .await
                    .map(AnyReply::$call),)+
            }
        }
    };
}
crate::engine::calls::every_call!(dispatch);

#[async_trait]
impl Engine for HttpEngine {
    async fn call(
        &self,
        target: &EngineTarget,
        call: AnyCall,
        meta: CallMeta,
    ) -> Result<AnyReply, EngineError> {
        dispatch(self, target, call, meta).await
    }

    fn update_steps(
        &self,
        target: &EngineTarget,
        change: &GroupChange,
    ) -> Result<Vec<GroupChange>, EngineError> {
        super::update_steps(target.engine, change)
    }

    fn check(&self, target: &EngineTarget, call: AnyCallRef<'_>) -> Result<(), EngineError> {
        check(self, target, call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineKind;
    use crate::engine::calls::Invite;
    use crate::jid::GroupJid;

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
        // The default engine (session-service) puts the session in the path.
        let target = target(EngineKind::default(), "", "sess/../x?y");
        let group = GroupJid::parse("123-456@g.us").unwrap();
        let call = Invite::get(&group);
        let out = super::super::request(wuts.base_url(&target).unwrap(), &target, &call).unwrap();
        assert_eq!(
            out.url,
            "https://wuts.example/api/v1/sessions/sess%2F..%2Fx%3Fy/groups/123-456%40g.us/invite"
        );
    }

    #[test]
    fn http_tenant_urls_need_allow_http() {
        let wuts = HttpEngine::new(EngineConfig::default()).unwrap();
        let http = target(EngineKind::default(), "http://127.0.0.1:1", "s");
        assert!(matches!(wuts.base_url(&http), Err(EngineError::Config(_))));
        let no_default = target(EngineKind::default(), "", "s");
        assert!(matches!(
            wuts.base_url(&no_default),
            Err(EngineError::Config(_))
        ));
    }
}
