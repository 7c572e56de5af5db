//! The storage flag `client_secrets_stored_as_one_way_hash` (false): the sealed copies of
//! client secrets. Revealing one to an administrator (audited as `secret.revealed`), erasing
//! them all when the flag is switched back to true, and checking at the start that the
//! key-encryption key opens them.
//!
//! A sealed copy is made with the secret (`service::insert_current`) and erased when the
//! secret is revoked or expires (`service::revoke_row`, `service::expire_due`).

use sqlx::Row;

use super::format::sealed_aad;
use super::owner::{find_client, secrets_page};
use super::IssuedSecretOnce;
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::once;
use crate::infra::seal::Kek;
use crate::infra::{RequestMeta, SvcError, SvcResult};

/// Why a secret is not readable, in the words the console and the API show.
pub const NOT_READABLE: &str =
    "Not readable: this secret is stored as a hash only. Rotate to get a readable secret.";

/// The plaintext of one valid secret of `client_id`, opened from its sealed copy, for the one
/// answer to the administrator who asked. Audited as `secret.revealed` (with the hint only, and
/// `file`: the name of the one configuration file it is revealed for, if so).
/// The caller has checked the role (and, in the console, the password again).
pub async fn reveal(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    secret_id: i64,
    file: Option<&str>,
) -> SvcResult<IssuedSecretOnce> {
    let file = file.map(str::to_string);
    let kek = db.secret_seal.clone();
    let now = db.now();
    db.write(|conn| {
        let (actor, meta, client_id, kek, file) = (
            actor.to_string(),
            meta.clone(),
            client_id.to_string(),
            kek.clone(),
            file.clone(),
        );
        Box::pin(async move {
            let c = find_client(conn, &client_id, false).await?;
            once::claim(conn, &meta, &actor).await?;
            let row = sqlx::query(
                "SELECT hash, hint, state, expires_at, sealed FROM client_secrets \
                 WHERE id = $1 AND client_pk = $2",
            )
            .bind(secret_id)
            .bind(c.pk)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| AppError::NotFound("The secret".into()))?;
            let state: String = row.try_get("state")?;
            let expires_at: Option<i64> = row.try_get("expires_at")?;
            // A current secret past its lifetime is as dead as an expired rotated one.
            let valid = matches!(state.as_str(), "current" | "rotated")
                && expires_at.is_none_or(|at| at > now);
            if !valid {
                return Err(AppError::Conflict(
                    "This secret is revoked or expired: it is never shown again.".into(),
                )
                .into());
            }
            let sealed: Option<String> = row.try_get("sealed")?;
            let (Some(sealed), Some(kek)) = (sealed, kek) else {
                return Err(AppError::Conflict(NOT_READABLE.into()).into());
            };
            let hash: String = row.try_get("hash")?;
            let hint: String = row.try_get("hint")?;
            let opened = kek
                .open(&sealed, &sealed_aad(&hash))
                .map_err(|e| SvcError::Internal(format!("a sealed secret does not open: {e}")))?;
            let secret = String::from_utf8(opened)
                .map_err(|_| SvcError::Internal("a sealed secret is not text".into()))?;
            let ev = Event {
                actor: &actor,
                action: "secret.revealed",
                target: Some(&client_id),
                detail: Some(match &file {
                    Some(f) => format!("secret …{hint}, for the file {f}"),
                    None => format!("secret …{hint}"),
                }),
            };
            audit::record(conn, &meta, ev).await?;
            let page = secrets_page(conn, &c).await?;
            once::settle(conn, &meta, &page).await?;
            Ok(IssuedSecretOnce {
                client_id: c.client_id.clone(),
                client_name: c.name.clone(),
                secret,
                hint,
                expires_at,
            })
        })
    })
    .await
}

/// Erases every sealed copy in one transaction (the flag switched back to true), audited as
/// `secret.sealed_copies_erased` with the count. The secrets stay valid, as hashes only.
pub async fn erase_all(db: &Db, meta: &RequestMeta) -> SvcResult<u64> {
    db.write(|conn| {
        let meta = meta.clone();
        Box::pin(async move {
            let n = sqlx::query("UPDATE client_secrets SET sealed = NULL WHERE sealed IS NOT NULL")
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if n > 0 {
                let ev = Event {
                    actor: "clavis",
                    action: "secret.sealed_copies_erased",
                    target: None,
                    detail: Some(format!(
                        "{n} sealed copies erased: client_secrets_stored_as_one_way_hash is true"
                    )),
                };
                audit::record(conn, &meta, ev).await?;
            }
            Ok(n)
        })
    })
    .await
}

/// Whether `kek` opens the sealed copies (one is tried): a wrong key-encryption key must stop
/// the start, not fail the first reveal.
pub async fn check_key(db: &Db, kek: &Kek) -> SvcResult<bool> {
    let row = sqlx::query(
        "SELECT hash, sealed FROM client_secrets WHERE sealed IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else {
        return Ok(true);
    };
    let hash: String = row.try_get("hash")?;
    let sealed: String = row.try_get("sealed")?;
    Ok(kek.open(&sealed, &sealed_aad(&hash)).is_ok())
}
