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
/// for `$1`, `$2`, …. Pages follow the key (a number), then the tie-breaker (`tie`, a number
/// unique in the group), in the same direction: a page starts after the last item of the
/// previous one, so that items that leave the group meanwhile (revoked, rotated) make no other
/// item skip a page. Each order is one of the indexes of migration 18, so a page reads about as
/// many rows as it shows, however many clients there are.
struct GroupSql {
    select: String,
    /// `FROM …` up to its `WHERE` conditions, to which a page's start is added with `AND`.
    from: String,
    key: &'static str,
    desc: bool,
    tie: &'static str,
    binds: Vec<i64>,
}

impl GroupSql {
    /// A condition that every item meets, `key` from the first possible value on (bound as
    /// `$n`). It says nothing about the items but tells the query planner that the key is read
    /// as a range, so that a first page and a count walk the group's index as later pages do
    /// (without it SQLite chose an index on other columns and sorted the whole group).
    fn whole_range(&self, n: usize) -> String {
        let op = if self.desc { "<=" } else { ">=" };
        format!(" AND {} {op} ${n}", self.key)
    }

    fn range_start(&self) -> i64 {
        if self.desc {
            i64::MAX
        } else {
            i64::MIN
        }
    }
}

fn group_sql(g: Group, r: &Rules) -> GroupSql {
    let now = r.now;
    // Requests with the secret over the last 7 days: only for the rows of a page.
    // `$R` is numbered by `page`, after the conditions' values.
    let requests =
        "(SELECT CAST(SUM(u.count) AS BIGINT) FROM client_usage_daily u WHERE u.client_pk = s.client_pk \
         AND u.secret_id = s.id AND u.day > $R) AS requests_7d";
    match g {
        // Three disjoint parts, each in the order of its own index, merged by the database: an
        // expired current secret (by expiry), a revoked current secret with none after it (by
        // revocation), a disabled client used lately (by last use).
        Group::CannotGetTokens => GroupSql {
            select: "t.*".into(),
            from: format!(
                "(SELECT c.client_id, c.name, s.id AS secret_id, s.hint, s.expires_at, \
                   c.last_used_at, CAST(NULL AS BIGINT) AS rotated_at, c.created_at, \
                   'secret_expired' AS reason, CAST(NULL AS BIGINT) AS requests_7d, \
                   s.expires_at AS k, s.client_pk AS pk \
                 FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE s.state = 'current' AND s.expires_at <= $1 AND c.enabled = 1 AND {WITH_SECRET} \
                 UNION ALL \
                 SELECT c.client_id, c.name, CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), \
                   c.last_used_at, CAST(NULL AS BIGINT), c.created_at, 'no_secret', CAST(NULL AS BIGINT), \
                   s.revoked_at, s.client_pk \
                 FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE s.state = 'revoked' AND s.rotated_at IS NULL AND c.enabled = 1 AND {WITH_SECRET} \
                   AND NOT EXISTS (SELECT 1 FROM client_secrets x WHERE x.client_pk = s.client_pk \
                     AND (x.state = 'current' OR (x.state = 'revoked' AND x.rotated_at IS NULL \
                       AND (x.revoked_at > s.revoked_at OR (x.revoked_at = s.revoked_at AND x.id > s.id))))) \
                 UNION ALL \
                 SELECT c.client_id, c.name, CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), \
                   c.last_used_at, CAST(NULL AS BIGINT), c.created_at, 'disabled_in_use', CAST(NULL AS BIGINT), \
                   c.last_used_at, c.id \
                 FROM clients c WHERE c.enabled = 0 AND c.last_used_at >= $2) t WHERE 1 = 1"
            ),
            key: "t.k",
            desc: true,
            tie: "t.pk",
            binds: vec![now, now - RECENTLY_USED_MS],
        },
        Group::ExpiringSoon => GroupSql {
            select: format!("{SECRET_ITEM}, 'expiring' AS reason, CAST(NULL AS BIGINT) AS requests_7d"),
            from: "client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE s.state = 'current' AND c.enabled = 1 AND s.expires_at > $1 AND s.expires_at <= $2"
                .into(),
            key: "s.expires_at",
            desc: false,
            tie: "s.client_pk",
            binds: vec![now, now + r.notice_secs.unwrap_or(0) * 1000],
        },
        Group::RotatedInUse => GroupSql {
            select: format!("{SECRET_ITEM}, 'rotated_in_use' AS reason, {requests}"),
            from: format!(
                "client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE {VALID_ROTATED} AND s.last_used_at >= $2 AND s.last_used_at > s.rotated_at"
            ),
            key: "s.last_used_at",
            desc: true,
            tie: "s.id",
            binds: vec![now, now - IN_USE_MS],
        },
        Group::SafeToRevoke => GroupSql {
            select: format!("{SECRET_ITEM}, 'unused_rotated' AS reason, {requests}"),
            // A rotated secret always has rotated_at (secrets::service::rotate sets both).
            from: format!(
                "client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE {VALID_ROTATED} AND s.rotated_at IS NOT NULL AND (s.last_used_at IS NULL \
                 OR s.last_used_at <= s.rotated_at OR s.last_used_at < $2)"
            ),
            key: "s.rotated_at",
            desc: false,
            tie: "s.id",
            binds: vec![now, now - r.unused_days * DAY_MS],
        },
        Group::IdleClients => GroupSql {
            select: "c.client_id, c.name, CAST(NULL AS BIGINT) AS secret_id, CAST(NULL AS TEXT) AS hint, \
                     CAST(NULL AS BIGINT) AS expires_at, c.last_used_at, CAST(NULL AS BIGINT) AS rotated_at, \
                     c.created_at, CASE WHEN c.last_used_at IS NULL THEN 'never_used' ELSE 'unused' END AS reason, \
                     CAST(NULL AS BIGINT) AS requests_7d"
                .into(),
            from: "clients c WHERE c.enabled = 1 AND (c.last_used_at IS NULL OR c.last_used_at < $1)".into(),
            // The expression of the index clients_idle, word for word.
            key: "COALESCE(c.last_used_at, c.created_at)",
            desc: false,
            tie: "c.id",
            binds: vec![now - IDLE_DAYS * DAY_MS],
        },
        Group::NoExpiry => GroupSql {
            select: format!("{SECRET_ITEM}, 'no_expiry' AS reason, CAST(NULL AS BIGINT) AS requests_7d"),
            // Without a policy nothing is expected to expire: the group is empty.
            from: "client_secrets s JOIN clients c ON c.id = s.client_pk \
                   WHERE $1 = 1 AND s.expires_at IS NULL AND s.state IN ('current', 'rotated')"
                .into(),
            key: "s.created_at",
            desc: false,
            tie: "s.id",
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

/// A page's start: the key and the tie-breaker of the previous page's last item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    key: i64,
    tie: i64,
}

/// Reads a cursor as `next` gave it: `{key}~{tie}`.
fn cursor_of(after: Option<&str>) -> Result<Option<Cursor>, AppError> {
    let Some(raw) = after.filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let parsed = raw.split_once('~').and_then(|(k, t)| {
        Some(Cursor {
            key: k.parse().ok()?,
            tie: t.parse().ok()?,
        })
    });
    parsed.map(Some).ok_or_else(|| {
        AppError::validation(
            "cursor",
            "This page link is not one Clavis gave: start again from the first page.",
        )
    })
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

/// A group's count stops here: the page then says "1000+". Counting is the one part of a page
/// that grows with the group; the gauges of `/metrics` have the exact numbers.
pub const COUNT_CAP: i64 = 1000;

/// How many items group `g` has, up to `cap` (and `cap + 1` when there are more).
pub async fn count(db: &Db, g: Group, r: &Rules, cap: Option<i64>) -> SvcResult<i64> {
    let q = group_sql(g, r);
    let sql = match cap {
        Some(cap) => format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM {}{} LIMIT {}) q",
            q.from,
            q.whole_range(q.binds.len() + 1),
            cap + 1
        ),
        None => format!(
            "SELECT COUNT(*) AS n FROM {}{}",
            q.from,
            q.whole_range(q.binds.len() + 1)
        ),
    };
    let mut query = sqlx::query(&sql);
    for b in &q.binds {
        query = query.bind(*b);
    }
    query = query.bind(q.range_start());
    Ok(query.fetch_one(&db.pool).await?.try_get("n")?)
}

/// One page of group `g`, from `after` (a cursor `next` gave), and the group's count.
pub async fn page(
    db: &Db,
    g: Group,
    r: &Rules,
    after: Option<&str>,
    limit: u32,
) -> SvcResult<GroupPage> {
    let q = group_sql(g, r);
    let start = cursor_of(after)?;
    let mut binds = q.binds.clone();
    let mut select = q.select.clone();
    if select.contains("$R") {
        binds.push(day_of(r.now) - SHARE_DAYS);
        select = select.replace("$R", &format!("${}", binds.len()));
    }
    let (key, tie) = (q.key, q.tie);
    let (past, order) = if q.desc { ("<", "DESC") } else { (">", "ASC") };
    let mut from = q.from.clone();
    match start {
        Some(c) => {
            binds.push(c.key);
            let k = binds.len();
            binds.push(c.tie);
            let t = binds.len();
            from.push_str(&format!(
                " AND ({key} {past} ${k} OR ({key} = ${k} AND {tie} {past} ${t}))"
            ));
        }
        None => {
            from.push_str(&q.whole_range(binds.len() + 1));
            binds.push(q.range_start());
        }
    }
    binds.push(i64::from(limit) + 1);
    let sql = format!(
        "SELECT {select}, {key} AS sort_key, {tie} AS sort_tie FROM {from} \
         ORDER BY {key} {order}, {tie} {order} LIMIT ${}",
        binds.len()
    );
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = query.bind(b);
    }
    let rows = query.fetch_all(&db.pool).await?;
    let mut items = Vec::with_capacity(rows.len().min(limit as usize));
    for r in rows.iter().take(limit as usize) {
        items.push(row_to_item(r)?);
    }
    let next = match rows.get(limit as usize).and(rows.get(limit as usize - 1)) {
        Some(last) => {
            let key: i64 = last.try_get("sort_key")?;
            let tie: i64 = last.try_get("sort_tie")?;
            Some(format!("{key}~{tie}"))
        }
        None => None,
    };
    let n = count(db, g, r, Some(COUNT_CAP)).await?;
    Ok(GroupPage {
        group: g,
        count: n.min(COUNT_CAP),
        count_capped: n > COUNT_CAP,
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
        n += count(db, g, &r, Some(COUNT_CAP)).await?.min(COUNT_CAP);
    }
    Ok(n)
}

/// The gauges of `/metrics`, read now: the same clients as the Overview's groups (enabled
/// ones for the expired and expiring secrets).
pub async fn gauges(db: &Db, settings: &Settings) -> SvcResult<SecretGauges> {
    let r = Rules::new(settings, db.now());
    let expired: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
         WHERE s.state = 'current' AND c.enabled = 1 AND s.expires_at <= $1",
    )
    .bind(r.now)
    .fetch_one(&db.pool)
    .await?
    .try_get("n")?;
    let mut expiring = Vec::new();
    for &window in &settings.secret_expiry_notice_secs {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
             WHERE s.state = 'current' AND c.enabled = 1 AND s.expires_at > $1 AND s.expires_at <= $2",
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
        rotated_in_use: count(db, Group::RotatedInUse, &r, None).await?,
        idle_clients: count(db, Group::IdleClients, &r, None).await?,
    })
}
