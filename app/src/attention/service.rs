//! The groups of the Overview, each as one SQL text that is counted and paged. Every group is
//! read at the same `now`, so that an item moves from one group to the next between two
//! answers, never within one.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{
    Attention, AttentionItem, Group, GroupPage, Reason, IDLE_DAYS, IN_USE_MS, PAGE_DEFAULT,
    PAGE_MAX, RECENTLY_USED_MS,
};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::metrics::SecretGauges;
use crate::infra::settings::Settings;
use crate::infra::SvcResult;
use crate::usage::{day_of, SHARE_DAYS};

const DAY_MS: i64 = 86_400_000;

/// What the groups depend on besides the data.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub now: i64,
    pub unused_days: i64,
    /// The first notice window, in seconds.
    pub notice_secs: Option<i64>,
    pub policy_set: bool,
}

impl Rules {
    pub fn new(s: &Settings, now: i64) -> Self {
        Rules {
            now,
            unused_days: s.rotated_secret_unused_days,
            notice_secs: s.secret_expiry_notice_secs.first().copied(),
            policy_set: s.secret_max_lifetime_secs.is_some(),
        }
    }
}

/// The columns every group selects, in the order of `AttentionItem`.
const SECRET_ITEM: &str = "c.client_id, c.name, s.id AS secret_id, s.hint, s.expires_at, \
     s.last_used_at, s.rotated_at, s.created_at";
/// A rotated secret that is still valid at `$1`.
const VALID_ROTATED: &str = "s.state = 'rotated' AND (s.expires_at IS NULL OR s.expires_at > $1)";
const WITH_SECRET: &str = "c.client_type IN ('confidential_pkce', 'client_credentials')";

/// A group's query: `FROM …` with its conditions, what it selects, its order, and its values
/// for `$1`, `$2`, ….
struct GroupSql {
    select: String,
    from: String,
    order: &'static str,
    binds: Vec<i64>,
}

