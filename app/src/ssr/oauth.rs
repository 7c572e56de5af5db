//! The OAuth side of Clavis: signing keys (kept in the database so that every replica signs
//! with the same key), access tokens for the client-credentials grant, and the guards of the
//! token endpoint (failure limits, aggregated audit of failures).
//!
//! The token endpoint itself (`server::token`) is a thin axum handler: it parses the request
//! and calls `issue`, which holds the rules of RFC 6749 §4.4 and §5.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::Signer;
use futures::FutureExt;
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;

use super::audit::{self, Event};
use super::clients::split_list;
use super::secrets::{self, Verified};
use super::{now_ms, Db, RequestMeta, SvcError, SvcResult};
use crate::clients::kind::ClientType;

/// The signature algorithm of every access token: Ed25519.
pub const ALG: &str = "EdDSA";

/// A private signing key in memory, parsed once. Never serialized, never printed.
pub struct ActiveKey {
    pub kid: String,
    signing: ed25519_dalek::SigningKey,
    /// The JWS header (`{"alg":"EdDSA","typ":"at+jwt","kid":…}`), base64url-encoded once.
    header_b64: String,
}

impl ActiveKey {
    fn new(kid: String, signing: ed25519_dalek::SigningKey) -> Self {
        let header = serde_json::json!({ "alg": ALG, "typ": "at+jwt", "kid": kid });
        let header_b64 = URL_SAFE_NO_PAD.encode(header.to_string());
        ActiveKey {
            kid,
            signing,
            header_b64,
        }
    }

    /// A JWS in compact serialization (RFC 7515 §7.1) over `claims`, signed with Ed25519
    /// (RFC 8037): `header.payload.signature`, each part base64url without padding.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, serde_json::Error> {
        let payload = serde_json::to_vec(claims)?;
        let mut jws = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 100);
        jws.push_str(&self.header_b64);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jws);
        let signature = self.signing.sign(jws.as_bytes());
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut jws);
        Ok(jws)
    }
}

impl std::fmt::Debug for ActiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The newest signing key, read from the database at start and again every few seconds, so
/// that a key added by `clavis keys rotate` on any machine is picked up.
#[derive(Debug, Default)]
pub struct KeyRing {
    active: RwLock<Option<Arc<ActiveKey>>>,
}

