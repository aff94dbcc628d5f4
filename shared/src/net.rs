//! The process's one HTTPS stack: reqwest over rustls, trusting the Mozilla
//! root store compiled into the binary (`webpki-roots`). WUTS calls use it
//! directly; DynamoDB calls reach it through [`SdkHttpClient`], the AWS SDK's
//! HTTP port implemented over reqwest.
//!
//! Why not the platform store: reading and parsing `/etc/ssl/certs` costs a
//! cold start 10–15 ms of CPU (about 200 ms at 128 MB's share of a vCPU), and
//! the SDK and reqwest each did it once. The compiled-in anchors cost nothing
//! to load. See docs/PERFORMANCE.md.

use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// rustls settings shared by every client: the compiled-in roots, aws-lc-rs
/// (the provider reqwest itself defaults to), TLS 1.2 and 1.3, HTTP/1.1.
///
/// Built once per process (the first client's cold start) and cloned for
/// each client after: the clones share the root store, its verifier, the
/// crypto provider and the session cache (all behind `Arc`s), so the engine
/// client and the SDK's do not each copy the roots (issue 27).
pub fn tls_config() -> rustls::ClientConfig {
    static CONFIG: std::sync::OnceLock<rustls::ClientConfig> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            tls_config_with(rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
        })
        .clone()
}

pub(crate) fn tls_config_with(roots: rustls::RootCertStore) -> rustls::ClientConfig {
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// The compiled-in roots plus every certificate of a PEM bundle
/// (`ENGINE_CA_BUNDLE`: the private CAs of engines inside a tenant's
/// network). Refuses a bundle with no certificate, or one that is not a
/// certificate.
pub fn tls_config_with_bundle(pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut added = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("not a PEM certificate bundle ({e})"))?;
        roots
            .add(cert)
            .map_err(|e| format!("a certificate that cannot be a trust anchor ({e})"))?;
        added += 1;
    }
    if added == 0 {
        return Err("no certificate in the bundle".into());
    }
    Ok(tls_config_with(roots))
}

/// A reqwest builder with [`tls_config`] and no redirects: the starting point
/// of every client in the process.
pub fn client_builder() -> reqwest::ClientBuilder {
    client_builder_with(tls_config())
}

/// The same, over the given rustls settings.
pub fn client_builder_with(tls: rustls::ClientConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("wa-groups-api/", env!("CARGO_PKG_VERSION")))
}

/// The AWS SDK's HTTP client, sending through one pooled reqwest client.
///
/// Timeouts: the connect timeout is the reqwest client's (set once, here);
/// the SDK's own attempt and operation timeouts bound everything else.
#[derive(Debug, Clone)]
pub struct SdkHttpClient {
    client: reqwest::Client,
}

impl SdkHttpClient {
    /// Builds the pooled client. Nothing here touches the network; the disk
    /// only for `AWS_CA_BUNDLE` (a PEM file of CAs to trust besides the
    /// compiled-in roots, as the other AWS SDKs read it: a TLS-terminating
    /// proxy, a local emulator over HTTPS).
    pub fn new(connect_timeout: Duration) -> Result<Self, String> {
        let bundle = std::env::var_os("AWS_CA_BUNDLE").filter(|v| !v.is_empty());
        Self::with_ca_bundle(connect_timeout, bundle.as_deref().map(std::path::Path::new))
    }

    /// [`SdkHttpClient::new`] with the bundle named here, not by the
    /// environment.
    pub fn with_ca_bundle(
        connect_timeout: Duration,
        bundle: Option<&std::path::Path>,
    ) -> Result<Self, String> {
        let builder = match bundle {
            None => client_builder(),
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("AWS_CA_BUNDLE {}: {e}", path.display()))?;
                let tls = tls_config_with_bundle(&pem)
                    .map_err(|e| format!("AWS_CA_BUNDLE {}: {e}", path.display()))?;
                client_builder_with(tls)
            }
        };
        let client = builder
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client })
    }

    pub fn shared(self) -> SharedHttpClient {
        SharedHttpClient::new(self)
    }

    /// The pooled client itself (Init opens its DynamoDB connection:
    /// [`crate::warm::connect`]).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }
}

static SDK_CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();

/// Remembers the process's SDK client (the first one built): Init opens
/// its DynamoDB connection ([`crate::warm`]).
pub fn keep_sdk_client(client: &SdkHttpClient) {
    let _ = SDK_CLIENT.set(client.client.clone());
}

/// The process's SDK client, once one is built.
pub fn sdk_client() -> Option<&'static reqwest::Client> {
    SDK_CLIENT.get()
}

/// An error with its causes, outermost first: reqwest's own text ("error
/// sending request") says nothing of why (a refused certificate, a reset
/// connection); its sources do. No cause carries a header or a body.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(SdkConnector {
            client: self.client.clone(),
        })
    }
}

