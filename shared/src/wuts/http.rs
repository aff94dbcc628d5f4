//! The reqwest (rustls) adapter: the only code that builds WUTS URLs.

use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::{
    CallMeta, InviteReply, ParticipantsCall, ParticipantsReply, WutsClient, WutsError,
    WutsErrorBody, WutsParticipant, WutsTarget, check_base_url,
};
use crate::config::WutsConfig;
use crate::jid::GroupJid;

/// Largest WUTS reply we read; anything bigger is not the documented JSON.
const MAX_REPLY_BYTES: usize = 1 << 20;

/// RFC 3986 unreserved characters stay as they are; everything else is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn segment(s: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(s, SEGMENT)
}

/// Built once per cold start; holds the connection pool.
pub struct HttpWuts {
    client: reqwest::Client,
    config: WutsConfig,
    connect_timeout: Duration,
}

/// What a try needs beyond its connect timeout to start (see `call`).
const CONNECT_MARGIN: Duration = Duration::from_millis(250);

impl HttpWuts {
    pub fn new(config: WutsConfig) -> Result<Self, WutsError> {
        // DNS, TCP and TLS of one try: at most 2 s, and at most a quarter of
        // the upstream deadline, so both tries fit with time to answer.
        let connect_timeout = (config.timeout / 4).min(Duration::from_secs(2));
        let client = crate::net::client_builder()
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| WutsError::Config(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            client,
            config,
            connect_timeout,
        })
    }

    fn base_url<'a>(&'a self, target: &'a WutsTarget) -> Result<&'a str, WutsError> {
        let base = if target.base_url.is_empty() {
            self.config.default_base_url.as_deref().ok_or_else(|| {
                WutsError::Config("tenant has no WUTS URL and WUTS_BASE_URL is unset".into())
            })?
        } else {
            target.base_url.as_str()
        };
        // Records written before URLs were stored normalised may carry
        // surrounding space or a trailing `/`.
        let base = base.trim();
        check_base_url(base, self.config.allow_http).map_err(WutsError::Config)?;
        Ok(base.trim_end_matches('/'))
    }

    fn group_url(
        &self,
        target: &WutsTarget,
        kind_segment: &str,
        group: &GroupJid,
        tail: &str,
    ) -> Result<String, WutsError> {
        Ok(format!(
            "{}/v1/sessions/{}/{}/{}/{}",
            self.base_url(target)?,
            segment(&target.session_id),
            kind_segment,
            segment(group.as_str()),
            tail
        ))
    }

    /// The invite-link calls: no body, `{"invite_link": "https://..."}` back.
    async fn invite(
        &self,
        method: Method,
        tail: &str,
        target: &WutsTarget,
        group: &GroupJid,
        meta: CallMeta,
    ) -> Result<String, WutsError> {
        let url = self.group_url(target, "groups", group, tail)?;
        let reply: InviteReply = self.call(method, url, None, target, meta).await?;
        check_invite_link(&reply.invite_link)?;
        Ok(reply.invite_link)
    }

    /// One call, over by the earlier of `meta.deadline` and `now + timeout`
    /// (connect, the one retry, headers and body). Every failure lands on
    /// one side of [`WutsError::reach`]:
    /// - not sent: an invalid request (`Config`), no connection after the
    ///   one retry (`Connect`), or too little time left to try (`OutOfTime`);
    /// - may have acted: anything once a connection is up (`Timeout`,
    ///   `Dropped`, `InvalidResponse`, a 5xx), never sent again.
    ///
    /// A try starts only with a whole connect timeout (plus a margin) left,
    /// so a connect that never finishes fails on its own, as `Connect`,
    /// before the deadline: when the deadline passes, the connection was up
    /// and the request may have been written.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: String,
        body: Option<Vec<u8>>,
        target: &WutsTarget,
        meta: CallMeta,
    ) -> Result<T, WutsError> {
        let deadline = meta.deadline.min(Instant::now() + self.config.timeout);
        let mut last_connect_error = None;
        let response = loop {
            if deadline.saturating_duration_since(Instant::now())
                < self.connect_timeout + CONNECT_MARGIN
            {
                return Err(match last_connect_error {
                    None => WutsError::OutOfTime,
                    Some(e) => WutsError::Connect(e),
                });
            }
            let mut request = self
                .client
                .request(method.clone(), &url)
                .bearer_auth(&target.api_key)
                .header(ACCEPT, "application/json")
                .header("x-request-id", meta.request_id.as_str());
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            match tokio::time::timeout_at(deadline, request.send()).await {
                Err(_) => return Err(WutsError::Timeout),
                Ok(Ok(response)) => break response,
                // Refused by reqwest before anything was sent (say, a key
                // that is not a valid header value). The message names no
                // header value.
                Ok(Err(e)) if e.is_builder() => {
                    return Err(WutsError::Config("the request could not be built".into()));
                }
                Ok(Err(e)) if e.is_connect() => {
                    let e = e.without_url().to_string();
                    if last_connect_error.is_some() {
                        return Err(WutsError::Connect(e));
                    }
                    tracing::warn!(request_id = %meta.request_id, error = %e, "WUTS connection failed; retrying once");
                    last_connect_error = Some(e);
                }
                Ok(Err(e)) if e.is_timeout() => return Err(WutsError::Timeout),
                Ok(Err(e)) => return Err(WutsError::Dropped(e.without_url().to_string())),
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = tokio::time::timeout_at(deadline, read_limited(response))
            .await
            .map_err(|_| WutsError::Timeout)??;
        if status.is_success() {
            serde_json::from_slice(&bytes)
                .map_err(|e| WutsError::InvalidResponse(format!("status {status}: {e}")))
        } else {
            Err(status_error(status, &headers, &bytes))
        }
    }
}

/// Checks an invite link from WUTS before it is handed to a caller.
fn check_invite_link(link: &str) -> Result<(), WutsError> {
    if link.starts_with("https://") && link.len() > "https://".len() && link.len() <= 512 {
        Ok(())
    } else {
        Err(WutsError::InvalidResponse(
            "invite_link is not an https URL".into(),
        ))
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, WutsError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_REPLY_BYTES as u64)
    {
        return Err(WutsError::InvalidResponse("reply too large".into()));
    }
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_REPLY_BYTES {
                    return Err(WutsError::InvalidResponse("reply too large".into()));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) if e.is_timeout() => return Err(WutsError::Timeout),
            Err(e) => {
                return Err(WutsError::Dropped(format!(
                    "reading the reply: {}",
                    e.without_url()
                )));
            }
        }
    }
}

