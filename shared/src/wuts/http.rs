//! The reqwest (rustls) adapter: the only code that builds WUTS URLs.

use std::time::Duration;

use async_trait::async_trait;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::{
    InviteReply, ParticipantsCall, ParticipantsReply, WutsClient, WutsError, WutsErrorBody,
    WutsParticipant, WutsTarget, check_base_url,
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
}

impl HttpWuts {
    pub fn new(config: WutsConfig) -> Result<Self, WutsError> {
        let client = crate::net::client_builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| WutsError::Config(format!("building the HTTP client: {e}")))?;
        Ok(Self { client, config })
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
        request_id: &str,
    ) -> Result<String, WutsError> {
        let url = self.group_url(target, "groups", group, tail)?;
        let reply: InviteReply = self.call(method, url, None, target, request_id).await?;
        check_invite_link(&reply.invite_link)?;
        Ok(reply.invite_link)
    }

    /// One call under one overall deadline (connect, retry, headers and body).
    /// Only a connection that was never established is tried a second time:
    /// a request that may have reached WUTS is never sent again.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: String,
        body: Option<Vec<u8>>,
        target: &WutsTarget,
        request_id: &str,
    ) -> Result<T, WutsError> {
        let attempt = async {
            let mut tries = 0;
            let response = loop {
                tries += 1;
                let mut request = self
                    .client
                    .request(method.clone(), &url)
                    .bearer_auth(&target.api_key)
                    .header(ACCEPT, "application/json")
                    .header("x-request-id", request_id);
                if let Some(body) = &body {
                    request = request
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.clone());
                }
                match request.send().await {
                    Ok(response) => break response,
                    Err(e) if e.is_connect() && tries < 2 => {
                        tracing::warn!(error = %e.without_url(), "WUTS connection failed; retrying once");
                    }
                    Err(e) if e.is_timeout() => return Err(WutsError::Timeout),
                    Err(e) => return Err(WutsError::Connect(e.without_url().to_string())),
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = read_limited(response).await?;
            Ok::<_, WutsError>((status, headers, bytes))
        };
        let (status, headers, bytes) = tokio::time::timeout(self.config.timeout, attempt)
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
                return Err(WutsError::InvalidResponse(format!(
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
        request_id: &str,
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
                request_id,
            )
            .await?;
        Ok(reply.participants)
    }

    async fn reset_invite(
        &self,
        target: &WutsTarget,
        group: &GroupJid,
        request_id: &str,
    ) -> Result<String, WutsError> {
        self.invite(Method::POST, "invite/reset", target, group, request_id)
            .await
    }

    async fn get_invite(
        &self,
        target: &WutsTarget,
        group: &GroupJid,
        request_id: &str,
    ) -> Result<String, WutsError> {
        self.invite(Method::GET, "invite", target, group, request_id)
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
