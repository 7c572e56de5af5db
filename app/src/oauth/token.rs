//! Issuing an access token for the client-credentials grant (RFC 6749 §4.4): the failure
//! limits, the client's secret (`secrets::verify`), the client type, the scope, and the signed
//! JWT (RFC 9068).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Serialize;

use super::keys::KeyRing;
use super::limits::{FailureLimiter, FailureLog};
use super::{TokenError, TokenRequest, TokenResponse};
use crate::clients::kind::ClientType;
use crate::clients::service as clients;
use crate::infra::db::{now_ms, Db};
use crate::infra::settings::Settings;
use crate::secrets::verify::{self, Verified};
use crate::usage::recorder::UsageRecorder;
use crate::usage::UseKind;

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Serialize)]
pub(super) struct Claims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience<'a>>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub scope: &'a str,
    /// The id of the secret that minted a token for Clavis's own admin API (never for another
    /// audience), so that the API refuses the token once that secret is revoked or expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clavis_secret: Option<i64>,
}

/// `aud`: one audience as a string, several as an array (RFC 7519 §4.1.3).
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Audience<'a> {
    One(&'a str),
    Many([&'a str; 2]),
}

/// The audience of a token: the client's own (or the server's default), and the admin API's
/// when the scope holds a `clavis:` scope, so that the API accepts only tokens meant for it.
fn audience<'a>(own: Option<&'a str>, scope: &str, api: &'a str) -> Option<Audience<'a>> {
    let for_api = scope.split(' ').any(super::access::is_clavis_scope);
    match (for_api, own) {
        (true, Some(own)) if own != api => Some(Audience::Many([api, own])),
        (true, _) => Some(Audience::One(api)),
        (false, own) => own.map(Audience::One),
    }
}

/// The state the token endpoint uses.
pub struct TokenContext<'a> {
    pub db: &'a Db,
    pub settings: &'a Settings,
    pub keys: &'a KeyRing,
    pub limiter: &'a FailureLimiter,
    pub failures: &'a FailureLog,
    pub usage: &'a UsageRecorder,
}

/// Authenticates a confidential client by its secret (`client_secret_basic` or
/// `client_secret_post`), under the failure limits: the one check of every endpoint where a
/// client presents its secret (token, introspection, revocation). Records the secret's use.
pub async fn authenticate(
    cx: &TokenContext<'_>,
    req: &TokenRequest,
    ip: &str,
) -> Result<Verified, TokenError> {
    // The store's clock: a secret's expiry is decided by the same time as its making.
    let now = cx.db.now();
    let p = cx.settings;
    let window = p.token_failure_window_secs * 1000;
    // Failures are counted per source: the address, and the client id from that address. A
    // correct secret is refused only when its own source is over a limit.
    let ip_key = FailureLimiter::ip_key(ip);
    let client_key = FailureLimiter::client_key(ip, &req.client_id);
    if let Some(secs) = cx
        .limiter
        .blocked(&ip_key, p.token_max_failures_per_ip, window, now)
        .or_else(|| {
            cx.limiter
                .blocked(&client_key, p.token_max_failures_per_client, window, now)
        })
    {
        return Err(TokenError::Throttled {
            retry_after_secs: secs,
        });
    }
    let verified = match verify::verify(cx.db, &req.client_id, &req.client_secret, now).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            // A public client presents no secret: it is known, but these endpoints are for
            // confidential clients (RFC 6749 §4.4).
            if req.client_secret.is_empty() && is_public_client(cx.db, &req.client_id).await {
                return Err(TokenError::UnauthorizedClient);
            }
            cx.limiter.fail(&client_key, window, now);
            cx.limiter.fail(&ip_key, window, now);
            cx.failures.add(&req.client_id, ip);
            return Err(TokenError::InvalidClient { basic: req.basic });
        }
        Err(e) => {
            tracing::error!(error = %e, "client authentication: verification failed");
            return Err(TokenError::Server);
        }
    };
    cx.usage.record(verified.secret_id, now);
    Ok(verified)
}

