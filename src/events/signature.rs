//! The `Pricegraph-Signature` header (docs/api.md#verifying-a-signature):
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with
//! the endpoint's secret, as Stripe and others do it. The timestamp is
//! signed too, so a receiver can refuse old replays.

use hmac::{Hmac, KeyInit, Mac};
use sha2_hmac::Sha256;

/// The header's name.
pub const HEADER: &str = "Pricegraph-Signature";

type HmacSha256 = Hmac<Sha256>;

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn v1(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length: this never fails.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header's value.
pub fn header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", v1(secret, timestamp, body))
}

/// What a receiver does: the header's `t` and `v1`, the signature worked
/// out again and compared in constant time. (For the tests and the docs.)
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',').take(8) {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else { return false };
    let expected = v1(secret, timestamp, body);
    signatures
        .iter()
        .any(|s| subtle::ConstantTimeEq::ct_eq(s.as_bytes(), expected.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widely published HMAC-SHA256 of the quick brown fox, key "key".
    #[test]
    fn known_answer() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")
        let mut mac = HmacSha256::new_from_slice(b"key").expect("key");
        mac.update(b"The quick brown fox jumps over the lazy dog");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn signs_and_verifies() {
        let header = header("whsec_test", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify("whsec_test", &header, b"{\"a\":1}"));
        assert!(!verify("whsec_other", &header, b"{\"a\":1}"));
        assert!(!verify("whsec_test", &header, b"{\"a\":2}"));
    }
}
