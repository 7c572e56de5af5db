//! The guards of client authentication at the token endpoint: failure limits, and failures
//! written to the audit log in batches (one row per client id and flush, not one per request).

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use futures::FutureExt;
use lru::LruCache;

use crate::audit::service::{self as audit, Event};
use crate::infra::db::Db;
use crate::infra::{RequestMeta, SvcResult};

/// Counts failed client authentications per source in fixed windows, and says for how long a
/// source is refused. A source is an IP address, or a client id from one IP address: failures
/// never count against a client id as such, so that nobody can lock a client out by knowing
/// its id (ids are not secret). Per process: with several replicas each counts its own share.
///
/// Memory is bounded: at most `capacity` sources are kept, and the one touched least recently
/// is dropped to make room. Every call does O(1) work under the lock, never a scan.
pub struct FailureLimiter {
    windows: Mutex<LruCache<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    failures: u32,
}

/// Sources kept by the default limiter: about 20 MB at most.
pub const LIMITER_CAPACITY: usize = 100_000;
/// Longest key stored, in bytes: an IP address and a client id with room to spare.
const KEY_MAX: usize = 160;

impl std::fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter").finish_non_exhaustive()
    }
}

impl Default for FailureLimiter {
    fn default() -> Self {
        FailureLimiter::with_capacity(LIMITER_CAPACITY)
    }
}

/// `key` cut to at most `KEY_MAX` bytes, at a character boundary.
fn bounded(key: &str) -> &str {
    let mut end = key.len().min(KEY_MAX);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

impl FailureLimiter {
    pub fn with_capacity(capacity: usize) -> Self {
        FailureLimiter {
            windows: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The key of an IP address.
    pub fn ip_key(ip: &str) -> String {
        format!("ip {}", bounded(ip))
    }

    /// The key of a client id used from an IP address.
    pub fn client_key(ip: &str, client_id: &str) -> String {
        bounded(&format!("client {ip} {client_id}")).to_string()
    }

    /// Seconds until `key` may try again, if it used up `max` failures in the current window.
    pub fn blocked(&self, key: &str, max: u32, window_ms: i64, now: i64) -> Option<u64> {
        if max == 0 {
            return None;
        }
        let w = *self.windows.lock().ok()?.peek(bounded(key))?;
        (w.failures >= max && now < w.start + window_ms)
            .then(|| ((w.start + window_ms - now + 999) / 1000).max(1) as u64)
    }

    pub fn fail(&self, key: &str, window_ms: i64, now: i64) {
        let key = bounded(key);
        let Ok(mut windows) = self.windows.lock() else {
            return;
        };
        match windows.get_mut(key) {
            Some(w) if now < w.start + window_ms => w.failures = w.failures.saturating_add(1),
            Some(w) => {
                *w = Window {
                    start: now,
                    failures: 1,
                }
            }
            None => {
                windows.put(
                    key.to_string(),
                    Window {
                        start: now,
                        failures: 1,
                    },
                );
            }
        }
    }

    /// How many sources are kept now.
    pub fn len(&self) -> usize {
        self.windows.lock().map(|w| w.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Failed client authentications waiting to be written to the audit log as one row per client
/// id and flush, not one per request.
#[derive(Debug, Default)]
pub struct FailureLog {
    pending: Mutex<HashMap<String, (u64, String)>>,
    /// Held while a flush runs, so that a second flush (the one at shutdown) waits for it.
    flushing: tokio::sync::Mutex<()>,
}

const FAILURE_LOG_MAX_KEYS: usize = 1_000;
/// The audit target for failures beyond `FAILURE_LOG_MAX_KEYS` distinct ids in one flush.
const OTHER_CLIENTS: &str = "(other client ids)";

impl FailureLog {
    pub fn add(&self, client_id: &str, ip: &str) {
        self.add_many(client_id, ip, 1);
    }

    fn add_many(&self, client_id: &str, ip: &str, count: u64) {
        if let Ok(mut p) = self.pending.lock() {
            let key = if p.len() < FAILURE_LOG_MAX_KEYS || p.contains_key(client_id) {
                client_id
            } else {
                OTHER_CLIENTS
            };
            let e = p
                .entry(key.chars().take(64).collect())
                .or_insert((0, String::new()));
            e.0 += count;
            e.1 = ip.to_string();
        }
    }

    /// Writes one audit row per client id with the number of failures. Returns the rows. When
    /// the write fails, the counts are put back for the next flush.
    pub async fn flush(&self, db: &Db) -> SvcResult<usize> {
        let _turn = self.flushing.lock().await;
        let batch: Vec<(String, (u64, String))> = match self.pending.lock() {
            Ok(mut p) => p.drain().collect(),
            Err(_) => return Ok(0),
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        let written = db
            .write(|conn| {
                let batch = batch.clone();
                async move {
                    for (client_id, (count, ip)) in batch {
                        let meta = RequestMeta {
                            ip: Some(ip),
                            ..Default::default()
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
            .await;
        if let Err(e) = written {
            for (client_id, (count, ip)) in batch {
                self.add_many(&client_id, &ip, count);
            }
            return Err(e);
        }
        Ok(n)
    }

    /// Failures not written yet, over all client ids.
    pub fn pending(&self) -> u64 {
        self.pending
            .lock()
            .map(|p| p.values().map(|(n, _)| n).sum())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_keeps_a_bounded_number_of_short_keys() {
        let l = FailureLimiter::with_capacity(3);
        for i in 0..10 {
            l.fail(&format!("k{i}"), 60_000, 1_000);
        }
        assert_eq!(l.len(), 3, "the least recently used keys were dropped");
        assert_eq!(l.blocked("k9", 1, 60_000, 1_001), Some(60));
        assert_eq!(l.blocked("k0", 1, 60_000, 1_001), None, "evicted");
        // A long key is cut before it is stored: its cut form is the same source.
        let long = format!("client 10.0.0.1 {}", "x".repeat(10_000));
        l.fail(&long, 60_000, 1_000);
        assert_eq!(l.blocked(&long, 1, 60_000, 1_001), Some(60));
        assert!(FailureLimiter::client_key("10.0.0.1", &"é".repeat(500)).len() <= KEY_MAX);
    }

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