/// Authenticates the client and issues an access token (client-credentials grant). The caller
/// has checked the method, the content type, the grant type and duplicate parameters.
pub async fn issue(
    cx: &TokenContext<'_>,
    req: &TokenRequest,
    ip: &str,
) -> Result<TokenResponse, TokenError> {
    let now = now_ms();
    let p = cx.settings;
    let verified = authenticate(cx, req, ip).await?;
    if verified.client_type != ClientType::ClientCredentials {
        return Err(TokenError::UnauthorizedClient);
    }
    let scope = granted_scope(&verified, req.scope.as_deref())?;
    let key = cx.keys.current().ok_or(TokenError::Server)?;
    let iat = now / 1000;
    let api = super::access::api_audience(&p.issuer);
    let for_api = scope.split(' ').any(super::access::is_clavis_scope);
    // An admin API token carries the client's own audience only, never the server's default,
    // which other APIs accept.
    let own = match for_api {
        true => verified.audience.as_deref(),
        false => verified
            .audience
            .as_deref()
            .or(p.access_token_audience.as_deref()),
    };
    let claims = Claims {
        iss: &p.issuer,
        sub: &verified.client_id,
        client_id: &verified.client_id,
        aud: audience(own, &scope, &api),
        iat,
        exp: iat + p.access_token_ttl_secs,
        jti: new_jti(),
        scope: &scope,
        clavis_secret: for_api.then_some(verified.secret_id),
    };
    let access_token = key.sign(&claims).map_err(|e| {
        tracing::error!(error = %e, "token endpoint: signing failed");
        TokenError::Server
    })?;
    let secret = Some(verified.secret_id);
    cx.usage
        .count(&verified.client_id, UseKind::ClientCredentials, secret, now);
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: p.access_token_ttl_secs,
        scope,
        refresh_token: None,
        id_token: None,
    })
}

/// A fresh token id (`jti`): 128 random bits.
pub(super) fn new_jti() -> String {
    let mut jti = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut jti);
    URL_SAFE_NO_PAD.encode(jti)
}

/// True for an enabled public client: one that never has a secret.
async fn is_public_client(db: &Db, client_id: &str) -> bool {
    matches!(
        clients::get(db, client_id).await,
        Ok(c) if c.client_type == ClientType::PublicPkce && c.enabled
    )
}

/// The scope to grant: the requested one if every token of it is allowed, else `invalid_scope`;
/// all allowed scopes when none is requested.
fn granted_scope(v: &Verified, requested: Option<&str>) -> Result<String, TokenError> {
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(v.scopes.join(" ")),
        Some(req) => {
            let mut out: Vec<&str> = Vec::new();
            for s in req.split(' ').filter(|s| !s.is_empty()) {
                if !v.scopes.iter().any(|a| a == s) {
                    return Err(TokenError::InvalidScope);
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            Ok(out.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(scopes: &[&str]) -> Verified {
        Verified {
            client_id: "c".into(),
            client_type: ClientType::ClientCredentials,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            audience: None,
            secret_id: 1,
        }
    }

    #[test]
    fn a_clavis_scope_adds_the_api_audience() {
        let json = |a: Option<Audience>| serde_json::to_value(a).unwrap();
        let api = "https://id.example/api/v1";
        assert_eq!(
            json(audience(None, "reports:read", api)),
            serde_json::Value::Null
        );
        assert_eq!(
            json(audience(Some("https://r"), "reports:read", api)),
            "https://r"
        );
        assert_eq!(json(audience(None, "clavis:admin", api)), api);
        assert_eq!(
            json(audience(Some("https://r"), "x clavis:support", api)),
            serde_json::json!([api, "https://r"])
        );
        assert_eq!(json(audience(Some(api), "clavis:admin", api)), api);
    }

    #[test]
    fn scope_is_a_subset_or_everything() {
        let v = verified(&["a:read", "a:write"]);
        assert_eq!(granted_scope(&v, None), Ok("a:read a:write".into()));
        assert_eq!(granted_scope(&v, Some("  ")), Ok("a:read a:write".into()));
        assert_eq!(granted_scope(&v, Some("a:write")), Ok("a:write".into()));
        assert_eq!(
            granted_scope(&v, Some("a:write a:write a:read")),
            Ok("a:write a:read".into())
        );
        assert_eq!(
            granted_scope(&v, Some("a:read b:admin")),
            Err(TokenError::InvalidScope)
        );
        assert_eq!(
            granted_scope(&v, Some("A:READ")),
            Err(TokenError::InvalidScope)
        );
    }
}
