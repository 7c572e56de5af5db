//! The admin REST API, `/api/v1`: the console's operations for automation, with an OpenAPI 3.1
//! document generated from these handlers and types (`GET /api/v1/openapi.json`), so that the
//! document cannot drift from the code.
//!
//! - `auth`: who calls: a client-credentials client with a `clavis:admin` or `clavis:support` token.
//! - `extract`: reading JSON bodies and queries; `problem`: errors as problem+json (RFC 9457).
//! - `wire`: the JSON, with RFC 7591 names; `events`: the bodies of webhook deliveries; `clients`, `secrets`, `applications` (and presets),
//!   `audit`, `attention`: the handlers; `authorizer`: what an authorizer's own client reads.

mod applications;
mod attention;
mod audit;
mod auth;
mod authorizer;
mod clients;
mod events;
mod extract;
mod problem;
mod secrets;
mod webhooks;
mod wire;

use app::infra::state::AppState;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use http::StatusCode;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub use problem::Problem;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /oauth2/token for a client-credentials client \
                         with scope clavis:admin or clavis:support (and clavis:reveal for reveals).",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Clavis admin API",
        version = "1",
        description = "The client registry and the client-secret lifecycle of Clavis, for automation. \
            Authenticate with a bearer token from Clavis's own token endpoint: scope clavis:admin \
            for everything but reveals, clavis:support to read and to revoke rotated secrets, and \
            clavis:reveal (held only when given explicitly, next to clavis:admin) to reveal a \
            readable secret. A token stops working once the secret that minted it is revoked or \
            expired. Errors are \
            application/problem+json (RFC 9457)."
    ),
    servers((url = "/api/v1")),
    paths(
        clients::list, clients::create, clients::get_one, clients::patch, clients::delete,
        clients::enable, clients::disable,
        secrets::list, secrets::rotate, secrets::revoke, secrets::reveal, secrets::revoke_rotated,
        applications::list, applications::create, applications::get_one, applications::preset,
        audit::list, authorizer::configuration, attention::list,
        webhooks::list, webhooks::create, webhooks::get_one, webhooks::patch, webhooks::delete,
        webhooks::rotate_secret, webhooks::end_previous_secret, webhooks::test, webhooks::deliveries, webhooks::redeliver,
    ),
    components(schemas(applications::PresetName, events::WebhookEvent)),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags((name = "clients"), (name = "secrets"), (name = "applications"), (name = "audit"), (name = "authorizer"), (name = "attention"), (name = "webhooks")),
)]
pub struct ApiDoc;

/// The document, with `webhooks` (what Clavis sends, OpenAPI 3.1), which utoipa does not model.
fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    doc["webhooks"] = events::webhooks();
    doc
}

async fn openapi() -> impl IntoResponse {
    Json(document())
}

async fn no_such_operation() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "There is no such operation in this API.",
    )
}

async fn wrong_method() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "This path does not take this method.",
    )
}

/// The routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/clients", get(clients::list).post(clients::create))
        .route(
            "/clients/{client_id}",
            get(clients::get_one)
                .patch(clients::patch)
                .delete(clients::delete),
        )
        .route("/clients/{client_id}/enable", post(clients::enable))
        .route("/clients/{client_id}/disable", post(clients::disable))
        .route("/clients/{client_id}/secrets", get(secrets::list))
        .route("/clients/{client_id}/secrets/rotate", post(secrets::rotate))
        .route(
            "/clients/{client_id}/secrets/revoke-rotated",
            post(secrets::revoke_rotated),
        )
        .route(
            "/clients/{client_id}/secrets/{secret_id}/revoke",
            post(secrets::revoke),
        )
        .route(
            "/clients/{client_id}/secrets/{secret_id}/reveal",
            post(secrets::reveal),
        )
        .route(
            "/applications",
            get(applications::list).post(applications::create),
        )
        .route("/applications/{id}", get(applications::get_one))
        .route("/presets/{preset}", post(applications::preset))
        .route("/audit-events", get(audit::list))
        .route("/attention", get(attention::list))
        .route("/authorizer/configuration", get(authorizer::configuration))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::get_one)
                .patch(webhooks::patch)
                .delete(webhooks::delete),
        )
        .route(
            "/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route(
            "/webhooks/{id}/previous-secret",
            delete(webhooks::end_previous_secret),
        )
        .route("/webhooks/{id}/test", post(webhooks::test))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            post(webhooks::redeliver),
        )
        .fallback(no_such_operation)
        .method_not_allowed_fallback(wrong_method)
}
