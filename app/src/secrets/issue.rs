//! Making a new current secret: its plaintext for the one answer, its hash, its sealed copy when
//! the storage flag allows, and its expiry from the lifetime that applies to its client now
//! (the client's own, capped by `secret_max_lifetime`). Used by `service` (creation, rotation).

use sqlx::{AnyConnection, Row};

use super::effective_lifetime;
use super::format::{sealed_aad, SecretPlaintext};
use super::owner::{find_client, ClientRow};
use super::IssuedSecretOnce;
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::seal::Kek;
use crate::infra::{RequestMeta, SvcResult};

/// Public clients never have a secret.
pub(super) fn refuse_public(c: &ClientRow) -> SvcResult<()> {
    if c.kind.has_secret() {
        Ok(())
    } else {
        Err(AppError::validation(
            "client_id",
            "Public clients never have a secret: their code runs on people's devices, where anyone could read it.",
        )
        .into())
    }
}

/// How new secrets are made: sealed or not, and with which lifetime at most. From the `Db`.
#[derive(Clone)]
pub(super) struct Making {
    seal: Option<Kek>,
    max_lifetime: Option<i64>,
}

impl Making {
    pub(super) fn of(db: &Db) -> Self {
        Making {
            seal: db.secret_seal.clone(),
            max_lifetime: db.secret_max_lifetime,
        }
    }

    /// When a secret of `c` made at `now` expires.
    fn expires_at(&self, c: &ClientRow, now: i64) -> Option<i64> {
        effective_lifetime(c.secret_lifetime, self.max_lifetime).map(|secs| now + secs * 1000)
    }
}

/// A new secret as its single response hands it over.
pub(super) struct Made {
    secret: SecretPlaintext,
    hint: String,
    expires_at: Option<i64>,
}

/// Issues a new current secret for a client that has none, inside the caller's transaction,
/// with the lifetime that applies to it now. The caller has checked the type. Returns the
/// plaintext for its single response.
pub(super) async fn insert_current(
    conn: &mut AnyConnection,
    making: &Making,
    c: &ClientRow,
    actor: &str,
    now: i64,
) -> SvcResult<Made> {
    let seal = making.seal.as_ref();
    let expires_at = making.expires_at(c, now);
    let secret = SecretPlaintext::generate();
    let hint = secret.hint();
    let hash = secret.hash().to_tagged();
    // The storage flag false: a copy sealed under the key-encryption key, bound to this hash
    // so that it cannot be moved to another row. Never the plaintext itself.
    let sealed = seal.map(|k| k.seal(secret.expose().as_bytes(), &sealed_aad(&hash)));
    sqlx::query(
        "INSERT INTO client_secrets (client_pk, hash, hint, state, created_at, created_by, sealed, expires_at) \
         VALUES ($1, $2, $3, 'current', $4, $5, $6, $7)",
    )
    .bind(c.pk)
    .bind(&hash)
    .bind(hint.clone())
    .bind(now)
    .bind(actor.to_string())
    .bind(sealed)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(Made {
        secret,
        hint,
        expires_at,
    })
}

pub(super) fn issued(c: &ClientRow, made: Made) -> IssuedSecretOnce {
    IssuedSecretOnce {
        client_id: c.client_id.clone(),
        client_name: c.name.clone(),
        secret: made.secret.expose().to_string(),
        hint: made.hint,
        expires_at: made.expires_at,
    }
}

/// The first secret of a newly created confidential client, in the creating transaction.
pub async fn issue_first(
    conn: &mut AnyConnection,
    db: &Db,
    meta: &RequestMeta,
    actor: &str,
    client_id: &str,
) -> SvcResult<IssuedSecretOnce> {
    // The row was inserted by this very transaction: nobody else can see it to lock it.
    let c = find_client(conn, client_id, false).await?;
    refuse_public(&c)?;
    let made = insert_current(conn, &Making::of(db), &c, actor, db.now()).await?;
    let ev = Event {
        actor,
        action: "secret.created",
        target: Some(client_id),
        detail: Some(created_detail(&made)),
    };
    audit::record(conn, meta, ev).await?;
    let secret_id: i64 =
        sqlx::query("SELECT id FROM client_secrets WHERE client_pk = $1 AND state = 'current'")
            .bind(c.pk)
            .fetch_one(&mut *conn)
            .await?
            .try_get("id")?;
    let kind = crate::webhooks::EventType::SecretCreated;
    crate::webhooks::outbox::emit_secret(conn, meta, db.now(), actor, kind, client_id, secret_id)
        .await?;
    Ok(issued(&c, made))
}

/// The audit detail of a new secret: its hint, and its expiry when it has one.
pub(super) fn created_detail(made: &Made) -> String {
    match made.expires_at {
        Some(at) => format!("secret …{} (expires {})", made.hint, fmt_utc(at)),
        None => format!("secret …{}", made.hint),
    }
}

/// A time for the audit log, in UTC to the minute.
fn fmt_utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
