//! The metadata document's `scopes_supported` (RFC 8414): every scope some client-credentials
//! client may request.

use std::sync::Arc;

use sqlx::Row;

use crate::infra::db::{split_list, Db};
use crate::infra::SvcResult;

/// Every scope some client-credentials client may request, for the metadata document.
pub async fn known_scopes(db: &Db) -> SvcResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT scopes FROM clients WHERE client_type = 'client_credentials' AND scopes <> ''",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut all = std::collections::BTreeSet::new();
    for r in &rows {
        let s: String = r.try_get("scopes")?;
        all.extend(split_list(&s, ' '));
    }
    Ok(all.into_iter().collect())
}

/// How long the metadata document's `scopes_supported` is reused before it is read again.
pub const SCOPES_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// `scopes_supported` for the public metadata document. Reading it scans every
/// client-credentials client, so it is read at most once per `SCOPES_TTL`: requests that arrive
/// while it is being read wait for that one read instead of starting their own.
#[derive(Debug, Default)]
pub struct ScopesCache {
    cached: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Vec<String>>)>>,
}

impl ScopesCache {
    pub async fn get(&self, db: &Db) -> SvcResult<Arc<Vec<String>>> {
        let mut cached = self.cached.lock().await;
        if let Some((at, scopes)) = cached.as_ref() {
            if at.elapsed() < SCOPES_TTL {
                return Ok(scopes.clone());
            }
        }
        let scopes = Arc::new(known_scopes(db).await?);
        *cached = Some((std::time::Instant::now(), scopes.clone()));
        Ok(scopes)
    }
}
