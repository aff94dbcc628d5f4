//! The signing schemes engines use on their webhooks, checked over the
//! exact bytes received, in constant time. A hook with no engine secret
//! checks nothing here: its 256-bit token is then the only credential.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha512};

/// Why a signed call was refused (for the log; the client sees a 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {0} header is missing")]
    Missing(&'static str),
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    #[error("the signature does not match")]
    Mismatch,
    #[error("the signed timestamp is outside the tolerance")]
    Stale,
}

/// HMAC-SHA512 of `body` under `key`, as lower-case hex (WAHA's
/// `X-Webhook-Hmac`).
pub fn hmac_sha512_hex(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Constant-time equality of two byte strings.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `given` (hex, either case) is HMAC-SHA512 of `body` under `key`.
pub fn check_hmac_sha512_hex(
    header: &'static str,
    given: Option<&str>,
    key: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    let given = given.ok_or(SignatureError::Missing(header))?.trim();
    let given = hex::decode(given).map_err(|_| SignatureError::Malformed(header))?;
    let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// `given` (hex, either case) is HMAC-SHA256 of `body` under `key`.
pub fn check_hmac_sha256_hex(
    header: &'static str,
    given: Option<&str>,
    key: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    let given = given.ok_or(SignatureError::Missing(header))?.trim();
    let given = given.strip_prefix("sha256=").unwrap_or(given);
    let given = hex::decode(given).map_err(|_| SignatureError::Malformed(header))?;
    if same(&hmac_sha256(key, &[body]), &given) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// A shared secret sent as is in a header (Evolution's configured
/// headers): compared in constant time.
pub fn check_shared_secret(
    header: &'static str,
    given: Option<&str>,
    secret: &str,
) -> Result<(), SignatureError> {
    let given = given.ok_or(SignatureError::Missing(header))?.trim();
    let given = given
        .strip_prefix("Bearer ")
        .or_else(|| given.strip_prefix("bearer "))
        .unwrap_or(given);
    if same(given.as_bytes(), secret.as_bytes()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// An HS256 JWT (`header.payload.signature`, base64url without padding)
/// signed with `secret`, whose `exp` (when present) is not past `now_secs`
/// and whose `iat` (when present) is not more than `tolerance_secs` in the
/// future.
pub fn check_jwt_hs256(
    header: &'static str,
    token: Option<&str>,
    secret: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let token = token.ok_or(SignatureError::Missing(header))?.trim();
    let token = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token);
    let mut parts = token.split('.');
    let (Some(head), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SignatureError::Malformed(header));
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let decode = |s: &str| {
        b64.decode(s.trim_end_matches('='))
            .map_err(|_| SignatureError::Malformed(header))
    };
    let head: serde_json::Value =
        serde_json::from_slice(&decode(head)?).map_err(|_| SignatureError::Malformed(header))?;
    if head.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(SignatureError::Malformed(header));
    }
    let expected = hmac_sha256(secret, &[&token.as_bytes()[..token.len() - sig.len() - 1]]);
    if !same(&expected, &decode(sig)?) {
        return Err(SignatureError::Mismatch);
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&decode(payload)?).map_err(|_| SignatureError::Malformed(header))?;
    if let Some(exp) = claims.get("exp").and_then(|e| e.as_i64())
        && exp + tolerance_secs < now_secs
    {
        return Err(SignatureError::Stale);
    }
    if let Some(iat) = claims.get("iat").and_then(|e| e.as_i64())
        && iat > now_secs + tolerance_secs
    {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// A Standard Webhooks v1 signature: `webhook-signature` holds one or more
/// space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`; the
/// secret is `whsec_` + base64 (or raw bytes without the prefix);
/// `webhook-timestamp` within `tolerance_secs` of now.
pub fn check_standard_webhook(
    id: Option<&str>,
    timestamp: Option<&str>,
    signatures: Option<&str>,
    secret: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let id = id.ok_or(SignatureError::Missing("webhook-id"))?;
    let ts_text = timestamp.ok_or(SignatureError::Missing("webhook-timestamp"))?;
    let ts: i64 = ts_text
        .trim()
        .parse()
        .map_err(|_| SignatureError::Malformed("webhook-timestamp"))?;
    if (now_secs - ts).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let signatures = signatures.ok_or(SignatureError::Missing("webhook-signature"))?;
    let key = standard_webhook_key(secret);
    let expected = hmac_sha256(
        &key,
        &[id.as_bytes(), b".", ts_text.trim().as_bytes(), b".", body],
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let any = signatures.split(' ').any(|one| {
        one.strip_prefix("v1,")
            .and_then(|s| b64.decode(s).ok())
            .is_some_and(|sig| same(&sig, &expected))
    });
    if any {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The HMAC key of a Standard Webhooks secret.
pub fn standard_webhook_key(secret: &str) -> Vec<u8> {
    match secret.strip_prefix("whsec_") {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_else(|_| secret.as_bytes().to_vec()),
        None => secret.as_bytes().to_vec(),
    }
}

/// `v1,<base64>`: the Standard Webhooks signature of `body` for `id` at
/// `timestamp` (unix seconds).
pub fn sign_standard_webhook(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac_sha256(
        &standard_webhook_key(secret),
        &[id.as_bytes(), b".", ts.as_bytes(), b".", body],
    );
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waha_hmac_known_answer() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            hmac_sha512_hex(b"Jefe", b"what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        let sig = hmac_sha512_hex(b"k", b"{}");
        assert!(check_hmac_sha512_hex("x", Some(&sig), b"k", b"{}").is_ok());
        assert!(check_hmac_sha512_hex("x", Some(&sig.to_uppercase()), b"k", b"{}").is_ok());
        assert_eq!(
            check_hmac_sha512_hex("x", Some(&sig), b"k", b"{} "),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check_hmac_sha512_hex("x", None, b"k", b"{}"),
            Err(SignatureError::Missing("x"))
        );
    }

    #[test]
    fn standard_webhooks_round_trip_and_refusals() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"type":"group.updated"}"#;
        let sig = sign_standard_webhook(secret, "msg_1", 1_700_000_000, body);
        let check = |sig: &str, ts: &str, now: i64| {
            check_standard_webhook(Some("msg_1"), Some(ts), Some(sig), secret, body, now, 300)
        };
        assert!(check(&sig, "1700000000", 1_700_000_010).is_ok());
        assert!(check(&format!("v1,AAAA {sig}"), "1700000000", 1_700_000_010).is_ok());
        assert_eq!(
            check(&sig, "1700000000", 1_700_001_000),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            check(&sig, "1700000001", 1_700_000_010),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn jwt_hs256_checks_signature_and_expiry() {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let head = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = b64.encode(br#"{"iat":1000,"exp":1600,"app":"evolution"}"#);
        let signing = format!("{head}.{claims}");
        let sig = b64.encode(hmac_sha256(b"s3cret", &[signing.as_bytes()]));
        let token = format!("Bearer {signing}.{sig}");
        assert!(check_jwt_hs256("authorization", Some(&token), b"s3cret", 1_100, 30).is_ok());
        assert_eq!(
            check_jwt_hs256("authorization", Some(&token), b"other", 1_100, 30),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check_jwt_hs256("authorization", Some(&token), b"s3cret", 2_000, 30),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            check_jwt_hs256("authorization", Some("a.b"), b"s3cret", 1_100, 30),
            Err(SignatureError::Malformed("authorization"))
        );
    }
}
