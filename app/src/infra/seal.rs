//! Sealing secrets at rest: XChaCha20-Poly1305 under the key-encryption key, the one key that
//! is never in the database (it lives in `key_encryption_key_file`). A sealed value is
//! `sealed:v1:` + base64url(24-byte random nonce ‖ ciphertext and tag), and is bound to what it
//! belongs to (the associated data, such as a signing key's `kid`), so that a sealed value
//! copied onto another row does not open.
//!
//! CAUTION: `Kek` has no `Serialize` and a `Debug` that hides it. It is read from its file at
//! start and kept in memory only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use subtle::ConstantTimeEq;

const TAG: &str = "sealed:v1:";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The key file does not hold a key: 32 bytes, base64url.
    #[error("it does not hold a key-encryption key (32 random bytes, base64url)")]
    BadKey,
    /// The value is not sealed, is damaged, or was sealed under another key.
    #[error("it does not open with this key-encryption key")]
    WrongKey,
}

/// The key-encryption key.
#[derive(Clone)]
pub struct Kek(Key);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(<hidden>)")
    }
}

impl PartialEq for Kek {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}

impl Eq for Kek {}

/// True for a stored value in the sealed format.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(TAG)
}

impl Kek {
    /// 256 bits from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut k);
        let key = Kek(Key::clone_from_slice(&k));
        k.fill(0);
        key
    }

    /// Reads the text of a key file: the key in base64url, surrounding whitespace ignored.
    pub fn from_file_text(text: &str) -> Result<Self, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != KEY_BYTES {
            return Err(SealError::BadKey);
        }
        Ok(Kek(Key::clone_from_slice(&bytes)))
    }

    /// A key for `purpose` derived from this one (HMAC-SHA256 of the purpose), so that the
    /// key-encryption key itself serves one use only.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The text of a key file.
    pub fn to_file_text(&self) -> String {
        format!("{}\n", URL_SAFE_NO_PAD.encode(self.0.as_slice()))
    }

    /// Seals `plaintext`, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&self.0);
        let payload = Payload {
            msg: plaintext,
            aad: aad.as_bytes(),
        };
        // Encryption fails only for messages far beyond any key's size.
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        format!("{TAG}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value sealed with `seal` under this key and the same `aad`.
    pub fn open(&self, sealed: &str, aad: &str) -> Result<Vec<u8>, SealError> {
        let raw = sealed
            .strip_prefix(TAG)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|r| r.len() > NONCE_BYTES)
            .ok_or(SealError::WrongKey)?;
        let (nonce, ciphertext) = raw.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: aad.as_bytes(),
        };
        XChaCha20Poly1305::new(&self.0)
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| SealError::WrongKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_their_owner() {
        let kek = Kek::generate();
        let sealed = kek.seal(b"private key bytes", "kid-1");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("private"), "{sealed}");
        assert_eq!(kek.open(&sealed, "kid-1").unwrap(), b"private key bytes");
        assert_ne!(
            kek.seal(b"private key bytes", "kid-1"),
            sealed,
            "a fresh nonce each time"
        );
        assert_eq!(
            kek.open(&sealed, "kid-2"),
            Err(SealError::WrongKey),
            "bound to its owner"
        );
        assert_eq!(
            Kek::generate().open(&sealed, "kid-1"),
            Err(SealError::WrongKey),
            "another key"
        );
        let mut damaged = sealed.clone().into_bytes();
        let last = damaged.len() - 2;
        damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
        let damaged = String::from_utf8(damaged).unwrap();
        assert_eq!(kek.open(&damaged, "kid-1"), Err(SealError::WrongKey));
        assert_eq!(kek.open("plain", "kid-1"), Err(SealError::WrongKey));
    }

    #[test]
    fn key_files_round_trip_and_bad_ones_are_refused() {
        let kek = Kek::generate();
        let text = kek.to_file_text();
        assert_eq!(Kek::from_file_text(&format!("  {text}\n")).unwrap(), kek);
        for bad in ["", "not base64!", "c2hvcnQ", &"A".repeat(60)] {
            assert_eq!(Kek::from_file_text(bad), Err(SealError::BadKey), "{bad}");
        }
        assert_eq!(format!("{kek:?}"), "Kek(<hidden>)");
    }
}
