//! The dispatcher: delivers the outbox's events, at least once and in order per endpoint.
//!
//! Each replica runs one. It takes a lease on an endpoint whose oldest pending delivery is due
//! (a conditional `UPDATE`, which works alike on SQLite and PostgreSQL), and delivers that
//! endpoint's deliveries one after another while the lease lasts; other endpoints are served by
//! other tasks at the same time, so one slow or dead receiver delays nobody else. A replica that
//! dies mid-delivery leaves its lease to run out; the delivery is then tried again by another.
//! A delivery that fails waits for the next step of `webhook_retry_schedule` and, after the
//! last one, is marked failed; the endpoint's next delivery then goes.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use secrecy::SecretString;
use sqlx::Row;

pub use super::send::{http_client, send, Outcome, TIMEOUT};
use super::sign::{self, secret_aad};
use crate::infra::db::Db;
use crate::infra::seal::Kek;
use crate::infra::SvcResult;

/// How long a lease on an endpoint lasts; renewed while its deliveries go out (see
/// `RENEW_AFTER_MS`). A replica that dies holding one delays that endpoint by at most this much.
const LEASE_MS: i64 = 15_000;
/// A lease is renewed once it is this old, so at least 13 s of it are left when an attempt
/// (at most `TIMEOUT`) starts.
const RENEW_AFTER_MS: i64 = 2_000;
/// Endpoints served at the same time by one replica.
const MAX_PARALLEL: usize = 32;

/// What the dispatcher needs from the configuration.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Seconds to wait after the 1st, 2nd, … failed attempt; after the last, the delivery fails.
    pub retry_schedule_secs: Vec<i64>,
    pub allow_private_networks: bool,
    /// Delivered and failed deliveries (and events nobody waits for) go after this long.
    pub retention_secs: i64,
}

/// One replica's dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    kek: Kek,
    settings: DispatchSettings,
    client: reqwest::Client,
    /// This replica's name in leases.
    owner: String,
    /// Endpoints this replica serves now.
    busy: Arc<Mutex<HashSet<i64>>>,
}

/// The head (oldest pending delivery) of an endpoint, with what it takes to send it.
struct Head {
    delivery: i64,
    attempts: i64,
    next_at: i64,
    url: String,
    public_id: String,
    secret_sealed: String,
    previous_sealed: Option<String>,
    previous_until: Option<i64>,
    event_id: String,
    payload: String,
}

impl Dispatcher {
    pub fn new(db: Db, kek: Kek, settings: DispatchSettings) -> Result<Self, reqwest::Error> {
        let client = http_client(settings.allow_private_networks)?;
        let owner = format!("replica-{}", hex::encode(rand::random::<[u8; 8]>()));
        Ok(Dispatcher {
            db,
            kek,
            settings,
            client,
            owner,
            busy: Arc::default(),
        })
    }

