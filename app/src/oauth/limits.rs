//! The guards of client authentication at the token endpoint: failure limits, and failures
//! written to the audit log in batches (one row per client id and flush, not one per request).

use std::collections::HashMap;
use std::sync::Mutex;

use futures::FutureExt;

use crate::audit::service::{self as audit, Event};
use crate::infra::db::Db;
use crate::infra::{RequestMeta, SvcResult};

/// Counts failed client authentications per client id and per IP in fixed windows, and says
/// for how long a key is blocked. Per process: with several replicas each counts its own share.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// Above this many keys the oldest windows are dropped, so that an attacker sending random ids
/// cannot grow memory without bound.
const LIMITER_MAX_KEYS: usize = 100_000;

impl FailureLimiter {
    /// Seconds until `key` may try again, if it used up `max` failures in the current window.
    pub fn blocked(&self, key: &str, max: u32, window_ms: i64, now: i64) -> Option<u64> {
        if max == 0 {
            return None;
        }
        let w = self.windows.lock().ok()?;
        let (start, n) = *w.get(key)?;
        (n >= max && now < start + window_ms)
            .then(|| ((start + window_ms - now + 999) / 1000).max(1) as u64)
    }

    pub fn fail(&self, key: &str, window_ms: i64, now: i64) {
        if let Ok(mut w) = self.windows.lock() {
            if w.len() >= LIMITER_MAX_KEYS {
                w.retain(|_, (start, _)| now < *start + window_ms);
            }
            let e = w.entry(key.to_string()).or_insert((now, 0));
            if now >= e.0 + window_ms {
                *e = (now, 0);
            }
            e.1 = e.1.saturating_add(1);
        }
    }
}

/// Failed client authentications waiting to be written to the audit log as one row per client
/// id and flush, not one per request.
#[derive(Debug, Default)]
pub struct FailureLog {
    pending: Mutex<HashMap<String, (u64, String)>>,
}

const FAILURE_LOG_MAX_KEYS: usize = 1_000;
/// The audit target for failures beyond `FAILURE_LOG_MAX_KEYS` distinct ids in one flush.
const OTHER_CLIENTS: &str = "(other client ids)";

impl FailureLog {
    pub fn add(&self, client_id: &str, ip: &str) {
        if let Ok(mut p) = self.pending.lock() {
            let key = if p.len() < FAILURE_LOG_MAX_KEYS || p.contains_key(client_id) {
                client_id
            } else {
                OTHER_CLIENTS
            };
            let e = p
                .entry(key.chars().take(64).collect())
                .or_insert((0, String::new()));
            e.0 += 1;
            e.1 = ip.to_string();
        }
    }

    /// Writes one audit row per client id with the number of failures. Returns the rows.
    pub async fn flush(&self, db: &Db) -> SvcResult<usize> {
        let batch: Vec<(String, (u64, String))> = match self.pending.lock() {
            Ok(mut p) => p.drain().collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        db.write(|conn| {
            let batch = batch.clone();
            async move {
                for (client_id, (count, ip)) in batch {
                    let meta = RequestMeta {
                        ip: Some(ip),
                        request_id: None,
                    };
                    let detail = Some(format!(
                        "{count} failed client authentication{} at the token endpoint",
                        if count == 1 { "" } else { "s" }
                    ));
                    let ev = Event {
                        actor: "token endpoint",
                        action: "token.auth_failed",
                        target: Some(&client_id),
                        detail,
                    };
                    audit::record(conn, &meta, ev).await?;
                }
                Ok(())
            }
            .boxed()
        })
        .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_blocks_after_the_limit_until_the_window_ends() {
        let l = FailureLimiter::default();
        let (max, window) = (3, 60_000);
        for i in 0..3 {
            assert_eq!(l.blocked("k", max, window, 1_000 + i), None);
            l.fail("k", window, 1_000 + i);
        }
        assert_eq!(l.blocked("k", max, window, 2_000), Some(59));
        assert_eq!(l.blocked("other", max, window, 2_000), None);
        assert_eq!(l.blocked("k", 0, window, 2_000), None, "0 means no limit");
        assert_eq!(l.blocked("k", max, window, 61_000), None, "a new window");
        l.fail("k", window, 61_000);
        assert_eq!(l.blocked("k", max, window, 61_001), None);
    }
}