fn new_kid() -> String {
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// Generates an Ed25519 key and stores it as the newest signing key.
async fn insert_key(conn: &mut sqlx::AnyConnection, now: i64) -> SvcResult<String> {
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let der = key
        .to_pkcs8_der()
        .map_err(|e| SvcError::Internal(format!("encoding a new signing key: {e}")))?;
    let public_x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    let kid = new_kid();
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_pkcs8, public_x, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(kid.clone())
    .bind(ALG)
    .bind(URL_SAFE_NO_PAD.encode(der.as_bytes()))
    .bind(public_x)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(kid)
}

/// Makes sure a signing key exists (first start). Safe when several replicas start at once.
pub async fn ensure_signing_key(db: &Db) -> SvcResult<()> {
    db.write(|conn| {
        async move {
            let any = sqlx::query("SELECT kid FROM signing_keys WHERE retired_at IS NULL")
                .fetch_optional(&mut *conn)
                .await?;
            if any.is_none() {
                insert_key(conn, now_ms()).await?;
            }
            Ok(())
        }
        .boxed()
    })
    .await
}

/// Adds a new signing key and retires the others: new tokens carry the new `kid`, and the old
/// keys stay in the JWKS until every token they signed has expired. Returns the new `kid`.
pub async fn rotate_signing_key(db: &Db, meta: &RequestMeta, actor: &str) -> SvcResult<String> {
    db.write(|conn| {
        let (meta, actor) = (meta.clone(), actor.to_string());
        async move {
            let now = now_ms();
            sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
                .bind(now)
                .execute(&mut *conn)
                .await?;
            let kid = insert_key(conn, now).await?;
            let ev = Event {
                actor: &actor,
                action: "signing_key.rotated",
                target: Some(&kid),
                detail: None,
            };
            audit::record(conn, &meta, ev).await?;
            Ok(kid)
        }
        .boxed()
    })
    .await
}

impl KeyRing {
    /// Reads the newest signing key if it changed.
    pub async fn reload(&self, db: &Db) -> SvcResult<()> {
        let row = sqlx::query(
            "SELECT kid, private_pkcs8 FROM signing_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| SvcError::Internal("no signing key in the database".into()))?;
        let kid: String = row.try_get("kid")?;
        if self.current().is_some_and(|k| k.kid == kid) {
            return Ok(());
        }
        let der = URL_SAFE_NO_PAD
            .decode(row.try_get::<String, _>("private_pkcs8")?)
            .map_err(|_| SvcError::Internal(format!("signing key {kid} is not readable")))?;
        let signing = ed25519_dalek::SigningKey::from_pkcs8_der(&der)
            .map_err(|_| SvcError::Internal(format!("signing key {kid} is not an Ed25519 key")))?;
        let key = ActiveKey::new(kid, signing);
        if let Ok(mut slot) = self.active.write() {
            *slot = Some(Arc::new(key));
        }
        Ok(())
    }

    pub fn current(&self) -> Option<Arc<ActiveKey>> {
        self.active.read().ok().and_then(|k| k.clone())
    }
}

/// The public keys that verify tokens still in use: the active key and every key retired less
/// than `token_ttl_secs` ago.
pub async fn jwks(db: &Db, token_ttl_secs: i64) -> SvcResult<serde_json::Value> {
    let since = now_ms() - token_ttl_secs * 1000;
    let rows = sqlx::query(
        "SELECT kid, alg, public_x FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1 ORDER BY id DESC",
    )
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let keys = rows
        .iter()
        .map(|r| {
            Ok(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "use": "sig",
                "alg": r.try_get::<String, _>("alg")?,
                "kid": r.try_get::<String, _>("kid")?,
                "x": r.try_get::<String, _>("public_x")?,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(serde_json::json!({ "keys": keys }))
}

/// What the token endpoint needs from the configuration.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: Option<String>,
    pub ttl_secs: i64,
    pub max_failures_per_client: u32,
    pub max_failures_per_ip: u32,
    pub failure_window_secs: i64,
}

/// The errors of RFC 6749 §5.2, plus throttling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(&'static str),
    /// An `invalid_request` refused before it is read: 413.
    TooLarge,
    /// An `invalid_request` with another method than POST: 405.
    MethodNotAllowed,
    /// Client authentication failed. One answer for every cause.
    InvalidClient {
        basic: bool,
    },
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    Throttled {
        retry_after_secs: u64,
    },
    Server,
}

impl TokenError {
    pub fn status(&self) -> u16 {
        match self {
            TokenError::InvalidClient { .. } => 401,
            TokenError::MethodNotAllowed => 405,
            TokenError::TooLarge => 413,
            TokenError::Throttled { .. } => 429,
            TokenError::Server => 500,
            _ => 400,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) | TokenError::TooLarge | TokenError::MethodNotAllowed => {
                "invalid_request"
            }
            TokenError::InvalidClient { .. } => "invalid_client",
            TokenError::UnauthorizedClient => "unauthorized_client",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::InvalidScope => "invalid_scope",
            TokenError::Throttled { .. } => "temporarily_unavailable",
            TokenError::Server => "server_error",
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(why) => why,
            TokenError::TooLarge => "The request body is too large.",
            TokenError::MethodNotAllowed => "The token endpoint accepts POST only.",
            TokenError::InvalidClient { .. } => "Client authentication failed.",
            TokenError::UnauthorizedClient => {
                "This client may not use the client_credentials grant."
            }
            TokenError::UnsupportedGrantType => "Only the client_credentials grant is supported.",
            TokenError::InvalidScope => "The requested scope is not allowed for this client.",
            TokenError::Throttled { .. } => "Too many failed client authentications. Retry later.",
            TokenError::Server => "The server could not issue a token. Retry later.",
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    iat: i64,
    exp: i64,
    jti: String,
    scope: &'a str,
}

/// Counts failed client authentications per client id and per IP in fixed windows, and says
/// for how long a key is blocked. Per process: with several replicas each counts its own share.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// Above this many keys the oldest windows are dropped, so that an attacker sending random ids
/// cannot grow memory without bound.
const LIMITER_MAX_KEYS: usize = 100_000;

impl FailureLimiter {
    /// Seconds until `key` may try again, if it used up `max` failures in the current window.
    pub fn blocked(&self, key: &str, max: u32, window_ms: i64, now: i64) -> Option<u64> {
        if max == 0 {
            return None;
        }
        let w = self.windows.lock().ok()?;
        let (start, n) = *w.get(key)?;
        (n >= max && now < start + window_ms)
            .then(|| ((start + window_ms - now + 999) / 1000).max(1) as u64)
    }

    pub fn fail(&self, key: &str, window_ms: i64, now: i64) {
        if let Ok(mut w) = self.windows.lock() {
            if w.len() >= LIMITER_MAX_KEYS {
                w.retain(|_, (start, _)| now < *start + window_ms);
            }
            let e = w.entry(key.to_string()).or_insert((now, 0));
            if now >= e.0 + window_ms {
                *e = (now, 0);
            }
            e.1 = e.1.saturating_add(1);
        }
    }
}

/// Failed client authentications waiting to be written to the audit log as one row per client
/// id and flush, not one per request.
#[derive(Debug, Default)]
pub struct FailureLog {
    pending: Mutex<HashMap<String, (u64, String)>>,
}

const FAILURE_LOG_MAX_KEYS: usize = 1_000;
/// The audit target for failures beyond `FAILURE_LOG_MAX_KEYS` distinct ids in one flush.
const OTHER_CLIENTS: &str = "(other client ids)";

impl FailureLog {
    pub fn add(&self, client_id: &str, ip: &str) {
        if let Ok(mut p) = self.pending.lock() {
            let key = if p.len() < FAILURE_LOG_MAX_KEYS || p.contains_key(client_id) {
                client_id
            } else {
                OTHER_CLIENTS
            };
            let e = p
                .entry(key.chars().take(64).collect())
                .or_insert((0, String::new()));
            e.0 += 1;
            e.1 = ip.to_string();
        }
    }

    /// Writes one audit row per client id with the number of failures. Returns the rows.
    pub async fn flush(&self, db: &Db) -> SvcResult<usize> {
        let batch: Vec<(String, (u64, String))> = match self.pending.lock() {
            Ok(mut p) => p.drain().collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        db.write(|conn| {
            let batch = batch.clone();
            async move {
                for (client_id, (count, ip)) in batch {
                    let meta = RequestMeta {
                        ip: Some(ip),
                        request_id: None,
                    };
                    let detail = Some(format!(
                        "{count} failed client authentication{} at the token endpoint",
                        if count == 1 { "" } else { "s" }
                    ));
                    let ev = Event {
                        actor: "token endpoint",
                        action: "token.auth_failed",
                        target: Some(&client_id),
                        detail,
                    };
                    audit::record(conn, &meta, ev).await?;
                }
                Ok(())
            }
            .boxed()
        })
        .await?;
        Ok(n)
    }
}

/// A parsed token request, as the handler hands it over.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub client_id: String,
    /// CAUTION: the presented secret. Never logged, never stored.
    pub client_secret: String,
    pub basic: bool,
    pub scope: Option<String>,
}

/// The state the token endpoint uses.
pub struct TokenContext<'a> {
    pub db: &'a Db,
    pub policy: &'a TokenPolicy,
    pub keys: &'a KeyRing,
    pub limiter: &'a FailureLimiter,
    pub failures: &'a FailureLog,
    pub usage: &'a secrets::UsageRecorder,
}

/// Authenticates the client and issues an access token (client-credentials grant). The caller
/// has checked the method, the content type, the grant type and duplicate parameters.
pub async fn issue(
    cx: &TokenContext<'_>,
    req: &TokenRequest,
    ip: &str,
) -> Result<TokenResponse, TokenError> {
    let now = now_ms();
    let p = cx.policy;
    let window = p.failure_window_secs * 1000;
    let ip_key = format!("ip:{ip}");
    let client_key = format!("client:{}", req.client_id);
    if let Some(secs) = cx
        .limiter
        .blocked(&client_key, p.max_failures_per_client, window, now)
        .or_else(|| {
            cx.limiter
                .blocked(&ip_key, p.max_failures_per_ip, window, now)
        })
    {
        return Err(TokenError::Throttled {
            retry_after_secs: secs,
        });
    }
    let verified = match secrets::verify(cx.db, &req.client_id, &req.client_secret, now).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            cx.limiter.fail(&client_key, window, now);
            cx.limiter.fail(&ip_key, window, now);
            cx.failures.add(&req.client_id, ip);
            return Err(TokenError::InvalidClient { basic: req.basic });
        }
        Err(e) => {
            tracing::error!(error = %e, "token endpoint: verification failed");
            return Err(TokenError::Server);
        }
    };
    cx.usage.record(verified.secret_id, now);
    if verified.client_type != ClientType::ClientCredentials {
        return Err(TokenError::UnauthorizedClient);
    }
    let scope = granted_scope(&verified, req.scope.as_deref())?;
    let key = cx.keys.current().ok_or(TokenError::Server)?;
    let iat = now / 1000;
    let mut jti = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut jti);
    let claims = Claims {
        iss: &p.issuer,
        sub: &verified.client_id,
        client_id: &verified.client_id,
        aud: verified.audience.as_deref().or(p.audience.as_deref()),
        iat,
        exp: iat + p.ttl_secs,
        jti: URL_SAFE_NO_PAD.encode(jti),
        scope: &scope,
    };
    let access_token = key.sign(&claims).map_err(|e| {
        tracing::error!(error = %e, "token endpoint: signing failed");
        TokenError::Server
    })?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: p.ttl_secs,
        scope,
    })
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

