//! Checking Clavis's own access tokens where Clavis itself is the resource server: the admin
//! API (`/api/v1`). The JWS signature against the keys that the JWKS publishes (held in memory
//! by the key ring, refreshed with the signing key), then `iss`, `aud` and `exp`, with jwt-simple.
//! The caller then checks the client's state and the scope.

use std::collections::HashSet;
use std::time::Duration;

use jwt_simple::prelude::{Ed25519PublicKey, EdDSAPublicKeyLike, Token, VerificationOptions};
use serde::{Deserialize, Serialize};

use super::keys::KeyRing;

/// The path of the admin API; `{issuer}/api/v1` is its audience.
pub const API_PATH: &str = "/api/v1";

/// The scopes of the admin API, one per console role.
pub const ADMIN_SCOPE: &str = "clavis:admin";
pub const SUPPORT_SCOPE: &str = "clavis:support";
/// The scope of an authorizer's client: introspection, and its own configuration.
pub const INTROSPECT_SCOPE: &str = "clavis:introspect";
/// Revealing a readable secret through the admin API: held only by a client given it
/// explicitly, besides `clavis:admin` (the console asks for a password instead).
pub const REVEAL_SCOPE: &str = "clavis:reveal";

/// True for a scope that only Clavis's own API honours.
pub fn is_clavis_scope(scope: &str) -> bool {
    scope.starts_with("clavis:")
}

/// The audience of the admin API's tokens.
pub fn api_audience(issuer: &str) -> String {
    format!("{}{API_PATH}", issuer.trim_end_matches('/'))
}

/// The claims of an access token that the API reads, besides the registered ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub client_id: String,
    #[serde(default)]
    pub scope: String,
    /// The secret that minted an admin API token (see `oauth::token::Claims`).
    #[serde(default)]
    pub clavis_secret: Option<i64>,
}

/// A token that verified: its client and its scopes, and the registered claims that
/// introspection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub sub: String,
    pub aud: Vec<String>,
    pub jti: String,
    /// Unix seconds.
    pub iat: i64,
    pub exp: i64,
    /// The secret that minted it, for an admin API token.
    pub secret_id: Option<i64>,
}

/// Clock skew allowed on `exp`, `iat` and `nbf`.
const LEEWAY: Duration = Duration::from_secs(5);
/// The same, in milliseconds: a revoked token is remembered this much past its `exp`.
pub const LEEWAY_MS: i64 = 5_000;

/// Verifies `token` for `audience`: a signature by a published key (found by the token's
/// `kid`), issued by `issuer`, unexpired. `None` for every failure: the answer to a caller does
/// not say which check failed.
pub fn verify(keys: &KeyRing, token: &str, issuer: &str, audience: &str) -> Option<VerifiedToken> {
    check(keys, token, issuer, Some(audience))
}

/// Like `verify`, for any audience: what the introspection and revocation endpoints accept.
pub fn verify_any_audience(keys: &KeyRing, token: &str, issuer: &str) -> Option<VerifiedToken> {
    check(keys, token, issuer, None)
}

fn check(
    keys: &KeyRing,
    token: &str,
    issuer: &str,
    audience: Option<&str>,
) -> Option<VerifiedToken> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let meta = Token::decode_metadata(token).ok()?;
    if meta.algorithm() != super::keys::ALG {
        return None;
    }
    let kid = meta.key_id()?;
    let ring = keys.verifying_keys();
    let (_, public) = ring.iter().find(|(k, _)| k == kid)?;
    let key = Ed25519PublicKey::from_bytes(public).ok()?;
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([issuer.to_string()])),
        allowed_audiences: audience.map(|a| HashSet::from([a.to_string()])),
        time_tolerance: Some(LEEWAY.into()),
        ..Default::default()
    };
    let claims = key
        .verify_token::<AccessClaims>(token, Some(options))
        .ok()?;
    // Every token Clavis issues has an expiry, an id and an issue time; one without is not
    // one of them.
    let exp = claims.expires_at?.as_secs();
    let iat = claims.issued_at?.as_secs();
    let jti = claims.jwt_id?;
    let aud = match claims.audiences {
        None => Vec::new(),
        Some(a) => a.into_set().into_iter().collect(),
    };
    Some(VerifiedToken {
        sub: claims
            .subject
            .unwrap_or_else(|| claims.custom.client_id.clone()),
        secret_id: claims.custom.clavis_secret,
        client_id: claims.custom.client_id,
        scopes: claims
            .custom
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        aud,
        jti,
        iat: i64::try_from(iat).ok()?,
        exp: i64::try_from(exp).ok()?,
    })
}

/// Longest token looked at; Clavis's own are well under 1 KiB.
const MAX_TOKEN_LEN: usize = 8 * 1024;
