//! A person signing in at Clavis, on the way to an app, and the session that follows.
//!
//! Apart from console sign-in in everything a session touches: its own table
//! (`person_sessions`), its own cookie, its own audit actions (`signin::service::PERSON`), so a
//! console session never signs anyone in to an app and a person's session never opens the
//! console. The same rules otherwise: a sign-in costs the same whether or not the username
//! exists, failures are counted per username and per address and throttled, and a disabled
//! person cannot sign in.
//!
//! The cookie is `SameSite=Lax`: an app sends the person here by a top-level navigation from
//! its own site, which must carry the session for `prompt=none` and single sign-on to work.

use cookie::SameSite;
use futures::FutureExt;
use http::HeaderMap;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::accounts::normalize_username;
use crate::accounts::password::PasswordHasher;
use crate::audit::service as audit;
use crate::error::AppError;
use crate::infra::db::{now_ms, Db};
use crate::infra::session as infra_session;
use crate::infra::settings::Settings;
use crate::infra::{RequestMeta, SvcError, SvcResult};
use crate::signin::service::{reserve_attempt, PERSON};

pub const COOKIE_NAME: &str = "clavis_person";
pub const SECURE_COOKIE_NAME: &str = "__Host-clavis_person";

/// The person behind a live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub person_id: i64,
    pub subject: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    /// Unix milliseconds: when they last typed their password.
    pub auth_time: i64,
    /// The fingerprint of the authorization request whose sign-in page opened this session
    /// (`AuthorizeRequest::fingerprint`).
    pub sign_in_request: Option<String>,
}

/// A fresh session token: 256 random bits in hex. `Debug` hides it; it only goes into
/// `Set-Cookie`.
pub struct PersonToken(String);

