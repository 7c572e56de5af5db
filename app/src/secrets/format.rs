//! What a client secret looks like, and its one-way hash.
//!
//! A secret is `clavis_cs_` + 43 characters of base64url (256 bits from the OS CSPRNG) + a
//! 6-character checksum (base64url of the first 4 bytes of SHA-256 over everything before it).
//! The prefix lets leak scanners find secrets; the checksum lets them, and the token endpoint,
//! tell a real secret from a typo or a guess without a database lookup.
//!
//! Only `sha256:` + hex of SHA-256 over the whole secret is stored. A salted slow hash is not
//! needed: with 256 random bits there is nothing to brute-force, and verification stays fast.
//!
//! CAUTION: `SecretPlaintext` and `SecretHash` have no `Serialize` and a `Debug` that hides the
//! value. Keep it that way; the only type that may carry a plaintext to a browser is
//! `secrets::IssuedSecretOnce`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const PREFIX: &str = "clavis_cs_";
const RANDOM_BYTES: usize = 32;
const BODY_CHARS: usize = 43; // base64url of 32 bytes, unpadded
const CHECKSUM_CHARS: usize = 6; // base64url of 4 bytes, unpadded
/// Length of every well-formed secret.
pub const SECRET_LEN: usize = PREFIX.len() + BODY_CHARS + CHECKSUM_CHARS;
/// How many trailing characters are shown to tell secrets apart.
pub const HINT_CHARS: usize = 4;
const HASH_TAG: &str = "sha256:";

/// A freshly generated secret. Dropped (and zeroed) as soon as its one response is built.
pub struct SecretPlaintext(SecretString);

impl std::fmt::Debug for SecretPlaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretPlaintext(<hidden>)")
    }
}

fn checksum(head: &str) -> String {
    let digest = Sha256::digest(head.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..4])
}

impl SecretPlaintext {
    /// 256 bits from the operating system's CSPRNG, in the format above.
    pub fn generate() -> Self {
        let mut random = [0u8; RANDOM_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let mut s = String::with_capacity(SECRET_LEN);
        s.push_str(PREFIX);
        URL_SAFE_NO_PAD.encode_string(random, &mut s);
        let sum = checksum(&s);
        s.push_str(&sum);
        random.fill(0);
        SecretPlaintext(SecretString::from(s))
    }

    /// The value, for the one response that hands it over.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn hint(&self) -> String {
        hint_of(self.expose())
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash::of(self.expose())
    }
}

/// What a sealed copy of a secret is bound to (the AEAD's associated data): its own hash, so
/// that a sealed copy cannot be moved to another secret's row.
pub fn sealed_aad(tagged_hash: &str) -> String {
    format!("clavis client secret {tagged_hash}")
}

/// The last characters of a secret, shown so that people can tell which one an app uses.
pub fn hint_of(secret: &str) -> String {
    let start = secret.len().saturating_sub(HINT_CHARS);
    secret.get(start..).unwrap_or_default().to_string()
}

/// True when `s` has the prefix, the length, the alphabet and a matching checksum. Cheap; run
/// it before any database lookup.
pub fn is_well_formed(s: &str) -> bool {
    if s.len() != SECRET_LEN || !s.starts_with(PREFIX) {
        return false;
    }
    let rest = &s.as_bytes()[PREFIX.len()..];
    if !rest
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    {
        return false;
    }
    let (head, sum) = s.split_at(SECRET_LEN - CHECKSUM_CHARS);
    // The body must be canonical base64url of exactly 32 bytes (its last character carries 4
    // unused bits, which must be zero).
    let body = &head[PREFIX.len()..];
    let mut decoded = [0u8; RANDOM_BYTES];
    if URL_SAFE_NO_PAD.decode_slice(body, &mut decoded) != Ok(RANDOM_BYTES) {
        return false;
    }
    checksum(head).as_bytes().ct_eq(sum.as_bytes()).into()
}

