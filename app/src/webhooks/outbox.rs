//! The transactional outbox: `emit` writes an event, and one delivery per enabled endpoint that
//! wants it, with the connection of the change it describes. A change that commits always has
//! its event; one that rolls back never had it. The dispatcher delivers what is written here.
//!
//! Also the expiry notices (`notify_expiry`): `secret.expiring` once per secret and threshold
//! of `secret_expiry_notice`, and `secret.expired` once, remembered in
//! `secret_expiry_notices`, so restarts and replicas never send one twice.

use std::sync::OnceLock;

use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use tokio::sync::Notify;

use super::EventType;
use crate::audit::SYSTEM_ACTOR;
use crate::infra::db::Db;
use crate::infra::{RequestMeta, SvcResult};

/// Wakes this replica's dispatcher when an event was written (it also looks every second, for
/// events written by other replicas and for retries).
pub fn wake() -> &'static Notify {
    static WAKE: OnceLock<Notify> = OnceLock::new();
    WAKE.get_or_init(Notify::new)
}

/// The time as the payloads carry it: RFC 3339 in UTC, with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What an event is about. Names and secrets are read from the database inside the change's
/// transaction, so the payload says what the change committed.
#[derive(Debug, Clone, Default)]
pub struct Subject<'a> {
    /// A client's public id.
    pub client_id: Option<&'a str>,
    /// A secret's row id.
    pub secret_id: Option<i64>,
    /// An authorizer's row id.
    pub authorizer_id: Option<i64>,
    /// More fields for `data`, such as a notice's `notice_seconds`.
    pub extra: Option<Value>,
}

impl<'a> Subject<'a> {
    pub fn client(client_id: &'a str) -> Self {
        Subject {
            client_id: Some(client_id),
            ..Default::default()
        }
    }

    pub fn secret(client_id: &'a str, secret_id: i64) -> Self {
        Subject {
            client_id: Some(client_id),
            secret_id: Some(secret_id),
            ..Default::default()
        }
    }
}

