//! The secret lifecycle: issue, rotate (with a cap on rotated secrets), revoke, expire, and the
//! overview a client's page shows. Checking a presented secret is `verify`.
//!
//! Rules that live here:
//! - a confidential client has exactly one current secret (also enforced by a unique index);
//! - a rotation makes the current secret rotated, issues a new current one and revokes the
//!   oldest rotated secrets beyond `max_rotated`, all in one transaction;
//! - rotated secrets stay valid until revoked or until `expires_at`; revoked and expired ones
//!   never match, and nothing is cached, so a revocation takes effect on the next request;
//! - public clients never have a secret.
//!
//! Every mutation locks the client's row first (`lock_client`), so that concurrent rotations of
//! one client queue instead of failing.

use futures::FutureExt;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

pub use super::issue::issue_first;
use super::issue::{created_detail, insert_current, issued, refuse_public, Making};
use super::owner::{find_client, secrets_page, ClientRow};
pub use super::Grace;
use super::{
    effective_lifetime, is_safe_to_revoke, rotation_overflow, IssuedSecretOnce, SecretMeta,
    SecretState, SecretsView,
};
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::{Db, Engine};
use crate::infra::once;
use crate::infra::settings::Settings;
use crate::infra::{RequestMeta, SvcResult};
use crate::webhooks::outbox::{emit, emit_secret, rfc3339, Subject};
use crate::webhooks::EventType;

pub use crate::audit::SYSTEM_ACTOR;
const HISTORY_LIMIT: i64 = 100;

/// What the secret rules need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_rotated: u32,
    pub default_grace_secs: Option<i64>,
    pub unused_days: i64,
}

impl From<&Settings> for Policy {
    fn from(s: &Settings) -> Self {
        Policy {
            max_rotated: s.max_rotated_secrets,
            default_grace_secs: s.rotated_secret_ttl_secs,
            unused_days: s.rotated_secret_unused_days,
        }
    }
}

/// Finds the client and locks its row until the transaction ends (PostgreSQL: `FOR UPDATE`;
/// SQLite: the whole database is already locked by `BEGIN IMMEDIATE`).
async fn lock_client(
    conn: &mut AnyConnection,
    engine: Engine,
    client_id: &str,
) -> SvcResult<ClientRow> {
    find_client(conn, client_id, engine == Engine::Postgres).await
}

/// Rotates the client's secret and returns the new plaintext. When the client has no current
/// secret yet (it was created before secrets existed), this issues the first one.
pub async fn rotate(
    db: &Db,
    policy: Policy,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    grace: Grace,
) -> SvcResult<IssuedSecretOnce> {
    Ok(rotate_reporting(db, policy, actor, meta, client_id, grace)
        .await?
        .0)
}

/// What a rotation did besides issuing the new secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The new current secret.
    pub secret_id: i64,
    /// The rotated secrets it revoked because of the limit.
    pub auto_revoked: Vec<i64>,
}

/// The id of the client's current secret.
async fn current_id(conn: &mut AnyConnection, client_pk: i64) -> SvcResult<i64> {
    let row =
        sqlx::query("SELECT id FROM client_secrets WHERE client_pk = $1 AND state = 'current'")
            .bind(client_pk)
            .fetch_one(&mut *conn)
            .await?;
    Ok(row.try_get("id")?)
}

