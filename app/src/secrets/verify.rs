//! Checking a presented client secret, for the token endpoint. When each secret was last used
//! is recorded by `usage::recorder`.
//!
//! The format and checksum are checked first, without touching the database. Then the hash of
//! the presented secret is compared, in constant time and without stopping at a match, with the
//! client's current secret and every rotated secret still valid. Nothing is cached, so a
//! revocation counts on the next request. An unknown client costs the same as a known one.

use sqlx::Row;

use super::format::{is_well_formed, SecretHash};
use crate::clients::kind::ClientType;
use crate::infra::db::{non_empty, split_list, Db};
use crate::infra::sqlite_read::SqliteReader;

/// A client that presented a valid secret, and which of its secrets matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub client_id: String,
    pub client_type: ClientType,
    pub scopes: Vec<String>,
    /// The `aud` for this client's tokens, when it has its own.
    pub audience: Option<String>,
    pub secret_id: i64,
}

/// Compared with when there is no candidate at all, so that the comparison is still made.
fn dummy_hash() -> SecretHash {
    SecretHash::of("clavis: no such client")
}

/// A presented secret that has the right format, by its hash. The in-memory part of a
/// verification: what `verify` does around its query, and what the `verify` benchmark measures.
pub struct Presented(SecretHash);

impl Presented {
    /// `None` for a malformed secret (prefix, length, alphabet, checksum): refused before any
    /// database read.
    pub fn parse(presented: &str) -> Option<Self> {
        is_well_formed(presented).then(|| Presented(SecretHash::of(presented)))
    }

    /// Compares with every candidate in constant time, without stopping at a match, and returns
    /// the index of the match. With no candidate (unknown client, or no valid secret) it still
    /// makes one comparison, against a dummy.
    pub fn find_in(&self, candidates: &[SecretHash]) -> Option<usize> {
        let mut matched = None;
        for (i, c) in candidates.iter().enumerate() {
            if bool::from(c.matches(&self.0)) {
                matched = Some(i);
            }
        }
        if candidates.is_empty() {
            let _ = bool::from(dummy_hash().matches(&self.0));
        }
        matched
    }
}

/// A client's row joined with each of its secrets still valid at `$2`.
///
/// The client read is `$1` when it exists. When it does not, it is the client whose id sorts
/// next (or the first one), so that an unknown id costs the same reads, decoding and hash
/// comparisons as a wrong secret for an existing client; `verify` then refuses it whatever
/// matched. Without that, an unknown id answered measurably faster: with a constant decoy row
/// instead, the verify_db benchmark had an unknown id at 0.46 of the time of a wrong secret.
/// The same text runs on sqlx (both engines) and on rusqlite.
const CANDIDATES_SQL: &str = "SELECT c.client_id, c.client_type, c.enabled, c.scopes, c.audience, \
     s.id AS secret_id, s.hash FROM clients c LEFT JOIN client_secrets s ON s.client_pk = c.id \
     AND s.state IN ('current', 'rotated') AND (s.expires_at IS NULL OR s.expires_at > $2) \
     WHERE c.client_id = COALESCE( \
       (SELECT client_id FROM clients WHERE client_id >= $1 ORDER BY client_id LIMIT 1), \
       (SELECT MIN(client_id) FROM clients))";

/// One row of `CANDIDATES_SQL`.
struct CandidateRow {
    client_id: String,
    client_type: String,
    enabled: i64,
    scopes: String,
    audience: String,
    secret_id: Option<i64>,
    hash: Option<String>,
}

async fn candidates_sqlx(
    db: &Db,
    client_id: &str,
    now: i64,
) -> Result<Vec<CandidateRow>, sqlx::Error> {
    let rows = sqlx::query(CANDIDATES_SQL)
        .bind(client_id.to_string())
        .bind(now)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CandidateRow {
                client_id: r.try_get("client_id")?,
                client_type: r.try_get("client_type")?,
                enabled: r.try_get("enabled")?,
                scopes: r.try_get("scopes")?,
                audience: r.try_get("audience")?,
                secret_id: r.try_get("secret_id")?,
                hash: r.try_get("hash")?,
            })
        })
        .collect()
}

