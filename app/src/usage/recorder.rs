//! The batched recorder of use: "this secret was used at" marks, "this client was used at"
//! marks, and daily counts per client, grant and secret. The token endpoint only adds to maps in
//! memory; a background task writes them in one transaction every few seconds (and once more at
//! shutdown). Counts are added to the stored rows (`count = count + n`), so that every replica
//! adds to the same daily totals.

use std::collections::HashMap;
use std::sync::Mutex;

use futures::FutureExt;

use super::{day_of, UseKind};
use crate::infra::db::Db;
use crate::infra::SvcResult;

/// A daily count's key: client id, day, kind, secret id (0 when no secret was presented).
type CountKey = (String, i64, UseKind, i64);

#[derive(Debug, Default)]
struct Pending {
    /// Secret id → newest use.
    secrets: HashMap<i64, i64>,
    /// Client id → newest use.
    clients: HashMap<String, i64>,
    counts: HashMap<CountKey, i64>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.clients.is_empty() && self.counts.is_empty()
    }

    /// Adds `other` to these marks and counts.
    fn merge(&mut self, other: Pending) {
        for (id, at) in other.secrets {
            let e = self.secrets.entry(id).or_insert(at);
            *e = (*e).max(at);
        }
        for (id, at) in other.clients {
            let e = self.clients.entry(id).or_insert(at);
            *e = (*e).max(at);
        }
        for (k, n) in other.counts {
            *self.counts.entry(k).or_insert(0) += n;
        }
    }
}

/// Collects marks and counts in memory and writes them in one batch. Only the newest mark per
/// secret and per client is kept; counts are summed.
#[derive(Debug, Default)]
pub struct UsageRecorder {
    pending: Mutex<Pending>,
    /// Held while a flush runs, so that a second flush (the one at shutdown) waits for it.
    flushing: tokio::sync::Mutex<()>,
}

impl UsageRecorder {
    /// A presented secret matched at `at`.
    pub fn record(&self, secret_id: i64, at: i64) {
        if let Ok(mut p) = self.pending.lock() {
            let e = p.secrets.entry(secret_id).or_insert(at);
            *e = (*e).max(at);
        }
    }

    /// Client `client_id` got a token (or checked one) at `at`, with secret `secret_id` when it
    /// presented one.
    pub fn count(&self, client_id: &str, kind: UseKind, secret_id: Option<i64>, at: i64) {
        if let Ok(mut p) = self.pending.lock() {
            let key = (
                client_id.to_string(),
                day_of(at),
                kind,
                secret_id.unwrap_or(0),
            );
            *p.counts.entry(key).or_insert(0) += 1;
            match p.clients.get_mut(client_id) {
                Some(e) => *e = (*e).max(at),
                None => {
                    p.clients.insert(client_id.to_string(), at);
                }
            }
        }
    }

    /// Writes everything pending: `last_used_at` only ever moves forward, counts add up.
    /// Returns how many marks and counts it wrote.
    pub async fn flush(&self, db: &Db) -> SvcResult<usize> {
        let _turn = self.flushing.lock().await;
        let batch = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.secrets.len() + batch.clients.len() + batch.counts.len();
        let result = db
            .write_locking(|conn| {
                let secrets: Vec<(i64, i64)> = batch.secrets.iter().map(|(k, v)| (*k, *v)).collect();
                let clients: Vec<(String, i64)> =
                    batch.clients.iter().map(|(k, v)| (k.clone(), *v)).collect();
                let counts: Vec<(CountKey, i64)> =
                    batch.counts.iter().map(|(k, v)| (k.clone(), *v)).collect();
                async move {
                    for (id, at) in secrets {
                        sqlx::query(
                            "UPDATE client_secrets SET last_used_at = $1 WHERE id = $2 \
                             AND (last_used_at IS NULL OR last_used_at < $1)",
                        )
                        .bind(at)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    for (client_id, at) in clients {
                        sqlx::query(
                            "UPDATE clients SET last_used_at = $1 WHERE client_id = $2 \
                             AND (last_used_at IS NULL OR last_used_at < $1)",
                        )
                        .bind(at)
                        .bind(client_id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    for ((client_id, day, kind, secret_id), n) in counts {
                        // A client deleted meanwhile matches no row: its counts go with it.
                        sqlx::query(
                            "INSERT INTO client_usage_daily (client_pk, day, kind, secret_id, count) \
                             SELECT id, $2, $3, $4, $5 FROM clients WHERE client_id = $1 \
                             ON CONFLICT (client_pk, day, kind, secret_id) \
                             DO UPDATE SET count = client_usage_daily.count + excluded.count",
                        )
                        .bind(client_id)
                        .bind(day)
                        .bind(kind.as_str())
                        .bind(secret_id)
                        .bind(n)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                }
                .boxed()
            })
            .await;
        if let Err(e) = result {
            // Put everything back so that the next flush tries again.
            if let Ok(mut p) = self.pending.lock() {
                p.merge(batch);
            }
            return Err(e);
        }
        Ok(n)
    }
}