fn group_sql(g: Group, r: &Rules) -> GroupSql {
    let now = r.now;
    // Requests with the secret over the last 7 days: only for the rows of a page.
    // `$R` is numbered by `page`, after the conditions' values.
    let requests =
        "(SELECT CAST(SUM(u.count) AS BIGINT) FROM client_usage_daily u WHERE u.client_pk = s.client_pk \
         AND u.secret_id = s.id AND u.day > $R) AS requests_7d";
    match g {
        Group::CannotGetTokens => GroupSql {
            select: "t.*".into(),
            from: format!(
                "(SELECT c.client_id, c.name, s.id AS secret_id, s.hint, s.expires_at, \
                   c.last_used_at, CAST(NULL AS BIGINT) AS rotated_at, c.created_at, \
                   CASE WHEN s.id IS NULL THEN 'no_secret' ELSE 'secret_expired' END AS reason, \
                   CAST(NULL AS BIGINT) AS requests_7d \
                 FROM clients c LEFT JOIN client_secrets s ON s.client_pk = c.id AND s.state = 'current' \
                 WHERE c.enabled = 1 AND {WITH_SECRET} AND (s.id IS NULL OR s.expires_at <= $1) \
                 UNION ALL \
                 SELECT c.client_id, c.name, CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), \
                   c.last_used_at, CAST(NULL AS BIGINT), c.created_at, 'disabled_in_use', CAST(NULL AS BIGINT) \
                 FROM clients c WHERE c.enabled = 0 AND c.last_used_at >= $2) t"
            ),
            order: "COALESCE(t.expires_at, t.last_used_at, 0) DESC, t.client_id",
            binds: vec![now, now - RECENTLY_USED_MS],
        },
        Group::ExpiringSoon => GroupSql {
            select: format!("{SECRET_ITEM}, 'expiring' AS reason, CAST(NULL AS BIGINT) AS requests_7d"),
            from: "client_secrets s JOIN clients c ON c.id = s.client_pk \
                   WHERE s.state = 'current' AND c.enabled = 1 AND s.expires_at > $1 AND s.expires_at <= $2"
                .into(),
            order: "s.expires_at, s.id",
            binds: vec![now, now + r.notice_secs.unwrap_or(0) * 1000],
        },
        Group::RotatedInUse => GroupSql {
            select: format!("{SECRET_ITEM}, 'rotated_in_use' AS reason, {requests}"),
            from: format!(
                "client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE {VALID_ROTATED} AND s.last_used_at >= $2 AND s.last_used_at > s.rotated_at"
            ),
            order: "s.last_used_at DESC, s.id",
            binds: vec![now, now - IN_USE_MS],
        },
        Group::SafeToRevoke => GroupSql {
            select: format!("{SECRET_ITEM}, 'unused_rotated' AS reason, {requests}"),
            from: format!(
                "client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE {VALID_ROTATED} AND (s.last_used_at IS NULL OR s.last_used_at <= s.rotated_at \
                 OR s.last_used_at < $2)"
            ),
            order: "s.rotated_at, s.id",
            binds: vec![now, now - r.unused_days * DAY_MS],
        },
        Group::IdleClients => GroupSql {
            select: "c.client_id, c.name, CAST(NULL AS BIGINT) AS secret_id, CAST(NULL AS TEXT) AS hint, \
                     CAST(NULL AS BIGINT) AS expires_at, c.last_used_at, CAST(NULL AS BIGINT) AS rotated_at, \
                     c.created_at, CASE WHEN c.last_used_at IS NULL THEN 'never_used' ELSE 'unused' END AS reason, \
                     CAST(NULL AS BIGINT) AS requests_7d"
                .into(),
            from: "clients c WHERE c.enabled = 1 AND (c.last_used_at IS NULL OR c.last_used_at < $1)".into(),
            order: "COALESCE(c.last_used_at, c.created_at), c.client_id",
            binds: vec![now - IDLE_DAYS * DAY_MS],
        },
        Group::NoExpiry => GroupSql {
            select: format!("{SECRET_ITEM}, 'no_expiry' AS reason, CAST(NULL AS BIGINT) AS requests_7d"),
            // Without a policy nothing is expected to expire: the group is empty.
            from: "client_secrets s JOIN clients c ON c.id = s.client_pk \
                   WHERE $1 = 1 AND s.expires_at IS NULL AND s.state IN ('current', 'rotated')"
                .into(),
            order: "s.created_at, s.id",
            binds: vec![i64::from(r.policy_set)],
        },
    }
}

fn row_to_item(r: &AnyRow) -> Result<AttentionItem, sqlx::Error> {
    let reason: String = r.try_get("reason")?;
    Ok(AttentionItem {
        client_id: r.try_get("client_id")?,
        client_name: r.try_get("name")?,
        reason: Reason::parse(&reason)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown reason {reason}").into()))?,
        secret_id: r.try_get("secret_id")?,
        secret_hint: r.try_get("hint")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
        rotated_at: r.try_get("rotated_at")?,
        created_at: r.try_get("created_at")?,
        requests_7d: r.try_get("requests_7d")?,
    })
}

/// Reads `after` (an offset, as `next` gave it).
fn offset_of(after: Option<&str>) -> Result<i64, AppError> {
    match after.filter(|a| !a.is_empty()) {
        None => Ok(0),
        Some(a) => a
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=10_000_000).contains(n))
            .ok_or_else(|| {
                AppError::validation(
                    "after",
                    "This page link is not valid: start from the first page.",
                )
            }),
    }
}

/// Checks a page size: 1 to `PAGE_MAX`, `PAGE_DEFAULT` when absent.
pub fn page_size(limit: Option<u32>) -> Result<u32, AppError> {
    match limit {
        None => Ok(PAGE_DEFAULT),
        Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        Some(_) => Err(AppError::validation(
            "limit",
            format!("Ask for 1 to {PAGE_MAX} items per page."),
        )),
    }
}