    /// Runs until the process ends: serves due endpoints, then waits for an event written by
    /// this replica or for a second to pass (events of other replicas, retries).
    pub async fn run(self) {
        loop {
            match self.claim().await {
                Ok(ids) => {
                    for id in ids {
                        let me = self.clone();
                        tokio::spawn(async move { me.serve(id).await });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhooks: could not look for due deliveries"),
            }
            tokio::select! {
                _ = super::outbox::wake().notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Takes the leases of endpoints whose oldest pending delivery is due.
    pub async fn claim(&self) -> SvcResult<Vec<i64>> {
        let room =
            MAX_PARALLEL.saturating_sub(self.busy.lock().map(|b| b.len()).unwrap_or(MAX_PARALLEL));
        if room == 0 {
            return Ok(Vec::new());
        }
        let now = self.db.now();
        // A read first: most of the time nothing is due, and then no write lock is taken.
        let due = sqlx::query(
            "SELECT 1 AS due FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_pk \
             WHERE d.state = 'pending' AND d.next_at <= $1 AND e.enabled = 1 LIMIT 1",
        )
            .bind(now)
            .fetch_optional(&self.db.pool)
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let owner = self.owner.clone();
        let ids: Vec<i64> = self
            .db
            .write_locking(|conn| {
                let owner = owner.clone();
                async move {
                    // Endpoint by endpoint (there are few), each by its head through the
                    // pending index: a backlog of any size costs one lookup per endpoint.
                    let rows = sqlx::query(
                        "UPDATE webhook_endpoints SET lease_owner = $1, lease_until = $2 \
                         WHERE enabled = 1 AND (lease_until IS NULL OR lease_until < $3) AND id IN ( \
                           SELECT f.id FROM webhook_endpoints f \
                           JOIN webhook_deliveries d ON d.id = (SELECT h.id FROM webhook_deliveries h \
                             WHERE h.endpoint_pk = f.id AND h.state = 'pending' ORDER BY h.id LIMIT 1) \
                           WHERE f.enabled = 1 AND (f.lease_until IS NULL OR f.lease_until < $3) AND d.next_at <= $3 \
                           ORDER BY d.next_at LIMIT $4) \
                         RETURNING id",
                    )
                    .bind(owner)
                    .bind(now + LEASE_MS)
                    .bind(now)
                    .bind(room as i64)
                    .fetch_all(&mut *conn)
                    .await?;
                    Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<Vec<i64>, _>>()?)
                }
                .boxed()
            })
            .await?;
        // An endpoint whose lease ran out while a task of this replica still serves it is
        // claimed again above (renewing its lease); that task goes on, and no second one starts.
        let Ok(mut busy) = self.busy.lock() else {
            return Ok(Vec::new());
        };
        Ok(ids.into_iter().filter(|id| busy.insert(*id)).collect())
    }

    /// Delivers endpoint `id`'s due deliveries in order while this replica holds its lease.
    async fn serve(&self, id: i64) {
        loop {
            match self.step(id).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, endpoint = id, "webhooks: delivery step failed");
                    break;
                }
            }
        }
        let _ = self.release(id).await;
        if let Ok(mut busy) = self.busy.lock() {
            busy.remove(&id);
        }
    }

    async fn release(&self, id: i64) -> SvcResult<()> {
        sqlx::query("UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(self.owner.clone())
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Reads the head while this replica holds the lease, renewing the lease once it is
    /// `RENEW_AFTER_MS` old (not at every delivery: a write less per delivery); `None` when the
    /// lease is lost or nothing is due. The lease left is then always longer than an attempt.
    async fn head(&self, id: i64, now: i64) -> SvcResult<Option<Head>> {
        let row = sqlx::query(
            "SELECT d.id, d.attempts, d.next_at, e.url, e.public_id, e.secret_sealed, e.previous_secret_sealed, \
             e.previous_secret_until, e.lease_until, ev.public_id AS event_id, ev.payload \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_pk \
             JOIN webhook_events ev ON ev.id = d.event_pk \
             WHERE d.endpoint_pk = $1 AND d.state = 'pending' AND e.enabled = 1 AND e.lease_owner = $2 \
             ORDER BY d.id LIMIT 1",
        )
        .bind(id)
        .bind(self.owner.clone())
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let lease_until: Option<i64> = r.try_get("lease_until")?;
        if lease_until.is_none_or(|until| until - now < LEASE_MS - RENEW_AFTER_MS) {
            let renewed = sqlx::query(
                "UPDATE webhook_endpoints SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND enabled = 1",
            )
            .bind(now + LEASE_MS)
            .bind(id)
            .bind(self.owner.clone())
            .execute(&self.db.pool)
            .await?;
            if renewed.rows_affected() == 0 {
                return Ok(None);
            }
        }
        let head = Head {
            delivery: r.try_get("id")?,
            attempts: r.try_get("attempts")?,
            next_at: r.try_get("next_at")?,
            url: r.try_get("url")?,
            public_id: r.try_get("public_id")?,
            secret_sealed: r.try_get("secret_sealed")?,
            previous_sealed: r.try_get("previous_secret_sealed")?,
            previous_until: r.try_get("previous_secret_until")?,
            event_id: r.try_get("event_id")?,
            payload: r.try_get("payload")?,
        };
        Ok((head.next_at <= now).then_some(head))
    }

    /// The keys to sign with: the current secret's, and the previous one's while it lasts.
    fn keys(&self, h: &Head, now: i64) -> Vec<Vec<u8>> {
        let aad = secret_aad(&h.public_id);
        let open = |sealed: &str| {
            let plain = self.kek.open(sealed, &aad).ok()?;
            let secret = SecretString::from(String::from_utf8(plain).ok()?);
            sign::key_of(&secret)
        };
        let mut keys: Vec<Vec<u8>> = open(&h.secret_sealed).into_iter().collect();
        if h.previous_until.is_some_and(|until| until > now) {
            keys.extend(h.previous_sealed.as_deref().and_then(open));
        }
        keys
    }

    /// Attempts the head delivery of endpoint `id` once. True when the next one may follow now.
    async fn step(&self, id: i64) -> SvcResult<bool> {
        let now = self.db.now();
        let Some(h) = self.head(id, now).await? else {
            return Ok(false);
        };
        let keys = self.keys(&h, now);
        let outcome = if keys.is_empty() {
            Outcome {
                status: None,
                latency_ms: 0,
                error: Some(
                    "the signing secret cannot be opened with this key-encryption key".into(),
                ),
            }
        } else {
            send(
                &self.client,
                &h.url,
                self.settings.allow_private_networks,
                &keys,
                &h.event_id,
                &h.payload,
                now / 1000,
            )
            .await
        };
        let done_at = self.db.now();
        let attempts = h.attempts + 1;
        let (state, next_at) = if outcome.delivered() {
            ("delivered", None)
        } else {
            match usize::try_from(h.attempts)
                .ok()
                .and_then(|n| self.settings.retry_schedule_secs.get(n))
            {
                Some(wait) => ("pending", Some(done_at + wait * 1000)),
                None => ("failed", None),
            }
        };
        let delivery = h.delivery;
        self.db
            .write_locking(|conn| {
                let outcome = outcome.clone();
                async move {
                    sqlx::query("INSERT INTO webhook_attempts (delivery_pk, at, status, latency_ms, error) VALUES ($1, $2, $3, $4, $5)")
                        .bind(delivery)
                        .bind(done_at)
                        .bind(outcome.status)
                        .bind(outcome.latency_ms)
                        .bind(outcome.error.clone())
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(
                        "UPDATE webhook_deliveries SET state = $1, attempts = $2, next_at = COALESCE($3, next_at), \
                         finished_at = $4 WHERE id = $5 AND state = 'pending'",
                    )
                    .bind(state)
                    .bind(attempts)
                    .bind(next_at)
                    .bind((state != "pending").then_some(done_at))
                    .bind(delivery)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                }
                .boxed()
            })
            .await?;
        if !outcome.delivered() {
            tracing::info!(endpoint = %h.public_id, event = %h.event_id, attempt = attempts, error = ?outcome.error, "webhooks: delivery failed");
        }
        // A failure that waits for its retry holds the endpoint's later deliveries (in order).
        Ok(state != "pending")
    }

    /// Removes finished deliveries older than the retention, and events no delivery needs.
    pub async fn prune(&self) -> SvcResult<u64> {
        let before = self.db.now() - self.settings.retention_secs * 1000;
        let gone = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_at < $1",
        )
        .bind(before)
        .execute(&self.db.pool)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM webhook_events WHERE at < $1 AND NOT EXISTS \
             (SELECT 1 FROM webhook_deliveries d WHERE d.event_pk = webhook_events.id)",
        )
        .bind(before)
        .execute(&self.db.pool)
        .await?;
        Ok(gone)
    }
}
