//! System clients: the clients Clavis makes for its own parts (an authorizer's client, see
//! `authorizers`), in the built-in application "System", made on first use.
//!
//! A system client is made and deleted in its owner's transaction; `guard` keeps it from being
//! given another scope or deleted on its own.

use sqlx::{AnyConnection, Row};

use super::kind::ClientType;
use super::rules::ApplicationChoice;
use super::service::{check_system, insert, insert_application, name_key, Checked};
use super::{ClientInput, ClientView};
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::Db;
use crate::infra::{RequestMeta, SvcResult};
use crate::secrets::IssuedSecretOnce;

/// The name of the built-in application of system clients.
pub const SYSTEM_APPLICATION: &str = "System";

/// Creates a system client inside the caller's transaction, in the System application.
pub async fn create_in(
    conn: &mut AnyConnection,
    db: &Db,
    meta: &RequestMeta,
    actor: &str,
    input: &ClientInput,
) -> SvcResult<(ClientView, Option<IssuedSecretOnce>)> {
    let kind = ClientType::parse(&input.client_type)
        .ok_or_else(|| AppError::validation("client_type", "Choose a client type."))?;
    let checked = check_system(kind, input, db.secret_max_lifetime)?;
    let existing = sqlx::query("SELECT id FROM applications WHERE name_key = $1")
        .bind(name_key(SYSTEM_APPLICATION))
        .fetch_optional(&mut *conn)
        .await?;
    let app_id: i64 = match existing {
        Some(r) => r.try_get("id")?,
        None => {
            let detail = Some("built in: the clients of authorizers".to_string());
            insert_application(conn, meta, actor, "name", SYSTEM_APPLICATION, detail)
                .await?
                .id
        }
    };
    let checked = Checked {
        application: ApplicationChoice::Existing(app_id),
        ..checked
    };
    insert(conn, db, meta, actor, kind, &checked).await
}

/// Deletes a system client inside its owner's transaction, audited as `client.deleted`.
pub async fn delete_in(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    actor: &str,
    client_id: &str,
    why: &str,
) -> SvcResult<()> {
    let kind = crate::webhooks::EventType::ClientDeleted;
    crate::webhooks::outbox::emit_client(
        conn,
        meta,
        crate::infra::db::now_ms(),
        actor,
        kind,
        client_id,
    )
    .await?;
    sqlx::query("DELETE FROM clients WHERE client_id = $1")
        .bind(client_id.to_string())
        .execute(&mut *conn)
        .await?;
    let ev = Event {
        actor,
        action: "client.deleted",
        target: Some(client_id),
        detail: Some(why.to_string()),
    };
    audit::record(conn, meta, ev).await
}
