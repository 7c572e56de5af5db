//! Signing deliveries in the Standard Webhooks format: the headers `webhook-id`,
//! `webhook-timestamp` (unix seconds) and `webhook-signature`, whose value is one or more
//! space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. An endpoint's
//! secret is `whsec_` followed by the base64 of 32 random bytes; the key is those bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// The sealing context of an endpoint's signing secret.
pub fn secret_aad(public_id: &str) -> String {
    format!("webhook-secret:{public_id}")
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> SecretString {
    let key: [u8; 32] = rand::random();
    SecretString::from(format!("{PREFIX}{}", STANDARD.encode(key)))
}

/// The key bytes of a secret `new_secret` made; `None` for anything else.
pub fn key_of(secret: &SecretString) -> Option<Vec<u8>> {
    let b64 = secret.expose_secret().strip_prefix(PREFIX)?;
    STANDARD.decode(b64).ok().filter(|k| k.len() >= 24)
}

/// One signature, `v1,<base64>`, over `{id}.{timestamp}.{body}` with `key`.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: a signature with each key, the newest first. During a
/// rotation of the endpoint's secret that is two, so receivers with either secret verify.
pub fn signature_header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| signature(k, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_prefix_and_32_bytes() {
        let s = new_secret();
        assert!(s.expose_secret().starts_with("whsec_"));
        assert_eq!(key_of(&s).map(|k| k.len()), Some(32));
        assert_ne!(s.expose_secret(), new_secret().expose_secret());
        assert_eq!(key_of(&SecretString::from("whsec_!!")), None);
        assert_eq!(key_of(&SecretString::from("sk_abc")), None);
    }

    /// The example of the Standard Webhooks specification's reference tests: a known secret,
    /// id, timestamp and body give a known signature.
    #[test]
    fn signs_as_the_specification_says() {
        let key = key_of(&SecretString::from(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ))
        .unwrap();
        let sig = signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_keys_give_two_signatures() {
        let (a, b) = (vec![1u8; 32], vec![2u8; 32]);
        let h = signature_header(&[a.clone(), b.clone()], "msg_1", 1, b"{}");
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(
            parts,
            [
                signature(&a, "msg_1", 1, b"{}"),
                signature(&b, "msg_1", 1, b"{}")
            ]
        );
    }
}
