//! The authorizers' writes and reads. Rules that live here: an authorizer's client (client
//! credentials, scope `clavis:introspect`, in the "System" application) is made in the
//! authorizer's own transaction, with its first secret, and deleted with it; names give unique
//! slugs; the namespace is a Kubernetes name and the image a plain image reference.

use futures::FutureExt;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{config_files, AuthorizerInput, AuthorizerView, DEFAULT_NAMESPACE};
use crate::audit::service::{self as audit, Event};
use crate::clients::kind::ClientType;
use crate::clients::{rules, system, ClientInput};
use crate::error::AppError;
use crate::infra::db::{now_ms, Db};
use crate::infra::state::AppState;
use crate::infra::{once, RequestMeta, SvcResult};
use crate::oauth::access::INTROSPECT_SCOPE;
use crate::secrets::files::ConfigFile;
use crate::secrets::IssuedSecretOnce;
use crate::webhooks::outbox::{emit, Subject};
use crate::webhooks::EventType;

const SELECT: &str = "SELECT a.id, a.slug, a.name, a.description, a.audience, a.namespace, \
    a.image, c.client_id, a.created_at, a.created_by, a.last_active_at, \
    (SELECT MAX(s.last_used_at) FROM client_secrets s WHERE s.client_pk = a.client_pk) AS used_at \
    FROM authorizers a JOIN clients c ON c.id = a.client_pk";

fn row_to_view(r: &AnyRow) -> Result<AuthorizerView, sqlx::Error> {
    let active: Option<i64> = r.try_get("last_active_at")?;
    let used: Option<i64> = r.try_get("used_at")?;
    Ok(AuthorizerView {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        audience: r.try_get("audience")?,
        namespace: r.try_get("namespace")?,
        image: r.try_get("image")?,
        client_id: r.try_get("client_id")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        last_active_at: active.max(used),
    })
}

