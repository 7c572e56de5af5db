//! Every account change an administrator can make, and the first-start bootstrap.
//!
//! Rules that live here and nowhere else:
//! - usernames and passwords follow `accounts::normalize_username` and `check_password`;
//! - the last active administrator can be neither disabled nor demoted;
//! - disabling an account or resetting its password ends its sessions at once.
//!
//! Signing in and out is `signin::service`.

use futures::FutureExt;
use sqlx::{AnyConnection, Row};

use super::password::{PasswordHashValue, PasswordHasher};
use super::{check_password, normalize_username, AccountView, Role};
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::{now_ms, Db};
use crate::infra::session;
use crate::infra::{RequestMeta, SvcResult};

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

/// Refuses `username` if a row of `table` (accounts or people) has it, as a field error that
/// says "{what} named … already exists". The table's UNIQUE constraint backs this up.
pub(crate) async fn refuse_taken_username(
    conn: &mut AnyConnection,
    // CAUTION: interpolated into the SQL; only ever a fixed table name.
    table: &'static str,
    username: &str,
    what: &str,
) -> SvcResult<()> {
    let taken = sqlx::query(&format!("SELECT 1 AS one FROM {table} WHERE username = $1"))
        .bind(username.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match taken {
        Some(_) => Err(AppError::validation(
            "username",
            format!("{what} named {username} already exists."),
        )
        .into()),
        None => Ok(()),
    }
}

/// Inserts an account inside the caller's transaction. Fails with a field error on a taken name.
async fn insert(
    conn: &mut AnyConnection,
    username: &str,
    role: Role,
    hash: &PasswordHashValue,
) -> SvcResult<i64> {
    refuse_taken_username(conn, "accounts", username, "An account").await?;
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO accounts (username, password_hash, role, disabled, created_at, updated_at) \
         VALUES ($1, $2, $3, 0, $4, $5) RETURNING id",
    )
    .bind(username.to_string())
    .bind(hash.expose().to_string())
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
                hash.expose().to_string(),
                "account.password_reset",
                None,
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
