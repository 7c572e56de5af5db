//! Token introspection (RFC 7662) and revocation (RFC 7009) for Clavis's access tokens, and
//! the list of revoked tokens that both read.
//!
//! - Introspection: the caller is an authorizer's client (`clavis:introspect`). A token is
//!   active when its signature, issuer and expiry hold, its `aud` holds the authorizer's
//!   audience, its client still exists and is enabled and still holds one of its scopes, and
//!   it was not revoked. Anything else is only `{"active": false}`: the answer never says why.
//! - Revocation: a confidential client revokes its own tokens. The answer is the same whether
//!   the token was its own, another client's, unknown or malformed; only its own are listed.
//!
//! Revoked tokens are remembered by `jti` until their `exp` in the database, so that a
//! revocation is seen by the next check on every replica; `prune` forgets them afterwards.

use serde::Serialize;

use super::access::{self, VerifiedToken};
use super::token::{authenticate, TokenContext};
use super::{TokenError, TokenRequest};
use crate::audit::service::{self as audit, Event};
use crate::clients::service as clients;
use crate::infra::db::{now_ms, Db};
use crate::infra::{RequestMeta, SvcResult};
use crate::usage::UseKind;

pub use super::access::INTROSPECT_SCOPE;

/// An introspection answer (RFC 7662 §2.2). Inactive tokens carry nothing but `active`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub token: Option<ActiveToken>,
}

/// What introspection says about an active token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveToken {
    pub scope: String,
    pub client_id: String,
    pub sub: String,
    /// One audience as a string, several as an array (as in the token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    pub iss: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub token_type: &'static str,
}

impl Introspection {
    pub fn inactive() -> Self {
        Introspection {
            active: false,
            token: None,
        }
    }
}