/// `rotate`, also saying which secret it made and which it revoked.
pub async fn rotate_reporting(
    db: &Db,
    policy: Policy,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    grace: Grace,
) -> SvcResult<(IssuedSecretOnce, Rotation)> {
    let engine = db.engine;
    let making = Making::of(db);
    let now = db.now();
    db.write_locking(|conn| {
        let (meta, actor, client_id) = (meta.clone(), actor.to_string(), client_id.to_string());
        let making = making.clone();
        async move {
            let c = lock_client(conn, engine, &client_id).await?;
            refuse_public(&c)?;
            once::claim(conn, &meta, &actor).await?;
            let current = sqlx::query(
                "SELECT id, hint, expires_at FROM client_secrets WHERE client_pk = $1 AND state = 'current'",
            )
            .bind(c.pk)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(current) = current else {
                let made = insert_current(conn, &making, &c, &actor, now).await?;
                let detail = Some(created_detail(&made));
                audit::record(conn, &meta, Event { actor: &actor, action: "secret.created", target: Some(&client_id), detail }).await?;
                let secret_id = current_id(conn, c.pk).await?;
                emit_secret(conn, &meta, now, &actor, EventType::SecretCreated, &client_id, secret_id).await?;
                let page = secrets_page(conn, &c).await?;
                once::settle(conn, &meta, &format!("{page}#secret-{secret_id}")).await?;
                let done = Rotation { secret_id, auto_revoked: Vec::new() };
                return Ok((issued(&c, made), done));
            };
            let old_id: i64 = current.try_get("id")?;
            let old_hint: String = current.try_get("hint")?;
            // A grace period never outlives the secret's own lifetime.
            let lifetime_end: Option<i64> = current.try_get("expires_at")?;
            let expires_at = match grace {
                Grace::UntilRevoked => lifetime_end,
                Grace::For(secs) => Some(lifetime_end.map_or(now + secs * 1000, |end| end.min(now + secs * 1000))),
            };
            sqlx::query("UPDATE client_secrets SET state = 'rotated', rotated_at = $1, expires_at = $2 WHERE id = $3")
                .bind(now)
                .bind(expires_at)
                .bind(old_id)
                .execute(&mut *conn)
                .await?;
            let made = insert_current(conn, &making, &c, &actor, now).await?;
            let detail = Some(format!("secret …{old_hint} replaced by {}", created_detail(&made).trim_start_matches("secret ")));
            audit::record(conn, &meta, Event { actor: &actor, action: "secret.rotated", target: Some(&client_id), detail }).await?;
            // The valid rotated secrets, newest first; the one just rotated is among them.
            let rotated = valid_rotated(conn, c.pk, now).await?;
            let mut auto_revoked = Vec::new();
            for (id, hint) in rotation_overflow(&rotated, policy.max_rotated) {
                if !revoke_row(conn, id, Some(&actor), "rotation limit", now).await? {
                    continue;
                }
                auto_revoked.push(id);
                let detail = Some(format!("secret …{hint}: rotation limit of {} reached", policy.max_rotated));
                audit::record(conn, &meta, Event { actor: &actor, action: "secret.auto_revoked", target: Some(&client_id), detail }).await?;
                emit_secret(conn, &meta, now, &actor, EventType::SecretRevoked, &client_id, id).await?;
            }
            let secret_id = current_id(conn, c.pk).await?;
            let subject = Subject {
                extra: Some(serde_json::json!({ "previous_secret": { "id": old_id, "hint": old_hint, "expires_at": expires_at.map(rfc3339) } })),
                ..Subject::secret(&client_id, secret_id)
            };
            emit(conn, &meta, now, &actor, EventType::SecretRotated, subject).await?;
            // A repeat names the client's page and this secret.
            let page = secrets_page(conn, &c).await?;
            once::settle(conn, &meta, &format!("{page}#secret-{secret_id}")).await?;
            Ok((issued(&c, made), Rotation { secret_id, auto_revoked }))
        }
        .boxed()
    })
    .await
}

/// Ids and hints of the rotated secrets that are still valid at `now`, newest first.
async fn valid_rotated(
    conn: &mut AnyConnection,
    client_pk: i64,
    now: i64,
) -> SvcResult<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT id, hint FROM client_secrets WHERE client_pk = $1 AND state = 'rotated' \
         AND (expires_at IS NULL OR expires_at > $2) ORDER BY rotated_at DESC, id DESC",
    )
    .bind(client_pk)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("hint")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Revokes a rotated secret that is still valid at `now`. False when it no longer is: the
