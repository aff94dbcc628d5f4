//! What a cold start can do before its first invocation so that the first
//! request does not pay for it (issue 27): Lambda gives Init a full CPU,
//! while a 128 MB function's invocations get about 7% of one. On with
//! `WARM_UP=on` ([`cold_start`]), which the template sets (its `WarmUp`
//! parameter); off where nothing sets it (local runs, most tests).
//! Everything here is best effort: a failure is logged and Init goes on.
//!
//! - [`tls`]: one TLS 1.3 handshake in memory, client to server, both
//!   rustls over aws-lc-rs as the real connections use it: the crypto
//!   provider's lazy set-up, the key exchange, certificate verification,
//!   the record layer and the code paths (page faults of a cold binary)
//!   are paid here. The server's certificate and key (`assets/`) are a
//!   throwaway pair that only this in-memory client trusts: they
//!   authenticate nothing and never touch a network.
//! - [`connect`]: opens the pooled connection to DynamoDB (DNS, TCP and, in
//!   AWS, TLS) with one `GET /` on the endpoint, which DynamoDB answers
//!   without credentials; the first invocation's requests reuse it.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConnection, Connection, RootCertStore, ServerConnection};

const CERT: &[u8] = include_bytes!("../assets/warm-up-cert.pem");
const KEY: &[u8] = include_bytes!("../assets/warm-up-key.pem");
const NAME: &str = "warm-up.invalid";

/// One full handshake and a record each way, in memory; the bytes that
/// crossed.
pub fn tls() -> Result<usize, String> {
    let cert = CertificateDer::from_pem_slice(CERT).map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::from_pem_slice(KEY).map_err(|e| e.to_string())?;
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).map_err(|e| e.to_string())?;
    let client_config = crate::net::tls_config_with(roots);
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(NAME).map_err(|e| e.to_string())?;
    let mut client: Connection = ClientConnection::new(Arc::new(client_config), name)
        .map_err(|e| e.to_string())?
        .into();
    let mut server: Connection = ServerConnection::new(Arc::new(server_config))
        .map_err(|e| e.to_string())?
        .into();
    let mut crossed = 0;
    for _ in 0..10 {
        crossed += transfer(&mut client, &mut server)?;
        crossed += transfer(&mut server, &mut client)?;
        if !client.is_handshaking() && !server.is_handshaking() {
            break;
        }
    }
    if client.is_handshaking() || server.is_handshaking() {
        return Err("the handshake did not finish".into());
    }
    // A record each way: the AEAD's first use.
    use std::io::Write;
    client
        .writer()
        .write_all(b"GET / HTTP/1.1\r\n\r\n")
        .map_err(|e| e.to_string())?;
    crossed += transfer(&mut client, &mut server)?;
    server
        .writer()
        .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
        .map_err(|e| e.to_string())?;
    crossed += transfer(&mut server, &mut client)?;
    Ok(crossed)
}

/// Everything `from` has to send, read and processed by `to`.
fn transfer(from: &mut Connection, to: &mut Connection) -> Result<usize, String> {
    let mut wire = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut wire).map_err(|e| e.to_string())?;
    }
    let mut rest = &wire[..];
    while !rest.is_empty() {
        to.read_tls(&mut rest).map_err(|e| e.to_string())?;
        to.process_new_packets().map_err(|e| e.to_string())?;
    }
    Ok(wire.len())
}

/// Everything above, for a function's cold start, with `WARM_UP=on`: the
/// handshake, then DynamoDB's connection through the SDK's pooled client,
/// and the engine's where `ENGINE_BASE_URL` names one. Measured at 7% of a
/// CPU throttled on a 20 ms period (as Lambda has been seen to): 18–20 ms
/// off the first request with DynamoDB over TLS, 9–12 ms off Init + first,
/// for 8–9 ms more Init; at the kernel's 100 ms period it gains the first
/// request ~1 ms and costs the whole cold start ~7 ms (docs/PERFORMANCE.md,
/// sessions 13 and 16). With provisioned concurrency Init is off the
/// request path and it is all gain.
pub async fn cold_start(
    dynamodb: &aws_sdk_dynamodb::Client,
    engine: Option<(&reqwest::Client, &str)>,
) {
    if !std::env::var("WARM_UP").is_ok_and(|v| v == "on") {
        return;
    }
    if let Err(e) = tls() {
        tracing::warn!(error = %e, "warm: the in-memory TLS handshake failed");
    }
    let timeout = Duration::from_millis(1_000);
    if let (Some(client), Some(endpoint)) = (
        crate::net::sdk_client(),
        crate::store::dynamo::endpoint_of(dynamodb),
    ) {
        connect(client, &endpoint, timeout, "DynamoDB").await;
    }
    if let Some((client, base)) = engine {
        connect(client, base, timeout, "the engine").await;
    }
}

/// Opens (and pools) a connection to `endpoint` with `GET /`, within
/// `timeout`; any answer will do.
pub async fn connect(client: &reqwest::Client, endpoint: &str, timeout: Duration, what: &str) {
    let started = std::time::Instant::now();
    match tokio::time::timeout(timeout, client.get(endpoint).send()).await {
        Ok(Ok(response)) => {
            // Read the body so the connection goes back to the pool.
            let status = response.status().as_u16();
            let _ = tokio::time::timeout(timeout, response.bytes()).await;
            tracing::debug!(
                status,
                ms = started.elapsed().as_millis() as u64,
                what,
                "warm: connected"
            );
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %crate::net::error_chain(&e.without_url()), what, "warm: could not connect; the first request will")
        }
        Err(_) => tracing::warn!(
            what,
            "warm: no answer in time; the first request will connect"
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_in_memory_handshake_completes() {
        let crossed = super::tls().unwrap();
        // A ClientHello, the server's flight with its certificate, the
        // client's Finished and a record each way.
        assert!(crossed > 1_000, "{crossed}");
    }
}