#[derive(Debug)]
struct SdkConnector {
    client: reqwest::Client,
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        HttpConnectorFuture::new(async move {
            let request = to_reqwest(request)?;
            let response = client.execute(request).await.map_err(connector_error)?;
            let status = response.status();
            let version = response.version();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(connector_error)?;
            let mut http = http::Response::new(SdkBody::from(body));
            *http.status_mut() = status;
            *http.version_mut() = version;
            *http.headers_mut() = headers;
            HttpResponse::try_from(http).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The SDK's request as a reqwest request. DynamoDB bodies are in memory;
/// a streaming body would be a programming error, reported as a user error.
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, ConnectorError> {
    let request = request
        .try_into_http1x()
        .map_err(|e| ConnectorError::user(e.into()))?;
    let (parts, body) = request.into_parts();
    let bytes = body
        .bytes()
        .map(bytes::Bytes::copy_from_slice)
        .ok_or_else(|| ConnectorError::user("streaming request bodies are not supported".into()))?;
    reqwest::Request::try_from(http::Request::from_parts(parts, bytes))
        .map_err(|e| ConnectorError::user(e.into()))
}

/// Timeouts and transport failures are what the SDK's retry policy retries;
/// anything else (a malformed request) is not.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        ConnectorError::timeout(err.into())
    } else if err.is_builder() {
        ConnectorError::user(err.into())
    } else {
        ConnectorError::io(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_config_trusts_the_compiled_in_roots_and_speaks_http1() {
        let config = tls_config();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        // Built once: a second client's settings share the first's verifier
        // and crypto provider.
        let again = tls_config();
        assert!(Arc::ptr_eq(
            config.crypto_provider(),
            again.crypto_provider()
        ));
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
        // Builds without looking at the platform store.
        client_builder().build().expect("client builds");
    }

    /// An HTTPS server on loopback for `localhost`, with a fresh self-signed
    /// certificate, answering `200 ok` to one request per connection.
    async fn tls_server() -> (u16, rustls::pki_types::CertificateDer<'static>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (port, cert)
    }

    #[tokio::test]
    async fn an_unknown_issuer_is_refused_and_a_trusted_one_is_served() {
        let (port, cert) = tls_server().await;
        let url = format!("https://localhost:{port}/");

        let err = client_builder()
            .build()
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap_err();
        // reqwest's own text says nothing of why; the chain does.
        assert!(!err.to_string().contains("UnknownIssuer"), "{err}");
        let chain = error_chain(&err);
        assert!(chain.contains("UnknownIssuer"), "{chain}");

        // The same stack, trusting that certificate: the handshake and
        // HTTP/1.1 over it work.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let trusting = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config_with(roots))
            .build()
            .unwrap();
        let response = trusting.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "ok");
    }

    #[tokio::test]
    async fn a_bundle_adds_its_authority_and_keeps_the_public_roots() {
        let (port, cert) = tls_server().await;
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64_lines(cert.as_ref())
        );
        let config = tls_config_with_bundle(pem.as_bytes()).unwrap();
        let client = client_builder_with(config).build().unwrap();
        let response = client
            .get(format!("https://localhost:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        for bad in [
            "",
            "not pem",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        ] {
            assert!(tls_config_with_bundle(bad.as_bytes()).is_err(), "{bad:?}");
        }

        // The SDK's client takes a bundle too (`AWS_CA_BUNDLE`).
        let dir = std::env::temp_dir().join(format!("aws-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.pem");
        std::fs::write(&path, &pem).unwrap();
        let sdk = SdkHttpClient::with_ca_bundle(Duration::from_secs(1), Some(&path)).unwrap();
        let response = sdk
            .reqwest()
            .get(format!("https://localhost:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let without = SdkHttpClient::with_ca_bundle(Duration::from_secs(1), None).unwrap();
        assert!(
            without
                .reqwest()
                .get(format!("https://localhost:{port}/"))
                .send()
                .await
                .is_err()
        );
        let missing =
            SdkHttpClient::with_ca_bundle(Duration::from_secs(1), Some(&dir.join("nope")));
        assert!(missing.unwrap_err().contains("AWS_CA_BUNDLE"));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn base64_lines(der: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in der.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out.as_bytes()
            .chunks(64)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn connection_refused_is_a_retryable_io_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = SdkHttpClient::new(Duration::from_millis(500)).unwrap();
        let connector = SdkConnector {
            client: client.client.clone(),
        };
        let request = HttpRequest::try_from(
            http::Request::builder()
                .uri(format!("http://{addr}/"))
                .body(SdkBody::from("{}"))
                .unwrap(),
        )
        .unwrap();
        let err = connector.call(request).await.unwrap_err();
        assert!(err.is_io(), "{err:?}");
    }
}
