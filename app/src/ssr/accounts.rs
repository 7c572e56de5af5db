//! Console accounts: sign-in with its throttling, and every account change an admin can make.
//!
//! Rules that live here and nowhere else:
//! - passwords are hashed with argon2id and checked in constant time by the argon2 crate;
//! - a sign-in costs the same whether or not the username exists (a dummy hash is verified);
//! - failures are counted per username and per IP from the audit log, so every replica sees
//!   the same counts, and a success for a username resets its count;
//! - the last active administrator can be neither disabled nor demoted.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHashString, SaltString};
use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use futures::FutureExt;
use sqlx::{AnyConnection, Row};

use super::audit::{self, Event};
use super::session::{self, SessionAccount, SessionToken};
use super::{now_ms, Db, RequestMeta, Settings, SvcError, SvcResult};
use crate::error::AppError;
use crate::model::{check_password, normalize_username, AccountView, Role};

/// A stored argon2id hash. Neither `Serialize` nor a revealing `Debug`.
#[derive(Clone)]
pub struct PasswordHashValue(String);

impl std::fmt::Debug for PasswordHashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHashValue(<hidden>)")
    }
}

/// Hashes and verifies passwords; holds the dummy hash used for unknown usernames.
pub struct PasswordHasher {
    dummy: PasswordHashString,
}

impl PasswordHasher {
    /// Prepares the dummy hash (of random bytes nobody knows) used for unknown usernames.
    pub fn new() -> SvcResult<Self> {
        let salt = SaltString::generate(&mut OsRng);
        let mut random = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
        let dummy = Argon2::default()
            .hash_password(&random, &salt)
            .map_err(|e| SvcError::Internal(format!("argon2 unavailable: {e}")))?
            .serialize();
        Ok(PasswordHasher { dummy })
    }

    /// argon2id with the crate's recommended parameters, on a blocking thread.
    pub async fn hash(&self, password: &str) -> SvcResult<PasswordHashValue> {
        let password = password.to_string();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| PasswordHashValue(h.to_string()))
                .map_err(|e| SvcError::Internal(format!("password hashing failed: {e}")))
        })
        .await
        .map_err(|e| SvcError::Internal(format!("hashing task failed: {e}")))?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no
    /// account, so that both paths take the same time.
    pub async fn verify(&self, stored: Option<String>, password: &str) -> bool {
        let stored = stored.unwrap_or_else(|| self.dummy.to_string());
        let password = password.to_string();
        tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
            Ok(h) => Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok(),
            Err(_) => false,
        })
        .await
        .unwrap_or(false)
    }
}

fn row_to_view(r: &sqlx::any::AnyRow) -> Result<AccountView, sqlx::Error> {
    let role: String = r.try_get("role")?;
    Ok(AccountView {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        role: role.parse().unwrap_or(Role::Support),
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        last_sign_in_at: r.try_get("last_sign_in_at")?,
    })
}

const ACCOUNT_COLUMNS: &str = "id, username, role, disabled, created_at, last_sign_in_at";

pub async fn list(db: &Db) -> SvcResult<Vec<AccountView>> {
    let rows = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(row_to_view).collect::<Result<_, _>>()?)
}

pub async fn count(db: &Db) -> SvcResult<i64> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM accounts")
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?)
}

async fn find(conn: &mut AnyConnection, id: i64) -> SvcResult<AccountView> {
    let row = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound("The account".into()))?;
    Ok(row_to_view(&row)?)
}

async fn active_admins(conn: &mut AnyConnection) -> SvcResult<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM accounts WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?,
    )
}

/// Refuses a change that would leave no active administrator.
async fn guard_last_admin(
    conn: &mut AnyConnection,
    target: &AccountView,
    what: &str,
) -> SvcResult<()> {
    if target.role == Role::Admin && !target.disabled && active_admins(conn).await? <= 1 {
        return Err(AppError::Conflict(format!(
            "{} is the last active administrator and cannot be {what}. Make another account an administrator first.",
            target.username
        ))
        .into());
    }
    Ok(())
}

