//! Webhook endpoints and their deliveries: the writes (each audited, in one transaction) and
//! the reads. Rules that live here: the URL is checked against the network rules; the signing
//! secret is made here, sealed under the key-encryption key and handed over once; a rotation
//! keeps the previous secret signing for `PREVIOUS_SECRET_MS`; deleting an endpoint drops its
//! deliveries.

use futures::FutureExt;
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::outbox::{self, Subject};
use super::sign::secret_aad;
use super::{Attempt, Delivery, DeliveryPage, DeliveryState, Endpoint, EndpointInput, EventType};
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::seal::Kek;
use crate::infra::{once, RequestMeta, SvcError, SvcResult};

/// After a rotation, the previous secret signs too for this long (or until the next rotation).
pub const PREVIOUS_SECRET_MS: i64 = 24 * 60 * 60 * 1000;
/// Deliveries per page.
pub const DELIVERIES_PAGE: i64 = 25;

const SELECT: &str = "SELECT e.id, e.public_id, e.url, e.description, e.events, e.enabled, e.created_at, \
    e.created_by, e.updated_at, e.previous_secret_until, \
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_pk = e.id AND d.state = 'pending') AS pending, \
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_pk = e.id AND d.state = 'failed') AS failed \
    FROM webhook_endpoints e";

fn row_to_endpoint(r: &AnyRow, now: i64) -> Result<Endpoint, sqlx::Error> {
    let events: String = r.try_get("events")?;
    let until: Option<i64> = r.try_get("previous_secret_until")?;
    Ok(Endpoint {
        id: r.try_get("public_id")?,
        url: r.try_get("url")?,
        description: r.try_get("description")?,
        events: events
            .split(' ')
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect(),
        enabled: r.try_get::<i64, _>("enabled")? == 1,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        updated_at: r.try_get("updated_at")?,
        previous_secret_until: until.filter(|u| *u > now),
        pending: r.try_get("pending")?,
        failed: r.try_get("failed")?,
    })
}

/// A URL as the audit log keeps it: without its query, where receivers often put a token.
fn for_audit(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}

fn not_found() -> SvcError {
    AppError::NotFound("This webhook endpoint".into()).into()
}

async fn find(conn: &mut AnyConnection, public_id: &str, now: i64) -> SvcResult<(i64, Endpoint)> {
    let row = sqlx::query(&format!("{SELECT} WHERE e.public_id = $1"))
        .bind(public_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(not_found)?;
    Ok((row.try_get("id")?, row_to_endpoint(&row, now)?))
}

/// Every endpoint, oldest first.
pub async fn list(db: &Db) -> SvcResult<Vec<Endpoint>> {
    let now = db.now();
    let rows = sqlx::query(&format!("{SELECT} ORDER BY e.id"))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows
        .iter()
        .map(|r| row_to_endpoint(r, now))
        .collect::<Result<_, _>>()?)
}

pub async fn get(db: &Db, public_id: &str) -> SvcResult<Endpoint> {
    let mut conn = db.pool.acquire().await?;
    Ok(find(&mut conn, public_id, db.now()).await?.1)
}

fn checked(input: &EndpointInput, allow_private: bool) -> SvcResult<(String, String, String)> {
    let c = input.check()?;
    let url = super::target::check_url(&input.url, allow_private)
        .map_err(|m| AppError::validation("url", m))?;
    let events = c
        .events
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Ok((url.to_string(), c.description, events))
}

fn kek_of(kek: Option<&Kek>) -> SvcResult<&Kek> {
    kek.ok_or_else(|| SvcError::Internal("webhooks need the key-encryption key".into()))
}

/// Registers an endpoint; returns it with its signing secret, which is never shown again.
pub async fn create(
    db: &Db,
    kek: Option<&Kek>,
    allow_private: bool,
    actor: &str,
    meta: &RequestMeta,
    input: &EndpointInput,
) -> SvcResult<(Endpoint, SecretString)> {
    let (url, description, events) = checked(input, allow_private)?;
    let kek = kek_of(kek)?;
    let public_id = format!("wh_{}", hex::encode(rand::random::<[u8; 8]>()));
    let secret = super::sign::new_secret();
    let sealed = kek.seal(secret.expose_secret().as_bytes(), &secret_aad(&public_id));
    let endpoint = db
        .write(|conn| {
            let (meta, actor, public_id) = (meta.clone(), actor.to_string(), public_id.clone());
            let (url, description, events, sealed) = (url.clone(), description.clone(), events.clone(), sealed.clone());
            let enabled = input.enabled;
            async move {
                once::claim(conn, &meta, &actor).await?;
                let now = crate::infra::db::now_ms();
                sqlx::query(
                    "INSERT INTO webhook_endpoints (public_id, url, description, events, enabled, secret_sealed, \
                     created_at, created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)",
                )
                .bind(public_id.clone())
                .bind(url.clone())
                .bind(description)
                .bind(events)
                .bind(i64::from(enabled))
                .bind(sealed)
                .bind(now)
                .bind(actor.clone())
                .execute(&mut *conn)
                .await?;
                let detail = Some(format!("{}{}", for_audit(&url), if enabled { "" } else { " (disabled)" }));
                audit::record(conn, &meta, Event { actor: &actor, action: "webhook.created", target: Some(&public_id), detail }).await?;
                once::settle(conn, &meta, &format!("/webhooks/{public_id}")).await?;
                Ok(find(conn, &public_id, now).await?.1)
            }
            .boxed()
        })
        .await?;
    Ok((endpoint, secret))
}