impl PersonToken {
    /// CAUTION: the token itself, for the session checks and `Set-Cookie` only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PersonToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonToken(<hidden>)")
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn cookie_name(settings: &Settings) -> &'static str {
    if settings.cookie_secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

fn cookie(settings: &Settings, value: &str, max_age_secs: i64) -> String {
    infra_session::cookie(
        settings,
        cookie_name(settings),
        value,
        SameSite::Lax,
        Some(max_age_secs),
    )
}

pub fn set_cookie(settings: &Settings, token: &PersonToken) -> String {
    cookie(settings, &token.0, settings.session_absolute_timeout_secs)
}

pub fn clear_cookie(settings: &Settings) -> String {
    cookie(settings, "", 0)
}

/// The person's session token from the `Cookie` headers, if well-formed. With secure cookies
/// only the `__Host-` name counts (see `infra::session::token_from_headers`).
pub fn token_from_headers(headers: &HeaderMap, settings: &Settings) -> Option<String> {
    infra_session::cookie_value(headers, cookie_name(settings))
        .filter(|v| infra_session::is_token(v))
}

/// Seen this recently (or within half the idle timeout, if that is shorter), a session is not
/// written to again on lookup.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// The person of a live session: unexpired, used within the idle timeout, and the person
/// still enabled. Marks the session as used (at most once a minute).
pub async fn lookup(db: &Db, settings: &Settings, token: &str) -> SvcResult<Option<SignedIn>> {
    let now = now_ms();
    let hash = token_hash(token);
    let row = sqlx::query(
        "SELECT p.id, p.subject, p.username, p.display_name, p.email, s.auth_time, \
         s.last_seen_at, s.sign_in_request FROM person_sessions s JOIN people p ON p.id = s.person_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 \
         AND p.disabled = 0",
    )
    .bind(hash.clone())
    .bind(now)
    .bind(now - settings.person_session_idle_timeout_secs * 1000)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(r) = &row {
        // Often enough that a short idle timeout is never reached while the person is active.
        let every = TOUCH_EVERY_MS.min(settings.person_session_idle_timeout_secs * 500);
        if r.try_get::<i64, _>("last_seen_at")? < now - every {
            sqlx::query("UPDATE person_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(hash)
                .execute(&db.pool)
                .await?;
        }
    }
    row.map(|r| {
        Ok(SignedIn {
            person_id: r.try_get("id")?,
            subject: r.try_get("subject")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            email: r.try_get("email")?,
            auth_time: r.try_get("auth_time")?,
            sign_in_request: r.try_get("sign_in_request")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| e.into())
}

/// The audit actor of a person: never mistaken for a console account of the same name.
pub fn actor(username: &str) -> String {
    format!("person:{username}")
}

/// Checks a person's username and password and opens a session. Every failure is the same
/// `BadCredentials`, whatever the cause (unknown, disabled, wrong password); over the limits
/// it is `Throttled`.
pub async fn sign_in(
    db: &Db,
    settings: &Settings,
    hasher: &PasswordHasher,
    meta: &RequestMeta,
    username: &str,
    password: &str,
    request: &str,
) -> SvcResult<(PersonToken, SignedIn)> {
    let Ok(username) = normalize_username(username) else {
        return Err(AppError::BadCredentials.into());
    };
    if password.is_empty() {
        return Err(AppError::validation("password", "Enter your password.").into());
    }
    let who = actor(&username);
    let attempt = reserve_attempt(db, settings, meta, PERSON, &who).await?;
    let row = sqlx::query("SELECT id, password_hash, disabled FROM people WHERE username = $1")
        .bind(username.clone())
        .fetch_optional(&db.pool)
        .await?;
    let (stored, person) = match &row {
        Some(r) => (
            Some(r.try_get::<String, _>("password_hash")?),
            Some((
                r.try_get::<i64, _>("id")?,
                r.try_get::<i64, _>("disabled")? != 0,
            )),
        ),
        None => (None, None),
    };
    let password_ok = hasher.verify(stored.clone(), password).await;
    let checked = match (person, stored) {
        (Some((id, false)), Some(hash)) if password_ok => Some(Checked { id, hash }),
        _ => None,
    };
    let opened = match checked {
        Some(checked) => open_session(db, settings, attempt, &checked, request).await?,
        None => None,
    };
    let Some(token) = opened else {
        db.write_locking(|conn| audit::complete(conn, attempt, PERSON.failed).boxed())
            .await?;
        return Err(AppError::BadCredentials.into());
    };
    let signed_in = lookup(db, settings, &token)
        .await?
        .ok_or_else(|| SvcError::Internal("a new person session is not found".into()))?;
    Ok((PersonToken(token), signed_in))
}

/// A password that was just found right: whose it is, and the hash it matched.
struct Checked {
    id: i64,
    hash: String,
}

/// Opens a session for `checked`, only if the person is still as the password check found
/// them: enabled, with the same password hash. A reset or a disable that commits between the
/// check and this transaction is seen here, and no session is made (`None`).
///
/// PostgreSQL: the person's row is locked (`FOR UPDATE`, READ COMMITTED) before the check, so
/// a reset either commits first (and the check sees its hash) or waits for this transaction,
/// and then fails to serialize with the `last_sign_in_at` written here and runs again, when it
/// sees (and ends) the new session.
async fn open_session(
    db: &Db,
    settings: &Settings,
    attempt: i64,
    checked: &Checked,
    request: &str,
) -> SvcResult<Option<String>> {
    let lock = if db.engine == crate::infra::db::Engine::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    db.write_locking(|conn| {
        let lifetime = settings.session_absolute_timeout_secs;
        let (id, hash, request) = (checked.id, checked.hash.clone(), request.to_string());
        async move {
            let same = sqlx::query(&format!(
                "SELECT id FROM people WHERE id = $1 AND password_hash = $2 AND disabled = 0{lock}"
            ))
            .bind(id)
            .bind(hash)
            .fetch_optional(&mut *conn)
            .await?;
            if same.is_none() {
                return Ok(None);
            }
            let mut raw = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut raw);
            let token = hex::encode(raw);
            let now = now_ms();
            sqlx::query(
                "INSERT INTO person_sessions (token_hash, person_id, auth_time, created_at, \
                 expires_at, last_seen_at, sign_in_request) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(token_hash(&token))
            .bind(id)
            .bind(now)
            .bind(now)
            .bind(now + lifetime * 1000)
            .bind(now)
            .bind(request)
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE people SET last_sign_in_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            audit::complete(conn, attempt, PERSON.succeeded).await?;
            Ok(Some(token))
        }
        .boxed()
    })
    .await
}

/// In the caller's transaction: true when the session `token` of `person_id` still exists, is
/// unexpired and not idle, and marks it used. A code is issued only when this holds; as it
/// writes the session's row, a reset or disable that ends the session at the same time either
/// commits first (this finds nothing) or conflicts with it and runs again (PostgreSQL).
pub(crate) async fn touch_live(
    conn: &mut AnyConnection,
    idle_timeout_secs: i64,
    token: &str,
    person_id: i64,
) -> SvcResult<bool> {
    let now = now_ms();
    let r = sqlx::query(
        "UPDATE person_sessions SET last_seen_at = $1 WHERE token_hash = $2 \
         AND person_id = $3 AND expires_at > $1 AND last_seen_at > $4",
    )
    .bind(now)
    .bind(token_hash(token))
    .bind(person_id)
    .bind(now - idle_timeout_secs * 1000)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Signs out (RP-initiated logout): ends the session, audited as `person.signed_out`.
pub async fn sign_out(
    db: &Db,
    settings: &Settings,
    meta: &RequestMeta,
    token: &str,
) -> SvcResult<()> {
    let Some(person) = lookup(db, settings, token).await? else {
        return end(db, token).await;
    };
    db.write(|conn| {
        let (meta, hash, actor) = (meta.clone(), token_hash(token), actor(&person.username));
        async move {
            sqlx::query("DELETE FROM person_sessions WHERE token_hash = $1")
                .bind(hash)
                .execute(&mut *conn)
                .await?;
            let ev = crate::audit::service::Event {
                actor: &actor,
                action: "person.signed_out",
                target: None,
                detail: None,
            };
            audit::record(conn, &meta, ev).await
        }
        .boxed()
    })
    .await
}

/// Ends one session.
pub async fn end(db: &Db, token: &str) -> SvcResult<()> {
    sqlx::query("DELETE FROM person_sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends every session of a person (disabled, or a new password), in the caller's transaction.
pub async fn end_all(conn: &mut AnyConnection, person_id: i64) -> SvcResult<()> {
    sqlx::query("DELETE FROM person_sessions WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes expired sessions. Run periodically.
pub async fn purge_expired(db: &Db, now: i64) -> SvcResult<u64> {
    let r = sqlx::query("DELETE FROM person_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected())
}