/// Inserts an account inside the caller's transaction. Fails with a field error on a taken name.
async fn insert(
    conn: &mut AnyConnection,
    username: &str,
    role: Role,
    hash: &PasswordHashValue,
) -> SvcResult<i64> {
    let taken = sqlx::query("SELECT 1 AS one FROM accounts WHERE username = $1")
        .bind(username.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        return Err(AppError::validation(
            "username",
            format!("An account named {username} already exists."),
        )
        .into());
    }
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO accounts (username, password_hash, role, disabled, created_at, updated_at) \
         VALUES ($1, $2, $3, 0, $4, $5) RETURNING id",
    )
    .bind(username.to_string())
    .bind(hash.0.clone())
    .bind(role.as_str())
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Creates an account (admin action, CLI, or first-start bootstrap).
pub async fn create(
    db: &Db,
    hasher: &PasswordHasher,
    actor: &str,
    meta: &RequestMeta,
    username: &str,
    password: &str,
    role: Role,
) -> SvcResult<AccountView> {
    let username = normalize_username(username)?;
    check_password(password)?;
    let hash = hasher.hash(password).await?;
    db.write(|conn| {
        let (username, hash, actor, meta) = (
            username.clone(),
            hash.clone(),
            actor.to_string(),
            meta.clone(),
        );
        async move {
            let id = insert(conn, &username, role, &hash).await?;
            audit::record(
                conn,
                &meta,
                Event {
                    actor: &actor,
                    action: "account.created",
                    target: Some(&username),
                    detail: Some(format!("role {}", role.as_str())),
                },
            )
            .await?;
            find(conn, id).await
        }
        .boxed()
    })
    .await
}

/// Sets one column of `target`, records `action` in the audit log and returns the account as
/// it now is, all inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn update_and_audit<T>(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    actor: &str,
    target: &AccountView,
    // CAUTION: interpolated into the SQL; only ever a fixed column name.
    column: &'static str,
    value: T,
    action: &str,
    detail: Option<String>,
) -> SvcResult<AccountView>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
{
    sqlx::query(&format!(
        "UPDATE accounts SET {column} = $1, updated_at = $2 WHERE id = $3"
    ))
    .bind(value)
    .bind(now_ms())
    .bind(target.id)
    .execute(&mut *conn)
    .await?;
    let ev = Event {
        actor,
        action,
        target: Some(&target.username),
        detail,
    };
    audit::record(conn, meta, ev).await?;
    find(conn, target.id).await
}

pub async fn change_role(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    role: Role,
) -> SvcResult<AccountView> {
    db.write(|conn| {
        let (actor, meta) = (actor.to_string(), meta.clone());
        async move {
            let target = find(conn, id).await?;
            if target.role == role {
                return Ok(target);
            }
            if role != Role::Admin {
                guard_last_admin(conn, &target, "demoted").await?;
            }
            let detail = format!("{} → {}", target.role.as_str(), role.as_str());
            update_and_audit(
                conn,
                &meta,
                &actor,
                &target,
                "role",
                role.as_str().to_string(),
                "account.role_changed",
                Some(detail),
            )
            .await
        }
        .boxed()
    })
    .await
}

pub async fn set_disabled(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    disabled: bool,
) -> SvcResult<AccountView> {
    db.write(|conn| {
        let (actor, meta) = (actor.to_string(), meta.clone());
        async move {
            let target = find(conn, id).await?;
            if target.disabled == disabled {
                return Ok(target);
            }
            if disabled {
                guard_last_admin(conn, &target, "disabled").await?;
                session::delete_for_account(conn, id).await?;
            }
            let action = if disabled {
                "account.disabled"
            } else {
                "account.enabled"
            };
            update_and_audit(
                conn,
                &meta,
                &actor,
                &target,
                "disabled",
                i64::from(disabled),
                action,
                None,
            )
            .await
        }
        .boxed()
    })
    .await
}

/// Sets a new password chosen by an admin and ends every session of that account.
pub async fn reset_password(
    db: &Db,
    hasher: &PasswordHasher,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    password: &str,
) -> SvcResult<AccountView> {
    check_password(password)?;
    let hash = hasher.hash(password).await?;
    db.write(|conn| {
        let (actor, meta, hash) = (actor.to_string(), meta.clone(), hash.clone());
        async move {
            let target = find(conn, id).await?;
            session::delete_for_account(conn, id).await?;
            update_and_audit(
                conn,
                &meta,
                &actor,
                &target,
                "password_hash",
                hash.0,
                "account.password_reset",
                None,
            )
            .await
        }
        .boxed()
    })
    .await
}

