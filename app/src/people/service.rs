//! The directory of people: list a page at a time, create, disable and enable, reset a
//! password. Every change is one transaction with its audit event, which names the person by
//! username and never carries a password.
//!
//! Usernames and passwords follow the console's rules (`accounts::normalize_username`,
//! `accounts::check_password`), and passwords are hashed with the same argon2id hasher.

use futures::FutureExt;
use rand::RngCore;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{display_name, email, PeoplePage, PersonInput, PersonView, PAGE_SIZE};
use crate::accounts::password::PasswordHasher;
use crate::accounts::service::refuse_taken_username;
use crate::accounts::{check_password, normalize_username};
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::{now_ms, Db};
use crate::infra::{once, RequestMeta, SvcResult};

const COLUMNS: &str = "id, subject, username, display_name, email, disabled, created_at, \
     created_by, last_sign_in_at";

fn row_to_view(r: &AnyRow) -> Result<PersonView, sqlx::Error> {
    Ok(PersonView {
        id: r.try_get("id")?,
        subject: r.try_get("subject")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        last_sign_in_at: r.try_get("last_sign_in_at")?,
    })
}

/// 128 random bits, URL-safe: the `sub` apps know the person by.
fn new_subject() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("p_{}", hex::encode(b))
}

/// One page of the directory in username order, starting after `after` (a username).
pub async fn list(db: &Db, after: Option<&str>) -> SvcResult<PeoplePage> {
    let after = after.map(str::trim).filter(|a| !a.is_empty()).unwrap_or("");
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM people WHERE username > $1 ORDER BY username LIMIT $2"
    ))
    .bind(after.to_string())
    .bind(PAGE_SIZE as i64 + 1)
    .fetch_all(&db.pool)
    .await?;
    let mut people = rows
        .iter()
        .map(row_to_view)
        .collect::<Result<Vec<_>, _>>()?;
    let next_after = (people.len() > PAGE_SIZE).then(|| {
        people.truncate(PAGE_SIZE);
        people
            .last()
            .map(|p| p.username.clone())
            .unwrap_or_default()
    });
    Ok(PeoplePage { people, next_after })
}

async fn find(conn: &mut AnyConnection, id: i64) -> SvcResult<PersonView> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM people WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::NotFound("The person".into()))?;
    Ok(row_to_view(&row)?)
}

/// Adds a person (an administrator, or the CLI). Bad input names its field and adds nothing.
pub async fn create(
    db: &Db,
    hasher: &PasswordHasher,
    actor: &str,
    meta: &RequestMeta,
    input: &PersonInput,
) -> SvcResult<PersonView> {
    let username = normalize_username(&input.username)?;
    let name = display_name(&input.display_name)?;
    let email = email(&input.email)?;
    check_password(&input.password)?;
    let hash = hasher.hash(&input.password).await?;
    db.write(|conn| {
        let (actor, meta, hash) = (actor.to_string(), meta.clone(), hash.clone());
        let (username, name, email) = (username.clone(), name.clone(), email.clone());
        async move {
            once::claim(conn, &meta, &actor).await?;
            refuse_taken_username(conn, "people", &username, "A person").await?;
            let now = now_ms();
            let id: i64 = sqlx::query(
                "INSERT INTO people (subject, username, display_name, email, password_hash, \
                 disabled, created_at, created_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8) RETURNING id",
            )
            .bind(new_subject())
            .bind(username.clone())
            .bind(name)
            .bind(email)
            .bind(hash.expose().to_string())
            .bind(now)
            .bind(actor.clone())
            .bind(now)
            .fetch_one(&mut *conn)
            .await?
            .try_get("id")?;
            let ev = Event {
                actor: &actor,
                action: "person.created",
                target: Some(&username),
                detail: None,
            };
            audit::record(conn, &meta, ev).await?;
            once::settle(conn, &meta, "/people").await?;
            find(conn, id).await
        }
        .boxed()
    })
    .await
}

/// Sets `column` of person `id` to `value` and records `action`, in one transaction.
async fn change<T>(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    // CAUTION: interpolated into the SQL; only ever a fixed column name.
    column: &'static str,
    value: T,
    action: &'static str,
) -> SvcResult<PersonView>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Clone + Send + Sync + 'static,
{
    db.write(|conn| {
        let (actor, meta, value) = (actor.to_string(), meta.clone(), value.clone());
        async move {
            let target = find(conn, id).await?;
            sqlx::query(&format!(
                "UPDATE people SET {column} = $1, updated_at = $2 WHERE id = $3"
            ))
            .bind(value)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *conn)
            .await?;
            // Disabled, or a new password: their sessions at Clavis end now, and so does every
            // grant their apps hold (refresh tokens, and the access tokens issued with them).
            if action != "person.enabled" {
                super::session::end_all(conn, id).await?;
                crate::oauth::grant::revoke_person(conn, id, now_ms()).await?;
            }
            let ev = Event {
                actor: &actor,
                action,
                target: Some(&target.username),
                detail: None,
            };
            audit::record(conn, &meta, ev).await?;
            find(conn, id).await
        }
        .boxed()
    })
    .await
}

/// Disables (they can no longer sign in to apps) or enables a person.
pub async fn set_disabled(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    disabled: bool,
) -> SvcResult<PersonView> {
    let action = if disabled {
        "person.disabled"
    } else {
        "person.enabled"
    };
    // Already so (a second click, or two administrators): nothing to change or record.
    let current = find(&mut *db.pool.acquire().await?, id).await?;
    if current.disabled == disabled {
        return Ok(current);
    }
    change(db, actor, meta, id, "disabled", i64::from(disabled), action).await
}

/// Sets a new password chosen by an administrator.
pub async fn reset_password(
    db: &Db,
    hasher: &PasswordHasher,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    password: &str,
) -> SvcResult<PersonView> {
    check_password(password)?;
    let hash = hasher.hash(password).await?.expose().to_string();
    change(
        db,
        actor,
        meta,
        id,
        "password_hash",
        hash,
        "person.password_reset",
    )
    .await
}