fn status_error(status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> WutsError {
    let code = serde_json::from_slice::<WutsErrorBody>(bytes)
        .ok()
        .and_then(|b| b.code);
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| super::retry_after_secs(v, std::time::SystemTime::now()));
    WutsError::Status {
        status: status.as_u16(),
        code,
        retry_after,
    }
}

#[async_trait]
impl WutsClient for HttpWuts {
    async fn update_participants(
        &self,
        target: &WutsTarget,
        call: &ParticipantsCall,
        meta: CallMeta,
    ) -> Result<Vec<WutsParticipant>, WutsError> {
        let url = self.group_url(
            target,
            call.kind.path_segment(),
            &call.group,
            "participants",
        )?;
        let body = serde_json::json!({
            "action": call.action.as_str(),
            "participants": call.participants.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        });
        let reply: ParticipantsReply = self
            .call(
                Method::POST,
                url,
                Some(body.to_string().into_bytes()),
                target,
                meta,
            )
            .await?;
        Ok(reply.participants)
    }

    async fn reset_invite(
        &self,
        target: &WutsTarget,
        group: &GroupJid,
        meta: CallMeta,
    ) -> Result<String, WutsError> {
        self.invite(Method::POST, "invite/reset", target, group, meta)
            .await
    }

    async fn get_invite(
        &self,
        target: &WutsTarget,
        group: &GroupJid,
        meta: CallMeta,
    ) -> Result<String, WutsError> {
        self.invite(Method::GET, "invite", target, group, meta)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_encoded_and_use_the_default_base() {
        let wuts = HttpWuts::new(WutsConfig {
            default_base_url: Some("https://wuts.example/api/".into()),
            ..WutsConfig::default()
        })
        .unwrap();
        let target = WutsTarget {
            base_url: String::new(),
            session_id: "sess/../x?y".into(),
            api_key: "k".into(),
        };
        let group = GroupJid::parse("123-456@g.us").unwrap();
        assert_eq!(
            wuts.group_url(&target, "groups", &group, "participants")
                .unwrap(),
            "https://wuts.example/api/v1/sessions/sess%2F..%2Fx%3Fy/groups/123-456%40g.us/participants"
        );
    }

    #[test]
    fn http_tenant_urls_need_allow_http() {
        let wuts = HttpWuts::new(WutsConfig::default()).unwrap();
        let target = WutsTarget {
            base_url: "http://127.0.0.1:1".into(),
            session_id: "s".into(),
            api_key: "k".into(),
        };
        let group = GroupJid::parse("1@g.us").unwrap();
        assert!(matches!(
            wuts.group_url(&target, "groups", &group, "participants"),
            Err(WutsError::Config(_))
        ));
        let no_default = WutsTarget {
            base_url: String::new(),
            ..target
        };
        assert!(matches!(
            wuts.group_url(&no_default, "groups", &group, "participants"),
            Err(WutsError::Config(_))
        ));
    }
}
