//! What a person's sign-in to an app grants, as stored: authorization codes and refresh tokens.
//!
//! - A code is 256 random bits, stored only as its SHA-256, lives `CODE_TTL_MS`, and is bound
//!   to the client, the redirect URI, the PKCE challenge and the nonce. It is used once: the
//!   exchange marks it, and an exchange that finds it marked is a replay, which revokes every
//!   token issued from it (`code.replayed`).
//! - A code starts a family: the refresh tokens issued from it, one after the other, and the
//!   access token issued with each. A refresh token is 256 random bits, stored as its SHA-256,
//!   and rotates on every use. A used one presented again revokes its whole family
//!   (`refresh.reuse_detected`, RFC 9700 §4.14), its access tokens included.
//!
//! Each step is one transaction, so two parallel exchanges of one code cannot both succeed:
//! the second finds the mark of the first. Refreshing is `refresh`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::FutureExt;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::authorize::AuthorizeRequest;
use crate::audit::service::{self as audit, Event};
use crate::infra::db::{now_ms, Db};
use crate::infra::settings::Settings;
use crate::infra::{RequestMeta, SvcResult};
use crate::people::session::{self, SignedIn};

/// How long a code may wait for its exchange.
pub const CODE_TTL_MS: i64 = 60_000;
/// How long a refresh token lives unused. Each rotation starts a new one.
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// How long a grant lasts from its code's exchange, however often it is refreshed: then the
/// person signs in again.
pub const GRANT_TTL_MS: i64 = 90 * 24 * 60 * 60 * 1000;

/// The scope that asks for refresh tokens (OpenID Connect Core §11). Without it an exchange
/// gives an access token and an ID token only.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// 256 random bits, base64url without padding (43 characters): a code, a refresh token, a
/// family id.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

pub(super) fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What an exchange or a refresh grants: who, for which scopes, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub family: String,
    pub person_id: i64,
    pub scope: String,
    pub nonce: Option<String>,
    /// Unix milliseconds.
    pub auth_time: i64,
    /// Unix milliseconds: when the code was exchanged.
    pub granted_at: i64,
}

impl Granted {
    /// Whether the grant gives refresh tokens.
    pub fn offline(&self) -> bool {
        self.scope.split(' ').any(|s| s == OFFLINE_ACCESS)
    }
}

/// The new refresh token and the id of the access token issued with it, chosen before the
/// transaction that stores them. `Debug` hides the token.
#[derive(Clone)]
pub struct Issue {
    pub refresh_token: String,
    pub access_jti: String,
    /// Unix milliseconds.
    pub access_expires_at: i64,
}

impl std::fmt::Debug for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issue")
            .field("access_jti", &self.access_jti)
            .finish_non_exhaustive()
    }
}

