//! Signing in to the console and out of it.
//!
//! Rules that live here and nowhere else:
//! - a sign-in costs the same whether or not the username exists (a dummy hash is verified);
//! - failures are counted per username and per IP from the audit log, so every replica sees
//!   the same counts, and a success for a username resets its count;
//! - the check and the record of an attempt are one transaction, so parallel attempts cannot
//!   outrun the limit;
//! - a disabled account cannot sign in.
//!
//! The session itself (token, cookie, lookup) is `infra::session`.

use futures::FutureExt;
use sqlx::{AnyConnection, Row};

use crate::accounts::password::PasswordHasher;
use crate::accounts::{normalize_username, Role};
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::{now_ms, Db};
use crate::infra::metrics::Metrics;
use crate::infra::session::{self, SessionAccount, SessionToken};
use crate::infra::settings::Settings;
use crate::infra::{RequestMeta, SvcError, SvcResult};

/// The audit actions of one kind of sign-in: console accounts (`CONSOLE`) and people signing in
/// to apps (`PERSON`) are counted apart, each by its own actions.
#[derive(Debug, Clone, Copy)]
pub struct Attempts {
    /// Opened before the password is checked, then completed as `succeeded` or `failed`.
    pub attempt: &'static str,
    pub succeeded: &'static str,
    pub failed: &'static str,
    /// Prefix of the advisory locks that queue parallel attempts.
    pub lock: &'static str,
}

pub const CONSOLE: Attempts = Attempts {
    attempt: "auth.sign_in_attempt",
    succeeded: "auth.sign_in",
    failed: "auth.sign_in_failed",
    lock: "sign-in",
};

pub const PERSON: Attempts = Attempts {
    attempt: "person.sign_in_attempt",
    succeeded: "person.signed_in",
    failed: "person.sign_in_failed",
    lock: "person-sign-in",
};

/// How long until `key` (a username or an IP) may try again, if it is over its limit. Failed
/// and unfinished attempts of `kind` count towards the limits.
async fn throttled_for(
    conn: &mut AnyConnection,
    kind: Attempts,
    column: &str,
    key: &str,
    limit: u32,
    window_secs: i64,
) -> SvcResult<Option<u64>> {
    if limit == 0 {
        return Ok(None);
    }
    let now = now_ms();
    let window_start = now - window_secs * 1000;
    // For usernames a success resets the count; for IPs only the window does.
    let since = if column == "actor" {
        let last_ok: Option<i64> =
            sqlx::query("SELECT MAX(at) AS at FROM audit_events WHERE actor = $1 AND action = $2")
                .bind(key.to_string())
                .bind(kind.succeeded)
                .fetch_one(&mut *conn)
                .await?
                .try_get("at")?;
        last_ok.map_or(window_start, |t| t.max(window_start))
    } else {
        window_start
    };
    let sql = format!(
        "SELECT at FROM audit_events WHERE {column} = $1 AND action IN ($2, $3) AND at > $4 \
         ORDER BY at DESC LIMIT 1 OFFSET $5"
    );
    let nth: Option<i64> = sqlx::query(&sql)
        .bind(key.to_string())
        .bind(kind.failed)
        .bind(kind.attempt)
        .bind(since)
        .bind(i64::from(limit) - 1)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("at"))
        .transpose()?;
    Ok(nth.map(|at| {
        let wait_ms = (at + window_secs * 1000 - now).max(1000);
        ((wait_ms + 999) / 1000) as u64
    }))
}

/// Checks the limits and records the attempt in one write transaction, so that attempts sent
/// in parallel queue on one lock: each one sees those before it, and at most the limit are
/// evaluated. (On PostgreSQL, parallel SERIALIZABLE transactions here would all conflict and
/// exhaust their retries; they queue on advisory locks for the username and the address,
/// under READ COMMITTED, instead.) The attempt is an `auth.sign_in_attempt` audit row that the outcome then
/// completes (`auth.sign_in` or `auth.sign_in_failed`). Returns its id.
pub(crate) async fn reserve_attempt(
    db: &Db,
    settings: &Settings,
    meta: &RequestMeta,
    kind: Attempts,
    username: &str,
) -> SvcResult<i64> {
    db.write_locking(|conn| {
        let (settings, meta, username) = (settings.clone(), meta.clone(), username.to_string());
        let db = db.clone();
        async move {
            // One lock per username and one per address: attempts for other accounts from
            // other addresses do not wait.
            let lock = kind.lock;
            let mut names = vec![format!("{lock}:user:{username}")];
            names.extend(meta.ip.as_deref().map(|ip| format!("{lock}:ip:{ip}")));
            db.queue_on(conn, &names).await?;
            let window = settings.login_failure_window_secs;
            let by_account = throttled_for(
                conn,
                kind,
                "actor",
                &username,
                settings.login_max_failures_per_account,
                window,
            )
            .await?;
            let by_ip = match meta.ip.as_deref() {
                Some(ip) => {
                    throttled_for(
                        conn,
                        kind,
                        "ip",
                        ip,
                        settings.login_max_failures_per_ip,
                        window,
                    )
                    .await?
                }
                None => None,
            };
            if let Some(wait) = by_account.max(by_ip) {
                return Err(AppError::Throttled {
                    retry_after_secs: wait,
                }
                .into());
            }
            let ev = Event {
                actor: &username,
                action: kind.attempt,
                target: None,
                detail: None,
            };
            audit::record_open(conn, &meta, ev).await
        }
        .boxed()
    })
    .await
}

