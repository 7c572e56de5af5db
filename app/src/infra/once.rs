//! Single-use keys: a change that must not happen twice (creating a client, rotating a secret)
//! records its request's key in its own transaction. A second request with the same key finds
//! it, and its transaction rolls back with `AppError::AlreadyApplied`, so nothing changes.
//!
//! Reloading the no-JavaScript answer page re-sends the form, and a double click may send it
//! twice: both carry the form's token, so both are this second request.

use sqlx::{AnyConnection, Row};

use super::db::{now_ms, Db};
use super::{RequestMeta, SvcResult};
use crate::error::AppError;

/// On a plain form post answered with `AlreadyApplied`: the page of what the first post made.
/// Set by `edge`, read and removed by `secrets::one_time_page`, which answers with a page that
/// says so; it never leaves the server.
pub const ANSWER_HEADER: &str = "x-clavis-already-applied";

pub use super::{API_KEEP_MS, KEEP_MS};

/// Records the request's key (if it has one) as applied. Call it first in the change's
/// transaction, before any check that a repeat would trip over (a name now taken); when the
/// key was already applied, the error rolls that transaction back. `settle` then records what
/// the change made.
pub async fn claim(conn: &mut AnyConnection, meta: &RequestMeta, actor: &str) -> SvcResult<()> {
    let Some(once) = meta.once.as_ref() else {
        return Ok(());
    };
    let inserted = sqlx::query(
        "INSERT INTO applied_requests (key, actor, fingerprint, outcome, applied_at) \
         VALUES ($1, $2, $3, '', $4) ON CONFLICT (key) DO NOTHING",
    )
    .bind(once.key.clone())
    .bind(actor.to_string())
    .bind(once.fingerprint.clone())
    .bind(now_ms())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(());
    }
    let first =
        sqlx::query("SELECT fingerprint, outcome, applied_at FROM applied_requests WHERE key = $1")
            .bind(once.key.clone())
            .fetch_optional(&mut *conn)
            .await?;
    let now = now_ms();
    match first {
        // Past its time the key is a new request: it takes the key over.
        // (Only if it is still expired: of two requests taking the same key over, one does.)
        Some(r) if r.try_get::<i64, _>("applied_at")? < now - once.keep_ms => {
            let taken = sqlx::query(
                "UPDATE applied_requests SET actor = $1, fingerprint = $2, outcome = '', applied_at = $3 \
                 WHERE key = $4 AND applied_at < $5",
            )
            .bind(actor.to_string())
            .bind(once.fingerprint.clone())
            .bind(now)
            .bind(once.key.clone())
            .bind(now - once.keep_ms)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if taken == 1 {
                Ok(())
            } else if once.api {
                Err(AppError::KeyReused.into())
            } else {
                Err(AppError::Conflict("This form was just sent. Reload the page to see what it did.".into()).into())
            }
        }
        Some(r) if r.try_get::<String, _>("fingerprint")? == once.fingerprint => {
            Err(AppError::AlreadyApplied {
                href: r.try_get("outcome")?,
            }
            .into())
        }
        _ if once.api => Err(AppError::KeyReused.into()),
        // The same form with other content (a page brought back from the browser's history
        // and filled in again), or a key forgotten just now: nothing to link to.
        _ => Err(AppError::Conflict(
            "This form was already used for another change. Reload the page, fill it in again and send it."
                .into(),
        )
        .into()),
    }
}

/// Records `outcome` (the page of what the change made) for the key `claim` recorded, in the
/// same transaction, so that a repeat can link to it.
pub async fn settle(conn: &mut AnyConnection, meta: &RequestMeta, outcome: &str) -> SvcResult<()> {
    if let Some(once) = meta.once.as_ref() {
        sqlx::query("UPDATE applied_requests SET outcome = $1 WHERE key = $2")
            .bind(outcome.to_string())
            .bind(once.key.clone())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Forgets keys older than `KEEP_MS`. Returns how many.
pub async fn purge(db: &Db, now: i64) -> SvcResult<u64> {
    Ok(
        sqlx::query("DELETE FROM applied_requests WHERE applied_at < $1")
            .bind(now - KEEP_MS)
            .execute(&db.pool)
            .await?
            .rows_affected(),
    )
}
