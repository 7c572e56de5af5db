//! The client registry's writes: create (one client, or an application with all its clients),
//! read one, update, enable or disable, and delete; each change audited with its actor. The
//! list query is `search`.
//!
//! Rules that live here: a client's type never changes; redirect URIs and scopes follow from the
//! type (see `rules`); a confidential client gets its first secret in the transaction that
//! creates it; deleting needs the client's exact name as confirmation.

use futures::FutureExt;
use rand::RngCore;
use sqlx::{AnyConnection, Row};

pub use super::etag::{etag, etag_matches};
use super::kind::ClientType;
pub(super) use super::record::{
    check, check_system, name_key, row_to_view, Checked, COLUMNS, FROM,
};
use super::rules::{self, ApplicationChoice};
use super::{ApplicationRef, ClientInput, ClientView};
use crate::audit::service::{self as audit, Event};
use crate::error::AppError;
use crate::infra::db::{now_ms, Db};
use crate::infra::once;
use crate::infra::{RequestMeta, SvcResult};
use crate::secrets::service as secrets;
use crate::secrets::IssuedSecretOnce;
use crate::webhooks::outbox::emit_client;
use crate::webhooks::EventType;

/// 128 random bits as 32 lower-case hex characters: URL-safe, and not guessable.
fn new_client_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The application id a client gets from `choice`; `current` is its application now (none for
/// a new client). A new application is made here, in the caller's transaction.
async fn resolve_application(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    actor: &str,
    choice: &ApplicationChoice,
    current: Option<i64>,
) -> SvcResult<Option<i64>> {
    match choice {
        ApplicationChoice::Keep => Ok(current),
        ApplicationChoice::None => Ok(None),
        ApplicationChoice::Existing(id) => {
            let found = sqlx::query("SELECT id FROM applications WHERE id = $1")
                .bind(*id)
                .fetch_optional(&mut *conn)
                .await?;
            match found {
                Some(_) => Ok(Some(*id)),
                None => Err(AppError::validation(
                    "application",
                    "That application no longer exists. Choose another one.",
                )
                .into()),
            }
        }
        ApplicationChoice::New(name) => {
            let app = insert_application(conn, meta, actor, "new_application", name, None).await?;
            Ok(Some(app.id))
        }
    }
}

/// Makes an application named `name`, refusing a name that is taken (the error names `field`).
pub(super) async fn insert_application(
    conn: &mut AnyConnection,
    meta: &RequestMeta,
    actor: &str,
    field: &str,
    name: &str,
    detail: Option<String>,
) -> SvcResult<ApplicationRef> {
    let taken = sqlx::query("SELECT id FROM applications WHERE name_key = $1")
        .bind(name_key(name))
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        return Err(AppError::validation(
            field,
            format!("An application named {name} already exists."),
        )
        .into());
    }
    let row = sqlx::query(
        "INSERT INTO applications (name, name_key, description, created_at, created_by) \
         VALUES ($1, $2, '', $3, $4) RETURNING id",
    )
    .bind(name.to_string())
    .bind(name_key(name))
    .bind(now_ms())
    .bind(actor.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let app = ApplicationRef {
        id: row.try_get("id")?,
        name: name.to_string(),
    };
    let ev = Event {
        actor,
        action: "application.created",
        target: Some(name),
        detail,
    };
    audit::record(conn, meta, ev).await?;
    Ok(app)
}

/// Creates an application with no clients yet (the admin API's `POST /applications`).
pub async fn create_application(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    name: &str,
) -> SvcResult<ApplicationRef> {
    let name = rules::name("name", name)?;
    db.write(|conn| {
        let (meta, actor, name) = (meta.clone(), actor.to_string(), name.clone());
        async move {
            once::claim(conn, &meta, &actor).await?;
            let app = insert_application(conn, &meta, &actor, "name", &name, None).await?;
            once::settle(conn, &meta, &format!("/clients?application={}", app.id)).await?;
            Ok(app)
        }
        .boxed()
    })
    .await
}

async fn find(conn: &mut AnyConnection, client_id: &str) -> SvcResult<ClientView> {
    let row = sqlx::query(&format!("SELECT {COLUMNS}{FROM} WHERE c.client_id = $1"))
        .bind(client_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::NotFound("The client".into()))?;
    Ok(row_to_view(&row)?)
}

/// Inserts one client inside the caller's transaction and audits it. A confidential client
/// gets its first secret in the same transaction; its plaintext is returned for the one answer.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    db: &Db,
    meta: &RequestMeta,
    actor: &str,
    kind: ClientType,
    c: &Checked,
) -> SvcResult<(ClientView, Option<IssuedSecretOnce>)> {
    let application_id = resolve_application(conn, meta, actor, &c.application, None).await?;
    let client_id = new_client_id();
    let now = db.now();
    sqlx::query(
        "INSERT INTO clients (client_id, application_id, name, name_key, description, client_type, \
         redirect_uris, scopes, audience, enabled, created_at, created_by, updated_at, updated_by, \
         post_logout_redirect_uris, first_party, secret_lifetime) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(client_id.clone())
    .bind(application_id)
    .bind(c.name.clone())
    .bind(name_key(&c.name))
    .bind(c.description.clone())
    .bind(kind.as_str())
    .bind(c.redirect_uris.join("\n"))
    .bind(c.scopes.join(" "))
    .bind(c.audience.clone().unwrap_or_default())
    .bind(now)
    .bind(actor.to_string())
    .bind(now)
    .bind(actor.to_string())
    .bind(c.post_logout_redirect_uris.join("\n"))
    .bind(i64::from(c.first_party))
    .bind(c.secret_lifetime)
    .execute(&mut *conn)
    .await?;
    let ev = Event {
        actor,
        action: "client.created",
        target: Some(&client_id),
        detail: Some(format!(
            "{} “{}”{}",
            kind.as_str(),
            c.name,
            if c.first_party {
                ", first-party (no consent screen)"
            } else {
                ""
            }
        )),
    };
    audit::record(conn, meta, ev).await?;
    emit_client(
        conn,
        meta,
        now_ms(),
        actor,
        EventType::ClientCreated,
        &client_id,
    )
    .await?;
    let secret = if kind.has_secret() {
        Some(secrets::issue_first(conn, db, meta, actor, &client_id).await?)
    } else {
        None
    };
    Ok((find(conn, &client_id).await?, secret))
}

/// Creates a client; a confidential one comes with its first secret, returned in plaintext
/// for the single answer to its creator.
pub async fn create_issuing(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    input: &ClientInput,
) -> SvcResult<(ClientView, Option<IssuedSecretOnce>)> {
    let kind = ClientType::parse(&input.client_type)
        .ok_or_else(|| AppError::validation("client_type", "Choose a client type."))?;
    let checked = check(kind, input, db.secret_max_lifetime)?;
    db.write(|conn| {
        let (meta, actor) = (meta.clone(), actor.to_string());
        let (checked, db) = (checked.clone(), db.clone());
        async move {
            once::claim(conn, &meta, &actor).await?;
            let made = insert(conn, &db, &meta, &actor, kind, &checked).await?;
            once::settle(conn, &meta, &format!("/clients/{}", made.0.client_id)).await?;
            Ok(made)
        }
        .boxed()
    })
    .await
}

pub async fn get(db: &Db, client_id: &str) -> SvcResult<ClientView> {
    let mut conn = db.pool.acquire().await?;
    find(&mut conn, client_id).await
}

/// Changes name, description, redirect URIs, scopes, audience and application. The type is fixed.
pub async fn update(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    input: &ClientInput,
) -> SvcResult<ClientView> {
    update_matching(db, actor, meta, client_id, input, None).await
}

/// `update`, only if the client's `etag` still matches the `If-Match` value `expected` (when
/// given; see `etag_matches`), checked in the same transaction as the change;
/// `PreconditionFailed` otherwise.
pub async fn update_matching(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    input: &ClientInput,
    expected: Option<&str>,
) -> SvcResult<ClientView> {
    let (max_lifetime, now) = (db.secret_max_lifetime, db.now());
    db.write(|conn| {
        let (meta, actor, client_id, input) = (meta.clone(), actor.to_string(), client_id.to_string(), input.clone());
        let expected = expected.map(str::to_string);
        async move {
            let current = find(conn, &client_id).await?;
            if expected.as_ref().is_some_and(|e| !etag_matches(e, &etag(&current))) {
                return Err(AppError::PreconditionFailed.into());
            }
            if !input.client_type.is_empty() && input.client_type != current.client_type.as_str() {
                return Err(AppError::validation(
                    "client_type",
                    format!(
                        "A client's type cannot change: tokens, secrets and redirect rules all depend on it. \
                         Create a new {} client instead, then delete this one.",
                        ClientType::parse(&input.client_type).map_or("", |t| t.label())
                    ),
                )
                .into());
            }
            super::guard::refuse_system_change(conn, &current, Some(&input)).await?;
            // A lifetime sent back as it is stays accepted after `secret_max_lifetime` was
            // lowered (new secrets are capped by the maximum anyway); only a new value must fit.
            let kept = current.secret_lifetime.map(|l| l.to_string()).unwrap_or_default();
            let max_lifetime = if input.secret_lifetime.trim() == kept { None } else { max_lifetime };
            let c = if super::guard::is_system(conn, &current.client_id).await? {
                check_system(current.client_type, &input, max_lifetime)?
            } else {
                check(current.client_type, &input, max_lifetime)?
            };
            let current_app = current.application.as_ref().map(|a| a.id);
            let application_id = resolve_application(conn, &meta, &actor, &c.application, current_app).await?;
            sqlx::query(
                "UPDATE clients SET name = $1, name_key = $2, description = $3, redirect_uris = $4, scopes = $5, \
                 audience = $6, application_id = $7, updated_at = $8, updated_by = $9, \
                 post_logout_redirect_uris = $10, first_party = $11, secret_lifetime = $12 WHERE client_id = $13",
            )
            .bind(c.name.clone())
            .bind(name_key(&c.name))
            .bind(c.description.clone())
            .bind(c.redirect_uris.join("\n"))
            .bind(c.scopes.join(" "))
            .bind(c.audience.clone().unwrap_or_default())
            .bind(application_id)
            .bind(now)
            .bind(actor.clone())
            .bind(c.post_logout_redirect_uris.join("\n"))
            .bind(i64::from(c.first_party))
            .bind(c.secret_lifetime)
            .bind(client_id.clone())
            .execute(&mut *conn)
            .await?;
            // Skipping consent and a new secret lifetime are worth a line in the audit log.
            let mut notes = Vec::new();
            if c.first_party != current.first_party {
                notes.push(format!("first-party (no consent screen) {}", if c.first_party { "on" } else { "off" }));
            }
            if c.secret_lifetime != current.secret_lifetime {
                notes.push(match c.secret_lifetime {
                    Some(secs) => format!("secret lifetime {} (from the next secret on)", crate::secrets::fmt_duration(secs)),
                    None => "secret lifetime: the server's policy (from the next secret on)".to_string(),
                });
            }
            let detail = (!notes.is_empty()).then(|| notes.join("; "));
            let ev = Event { actor: &actor, action: "client.updated", target: Some(&client_id), detail };
            audit::record(conn, &meta, ev).await?;
            emit_client(conn, &meta, now, &actor, EventType::ClientUpdated, &client_id).await?;
            find(conn, &client_id).await
        }
        .boxed()
    })
    .await
}

pub async fn set_enabled(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    enabled: bool,
) -> SvcResult<ClientView> {
    db.write(|conn| {
        let (meta, actor, client_id) = (meta.clone(), actor.to_string(), client_id.to_string());
        async move {
            let current = find(conn, &client_id).await?;
            if current.enabled == enabled {
                return Ok(current);
            }
            sqlx::query("UPDATE clients SET enabled = $1, updated_at = $2, updated_by = $3 WHERE client_id = $4")
                .bind(i64::from(enabled))
                .bind(now_ms())
                .bind(actor.clone())
                .bind(client_id.clone())
                .execute(&mut *conn)
                .await?;
            let action = if enabled { "client.enabled" } else { "client.disabled" };
            audit::record(conn, &meta, Event { actor: &actor, action, target: Some(&client_id), detail: None }).await?;
            let kind = if enabled { EventType::ClientEnabled } else { EventType::ClientDisabled };
            emit_client(conn, &meta, now_ms(), &actor, kind, &client_id).await?;
            find(conn, &client_id).await
        }
        .boxed()
    })
    .await
}

/// Deletes a client. `confirm_name` must be its exact name, as typed by the person deleting it.
pub async fn delete(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    client_id: &str,
    confirm_name: &str,
) -> SvcResult<()> {
    db.write(|conn| {
        let (meta, actor, client_id, confirm) = (
            meta.clone(),
            actor.to_string(),
            client_id.to_string(),
            confirm_name.trim().to_string(),
        );
        async move {
            let current = find(conn, &client_id).await?;
            super::guard::refuse_system_change(conn, &current, None).await?;
            if confirm != current.name {
                return Err(AppError::validation(
                    "confirm_name",
                    "Type the client's name exactly as shown to confirm the deletion.",
                )
                .into());
            }
            // Before the row goes, so that the event still names the client.
            emit_client(
                conn,
                &meta,
                now_ms(),
                &actor,
                EventType::ClientDeleted,
                &client_id,
            )
            .await?;
            sqlx::query("DELETE FROM clients WHERE client_id = $1")
                .bind(client_id.clone())
                .execute(&mut *conn)
                .await?;
            let detail = Some(format!(
                "{} “{}”",
                current.client_type.as_str(),
                current.name
            ));
            audit::record(
                conn,
                &meta,
                Event {
                    actor: &actor,
                    action: "client.deleted",
                    target: Some(&client_id),
                    detail,
                },
            )
            .await
        }
        .boxed()
    })
    .await
}

/// Creates an application and all its clients in one transaction: if any field is wrong,
/// nothing is created. Field errors name the client: `clients.{i}.{field}`.
pub async fn create_with_application(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    application_name: &str,
    inputs: &[ClientInput],
) -> SvcResult<(ApplicationRef, Vec<ClientView>, Vec<IssuedSecretOnce>)> {
    let app_name = rules::name("application_name", application_name)?;
    if inputs.is_empty() {
        return Err(AppError::validation("application_name", "Add at least one client.").into());
    }
    let mut checked = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let kind = ClientType::parse(&input.client_type).ok_or_else(|| {
            AppError::validation(&format!("clients.{i}.client_type"), "Choose a client type.")
        })?;
        let c = check(kind, input, db.secret_max_lifetime).map_err(|e| match e {
            AppError::Validation { field, message } => AppError::Validation {
                field: format!("clients.{i}.{field}"),
                message,
            },
            other => other,
        })?;
        checked.push((
            kind,
            Checked {
                application: ApplicationChoice::Keep,
                ..c
            },
        ));
    }
    db.write(|conn| {
        let (meta, actor, app_name, checked, db) = (
            meta.clone(),
            actor.to_string(),
            app_name.clone(),
            checked.clone(),
            db.clone(),
        );
        async move {
            once::claim(conn, &meta, &actor).await?;
            let detail = Some(format!("with {} clients", checked.len()));
            let app =
                insert_application(conn, &meta, &actor, "application_name", &app_name, detail)
                    .await?;
            let mut made = Vec::with_capacity(checked.len());
            let mut issued = Vec::new();
            for (kind, c) in checked {
                let c = Checked {
                    application: ApplicationChoice::Existing(app.id),
                    ..c
                };
                let (client, secret) = insert(conn, &db, &meta, &actor, kind, &c).await?;
                made.push(client);
                issued.extend(secret);
            }
            once::settle(conn, &meta, &format!("/clients?application={}", app.id)).await?;
            Ok((app, made, issued))
        }
        .boxed()
    })
    .await
}
