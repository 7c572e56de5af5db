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
}

/// A fresh session token: 256 random bits in hex. `Debug` hides it; it only goes into
/// `Set-Cookie`.
pub struct PersonToken(String);

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

/// The person of a live session: unexpired, and the person still enabled.
pub async fn lookup(db: &Db, token: &str) -> SvcResult<Option<SignedIn>> {
    let row = sqlx::query(
        "SELECT p.id, p.subject, p.username, p.display_name, p.email, s.auth_time \
         FROM person_sessions s JOIN people p ON p.id = s.person_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND p.disabled = 0",
    )
    .bind(token_hash(token))
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(SignedIn {
            person_id: r.try_get("id")?,
            subject: r.try_get("subject")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            email: r.try_get("email")?,
            auth_time: r.try_get("auth_time")?,
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
    let password_ok = hasher.verify(stored, password).await;
    let Some((id, false)) = person.filter(|_| password_ok) else {
        db.write_locking(|conn| audit::complete(conn, attempt, PERSON.failed).boxed())
            .await?;
        return Err(AppError::BadCredentials.into());
    };
    let token = db
        .write_locking(|conn| {
            let lifetime = settings.session_absolute_timeout_secs;
            async move {
                let mut raw = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut raw);
                let token = hex::encode(raw);
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO person_sessions (token_hash, person_id, auth_time, created_at, \
                     expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(token_hash(&token))
                .bind(id)
                .bind(now)
                .bind(now)
                .bind(now + lifetime * 1000)
                .execute(&mut *conn)
                .await?;
                sqlx::query("UPDATE people SET last_sign_in_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                audit::complete(conn, attempt, PERSON.succeeded).await?;
                Ok(token)
            }
            .boxed()
        })
        .await?;
    let signed_in = lookup(db, &token)
        .await?
        .ok_or_else(|| SvcError::Internal("a new person session is not found".into()))?;
    Ok((PersonToken(token), signed_in))
}

/// Signs out (RP-initiated logout): ends the session, audited as `person.signed_out`.
pub async fn sign_out(db: &Db, meta: &RequestMeta, token: &str) -> SvcResult<()> {
    let Some(person) = lookup(db, token).await? else {
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
