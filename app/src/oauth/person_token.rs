//! The token endpoint for apps that people sign in to: the authorization-code grant with PKCE
//! (RFC 6749 §4.1.3, RFC 7636 §4.6) and the refresh-token grant (RFC 6749 §6), each answering
//! with an access token, a new refresh token when the grant has `offline_access`, and, for
//! `openid`, an ID token (OpenID Connect Core §3.1.3.3). The stored side (codes, refresh
//! tokens, families) is `grant`.
//!
//! Client authentication: a confidential PKCE client with its secret (the current one or a
//! rotated one still valid, as at every endpoint, so a rotation or a revocation takes effect
//! here at once); a public client with its `client_id` alone (`none`). A client credentials
//! client has no use for these grants.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::grant::{self, Granted, Issue};
use super::id_keys::IdTokenClaims;
use super::refresh;
use super::token::{authenticate, new_jti, Audience, Claims, TokenContext};
use super::{Grant, TokenError, TokenRequest, TokenResponse};
use crate::clients::kind::ClientType;
use crate::clients::service as clients;
use crate::infra::db::now_ms;
use crate::infra::RequestMeta;
use crate::usage::UseKind;

/// The client of a code or refresh request, authenticated as its type requires.
pub(super) struct AppClient {
    pub(super) client_id: String,
    audience: Option<String>,
    /// The secret it presented (confidential clients).
    secret_id: Option<i64>,
}

pub(super) async fn authenticate_app(
    cx: &TokenContext<'_>,
    req: &TokenRequest,
    ip: &str,
) -> Result<AppClient, TokenError> {
    // A client that sends a secret authenticates with it. An empty one (Basic `client_id:`,
    // as some libraries send for a public client) counts as none.
    if !req.client_secret.is_empty() {
        let v = authenticate(cx, req, ip).await?;
        return match v.client_type {
            ClientType::ConfidentialPkce => Ok(AppClient {
                client_id: v.client_id,
                audience: v.audience,
                secret_id: Some(v.secret_id),
            }),
            _ => Err(TokenError::UnauthorizedClient),
        };
    }
    // No secret: only a public client may ask so (token_endpoint_auth_method `none`). A
    // confidential client without its secret fails authentication like a wrong secret.
    match clients::get(cx.db, &req.client_id).await {
        Ok(c) if c.enabled && c.client_type == ClientType::PublicPkce => Ok(AppClient {
            client_id: c.client_id,
            audience: c.audience,
            secret_id: None,
        }),
        Ok(_) | Err(crate::infra::SvcError::App(_)) => authenticate(cx, req, ip)
            .await
            .and(Err(TokenError::InvalidClient { basic: req.basic })),
        Err(e) => {
            tracing::error!(error = %e, "token endpoint: could not read the client");
            Err(TokenError::Server)
        }
    }
}

/// The claims of an ID token (OpenID Connect Core §2, §5.1) besides the registered ones
/// (`id_keys::IdTokenClaims`).
#[derive(Serialize)]
struct IdExtra<'a> {
    azp: &'a str,
    auth_time: i64,
    at_hash: String,
    #[serde(flatten)]
    person: PersonClaims,
}

/// The claims about the person that the granted scopes allow: in the ID token and at the
/// userinfo endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Clavis does not check addresses: always false when `email` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// A person as the claims need them.
pub struct Person {
    pub subject: String,
    pub claims: PersonClaims,
}

