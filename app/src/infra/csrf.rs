//! The CSRF tokens of Clavis's own sign-in, consent and logout pages (the double-submit
//! cookie of `server::authorize`). A token is made here and only here: a random nonce and its
//! HMAC under a key derived from the key-encryption key, so every replica checks it alike.
//! A cookie that some other page planted (a sibling subdomain, a network attacker on http)
//! does not verify, and is replaced instead of adopted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::sync::OnceLock;
use subtle::ConstantTimeEq;

use super::settings::Settings;

const PURPOSE: &str = "clavis: CSRF tokens of the sign-in pages";

/// The MAC key: derived from the key-encryption key; without one (tests only: `clavis serve`
/// always has one) a random key of this process.
fn key(settings: &Settings) -> [u8; 32] {
    static FALLBACK: OnceLock<[u8; 32]> = OnceLock::new();
    match &settings.key_encryption_key {
        Some(kek) => kek.derive(PURPOSE),
        None => *FALLBACK.get_or_init(|| {
            let mut k = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut k);
            k
        }),
    }
}

fn mac(settings: &Settings, nonce: &str) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key(settings))
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    m.update(nonce.as_bytes());
    m.finalize().into_bytes().into()
}

/// A new token: `nonce.mac`, both base64url (87 characters).
pub fn issue(settings: &Settings) -> String {
    let mut n = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut n);
    let nonce = URL_SAFE_NO_PAD.encode(n);
    let tag = URL_SAFE_NO_PAD.encode(mac(settings, &nonce));
    format!("{nonce}.{tag}")
}

/// Whether `token` is one that `issue` made (with this installation's key).
pub fn verify(settings: &Settings, token: &str) -> bool {
    let Some((nonce, tag)) = token.split_once('.') else {
        return false;
    };
    if nonce.len() != 43 || tag.len() != 43 {
        return false;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    bool::from(tag.ct_eq(&mac(settings, nonce)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::seal::Kek;

    #[test]
    fn only_tokens_made_here_verify() {
        let a = Settings {
            key_encryption_key: Some(Kek::generate()),
            ..Settings::default()
        };
        let b = Settings {
            key_encryption_key: Some(Kek::generate()),
            ..Settings::default()
        };
        let t = issue(&a);
        assert_eq!(t.len(), 87);
        assert!(verify(&a, &t));
        // Another installation's token, a bare nonce, and a changed nonce do not.
        assert!(!verify(&b, &t));
        assert!(!verify(&a, &t[..43]));
        let forged = format!("{}{}", "A".repeat(43), &t[43..]);
        assert!(!verify(&a, &forged));
        assert!(!verify(&a, ""));
    }
}