/// Asks a signed-in account for its password again before a sensitive step (revealing a
/// secret). Counted and throttled exactly like a sign-in: a wrong password is an
/// `auth.sign_in_failed`, so guesses here and at the sign-in page share one limit. A right one
/// is `auth.step_up`. A wrong password is a field error on `password`.
pub async fn confirm_password(
    db: &Db,
    settings: &Settings,
    hasher: &PasswordHasher,
    meta: &RequestMeta,
    username: &str,
    password: &str,
) -> SvcResult<()> {
    if password.is_empty() {
        return Err(AppError::validation("password", "Enter your password.").into());
    }
    let attempt = reserve_attempt(db, settings, meta, CONSOLE, username).await?;
    let stored: Option<String> =
        sqlx::query("SELECT password_hash FROM accounts WHERE username = $1 AND disabled = 0")
            .bind(username.to_string())
            .fetch_optional(&db.pool)
            .await?
            .map(|r| r.try_get("password_hash"))
            .transpose()?;
    let found = stored.is_some();
    let ok = hasher.verify(stored, password).await && found;
    let outcome = if ok {
        "auth.step_up"
    } else {
        "auth.sign_in_failed"
    };
    db.write_locking(|conn| audit::complete(conn, attempt, outcome).boxed())
        .await?;
    if ok {
        Ok(())
    } else {
        Err(AppError::validation("password", "That is not your password.").into())
    }
}

/// Signs in. On success returns the new session token and the account.
pub async fn sign_in(
    db: &Db,
    settings: &Settings,
    hasher: &PasswordHasher,
    metrics: &Metrics,
    meta: &RequestMeta,
    username: &str,
    password: &str,
) -> SvcResult<(SessionToken, SessionAccount)> {
    let username = match normalize_username(username) {
        Ok(u) => u,
        Err(e) => {
            metrics.sign_in_failures.inc();
            return Err(e.into());
        }
    };
    if password.is_empty() {
        return Err(AppError::validation("password", "Enter your password.").into());
    }
    let attempt = match reserve_attempt(db, settings, meta, CONSOLE, &username).await {
        Ok(id) => id,
        Err(e) => {
            if matches!(e, SvcError::App(AppError::Throttled { .. })) {
                metrics.sign_in_throttled.inc();
            }
            return Err(e);
        }
    };

    let row =
        sqlx::query("SELECT id, password_hash, role, disabled FROM accounts WHERE username = $1")
            .bind(username.clone())
            .fetch_optional(&db.pool)
            .await?;
    let (stored, account) = match &row {
        Some(r) => {
            let hash: String = r.try_get("password_hash")?;
            let id: i64 = r.try_get("id")?;
            let role: String = r.try_get("role")?;
            let disabled = r.try_get::<i64, _>("disabled")? != 0;
            (Some(hash), Some((id, role, disabled)))
        }
        None => (None, None),
    };
    let password_ok = hasher.verify(stored.clone(), password).await;
    let lock = if db.engine == crate::infra::db::Engine::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };

    match account {
        Some((id, role, false)) if password_ok => {
            let role: Role = role.parse()?;
            // READ COMMITTED, so that these writes never conflict with the parallel attempts
            // of the same account (see the failure below). The account's row is locked and
            // checked again first: a reset or a disable that committed since the password
            // check is seen here, and opens no session; one that runs later waits for this
            // transaction and then ends the session it made.
            let opened = db
                .write_locking(|conn| {
                    let (settings, ip, hash) = (settings.clone(), meta.ip.clone(), stored.clone());
                    async move {
                        let same = sqlx::query(&format!(
                            "SELECT id FROM accounts WHERE id = $1 AND password_hash = $2 \
                             AND disabled = 0{lock}"
                        ))
                        .bind(id)
                        .bind(hash.unwrap_or_default())
                        .fetch_optional(&mut *conn)
                        .await?;
                        if same.is_none() {
                            return Ok(None);
                        }
                        let token = session::create(conn, &settings, id, ip.as_deref()).await?;
                        sqlx::query("UPDATE accounts SET last_sign_in_at = $1 WHERE id = $2")
                            .bind(now_ms())
                            .bind(id)
                            .execute(&mut *conn)
                            .await?;
                        audit::complete(conn, attempt, "auth.sign_in").await?;
                        Ok(Some(token))
                    }
                    .boxed()
                })
                .await?;
            let Some(token) = opened else {
                metrics.sign_in_failures.inc();
                db.write_locking(|conn| {
                    audit::complete(conn, attempt, "auth.sign_in_failed").boxed()
                })
                .await?;
                return Err(AppError::BadCredentials.into());
            };
            Ok((
                token,
                SessionAccount {
                    account_id: id,
                    username,
                    role,
                },
            ))
        }
        _ => {
            metrics.sign_in_failures.inc();
            // One row updated by id, deciding nothing. Under SERIALIZABLE, the completions of
            // parallel attempts read and write the same index pages of `audit_events` and
            // fail each other's commits (40001) until their retries run out under load.
            db.write_locking(|conn| audit::complete(conn, attempt, "auth.sign_in_failed").boxed())
                .await?;
            Err(AppError::BadCredentials.into())
        }
    }
}

pub async fn sign_out(
    db: &Db,
    meta: &RequestMeta,
    token: &str,
    who: &SessionAccount,
) -> SvcResult<()> {
    session::delete(db, token).await?;
    db.write(|conn| {
        let (username, meta) = (who.username.clone(), meta.clone());
        async move {
            audit::record(
                conn,
                &meta,
                Event {
                    actor: &username,
                    action: "auth.sign_out",
                    target: None,
                    detail: None,
                },
            )
            .await
        }
        .boxed()
    })
    .await
}