/// Whether the token with this `jti` was revoked.
pub async fn is_revoked(db: &Db, jti: &str) -> SvcResult<bool> {
    let row = sqlx::query("SELECT 1 AS one FROM revoked_tokens WHERE jti = $1")
        .bind(jti)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

/// The scopes of a verified token that still count: none when it was revoked or its client is
/// gone or disabled; otherwise those of its scopes the client still holds (a scope taken away
/// stops counting at once, as at the admin API).
pub async fn still_good(db: &Db, token: &VerifiedToken) -> SvcResult<Vec<String>> {
    if is_revoked(db, &token.jti).await? {
        return Ok(Vec::new());
    }
    let client = match clients::get(db, &token.client_id).await {
        Ok(c) if c.enabled => c,
        Ok(_) | Err(crate::infra::SvcError::App(crate::error::AppError::NotFound(_))) => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(e),
    };
    // A person's token (an app's) holds the scopes the person granted, which are no client's.
    let personal = client.client_type != crate::clients::kind::ClientType::ClientCredentials;
    Ok(token
        .scopes
        .iter()
        .filter(|s| {
            client.scopes.contains(s)
                || (personal && super::authorize::PERSON_SCOPES.contains(&s.as_str()))
        })
        .cloned()
        .collect())
}

/// `POST /oauth2/introspect`: authenticates the caller, an authorizer's client, and describes
/// `token` if it is good and meant for the authorizer's API (its `aud` holds the authorizer's
/// audience). Every other token is inactive to it: an authorizer learns nothing about tokens
/// for other APIs, the admin API's included.
pub async fn introspect(
    cx: &TokenContext<'_>,
    caller: &TokenRequest,
    token: &str,
    ip: &str,
) -> Result<Introspection, TokenError> {
    let verified = authenticate(cx, caller, ip).await?;
    if !verified.scopes.iter().any(|s| s == INTROSPECT_SCOPE) {
        return Err(TokenError::NotIntrospector);
    }
    let audience = match crate::authorizers::service::for_client(cx.db, &verified.client_id).await {
        // Never the admin API's own audience (refused when saved; this covers one saved before,
        // or an issuer changed since): its tokens are Clavis's to check.
        Ok(Some(a))
            if a.audience.trim_end_matches('/') != access::api_audience(&cx.settings.issuer) =>
        {
            a.audience
        }
        Ok(_) => return Err(TokenError::NotIntrospector),
        Err(e) => {
            tracing::error!(error = %e, "introspection: could not read the caller's authorizer");
            return Err(TokenError::Server);
        }
    };
    let (secret, now) = (Some(verified.secret_id), cx.db.now());
    cx.usage
        .count(&verified.client_id, UseKind::Introspection, secret, now);
    if !token.contains('.') {
        return refresh_introspection(cx, token, &audience).await;
    }
    let Some(t) = access::verify(cx.keys, token, &cx.settings.issuer, &audience) else {
        return Ok(Introspection::inactive());
    };
    let scopes = match still_good(cx.db, &t).await {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => return Ok(Introspection::inactive()),
        Err(e) => {
            tracing::error!(error = %e, "introspection: could not read the token's state");
            return Err(TokenError::Server);
        }
    };
    let aud = match t.aud.as_slice() {
        [] => None,
        [one] => Some(serde_json::Value::from(one.as_str())),
        many => Some(serde_json::Value::from(many.to_vec())),
    };
    Ok(Introspection {
        active: true,
        token: Some(ActiveToken {
            scope: scopes.join(" "),
            client_id: t.client_id,
            sub: t.sub,
            aud,
            iss: cx.settings.issuer.clone(),
            exp: t.exp,
            iat: t.iat,
            jti: t.jti,
            token_type: "Bearer",
        }),
    })
}

/// Introspection of a refresh token (no dots: not a JWS): active while it can be used, and
/// only for an authorizer whose audience is the one its client's access tokens are for.
async fn refresh_introspection(
    cx: &TokenContext<'_>,
    token: &str,
    audience: &str,
) -> Result<Introspection, TokenError> {
    let failed = |e: crate::infra::SvcError| {
        tracing::error!(error = %e, "introspection: could not read a refresh token");
        TokenError::Server
    };
    let Some(r) = super::refresh::live_refresh(cx.db, token)
        .await
        .map_err(failed)?
    else {
        return Ok(Introspection::inactive());
    };
    let client = match clients::get(cx.db, &r.client_id).await {
        Ok(c) if c.enabled => c,
        _ => return Ok(Introspection::inactive()),
    };
    let own = client
        .audience
        .as_deref()
        .or(cx.settings.access_token_audience.as_deref());
    if own != Some(audience) {
        return Ok(Introspection::inactive());
    }
    Ok(Introspection {
        active: true,
        token: Some(ActiveToken {
            scope: r.scope,
            client_id: r.client_id,
            sub: r.subject,
            aud: None,
            iss: cx.settings.issuer.clone(),
            exp: r.expires_at / 1000,
            iat: r.created_at / 1000,
            jti: r.family,
            token_type: "refresh_token",
        }),
    })
}

/// `POST /oauth2/revoke`: authenticates the caller and, if `token` is one of its own unexpired
/// access tokens, lists it as revoked (audited as `token.revoked`, without the token); if it
/// is one of its refresh tokens, revokes that token's whole grant. Every other token changes
/// nothing, with the same answer.
pub async fn revoke(
    cx: &TokenContext<'_>,
    caller: &TokenRequest,
    token: &str,
    meta: &RequestMeta,
) -> Result<(), TokenError> {
    let ip = meta.ip.clone().unwrap_or_default();
    // A public client revokes with its client_id alone (`none`), as it signs in with it.
    let caller_id = if !caller.client_secret.is_empty() {
        authenticate(cx, caller, &ip).await?.client_id
    } else {
        super::person_token::authenticate_app(cx, caller, &ip)
            .await?
            .client_id
    };
    if !token.contains('.') {
        let failed = |e: crate::infra::SvcError| {
            tracing::error!(error = %e, "revocation: could not revoke a refresh token");
            TokenError::Server
        };
        let live = super::refresh::live_refresh(cx.db, token)
            .await
            .map_err(failed)?;
        if let Some(r) = live.filter(|r| r.client_id == caller_id) {
            super::grant::revoke_by_client(cx.db, meta, &r.family, &r.client_id)
                .await
                .map_err(failed)?;
        }
        return Ok(());
    }
    let Some(t) = access::verify_any_audience(cx.keys, token, &cx.settings.issuer) else {
        return Ok(());
    };
    if t.client_id != caller_id {
        return Ok(());
    }
    list_revoked(cx.db, &t.jti, &t.client_id, t.exp * 1000, meta)
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(error = %e, "revocation: could not record it");
            TokenError::Server
        })
}

/// Lists the token `jti` of `client_id` as revoked until `expires_at` (unix ms), audited as
/// `token.revoked` (without the token). False when it was listed already: nothing changes.
pub async fn list_revoked(
    db: &Db,
    jti: &str,
    client_id: &str,
    expires_at: i64,
    meta: &RequestMeta,
) -> SvcResult<bool> {
    db.write_locking(|conn| {
        let (jti, client_id, meta) = (jti.to_string(), client_id.to_string(), meta.clone());
        Box::pin(async move {
            let inserted = sqlx::query(
                "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING",
            )
            .bind(&jti)
            .bind(&client_id)
            .bind(expires_at)
            .bind(now_ms())
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if inserted == 1 {
                let actor = format!("client:{client_id}");
                audit::record(
                    conn,
                    &meta,
                    Event {
                        actor: &actor,
                        action: "token.revoked",
                        target: Some(&client_id),
                        detail: Some("an access token, by its client".into()),
                    },
                )
                .await?;
            }
            Ok(inserted == 1)
        })
    })
    .await
}

/// Forgets revoked tokens past their expiry and the clock skew that checks allow: they fail
/// every check by their `exp` by then.
pub async fn prune(db: &Db, now: i64) -> SvcResult<u64> {
    let done = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .bind(now - access::LEEWAY_MS)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
