//! The userinfo endpoint (OpenID Connect Core §5.3) and the `id_token_hint` of RP-initiated
//! logout: Clavis reading its own tokens about people.

use jwt_simple::prelude::Token;
use sqlx::Row;

use super::access;
use super::keys::KeyRing;
use super::person_token::PersonClaims;
use crate::clients::service as clients;
use crate::infra::db::Db;
use crate::infra::SvcResult;

/// The userinfo answer: `sub` and the claims the token's scopes allow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(flatten)]
    pub claims: PersonClaims,
}

/// Why userinfo refuses a bearer token (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an access token of Clavis about a person, expired, revoked, or its client or
    /// person disabled: 401, without saying which.
    InvalidToken,
    /// A good token without `openid`: 403.
    InsufficientScope,
}

/// The claims of the person behind `token`: an access token of Clavis about a person, with
/// `openid`, unexpired, unrevoked, its client enabled and the person enabled.
pub async fn userinfo(
    db: &Db,
    keys: &KeyRing,
    issuer: &str,
    token: &str,
) -> SvcResult<Result<UserInfo, Refusal>> {
    let Some(t) = access::verify_any_audience(keys, token, issuer) else {
        return Ok(Err(Refusal::InvalidToken));
    };
    if !t.sub.starts_with("p_") || super::introspect::is_revoked(db, &t.jti).await? {
        return Ok(Err(Refusal::InvalidToken));
    }
    match clients::get(db, &t.client_id).await {
        Ok(c) if c.enabled => {}
        Ok(_) | Err(crate::infra::SvcError::App(_)) => return Ok(Err(Refusal::InvalidToken)),
        Err(e) => return Err(e),
    }
    let row = sqlx::query("SELECT id FROM people WHERE subject = $1 AND disabled = 0")
        .bind(t.sub.clone())
        .fetch_optional(&db.pool)
        .await?;
    let Some(r) = row else {
        return Ok(Err(Refusal::InvalidToken));
    };
    if !t.scopes.iter().any(|s| s == "openid") {
        return Ok(Err(Refusal::InsufficientScope));
    }
    let scope = t.scopes.join(" ");
    let person = super::person_token::person_claims(db, r.try_get("id")?, &scope).await?;
    Ok(person
        .map(|p| UserInfo {
            sub: p.subject,
            claims: p.claims,
        })
        .ok_or(Refusal::InvalidToken))
}

/// The client (`aud`) and the person (`sub`) of an ID token Clavis signed (RS256, by a
/// published key), expired or not: RP-initiated logout accepts an expired `id_token_hint`.
/// `None` if it is not one.
pub fn id_token_hint(keys: &KeyRing, token: &str, issuer: &str) -> Option<(String, String)> {
    if token.len() > 8 * 1024 {
        return None;
    }
    let meta = Token::decode_metadata(token).ok()?;
    if meta.algorithm() != super::id_keys::RS256 {
        return None;
    }
    let kid = meta.key_id()?;
    let ring = keys.id_public_keys();
    let (_, public) = ring.iter().find(|(k, _)| k == kid)?;
    super::id_keys::verify_hint(public, token, issuer)
}