impl From<&super::Settings> for TokenPolicy {
    fn from(s: &super::Settings) -> Self {
        TokenPolicy {
            issuer: s.issuer.clone(),
            audience: s.access_token_audience.clone(),
            ttl_secs: s.access_token_ttl_secs,
            max_failures_per_client: s.token_max_failures_per_client,
            max_failures_per_ip: s.token_max_failures_per_ip,
            failure_window_secs: s.token_failure_window_secs,
        }
    }
}

/// Every scope some client-credentials client may request, for the metadata document.
pub async fn known_scopes(db: &Db) -> SvcResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT scopes FROM clients WHERE client_type = 'client_credentials' AND scopes <> ''",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut all = std::collections::BTreeSet::new();
    for r in &rows {
        let s: String = r.try_get("scopes")?;
        all.extend(split_list(&s, ' '));
    }
    Ok(all.into_iter().collect())
}

/// How long the metadata document's `scopes_supported` is reused before it is read again.
pub const SCOPES_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// `scopes_supported` for the public metadata document. Reading it scans every
/// client-credentials client, so it is read at most once per `SCOPES_TTL`: requests that arrive
/// while it is being read wait for that one read instead of starting their own.
#[derive(Debug, Default)]
pub struct ScopesCache {
    cached: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Vec<String>>)>>,
}