/// SHA-256 of a secret. Compared only in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(<hidden>)")
    }
}

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        SecretHash(Sha256::digest(secret.as_bytes()).into())
    }

    /// The stored form: `sha256:` + 64 lower-case hex digits.
    pub fn to_tagged(&self) -> String {
        format!("{HASH_TAG}{}", hex::encode(self.0))
    }

    /// Reads the stored form; `None` for any other tag or a malformed digest.
    pub fn from_tagged(s: &str) -> Option<Self> {
        let hex_part = s.strip_prefix(HASH_TAG)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).ok()?;
        Some(SecretHash(out))
    }

    /// Constant-time equality.
    pub fn matches(&self, other: &SecretHash) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_well_formed_and_distinct() {
        let a = SecretPlaintext::generate();
        let b = SecretPlaintext::generate();
        assert_eq!(a.expose().len(), SECRET_LEN);
        assert!(a.expose().starts_with(PREFIX));
        assert!(is_well_formed(a.expose()), "{}", a.expose());
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.hint().len(), HINT_CHARS);
        assert!(a.expose().ends_with(&a.hint()));
    }

    #[test]
    fn malformed_secrets_are_rejected() {
        let good = SecretPlaintext::generate().expose().to_string();
        let mut flipped_sum = good.clone().into_bytes();
        let last = flipped_sum.len() - 1;
        flipped_sum[last] = if flipped_sum[last] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let mut flipped_body = good.clone().into_bytes();
        flipped_body[PREFIX.len() + 3] = if flipped_body[PREFIX.len() + 3] == b'x' {
            b'y'
        } else {
            b'x'
        };
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            (good[..SECRET_LEN - 1].to_string(), "one short"),
            (format!("{good}A"), "one long"),
            (good.replacen(PREFIX, "clavis_xx_", 1), "wrong prefix"),
            (String::from_utf8(flipped_sum).unwrap(), "bad checksum"),
            (String::from_utf8(flipped_body).unwrap(), "changed body"),
            (
                format!(
                    "{}+{}",
                    &good[..PREFIX.len() + 5],
                    &good[PREFIX.len() + 6..]
                ),
                "alphabet: '+' is base64 but not base64url",
            ),
            // The right length in bytes, with a two-byte character across the point where the
            // checksum starts: only the alphabet check stands between it and a split inside a
            // character (a panic).
            (
                format!(
                    "{}é{}",
                    &good[..SECRET_LEN - CHECKSUM_CHARS - 1],
                    &good[SECRET_LEN - CHECKSUM_CHARS + 1..]
                ),
                "non-ASCII across the checksum boundary",
            ),
            (format!(" {}", &good[1..]), "leading space"),
            (
                "clavis_cs_".repeat(6)[..SECRET_LEN].to_string(),
                "repeated prefix",
            ),
            (format!("{PREFIX}{}", "é".repeat(24)), "non-ASCII"),
        ];
        for (s, why) in &cases[6..8] {
            assert_eq!(s.len(), SECRET_LEN, "{why}: must pass the length check");
            assert!(s.starts_with(PREFIX), "{why}: must pass the prefix check");
        }
        for (s, why) in cases {
            assert!(!is_well_formed(&s), "{why}: {s}");
        }
        assert!(is_well_formed(&good));
    }

    #[test]
    fn non_canonical_base64_is_rejected() {
        // Same 32 bytes, but the unused low bits of the last body character are set.
        let mut random = [7u8; RANDOM_BYTES];
        random[31] = 0;
        let mut head = String::from(PREFIX);
        URL_SAFE_NO_PAD.encode_string(random, &mut head);
        let canonical = format!("{head}{}", checksum(&head));
        assert!(is_well_formed(&canonical));
        let mut bytes = head.into_bytes();
        let last = bytes.len() - 1;
        assert_eq!(bytes[last], b'A');
        bytes[last] = b'B';
        let head = String::from_utf8(bytes).unwrap();
        let odd = format!("{head}{}", checksum(&head));
        assert!(!is_well_formed(&odd), "{odd}");
    }

    #[test]
    fn hash_is_tagged_sha256_and_round_trips() {
        let s = SecretPlaintext::generate();
        let tagged = s.hash().to_tagged();
        assert!(tagged.starts_with("sha256:"));
        assert_eq!(tagged.len(), 7 + 64);
        assert!(!tagged.contains(s.expose()));
        let back = SecretHash::from_tagged(&tagged).unwrap();
        assert!(bool::from(back.matches(&SecretHash::of(s.expose()))));
        assert!(!bool::from(
            back.matches(&SecretHash::of(SecretPlaintext::generate().expose()))
        ));
        // A known vector, so the stored form never changes by accident.
        assert_eq!(
            SecretHash::of("abc").to_tagged(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(SecretHash::from_tagged("md5:00").is_none());
        assert!(SecretHash::from_tagged("sha256:zz").is_none());
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = SecretPlaintext::generate();
        let shown = format!("{s:?} {:?}", s.hash());
        assert!(!shown.contains(s.expose()));
        assert!(!shown.contains(&s.hash().to_tagged()[7..]));
        assert!(shown.contains("<hidden>"));
    }
}