/// Lower-case letters, digits and single dashes from `name`, at most 40 characters.
pub fn slug_of(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The input, checked: every field the administrator gives.
#[derive(Clone)]
struct Checked {
    name: String,
    slug: String,
    description: String,
    audience: String,
    namespace: String,
    image: String,
}

/// Checks the input. `issuer` names the admin API, whose audience no authorizer may take: its
/// client could then introspect the console's own API tokens.
fn check(input: &AuthorizerInput, issuer: &str) -> Result<Checked, AppError> {
    let name = rules::name("name", &input.name)?;
    let slug = slug_of(&name);
    if slug.is_empty() {
        return Err(AppError::validation(
            "name",
            "Use at least one letter or digit in the name: the generated files are named after it.",
        ));
    }
    let audience =
        rules::audience(ClientType::ClientCredentials, &input.audience)?.ok_or_else(|| {
            AppError::validation(
                "audience",
                "Give the audience of the API this authorizer protects, such as orders-api.",
            )
        })?;
    if audience.trim_end_matches('/') == crate::oauth::access::api_audience(issuer) {
        return Err(AppError::validation(
            "audience",
            "This is the audience of Clavis's own admin API, which Clavis checks itself. Give the audience of the API behind this authorizer.",
        ));
    }
    let namespace = match input.namespace.trim() {
        "" => DEFAULT_NAMESPACE.to_string(),
        ns => ns.to_string(),
    };
    // A DNS label that starts with a letter, and no word YAML reads as a null or a boolean,
    // so that the generated files mean what they say.
    let label_ok = namespace.len() <= 63
        && namespace.starts_with(|c: char| c.is_ascii_lowercase())
        && namespace
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !namespace.ends_with('-')
        && !["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
            .contains(&namespace.as_str());
    if !label_ok {
        return Err(AppError::validation(
            "namespace",
            "A Kubernetes namespace: up to 63 lower-case letters, digits and dashes, starting with a letter and not ending with a dash.",
        ));
    }
    let image = input.image.trim().to_string();
    let image_ok = image.len() <= 255
        && image.starts_with(|c: char| c.is_ascii_alphanumeric())
        && image.ends_with(|c: char| c.is_ascii_alphanumeric())
        && image
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"./:@_-".contains(&b));
    if !image_ok {
        return Err(AppError::validation(
            "image",
            "Give the container image of the authorizer, such as registry.example.com/authorizer:1.4.",
        ));
    }
    Ok(Checked {
        name,
        slug,
        description: rules::description(&input.description)?,
        audience,
        namespace,
        image,
    })
}

async fn find(conn: &mut AnyConnection, id: i64) -> SvcResult<AuthorizerView> {
    let row = sqlx::query(&format!("{SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::NotFound("The authorizer".into()))?;
    Ok(row_to_view(&row)?)
}

async fn refuse_taken_slug(conn: &mut AnyConnection, slug: &str, except: i64) -> SvcResult<()> {
    let taken = sqlx::query("SELECT id FROM authorizers WHERE slug = $1 AND id <> $2")
        .bind(slug.to_string())
        .bind(except)
        .fetch_optional(&mut *conn)
        .await?;
    match taken {
        Some(_) => Err(AppError::validation(
            "name",
            "An authorizer with this name (or one that gives the same file names) already exists.",
        )
        .into()),
        None => Ok(()),
    }
}

/// Creates an authorizer and its system client, with the client's first secret, in one
/// transaction.
pub async fn create(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    input: &AuthorizerInput,
    issuer: &str,
) -> SvcResult<(AuthorizerView, IssuedSecretOnce)> {
    let c = check(input, issuer)?;
    db.write(|conn| {
        let (meta, actor, db) = (meta.clone(), actor.to_string(), db.clone());
        let Checked { name, slug, description, audience, namespace, image } = c.clone();
        async move {
            once::claim(conn, &meta, &actor).await?;
            refuse_taken_slug(conn, &slug, 0).await?;
            let client = ClientInput {
                name: format!("{name} (authorizer)"),
                description: format!("The client of the authorizer {name}, for token introspection."),
                client_type: ClientType::ClientCredentials.as_str().into(),
                scopes: INTROSPECT_SCOPE.into(),
                ..Default::default()
            };
            let (made, secret) = system::create_in(conn, &db, &meta, &actor, &client).await?;
            let secret = secret.ok_or_else(|| crate::infra::SvcError::Internal("no first secret".into()))?;
            let pk: i64 = sqlx::query("SELECT id FROM clients WHERE client_id = $1")
                .bind(made.client_id.clone())
                .fetch_one(&mut *conn)
                .await?
                .try_get("id")?;
            let now = now_ms();
            let row = sqlx::query(
                "INSERT INTO authorizers (slug, name, description, audience, namespace, image, client_pk, \
                 created_at, created_by, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(slug.clone())
            .bind(name.clone())
            .bind(description)
            .bind(audience.clone())
            .bind(namespace)
            .bind(image)
            .bind(pk)
            .bind(now)
            .bind(actor.clone())
            .bind(now)
            .bind(actor.clone())
            .fetch_one(&mut *conn)
            .await?;
            let id: i64 = row.try_get("id")?;
            let ev = Event {
                actor: &actor,
                action: "authorizer.created",
                target: Some(&made.client_id),
                detail: Some(format!("“{name}” for audience {audience}")),
            };
            audit::record(conn, &meta, ev).await?;
            let subject = Subject { authorizer_id: Some(id), ..Subject::client(&made.client_id) };
            emit(conn, &meta, now, &actor, EventType::AuthorizerCreated, subject).await?;
            once::settle(conn, &meta, &format!("/authorizers/{}", made.client_id)).await?;
            Ok((find(conn, id).await?, secret))
        }
        .boxed()
    })
    .await
}

pub async fn list(db: &Db) -> SvcResult<Vec<AuthorizerView>> {
    let rows = sqlx::query(&format!("{SELECT} ORDER BY a.name, a.id"))
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().map(row_to_view).collect::<Result<_, _>>()?)
}

pub async fn get(db: &Db, id: i64) -> SvcResult<AuthorizerView> {
    let mut conn = db.pool.acquire().await?;
    find(&mut conn, id).await
}

/// The authorizer whose system client is `client_id`, if any.
pub async fn for_client(db: &Db, client_id: &str) -> SvcResult<Option<AuthorizerView>> {
    let row = sqlx::query(&format!("{SELECT} WHERE c.client_id = $1"))
        .bind(client_id.to_string())
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.as_ref().map(row_to_view).transpose()?)
}

/// The configuration files with `issued` filled in, when it is an authorizer's new secret.
pub async fn files_with(st: &AppState, issued: &IssuedSecretOnce) -> SvcResult<Vec<ConfigFile>> {
    Ok(match for_client(&st.db, &issued.client_id).await? {
        Some(a) => config_files(&a, Some(&issued.secret), &st.settings.issuer),
        None => Vec::new(),
    })
}

/// Changes the name, description, audience, namespace and image.
pub async fn update(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    input: &AuthorizerInput,
    issuer: &str,
) -> SvcResult<AuthorizerView> {
    let c = check(input, issuer)?;
    db.write(|conn| {
        let (meta, actor) = (meta.clone(), actor.to_string());
        let Checked {
            name,
            slug,
            description,
            audience,
            namespace,
            image,
        } = c.clone();
        async move {
            let current = find(conn, id).await?;
            refuse_taken_slug(conn, &slug, id).await?;
            sqlx::query(
                "UPDATE authorizers SET slug = $1, name = $2, description = $3, audience = $4, \
                 namespace = $5, image = $6, updated_at = $7, updated_by = $8 WHERE id = $9",
            )
            .bind(slug)
            .bind(name.clone())
            .bind(description)
            .bind(audience.clone())
            .bind(namespace)
            .bind(image)
            .bind(now_ms())
            .bind(actor.clone())
            .bind(id)
            .execute(&mut *conn)
            .await?;
            let ev = Event {
                actor: &actor,
                action: "authorizer.updated",
                target: Some(&current.client_id),
                detail: Some(format!("“{name}” for audience {audience}")),
            };
            audit::record(conn, &meta, ev).await?;
            find(conn, id).await
        }
        .boxed()
    })
    .await
}

/// Deletes an authorizer and its client. `confirm_name` must be its exact name.
pub async fn delete(
    db: &Db,
    actor: &str,
    meta: &RequestMeta,
    id: i64,
    confirm_name: &str,
) -> SvcResult<()> {
    db.write(|conn| {
        let (meta, actor, confirm) = (
            meta.clone(),
            actor.to_string(),
            confirm_name.trim().to_string(),
        );
        async move {
            let current = find(conn, id).await?;
            if confirm != current.name {
                return Err(AppError::validation(
                    "confirm_name",
                    "Type the authorizer's name exactly as shown to confirm the deletion.",
                )
                .into());
            }
            // Before the rows go, so that the event still names them.
            let subject = Subject {
                authorizer_id: Some(id),
                ..Subject::client(&current.client_id)
            };
            emit(
                conn,
                &meta,
                now_ms(),
                &actor,
                EventType::AuthorizerDeleted,
                subject,
            )
            .await?;
            sqlx::query("DELETE FROM authorizers WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let why = format!(
                "the client of the authorizer “{}”, deleted with it",
                current.name
            );
            system::delete_in(conn, &meta, &actor, &current.client_id, &why).await?;
            let ev = Event {
                actor: &actor,
                action: "authorizer.deleted",
                target: Some(&current.client_id),
                detail: Some(format!("“{}”", current.name)),
            };
            audit::record(conn, &meta, ev).await
        }
        .boxed()
    })
    .await
}

/// A client whose tokens an authorizer accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedClient {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
}

/// What the authorizer enforces (`GET /api/v1/authorizer/configuration`): the enabled
/// client-credentials clients whose tokens carry its audience: their own, or the server's
/// `default_audience` for clients without one (never for admin API clients, whose tokens do
/// not carry it). Marks it active.
pub async fn configuration(
    db: &Db,
    a: &AuthorizerView,
    default_audience: Option<&str>,
) -> SvcResult<Vec<AllowedClient>> {
    sqlx::query("UPDATE authorizers SET last_active_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(a.id)
        .execute(&db.pool)
        .await?;
    let by_default = default_audience == Some(a.audience.as_str());
    let rows = sqlx::query(
        "SELECT client_id, name, scopes, audience FROM clients WHERE enabled = 1 \
         AND client_type = 'client_credentials' AND (audience = $1 OR audience = '') \
         ORDER BY name_key, client_id",
    )
    .bind(a.audience.clone())
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let own: String = r.try_get("audience")?;
        let scopes = crate::infra::db::split_list(&r.try_get::<String, _>("scopes")?, ' ');
        let api_client = scopes
            .iter()
            .any(|s| crate::oauth::access::is_clavis_scope(s));
        if own == a.audience || (own.is_empty() && by_default && !api_client) {
            out.push(AllowedClient {
                client_id: r.try_get("client_id")?,
                name: r.try_get("name")?,
                scopes,
            });
        }
    }
    Ok(out)
}