/// The endpoints that want `kind`: enabled, and listing it or listing nothing (all).
async fn subscribers(conn: &mut AnyConnection, kind: EventType) -> SvcResult<Vec<i64>> {
    let rows =
        sqlx::query("SELECT id, events FROM webhook_endpoints WHERE enabled = 1 ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    let mut out = Vec::new();
    for r in rows {
        let events: String = r.try_get("events")?;
        if events.is_empty() || events.split(' ').any(|e| e == kind.as_str()) {
            out.push(r.try_get("id")?);
        }
    }
    Ok(out)
}

async fn data(
    conn: &mut AnyConnection,
    actor: &str,
    meta: &RequestMeta,
    s: &Subject<'_>,
) -> SvcResult<Value> {
    let mut data = json!({ "actor": actor, "request_id": meta.request_id });
    if let Some(client_id) = s.client_id {
        let row = sqlx::query("SELECT name FROM clients WHERE client_id = $1")
            .bind(client_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        let name: Option<String> = row.map(|r| r.try_get("name")).transpose()?;
        data["client"] = json!({ "id": client_id, "name": name });
    }
    if let Some(id) = s.secret_id {
        let row = sqlx::query("SELECT hint, expires_at FROM client_secrets WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(r) = row {
            let expires_at: Option<i64> = r.try_get("expires_at")?;
            data["secret"] = json!({
                "id": id,
                "hint": r.try_get::<String, _>("hint")?,
                "expires_at": expires_at.map(rfc3339),
            });
        }
    }
    if let Some(id) = s.authorizer_id {
        let row = sqlx::query(
            "SELECT a.name, c.client_id FROM authorizers a JOIN clients c ON c.id = a.client_pk WHERE a.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = row {
            data["authorizer"] = json!({
                "id": id,
                "name": r.try_get::<String, _>("name")?,
                "client_id": r.try_get::<String, _>("client_id")?,
            });
        }
    }
    if let Some(Value::Object(extra)) = &s.extra {
        for (k, v) in extra {
            data[k] = v.clone();
        }
    }
    Ok(data)
}

/// A new event id, as the `webhook-id` header carries it.
fn new_event_id() -> String {
    let bytes: [u8; 16] = rand::random();
    format!("msg_{}", hex::encode(bytes))
}

/// Writes event `kind` about `subject` for every endpoint that wants it, inside the caller's
/// transaction. Nothing is written when no endpoint wants it. Returns the event's id, if any.
pub async fn emit(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    now: i64,
    actor: &str,
    kind: EventType,
    subject: Subject<'_>,
) -> SvcResult<Option<String>> {
    emit_to(conn, meta, now, actor, kind, subject, None).await
}

/// `emit`, to one endpoint only when `only` is set (a test delivery).
pub async fn emit_to(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    now: i64,
    actor: &str,
    kind: EventType,
    subject: Subject<'_>,
    only: Option<i64>,
) -> SvcResult<Option<String>> {
    let endpoints = match only {
        Some(id) => vec![id],
        None => subscribers(conn, kind).await?,
    };
    if endpoints.is_empty() {
        return Ok(None);
    }
    let payload = json!({
        "type": kind.as_str(),
        "timestamp": rfc3339(now),
        "data": data(conn, actor, meta, &subject).await?,
    });
    let id = new_event_id();
    let event_pk: i64 = sqlx::query(
        "INSERT INTO webhook_events (public_id, type, at, payload) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(id.clone())
    .bind(kind.as_str())
    .bind(now)
    .bind(payload.to_string())
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    for endpoint in endpoints {
        sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_pk, event_pk, state, attempts, next_at, created_at) \
             VALUES ($1, $2, 'pending', 0, $3, $3)",
        )
        .bind(endpoint)
        .bind(event_pk)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    wake().notify_one();
    Ok(Some(id))
}

/// Records that notice `threshold` (seconds before expiry, 0 for expired) of secret `secret_id`
/// was given; false when it already was.
pub async fn claim_notice(
    conn: &mut AnyConnection,
    secret_id: i64,
    threshold: i64,
    now: i64,
) -> SvcResult<bool> {
    let done = sqlx::query(
        "INSERT INTO secret_expiry_notices (secret_id, threshold, at) VALUES ($1, $2, $3) \
         ON CONFLICT (secret_id, threshold) DO NOTHING",
    )
    .bind(secret_id)
    .bind(threshold)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the expiry notices that are due: each current secret inside a notice window gets
/// `secret.expiring` for the nearest threshold it has passed, once; thresholds it passed
/// meanwhile (it was made inside a wider one, or the server was down) are recorded without
/// a message of their own. Each current secret past its expiry gets `secret.expired` once.
/// Returns how many events were written (at most 500 of each kind per call).
pub async fn notify_expiry(db: &Db, notices: &[i64], now: i64) -> SvcResult<u32> {
    use futures::FutureExt;
    let mut thresholds = notices.to_vec();
    thresholds.sort_unstable();
    thresholds.dedup();
    let sent = db
        .write_locking(|conn| {
            let thresholds = thresholds.clone();
            async move {
                let mut sent = 0;
                for (i, &t) in thresholds.iter().enumerate() {
                    let rows = sqlx::query(
                        "SELECT s.id, c.client_id FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
                         WHERE s.state = 'current' AND s.expires_at > $1 AND s.expires_at <= $2 \
                         AND NOT EXISTS (SELECT 1 FROM secret_expiry_notices n WHERE n.secret_id = s.id AND n.threshold = $3) \
                         ORDER BY s.expires_at LIMIT 500",
                    )
                    .bind(now)
                    .bind(now + t * 1000)
                    .bind(t)
                    .fetch_all(&mut *conn)
                    .await?;
                    for r in rows {
                        let (id, client_id): (i64, String) = (r.try_get("id")?, r.try_get("client_id")?);
                        // Another replica may have given it meanwhile (PostgreSQL reads
                        // committed here): the row decides, once.
                        if !claim_notice(conn, id, t, now).await? {
                            continue;
                        }
                        for &wider in &thresholds[i + 1..] {
                            claim_notice(conn, id, wider, now).await?;
                        }
                        let subject = Subject {
                            extra: Some(json!({ "notice_seconds": t })),
                            ..Subject::secret(&client_id, id)
                        };
                        let meta = RequestMeta::default();
                        emit(conn, &meta, now, SYSTEM_ACTOR, EventType::SecretExpiring, subject).await?;
                        sent += 1;
                    }
                }
                Ok(sent)
            }
            .boxed()
        })
        .await?;
    Ok(sent + expired_notices(db, now).await?)
}

async fn expired_notices(db: &Db, now: i64) -> SvcResult<u32> {
    use futures::FutureExt;
    db.write_locking(|conn| {
        async move {
            let rows = sqlx::query(
                "SELECT s.id, c.client_id FROM client_secrets s JOIN clients c ON c.id = s.client_pk \
                 WHERE s.state = 'current' AND s.expires_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM secret_expiry_notices n WHERE n.secret_id = s.id AND n.threshold = 0) \
                 ORDER BY s.expires_at LIMIT 500",
            )
            .bind(now)
            .fetch_all(&mut *conn)
            .await?;
            let mut sent = 0;
            for r in rows {
                let (id, client_id): (i64, String) = (r.try_get("id")?, r.try_get("client_id")?);
                if claim_notice(conn, id, 0, now).await? {
                    let meta = RequestMeta::default();
                    emit(conn, &meta, now, SYSTEM_ACTOR, EventType::SecretExpired, Subject::secret(&client_id, id)).await?;
                    sent += 1;
                }
            }
            Ok(sent)
        }
        .boxed()
    })
    .await
}

/// `emit` of `kind` about secret `secret_id` of client `client_id`.
pub async fn emit_secret(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    now: i64,
    actor: &str,
    kind: EventType,
    client_id: &str,
    secret_id: i64,
) -> SvcResult<()> {
    emit(
        conn,
        meta,
        now,
        actor,
        kind,
        Subject::secret(client_id, secret_id),
    )
    .await
    .map(|_| ())
}

/// `emit` of `kind` about client `client_id`.
pub async fn emit_client(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    now: i64,
    actor: &str,
    kind: EventType,
    client_id: &str,
) -> SvcResult<()> {
    emit(conn, meta, now, actor, kind, Subject::client(client_id))
        .await
        .map(|_| ())
}