/// Changes an endpoint's URL, description, event types and whether it is enabled.
pub async fn update(
    db: &Db,
    allow_private: bool,
    actor: &str,
    meta: &RequestMeta,
    public_id: &str,
    input: &EndpointInput,
) -> SvcResult<Endpoint> {
    let (url, description, events) = checked(input, allow_private)?;
    db.write(|conn| {
        let (meta, actor, public_id) = (meta.clone(), actor.to_string(), public_id.to_string());
        let (url, description, events) = (url.clone(), description.clone(), events.clone());
        let enabled = input.enabled;
        async move {
            let now = crate::infra::db::now_ms();
            let (id, before) = find(conn, &public_id, now).await?;
            once::claim(conn, &meta, &actor).await?;
            sqlx::query(
                "UPDATE webhook_endpoints SET url = $1, description = $2, events = $3, enabled = $4, updated_at = $5 WHERE id = $6",
            )
            .bind(url.clone())
            .bind(description)
            .bind(events)
            .bind(i64::from(enabled))
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            let mut notes = Vec::new();
            if before.url != url {
                notes.push(format!("URL {}", for_audit(&url)));
            }
            if before.enabled != enabled {
                notes.push(if enabled { "enabled".to_string() } else { "disabled".to_string() });
            }
            let detail = (!notes.is_empty()).then(|| notes.join("; "));
            audit::record(conn, &meta, Event { actor: &actor, action: "webhook.updated", target: Some(&public_id), detail }).await?;
            Ok(find(conn, &public_id, now).await?.1)
        }
        .boxed()
    })
    .await
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(db: &Db, actor: &str, meta: &RequestMeta, public_id: &str) -> SvcResult<()> {
    db.write(|conn| {
        let (meta, actor, public_id) = (meta.clone(), actor.to_string(), public_id.to_string());
        async move {
            let now = crate::infra::db::now_ms();
            let (id, before) = find(conn, &public_id, now).await?;
            once::claim(conn, &meta, &actor).await?;
            sqlx::query("DELETE FROM webhook_attempts WHERE delivery_pk IN (SELECT id FROM webhook_deliveries WHERE endpoint_pk = $1)")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_pk = $1").bind(id).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id).execute(&mut *conn).await?;
            let detail = Some(for_audit(&before.url));
            audit::record(conn, &meta, Event { actor: &actor, action: "webhook.deleted", target: Some(&public_id), detail }).await?;
            Ok(())
        }
        .boxed()
    })
    .await
}

/// A new signing secret; the previous one keeps signing for `PREVIOUS_SECRET_MS`. Returns the
/// new secret, shown once.
pub async fn rotate_secret(
    db: &Db,
    kek: Option<&Kek>,
    actor: &str,
    meta: &RequestMeta,
    public_id: &str,
) -> SvcResult<(Endpoint, SecretString)> {
    let kek = kek_of(kek)?;
    let secret = super::sign::new_secret();
    let sealed = kek.seal(secret.expose_secret().as_bytes(), &secret_aad(public_id));
    let endpoint = db
        .write(|conn| {
            let (meta, actor, public_id, sealed) = (meta.clone(), actor.to_string(), public_id.to_string(), sealed.clone());
            async move {
                let now = crate::infra::db::now_ms();
                let (id, _) = find(conn, &public_id, now).await?;
                once::claim(conn, &meta, &actor).await?;
                sqlx::query(
                    "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, previous_secret_until = $1, \
                     secret_sealed = $2, updated_at = $3 WHERE id = $4",
                )
                .bind(now + PREVIOUS_SECRET_MS)
                .bind(sealed)
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                let detail = Some("the previous secret signs too for 24 hours".to_string());
                audit::record(conn, &meta, Event { actor: &actor, action: "webhook.secret_rotated", target: Some(&public_id), detail }).await?;
                once::settle(conn, &meta, &format!("/webhooks/{public_id}")).await?;
                Ok(find(conn, &public_id, now).await?.1)
            }
            .boxed()
        })
        .await?;
    Ok((endpoint, secret))
}

/// Ends the previous signing secret now (after a rotation, once every receiver has switched).
pub async fn end_previous_secret(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    public_id: &str,
) -> SvcResult<Endpoint> {
    db.write(|conn| {
        let (meta, actor, public_id) = (meta.clone(), actor.to_string(), public_id.to_string());
        async move {
            let now = crate::infra::db::now_ms();
            let (id, before) = find(conn, &public_id, now).await?;
            once::claim(conn, &meta, &actor).await?;
            if before.previous_secret_until.is_none() {
                return Err(AppError::Conflict("This endpoint has no previous signing secret that still signs.".into()).into());
            }
            sqlx::query("UPDATE webhook_endpoints SET previous_secret_sealed = NULL, previous_secret_until = NULL, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let detail = Some("only the current signing secret signs from now on".to_string());
            audit::record(conn, &meta, Event { actor: &actor, action: "webhook.previous_secret_ended", target: Some(&public_id), detail }).await?;
            Ok(find(conn, &public_id, now).await?.1)
        }
        .boxed()
    })
    .await
}

/// Sends a `webhook.test` event to this endpoint (even when it does not list that type).
pub async fn send_test(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    public_id: &str,
) -> SvcResult<String> {
    db.write(|conn| {
        let (meta, actor, public_id) = (meta.clone(), actor.to_string(), public_id.to_string());
        async move {
            let now = crate::infra::db::now_ms();
            let (id, _) = find(conn, &public_id, now).await?;
            once::claim(conn, &meta, &actor).await?;
            let subject = Subject {
                extra: Some(serde_json::json!({ "webhook": { "id": public_id } })),
                ..Subject::default()
            };
            let event = outbox::emit_to(
                conn,
                &meta,
                now,
                &actor,
                EventType::WebhookTest,
                subject,
                Some(id),
            )
            .await?
            .ok_or_else(|| SvcError::Internal("a test event was not written".into()))?;
            let detail = Some(format!("event {event}"));
            audit::record(
                conn,
                &meta,
                Event {
                    actor: &actor,
                    action: "webhook.tested",
                    target: Some(&public_id),
                    detail,
                },
            )
            .await?;
            Ok(event)
        }
        .boxed()
    })
    .await
}

/// Delivers a failed delivery again, from the start of the retry schedule.
pub async fn redeliver(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    public_id: &str,
    delivery: i64,
) -> SvcResult<()> {
    db.write(|conn| {
        let (meta, actor, public_id) = (meta.clone(), actor.to_string(), public_id.to_string());
        async move {
            let now = crate::infra::db::now_ms();
            let (id, _) = find(conn, &public_id, now).await?;
            once::claim(conn, &meta, &actor).await?;
            let changed = sqlx::query(
                "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $1, finished_at = NULL \
                 WHERE id = $2 AND endpoint_pk = $3 AND state = 'failed'",
            )
            .bind(now)
            .bind(delivery)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(AppError::Conflict("Only a failed delivery of this endpoint can be delivered again.".into()).into());
            }
            let detail = Some(format!("delivery {delivery}"));
            audit::record(conn, &meta, Event { actor: &actor, action: "webhook.redelivered", target: Some(&public_id), detail }).await?;
            outbox::wake().notify_one();
            Ok(())
        }
        .boxed()
    })
    .await
}

/// A page of an endpoint's deliveries, newest first, from before delivery id `before`;
/// `state` keeps one state only.
pub async fn deliveries(
    db: &Db,
    public_id: &str,
    state: Option<DeliveryState>,
    before: Option<i64>,
) -> SvcResult<DeliveryPage> {
    let mut conn = db.pool.acquire().await?;
    let (id, _) = find(&mut conn, public_id, db.now()).await?;
    let rows = sqlx::query(
        "SELECT d.id, d.state, d.attempts, d.next_at, d.created_at, d.finished_at, ev.public_id AS event_id, ev.type \
         FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_pk \
         WHERE d.endpoint_pk = $1 AND d.id < $2 AND ($3 = '' OR d.state = $3) ORDER BY d.id DESC LIMIT $4",
    )
    .bind(id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(state.map(DeliveryState::as_str).unwrap_or(""))
    .bind(DELIVERIES_PAGE + 1)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in rows.iter().take(DELIVERIES_PAGE as usize) {
        let delivery: i64 = r.try_get("id")?;
        let state_text: String = r.try_get("state")?;
        let state = DeliveryState::parse(&state_text)
            .ok_or_else(|| SvcError::Internal(format!("unknown delivery state {state_text}")))?;
        let attempts = sqlx::query("SELECT at, status, latency_ms, error FROM webhook_attempts WHERE delivery_pk = $1 ORDER BY id")
            .bind(delivery)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|a| {
                Ok(Attempt {
                    at: a.try_get("at")?,
                    status: a.try_get("status")?,
                    latency_ms: a.try_get("latency_ms")?,
                    error: a.try_get("error")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        out.push(Delivery {
            id: delivery,
            event_id: r.try_get("event_id")?,
            event_type: r.try_get("type")?,
            created_at: r.try_get("created_at")?,
            next_at: (state == DeliveryState::Pending)
                .then(|| r.try_get("next_at"))
                .transpose()?,
            finished_at: r.try_get("finished_at")?,
            state,
            attempts,
        });
    }
    let next_before = (rows.len() as i64 > DELIVERIES_PAGE)
        .then(|| out.last().map(|d| d.id))
        .flatten();
    Ok(DeliveryPage {
        deliveries: out,
        next_before,
    })
}