/// expiry (which does not lock the client) may have got there between the caller's read and
/// this write, and then the secret keeps the one state and the one audit event it has.
async fn revoke_row(
    conn: &mut AnyConnection,
    id: i64,
    by: Option<&str>,
    reason: &str,
    now: i64,
) -> SvcResult<bool> {
    let done = sqlx::query(
        "UPDATE client_secrets SET state = 'revoked', revoked_at = $1, revoked_by = $2, revoked_reason = $3, sealed = NULL \
         WHERE id = $4 AND state = 'rotated' AND (expires_at IS NULL OR expires_at > $1)",
    )
    .bind(now)
    .bind(by.map(str::to_string))
    .bind(reason.to_string())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes one rotated secret. The current secret cannot be revoked (rotate it instead), and a
/// secret that is already revoked or expired is reported as such.
pub async fn revoke(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    secret_id: i64,
) -> SvcResult<()> {
    let engine = db.engine;
    let now = db.now();
    db.write_locking(|conn| {
        let (meta, actor, client_id) = (meta.clone(), actor.to_string(), client_id.to_string());
        async move {
            let c = lock_client(conn, engine, &client_id).await?;
            let row = sqlx::query("SELECT state, hint, expires_at FROM client_secrets WHERE id = $1 AND client_pk = $2")
                .bind(secret_id)
                .bind(c.pk)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| AppError::NotFound("The secret".into()))?;
            let state: String = row.try_get("state")?;
            let hint: String = row.try_get("hint")?;
            let expired = row.try_get::<Option<i64>, _>("expires_at")?.is_some_and(|at| at <= now);
            match state.as_str() {
                "current" => {
                    return Err(AppError::Conflict(
                        "The current secret cannot be revoked on its own: rotate it first, then revoke the rotated one.".into(),
                    )
                    .into())
                }
                "revoked" => return Err(AppError::Conflict(format!("Secret …{hint} is already revoked.")).into()),
                _ if expired => return Err(AppError::Conflict(format!("Secret …{hint} has already expired.")).into()),
                _ => {}
            }
            if !revoke_row(conn, secret_id, Some(&actor), "revoked", now).await? {
                return Err(AppError::Conflict(format!("Secret …{hint} has already expired.")).into());
            }
            let detail = Some(format!("secret …{hint}"));
            audit::record(conn, &meta, Event { actor: &actor, action: "secret.revoked", target: Some(&client_id), detail }).await?;
            emit_secret(conn, &meta, now, &actor, EventType::SecretRevoked, &client_id, secret_id).await
        }
        .boxed()
    })
    .await
}

/// Revokes every rotated secret of the client that is still valid. Returns how many.
pub async fn revoke_all_rotated(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
) -> SvcResult<u32> {
    let engine = db.engine;
    let now = db.now();
    db.write_locking(|conn| {
        let (meta, actor, client_id) = (meta.clone(), actor.to_string(), client_id.to_string());
        async move {
            let c = lock_client(conn, engine, &client_id).await?;
            let rotated = valid_rotated(conn, c.pk, now).await?;
            let mut revoked = 0u32;
            for (id, hint) in &rotated {
                if !revoke_row(conn, *id, Some(&actor), "revoked", now).await? {
                    continue;
                }
                revoked += 1;
                let detail = Some(format!("secret …{hint} (revoke all rotated)"));
                audit::record(
                    conn,
                    &meta,
                    Event {
                        actor: &actor,
                        action: "secret.revoked",
                        target: Some(&client_id),
                        detail,
                    },
                )
                .await?;
                emit_secret(
                    conn,
                    &meta,
                    now,
                    &actor,
                    EventType::SecretRevoked,
                    &client_id,
                    *id,
                )
                .await?;
            }
            Ok(revoked)
        }
        .boxed()
    })
    .await
}

/// Marks rotated secrets whose grace ended at or before `now` as expired. Run by a background
/// task; verification ignores such secrets even before this runs.
pub async fn expire_due(db: &Db, now: i64) -> SvcResult<u32> {
    db.write_locking(|conn| {
        async move {
            let rows = sqlx::query(
                "UPDATE client_secrets SET state = 'revoked', revoked_at = $1, revoked_reason = 'expired', sealed = NULL \
                 WHERE state = 'rotated' AND expires_at IS NOT NULL AND expires_at <= $1 \
                 RETURNING id, hint, client_pk",
            )
            .bind(now)
            .fetch_all(&mut *conn)
            .await?;
            let meta = RequestMeta::default();
            for r in &rows {
                let client_id: String = sqlx::query("SELECT client_id FROM clients WHERE id = $1")
                    .bind(r.try_get::<i64, _>("client_pk")?)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get("client_id")?;
                let hint: String = r.try_get("hint")?;
                let detail = Some(format!("secret …{hint}: grace period ended"));
                audit::record(conn, &meta, Event { actor: SYSTEM_ACTOR, action: "secret.expired", target: Some(&client_id), detail }).await?;
                let id: i64 = r.try_get("id")?;
                if crate::webhooks::outbox::claim_notice(conn, id, 0, now).await? {
                    emit_secret(conn, &meta, now, SYSTEM_ACTOR, EventType::SecretExpired, &client_id, id).await?;
                }
            }
            Ok(rows.len() as u32)
        }
        .boxed()
    })
    .await
}