fn candidates_inline(
    reader: &SqliteReader,
    client_id: &str,
    now: i64,
) -> rusqlite::Result<Vec<CandidateRow>> {
    reader.with(|conn| {
        let mut stmt = conn.prepare_cached(CANDIDATES_SQL)?;
        // By name: SQLite numbers `$n` parameters in order of appearance, not by `n`.
        let params = rusqlite::named_params! { "$1": client_id, "$2": now };
        let rows = stmt.query_map(params, |r| {
            Ok(CandidateRow {
                client_id: r.get(0)?,
                client_type: r.get(1)?,
                enabled: r.get(2)?,
                scopes: r.get(3)?,
                audience: r.get(4)?,
                secret_id: r.get(5)?,
                hash: r.get(6)?,
            })
        })?;
        rows.collect()
    })
}

/// Whether secret `secret_id` of client `client_id` is still valid at `now`: not revoked, not
/// expired. The admin API asks it of every token, so that a token dies with its secret.
pub async fn still_valid(
    db: &Db,
    client_id: &str,
    secret_id: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT 1 AS one FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
         WHERE s.id = $1 AND c.client_id = $2 AND s.state IN ('current', 'rotated') \
         AND (s.expires_at IS NULL OR s.expires_at > $3)",
    )
    .bind(secret_id)
    .bind(client_id.to_string())
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

/// Whether secret `secret_id` is a rotated one (still valid, not current).
pub async fn is_rotated(db: &Db, secret_id: i64) -> Result<bool, sqlx::Error> {
    let row =
        sqlx::query("SELECT 1 AS one FROM client_secrets WHERE id = $1 AND state = 'rotated'")
            .bind(secret_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.is_some())
}

/// Checks a presented secret. Answers with the client, or `Ok(None)`: one generic failure for
/// an unknown or disabled client, a malformed secret, a wrong one, a revoked or an expired one.
///
/// See the module comment for the order of the checks. On a SQLite file the rows are read
/// inline (see `infra::sqlite_read`), on PostgreSQL through the pool.
pub async fn verify(
    db: &Db,
    client_id: &str,
    presented: &str,
    now: i64,
) -> Result<Option<Verified>, sqlx::Error> {
    if client_id.is_empty() || client_id.len() > 64 {
        return Ok(None);
    }
    let Some(presented) = Presented::parse(presented) else {
        return Ok(None);
    };
    let inline = db
        .reader
        .as_deref()
        .map(|reader| candidates_inline(reader, client_id, now));
    let rows = match inline {
        Some(Ok(rows)) => rows,
        Some(Err(e)) => {
            // The pool reads the same file; only the speed differs.
            tracing::warn!(error = %e, "inline read failed; reading through the pool");
            candidates_sqlx(db, client_id, now).await?
        }
        None => candidates_sqlx(db, client_id, now).await?,
    };
    let mut ids = Vec::with_capacity(rows.len());
    let mut candidates = Vec::with_capacity(rows.len());
    for r in &rows {
        if let (Some(id), Some(hash)) = (r.secret_id, r.hash.as_deref()) {
            ids.push(id);
            candidates.push(SecretHash::from_tagged(hash).unwrap_or_else(dummy_hash));
        }
    }
    let matched = presented
        .find_in(&candidates)
        .and_then(|i| ids.get(i).copied());
    let (Some(secret_id), Some(first)) = (matched, rows.first()) else {
        return Ok(None);
    };
    // Another client's row stands in for an unknown id: a match there means nothing.
    if first.client_id != client_id || first.enabled == 0 {
        return Ok(None);
    }
    let Some(client_type) = ClientType::parse(&first.client_type) else {
        return Ok(None);
    };
    Ok(Some(Verified {
        client_id: client_id.to_string(),
        client_type,
        scopes: split_list(&first.scopes, ' '),
        audience: non_empty(first.audience.clone()),
        secret_id,
    }))
}
