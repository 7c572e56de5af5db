//! The client list: search by name prefix or client id, filters by type, application and
//! status, two orders, and keyset pages that stay fast over 100 000 clients (see the `clients`
//! benchmark). Also the applications, for the list's filter.

use sqlx::Row;

use super::service::{name_key, row_to_view, COLUMNS, FROM};
use super::{ApplicationRef, ClientPage, ClientQuery, ClientSort};
use crate::error::AppError;
use crate::infra::db::{Db, SqlBuilder};
use crate::infra::SvcResult;

pub const PAGE_DEFAULT: u32 = 50;
pub const PAGE_MAX: u32 = 200;

/// Cursor: the sort key and id of the last row shown, hex-encoded so that it is URL-safe.
fn encode_cursor(key: &str, id: i64) -> String {
    hex::encode(format!("{key}\n{id}"))
}

fn decode_cursor(cursor: &str) -> Option<(String, i64)> {
    let raw = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
    let (key, id) = raw.rsplit_once('\n')?;
    Some((key.to_string(), id.parse().ok()?))
}

/// One page of clients matching `q`, in the requested order, after the cursor.
pub async fn list(db: &Db, q: &ClientQuery) -> SvcResult<ClientPage> {
    let limit = i64::from(q.limit.unwrap_or(PAGE_DEFAULT).clamp(1, PAGE_MAX));
    let mut sql = SqlBuilder::new(&format!("SELECT {COLUMNS}{FROM} WHERE 1 = 1"));
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            // Looks like a client id: an exact match on the unique index.
            sql.push(" AND c.client_id = ")
                .text(text.to_ascii_lowercase());
        } else {
            // A prefix range on name_key (compared bytewise on both engines), so that the
            // name index yields matches already in order. No OR here: it would force a sort.
            let key = name_key(text);
            sql.push(" AND c.name_key >= ").text(key.clone());
            sql.push(" AND c.name_key < ")
                .text(format!("{key}\u{10FFFF}"));
        }
    }
    if let Some(t) = q.client_type {
        sql.push(" AND c.client_type = ").text(t.as_str());
    }
    if let Some(app) = q.application_id {
        sql.push(" AND c.application_id = ").int(app);
    }
    if let Some(enabled) = q.enabled {
        sql.push(" AND c.enabled = ").int(i64::from(enabled));
    }
    let cursor = match q.after.as_deref() {
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            AppError::validation("after", "This page link is not valid any more.")
        })?),
        None => None,
    };
    match q.sort {
        ClientSort::Name => {
            if let Some((key, id)) = cursor {
                sql.push(" AND (c.name_key > ").text(key.clone());
                sql.push(" OR (c.name_key = ")
                    .text(key)
                    .push(" AND c.id > ")
                    .int(id)
                    .push("))");
            }
            sql.push(" ORDER BY c.name_key, c.id");
        }
        ClientSort::Newest => {
            if let Some((at, id)) = cursor {
                let at: i64 = at.parse().map_err(|_| {
                    AppError::validation("after", "This page link is not valid any more.")
                })?;
                sql.push(" AND (c.created_at < ").int(at);
                sql.push(" OR (c.created_at = ")
                    .int(at)
                    .push(" AND c.id < ")
                    .int(id)
                    .push("))");
            }
            sql.push(" ORDER BY c.created_at DESC, c.id DESC");
        }
    }
    sql.push(" LIMIT ").int(limit + 1);
    let rows = sql.query().fetch_all(&db.pool).await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let next = match (more, rows.last()) {
        (true, Some(last)) => {
            let id: i64 = last.try_get("id")?;
            let key = match q.sort {
                ClientSort::Name => last.try_get::<String, _>("name_key")?,
                ClientSort::Newest => last.try_get::<i64, _>("created_at")?.to_string(),
            };
            Some(encode_cursor(&key, id))
        }
        _ => None,
    };
    let clients = rows.iter().map(row_to_view).collect::<Result<_, _>>()?;
    Ok(ClientPage { clients, next })
}

/// Every application, by name, for the list's filter.
pub async fn applications(db: &Db) -> SvcResult<Vec<ApplicationRef>> {
    let rows = sqlx::query("SELECT id, name FROM applications ORDER BY name_key")
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(ApplicationRef {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}
