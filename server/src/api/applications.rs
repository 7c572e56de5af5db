//! `/api/v1/applications` and `/api/v1/presets/{preset}`: the applications that group a
//! system's clients, and the architecture presets that create an application with its clients
//! in one transaction, as on the console.

use app::clients::{presets, search, service, ApplicationRef};
use app::infra::edge;
use app::infra::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::LOCATION;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::clients::check_metadata;
use super::extract::{idempotency_key, Body, Path};
use super::problem::{ApiResult, Denied, Details, Missing, Problem};
use super::wire::{Client, NewClient, NewClientCreated, Plaintext};

/// An application: a name that groups the clients of one system.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Application {
    pub id: i64,
    pub name: String,
}

impl From<ApplicationRef> for Application {
    fn from(a: ApplicationRef) -> Self {
        Application {
            id: a.id,
            name: a.name,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationList {
    /// Every application, by name.
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub name: String,
}

/// An application made by a preset, with its clients.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PresetCreated {
    pub application: Application,
    /// Each client; a confidential one with its first `client_secret`, in this answer only.
    pub clients: Vec<NewClientCreated>,
}

/// The application to make from a preset, and optionally its clients.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresetRequest {
    pub application_name: String,
    /// The clients to make; when absent, the preset's proposal (its names, types, example
    /// redirect URIs and scopes).
    #[serde(default)]
    pub clients: Option<Vec<NewClient>>,
}

/// The preset names of the API.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum PresetName {
    #[serde(rename = "ssr-spa-api")]
    SsrSpaApi,
    #[serde(rename = "bff")]
    Bff,
    #[serde(rename = "worker")]
    Worker,
}

impl PresetName {
    fn key(self) -> &'static str {
        match self {
            PresetName::SsrSpaApi => "ssr-spa-api",
            PresetName::Bff => "bff",
            PresetName::Worker => "worker",
        }
    }
}

async fn all(st: &AppState, caller: &Caller) -> ApiResult<Vec<ApplicationRef>> {
    search::applications(&st.db)
        .await
        .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))
}

#[utoipa::path(get, path = "/applications", tag = "applications",
    responses(
        (status = 200, body = ApplicationList),
        Denied,
    ))]
/// Lists every application.
pub async fn list(caller: Caller, State(st): State<AppState>) -> ApiResult<Json<ApplicationList>> {
    let applications = all(&st, &caller)
        .await?
        .into_iter()
        .map(Application::from)
        .collect();
    Ok(Json(ApplicationList { applications }))
}

#[utoipa::path(get, path = "/applications/{id}", tag = "applications",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = Application),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        Missing,
    ))]
/// Reads one application; its clients are `GET /clients?application={id}`.
pub async fn get_one(
    caller: Caller,
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Application>> {
    all(&st, &caller)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| Json(a.into()))
        .ok_or_else(|| Problem::not_found("The application"))
}

fn created(body: impl Serialize, location: String) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    edge::no_store_headers(res.headers_mut());
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

#[utoipa::path(post, path = "/applications", tag = "applications", request_body = NewApplication,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body within 24 hours changes nothing and answers 409 already-applied")),
    responses(
        (status = 201, body = Application),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        (status = 409, body = Details, content_type = "application/problem+json"),
        (status = 415, body = Details, content_type = "application/problem+json"),
        (status = 422, body = Details, content_type = "application/problem+json"),
    ))]
/// Creates an application with no clients yet.
pub async fn create(
    caller: Caller,
    State(st): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewApplication>,
) -> ApiResult<Response> {
    caller.admin()?;
    let meta = idempotency_key(
        caller.meta.clone(),
        &headers,
        &caller.actor,
        &("create application", &new),
    )?;
    let app = service::create_application(&st.db, &caller.actor, &meta, &new.name)
        .await
        .map_err(|e| {
            Problem::from_svc(e, caller.meta.request_id.as_deref()).renamed("client_name", "name")
        })?;
    let location = format!("/api/v1/applications/{}", app.id);
    Ok(created(Application::from(app), location))
}

#[utoipa::path(post, path = "/presets/{preset}", tag = "applications", request_body = PresetRequest,
    params(("preset" = PresetName, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body within 24 hours changes nothing and answers 409 already-applied")),
    responses(
        (status = 201, body = PresetCreated, description = "Created; the secrets are in this answer only (`Cache-Control: no-store`)"),
        (status = 400, body = Details, content_type = "application/problem+json"),
        Denied,
        Missing,
        (status = 409, body = Details, content_type = "application/problem+json"),
        (status = 415, body = Details, content_type = "application/problem+json"),
        (status = 422, body = Details, content_type = "application/problem+json"),
    ))]
/// Creates an application and its clients from an architecture preset, in one transaction.
pub async fn preset(
    caller: Caller,
    State(st): State<AppState>,
    Path(name): Path<PresetName>,
    headers: HeaderMap,
    Body(req): Body<PresetRequest>,
) -> ApiResult<Response> {
    caller.admin()?;
    let preset = presets::find(name.key()).ok_or_else(|| Problem::not_found("The preset"))?;
    let inputs: Vec<_> = match &req.clients {
        Some(clients) => {
            for (i, c) in clients.iter().enumerate() {
                check_metadata(c, &format!("clients.{i}."))?;
            }
            clients.iter().map(NewClient::input).collect()
        }
        None => preset
            .clients
            .iter()
            .map(|p| app::clients::ClientInput {
                name: p.name.to_string(),
                client_type: p.client_type.as_str().to_string(),
                redirect_uris: p.redirect_uris.to_string(),
                scopes: p.scopes.to_string(),
                ..Default::default()
            })
            .collect(),
    };
    let content = ("preset", name.key(), &req);
    let meta = idempotency_key(caller.meta.clone(), &headers, &caller.actor, &content)?;
    let (app, clients, secrets) = service::create_with_application(
        &st.db,
        &caller.actor,
        &meta,
        &req.application_name,
        &inputs,
    )
    .await
    .map_err(|e| Problem::from_svc(e, caller.meta.request_id.as_deref()))?;
    let clients = clients
        .iter()
        .map(|c| {
            let secret = secrets.iter().find(|s| s.client_id == c.client_id);
            NewClientCreated {
                client: Client::from(c),
                client_secret: secret.map(|s| Plaintext(s.secret.clone())),
                secret_expires_at: secret.and_then(|s| s.expires_at).map(super::wire::time),
            }
        })
        .collect();
    let location = format!("/api/v1/applications/{}", app.id);
    Ok(created(
        PresetCreated {
            application: app.into(),
            clients,
        },
        location,
    ))
}