/// How many items group `g` has.
pub async fn count(db: &Db, g: Group, r: &Rules) -> SvcResult<i64> {
    let q = group_sql(g, r);
    let sql = format!("SELECT COUNT(*) AS n FROM {}", q.from);
    let mut query = sqlx::query(&sql);
    for b in &q.binds {
        query = query.bind(*b);
    }
    Ok(query.fetch_one(&db.pool).await?.try_get("n")?)
}

/// One page of group `g`, and its count.
pub async fn page(
    db: &Db,
    g: Group,
    r: &Rules,
    after: Option<&str>,
    limit: u32,
) -> SvcResult<GroupPage> {
    let offset = offset_of(after)?;
    let q = group_sql(g, r);
    let n = q.binds.len();
    let uses_requests = q.select.contains("$R");
    let select = q.select.replace("$R", &format!("${}", n + 1));
    let n = n + usize::from(uses_requests);
    let sql = format!(
        "SELECT {select} FROM {} ORDER BY {} LIMIT ${} OFFSET ${}",
        q.from,
        q.order,
        n + 1,
        n + 2
    );
    let mut query = sqlx::query(&sql);
    for b in &q.binds {
        query = query.bind(*b);
    }
    if uses_requests {
        query = query.bind(day_of(r.now) - SHARE_DAYS);
    }
    let rows = query
        .bind(i64::from(limit) + 1)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
    let mut items = rows
        .iter()
        .map(row_to_item)
        .collect::<Result<Vec<_>, _>>()?;
    let next = (items.len() > limit as usize).then(|| (offset + i64::from(limit)).to_string());
    items.truncate(limit as usize);
    Ok(GroupPage {
        group: g,
        count: count(db, g, r).await?,
        items,
        next,
    })
}

/// Every group with its first page; `only` with `after`: just that group, from there.
pub async fn attention(
    db: &Db,
    settings: &Settings,
    only: Option<Group>,
    after: Option<&str>,
    limit: Option<u32>,
) -> SvcResult<Attention> {
    let limit = page_size(limit)?;
    if only.is_none() && after.is_some_and(|a| !a.is_empty()) {
        return Err(
            AppError::validation("after", "Name the group whose next page this is.").into(),
        );
    }
    let r = Rules::new(settings, db.now());
    let mut groups = Vec::new();
    for g in Group::ALL
        .into_iter()
        .filter(|g| only.is_none_or(|o| o == *g))
    {
        groups.push(page(db, g, &r, after, limit).await?);
    }
    Ok(Attention {
        now: r.now,
        policy_set: r.policy_set,
        notice_secs: r.notice_secs,
        unused_days: r.unused_days,
        groups,
    })
}

/// The urgent count of the navigation's badge.
pub async fn urgent_count(db: &Db, settings: &Settings) -> SvcResult<i64> {
    let r = Rules::new(settings, db.now());
    let mut n = 0;
    for g in Group::ALL.into_iter().filter(|g| g.urgent()) {
        n += count(db, g, &r).await?;
    }
    Ok(n)
}

/// The gauges of `/metrics`, read now.
pub async fn gauges(db: &Db, settings: &Settings) -> SvcResult<SecretGauges> {
    let r = Rules::new(settings, db.now());
    let expired: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM client_secrets WHERE state = 'current' AND expires_at <= $1",
    )
    .bind(r.now)
    .fetch_one(&db.pool)
    .await?
    .try_get("n")?;
    let mut expiring = Vec::new();
    for &window in &settings.secret_expiry_notice_secs {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM client_secrets WHERE state = 'current' \
             AND expires_at > $1 AND expires_at <= $2",
        )
        .bind(r.now)
        .bind(r.now + window * 1000)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?;
        expiring.push((window, n));
    }
    Ok(SecretGauges {
        expired,
        expiring,
        rotated_in_use: count(db, Group::RotatedInUse, &r).await?,
        idle_clients: count(db, Group::IdleClients, &r).await?,
    })
}