fn row_to_meta(r: &AnyRow, now: i64, unused_days: i64) -> Result<SecretMeta, sqlx::Error> {
    let state: String = r.try_get("state")?;
    let expires_at: Option<i64> = r.try_get("expires_at")?;
    let reason: Option<String> = r.try_get("revoked_reason")?;
    let state = match state.as_str() {
        "current" => SecretState::Current,
        "rotated" if expires_at.is_some_and(|at| at <= now) => SecretState::Expired,
        "rotated" => SecretState::Rotated,
        _ if reason.as_deref() == Some("expired") => SecretState::Expired,
        _ => SecretState::Revoked,
    };
    let mut m = SecretMeta {
        id: r.try_get("id")?,
        hint: r.try_get("hint")?,
        state,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        rotated_at: r.try_get("rotated_at")?,
        expires_at,
        revoked_at: r.try_get("revoked_at")?,
        revoked_by: r.try_get("revoked_by")?,
        revoked_reason: reason,
        last_used_at: r.try_get("last_used_at")?,
        safe_to_revoke: false,
        readable: r.try_get::<i64, _>("readable")? == 1,
        share_pct: None,
        days_left: expires_at.map(|at| crate::attention::days_left(at, now)),
    };
    m.safe_to_revoke = is_safe_to_revoke(&m, now, unused_days);
    Ok(m)
}

/// `n` of `total` requests in whole percent, rounded to the nearest; `None` without requests.
fn share(n: Option<i64>, total: i64) -> Option<u32> {
    match (n, total) {
        (_, 0) => None,
        (n, total) => Some(((n.unwrap_or(0) * 100 + total / 2) / total) as u32),
    }
}

/// The client's current secret and its history, as metadata only (never a hash).
pub async fn overview(db: &Db, policy: Policy, client_id: &str) -> SvcResult<SecretsView> {
    let mut conn = db.pool.acquire().await?;
    let c = find_client(&mut conn, client_id, false).await?;
    let now = db.now();
    let rows = sqlx::query(
        "SELECT id, hint, state, created_at, created_by, rotated_at, expires_at, revoked_at, revoked_by, \
         revoked_reason, last_used_at, CAST(CASE WHEN sealed IS NULL THEN 0 ELSE 1 END AS BIGINT) AS readable \
         FROM client_secrets WHERE client_pk = $1 \
         ORDER BY CASE state WHEN 'current' THEN 0 WHEN 'rotated' THEN 1 ELSE 2 END, \
         COALESCE(revoked_at, rotated_at, created_at) DESC, id DESC LIMIT $2",
    )
    .bind(c.pk)
    .bind(HISTORY_LIMIT)
    .fetch_all(&mut *conn)
    .await?;
    drop(conn);
    let (counts, total) = crate::usage::service::secret_counts(db, c.pk, now).await?;
    let mut current = None;
    let mut previous = Vec::new();
    for r in &rows {
        let mut m = row_to_meta(r, now, policy.unused_days)?;
        m.share_pct = share(counts.get(&m.id).copied(), total);
        if m.state == SecretState::Current {
            current = Some(m);
        } else {
            previous.push(m);
        }
    }
    let cannot_authenticate = c.kind.has_secret()
        && current
            .as_ref()
            .is_none_or(|m: &SecretMeta| m.expires_at.is_some_and(|at| at <= now));
    Ok(SecretsView {
        has_secret: c.kind.has_secret(),
        current,
        previous,
        max_rotated: policy.max_rotated,
        default_grace_secs: policy.default_grace_secs,
        unused_days: policy.unused_days,
        stored_readable: db.secret_seal.is_some(),
        lifetime_secs: effective_lifetime(c.secret_lifetime, db.secret_max_lifetime),
        cannot_authenticate,
    })
}