/// The person `person_id` with the claims `scope` grants.
pub async fn person_claims(
    db: &crate::infra::db::Db,
    person_id: i64,
    scope: &str,
) -> crate::infra::SvcResult<Option<Person>> {
    let row =
        sqlx::query("SELECT subject, username, display_name, email FROM people WHERE id = $1")
            .bind(person_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some(r) = row else { return Ok(None) };
    let has = |s: &str| scope.split(' ').any(|x| x == s);
    let mut claims = PersonClaims::default();
    if has("profile") {
        claims.name = Some(r.try_get("display_name")?);
        claims.preferred_username = Some(r.try_get("username")?);
    }
    if has("email") {
        let email: String = r.try_get("email")?;
        if !email.is_empty() {
            claims.email = Some(email);
            claims.email_verified = Some(false);
        }
    }
    Ok(Some(Person {
        subject: r.try_get("subject")?,
        claims,
    }))
}

/// `at_hash` for an RS256 ID token: the left half of the access token's SHA-256, base64url
/// (OpenID Connect Core §3.1.3.6).
fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn fresh_issue(cx: &TokenContext<'_>) -> Issue {
    Issue {
        refresh_token: grant::random_token(),
        access_jti: new_jti(),
        access_expires_at: now_ms() + cx.settings.access_token_ttl_secs * 1000,
    }
}

/// The grants of this module: `authorization_code` and `refresh_token`.
pub async fn issue(
    cx: &TokenContext<'_>,
    req: &TokenRequest,
    meta: &RequestMeta,
) -> Result<TokenResponse, TokenError> {
    let ip = meta.ip.clone().unwrap_or_default();
    let client = authenticate_app(cx, req, &ip).await?;
    let issue = fresh_issue(cx);
    let outcome = match &req.grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            grant::redeem_code(
                cx.db,
                meta,
                &client.client_id,
                code,
                redirect_uri,
                code_verifier,
                &issue,
            )
            .await
        }
        Grant::RefreshToken { refresh_token } => {
            // A narrower scope that is not a subset is refused before the token rotates: the
            // client keeps a token it can use.
            let live = refresh::live_refresh(cx.db, refresh_token).await;
            if let Ok(Some(live)) = &live {
                narrowed_scope(&live.scope, req)?;
            }
            let reuse_ms = cx.settings.refresh_token_reuse_interval_secs * 1000;
            let rotate = refresh::rotate_refresh(
                cx.db,
                meta,
                &client.client_id,
                refresh_token,
                &issue,
                reuse_ms,
            );
            rotate.await
        }
        Grant::ClientCredentials => return Err(TokenError::UnsupportedGrantType),
    };
    let granted = match outcome {
        Ok(Ok(g)) => g,
        Ok(Err(why)) => return Err(TokenError::InvalidGrant(why)),
        Err(e) => {
            tracing::error!(error = %e, "token endpoint: could not store the grant");
            return Err(TokenError::Server);
        }
    };
    let scope = narrowed_scope(&granted.scope, req)?;
    let answered = answer(cx, &client, &granted, scope, issue).await?;
    let kind = match req.grant {
        Grant::RefreshToken { .. } => UseKind::RefreshToken,
        _ => UseKind::AuthorizationCode,
    };
    cx.usage
        .count(&client.client_id, kind, client.secret_id, cx.db.now());
    Ok(answered)
}

/// The scope of the new access token: the grant's, or for a refresh a subset of it that the
/// request names (RFC 6749 §6).
fn narrowed_scope(granted: &str, req: &TokenRequest) -> Result<String, TokenError> {
    let Some(asked) = req.scope.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Ok(granted.to_string());
    };
    if !matches!(req.grant, Grant::RefreshToken { .. }) {
        return Ok(granted.to_string());
    }
    let have: Vec<&str> = granted.split(' ').collect();
    let mut out: Vec<&str> = Vec::new();
    for s in asked.split(' ').filter(|s| !s.is_empty()) {
        if !have.contains(&s) {
            return Err(TokenError::InvalidScope);
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

async fn answer(
    cx: &TokenContext<'_>,
    client: &AppClient,
    granted: &Granted,
    scope: String,
    issue: Issue,
) -> Result<TokenResponse, TokenError> {
    let p = cx.settings;
    let person = match person_claims(cx.db, granted.person_id, &scope).await {
        Ok(Some(person)) => person,
        Ok(None) => return Err(TokenError::InvalidGrant("The person is gone.")),
        Err(e) => {
            tracing::error!(error = %e, "token endpoint: could not read the person");
            return Err(TokenError::Server);
        }
    };
    let key = cx.keys.current().ok_or(TokenError::Server)?;
    let iat = now_ms() / 1000;
    let exp = issue.access_expires_at / 1000;
    let own = client
        .audience
        .as_deref()
        .or(p.access_token_audience.as_deref());
    let claims = Claims {
        iss: &p.issuer,
        sub: &person.subject,
        client_id: &client.client_id,
        aud: own.map(Audience::One),
        iat,
        exp,
        jti: issue.access_jti.clone(),
        scope: &scope,
        clavis_secret: None,
    };
    let signing_failed = |e: serde_json::Error| {
        tracing::error!(error = %e, "token endpoint: signing failed");
        TokenError::Server
    };
    let access_token = key.sign(&claims).map_err(signing_failed)?;
    let id_token = if scope.split(' ').any(|s| s == "openid") {
        let id_key = cx.keys.id_key().ok_or(TokenError::Server)?;
        let registered = IdTokenClaims {
            iss: &p.issuer,
            sub: &person.subject,
            aud: &client.client_id,
            iat: iat.max(0) as u64,
            exp: exp.max(0) as u64,
            nonce: granted.nonce.as_deref(),
        };
        let extra = IdExtra {
            azp: &client.client_id,
            auth_time: granted.auth_time / 1000,
            at_hash: at_hash(&access_token),
            person: person.claims,
        };
        Some(id_key.sign(&registered, extra).map_err(|e| {
            tracing::error!(error = %e, "token endpoint: signing an ID token failed");
            TokenError::Server
        })?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: exp - iat,
        scope,
        // The grant's scope, not the narrowed one: a refresh that leaves offline_access out
        // of its access token still rotates the grant's refresh token.
        refresh_token: granted.offline().then_some(issue.refresh_token),
        id_token,
    })
}
