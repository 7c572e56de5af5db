//! Reading the daily counts: a client's last 30 days with its rotations and revocations, each
//! secret's share of the last 7 days, and pruning after 90 days.

use std::collections::HashMap;

use sqlx::Row;

use super::{day_of, DayUse, UsageView, UseKind, CHART_DAYS, KEEP_DAYS, SHARE_DAYS};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::SvcResult;

const DAY_MS: i64 = 86_400_000;

async fn client_pk(db: &Db, client_id: &str) -> SvcResult<i64> {
    let row = sqlx::query("SELECT id FROM clients WHERE client_id = $1")
        .bind(client_id.to_string())
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| AppError::NotFound("The client".into()))?;
    Ok(row.try_get("id")?)
}

/// The client's last `CHART_DAYS` days up to `now`'s, oldest first, every day present, with
/// the days its secrets were rotated or revoked.
pub async fn daily(db: &Db, client_id: &str, now: i64) -> SvcResult<UsageView> {
    let pk = client_pk(db, client_id).await?;
    let today = day_of(now);
    let first = today - (CHART_DAYS - 1);
    let mut days: Vec<DayUse> = (first..=today)
        .map(|day| DayUse {
            day,
            ..Default::default()
        })
        .collect();
    let rows = sqlx::query(
        "SELECT day, kind, CAST(SUM(count) AS BIGINT) AS n FROM client_usage_daily \
         WHERE client_pk = $1 AND day >= $2 AND day <= $3 GROUP BY day, kind",
    )
    .bind(pk)
    .bind(first)
    .bind(today)
    .fetch_all(&db.pool)
    .await?;
    for r in &rows {
        let day: i64 = r.try_get("day")?;
        let kind: String = r.try_get("kind")?;
        let n: i64 = r.try_get("n")?;
        let (Some(i), Some(d)) = (
            UseKind::parse(&kind).and_then(|k| UseKind::ALL.iter().position(|x| *x == k)),
            days.get_mut((day - first) as usize),
        ) else {
            continue;
        };
        d.counts[i] += n;
    }
    let since = first * DAY_MS;
    let events = sqlx::query(
        "SELECT rotated_at, revoked_at, revoked_reason FROM client_secrets \
         WHERE client_pk = $1 AND (rotated_at >= $2 OR revoked_at >= $2)",
    )
    .bind(pk)
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let slot = |at: Option<i64>| {
        at.map(day_of)
            .filter(|d| (first..=today).contains(d))
            .map(|d| (d - first) as usize)
    };
    for r in &events {
        if let Some(i) = slot(r.try_get("rotated_at")?) {
            days[i].rotations += 1;
        }
        // A grace period that ends is not something a person did.
        let reason: Option<String> = r.try_get("revoked_reason")?;
        if reason.as_deref() == Some("expired") {
            continue;
        }
        if let Some(i) = slot(r.try_get("revoked_at")?) {
            days[i].revocations += 1;
        }
    }
    Ok(UsageView { days })
}

/// Each secret's requests over the last `SHARE_DAYS` days (today included), and the client's
/// requests made with any secret, for "85% of requests".
pub async fn secret_counts(
    db: &Db,
    client_pk: i64,
    now: i64,
) -> SvcResult<(HashMap<i64, i64>, i64)> {
    let rows = sqlx::query(
        "SELECT secret_id, CAST(SUM(count) AS BIGINT) AS n FROM client_usage_daily \
         WHERE client_pk = $1 AND day > $2 AND secret_id <> 0 GROUP BY secret_id",
    )
    .bind(client_pk)
    .bind(day_of(now) - SHARE_DAYS)
    .fetch_all(&db.pool)
    .await?;
    let mut per = HashMap::new();
    let mut total = 0;
    for r in &rows {
        let n: i64 = r.try_get("n")?;
        per.insert(r.try_get::<i64, _>("secret_id")?, n);
        total += n;
    }
    Ok((per, total))
}

/// Forgets the counts older than `KEEP_DAYS` days. Returns how many rows went.
pub async fn prune(db: &Db, now: i64) -> SvcResult<u64> {
    let done = sqlx::query("DELETE FROM client_usage_daily WHERE day <= $1")
        .bind(day_of(now) - KEEP_DAYS)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