impl ScopesCache {
    pub async fn get(&self, db: &Db) -> SvcResult<Arc<Vec<String>>> {
        let mut cached = self.cached.lock().await;
        if let Some((at, scopes)) = cached.as_ref() {
            if at.elapsed() < SCOPES_TTL {
                return Ok(scopes.clone());
            }
        }
        let scopes = Arc::new(known_scopes(db).await?);
        *cached = Some((std::time::Instant::now(), scopes.clone()));
        Ok(scopes)
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

    #[test]
    fn the_limiter_blocks_after_the_limit_until_the_window_ends() {
        let l = FailureLimiter::default();
        let (max, window) = (3, 60_000);
        for i in 0..3 {
            assert_eq!(l.blocked("k", max, window, 1_000 + i), None);
            l.fail("k", window, 1_000 + i);
        }
        assert_eq!(l.blocked("k", max, window, 2_000), Some(59));
        assert_eq!(l.blocked("other", max, window, 2_000), None);
        assert_eq!(l.blocked("k", 0, window, 2_000), None, "0 means no limit");
        assert_eq!(l.blocked("k", max, window, 61_000), None, "a new window");
        l.fail("k", window, 61_000);
        assert_eq!(l.blocked("k", max, window, 61_001), None);
    }

    #[test]
    fn errors_follow_rfc_6749() {
        assert_eq!(TokenError::InvalidClient { basic: true }.status(), 401);
        assert_eq!(
            TokenError::InvalidClient { basic: false }.code(),
            "invalid_client"
        );
        assert_eq!(TokenError::UnsupportedGrantType.status(), 400);
        assert_eq!(TokenError::InvalidScope.code(), "invalid_scope");
        assert_eq!(
            TokenError::Throttled {
                retry_after_secs: 3
            }
            .status(),
            429
        );
    }
}
