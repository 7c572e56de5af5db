//! Refreshing a grant: a refresh token rotates on every use, in one transaction that marks the
//! token used and stores its successor in the same family (see `grant`). A used token
//! presented again revokes the whole family (RFC 9700 §4.14), unless it comes within
//! `refresh_token_reuse_interval` of its rotation: then it is the same client refreshing twice
//! at once (two tabs, a retry after a lost answer), and it rotates once more.

use futures::FutureExt;
use sqlx::Row;

use super::grant::{
    audit_event, hash, person_enabled, revoke_family, store_refresh, Granted, Issue, Refused,
    GRANT_TTL_MS, OFFLINE_ACCESS,
};
use crate::infra::db::{now_ms, Db};
use crate::infra::{RequestMeta, SvcResult};

/// Rotates refresh token `token` of client `client_id` (already authenticated): marks it used
/// and stores `issue`'s one in the same family, in one transaction. A token used already
/// revokes the family, unless it was rotated less than `reuse_ms` ago: that is the same client
/// refreshing twice at once (two tabs, a retry after a lost answer), and it is rotated again.
pub async fn rotate_refresh(
    db: &Db,
    meta: &RequestMeta,
    client_id: &str,
    token: &str,
    issue: &Issue,
    reuse_ms: i64,
) -> SvcResult<Result<Granted, Refused>> {
    db.write(|conn| {
        let (meta, client_id, token) = (meta.clone(), client_id.to_string(), hash(token));
        let issue = issue.clone();
        async move {
            let now = now_ms();
            let Some(r) = sqlx::query(
                "SELECT family, client_id, person_id, scope, auth_time, expires_at, used_at, \
                 revoked_at, granted_at FROM refresh_tokens WHERE token_hash = $1",
            )
            .bind(token.clone())
            .fetch_optional(&mut *conn)
            .await?
            else {
                return Ok(Err("The refresh token is unknown."));
            };
            let family: String = r.try_get("family")?;
            if r.try_get::<String, _>("client_id")? != client_id {
                return Ok(Err("The refresh token was issued to another client."));
            }
            if r.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
                return Ok(Err("The refresh token is revoked."));
            }
            let used_at = r.try_get::<Option<i64>, _>("used_at")?;
            // A parallel refresh: soon after the rotation, and once only (the family holds
            // just the one successor, unused), so that a stolen token cannot grow a branch
            // of its own beside the app's.
            let within_reuse = match used_at {
                Some(u) if reuse_ms > 0 && now - u < reuse_ms => {
                    live_in_family(conn, &family).await? <= 1
                }
                _ => false,
            };
            if used_at.is_some() && !within_reuse {
                revoke_family(conn, &family, now).await?;
                audit_event(
                    conn,
                    &meta,
                    &client_id,
                    "refresh.reuse_detected",
                    "a refresh token was used again; its whole family is revoked",
                )
                .await?;
                return Ok(Err("The refresh token was used already."));
            }
            if r.try_get::<i64, _>("expires_at")? <= now {
                return Ok(Err("The refresh token has expired."));
            }
            let granted_at: i64 = r.try_get("granted_at")?;
            if granted_at + GRANT_TTL_MS <= now {
                return Ok(Err("The grant has ended: the person must sign in again."));
            }
            let scope: String = r.try_get("scope")?;
            if !scope.split(' ').any(|s| s == OFFLINE_ACCESS) {
                // From before refresh tokens needed offline_access: it ends here, unchanged.
                return Ok(Err(
                    "The grant has no offline_access: the person must sign in again.",
                ));
            }
            let person_id: i64 = r.try_get("person_id")?;
            if !person_enabled(conn, person_id).await? {
                return Ok(Err("The person is disabled."));
            }
            if within_reuse {
                audit_event(
                    conn,
                    &meta,
                    &client_id,
                    "refresh.parallel_reuse",
                    "a refresh token was used again within the reuse interval; rotated once more",
                )
                .await?;
            } else {
                // The guard code redemption has too: only one rotation marks the token used.
                let marked = sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $1 \
                     WHERE token_hash = $2 AND used_at IS NULL",
                )
                .bind(now)
                .bind(token)
                .execute(&mut *conn)
                .await?;
                if marked.rows_affected() != 1 {
                    // Another rotation got there first (the isolation level should already
                    // prevent this): refuse this one, and leave the grant as it is.
                    return Ok(Err("The refresh token was used already."));
                }
            }
            let granted = Granted {
                family,
                person_id,
                scope,
                nonce: None,
                auth_time: r.try_get("auth_time")?,
                granted_at,
            };
            store_refresh(conn, &granted, &client_id, &issue, now).await?;
            Ok(Ok(granted))
        }
        .boxed()
    })
    .await
}

/// A refresh token as introspection describes it: live (unused, unrevoked, unexpired, its
/// person enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRefresh {
    pub family: String,
    pub client_id: String,
    pub subject: String,
    pub scope: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub expires_at: i64,
}

/// The live refresh token `token`, if it is one.
pub async fn live_refresh(db: &Db, token: &str) -> SvcResult<Option<LiveRefresh>> {
    let row = sqlx::query(
        "SELECT r.family, r.client_id, p.subject, r.scope, r.created_at, r.expires_at \
         FROM refresh_tokens r JOIN people p ON p.id = r.person_id \
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.revoked_at IS NULL \
         AND r.expires_at > $2 AND p.disabled = 0",
    )
    .bind(hash(token))
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(LiveRefresh {
            family: r.try_get("family")?,
            client_id: r.try_get("client_id")?,
            subject: r.try_get("subject")?,
            scope: r.try_get("scope")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| e.into())
}

/// How many refresh tokens of `family` can still be used.
async fn live_in_family(conn: &mut sqlx::AnyConnection, family: &str) -> SvcResult<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM refresh_tokens WHERE family = $1 AND used_at IS NULL \
         AND revoked_at IS NULL",
    )
    .bind(family.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}