/// How long until `key` (a username or an IP) may try again, if it is over its limit.
async fn throttled_for(
    db: &Db,
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
        let last_ok: Option<i64> = sqlx::query(
            "SELECT MAX(at) AS at FROM audit_events WHERE actor = $1 AND action = 'auth.sign_in'",
        )
        .bind(key.to_string())
        .fetch_one(&db.pool)
        .await?
        .try_get("at")?;
        last_ok.map_or(window_start, |t| t.max(window_start))
    } else {
        window_start
    };
    let sql = format!(
        "SELECT at FROM audit_events WHERE {column} = $1 AND action = 'auth.sign_in_failed' AND at > $2 \
         ORDER BY at DESC LIMIT 1 OFFSET $3"
    );
    let nth: Option<i64> = sqlx::query(&sql)
        .bind(key.to_string())
        .bind(since)
        .bind(i64::from(limit) - 1)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("at"))
        .transpose()?;
    Ok(nth.map(|at| {
        let wait_ms = (at + window_secs * 1000 - now).max(1000);
        ((wait_ms + 999) / 1000) as u64
    }))
}

/// Signs in. On success returns the new session token and the account.
pub async fn sign_in(
    db: &Db,
    settings: &Settings,
    hasher: &PasswordHasher,
    metrics: &super::metrics::Metrics,
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
    let window = settings.login_failure_window_secs;
    let by_account = throttled_for(
        db,
        "actor",
        &username,
        settings.login_max_failures_per_account,
        window,
    )
    .await?;
    let by_ip = match meta.ip.as_deref() {
        Some(ip) => throttled_for(db, "ip", ip, settings.login_max_failures_per_ip, window).await?,
        None => None,
    };
    if let Some(wait) = by_account.max(by_ip) {
        metrics.sign_in_throttled.inc();
        return Err(AppError::Throttled {
            retry_after_secs: wait,
        }
        .into());
    }

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
    let password_ok = hasher.verify(stored, password).await;

    match account {
        Some((id, role, false)) if password_ok => {
            let role: Role = role.parse()?;
            let token = db
                .write(|conn| {
                    let (username, meta, settings) =
                        (username.clone(), meta.clone(), settings.clone());
                    async move {
                        let token =
                            session::create(conn, &settings, id, meta.ip.as_deref()).await?;
                        sqlx::query("UPDATE accounts SET last_sign_in_at = $1 WHERE id = $2")
                            .bind(now_ms())
                            .bind(id)
                            .execute(&mut *conn)
                            .await?;
                        audit::record(
                            conn,
                            &meta,
                            Event {
                                actor: &username,
                                action: "auth.sign_in",
                                target: None,
                                detail: None,
                            },
                        )
                        .await?;
                        Ok(token)
                    }
                    .boxed()
                })
                .await?;
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
            db.write(|conn| {
                let (username, meta) = (username.clone(), meta.clone());
                async move {
                    audit::record(
                        conn,
                        &meta,
                        Event {
                            actor: &username,
                            action: "auth.sign_in_failed",
                            target: None,
                            detail: None,
                        },
                    )
                    .await
                }
                .boxed()
            })
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

/// What the first start did about accounts.
#[derive(Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// Accounts already existed; nothing was done.
    Existing,
    /// The admin named by `CLAVIS_ADMIN_USERNAME`/`CLAVIS_ADMIN_PASSWORD` was created.
    FromEnvironment(String),
    /// An `admin` account with this random password was created; print it once.
    Generated(GeneratedPassword),
}

/// A generated first-start password. Shown once on the console; never `Debug`-printed.
pub struct GeneratedPassword(pub String);

impl std::fmt::Debug for GeneratedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GeneratedPassword(<hidden>)")
    }
}

impl PartialEq for GeneratedPassword {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}
impl Eq for GeneratedPassword {}

/// Creates the first admin when there are no accounts at all.
pub async fn bootstrap(
    db: &Db,
    hasher: &PasswordHasher,
    from_env: Option<(String, String)>,
) -> SvcResult<Bootstrap> {
    if count(db).await? > 0 {
        return Ok(Bootstrap::Existing);
    }
    let meta = RequestMeta::default();
    match from_env {
        Some((user, pass)) => {
            let acc = create(db, hasher, "system", &meta, &user, &pass, Role::Admin).await?;
            Ok(Bootstrap::FromEnvironment(acc.username))
        }
        None => {
            let mut raw = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut raw);
            let password = hex::encode(raw);
            create(db, hasher, "system", &meta, "admin", &password, Role::Admin).await?;
            Ok(Bootstrap::Generated(GeneratedPassword(password)))
        }
    }
}