/// Stores a new code for `req`, for `person` signed in with the session `session_token`, and
/// returns it; `None` when that session no longer exists (ended by a reset, a disable or a
/// sign-out, or idle). The check and the code are one transaction (see `session::touch_live`).
pub async fn issue_code(
    db: &Db,
    settings: &Settings,
    req: &AuthorizeRequest,
    person: &SignedIn,
    session_token: &str,
) -> SvcResult<Option<String>> {
    let code = random_token();
    db.write_locking(|conn| {
        let (code, req, token) = (code.clone(), req.clone(), session_token.to_string());
        let (person_id, auth_time) = (person.person_id, person.auth_time);
        let idle = settings.person_session_idle_timeout_secs;
        async move {
            if !session::touch_live(conn, idle, &token, person_id).await? {
                return Ok(None);
            }
            let now = now_ms();
            sqlx::query(
                "INSERT INTO authorization_codes (code_hash, family, client_id, person_id, \
                 redirect_uri, code_challenge, nonce, scope, auth_time, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(hash(&code))
            .bind(random_token())
            .bind(req.client_id.clone())
            .bind(person_id)
            .bind(req.redirect_uri.clone())
            .bind(req.code_challenge.clone())
            .bind(req.nonce.clone())
            .bind(req.scopes.join(" "))
            .bind(auth_time)
            .bind(now)
            .bind(now + CODE_TTL_MS)
            .execute(&mut *conn)
            .await?;
            Ok(Some(code))
        }
        .boxed()
    })
    .await
}

/// Revokes a family: its refresh tokens, and the access tokens issued with them that have
/// not expired yet. In the caller's transaction.
pub(super) async fn revoke_family(
    conn: &mut AnyConnection,
    family: &str,
    now: i64,
) -> SvcResult<()> {
    let rows = sqlx::query(
        "SELECT client_id, access_jti, access_expires_at FROM refresh_tokens \
         WHERE family = $1 AND access_expires_at > $2 \
         UNION SELECT client_id, access_jti, access_expires_at FROM authorization_codes \
         WHERE family = $1 AND access_jti IS NOT NULL AND access_expires_at > $2",
    )
    .bind(family.to_string())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(r.try_get::<String, _>("access_jti")?)
        .bind(r.try_get::<String, _>("client_id")?)
        .bind(r.try_get::<i64, _>("access_expires_at")?)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revokes every grant of a person, and the codes not exchanged yet: they were disabled, or
/// their password was reset. In the caller's transaction.
pub async fn revoke_person(conn: &mut AnyConnection, person_id: i64, now: i64) -> SvcResult<()> {
    let families: Vec<String> = sqlx::query(
        "SELECT family FROM refresh_tokens WHERE person_id = $1 AND revoked_at IS NULL \
         UNION SELECT family FROM authorization_codes \
         WHERE person_id = $1 AND access_jti IS NOT NULL AND access_expires_at > $2",
    )
    .bind(person_id)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("family"))
    .collect::<Result<_, _>>()?;
    for family in families {
        revoke_family(conn, &family, now).await?;
    }
    sqlx::query("DELETE FROM authorization_codes WHERE person_id = $1 AND used_at IS NULL")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn store_refresh(
    conn: &mut AnyConnection,
    g: &Granted,
    client_id: &str,
    issue: &Issue,
    now: i64,
) -> SvcResult<()> {
    if !g.offline() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family, client_id, person_id, scope, auth_time, \
         created_at, expires_at, access_jti, access_expires_at, granted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(hash(&issue.refresh_token))
    .bind(g.family.clone())
    .bind(client_id.to_string())
    .bind(g.person_id)
    .bind(g.scope.clone())
    .bind(g.auth_time)
    .bind(now)
    .bind((now + REFRESH_TTL_MS).min(g.granted_at + GRANT_TTL_MS))
    .bind(issue.access_jti.clone())
    .bind(issue.access_expires_at)
    .bind(g.granted_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn audit_event(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    client_id: &str,
    action: &str,
    detail: &str,
) -> SvcResult<()> {
    let actor = format!("client:{client_id}");
    let ev = Event {
        actor: &actor,
        action,
        target: Some(client_id),
        detail: Some(detail.to_string()),
    };
    audit::record(conn, meta, ev).await
}

/// Why an exchange or a refresh is refused: always `invalid_grant` to the client.
pub type Refused = &'static str;

/// Exchanges `code` for client `client_id` (already authenticated), with the redirect URI and
/// the PKCE verifier of the token request. On success the code is used up and `issue`'s
/// refresh token is stored, in one transaction.
pub async fn redeem_code(
    db: &Db,
    meta: &RequestMeta,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    issue: &Issue,
) -> SvcResult<Result<Granted, Refused>> {
    db.write(|conn| {
        let (meta, client_id, code) = (meta.clone(), client_id.to_string(), hash(code));
        let (redirect_uri, verifier) = (redirect_uri.to_string(), verifier.to_string());
        let issue = issue.clone();
        async move {
            let now = now_ms();
            let Some(r) = sqlx::query(
                "SELECT family, client_id, person_id, redirect_uri, code_challenge, nonce, scope, \
                 auth_time, expires_at, used_at FROM authorization_codes WHERE code_hash = $1",
            )
            .bind(code.clone())
            .fetch_optional(&mut *conn)
            .await?
            else {
                return Ok(Err("The code is unknown."));
            };
            let family: String = r.try_get("family")?;
            if r.try_get::<String, _>("client_id")? != client_id {
                return Ok(Err("The code was issued to another client."));
            }
            if r.try_get::<Option<i64>, _>("used_at")?.is_some() {
                revoke_family(conn, &family, now).await?;
                audit_event(
                    conn,
                    &meta,
                    &client_id,
                    "code.replayed",
                    "an authorization code was used again; the tokens issued from it are revoked",
                )
                .await?;
                return Ok(Err("The code was used already."));
            }
            if r.try_get::<i64, _>("expires_at")? <= now {
                return Ok(Err("The code has expired."));
            }
            if r.try_get::<String, _>("redirect_uri")? != redirect_uri {
                return Ok(Err(
                    "redirect_uri differs from the one of the authorization request.",
                ));
            }
            if !super::authorize::verifier_matches(
                &verifier,
                &r.try_get::<String, _>("code_challenge")?,
            ) {
                return Ok(Err("The code_verifier does not match the code_challenge."));
            }
            let person_id: i64 = r.try_get("person_id")?;
            if !person_enabled(conn, person_id).await? {
                return Ok(Err("The person is disabled."));
            }
            let used = sqlx::query(
                "UPDATE authorization_codes SET used_at = $1, access_jti = $2, \
                 access_expires_at = $3 WHERE code_hash = $4 AND used_at IS NULL",
            )
            .bind(now)
            .bind(issue.access_jti.clone())
            .bind(issue.access_expires_at)
            .bind(code)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if used != 1 {
                return Ok(Err("The code was used already."));
            }
            let granted = Granted {
                family,
                person_id,
                scope: r.try_get("scope")?,
                nonce: r.try_get("nonce")?,
                auth_time: r.try_get("auth_time")?,
                granted_at: now,
            };
            store_refresh(conn, &granted, &client_id, &issue, now).await?;
            Ok(Ok(granted))
        }
        .boxed()
    })
    .await
}

pub(super) async fn person_enabled(conn: &mut AnyConnection, person_id: i64) -> SvcResult<bool> {
    let row = sqlx::query("SELECT disabled FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>("disabled")? == 0,
        None => false,
    })
}

/// Revokes the family of a refresh token, by its client (RFC 7009 §2.1: revoking a refresh
/// token also revokes the access tokens of the same grant). Audited as `token.revoked`.
pub async fn revoke_by_client(
    db: &Db,
    meta: &RequestMeta,
    family: &str,
    client_id: &str,
) -> SvcResult<()> {
    db.write(|conn| {
        let (meta, family, client_id) = (meta.clone(), family.to_string(), client_id.to_string());
        async move {
            revoke_family(conn, &family, now_ms()).await?;
            audit_event(
                conn,
                &meta,
                &client_id,
                "token.revoked",
                "a refresh token and its grant, by its client",
            )
            .await
        }
        .boxed()
    })
    .await
}

/// Forgets codes and refresh tokens that can no longer be used: codes a while after their
/// expiry (kept long enough for a replay to be recognized), refresh tokens after theirs.
pub async fn prune(db: &Db, now: i64) -> SvcResult<u64> {
    let codes = sqlx::query("DELETE FROM authorization_codes WHERE expires_at < $1")
        .bind(now - REPLAY_MEMORY_MS)
        .execute(&db.pool)
        .await?
        .rows_affected();
    let refresh = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok(codes + refresh)
}

/// How long a code is remembered after its expiry, so that a late replay still revokes.
const REPLAY_MEMORY_MS: i64 = 24 * 60 * 60 * 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits() {
        let t = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_ne!(t, random_token());
    }
}
