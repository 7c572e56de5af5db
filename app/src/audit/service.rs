//! Recording audit events, and reading them back a page at a time.
//!
//! CAUTION: nothing that is a password, a secret or a hash may ever be passed in here. Actions
//! take names and ids only; `detail` is a short human sentence built from such values.

use sqlx::{AnyConnection, Row};

use super::{AuditEntry, AuditFilter, AuditPage};
use crate::infra::db::{now_ms, Db, SqlBuilder};
use crate::infra::{RequestMeta, SvcResult};

pub const PAGE_SIZE: i64 = 50;

/// One event to record.
pub struct Event<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<String>,
}

pub async fn record(conn: &mut AnyConnection, meta: &RequestMeta, ev: Event<'_>) -> SvcResult<()> {
    record_open(conn, meta, ev).await.map(|_| ())
}

/// Records an event whose outcome comes later, and returns its id for `complete`. The row
/// stands for what is known so far (such as a sign-in attempt), and stays so if the outcome
/// never comes.
pub async fn record_open(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    ev: Event<'_>,
) -> SvcResult<i64> {
    let row = sqlx::query(
        "INSERT INTO audit_events (at, actor, action, target, ip, detail, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(now_ms())
    .bind(ev.actor.to_string())
    .bind(ev.action.to_string())
    .bind(ev.target.map(str::to_string))
    .bind(meta.ip.clone())
    .bind(ev.detail)
    .bind(meta.request_id.clone())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Sets the outcome (`action`) of an event recorded with `record_open`.
pub async fn complete(conn: &mut AnyConnection, id: i64, action: &str) -> SvcResult<()> {
    sqlx::query("UPDATE audit_events SET action = $1 WHERE id = $2")
        .bind(action.to_string())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A page of events matching `filter`, newest first, keyset-paginated on the event id.
pub async fn query(db: &Db, filter: &AuditFilter) -> SvcResult<AuditPage> {
    let mut sql = SqlBuilder::new(
        "SELECT id, at, actor, action, target, ip, detail FROM audit_events WHERE 1 = 1",
    );
    if let Some(actor) = filter
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        sql.push(" AND actor = ").text(actor.to_ascii_lowercase());
    }
    if let Some(target) = filter.target.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" AND target = ").text(target);
    }
    if let Some(action) = filter.action.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" AND action = ").text(action);
    }
    if let Some(from) = filter.from {
        sql.push(" AND at >= ").int(from);
    }
    if let Some(to) = filter.to {
        sql.push(" AND at <= ").int(to);
    }
    if let Some(before) = filter.before {
        sql.push(" AND id < ").int(before);
    }
    sql.push(" ORDER BY id DESC LIMIT ").int(PAGE_SIZE + 1);
    let q = sql.query();
    let rows = q.fetch_all(&db.pool).await?;
    let mut entries = rows
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                ip: r.try_get("ip")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let next_before = if entries.len() as i64 > PAGE_SIZE {
        entries.truncate(PAGE_SIZE as usize);
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(AuditPage {
        entries,
        next_before,
    })
}
