//! The RS256 signing keys of ID tokens (OpenID Connect Core §15.1: RS256 is the algorithm every
//! relying party can check). They live in the same store as the Ed25519 keys of access tokens
//! (`keys`: the table `signing_keys` with `alg = 'RS256'`, sealed under the key-encryption key,
//! rotated and published with them); this file holds what differs: generating an RSA key,
//! signing an ID token with jwt-simple, and the key's JWK.
//!
//! For an RS256 row, `private_pkcs8` holds the private key's DER and `public_x` the base64url
//! of the public key's DER, from which the JWK's `n` and `e` are read.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwt_simple::prelude::{
    Audiences, Duration, JWTClaims, RS256KeyPair, RS256PublicKey, RSAKeyPairLike, RSAPublicKeyLike,
    VerificationOptions,
};
use serde::Serialize;

use crate::infra::{SvcError, SvcResult};

pub const RS256: &str = "RS256";

/// The modulus of a new key, in bits.
const MODULUS_BITS: usize = 2048;

/// A new key: its private DER and its public DER (base64url), for the store.
pub fn generate() -> SvcResult<(Vec<u8>, String)> {
    let pair = RS256KeyPair::generate(MODULUS_BITS)
        .map_err(|e| SvcError::Internal(format!("generating an RSA key: {e}")))?;
    let private = pair
        .to_der()
        .map_err(|e| SvcError::Internal(format!("encoding an RSA key: {e}")))?;
    let public = pair
        .public_key()
        .to_der()
        .map_err(|e| SvcError::Internal(format!("encoding an RSA public key: {e}")))?;
    Ok((private, URL_SAFE_NO_PAD.encode(public)))
}

/// The RS256 key that signs ID tokens now, parsed once. Never serialized, never printed.
pub struct IdKey {
    pub kid: String,
    pair: RS256KeyPair,
}

impl std::fmt::Debug for IdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl IdKey {
    pub fn from_der(kid: String, der: &[u8]) -> SvcResult<Self> {
        let pair = RS256KeyPair::from_der(der)
            .map_err(|_| SvcError::Internal(format!("signing key {kid} is not an RSA key")))?
            .with_key_id(&kid);
        Ok(IdKey { kid, pair })
    }

    /// An ID token over the registered claims and `extra`, typed `JWT`, with this key's `kid`.
    pub fn sign<T: Serialize>(&self, c: &IdTokenClaims<'_>, extra: T) -> SvcResult<String> {
        let claims = JWTClaims {
            issued_at: Some(Duration::from_secs(c.iat)),
            expires_at: Some(Duration::from_secs(c.exp)),
            invalid_before: None,
            issuer: Some(c.iss.to_string()),
            subject: Some(c.sub.to_string()),
            audiences: Some(Audiences::AsString(c.aud.to_string())),
            jwt_id: None,
            nonce: c.nonce.map(str::to_string),
            custom: extra,
        };
        self.pair
            .sign(claims)
            .map_err(|e| SvcError::Internal(format!("signing an ID token: {e}")))
    }
}

/// The registered claims of an ID token. Times are unix seconds.
pub struct IdTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub iat: u64,
    pub exp: u64,
    pub nonce: Option<&'a str>,
}

/// The JWK of a stored public key (`public_x` of an RS256 row), or `None` if unreadable.
pub fn jwk(kid: &str, public_b64: &str) -> Option<serde_json::Value> {
    let der = URL_SAFE_NO_PAD.decode(public_b64).ok()?;
    let key = RS256PublicKey::from_der(&der).ok()?;
    let parts = key.to_components();
    Some(serde_json::json!({
        "kty": "RSA",
        "use": "sig",
        "alg": RS256,
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(parts.n),
        "e": URL_SAFE_NO_PAD.encode(parts.e),
    }))
}

/// The audience and subject of an ID token signed by the key `public_b64`, expired or not.
pub fn verify_hint(public_b64: &str, token: &str, issuer: &str) -> Option<(String, String)> {
    let der = URL_SAFE_NO_PAD.decode(public_b64).ok()?;
    let key = RS256PublicKey::from_der(&der).ok()?;
    let options = VerificationOptions {
        allowed_issuers: Some(std::collections::HashSet::from([issuer.to_string()])),
        // Expired hints are fine: a year of tolerance.
        time_tolerance: Some(Duration::from_days(365)),
        ..Default::default()
    };
    let claims = key
        .verify_token::<serde_json::Value>(token, Some(options))
        .ok()?;
    let aud = claims.audiences?.into_set().into_iter().next()?;
    Some((aud, claims.subject?))
}
