//! Server-side sessions, stored in the database so that every replica accepts them.
//!
//! The cookie holds 256 random bits; the table holds only their SHA-256, so a copy of the
//! database does not let anyone sign in. Sessions end on sign-out, after the idle timeout, at
//! the absolute timeout, and at once when the account is disabled or its password is reset.

use cookie::{Cookie, SameSite};
use http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::db::{now_ms, Db};
use super::settings::Settings;
use super::{SvcError, SvcResult};
use crate::accounts::Role;

pub const COOKIE_NAME: &str = "clavis_session";
/// With `Secure`, the `__Host-` prefix also pins the cookie to this host and path `/`.
pub const SECURE_COOKIE_NAME: &str = "__Host-clavis_session";

/// The account behind a valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAccount {
    pub account_id: i64,
    pub username: String,
    pub role: Role,
}

/// A fresh session token. Not `Serialize`, and `Debug` hides it: it only goes into `Set-Cookie`.
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<hidden>)")
    }
}

impl SessionToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session token: the first cookie of the session's name in the `Cookie` headers, if its
/// value is well-formed.
///
/// With secure cookies only the `__Host-` name is read: a cookie without the prefix may have
/// been set by a sibling subdomain or over plain http, and accepting it would let someone fix
/// the session of a victim.
pub fn token_from_headers(headers: &HeaderMap, settings: &Settings) -> Option<String> {
    cookie_value(headers, cookie_name(settings)).filter(|v| is_token(v))
}

/// A session token's shape: 256 bits in hex.
pub fn is_token(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The value of the first cookie named `name` in the `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value of Clavis: HttpOnly, path `/`, `Secure` with secure cookies, living
/// `max_age_secs` (none: until the browser closes).
pub fn cookie(
    settings: &Settings,
    name: &'static str,
    value: &str,
    same_site: SameSite,
    max_age_secs: Option<i64>,
) -> String {
    let mut c = Cookie::build((name, value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(settings.cookie_secure);
    if let Some(secs) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(secs));
    }
    c.build().to_string()
}

/// The session cookie's name: `__Host-clavis_session` with secure cookies.
fn cookie_name(settings: &Settings) -> &'static str {
    if settings.cookie_secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// The session cookie with `value`, living `max_age_secs`: HttpOnly, SameSite=Strict, path `/`,
/// and on https `Secure` with the `__Host-` name, which also pins it to this host.
fn session_cookie(settings: &Settings, value: &str, max_age_secs: i64) -> String {
    cookie(
        settings,
        cookie_name(settings),
        value,
        SameSite::Strict,
        Some(max_age_secs),
    )
}

pub fn set_cookie(settings: &Settings, token: &SessionToken) -> String {
    session_cookie(
        settings,
        token.expose(),
        settings.session_absolute_timeout_secs,
    )
}

pub fn clear_cookie(settings: &Settings) -> String {
    session_cookie(settings, "", 0)
}

/// Creates a session inside the caller's transaction.
pub async fn create(
    conn: &mut AnyConnection,
    settings: &Settings,
    account_id: i64,
    ip: Option<&str>,
) -> SvcResult<SessionToken> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at, ip) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(account_id)
    .bind(now)
    .bind(now)
    .bind(now + settings.session_absolute_timeout_secs * 1000)
    .bind(ip.map(str::to_string))
    .execute(&mut *conn)
    .await?;
    Ok(SessionToken(token))
}

/// The account of a live session, or `None`. Touches `last_seen_at` at most once a minute,
/// so an active user is not written to the database on every request.
pub async fn lookup(
    db: &Db,
    settings: &Settings,
    token: &str,
) -> SvcResult<Option<SessionAccount>> {
    let now = now_ms();
    let idle_cutoff = now - settings.session_idle_timeout_secs * 1000;
    let hash = token_hash(token);
    let row = sqlx::query(
        "SELECT s.account_id, s.last_seen_at, a.username, a.role FROM sessions s \
         JOIN accounts a ON a.id = s.account_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND a.disabled = 0",
    )
    .bind(hash.clone())
    .bind(now)
    .bind(idle_cutoff)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let last_seen: i64 = row.try_get("last_seen_at")?;
    if now - last_seen > 60_000 {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(hash)
            .execute(&db.pool)
            .await?;
    }
    let role: String = row.try_get("role")?;
    Ok(Some(SessionAccount {
        account_id: row.try_get("account_id")?,
        username: row.try_get("username")?,
        role: role.parse().map_err(SvcError::App)?,
    }))
}

pub async fn delete(db: &Db, token: &str) -> SvcResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn delete_for_account(conn: &mut AnyConnection, account_id: i64) -> SvcResult<()> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes sessions that can no longer be used. Run periodically.
pub async fn purge_expired(db: &Db, settings: &Settings) -> SvcResult<u64> {
    let now = now_ms();
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - settings.session_idle_timeout_secs * 1000)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected())
}
